package checkout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/checkout"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/httpapi"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/testenv"
)

// payWith posts the page's pay form with account accID; it returns the
// attempt token the form carried.
func (p *payer) payWith(t *testing.T, accID string) string {
	t.Helper()
	pg := p.br.get("/pay/" + p.reqID)
	attempt := pg.field(t, "pay-form", "attempt")
	resp := p.br.post("/pay/"+p.reqID+"/pay", url.Values{
		"csrf": {pg.field(t, "pay-form", "csrf")}, "attempt": {attempt}, "account_id": {accID},
	})
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("pay = %d %s", resp.Status, resp.Body)
	}
	return attempt
}

// TestFailedDebit: the bank refuses the debit; the page says why in plain
// words, offers the accounts again with a new attempt token, and the next
// pay goes through.
func TestFailedDebit(t *testing.T) {
	t.Parallel()
	p := newPayer(t, 2)
	accID := p.link(t)
	p.bank.Sim.SetKnobs(banksim.Knobs{Reject: banksim.ReasonInsufficientFunds, Sync: true})
	first := p.payWith(t, accID)
	failed := p.br.eventually(p.reqID, func(pg page) bool { return pg.Shown() == "failed" }, "the debit never failed")
	if !failed.has("failure") || !strings.Contains(failed.Body, "Tài khoản không đủ số dư.") || !failed.has("pay-form") {
		t.Fatalf("failed page: %s", failed.Body)
	}
	if again := failed.field(t, "pay-form", "attempt"); again == first || again == "" {
		t.Fatal("no new attempt token after a failed debit")
	}
	en := p.br.get("/pay/" + p.reqID + "?lang=en")
	if !strings.Contains(en.Body, "The account does not have enough funds.") {
		t.Fatalf("English reason missing: %s", en.Body)
	}

	p.bank.Sim.SetKnobs(banksim.Knobs{Sync: true})
	p.payWith(t, accID)
	p.br.eventually(p.reqID, func(pg page) bool { return pg.Shown() == "paid" }, "never paid")
	if n := p.b.count(t, `SELECT count(*) FROM payment_attempts WHERE payment_request_id = $1`, p.reqID); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

// TestLinkRejected: an account the bank does not confirm is shown rejected,
// with the reason, and is not offered to pay from.
func TestLinkRejected(t *testing.T) {
	t.Parallel()
	p := newPayer(t, 2)
	pg := p.br.get("/pay/" + p.reqID)
	resp := p.br.post("/pay/"+p.reqID+"/accounts", url.Values{
		"csrf": {pg.field(t, "link-form", "csrf")}, "bank_code": {"SBX"}, "account_number": {"1234567890123"},
	})
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("link = %d", resp.Status)
	}
	rejected := p.br.eventually(p.reqID, func(pg page) bool { return pg.has("link-rejected") }, "never rejected")
	if accountRadioRE.MatchString(rejected.Body) || rejected.has("verifying") ||
		!strings.Contains(rejected.Body, "Ngân hàng không xác nhận tài khoản này đứng tên bạn.") {
		t.Fatalf("rejected page: %s", rejected.Body)
	}
	bad := p.br.post("/pay/"+p.reqID+"/accounts", url.Values{
		"csrf": {pg.field(t, "link-form", "csrf")}, "bank_code": {"SBX"}, "account_number": {"12ab"},
	})
	if bad.Status != http.StatusSeeOther {
		t.Fatalf("bad number = %d", bad.Status)
	}
	if shown := p.br.get("/pay/" + p.reqID); !strings.Contains(shown.Body, "Số tài khoản gồm 6 đến 19 chữ số.") {
		t.Fatalf("no notice for a bad number: %s", shown.Body)
	}
}

// TestProcessingThenUnknown: while the debit is out the page says so and
// updates itself; past the wait it says the outcome is unknown and the
// citizen may close the page.
func TestProcessingThenUnknown(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	b := setup(t, clock, apitest.WithEnv("GATEWAY_WORKERS", "true"))
	who := newPerson(t, 2)
	acc := apitest.AccountOf(t, &apitest.Citizen{PID: who.PID, Name: who.Name})
	p := &payer{b: b, br: b.browser(t), who: who, account: acc, bank: b.h.NewBank("SBX", acc)}
	p.reqID = b.newRequest(t, who.PID, "HS-WAIT")
	p.br.signedIn(p.reqID, who)
	accID := p.link(t)
	p.bank.Sim.SetKnobs(banksim.Knobs{CallbackDelay: time.Hour})
	p.payWith(t, accID)

	pg := p.br.get("/pay/" + p.reqID)
	if pg.Shown() != "processing" || !strings.Contains(pg.Body, `<noscript><meta http-equiv="refresh" content="3"></noscript>`) ||
		!strings.Contains(pg.Body, `data-poll="/pay/`+p.reqID+`/status"`) || pg.has("pay-form") {
		t.Fatalf("processing page: %s", pg.Body)
	}
	st := p.br.get("/pay/" + p.reqID + "/status")
	var s struct {
		Status string `json:"status"`
		Poll   bool   `json:"poll"`
	}
	if err := json.Unmarshal([]byte(st.Body), &s); err != nil || s.Status != "processing" || !s.Poll || st.Header.Get("Retry-After") != "2" {
		t.Fatalf("status = %s %s", st.Header.Get("Retry-After"), st.Body)
	}

	clock.Advance(2 * time.Minute)
	pg = p.br.get("/pay/" + p.reqID)
	if pg.Shown() != "unknown" || !strings.Contains(pg.Body, "Bạn có thể đóng trang này.") {
		t.Fatalf("unknown page: %s", pg.Body)
	}
}

// fakeReceipts issues a receipt for a paid request as the receipts' service
// will, from the request itself.
type fakeReceipts struct {
	svc   *service.Service
	payer string
}

func (f fakeReceipts) Receipt(ctx context.Context, reqID string) (receipt.Receipt, string, error) {
	r, _, err := f.svc.CheckoutRequest(ctx, reqID)
	if err != nil {
		return receipt.Receipt{}, "", err
	}
	if r.Status != payment.StatusPaid {
		return receipt.Receipt{}, "", fault.New(fault.NotFound, "no receipt")
	}
	rc, err := receipt.New(r, receipt.Issue{
		ID: receipt.NewID(), Seq: 7, PortalName: "Test portal", PayerName: f.payer, IssuedAt: r.Payment.PaidAt,
		PublicURL: publicURL, CodeKey: bytes.Repeat([]byte{1}, 32),
	})
	return rc, "jws", err
}

// TestPaidReceipt: a second gateway process on the same database and Redis
// serves the same session, and with receipts shows the receipt, its PDF
// and its QR code to the payer only.
func TestPaidReceipt(t *testing.T) {
	t.Parallel()
	p := newPayer(t, 2)
	accID := p.link(t)
	p.payWith(t, accID)
	p.br.eventually(p.reqID, func(pg page) bool { return pg.Shown() == "paid" }, "never paid")

	a := p.b.h.App
	pages, err := checkout.New(checkout.Deps{
		Redis: a.Redis, RedisPrefix: p.b.h.RedisPrefix, Keys: a.Keys,
		Config: checkout.Config{
			Issuer: p.b.issuer, ClientID: clientID, ClientSecret: clientSecret,
			RedirectURL: publicURL + "/auth/callback", Development: true,
		},
		Service: a.Service, Citizens: a.Citizens, Banks: a.Banks, Portals: a.Portals,
		Guard:  &idempotency.Guard{Records: a.DB, Fast: a.Store.Idempotency(), TTL: time.Hour, LockTTL: time.Minute},
		Stored: httpapi.DecidedOnState, BankOpen: a.BankClients.Open,
		Receipts: fakeReceipts{svc: a.Service, payer: p.who.Name},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	pages.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	p.br.base = srv.URL

	pg := p.br.get("/pay/" + p.reqID)
	for _, want := range []string{`<dd id="receipt-number">` + time.Now().In(receipt.Location()).Format("2006") + `/000007</dd>`,
		`<a id="receipt-pdf" class="button" href="/pay/` + p.reqID + `/receipt.pdf">`, `<img id="receipt-qr" src="/pay/` + p.reqID + `/receipt-qr.png"`,
		"Bảy mươi lăm nghìn đồng", p.who.Name} {
		if !strings.Contains(pg.Body, want) {
			t.Errorf("paid page lacks %q", want)
		}
	}
	if pg.has("receipt-pending") || !pg.has("receipt") {
		t.Fatalf("paid page: %s", pg.Body)
	}
	pdf := p.br.get("/pay/" + p.reqID + "/receipt.pdf")
	if pdf.Status != http.StatusOK || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Fatalf("pdf = %d %s", pdf.Status, pdf.Header.Get("Content-Type"))
	}
	qr := p.br.get("/pay/" + p.reqID + "/receipt-qr.png")
	if qr.Status != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.Body, "\x89PNG") {
		t.Fatalf("qr = %d %s", qr.Status, qr.Header.Get("Content-Type"))
	}
	stranger := p.b.browser(t)
	stranger.base = srv.URL
	for _, path := range []string{"/receipt.pdf", "/receipt-qr.png"} {
		if got := stranger.get("/pay/" + p.reqID + path); got.Status != http.StatusNotFound {
			t.Fatalf("%s without the payer's session = %d", path, got.Status)
		}
	}
}
