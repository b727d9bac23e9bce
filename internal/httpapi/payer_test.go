package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/verify"
)

// payer is a citizen with an active account at a sandbox bank, and a fee
// addressed to them.
type payer struct {
	h       *apitest.Harness
	idp     *apitest.Identity
	cit     *apitest.Citizen
	bank    *apitest.Bank
	account banksim.Account
	accID   string
	prID    string
}

// fastClearing makes the status schedule run in seconds.
func fastClearing(callbackTimeout string) []apitest.Option {
	return []apitest.Option{
		withWorkers(),
		apitest.WithEnv("BANK_CALLBACK_TIMEOUT", callbackTimeout),
		apitest.WithEnv("BANK_STATUS_SCHEDULE_SCALE", "0.0001"),
		apitest.WithEnv("BANK_REQUEST_TIMEOUT", "300ms"),
		apitest.WithEnv("BANK_BREAKER_COOLDOWN", "1s"),
	}
}

func newPayer(t *testing.T, opts ...apitest.Option) *payer {
	t.Helper()
	h, idp := apitest.NewWithIdentity(t, opts...)
	p := &payer{h: h, idp: idp, cit: idp.NewCitizen(t, 2)}
	p.account = apitest.AccountOf(t, p.cit)
	p.bank = h.NewBank("SBX", p.account)
	p.accID = link(t, h, p.cit, "link", "SBX", p.account.Number).ID
	if a := settled(t, h, p.cit, p.accID); a.Status != "active" {
		t.Fatalf("account %+v", a)
	}
	p.prID = p.newRequest(t, "FEE-1")
	return p
}

func (p *payer) newRequest(t *testing.T, dossier string) string {
	t.Helper()
	b := createBody(dossier)
	b["citizen_pid"] = p.cit.PID
	r := p.h.Post("/v1/payment-requests", "create-"+dossier, b)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.Map(t)["id"].(string)
}

func (p *payer) pay(t *testing.T, prID, key string) *apitest.Response {
	t.Helper()
	return p.h.AsCitizen(p.cit.Token, http.MethodPost, "/v1/me/payment-requests/"+prID+"/pay", key, map[string]string{"account_id": p.accID})
}

func (p *payer) status(t *testing.T, prID string) map[string]any {
	t.Helper()
	return p.h.Get("/v1/payment-requests/" + prID).Map(t)
}

func (p *payer) waitStatus(t *testing.T, prID, want string) map[string]any {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			rows, _ := p.h.DB.Pool.Query(context.Background(), `SELECT kind, state, attempt, args::text, coalesce(errors::text, ''), scheduled_at FROM river_job ORDER BY id`)
			for rows.Next() {
				var kind, state, args, errs string
				var attempt int
				var at time.Time
				_ = rows.Scan(&kind, &state, &attempt, &args, &errs, &at)
				t.Logf("job %s %s attempt=%d args=%s at=%s errors=%.300s", kind, state, attempt, args, at.Format(time.StampMilli), errs)
			}
		}
	})
	var m map[string]any
	testenv.Eventually(t, 45*time.Second, func() bool {
		m = p.status(t, prID)
		return m["status"] == want
	}, prID+" never became "+want)
	return m
}

func (p *payer) attemptID(t *testing.T, prID string) string {
	t.Helper()
	var id string
	if err := p.h.DB.Pool.QueryRow(context.Background(), `SELECT id FROM payment_attempts WHERE payment_request_id = $1
		ORDER BY created_at DESC LIMIT 1`, prID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// worked reports whether River has run job id at least once and is done
// with that run: completed, or put back (snoozed, to be retried) after it.
func worked(t *testing.T, h *apitest.Harness, id int64) bool {
	t.Helper()
	j, err := h.App.River.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j.AttemptedAt != nil && j.State != rivertype.JobStateRunning && j.State != rivertype.JobStateAvailable
}

// verifyClean runs every invariant check of `gatewayctl verify`.
func verifyClean(t *testing.T, h *apitest.Harness, accounts ...string) {
	t.Helper()
	verifyCleanWithin(t, h, 0, accounts...)
}

// verifyCleanWithin is verifyClean with the events' retry horizon set, for
// a test that moved the clock by days while no webhook receiver listened
// (0 is verify's default).
func verifyCleanWithin(t *testing.T, h *apitest.Harness, horizon time.Duration, accounts ...string) {
	t.Helper()
	rep, err := verify.Check(context.Background(), h.DB.Pool, verify.Options{KnownAccountNumbers: accounts, Now: h.Now(),
		OpenReceipt: h.App.Service.Receipts.OpenJWS, RetryHorizon: horizon})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		for _, inv := range rep.Invariants {
			if !inv.OK {
				t.Errorf("invariant %d (%s): %+v", inv.Invariant, inv.Name, inv.Violations)
			}
		}
		t.FailNow()
	}
}
