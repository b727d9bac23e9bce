package checkout_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/checkout"
	"github.com/shopspring/decimal"
)

var accountRadioRE = regexp.MustCompile(`<input type="radio" name="account_id" value="(acc_[a-z0-9]+)" id="account-(acc_[a-z0-9]+)"`)

// payer is a signed-in citizen of a gateway whose workers run, with a
// sandbox bank that holds an account of theirs.
type payer struct {
	b       *bundle
	br      *browser
	who     person
	account banksim.Account
	bank    *apitest.Bank
	reqID   string
}

func newPayer(t *testing.T, loa int) *payer {
	t.Helper()
	b := setup(t, nil, apitest.WithEnv("GATEWAY_WORKERS", "true"))
	who := newPerson(t, loa)
	acc := banksim.Account{Number: "9704" + who.PID[3:12], HolderPID: who.PID, HolderName: who.Name, Balance: decimal.NewFromInt(10_000_000)}
	p := &payer{b: b, br: b.browser(t), who: who, account: acc, bank: b.h.NewBank("SBX", acc)}
	p.reqID = b.newRequest(t, who.PID, "HS-PAY")
	p.br.signedIn(p.reqID, who)
	return p
}

// link links the citizen's sandbox account from the page and waits until
// it is offered as a radio button; it returns the account's id.
func (p *payer) link(t *testing.T) string {
	t.Helper()
	pg := p.br.get("/pay/" + p.reqID)
	if !strings.Contains(pg.Body, `<option value="SBX">Sandbox bank SBX</option>`) {
		t.Fatalf("bank not offered: %s", pg.Body)
	}
	resp := p.br.post("/pay/"+p.reqID+"/accounts", url.Values{
		"csrf": {pg.field(t, "link-form", "csrf")}, "bank_code": {"SBX"},
		"account_number": {p.account.Number[:4] + " " + p.account.Number[4:]},
	})
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+p.reqID {
		t.Fatalf("link = %d %s: %s", resp.Status, resp.Header.Get("Location"), resp.Body)
	}
	pg = p.br.eventually(p.reqID, func(pg page) bool { return accountRadioRE.MatchString(pg.Body) }, "the account never became active")
	if pg.has("verifying") {
		t.Fatal("an active account is still shown as verifying")
	}
	return accountRadioRE.FindStringSubmatch(pg.Body)[1]
}

// TestPayFlow: sign in, link an account, pay it with a double click, follow
// the processing page to paid; one attempt only.
func TestPayFlow(t *testing.T) {
	t.Parallel()
	p := newPayer(t, 2)
	accID := p.link(t)
	if n := p.b.count(t, `SELECT count(*) FROM linked_accounts`); n != 1 {
		t.Fatalf("%d accounts, want 1", n)
	}

	pg := p.br.get("/pay/" + p.reqID)
	if !strings.Contains(pg.Body, `id="account-`+accID+`" checked`) || !strings.Contains(pg.Body, "******"+p.account.Number[9:]) {
		t.Fatalf("account not offered, masked and chosen: %s", pg.Body)
	}
	if strings.Contains(pg.Body, p.account.Number) {
		t.Fatal("the page shows the account number in clear")
	}
	form := url.Values{
		"csrf": {pg.field(t, "pay-form", "csrf")}, "attempt": {pg.field(t, "pay-form", "attempt")}, "account_id": {accID},
	}
	// A double click: the same form twice at once, then once more later.
	var wg sync.WaitGroup
	answers := make([]page, 2)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = p.br.post("/pay/"+p.reqID+"/pay", form)
		}()
	}
	wg.Wait()
	for _, a := range answers {
		if a.Status != http.StatusSeeOther || a.Header.Get("Location") != "/pay/"+p.reqID {
			t.Fatalf("pay = %d %s: %s", a.Status, a.Header.Get("Location"), a.Body)
		}
	}
	if again := p.br.post("/pay/"+p.reqID+"/pay", form); again.Status != http.StatusSeeOther {
		t.Fatalf("resubmitted pay = %d", again.Status)
	}
	if n := p.b.count(t, `SELECT count(*) FROM payment_attempts WHERE payment_request_id = $1`, p.reqID); n != 1 {
		t.Fatalf("%d attempts after a double click and a resubmit, want 1", n)
	}

	paid := p.br.eventually(p.reqID, func(pg page) bool { return pg.Shown() == "paid" }, "never paid")
	// Until the service issues receipts, the page says one is being prepared.
	want := "receipt-pending"
	if _, issued := any(p.b.h.App.Service).(checkout.Receipts); issued {
		want = "receipt-number"
	}
	if paid.Page() != "request" || paid.has("pay-form") || !paid.has(want) {
		t.Fatalf("paid page without #%s: %s", want, paid.Body)
	}
	if n := p.b.count(t, `SELECT count(*) FROM payment_attempts WHERE payment_request_id = $1`, p.reqID); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}

	st := p.br.get("/pay/" + p.reqID + "/status")
	var s struct {
		Status string `json:"status"`
		Poll   bool   `json:"poll"`
	}
	if err := json.Unmarshal([]byte(st.Body), &s); err != nil || st.Status != http.StatusOK || s.Status != "paid" || s.Poll {
		t.Fatalf("status = %d %s", st.Status, st.Body)
	}
	if st.Header.Get("Retry-After") != "" {
		t.Fatalf("a final status asks to be polled again: %s", st.Header.Get("Retry-After"))
	}
	// Another browser (not signed in) learns nothing from /status.
	if other := p.b.browser(t).get("/pay/" + p.reqID + "/status"); other.Status != http.StatusNotFound {
		t.Fatalf("status without a session = %d", other.Status)
	}
	p.br.noPersonalData(p.who)
	logs := p.b.h.Logs.String()
	for _, v := range []string{p.who.PID, p.who.Name, p.account.Number, p.who.PID[:3] + "******"} {
		if strings.Contains(logs, v) {
			t.Errorf("the logs hold %q", v)
		}
	}
	if !strings.Contains(logs, `"route":"/pay/:id/pay"`) {
		t.Fatal("the pay was not logged by its route")
	}
}

// TestPayNeedsCSRF: a pay or a link without the form's CSRF token is a 403
// page and changes nothing.
func TestPayNeedsCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	who := newPerson(t, 2)
	reqID := b.newRequest(t, who.PID, "HS-CSRF")
	br := b.browser(t)
	br.signedIn(reqID, who)
	pg := br.get("/pay/" + reqID)
	for _, post := range []struct{ path string }{{"/pay/" + reqID + "/pay"}, {"/pay/" + reqID + "/accounts"}} {
		for _, csrf := range []string{"", "x" + pg.field(t, "link-form", "csrf")} {
			form := url.Values{"bank_code": {"SBX"}, "account_number": {"9704000000001"}, "account_id": {"acc_x"}}
			if csrf != "" {
				form.Set("csrf", csrf)
			}
			resp := br.post(post.path, form)
			if resp.Status != http.StatusForbidden || resp.Page() != "error" || resp.ErrCode() != "csrf_invalid" {
				t.Fatalf("%s with csrf %q = %d %s", post.path, csrf, resp.Status, resp.ErrCode())
			}
		}
	}
	if n := b.count(t, `SELECT count(*) FROM linked_accounts`) + b.count(t, `SELECT count(*) FROM payment_attempts`) +
		b.count(t, `SELECT count(*) FROM citizens`) + b.count(t, `SELECT count(*) FROM idempotency_records WHERE scope LIKE 'citizen:%'`); n != 0 {
		t.Fatalf("%d rows after refused posts", n)
	}
}

// TestOtherCitizen: a citizen signed in for a fee addressed to someone else
// gets the 403 page, which says nothing more, and cannot pay it.
func TestOtherCitizen(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	owner, other := newPerson(t, 2), newPerson(t, 2)
	other.Name = "Lê Văn Cường"
	reqID := b.newRequest(t, owner.PID, "HS-OTHER")
	br := b.browser(t)
	br.signedIn(reqID, other)
	pg := br.get("/pay/" + reqID)
	if pg.Status != http.StatusForbidden || pg.Page() != "forbidden" || pg.Shown() != "" {
		t.Fatalf("other citizen = %d %s", pg.Status, pg.Page())
	}
	for _, bad := range []string{owner.PID, owner.PID[9:], "HS-OTHER", "75.000", "pay-form", "link-form"} {
		if strings.Contains(pg.Body, bad) {
			t.Errorf("the 403 page shows %q", bad)
		}
	}
	if !strings.Contains(pg.Body, "Khoản phí này dành cho người khác") {
		t.Fatal("the 403 page does not say why")
	}
	resp := br.post("/pay/"+reqID+"/accounts", url.Values{
		"csrf": {pg.field(t, "signout-form", "csrf")}, "bank_code": {"SBX"}, "account_number": {"9704000000001"},
	})
	if resp.Status != http.StatusForbidden || resp.Page() != "forbidden" {
		t.Fatalf("other citizen's link = %d %s", resp.Status, resp.Page())
	}
	if st := br.get("/pay/" + reqID + "/status"); st.Status != http.StatusNotFound {
		t.Fatalf("other citizen's status = %d", st.Status)
	}
	if n := b.count(t, `SELECT count(*) FROM linked_accounts`); n != 0 {
		t.Fatalf("%d accounts", n)
	}
}

// TestLOA1: a citizen at loa 1 is told that paying needs level 2, and a
// post is refused.
func TestLOA1(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	who := newPerson(t, 1)
	reqID := b.newRequest(t, who.PID, "HS-LOA")
	br := b.browser(t)
	br.signedIn(reqID, who)
	pg := br.get("/pay/" + reqID)
	if pg.Status != http.StatusForbidden || pg.Page() != "loa" || pg.Shown() != "pending" || pg.has("pay-form") {
		t.Fatalf("loa 1 = %d %s %s", pg.Status, pg.Page(), pg.Shown())
	}
	if !strings.Contains(pg.Body, "mức độ 2") {
		t.Fatal("the page does not name level 2")
	}
	resp := br.post("/pay/"+reqID+"/accounts", url.Values{
		"csrf": {pg.field(t, "signout-form", "csrf")}, "bank_code": {"SBX"}, "account_number": {"9704000000001"},
	})
	if resp.Status != http.StatusForbidden || resp.Page() != "loa" {
		t.Fatalf("loa 1 link = %d %s", resp.Status, resp.Page())
	}
	if n := b.count(t, `SELECT count(*) FROM linked_accounts`) + b.count(t, `SELECT count(*) FROM citizens`); n != 0 {
		t.Fatalf("%d rows after a loa 1 post", n)
	}
}

// TestCheckoutOff: without the client settings every route answers the 503
// page, and start-up says which setting is missing.
func TestCheckoutOff(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	b := &bundle{h: h, issuer: ""}
	br := b.browser(t)
	for _, path := range []string{"/pay/pr_x", "/auth/callback?state=x", "/pay/pr_x/status"} {
		pg := br.do(http.MethodGet, path, nil)
		if pg.Status != http.StatusServiceUnavailable || pg.Page() != "unavailable" || pg.Header.Get("Retry-After") == "" {
			t.Fatalf("%s = %d %s", path, pg.Status, pg.Page())
		}
	}
	if pg := br.post("/pay/pr_x/pay", url.Values{}); pg.Status != http.StatusServiceUnavailable {
		t.Fatalf("pay = %d", pg.Status)
	}
	logs := h.Logs.String()
	if strings.Count(logs, "the hosted checkout is off") != 1 || !strings.Contains(logs, "IDP_ISSUER is not set") {
		t.Fatalf("start-up log: %s", logs)
	}
}
