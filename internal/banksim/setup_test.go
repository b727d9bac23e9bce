package banksim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/signature"
)

const (
	testSecret  = "bsk_test_banksim"
	testAccount = "0071000123456"
	testPID     = "079090001234"
	poorAccount = "0071000999999"
	poorPID     = "001190005678"
)

// received is one callback the fake gateway got.
type received struct {
	event    Event
	body     []byte
	sigErr   error  // what signature.Verify said
	idemKey  string // the Idempotency-Key header, which a callback must not carry
	attempts int    // how many times this event_id had arrived, this one included
}

// fakeGateway receives callbacks like the gateway does, checking their
// signature with the bank secret.
type fakeGateway struct {
	srv *httptest.Server
	// answerFunc decides the status of each callback; nil answers 200.
	answerFunc func(r received) int

	mu  sync.Mutex
	got []received
}

func newFakeGateway(t *testing.T) *fakeGateway {
	t.Helper()
	g := &fakeGateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{
			body:    body,
			sigErr:  signature.Verify(r.Header.Get(signature.HeaderSignature), []string{testSecret}, signature.FromRequest(r, body), time.Now()),
			idemKey: r.Header.Get(signature.HeaderIdempotencyKey),
		}
		_ = json.Unmarshal(body, &rec.event)
		g.mu.Lock()
		for _, p := range g.got {
			if p.event.EventID == rec.event.EventID {
				rec.attempts++
			}
		}
		rec.attempts++
		g.got = append(g.got, rec)
		answer := g.answerFunc
		g.mu.Unlock()
		status := http.StatusOK
		switch {
		case rec.sigErr != nil:
			status = http.StatusUnauthorized
		case answer != nil:
			status = answer(rec)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"result":"applied"}`)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) received() []received {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]received(nil), g.got...)
}

// bundle is one sandbox bank served over httptest with a fake gateway
// receiving its callbacks.
type bundle struct {
	bank *Server
	srv  *httptest.Server
	gw   *fakeGateway
	base string
}

// setup starts a bank with two accounts; edit may change the config first.
func setup(t *testing.T, edit func(*Config)) *bundle {
	t.Helper()
	gw := newFakeGateway(t)
	cfg := Config{
		BankCode:    "SBX",
		Secret:      testSecret,
		CallbackURL: gw.srv.URL + "/v1/bank-callbacks/SBX",
		Accounts: []Account{
			{Number: "0071 000-123.456", HolderPID: testPID, HolderName: "NGUYỄN VĂN A", Balance: decimal.RequireFromString("1000000")},
			{Number: poorAccount, HolderPID: poorPID, HolderName: "TRẦN THỊ B", Balance: decimal.RequireFromString("1000")},
		},
		Retry: CallbackRetry{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond, Attempts: 10},
	}
	if edit != nil {
		edit(&cfg)
	}
	bank, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bank.Handler())
	t.Cleanup(func() {
		srv.Close()
		bank.Close()
	})
	return &bundle{bank: bank, srv: srv, gw: gw, base: bank.cfg.BasePath}
}

// do sends a request signed with the bank secret; a POST carries the key.
func (b *bundle) do(t *testing.T, method, target, key, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(signature.HeaderIdempotencyKey, key)
	}
	signature.SignRequest(req, testSecret, []byte(body), time.Now())
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

func debitBody(id, account, pid, amount string) string {
	return `{"debit_id":"` + id + `","account_number":"` + account + `","holder_pid":"` + pid +
		`","amount":"` + amount + `","currency":"VND","description":"Lệ phí hộ tịch","description_ascii":"Le phi ho tich","reference":"HS-0001"}`
}

func (b *bundle) debit(t *testing.T, id, account, pid, amount string) (int, http.Header, []byte) {
	t.Helper()
	return b.do(t, http.MethodPost, b.base+"/v1/debits", id, debitBody(id, account, pid, amount))
}

func decodeAnswer(t *testing.T, body []byte) answer {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	var a answer
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return a
}

func problemCode(t *testing.T, body []byte) string {
	t.Helper()
	var p problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem %s: %v", body, err)
	}
	return p.Code
}

func syncKnobs(c *Config) { c.Knobs.Sync = true }
