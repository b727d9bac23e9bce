package httpapi_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

// burst sends the creates at once and returns the answers in order.
func burst(h *apitest.Harness, keys, dossiers []string) []*apitest.Response {
	out := make([]*apitest.Response, len(keys))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range keys {
		wg.Go(func() {
			<-start
			out[i] = h.Post("/v1/payment-requests", keys[i], createBody(dossiers[i]))
		})
	}
	close(start)
	wg.Wait()
	return out
}

// Creates that arrive together are written together (group commit) and
// each caller is answered with its own result: a burst of distinct creates
// each gets its 201 with its own request and event, and replays each one.
func TestBurstOfCreatesEachAnsweredWithItsOwn(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	const n = 48
	keys, dossiers := make([]string, n), make([]string, n)
	for i := range n {
		keys[i], dossiers[i] = fmt.Sprintf("burst-%d", i), fmt.Sprintf("BURST-%d", i)
	}
	first := burst(h, keys, dossiers)
	for i, r := range first {
		if r.Status != 201 || r.Map(t)["dossier_code"] != dossiers[i] {
			t.Fatalf("create %d: %d %s", i, r.Status, r.Body)
		}
		id := r.Map(t)["id"].(string)
		if got := h.Count("SELECT count(*) FROM payment_requests WHERE id = $1 AND dossier_code = $2", id, dossiers[i]); got != 1 {
			t.Fatalf("create %d answered %s, which holds %d rows of its dossier", i, id, got)
		}
	}
	if got := h.Count("SELECT count(*) FROM events WHERE type = 'payment_request.created'"); got != n {
		t.Fatalf("%d created events for %d creates", got, n)
	}
	groups, creates := h.App.DB.GroupCommits()
	t.Logf("%d creates written in %d groups", creates, groups)
	again := burst(h, keys, dossiers)
	for i, r := range again {
		if r.Status != 201 || !bytes.Equal(r.Body, first[i].Body) || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay %d: %d %s, want the first answer replayed", i, r.Status, r.Body)
		}
	}
	if got := h.Count("SELECT count(*) FROM payment_requests"); got != n {
		t.Fatalf("%d requests after the replays, want %d", got, n)
	}
}

// Creates for one dossier under different keys, arriving together: one is
// created; every other is refused with duplicate_dossier naming it, and
// keeps that refusal on replay.
func TestBurstOnOneDossier(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	const n = 24
	keys, dossiers := make([]string, n), make([]string, n)
	for i := range n {
		keys[i], dossiers[i] = fmt.Sprintf("one-dossier-%d", i), "ONE-DOSSIER"
	}
	answers := burst(h, keys, dossiers)
	var created string
	for _, r := range answers {
		if r.Status == 201 {
			if created != "" {
				t.Fatalf("two requests created for one dossier")
			}
			created = r.Map(t)["id"].(string)
		}
	}
	if created == "" {
		t.Fatal("no request was created")
	}
	for i, r := range answers {
		if r.Status == 201 {
			continue
		}
		if r.Status != 409 || r.Code() != "duplicate_dossier" || r.Map(t)["payment_request_id"] != created {
			t.Fatalf("create %d: %d %s, want 409 duplicate_dossier naming %s", i, r.Status, r.Body, created)
		}
		if again := h.Post("/v1/payment-requests", keys[i], createBody(dossiers[i])); again.Status != 409 || !bytes.Equal(again.Body, r.Body) {
			t.Fatalf("replay of refused create %d: %d %s", i, again.Status, again.Body)
		}
	}
	if got := h.Count("SELECT count(*) FROM payment_requests WHERE dossier_code = 'ONE-DOSSIER'"); got != 1 {
		t.Fatalf("%d requests for one dossier", got)
	}
	if got := h.Count("SELECT count(*) FROM idempotency_records WHERE response_status = 201"); got != 1 {
		t.Fatalf("%d keys hold a 201, want the one created", got)
	}
}
