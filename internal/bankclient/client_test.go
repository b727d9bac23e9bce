package bankclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/testenv"
)

const (
	holderPID = "079203001234"
	otherPID  = "001090012345"
	number    = "0071000123456"
)

// directory is the banks the clients know, held in memory: the
// bank-directory boundary, faked by hand.
type directory struct {
	mu    sync.Mutex
	banks map[string]*bank.Bank
}

func (d *directory) Bank(_ context.Context, code string) (*bank.Bank, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.banks[code]
	if !ok {
		return nil, fault.New(fault.NotFound, "no bank %s", code)
	}
	return b, nil
}

func (d *directory) set(b *bank.Bank) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.banks[b.Code] = b
}

// bundle is one test's banks and clients.
type bundle struct {
	dir     *directory
	clients *bankclient.Clients
	reg     *prometheus.Registry
}

func setup(t *testing.T, opts bankclient.Options) *bundle {
	t.Helper()
	reg := prometheus.NewRegistry()
	dir := &directory{banks: map[string]*bank.Bank{}}
	if opts.Backoff == 0 {
		opts.Backoff = 5 * time.Millisecond
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	cs := bankclient.New(dir, opts, reg)
	t.Cleanup(cs.Close)
	return &bundle{dir: dir, clients: cs, reg: reg}
}

// sandbox starts a sandbox bank under a path, holding one account of
// holderPID, and lists it in the directory.
func (b *bundle) sandbox(t *testing.T, code string, knobs banksim.Knobs) *banksim.Server {
	t.Helper()
	secret := bank.NewSecret()
	sim, err := banksim.New(banksim.Config{
		BankCode: code, Secret: secret, BasePath: "/api/gw", Knobs: knobs,
		Accounts: []banksim.Account{{Number: number, HolderPID: holderPID, HolderName: "Nguyễn Văn An", Balance: decimal.NewFromInt(1_000_000)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { sim.Close(); srv.Close() })
	b.dir.set(&bank.Bank{Code: code, BaseURL: srv.URL + "/api/gw", Secret: secret})
	return sim
}

func verification(id, pid string) bankclient.Verification {
	return bankclient.Verification{VerificationID: id, AccountNumber: number, HolderPID: pid, HolderName: "Nguyễn Văn An"}
}

func TestVerifyAccount(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{})
	b.sandbox(t, "SYNC", banksim.Knobs{Sync: true})
	b.sandbox(t, "ASYNC", banksim.Knobs{})
	ctx := context.Background()

	res := b.clients.VerifyAccount(ctx, "SYNC", verification("av_1", holderPID))
	if res.Outcome != bankclient.Succeeded || res.ID != "av_1" || res.Status != 200 || res.Attempts != 1 {
		t.Fatalf("holder matches: %+v", res)
	}
	res = b.clients.VerifyAccount(ctx, "SYNC", verification("av_2", otherPID))
	if res.Outcome != bankclient.Failed || res.ReasonCode != banksim.ReasonHolderMismatch {
		t.Fatalf("holder differs: %+v", res)
	}
	res = b.clients.VerifyAccount(ctx, "ASYNC", verification("av_3", holderPID))
	if res.Outcome != bankclient.Pending || res.Status != 202 {
		t.Fatalf("accepted: %+v", res)
	}
	res = b.clients.VerifyAccount(ctx, "NOPE", verification("av_4", holderPID))
	if res.Outcome != bankclient.Unknown || !fault.Is(res.Err, fault.NotFound) {
		t.Fatalf("unknown bank: %+v", res)
	}
}

func TestDebitRefundStatusStatement(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{})
	sim := b.sandbox(t, "SBX", banksim.Knobs{Sync: true})
	ctx := context.Background()

	d := bankclient.Debit{DebitID: "pa_1", AccountNumber: number, HolderPID: holderPID, Amount: decimal.NewFromInt(75000),
		Currency: "VND", Description: "Lệ phí cấp giấy phép", Reference: "HCM-1"}
	res := b.clients.Debit(ctx, "SBX", d)
	if res.Outcome != bankclient.Succeeded || !res.Amount.Equal(decimal.NewFromInt(75000)) || res.Currency != "VND" || res.BankReference == "" {
		t.Fatalf("debit: %+v", res)
	}
	if again := b.clients.Debit(ctx, "SBX", d); again.Outcome != bankclient.Succeeded || again.BankReference != res.BankReference {
		t.Fatalf("the same key again: %+v", again)
	}
	if sim.Executed("pa_1") != 1 {
		t.Fatalf("executed %d times", sim.Executed("pa_1"))
	}
	if got := b.clients.GetDebit(ctx, "SBX", "pa_1"); got.Outcome != bankclient.Succeeded || got.BankReference != res.BankReference {
		t.Fatalf("status: %+v", got)
	}
	got := b.clients.GetDebit(ctx, "SBX", "pa_never")
	if got.Outcome != bankclient.Unknown || !got.NotFound || !errors.Is(got.Err, bankclient.ErrNotReceived) || got.Attempts != 1 {
		t.Fatalf("never received: %+v", got)
	}
	poor := d
	poor.DebitID, poor.HolderPID = "pa_2", otherPID
	if res := b.clients.Debit(ctx, "SBX", poor); res.Outcome != bankclient.Failed || res.ReasonCode != banksim.ReasonHolderMismatch {
		t.Fatalf("holder mismatch: %+v", res)
	}
	rf := b.clients.Refund(ctx, "SBX", bankclient.Refund{RefundID: "rf_1", DebitID: "pa_1", Amount: decimal.NewFromInt(25000), Currency: "VND"})
	if rf.Outcome != bankclient.Succeeded || !rf.Amount.Equal(decimal.NewFromInt(25000)) {
		t.Fatalf("refund: %+v", rf)
	}
	if got := b.clients.GetRefund(ctx, "SBX", "rf_1"); got.Outcome != bankclient.Succeeded {
		t.Fatalf("refund status: %+v", got)
	}
	today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	st := b.clients.Statement(ctx, "SBX", today)
	if st.Outcome != bankclient.Succeeded || len(st.Lines) != 2 {
		t.Fatalf("statement: %+v", st)
	}
	if l := st.Lines[0]; l.ID != "pa_1" || l.Type != "debit" || l.Status != "succeeded" || !l.Amount.Equal(decimal.NewFromInt(75000)) {
		t.Errorf("first line: %+v", l)
	}
	if st := b.clients.Statement(ctx, "SBX", "01/03/2026"); st.Outcome != bankclient.Unknown || st.Attempts != 0 {
		t.Errorf("bad date: %+v", st)
	}
}

func TestUnknownOutcomesAreRetriedAndNeverFailed(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{BreakerFailures: 100})
	flaky := b.sandbox(t, "FLAKY", banksim.Knobs{Sync: true, FailureRate: 1})
	down := b.sandbox(t, "DOWN", banksim.Knobs{Down: true})
	slow := b.sandbox(t, "SLOW", banksim.Knobs{Sync: true, Latency: 400 * time.Millisecond})
	lost := b.sandbox(t, "LOST", banksim.Knobs{Sync: true, ExecuteThenFail: 1})
	ctx := context.Background()

	res := b.clients.VerifyAccount(ctx, "FLAKY", verification("av_1", holderPID))
	if res.Outcome != bankclient.Unknown || res.Attempts != 3 || res.Status != 500 || res.Err == nil {
		t.Fatalf("5xx: %+v", res)
	}
	if n := flaky.Stats().InjectedFailures; n != 3 {
		t.Fatalf("the bank saw %d attempts", n)
	}
	if res := b.clients.VerifyAccount(ctx, "DOWN", verification("av_2", holderPID)); res.Outcome != bankclient.Unknown || res.Status != 0 || res.Attempts != 3 {
		t.Fatalf("down: %+v", res)
	}
	if down.Stats().Dropped != 3 {
		t.Fatalf("down saw %d", down.Stats().Dropped)
	}

	short := setup(t, bankclient.Options{Timeout: 100 * time.Millisecond, Attempts: 2})
	short.dir.set(mustBank(t, b.dir, "SLOW"))
	if res := short.clients.VerifyAccount(ctx, "SLOW", verification("av_3", holderPID)); res.Outcome != bankclient.Unknown || res.Attempts != 2 {
		t.Fatalf("timeout: %+v", res)
	}
	// The bank did it; only the answer was lost. Asked again with the same
	// key once the bank is well, the answer is the original outcome.
	slow.SetKnobs(banksim.Knobs{Sync: true})
	if res := short.clients.VerifyAccount(ctx, "SLOW", verification("av_3", holderPID)); res.Outcome != bankclient.Succeeded {
		t.Fatalf("after the timeout, asked again: %+v", res)
	}

	d := bankclient.Debit{DebitID: "pa_1", AccountNumber: number, HolderPID: holderPID, Amount: decimal.NewFromInt(1000), Currency: "VND", Description: "x", Reference: "r"}
	if res := b.clients.Debit(ctx, "LOST", d); res.Outcome != bankclient.Unknown {
		t.Fatalf("answer lost: %+v", res)
	}
	if lost.Executed("pa_1") != 1 {
		t.Fatalf("executed %d times", lost.Executed("pa_1"))
	}
	lost.SetKnobs(banksim.Knobs{Sync: true})
	if res := b.clients.GetDebit(ctx, "LOST", "pa_1"); res.Outcome != bankclient.Succeeded {
		t.Fatalf("status after the lost answer: %+v", res)
	}
}

func mustBank(t *testing.T, d *directory, code string) *bank.Bank {
	t.Helper()
	b, err := d.Bank(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeBank answers every request with answer, counting them.
func fakeBank(t *testing.T, d *directory, code string, answer http.HandlerFunc) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	d.set(&bank.Bank{Code: code, BaseURL: srv.URL, Secret: bank.NewSecret()})
	return &n
}

func TestAnswersOutsideTheProtocolAreUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{BreakerFailures: 100})
	write := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	tests := []struct {
		name     string
		answer   http.HandlerFunc
		attempts int
	}{
		{"another id", write(200, `{"id":"av_other","status":"succeeded"}`), 3},
		{"no status", write(200, `{"id":"av_1"}`), 3},
		{"unknown status", write(200, `{"id":"av_1","status":"done"}`), 3},
		{"not JSON", write(200, `<html>`), 3},
		{"bad amount", write(200, `{"id":"av_1","status":"succeeded","amount":"1.5"}`), 3},
		{"400", write(400, `{"code":"invalid_request"}`), 3},
		{"404 to a POST", write(404, `{}`), 3},
		{"409", write(409, `{}`), 3},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, 3},
	}
	for i, tt := range tests {
		code := fmt.Sprintf("B%d", i)
		n := fakeBank(t, b.dir, code, tt.answer)
		res := b.clients.VerifyAccount(context.Background(), code, verification("av_1", holderPID))
		if res.Outcome != bankclient.Unknown || res.Err == nil || res.Attempts != tt.attempts || int(n.Load()) != tt.attempts {
			t.Errorf("%s: %+v (bank saw %d)", tt.name, res, n.Load())
		}
		if res.Err != nil && strings.Contains(res.Err.Error(), holderPID) {
			t.Errorf("%s: error shows the pid", tt.name)
		}
	}
}

func TestCircuitBreakerOpensAndRecovers(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{BreakerFailures: 4, BreakerCooldown: time.Second})
	sim := b.sandbox(t, "SBX", banksim.Knobs{Sync: true, Down: true})
	ctx := context.Background()
	if b.clients.Open("SBX") {
		t.Fatal("open before any call")
	}
	first := b.clients.VerifyAccount(ctx, "SBX", verification("av_1", holderPID))
	if first.Outcome != bankclient.Unknown || first.Attempts != 3 || b.clients.Open("SBX") {
		t.Fatalf("first call: %+v, open %v", first, b.clients.Open("SBX"))
	}
	second := b.clients.VerifyAccount(ctx, "SBX", verification("av_1", holderPID))
	if second.Attempts != 1 || !errors.Is(second.Err, bankclient.ErrCircuitOpen) || !b.clients.Open("SBX") {
		t.Fatalf("second call trips it after its first attempt: %+v", second)
	}
	dropped := sim.Stats().Dropped
	third := b.clients.VerifyAccount(ctx, "SBX", verification("av_1", holderPID))
	if third.Outcome != bankclient.Unknown || third.Attempts != 0 || !errors.Is(third.Err, bankclient.ErrCircuitOpen) {
		t.Fatalf("while open: %+v", third)
	}
	if sim.Stats().Dropped != dropped {
		t.Fatal("an open circuit sent a request")
	}
	if v := breakerState(t, b.reg, "SBX"); v != 2 {
		t.Fatalf("breaker gauge %v, want 2 (open)", v)
	}

	sim.SetKnobs(banksim.Knobs{Sync: true})
	// The breaker keeps its cooldown by the wall clock (gobreaker takes no
	// clock): wait until it lets a call through, which sends nothing.
	testenv.Eventually(t, 10*time.Second, func() bool { return !b.clients.Open("SBX") }, "the circuit never left open after its cooldown")
	if res := b.clients.VerifyAccount(ctx, "SBX", verification("av_1", holderPID)); res.Outcome != bankclient.Succeeded {
		t.Fatalf("after the cooldown: %+v", res)
	}
	if b.clients.Open("SBX") || breakerState(t, b.reg, "SBX") != 0 {
		t.Fatal("the circuit did not close")
	}
}

// breakerState reads one bank's breaker gauge from the registry.
func breakerState(t *testing.T, reg *prometheus.Registry, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gateway_bank_circuit_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "bank" && l.GetValue() == code {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no breaker state for bank %s", code)
	return 0
}
