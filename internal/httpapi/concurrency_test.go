package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
)

// sameKeyStorm sends n copies of one create at once and checks that exactly
// one request exists and every answer is the identical 201 or a 409 in_use.
func sameKeyStorm(t *testing.T, h *apitest.Harness, n int, key, dossier string) []byte {
	t.Helper()
	body := apitest.Marshal(t, createBody(dossier))
	var wg sync.WaitGroup
	results := make([]*apitest.Response, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i] = h.Do(apitest.Request{Method: "POST", Path: "/v1/payment-requests", Body: body, IdempotencyKey: key})
		}(i)
	}
	close(start)
	wg.Wait()
	var created []byte
	inUse := 0
	for _, r := range results {
		switch {
		case r.Status == 201 && created == nil:
			created = r.Body
		case r.Status == 201:
			if !bytes.Equal(r.Body, created) {
				t.Fatalf("two different 201 bodies:\n%s\n%s", created, r.Body)
			}
		case r.Status == 409 && r.Code() == "idempotency_key_in_use":
			if r.Header.Get("Retry-After") != "1" {
				t.Fatalf("409 in_use without Retry-After: 1")
			}
			inUse++
		default:
			t.Fatalf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	if created == nil {
		t.Fatal("no request was created")
	}
	if got := h.Count("SELECT count(*) FROM payment_requests WHERE dossier_code = $1", dossier); got != 1 {
		t.Fatalf("%d payment requests for one key, want 1", got)
	}
	if got := h.Count("SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'", dossier); got != 1 {
		t.Fatalf("%d events for one create, want 1", got)
	}
	t.Logf("%d copies: 1 created, %d replays, %d in use", n, n-1-inUse, inUse)
	return created
}

func TestSameKeyFromFiftyGoroutines(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	created := sameKeyStorm(t, h, 50, "storm-key", "STORM-1")
	// Afterwards, every retry replays the identical response.
	r := h.Post("/v1/payment-requests", "storm-key", createBody("STORM-1"))
	if r.Status != 201 || !bytes.Equal(r.Body, created) || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("later replay: %d %s", r.Status, r.Body)
	}
}

func TestRedisDownStaysExactlyOnce(t *testing.T) {
	t.Parallel()
	redisSrv := testenv.StartRedisServer(t)
	clock := testenv.NewClock()
	h := apitest.New(t, apitest.WithEnv("REDIS_URL", redisSrv.URL()), apitest.WithClock(clock))
	idem := h.App.Metrics.Idempotency

	// Redis up: a create, then its replay from Redis.
	first := h.Post("/v1/payment-requests", "before", createBody("R-0"))
	if first.Status != 201 {
		t.Fatalf("create: %d", first.Status)
	}
	if r := h.Post("/v1/payment-requests", "before", createBody("R-0")); !bytes.Equal(r.Body, first.Body) {
		t.Fatal("replay differs")
	}
	if testutil.ToFloat64(idem.WithLabelValues("replay_redis")) != 1 {
		t.Fatal("the replay did not come from Redis")
	}

	redisSrv.Stop()
	ready := h.Get("/readyz").Map(t)
	if ready["redis"] != "degraded" || ready["postgres"] != "ok" {
		t.Fatalf("readyz with Redis down: %v", ready)
	}
	// Redis down: the earlier key still replays identically (from PostgreSQL)…
	if r := h.Post("/v1/payment-requests", "before", createBody("R-0")); r.Status != 201 || !bytes.Equal(r.Body, first.Body) {
		t.Fatalf("replay with Redis down: %d %s", r.Status, r.Body)
	}
	// …new creates are served, and a storm on one key still makes one request.
	created := sameKeyStorm(t, h, 20, "down-key", "R-1")
	if r := h.Post("/v1/payment-requests", "down-key", createBody("R-1")); !bytes.Equal(r.Body, created) {
		t.Fatal("replay with Redis down differs")
	}
	if r := h.Post("/v1/payment-requests", "down-key", createBody("R-9")); r.Code() != "idempotency_key_reused" {
		t.Fatalf("reuse with Redis down: %d %s", r.Status, r.Body)
	}
	if testutil.ToFloat64(h.App.Metrics.RedisFallbacks) == 0 || testutil.ToFloat64(idem.WithLabelValues("fallback")) == 0 {
		t.Fatal("fallbacks were not counted")
	}

	// Redis back, empty: the fast path resumes by itself, with no restart.
	redisSrv.Start()
	testenv.Eventually(t, 10*time.Second, func() bool { return h.Get("/readyz").Map(t)["redis"] == "ok" }, "readyz never saw Redis again")
	clock.Advance(1100 * time.Millisecond) // past the short pause after a failure
	redisReplays := testutil.ToFloat64(idem.WithLabelValues("replay_redis"))
	third := h.Post("/v1/payment-requests", "after", createBody("R-2"))
	if third.Status != 201 {
		t.Fatalf("create after Redis returned: %d", third.Status)
	}
	if r := h.Post("/v1/payment-requests", "after", createBody("R-2")); !bytes.Equal(r.Body, third.Body) {
		t.Fatal("replay after Redis returned differs")
	}
	if testutil.ToFloat64(idem.WithLabelValues("replay_redis")) != redisReplays+1 {
		t.Fatal("the fast path was not used again after Redis returned")
	}
	// A key finished while Redis was down is found in PostgreSQL and replayed.
	if r := h.Post("/v1/payment-requests", "down-key", createBody("R-1")); !bytes.Equal(r.Body, created) {
		t.Fatal("replay of a key from the outage differs")
	}
	if n := h.Count("SELECT count(*) FROM payment_requests"); n != 3 {
		t.Fatalf("%d payment requests, want 3", n)
	}
}

func TestCancelRacingExpiry(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	h := apitest.New(t, apitest.WithClock(clock))
	for round := 0; round < 10; round++ {
		b := createBody(fmt.Sprint("RACE-", round))
		b["expires_at"] = h.Now().Add(10 * time.Second).Format(time.RFC3339Nano)
		res := h.Post("/v1/payment-requests", fmt.Sprint("race-", round), b)
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		prID := res.Map(t)["id"].(string)
		clock.AdvanceTo(mustTime(t, b["expires_at"].(string)).Add(10 * time.Millisecond))

		var wg sync.WaitGroup
		var cancel *apitest.Response
		var expired int
		var expireErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			cancel = h.Post("/v1/payment-requests/"+prID+"/cancel", fmt.Sprint("cancel-", round), nil)
		}()
		go func() {
			defer wg.Done()
			expired, expireErr = h.App.Service.ExpireDue(context.Background(), 10)
		}()
		wg.Wait()
		if expireErr != nil {
			t.Fatal(expireErr)
		}
		final := h.Get("/v1/payment-requests/" + prID).Map(t)
		switch {
		case cancel.Status == 200 && final["status"] == "canceled":
			// The cancel won; the expiry found nothing, or ran after and skipped it.
			if expired != 0 && h.Count("SELECT count(*) FROM events WHERE type = 'payment_request.expired' AND payload::text LIKE '%'||$1||'%'", prID) != 0 {
				t.Fatal("both won")
			}
		case cancel.Status == 409 && cancel.Code() == "invalid_state" && final["status"] == "expired":
		default:
			t.Fatalf("round %d: cancel %d %s, final %v", round, cancel.Status, cancel.Body, final["status"])
		}
		if final["version"] != float64(2) {
			t.Fatalf("version %v after one change", final["version"])
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestEventPollerSeesEveryEventOnce(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	const writers, each = 8, 15
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				d := fmt.Sprintf("EV-%d-%d", w, i)
				if r := h.Post("/v1/payment-requests", d, createBody(d)); r.Status != 201 {
					t.Errorf("create: %d", r.Status)
				}
			}
		}(w)
	}
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	cursor := ""
	poll := func() int {
		path := "/v1/events?limit=7"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var page struct {
			Data []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		res := h.Get(path)
		if res.Status != http.StatusOK {
			t.Fatalf("events: %d %s", res.Status, res.Body)
		}
		res.JSON(t, &page)
		if page.NextCursor == "" {
			t.Fatal("next_cursor missing")
		}
		for _, e := range page.Data {
			seen[e.ID]++
		}
		cursor = page.NextCursor
		return len(page.Data)
	}
	finished := false
	for !finished {
		select {
		case <-done:
			finished = true
		default:
		}
		poll()
	}
	for poll() > 0 {
	}
	if len(seen) != writers*each {
		t.Fatalf("saw %d distinct events, want %d", len(seen), writers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s seen %d times", id, n)
		}
	}
	// With nothing new, the cursor stays where it is.
	before := cursor
	poll()
	if cursor != before {
		t.Fatal("the cursor moved with no new events")
	}
}
