package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// ctlInto runs gatewayctl against the database at dbURL and decodes its
// output into out (when not nil). It is safe to call from any goroutine.
func ctlInto(t *testing.T, dbURL string, out any, args ...string) error {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbURL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": "development"}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("gatewayctl %v printed %q: %w", args, stdout.String(), err)
	}
	return nil
}

// clearingSetup is a gateway with running workers, a citizen with an active
// account at sandbox bank SBX, and a fee addressed to them, paid or being paid.
type clearingSetup struct {
	h       *apitest.Harness
	bank    *apitest.Bank
	account banksim.Account
	prID    string
	paID    string
}

// newClearing links an account, sets the bank's knobs, issues a fee of
// 75 000 đồng and pays it.
func newClearing(t *testing.T, knobs banksim.Knobs) *clearingSetup {
	t.Helper()
	h, idp := apitest.NewWithIdentity(t, apitest.WithEnv("GATEWAY_WORKERS", "true"))
	cit := idp.NewCitizen(t, 2)
	s := &clearingSetup{h: h, account: apitest.AccountOf(t, cit)}
	s.bank = h.NewBank("SBX", s.account)
	r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-1", map[string]string{"bank_code": "SBX", "account_number": s.account.Number})
	if r.Status != http.StatusAccepted {
		t.Fatalf("link: %d %s", r.Status, r.Body)
	}
	accID := r.Map(t)["id"].(string)
	testenv.Eventually(t, 20*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM linked_accounts WHERE id = $1 AND status = 'active'`, accID) == 1
	}, "the account never became active")
	s.bank.Sim.SetKnobs(knobs)
	r = h.Post("/v1/payment-requests", "create-1", map[string]any{
		"citizen_pid": cit.PID, "dossier_code": "HCM-INC-1", "service_code": "1.001234",
		"description": "Lệ phí cấp giấy phép xây dựng",
		"items":       []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "75000"}},
		"amount":      "75000", "currency": "VND",
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	s.prID = r.Map(t)["id"].(string)
	r = h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/payment-requests/"+s.prID+"/pay", "pay-1", map[string]string{"account_id": accID})
	if r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT id FROM payment_attempts WHERE payment_request_id = $1`, s.prID).Scan(&s.paID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM payment_attempts WHERE id = $1 AND sent_at IS NOT NULL`, s.paID) == 1
	}, "the debit was never sent")
	return s
}

func (s *clearingSetup) status(t *testing.T) string {
	t.Helper()
	st, _ := s.h.Get("/v1/payment-requests/" + s.prID).Map(t)["status"].(string)
	return st
}

// callback posts a debit callback as the bank and returns the incident it
// recorded.
func (s *clearingSetup) callback(t *testing.T, eventID, typ, amount string, wantStatus int) string {
	t.Helper()
	data := map[string]any{"debit_id": s.paID}
	if typ == "debit.succeeded" {
		data["amount"], data["currency"], data["bank_reference"] = amount, "VND", "SBX-"+eventID
	} else {
		data["reason_code"] = "INSUFFICIENT_FUNDS"
	}
	r := s.h.Callback(s.bank, "", time.Time{}, map[string]any{"event_id": eventID, "type": typ,
		"occurred_at": time.Now().UTC().Format(time.RFC3339), "data": data})
	if r.Status != wantStatus {
		t.Fatalf("callback %s: %d %s", eventID, r.Status, r.Body)
	}
	var incID string
	if err := s.h.DB.Pool.QueryRow(context.Background(), `SELECT id FROM incidents WHERE object_id = $1
		AND evidence->>'event_id' = $2`, s.paID, eventID).Scan(&incID); err != nil {
		t.Fatalf("no incident for %s: %v", eventID, err)
	}
	return incID
}

// verifyClean runs `gatewayctl verify` and fails on any violation.
func verifyClean(t *testing.T, dbURL string) {
	t.Helper()
	var rep struct {
		OK            bool             `json:"ok"`
		Invariants    []map[string]any `json:"invariants"`
		OpenIncidents []map[string]any `json:"open_incidents"`
	}
	if err := ctlInto(t, dbURL, &rep, "verify"); err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep.Invariants)
	}
	if len(rep.OpenIncidents) != 0 {
		t.Errorf("open incidents after resolving: %+v", rep.OpenIncidents)
	}
}
