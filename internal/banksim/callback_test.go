package banksim

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/testenv"
)

func TestCallbackAfterAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	status, _, out := b.debit(t, "pa_cb", testAccount, testPID, "75000")
	if status != http.StatusAccepted || strings.TrimSpace(string(out)) != `{"status":"pending"}` {
		t.Fatalf("got %d %s", status, out)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return len(b.gw.received()) == 1 }, "the callback arrives")
	got := b.gw.received()[0]
	if got.sigErr != nil || got.idemKey != "" {
		t.Fatalf("signature %v, idempotency key %q", got.sigErr, got.idemKey)
	}
	ev := got.event
	if !strings.HasPrefix(ev.EventID, "evt_") || ev.Type != "debit.succeeded" || ev.OccurredAt.IsZero() || ev.OccurredAt.Location() != time.UTC {
		t.Fatalf("event %+v", ev)
	}
	ref, _ := ev.Data["bank_reference"].(string)
	if ev.Data["debit_id"] != "pa_cb" || ev.Data["amount"] != "75000" || ev.Data["currency"] != "VND" || !strings.HasPrefix(ref, "FT") || len(ev.Data) != 4 {
		t.Fatalf("data %v", ev.Data)
	}
	for _, personal := range []string{testPID, testAccount, "123456", "NGUY"} {
		if strings.Contains(string(got.body), personal) {
			t.Fatalf("callback carries %q: %s", personal, got.body)
		}
	}
	// The status GET agrees with the callback.
	_, _, out = b.do(t, http.MethodGet, "/v1/debits/pa_cb", "", "")
	if a := decodeAnswer(t, out); a.Status != statusSucceeded || a.BankReference != ref {
		t.Fatalf("status %+v, callback reference %s", a, ref)
	}
}

func TestSendCallbackAndSignedCallbackRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	data := map[string]any{"debit_id": "pa_forged", "amount": "1", "currency": "VND", "bank_reference": "FT1"}
	status, body, err := b.bank.SendCallback(context.Background(), "evt_forged", "debit.succeeded", data)
	if err != nil || status != http.StatusOK || string(body) != `{"result":"applied"}` {
		t.Fatalf("SendCallback: %d %s %v", status, body, err)
	}
	got := b.gw.received()
	if len(got) != 1 || got[0].sigErr != nil || got[0].event.EventID != "evt_forged" || got[0].event.Type != "debit.succeeded" || !equalData(got[0].event.Data, data) {
		t.Fatalf("received %+v", got)
	}
	// A request signed with another secret is refused by the receiver.
	req, err := SignedCallbackRequest(context.Background(), b.gw.srv.URL+"/v1/bank-callbacks/SBX", "bsk_wrong", got[0].body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := send(t, req); status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", status)
	}
	if b.bank.Stats().CallbacksSent != 0 {
		t.Fatal("forged callbacks counted as the bank's own")
	}

	noURL, err := New(Config{BankCode: "SBX", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer noURL.Close()
	if _, _, err := noURL.SendCallback(context.Background(), "evt_x", "debit.succeeded", data); err != ErrNoCallbackURL {
		t.Fatalf("without a callback URL: %v", err)
	}
}

func TestCallbackRetriedUntil2xx(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.gw.answerFunc = func(r received) int {
		if r.attempts < 3 {
			return []int{http.StatusServiceUnavailable, http.StatusUnauthorized}[r.attempts-1]
		}
		return http.StatusOK
	}
	if status, _, _ := b.debit(t, "pa_retry", testAccount, testPID, "75000"); status != http.StatusAccepted {
		t.Fatalf("status %d", status)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.Stats().CallbacksDelivered == 1 }, "the callback is delivered")
	got := b.gw.received()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3", len(got))
	}
	for _, r := range got {
		if r.sigErr != nil || r.event.EventID != got[0].event.EventID || string(r.body) != string(got[0].body) {
			t.Fatalf("attempt %d: %v, event %s, first %s", r.attempts, r.sigErr, r.event.EventID, got[0].event.EventID)
		}
	}
	st := b.bank.Stats()
	if st.CallbacksSent != 3 || st.CallbackStatuses["503"] != 1 || st.CallbackStatuses["401"] != 1 || st.CallbackStatuses["200"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCallbackFinal4xxStopsRetries(t *testing.T) {
	t.Parallel()
	for _, final := range []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(final), func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			b.gw.answerFunc = func(received) int { return final }
			b.debit(t, "pa_final", testAccount, testPID, "75000")
			testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.Stats().CallbacksAbandoned == 1 }, "the delivery is abandoned")
			// Once the delivery has ended, no retry can come.
			testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.running.Load() == 0 }, "the abandoned delivery never ended")
			if n := len(b.gw.received()); n != 1 {
				t.Fatalf("%d attempts after a final %d", n, final)
			}
		})
	}
}

func TestCallbackGivesUpAfterAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Retry.Attempts = 4 })
	b.gw.answerFunc = func(received) int { return http.StatusInternalServerError }
	b.debit(t, "pa_down", testAccount, testPID, "75000")
	testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.Stats().CallbacksAbandoned == 1 }, "the delivery is given up")
	if n := len(b.gw.received()); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
}

func TestCloseStopsRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Retry.Attempts = 1000 })
	b.gw.answerFunc = func(received) int { return http.StatusInternalServerError }
	b.debit(t, "pa_close", testAccount, testPID, "75000")
	testenv.Eventually(t, 5*time.Second, func() bool { return len(b.gw.received()) >= 2 }, "a retry happens")
	b.bank.Close()
	n := len(b.gw.received())
	// Close waited for the deliveries to end: none is left to send again.
	if r := b.bank.running.Load(); r != 0 {
		t.Fatalf("%d deliveries still running after Close", r)
	}
	if got := len(b.gw.received()); got != n {
		t.Fatalf("%d attempts after Close, %d before", got, n)
	}
	b.bank.Close() // twice is fine
}

func TestDuplicateCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs.DuplicateCallbacks = 5 })
	b.debit(t, "pa_dup", testAccount, testPID, "75000")
	testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.Stats().CallbacksDelivered == 5 }, "five deliveries")
	got := b.gw.received()
	if len(got) != 5 {
		t.Fatalf("%d callbacks", len(got))
	}
	for _, r := range got {
		if r.sigErr != nil || r.event.EventID != got[0].event.EventID {
			t.Fatalf("callback %+v", r)
		}
	}
	if b.bank.Executed("pa_dup") != 1 {
		t.Fatal("executed more than once")
	}
}

func TestAlsoCallBackAfterSync(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs = Knobs{Sync: true, AlsoCallBackAfterSync: true} })
	status, _, out := b.debit(t, "pa_both", testAccount, testPID, "75000")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	a := decodeAnswer(t, out)
	testenv.Eventually(t, 5*time.Second, func() bool { return len(b.gw.received()) == 1 }, "the callback arrives")
	ev := b.gw.received()[0].event
	if ev.Type != "debit.succeeded" || ev.Data["bank_reference"] != a.BankReference {
		t.Fatalf("event %+v, answer %+v", ev, a)
	}
}

func TestOutOfOrderDeliversEveryCallback(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs.OutOfOrder = true })
	ids := []string{"pa_o1", "pa_o2", "pa_o3", "pa_o4", "pa_o5"}
	for _, id := range ids {
		b.debit(t, id, testAccount, testPID, "1000")
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return len(b.gw.received()) == len(ids) }, "every callback arrives")
	seen := map[string]bool{}
	for _, r := range b.gw.received() {
		seen[r.event.Data["debit_id"].(string)] = true
	}
	if len(seen) != len(ids) {
		t.Fatalf("seen %v", seen)
	}
}

func TestDropCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Knobs.DropCallbacks = 2 })
	ids := []string{"pa_d1", "pa_d2", "pa_d3", "pa_d4"}
	for _, id := range ids {
		if status, _, out := b.debit(t, id, testAccount, testPID, "1000"); status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", id, status, out)
		}
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return b.bank.running.Load() == 0 }, "nothing more in flight")
	got := b.gw.received()
	if len(got) != 2 || got[0].event.Data["debit_id"] == got[1].event.Data["debit_id"] {
		t.Fatalf("received %d callbacks: %+v", len(got), got)
	}
	for _, r := range got {
		if id := r.event.Data["debit_id"]; id != "pa_d3" && id != "pa_d4" {
			t.Fatalf("callback for %v, one of the first two", id)
		}
	}
	// The status GET tells the truth of every one, dropped or not.
	for _, id := range ids {
		_, _, out := b.do(t, http.MethodGet, "/v1/debits/"+id, "", "")
		if a := decodeAnswer(t, out); a.Status != statusSucceeded || a.BankReference == "" {
			t.Fatalf("%s: %+v", id, a)
		}
	}
	if st, k := b.bank.Stats(), b.bank.Knobs(); st.CallbacksDropped != 2 || k.DropCallbacks != 0 {
		t.Fatalf("dropped %d, left %d", st.CallbacksDropped, k.DropCallbacks)
	}

	// Set again through the admin route: the next one is dropped, the rest not.
	resp, err := http.Post(b.srv.URL+"/_sim/knobs", "application/json", strings.NewReader(`{"drop_callbacks":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b.debit(t, "pa_d5", testAccount, testPID, "1000")
	b.debit(t, "pa_d6", testAccount, testPID, "1000")
	testenv.Eventually(t, 5*time.Second, func() bool { return len(b.gw.received()) == 3 && b.bank.running.Load() == 0 }, "pa_d6 called back")
	if id := b.gw.received()[2].event.Data["debit_id"]; id != "pa_d6" {
		t.Fatalf("callback for %v", id)
	}
}
