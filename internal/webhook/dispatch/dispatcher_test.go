package dispatch_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	dlv "github.com/citizenpay/gateway/internal/delivery"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/webhook"
	"github.com/citizenpay/gateway/internal/webhook/dispatch"
)

// dispatcher returns a dispatcher run by hand, step by step, on h's
// database, with the retry schedule unjittered.
func dispatcher(h *apitest.Harness, development bool) *dispatch.Dispatcher {
	return &dispatch.Dispatcher{
		DB: h.DB.Store, Portals: h.App.Portals, Sender: webhook.NewSender(development),
		Retry: webhook.RetryPolicy{Rand: func() float64 { return 0.5 }},
		Log:   slog.New(slog.DiscardHandler),
	}
}

// attemptNow makes eventID due now and runs one dispatch step; it returns
// how long the event then waits for its next attempt (0 when it is not due
// again).
func attemptNow(t *testing.T, h *apitest.Harness, d *dispatch.Dispatcher, eventID string) time.Duration {
	t.Helper()
	ctx := context.Background()
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE events SET next_attempt_at = now() WHERE id = $1 AND next_attempt_at IS NOT NULL`, eventID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DispatchDue(ctx, 10); err != nil {
		t.Fatal(err)
	}
	next, last := nextAttempt(t, h, eventID), delivery(t, h, eventID).LastAttemptAt
	if next == nil || last == nil {
		return 0
	}
	return next.Sub(*last)
}

func TestDispatcherSchedule(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatcher itself
	ep := newEndpoint(t, nil, func(string, int) (int, http.Header) { return http.StatusInternalServerError, nil })
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	d := dispatcher(h, true)
	id := createRequest(t, h, "HCM-SCHED")
	if next := nextAttempt(t, h, id); next == nil || time.Since(*next) < 0 {
		t.Fatalf("a new event is due at %v, want now", next)
	}

	if wait := attemptNow(t, h, d, id); wait != 5*time.Second {
		t.Fatalf("first failure: next in %v, want 5 s", wait)
	}
	if wait := attemptNow(t, h, d, id); wait != 5*time.Minute {
		t.Fatalf("second failure: next in %v, want 5 min", wait)
	}
	// The ninth failure waits 24 h; the tenth is the last.
	if _, err := h.DB.Pool.Exec(context.Background(), `UPDATE events SET delivery_attempts = 8 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if wait := attemptNow(t, h, d, id); wait != 24*time.Hour {
		t.Fatalf("ninth failure: next in %v, want 24 h", wait)
	}
	if wait := attemptNow(t, h, d, id); wait != 0 {
		t.Fatalf("tenth failure: next in %v, want none", wait)
	}
	got := delivery(t, h, id)
	if got.Status != dlv.StatusFailed || got.Attempts != webhook.MaxAttempts || !strings.HasPrefix(got.LastError, "HTTP 500") {
		t.Errorf("after the last attempt: %s, %d attempts, %q; want failed, %d, HTTP 500", got.Status, got.Attempts, got.LastError, webhook.MaxAttempts)
	}
	// A failed event is not sent again until it is redelivered.
	before := len(ep.attempts(id))
	if n, err := d.DispatchDue(context.Background(), 10); err != nil || n != 0 || len(ep.attempts(id)) != before {
		t.Errorf("a failed event: dispatched %d (%v), sent again %v", n, err, len(ep.attempts(id)) != before)
	}
	// An attempt of the previous generation, recorded after a redelivery,
	// does not touch the new series.
	if _, err := dispatch.Redeliver(context.Background(), h.DB.Store, id); err != nil {
		t.Fatal(err)
	}
	stale := postgres.Attempt{EventID: id, Generation: 0, Outcome: dlv.Failed(time.Now(), "HTTP 500")}
	if n, err := postgres.RecordAttempts(context.Background(), h.DB.Store, []postgres.Attempt{stale}); err != nil || n != 0 {
		t.Errorf("a stale attempt: recorded %d (%v), want 0", n, err)
	}
	if got := delivery(t, h, id); got.Status != dlv.StatusPending || got.Attempts != 0 || got.Generation != 1 || nextAttempt(t, h, id) == nil {
		t.Errorf("after reset: %s, %d attempts, generation %d, due %v", got.Status, got.Attempts, got.Generation, nextAttempt(t, h, id))
	}
}

// Two dispatchers on one database share the due events: each is attempted
// once, by one of them.
func TestDispatchersShareEvents(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatchers
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	var ids []string
	for i := range 40 {
		ids = append(ids, createRequest(t, h, "HCM-SHARE-"+strconv.Itoa(i)))
	}
	a, b := dispatcher(h, true), dispatcher(h, true)
	var wg sync.WaitGroup
	var total atomic.Int64
	for _, d := range []*dispatch.Dispatcher{a, b, a, b} {
		wg.Go(func() {
			for {
				n, err := d.DispatchDue(context.Background(), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
				total.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if total.Load() != int64(len(ids)) {
		t.Errorf("%d attempts dispatched, want %d", total.Load(), len(ids))
	}
	for _, id := range ids {
		if n := len(ep.attempts(id)); n != 1 {
			t.Errorf("%s received %d times, want once", id, n)
		}
		if d := delivery(t, h, id); d.Status != dlv.StatusDelivered || d.Attempts != 1 {
			t.Errorf("%s: %s after %d attempts", id, d.Status, d.Attempts)
		}
	}
}

// leaseInTests is the lease of the tests that watch one end: long enough
// that a loaded machine does not reach its end before the test looks
// within it, short enough to wait out.
const leaseInTests = 3 * time.Second

// A dispatcher that dies after claiming leaves its events due again when
// the lease ends; meanwhile no other dispatcher takes them.
func TestClaimLeaseOutlivesADeadDispatcher(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers
	id := createRequest(t, h, "HCM-LEASE")
	ctx := context.Background()
	got, err := postgres.ClaimDue(ctx, h.DB.Store, postgres.Claim{Limit: 10, Lease: leaseInTests})
	if err != nil || len(got) != 1 || got[0].EventID != id {
		t.Fatalf("claim: %+v, %v; want %s", got, err, id)
	}
	// The claimer is gone without a word.
	if again, err := postgres.ClaimDue(ctx, h.DB.Store, postgres.Claim{Limit: 10, Lease: time.Minute}); err != nil || len(again) != 0 {
		t.Fatalf("claimed twice within the lease: %+v, %v", again, err)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		again, err := postgres.ClaimDue(ctx, h.DB.Store, postgres.Claim{Limit: 10, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return len(again) == 1 && again[0].EventID == id
	}, "the lease to end")
}

// An event handed to its process's dispatcher is written due only after
// the lease: if that process dies before the attempt, any dispatcher
// delivers it once the lease ends.
func TestHandedOffEventOutlivesItsProcess(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatcher
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, h.Portal, ep.srv.URL+"/webhooks")
	var handed atomic.Int32
	// The process takes the event and dies before sending it.
	h.App.Service.Handoff = func(postgres.Due) bool { handed.Add(1); return true }
	h.App.Service.HandoffLease = leaseInTests
	id := createRequest(t, h, "HCM-HANDOFF")
	if handed.Load() != 1 {
		t.Fatalf("%d events handed off, want 1", handed.Load())
	}
	d := dispatcher(h, true)
	if n, err := d.DispatchDue(context.Background(), 10); err != nil || n != 0 {
		t.Fatalf("within the lease: dispatched %d (%v), want 0", n, err)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		n, err := d.DispatchDue(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}, "the event claimed after the lease")
	if got := delivery(t, h, id); got.Status != dlv.StatusDelivered || len(ep.attempts(id)) != 1 {
		t.Errorf("after the lease: %s, %d attempts received", got.Status, len(ep.attempts(id)))
	}
}

// A portal whose endpoint hangs holds at most PerPortal of the workers: the
// other portals' events are delivered meanwhile.
func TestHangingPortalHoldsFewWorkers(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // no workers: the test runs the dispatcher
	release := make(chan struct{})
	var hung atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		hung.Add(1)
		<-release
	}))
	t.Cleanup(slow.Close)
	pointPortal(t, h, h.Portal, slow.URL+"/webhooks")
	other := h.NewPortal("Other portal")
	ep := newEndpoint(t, nil, ok)
	pointPortal(t, h, other, ep.srv.URL+"/webhooks")

	for i := range 12 {
		createRequest(t, h, "HCM-HANG-"+strconv.Itoa(i))
	}
	var theirs []string
	for i := range 3 {
		body, _ := json.Marshal(createBody("HCM-OTHER-" + strconv.Itoa(i)))
		r := h.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/payment-requests", Body: body,
			IdempotencyKey: "other-" + strconv.Itoa(i), Portal: other})
		if r.Status != http.StatusCreated {
			t.Fatalf("create for the other portal: %d %s", r.Status, r.Body)
		}
		theirs = append(theirs, r.Map(t)["id"].(string))
	}

	d := dispatcher(h, true)
	d.Workers, d.PerPortal, d.Poll = 6, 2, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	t.Cleanup(func() { close(release) }) // runs first: the hung attempts end

	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM events WHERE portal_id = $1 AND delivery_status = 'delivered'`, other.ID) == len(theirs)
	}, "the other portal's events delivered")
	if n := hung.Load(); n < 1 || n > 2 {
		t.Errorf("%d attempts reached the hanging endpoint at once, want 1 or 2 (PerPortal)", n)
	}
}
