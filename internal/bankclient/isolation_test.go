package bankclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestSlowBankDoesNotHoldUpAnother fills one bank's connections with calls
// it does not answer until the test lets it, and checks that calls to
// another bank are all answered while those still wait.
func TestSlowBankDoesNotHoldUpAnother(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{MaxConns: 2, Timeout: time.Minute})
	b.sandbox(t, "FAST", banksim.Knobs{Sync: true})
	release := make(chan struct{})
	var arrived atomic.Int64
	fakeBank(t, b.dir, "SLOW", func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-release
		id := r.Header.Get("Idempotency-Key")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"status":"succeeded"}`, id)
	})
	ctx := context.Background()

	var slowDone atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if res := b.clients.VerifyAccount(ctx, "SLOW", verification(fmt.Sprintf("av_slow_%d", i), holderPID)); res.Outcome == bankclient.Succeeded {
				slowDone.Add(1)
			}
		})
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return arrived.Load() >= 2 }, "the slow bank never held both connections")
	for i := range 20 {
		res := b.clients.VerifyAccount(ctx, "FAST", verification(fmt.Sprintf("av_fast_%d", i), holderPID))
		if res.Outcome != bankclient.Succeeded {
			t.Fatalf("fast bank call %d: %+v", i, res)
		}
	}
	if n := arrived.Load(); n != 2 {
		t.Fatalf("the slow bank got %d requests at once; its limit is 2 connections", n)
	}
	close(release)
	wg.Wait()
	if slowDone.Load() != 4 {
		t.Fatalf("%d of 4 slow calls succeeded once answered", slowDone.Load())
	}
	if b.clients.Open("FAST") || b.clients.Open("SLOW") {
		t.Fatal("slow answers within the timeout opened a circuit")
	}
}

// TestSignsWithBothSecretsDuringRotation: a bank that still holds the old
// secret accepts the gateway's requests while the grace lasts.
func TestSignsWithBothSecretsDuringRotation(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{Attempts: 1})
	b.sandbox(t, "SBX", banksim.Knobs{Sync: true})
	old := mustBank(t, b.dir, "SBX")
	rotated := *old
	rotated.Secret, rotated.PreviousSecret, rotated.PreviousSecretExpires = bank.NewSecret(), old.Secret, time.Now().Add(time.Hour)
	b.dir.set(&rotated)
	ctx := context.Background()
	if res := b.clients.VerifyAccount(ctx, "SBX", verification("av_1", holderPID)); res.Outcome != bankclient.Succeeded {
		t.Fatalf("during the grace: %+v", res)
	}
	expired := rotated
	expired.PreviousSecretExpires = time.Now().Add(-time.Second)
	b.dir.set(&expired)
	if res := b.clients.VerifyAccount(ctx, "SBX", verification("av_2", holderPID)); res.Outcome != bankclient.Unknown || res.Status != 401 {
		t.Fatalf("after the grace the bank refuses the new secret: %+v", res)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{})
	b.sandbox(t, "SBX", banksim.Knobs{Sync: true})
	ctx := context.Background()
	b.clients.VerifyAccount(ctx, "SBX", verification("av_1", holderPID))
	b.clients.VerifyAccount(ctx, "SBX", verification("av_2", otherPID))
	b.clients.GetDebit(ctx, "SBX", "pa_never")
	want := `
# HELP gateway_bank_requests_total Requests to banks by bank, operation and outcome: succeeded, failed, pending, not_found, unknown, circuit_open.
# TYPE gateway_bank_requests_total counter
gateway_bank_requests_total{bank="SBX",operation="get_debit",outcome="not_found"} 1
gateway_bank_requests_total{bank="SBX",operation="verify_account",outcome="failed"} 1
gateway_bank_requests_total{bank="SBX",operation="verify_account",outcome="succeeded"} 1
`
	if err := testutil.GatherAndCompare(b.reg, strings.NewReader(want), "gateway_bank_requests_total"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(b.reg, "gateway_bank_request_duration_seconds"); err != nil || n != 2 {
		t.Fatalf("latency series: %d, %v", n, err)
	}
	if breakerState(t, b.reg, "SBX") != 0 {
		t.Fatal("breaker not closed")
	}
}

func TestASCII(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Lệ phí cấp giấy phép xây dựng": "Le phi cap giay phep xay dung",
		"Đăng ký hộ kinh doanh":         "Dang ky ho kinh doanh",
		"Phí thẩm định – 50%":           "Phi tham dinh ? 50%",
		"plain":                         "plain",
	} {
		if got := bankclient.ASCII(in); got != want {
			t.Errorf("ASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHangingBankHoldsAtMostItsShare: calls past MaxInFlight to a bank that
// does not answer come back Unknown (ErrBusy) without being sent, so that
// one bank never holds every worker of the gateway.
func TestHangingBankHoldsAtMostItsShare(t *testing.T) {
	t.Parallel()
	b := setup(t, bankclient.Options{Timeout: time.Minute, MaxConns: 64})
	release := make(chan struct{})
	var arrived atomic.Int64
	fakeBank(t, b.dir, "HANG", func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"status":"succeeded"}`, r.Header.Get("Idempotency-Key"))
	})
	ctx := context.Background()
	n := bankclient.MaxInFlight + 4
	results := make([]bankclient.Result, n)
	var returned atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i] = b.clients.VerifyAccount(ctx, "HANG", verification(fmt.Sprintf("av_hang_%d", i), holderPID))
			returned.Add(1)
		})
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return arrived.Load() >= int64(bankclient.MaxInFlight) },
		"the hanging bank never held its share of calls")
	// The calls past the bound give up waiting for a free slot while the
	// bank still holds the others.
	testenv.Eventually(t, 10*time.Second, func() bool { return returned.Load() >= 4 }, "the calls past the bound never came back")
	close(release)
	wg.Wait()
	busy, ok := 0, 0
	for _, r := range results {
		switch {
		case errors.Is(r.Err, bankclient.ErrBusy) && r.Outcome == bankclient.Unknown:
			busy++
		case r.Outcome == bankclient.Succeeded:
			ok++
		default:
			t.Fatalf("unexpected result %+v", r)
		}
	}
	if busy != 4 || ok != bankclient.MaxInFlight || arrived.Load() != int64(bankclient.MaxInFlight) {
		t.Fatalf("%d busy, %d answered, %d sent", busy, ok, arrived.Load())
	}
}
