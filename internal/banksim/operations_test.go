package banksim

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/testenv"
)

// bankReference is the shape of the sandbox's references: FT, the booking
// day (yymmdd), ten base-36 digits.
var bankReference = regexp.MustCompile(`^FT[0-9]{6}[0-9A-Z]{10}$`)

// TestReferencesDifferAcrossRestarts starts the bank again and again, as
// make run does after a stop: no run repeats another's references, which
// the gateway and reconciliation would take for one booking.
func TestReferencesDifferAcrossRestarts(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for run := range 20 {
		b := setup(t, syncKnobs)
		for i, id := range []string{"pa_1", "pa_2"} {
			status, _, out := b.debit(t, id, testAccount, testPID, "1000")
			a := decodeAnswer(t, out)
			if status != http.StatusOK || a.Status != statusSucceeded || !bankReference.MatchString(a.BankReference) {
				t.Fatalf("run %d, %s: %d %+v", run, id, status, a)
			}
			if prev, ok := seen[a.BankReference]; ok {
				t.Fatalf("run %d, debit %d: reference %s already given in run %d", run, i+1, a.BankReference, prev)
			}
			seen[a.BankReference] = run
		}
		b.bank.Close()
	}
}

func TestRefSerialHasAFixedLength(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		1:                     "0000000001",
		35:                    "000000000Z",
		1_767_225_600_000_000: "HEFG8DTS00", // 2026-01-01, in microseconds
		3_656_158_440_062_975: "ZZZZZZZZZZ",
		3_656_158_440_062_976: "0000000000", // 2086: the last ten digits
	} {
		if got := refSerial(n); got != want {
			t.Errorf("refSerial(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestDebitOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, account, pid, amount string
		wantStatus, wantReason     string
		wantBalance                string
	}{
		{"success", testAccount, testPID, "75000", statusSucceeded, "", "925000"},
		{"account with separators", "0071-000 123.456", testPID, "1", statusSucceeded, "", "999999"},
		{"holder mismatch", testAccount, poorPID, "75000", statusFailed, ReasonHolderMismatch, "1000000"},
		{"insufficient funds", testAccount, testPID, "1000001", statusFailed, ReasonInsufficientFunds, "1000000"},
		{"whole balance", testAccount, testPID, "1000000", statusSucceeded, "", "0"},
		{"account not found", "0071000000000", testPID, "75000", statusFailed, ReasonAccountNotFound, "1000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, syncKnobs)
			status, _, out := b.debit(t, "pa_1", tt.account, tt.pid, tt.amount)
			if status != http.StatusOK {
				t.Fatalf("status %d %s", status, out)
			}
			a := decodeAnswer(t, out)
			if a.ID != "pa_1" || a.Status != tt.wantStatus || a.Amount != tt.amount || a.Currency != "VND" || a.ReasonCode != tt.wantReason {
				t.Fatalf("answer %+v", a)
			}
			if tt.wantStatus == statusSucceeded {
				if !bankReference.MatchString(a.BankReference) || a.ReasonMessage != "" {
					t.Fatalf("success answer %+v", a)
				}
				if got := b.bank.Executed("pa_1"); got != 1 {
					t.Fatalf("executed %d", got)
				}
			} else {
				if a.BankReference != "" || a.ReasonMessage == "" {
					t.Fatalf("failure answer %+v", a)
				}
				if got := b.bank.Executed("pa_1"); got != 0 {
					t.Fatalf("executed %d", got)
				}
			}
			if got := b.bank.Balance(testAccount); !got.Equal(decimal.RequireFromString(tt.wantBalance)) {
				t.Fatalf("balance %s, want %s", got, tt.wantBalance)
			}
		})
	}
}

func TestRequestsRefusedBeforeRunning(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	tests := []struct {
		name, key, body string
		wantStatus      int
		wantCode        string
	}{
		{"no key", "", debitBody("pa_1", testAccount, testPID, "1000"), 400, "idempotency_key_missing"},
		{"key is not the debit id", "pa_2", debitBody("pa_1", testAccount, testPID, "1000"), 400, "idempotency_key_invalid"},
		{"amount with decimals", "pa_1", debitBody("pa_1", testAccount, testPID, "1000.0"), 422, "validation_failed"},
		{"amount with leading zero", "pa_1", debitBody("pa_1", testAccount, testPID, "01000"), 422, "validation_failed"},
		{"amount as a number", "pa_1", strings.Replace(debitBody("pa_1", testAccount, testPID, "1000"), `"1000"`, `1000`, 1), 400, "invalid_request"},
		{"account not digits", "pa_1", debitBody("pa_1", "ABC123456", testPID, "1000"), 422, "validation_failed"},
		{"other currency", "pa_1", strings.Replace(debitBody("pa_1", testAccount, testPID, "1000"), "VND", "USD", 1), 422, "validation_failed"},
		{"not JSON", "pa_1", `{`, 400, "invalid_request"},
	}
	for _, tt := range tests {
		status, _, out := b.do(t, http.MethodPost, "/v1/debits", tt.key, tt.body)
		if status != tt.wantStatus || problemCode(t, out) != tt.wantCode {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, status, out, tt.wantStatus, tt.wantCode)
		}
	}
	// Nothing was recorded: the key is still free.
	if status, _, out := b.debit(t, "pa_1", testAccount, testPID, "1000"); status != http.StatusOK || decodeAnswer(t, out).Status != statusSucceeded {
		t.Fatalf("after the refusals: %d %s", status, out)
	}
}

func TestIdempotencyKeyReplays(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	status, h, first := b.debit(t, "pa_1", testAccount, testPID, "75000")
	if status != http.StatusOK || h.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v %s", status, h, first)
	}
	// The same request with its keys in another order and other white space.
	reordered := `{ "amount":"75000", "currency":"VND", "debit_id":"pa_1", "account_number":"` + testAccount + `",
		"holder_pid":"` + testPID + `", "description":"Lệ phí hộ tịch", "description_ascii":"Le phi ho tich", "reference":"HS-0001" }`
	status, h, again := b.do(t, http.MethodPost, "/v1/debits", "pa_1", reordered)
	if status != http.StatusOK || h.Get("Idempotent-Replayed") != "true" || string(again) != string(first) {
		t.Fatalf("replay: %d %v %s, want %s", status, h, again, first)
	}
	status, _, out := b.debit(t, "pa_1", testAccount, testPID, "75001")
	if status != http.StatusUnprocessableEntity || problemCode(t, out) != "idempotency_key_reused" {
		t.Fatalf("other body: %d %s", status, out)
	}
	// A refund may not take a debit's key either.
	status, _, out = b.do(t, http.MethodPost, "/v1/refunds", "pa_1", `{"refund_id":"pa_1","debit_id":"pa_1","amount":"1","currency":"VND"}`)
	if status != http.StatusUnprocessableEntity || problemCode(t, out) != "idempotency_key_reused" {
		t.Fatalf("refund with the debit's key: %d %s", status, out)
	}
	if got := b.bank.Executed("pa_1"); got != 1 {
		t.Fatalf("executed %d times", got)
	}
	if got := b.bank.Balance(testAccount); !got.Equal(decimal.NewFromInt(925000)) {
		t.Fatalf("balance %s", got)
	}
}

func TestSameKeyConcurrently(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"sync", "callback"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.Knobs.Sync = mode == "sync" })
			const n = 20
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					statuses[i], _, _ = b.debit(t, "pa_race", testAccount, testPID, "75000")
				})
			}
			close(start)
			wg.Wait()
			for i, s := range statuses {
				if s != http.StatusOK && s != http.StatusAccepted {
					t.Fatalf("request %d: status %d", i, s)
				}
			}
			testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.Executed("pa_race") > 0 }, "the debit settles")
			if got := b.bank.Executed("pa_race"); got != 1 {
				t.Fatalf("executed %d times", got)
			}
			if got := b.bank.Balance(testAccount); !got.Equal(decimal.NewFromInt(925000)) {
				t.Fatalf("balance %s", got)
			}
			if st := b.bank.Stats(); st.Received["debit"] != 1 || st.Replays != n-1 {
				t.Fatalf("received %v, replays %d", st.Received, st.Replays)
			}
		})
	}
}

func TestVerificationOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, account, pid     string
		wantStatus, wantReason string
	}{
		{"holder matches", testAccount, testPID, statusSucceeded, ""},
		{"holder differs", testAccount, poorPID, statusFailed, ReasonHolderMismatch},
		{"no such account", "0071000000000", testPID, statusFailed, ReasonAccountNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			body := `{"verification_id":"av_1","account_number":"` + tt.account + `","holder_pid":"` + tt.pid + `","holder_name":"Nguyen Van A"}`
			if status, _, out := b.do(t, http.MethodPost, "/v1/account-verifications", "av_1", body); status != http.StatusAccepted {
				t.Fatalf("async: %d %s", status, out)
			}
			testenv.Eventually(t, 5*time.Second, func() bool { return len(b.gw.received()) == 1 }, "the callback arrives")
			ev := b.gw.received()[0].event
			want := map[string]any{"verification_id": "av_1"}
			if tt.wantReason != "" {
				want["reason_code"] = tt.wantReason
			}
			if ev.Type != "account_verification."+tt.wantStatus || !equalData(ev.Data, want) {
				t.Fatalf("event %+v, want data %v", ev, want)
			}

			b.bank.SetKnobs(Knobs{Sync: true})
			body = strings.ReplaceAll(body, "av_1", "av_2")
			status, _, out := b.do(t, http.MethodPost, "/v1/account-verifications", "av_2", body)
			if status != http.StatusOK {
				t.Fatalf("sync: %d %s", status, out)
			}
			if a := decodeAnswer(t, out); a != (answer{ID: "av_2", Status: tt.wantStatus, ReasonCode: tt.wantReason}) {
				t.Fatalf("sync answer %+v", a)
			}
		})
	}
}

func equalData(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	refund := func(id, debitID, amount string) answer {
		t.Helper()
		body := `{"refund_id":"` + id + `","debit_id":"` + debitID + `","amount":"` + amount + `","currency":"VND"}`
		status, _, out := b.do(t, http.MethodPost, "/v1/refunds", id, body)
		if status != http.StatusOK {
			t.Fatalf("refund %s: %d %s", id, status, out)
		}
		return decodeAnswer(t, out)
	}
	b.debit(t, "pa_ok", testAccount, testPID, "75000")
	b.debit(t, "pa_failed", testAccount, poorPID, "75000")

	tests := []struct {
		id, debitID, amount    string
		wantStatus, wantReason string
		wantBalance            int64
	}{
		{"rf_1", "pa_ok", "50000", statusSucceeded, "", 975000},
		{"rf_2", "pa_ok", "25001", statusFailed, ReasonRefundExceedsDebit, 975000},
		{"rf_3", "pa_ok", "25000", statusSucceeded, "", 1000000},
		{"rf_4", "pa_ok", "1", statusFailed, ReasonRefundExceedsDebit, 1000000},
		{"rf_5", "pa_unknown", "1", statusFailed, ReasonDebitNotFound, 1000000},
		{"rf_6", "pa_failed", "1", statusFailed, ReasonDebitNotSucceeded, 1000000},
	}
	for _, tt := range tests {
		a := refund(tt.id, tt.debitID, tt.amount)
		if a.ID != tt.id || a.Status != tt.wantStatus || a.ReasonCode != tt.wantReason || a.Amount != tt.amount {
			t.Errorf("%s: %+v", tt.id, a)
		}
		if got := b.bank.Balance(testAccount); !got.Equal(decimal.NewFromInt(tt.wantBalance)) {
			t.Errorf("%s: balance %s, want %d", tt.id, got, tt.wantBalance)
		}
	}
	if status, _, out := b.do(t, http.MethodGet, "/v1/refunds/rf_3", "", ""); status != http.StatusOK || decodeAnswer(t, out).Status != statusSucceeded {
		t.Fatalf("refund status: %d %s", status, out)
	}
	if b.bank.Executed("rf_1") != 1 || b.bank.Executed("rf_2") != 0 {
		t.Fatalf("executed %v", b.bank.Stats().Executed)
	}
}

func TestStatusBeforeAndAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs.NeverCallBack = true; c.Knobs.CallbackDelay = 100 * time.Millisecond })
	if status, _, _ := b.do(t, http.MethodGet, "/v1/debits/pa_st", "", ""); status != http.StatusNotFound {
		t.Fatalf("before: %d", status)
	}
	if status, _, _ := b.debit(t, "pa_st", testAccount, testPID, "75000"); status != http.StatusAccepted {
		t.Fatalf("post: %d", status)
	}
	status, _, out := b.do(t, http.MethodGet, "/v1/debits/pa_st", "", "")
	if a := decodeAnswer(t, out); status != http.StatusOK || a != (answer{ID: "pa_st", Status: statusPending, Amount: "75000", Currency: "VND"}) {
		t.Fatalf("pending: %d %+v", status, a)
	}
	if got := b.bank.Balance(testAccount); !got.Equal(decimal.NewFromInt(1000000)) {
		t.Fatalf("balance moved while pending: %s", got)
	}
	var a answer
	testenv.Eventually(t, 5*time.Second, func() bool {
		_, _, out := b.do(t, http.MethodGet, "/v1/debits/pa_st", "", "")
		a = decodeAnswer(t, out)
		return a.Status != statusPending
	}, "the debit settles")
	if a.Status != statusSucceeded || a.BankReference == "" {
		t.Fatalf("after: %+v", a)
	}
	// A repeat of the POST now answers the outcome, executing nothing.
	status, h, out := b.debit(t, "pa_st", testAccount, testPID, "75000")
	if status != http.StatusOK || h.Get("Idempotent-Replayed") != "true" || decodeAnswer(t, out) != a {
		t.Fatalf("replay after settling: %d %s", status, out)
	}
	if len(b.gw.received()) != 0 {
		t.Fatalf("NeverCallBack called back: %v", b.gw.received())
	}
	if b.bank.Executed("pa_st") != 1 {
		t.Fatal("not executed once")
	}
	// Another kind's route does not find it.
	if status, _, _ := b.do(t, http.MethodGet, "/v1/refunds/pa_st", "", ""); status != http.StatusNotFound {
		t.Fatalf("refund route: %d", status)
	}
}
