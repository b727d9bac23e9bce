package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
)

// A disabled portal's well-signed requests are refused with 403
// portal_disabled (stored nowhere: the same request succeeds once it is
// enabled); a bad signature still gets 401, so who cannot sign learns
// nothing of the portal's state. Another portal is not affected.
func TestPortalDisabledIsRefused(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	<-h.App.ListeningForKeyChanges()
	other := h.NewPortal("Other")
	ctx := context.Background()
	setDisabled := func(disabled bool) {
		t.Helper()
		var at *time.Time
		if disabled {
			now := time.Now()
			at = &now
		}
		if err := h.App.DB.InTx(ctx, func(tx *postgres.Tx) error {
			_, _, err := postgres.SetPortalDisabled(ctx, tx, h.Portal.ID, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(key string) *apitest.Response {
		return h.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/payment-requests", Portal: h.Portal, Secret: h.Portal.Secret,
			IdempotencyKey: key, Body: []byte(`{"citizen_pid":"079203001234","dossier_code":"HCM-OFF-` + key + `",
				"service_code":"1.001234","description":"Lệ phí",
				"items":[{"code":"LE_PHI","description":"Lệ phí","amount":"75000"}],"amount":"75000","currency":"VND"}`)})
	}
	setDisabled(true)
	testenv.Eventually(t, 10*time.Second, func() bool {
		r := create("k1")
		return r.Status == http.StatusForbidden && r.Code() == "portal_disabled"
	}, "a disabled portal's create refused with 403 portal_disabled")
	if r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Portal: h.Portal, Secret: "psk_wrong"}); r.Status != http.StatusUnauthorized {
		t.Errorf("a bad signature of a disabled portal: %d %s, want 401", r.Status, r.Body)
	}
	if r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Portal: other, Secret: other.Secret}); r.Status != http.StatusOK {
		t.Errorf("another portal: %d", r.Status)
	}
	setDisabled(false)
	testenv.Eventually(t, 10*time.Second, func() bool { return create("k1").Status == http.StatusCreated },
		"the same request created once the portal is enabled")
}
