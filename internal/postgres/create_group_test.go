package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// groupCreate is a create for dossier under key, as the service builds it.
func groupCreate(portalID, key, dossier string) postgres.GroupCreate {
	now := time.Now().UTC().Truncate(time.Microsecond)
	amt := decimal.NewFromInt(75_000)
	r := &payment.Request{ID: id.New(id.PaymentRequest), PortalID: portalID, Status: payment.StatusPending, Version: 1,
		CitizenPIDMasked: "0792******34", DossierCode: dossier, ServiceCode: "1.001", Description: "Lệ phí",
		Items: []payment.Item{{Code: "LP", Description: "Lệ phí", Amount: amt}}, Amount: amt, Currency: "VND",
		AmountRefunded: decimal.Zero, Metadata: map[string]string{}, ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	evID := id.New(id.Event)
	return postgres.GroupCreate{Scope: "portal:" + portalID, Key: key, Request: r,
		PID:   postgres.SealedPID{Index: []byte("idx-" + dossier), Sealed: []byte("sealed")},
		Event: postgres.NewEvent{ID: evID, PortalID: portalID, Type: "payment_request.created", Payload: []byte(`{"id":"` + evID + `"}`), At: now}}
}

// A group writes each create whose key and dossier are free, and leaves out
// — writing nothing of it — a create whose key already has a record (its
// caller replays) or whose dossier has a live request (its caller writes
// it alone, for its refusal), the others unharmed.
func TestGroupCommitWritesEachCreateOrNothingOfIt(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx, db, p := context.Background(), h.DB.Store, h.Portal.ID
	createRequest(t, h, h.Portal, "G-LIVE") // key create-G-LIVE, dossier G-LIVE live

	group := []postgres.GroupCreate{
		groupCreate(p, "g-1", "G-1"),
		groupCreate(p, "create-G-LIVE", "G-OTHER"), // key taken
		groupCreate(p, "g-3", "G-LIVE"),            // dossier taken by a committed request
		groupCreate(p, "g-4", "G-4"),
		groupCreate(p, "g-5", "G-4"), // dossier taken within the group
		groupCreate(p, "g-1", "G-6"), // key repeated within the group
	}
	got, err := db.WriteGroupForTest(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"committed", "key_taken", "alone", "committed", "alone", "alone"}
	if !slices.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for i, c := range group {
		wantRows := 0
		if want[i] == "committed" {
			wantRows = 1
		}
		if n := h.Count("SELECT count(*) FROM payment_requests WHERE id = $1", c.Request.ID); n != wantRows {
			t.Errorf("create %d (%s): %d requests, want %d", i, want[i], n, wantRows)
		}
		if n := h.Count("SELECT count(*) FROM events WHERE id = $1", c.Event.ID); n != wantRows {
			t.Errorf("create %d (%s): %d events, want %d", i, want[i], n, wantRows)
		}
	}
	// The refused creates' keys keep no record that would replay a 201.
	for _, key := range []string{"g-3", "g-5"} {
		if n := h.Count("SELECT count(*) FROM idempotency_records WHERE key = $1", key); n != 0 {
			t.Errorf("key %s of a refused create has %d records, want none", key, n)
		}
	}
	if n := h.Count("SELECT count(*) FROM idempotency_records WHERE key = 'g-1' AND response_status = 201"); n != 1 {
		t.Errorf("key g-1: %d records holding its response, want 1", n)
	}
}

// A group of one is written in one pipelined round trip, with the same
// answers.
func TestGroupOfOne(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx, db, p := context.Background(), h.DB.Store, h.Portal.ID
	createRequest(t, h, h.Portal, "O-LIVE")
	for _, tc := range []struct {
		c    postgres.GroupCreate
		want string
	}{
		{groupCreate(p, "o-1", "O-1"), "committed"},
		{groupCreate(p, "o-1", "O-2"), "key_taken"},
		{groupCreate(p, "o-3", "O-LIVE"), "alone"},
	} {
		got, err := db.WriteGroupForTest(ctx, []postgres.GroupCreate{tc.c})
		if err != nil || len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s/%s: %v %v, want %s", tc.c.Key, tc.c.Request.DossierCode, got, err, tc.want)
		}
	}
	if n := h.Count("SELECT count(*) FROM payment_requests WHERE dossier_code LIKE 'O-%'"); n != 2 {
		t.Errorf("%d requests, want O-LIVE and O-1", n)
	}
	if n := h.Count("SELECT count(*) FROM idempotency_records WHERE key = 'o-3'"); n != 0 {
		t.Errorf("the refused create's key has a record")
	}
}
