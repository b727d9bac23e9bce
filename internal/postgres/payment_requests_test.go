package postgres_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
)

// createRequest creates a payment request as portal p through the router
// and returns its id.
func createRequest(t *testing.T, h *apitest.Harness, p *portal.Portal, dossier string) string {
	t.Helper()
	body := map[string]any{
		"citizen_pid": "079203001234", "dossier_code": dossier, "service_code": "1.001234",
		"description": "Lệ phí", "amount": "75000", "currency": "VND",
		"items": []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "75000"}},
	}
	r := h.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/payment-requests", Portal: p,
		IdempotencyKey: "create-" + dossier, Body: apitest.Marshal(t, body)})
	if r.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", dossier, r.Status, r.Body)
	}
	return r.Map(t)["id"].(string)
}

// TestRequestScopeFailsClosed: a scoped read or lock without a scope is an
// error, never a match of every request; a portal's scope never reaches
// another portal's request; only the explicitly unscoped lock reads any.
func TestRequestScopeFailsClosed(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx, db := context.Background(), h.DB.Store
	other := h.NewPortal("Other portal")
	mine, theirs := createRequest(t, h, h.Portal, "HCM-SCOPE-1"), createRequest(t, h, other, "HCM-SCOPE-2")

	lock := func(scope payment.Scope, id string) error {
		return db.InTx(ctx, func(tx *postgres.Tx) error {
			_, err := postgres.LockPaymentRequest(ctx, tx, scope, id)
			return err
		})
	}
	for name, scope := range map[string]payment.Scope{
		"zero":               {},
		"empty blind index":  {CitizenPIDIdx: []byte{}},
		"portal and citizen": {PortalID: h.Portal.ID, CitizenPIDIdx: []byte{1}},
	} {
		if _, err := postgres.GetPaymentRequest(ctx, db, scope, mine); !errors.Is(err, postgres.ErrNoScope) {
			t.Errorf("get with the %s scope: %v, want ErrNoScope", name, err)
		}
		if err := lock(scope, mine); !errors.Is(err, postgres.ErrNoScope) {
			t.Errorf("lock with the %s scope: %v, want ErrNoScope", name, err)
		}
		if _, _, err := postgres.ListPaymentRequests(ctx, db, payment.Filter{Scope: scope, Limit: 10}, nil); !errors.Is(err, postgres.ErrNoScope) {
			t.Errorf("list with the %s scope: %v, want ErrNoScope", name, err)
		}
	}

	scope := payment.PortalScope(h.Portal.ID)
	if r, err := postgres.GetPaymentRequest(ctx, db, scope, mine); err != nil || r.ID != mine {
		t.Fatalf("the portal's own request: %v, %v", r, err)
	}
	if _, err := postgres.GetPaymentRequest(ctx, db, scope, theirs); !fault.Is(err, fault.NotFound) {
		t.Fatalf("another portal's request: %v, want not_found", err)
	}
	if err := lock(scope, theirs); !fault.Is(err, fault.NotFound) {
		t.Fatalf("locking another portal's request: %v, want not_found", err)
	}
	listed, _, err := postgres.ListPaymentRequests(ctx, db, payment.Filter{Scope: scope, Limit: 10}, nil)
	if err != nil || len(listed) != 1 || listed[0].ID != mine {
		t.Fatalf("the portal's list: %+v, %v", listed, err)
	}

	// The gateway's own changes read any request, by saying so.
	for _, id := range []string{mine, theirs} {
		err := db.InTx(ctx, func(tx *postgres.Tx) error {
			r, err := postgres.LockPaymentRequestUnscoped(ctx, tx, id)
			if err == nil && r.ID != id {
				t.Errorf("unscoped lock of %s read %s", id, r.ID)
			}
			return err
		})
		if err != nil {
			t.Fatalf("unscoped lock of %s: %v", id, err)
		}
	}
}
