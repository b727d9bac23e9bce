package banksim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/signature"
)

func TestExecuteThenFail(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs = Knobs{Sync: true, ExecuteThenFail: 1} })
	status, _, out := b.debit(t, "pa_lost", testAccount, testPID, "75000")
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d %s", status, out)
	}
	if b.bank.Executed("pa_lost") != 1 || !b.bank.Balance(testAccount).Equal(decimal.NewFromInt(925000)) {
		t.Fatalf("not executed: %v, balance %s", b.bank.Stats().Executed, b.bank.Balance(testAccount))
	}
	status, _, out = b.do(t, http.MethodGet, "/v1/debits/pa_lost", "", "")
	if a := decodeAnswer(t, out); status != http.StatusOK || a.Status != statusSucceeded || a.BankReference == "" {
		t.Fatalf("status GET: %d %+v", status, a)
	}
	// The gateway re-sends once the bank answers again: the original answer,
	// no second execution.
	b.bank.SetKnobs(Knobs{Sync: true})
	status, h, out := b.debit(t, "pa_lost", testAccount, testPID, "75000")
	if status != http.StatusOK || h.Get("Idempotent-Replayed") != "true" || decodeAnswer(t, out).Status != statusSucceeded {
		t.Fatalf("re-send: %d %s", status, out)
	}
	if b.bank.Executed("pa_lost") != 1 || b.bank.Stats().AnswersLost != 1 {
		t.Fatalf("stats %+v", b.bank.Stats())
	}
}

func TestFailureRateExecutesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs = Knobs{Sync: true, FailureRate: 1} })
	if status, _, _ := b.debit(t, "pa_fail", testAccount, testPID, "75000"); status != http.StatusInternalServerError {
		t.Fatalf("status %d", status)
	}
	b.bank.SetKnobs(Knobs{Sync: true})
	if status, _, _ := b.do(t, http.MethodGet, "/v1/debits/pa_fail", "", ""); status != http.StatusNotFound {
		t.Fatalf("status GET: %d, want 404", status)
	}
	if b.bank.Executed("pa_fail") != 0 || !b.bank.Balance(testAccount).Equal(decimal.NewFromInt(1000000)) || b.bank.Stats().InjectedFailures != 1 {
		t.Fatalf("stats %+v", b.bank.Stats())
	}
}

func TestLatencyLosesTheAnswerNotTheWork(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs = Knobs{Sync: true, Latency: time.Second} })
	body := debitBody("pa_slow", testAccount, testPID, "75000")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.srv.URL+"/v1/debits", strings.NewReader(body))
	req.Header.Set(signature.HeaderIdempotencyKey, "pa_slow")
	signature.SignRequest(req, testSecret, []byte(body), time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d before the client gave up", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v", err)
	}
	if b.bank.Executed("pa_slow") != 1 {
		t.Fatal("the debit did not execute")
	}
}

func TestDown(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs.Down = true })
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/v1/debits", strings.NewReader(debitBody("pa_x", testAccount, testPID, "1")))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a down bank answered %d", resp.StatusCode)
	}
	// The admin routes still work, and bring the bank back.
	resp, err := http.Post(b.srv.URL+"/_sim/knobs", "application/json", strings.NewReader(`{"down":false,"sync":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, _, out := b.debit(t, "pa_x", testAccount, testPID, "1"); status != http.StatusOK {
		t.Fatalf("back up: %d %s", status, out)
	}
	if b.bank.Stats().Dropped != 1 {
		t.Fatalf("stats %+v", b.bank.Stats())
	}
}

func TestReject(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs = Knobs{Sync: true, Reject: "ACCOUNT_FROZEN"} })
	_, _, out := b.debit(t, "pa_rej", testAccount, testPID, "75000")
	if a := decodeAnswer(t, out); a.Status != statusFailed || a.ReasonCode != "ACCOUNT_FROZEN" || a.ReasonMessage == "" {
		t.Fatalf("answer %+v", a)
	}
	// Verifications are not debits: Reject leaves them alone.
	body := `{"verification_id":"av_1","account_number":"` + testAccount + `","holder_pid":"` + testPID + `","holder_name":"A"}`
	_, _, out = b.do(t, http.MethodPost, "/v1/account-verifications", "av_1", body)
	if a := decodeAnswer(t, out); a.Status != statusSucceeded {
		t.Fatalf("verification %+v", a)
	}
}
