package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/apitest"
)

// roundTrips counts what the gateway sends to PostgreSQL: each statement
// sent alone and each pipelined batch is one round trip.
type roundTrips struct {
	mu    sync.Mutex
	trips []string // the first statement of each
}

func (rt *roundTrips) add(sql string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.trips = append(rt.trips, strings.Join(strings.Fields(sql), " "))
}

func (rt *roundTrips) take() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	t := rt.trips
	rt.trips = nil
	return t
}

func (rt *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	rt.add(d.SQL)
	return ctx
}
func (rt *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (rt *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	parts := make([]string, 0, len(d.Batch.QueuedQueries))
	for _, q := range d.Batch.QueuedQueries {
		w := strings.Fields(q.SQL)
		parts = append(parts, strings.Join(w[:min(3, len(w))], " "))
	}
	first := fmt.Sprintf("batch of %d: %s", len(parts), strings.Join(parts, " | "))
	rt.add(first)
	return ctx
}
func (rt *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (rt *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A create is one round trip to PostgreSQL: BEGIN, the idempotency record
// with its response, the request, its event and COMMIT, pipelined.
func TestCreateIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	rt := &roundTrips{}
	h := apitest.New(t, apitest.WithTracer(rt))
	// The first request looks the portal up; later ones find it cached.
	if r := h.Post("/v1/payment-requests", "rt-0", createBody("RT-0")); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	rt.take()
	for i := 1; i <= 5; i++ {
		if r := h.Post("/v1/payment-requests", fmt.Sprintf("rt-%d", i), createBody(fmt.Sprintf("RT-%d", i))); r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
	}
	var trips []string
	for _, trip := range rt.take() {
		// The portal's key is cached, and refreshed in the background
		// now and then: that lookup is authentication's (auth_lookups_test).
		if !strings.Contains(trip, "FROM portals WHERE key_id") {
			trips = append(trips, trip)
		}
	}
	if len(trips) != 5 {
		t.Fatalf("%d round trips for 5 creates, want 5:\n%s", len(trips), strings.Join(trips, "\n"))
	}
	for _, trip := range trips {
		if !strings.HasPrefix(trip, "batch of 5: begin") || !strings.HasSuffix(trip, "| commit") {
			t.Fatalf("a create's round trip is %q, want BEGIN … COMMIT in one batch", trip)
		}
	}
}
