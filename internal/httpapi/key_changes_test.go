package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
)

// heardWithin is how long a gateway may take to hear of a key's change
// from another process: far below the caches' 30 s and the 5 s between
// forced reloads, so that only the announcement can make it.
const heardWithin = 2 * time.Second

// TestRevokedSecretsStopAtOnce: a portal's and a bank's secret revoked by
// another process (gatewayctl … rotate-secret --revoke-old, here its
// stores on their own pool) stop working in a running gateway as soon as
// the change commits, although the gateway had them cached for 30 s.
func TestRevokedSecretsStopAtOnce(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	b := &bank.Bank{Code: "SBR", Name: "Sandbox", BaseURL: "http://127.0.0.1:9/gw", Secret: bank.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := h.App.Banks.Store.Create(ctx, b); err != nil {
		t.Fatal(err)
	}
	callback := func(secret string) int {
		body := []byte(`{}`)
		req, err := banksim.SignedCallbackRequest(ctx, h.Server.URL+"/v1/bank-callbacks/"+b.Code, secret, body, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return h.Send(req, body).Status
	}
	read := func(secret string) int {
		return h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Secret: secret}).Status
	}
	select {
	case <-h.App.ListeningForKeyChanges():
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway does not listen to key changes")
	}
	// Both are cached now.
	if s := read(h.Portal.Secret); s != http.StatusOK {
		t.Fatalf("portal before the rotation: %d", s)
	}
	if s := callback(b.Secret); s != http.StatusUnprocessableEntity { // authenticated, then refused as empty
		t.Fatalf("bank before the rotation: %d", s)
	}

	operator := postgres.NewPortalStore(h.DB.Store, h.App.Keys)
	if err := operator.RotateSecret(ctx, h.Portal.ID, "psk_after_the_leak", time.Time{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, heardWithin, func() bool { return read(h.Portal.Secret) == http.StatusUnauthorized },
		"the revoked portal secret still works after the rotation")
	if s := read("psk_after_the_leak"); s != http.StatusOK {
		t.Errorf("the new portal secret: %d", s)
	}

	if err := postgres.NewBankStore(h.DB.Store, h.App.Keys).RotateSecret(ctx, b.Code, "bsk_after_the_leak", time.Time{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, heardWithin, func() bool { return callback(b.Secret) == http.StatusUnauthorized },
		"the revoked bank secret still works after the rotation")
	if s := callback("bsk_after_the_leak"); s != http.StatusUnprocessableEntity {
		t.Errorf("the new bank secret: %d", s)
	}
}
