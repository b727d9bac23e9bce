package apitest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/admission"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestDefaultsNeverShed: a test that does not ask for shedding is never
// shed, whatever the suite's load: its gateway admits any number of
// requests of every class at once, database pressure or not.
func TestDefaultsNeverShed(t *testing.T) {
	t.Parallel()
	h := New(t)
	if c := h.App.Config; c.AdmissionMaxInFlight != 0 || c.AdmissionDBWait != 0 {
		t.Fatalf("admission in force: %d in flight, database wait %s", c.AdmissionMaxInFlight, c.AdmissionDBWait)
	}
	var releases []admission.Release
	defer func() {
		for _, r := range releases {
			r()
		}
	}()
	for i := range 1000 {
		r, err := h.App.Shedder.Acquire(context.Background(), admission.Classes()[i%3])
		if err != nil {
			t.Fatalf("request %d of those held at once refused: %v", i+1, err)
		}
		releases = append(releases, r)
	}
	if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
		t.Fatalf("a read with 1000 requests in flight: %d %s", r.Status, r.Body)
	}
}

// TestClockMovesTheGateway: with WithClock, the gateway and the harness's
// signatures follow the clock, so a test moves past an expiry at once.
func TestClockMovesTheGateway(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	h := New(t, WithClock(clock))
	clock.Advance(time.Hour) // far past the signature window of the wall clock
	if d := time.Until(h.Now()); d < 59*time.Minute {
		t.Fatalf("the harness is %s ahead of the wall clock, want an hour", d)
	}
	if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
		t.Fatalf("a request signed by the clock: %d %s", r.Status, r.Body)
	}
	if r := h.Do(Request{Method: http.MethodGet, Path: "/v1/payment-requests", Timestamp: time.Now()}); r.Status != http.StatusUnauthorized {
		t.Fatalf("a request signed by the wall clock an hour behind the gateway: %d %s", r.Status, r.Body)
	}
}
