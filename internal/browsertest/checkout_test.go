package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestSomeoneElseGetsForbidden: a citizen to whom the fee is not addressed
// signs in and gets the 403 page, which shows none of the fee or its
// citizen, and still offers the way back to the portal.
func TestSomeoneElseGetsForbidden(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, Named("forbidden"))
	f := s.NewFee()
	b.Go(f.CheckoutURL)
	b.WaitPage("request", "pending", pageTimeout)
	b.Shot("summary")
	signIn(t, s, b, CitizenOther)
	b.WaitPage("forbidden", "", pageTimeout)
	b.Shot("forbidden")

	if status, _, _ := b.Fetch(f.CheckoutURL); status != http.StatusForbidden {
		t.Errorf("GET %s as the other citizen: %d, want 403", f.CheckoutURL, status)
	}
	page := b.Text("main#main")
	for _, secret := range []string{s.Payer.Name, s.Payer.PID, pii.MaskPID(s.Payer.PID), f.DossierCode, "trích lục khai sinh"} {
		if strings.Contains(page, secret) {
			t.Errorf("the 403 page shows %q: %q", secret, page)
		}
	}
	if b.Present("form#pay-form") || b.Present("form#link-form") {
		t.Error("the 403 page offers to pay or link")
	}
	assertReturn(t, s, b, f, "pending")
	if n := s.Debits(); n != 0 {
		t.Errorf("the sandbox bank received %d debits", n)
	}
	assertNoCSPViolations(t, b)
}

// TestFailedDebitThenAnotherAccount: an account the bank will not confirm
// as the citizen's is rejected on the page; the bank refuses the debit; the
// page says why in plain words and offers the accounts again; the citizen
// chooses the other account and the fee is paid from it.
func TestFailedDebitThenAnotherAccount(t *testing.T) {
	t.Parallel()
	s := New(t)
	first := s.LinkActive(s.Payer, s.PayerAccounts[0])
	second := s.LinkActive(s.Payer, s.PayerAccounts[1])
	s.Bank.Sim.SetKnobs(banksim.Knobs{Reject: "INSUFFICIENT_FUNDS"})
	b := NewBrowser(t, Named("failed"))
	f := s.NewFee()
	b.Go(f.CheckoutURL)
	b.WaitPage("request", "pending", pageTimeout)
	b.Shot("summary")
	signIn(t, s, b, CitizenPayer)
	b.WaitVisible("#account-" + first)
	b.Shot("accounts")
	b.WaitVisible("#account-" + second)
	if b.Eval(`document.getElementById('account-`+first+`').checked`) != "true" {
		t.Error("the default account (the first linked) is not chosen")
	}

	// Someone else's account number: the bank does not confirm it.
	b.Do("fill the link form with someone else's account",
		chromedp.SetValue(chromedp.CSS("select#bank_code"), BankCode),
		chromedp.SendKeys(chromedp.CSS("input#account_number"), s.OtherAccount.Number),
	)
	b.Click("button#link")
	b.WaitVisible("#link-rejected")
	b.Shot("link-rejected")
	if got := b.Text("#link-rejected"); got == "" || strings.Contains(got, "HOLDER") {
		t.Errorf("the rejection reads %q: want the reason in plain words", got)
	}
	if n := b.Eval(`document.querySelectorAll('input[type=radio][name=account_id]').length`); n != "2" {
		t.Errorf("after the rejection the page offers %s accounts, want the 2 confirmed", n)
	}
	b.Click("button#pay")
	b.WaitVisible("#failure")
	b.Shot("failed")
	reason := b.Text("#failure")
	if !strings.Contains(reason, "số dư") || strings.Contains(reason, "INSUFFICIENT_FUNDS") {
		t.Errorf("the failure reads %q: want the bank's reason in plain words (số dư), not its code", reason)
	}
	if !b.Present("form#pay-form") || !b.Present("#account-"+second) {
		t.Fatal("after the failure the page does not offer the accounts and the pay form again")
	}
	if got := s.Status(f); got != "pending" {
		t.Errorf("after the failed debit the API says %s, want pending", got)
	}

	s.Bank.Sim.SetKnobs(banksim.Knobs{})
	b.Click(`label[for="account-` + second + `"]`)
	b.Click("button#pay")
	b.WaitPage("request", "paid", bankTimeout)
	b.WaitVisible("#receipt")
	b.Shot("paid")
	if n := s.Debits(); n != 2 {
		t.Errorf("the sandbox bank received %d debits, want 2 (the refused one and the paid one)", n)
	}
	var paidFrom string
	err := s.H.DB.Pool.QueryRow(context.Background(),
		`SELECT account_id FROM payment_attempts WHERE payment_request_id = $1 AND status = 'succeeded'`, f.ID).Scan(&paidFrom)
	if err != nil || paidFrom != second {
		t.Errorf("paid from %q (%v), want the second account %s", paidFrom, err, second)
	}
	assertNoCSPViolations(t, b)
}

// TestDoubleSubmitDebitsOnce: two fast clicks on the pay button, then the
// same form sent again as a stale tab would, start one attempt and one
// debit at the bank, with the page's scripts (which may guard the button)
// and without them (where nothing in the page stops the second click).
func TestDoubleSubmitDebitsOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []BrowserOption
	}{
		{"with JavaScript", []BrowserOption{Named("double")}},
		{"without JavaScript", []BrowserOption{Named("double-nojs"), WithoutJavaScript()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doubleSubmit(t, tc.opts...)
		})
	}
}

func doubleSubmit(t *testing.T, opts ...BrowserOption) {
	s := New(t)
	s.LinkActive(s.Payer, s.PayerAccounts[0])
	s.Bank.Sim.SetKnobs(banksim.Knobs{CallbackDelay: callbackDelay})
	b := NewBrowser(t, opts...)
	f := s.NewFee()
	b.Go(f.CheckoutURL)
	b.WaitPage("request", "pending", pageTimeout)
	b.Shot("summary")
	signIn(t, s, b, CitizenPayer)
	b.WaitVisible("form#pay-form")
	b.Shot("accounts")

	// The form as it is now, every field and where it goes.
	raw := b.Eval(`(() => { const f = document.getElementById('pay-form');
		return {action: f.action, fields: Array.from(new FormData(f).entries())} })()`)
	var kept struct {
		Action string      `json:"action"`
		Fields [][2]string `json:"fields"`
	}
	if err := json.Unmarshal([]byte(raw), &kept); err != nil {
		t.Fatalf("read the pay form %s: %v", raw, err)
	}

	// Two submissions at once, racing at the gateway, as two fast clicks of
	// two tabs would arrive.
	race := `Promise.all([0, 1].map(() => fetch(` + jsString(kept.Action) + `, {method: "POST", credentials: "same-origin",
		redirect: "manual", body: new URLSearchParams(` + string(mustJSON(t, kept.Fields)) + `)}).then(r => r.type + " " + r.status)))`
	raced := b.EvalPromise(race)
	t.Logf("two submissions at once: %s", raced)
	// Then a person's double click on the page they still see.
	b.Do("click pay twice", chromedp.DoubleClick(chromedp.CSS("button#pay")))
	b.WaitPage("request", "paid", bankTimeout)

	var js strings.Builder
	js.WriteString(`(() => { const f = document.createElement('form'); f.method = 'post'; f.action = ` + jsString(kept.Action) + `;`)
	for _, kv := range kept.Fields {
		fmt.Fprintf(&js, `{ const i = document.createElement('input'); i.type = 'hidden'; i.name = %s; i.value = %s; f.appendChild(i); }`,
			jsString(kv[0]), jsString(kv[1]))
	}
	js.WriteString(`document.body.appendChild(f); f.submit(); return true })()`)
	b.Replaced("send the pay form again", func() { b.Eval(js.String()) })
	b.WaitPage("request", "paid", pageTimeout)
	b.Shot("paid-after-resubmit")

	if n := s.Requests(http.MethodPost, "/pay"); n < 4 {
		t.Errorf("the gateway got %d POSTs of the pay form: the test did not submit it twice", n)
	} else {
		t.Logf("the gateway got %d POSTs of the pay form", n)
	}
	if n := s.Debits(); n != 1 {
		t.Errorf("the sandbox bank received %d debits, want 1", n)
	}
	if n := s.H.Count(`SELECT count(*) FROM payment_attempts WHERE payment_request_id = $1`, f.ID); n != 1 {
		t.Errorf("%d payment attempts, want 1", n)
	}
	for id, n := range s.Bank.Sim.Stats().Executed {
		if n != 1 {
			t.Errorf("debit %s moved money %d times", id, n)
		}
	}
	assertNoCSPViolations(t, b)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFinalStates: a fee past its expiry (the gateway's clock moved past
// it, not waited for) and a fee the portal canceled show their state, with
// the way back and nothing to pay.
func TestFinalStates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status string
		end    func(s *Stack, f Fee)
		opts   func(s *Stack) []FeeOption
	}{
		{"expired", func(s *Stack, f Fee) { s.Clock.Advance(2 * time.Hour) },
			func(s *Stack) []FeeOption { return []FeeOption{ExpiresAt(s.H.Now().Add(time.Hour))} }},
		{"canceled", func(s *Stack, f Fee) {
			if res := s.H.Post("/v1/payment-requests/"+f.ID+"/cancel", "cancel-"+f.ID, nil); res.Status != http.StatusOK {
				s.T.Fatalf("cancel: %d %s", res.Status, res.Body)
			}
		}, func(*Stack) []FeeOption { return nil }},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			s := New(t)
			f := s.NewFee(tc.opts(s)...)
			tc.end(s, f)
			testenv.Eventually(t, bankTimeout, func() bool { return s.Status(f) == tc.status }, "the fee is not "+tc.status)
			b := NewBrowser(t, Named(tc.status))
			b.Go(f.CheckoutURL)
			b.WaitPage("request", tc.status, pageTimeout)
			b.Shot(tc.status)
			if b.Present("form#pay-form") || b.Present("form#signin-form") {
				t.Errorf("a %s fee offers to sign in or pay", tc.status)
			}
			assertReturn(t, s, b, f, tc.status)
			assertNoCSPViolations(t, b)
		})
	}
}

// TestEnglish: ?lang=en turns the pages English, <html lang="en"> included,
// and the choice holds for the session, through the sign-in.
func TestEnglish(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, Named("english"))
	f := s.NewFee()
	b.Go(f.CheckoutURL)
	b.WaitPage("request", "pending", pageTimeout)
	b.Shot("summary-vi")
	vi := b.Text("button#signin")

	b.Go(f.CheckoutURL + "?lang=en")
	st := b.WaitPage("request", "pending", pageTimeout)
	b.Shot("summary-en")
	if st.Lang != "en" {
		t.Errorf("with ?lang=en the page says lang %q", st.Lang)
	}
	en := b.Text("button#signin")
	if en == vi || !strings.Contains(strings.ToLower(en), "sign in") {
		t.Errorf("sign-in button reads %q in English, %q in Vietnamese", en, vi)
	}

	signIn(t, s, b, CitizenPayer)
	st = b.WaitPage("request", "pending", pageTimeout)
	b.Shot("signed-in-en")
	if st.Lang != "en" {
		t.Errorf("after sign-in the page says lang %q: the language was not kept for the session", st.Lang)
	}
	assertNoCSPViolations(t, b)
}

// TestUnknownRequest: an id nobody created gets the 404 page.
func TestUnknownRequest(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, Named("notfound"))
	b.Go(s.URL + "/pay/" + id.New(id.PaymentRequest))
	st := b.WaitPage("notfound", "", pageTimeout)
	b.Shot("notfound")
	if st.Status != "" {
		t.Errorf("the 404 page shows status %q", st.Status)
	}
	assertNoCSPViolations(t, b)
}

// TestLevelOfAssurance1: the addressed citizen signed in at level 1 may not
// pay (PROTOCOL.md §2): the loa page, without the pay form.
func TestLevelOfAssurance1(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.LinkActive(s.Payer, s.PayerAccounts[0])
	b := NewBrowser(t, Named("loa"))
	f := s.NewFee()
	b.Go(f.CheckoutURL)
	b.WaitPage("request", "pending", pageTimeout)
	b.Shot("summary")
	signIn(t, s, b, CitizenPayerLOA1)
	b.WaitPage("loa", "", pageTimeout)
	b.Shot("loa")
	if b.Present("form#pay-form") {
		t.Error("a level-1 sign-in is offered the pay form")
	}
	if n := s.Debits(); n != 0 {
		t.Errorf("the sandbox bank received %d debits", n)
	}
	assertNoCSPViolations(t, b)
}

// TestErrorPage: a sign-in callback that is no sign-in of this browser's
// gets the error page with its code.
func TestErrorPage(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, Named("error"))
	b.Go(s.URL + "/auth/callback?code=not-a-code&state=not-this-browsers")
	b.WaitPage("error", "", pageTimeout)
	b.Shot("error")
	if code := b.Text("#error-code"); code == "" {
		t.Error("the error page has an empty #error-code")
	}
	assertNoCSPViolations(t, b)
}

// TestUnavailableWithoutClient: a gateway without the checkout's client
// settings answers the checkout with the unavailable page.
func TestUnavailableWithoutClient(t *testing.T) {
	t.Parallel()
	s := New(t, apitest.WithEnv("IDP_CLIENT_ID", ""), apitest.WithEnv("IDP_CLIENT_SECRET", ""))
	b := NewBrowser(t, Named("unavailable"))
	f := s.NewFee()
	b.Go(f.CheckoutURL)
	b.WaitPage("unavailable", "", pageTimeout)
	b.Shot("unavailable")
	if status, _, _ := b.Fetch(f.CheckoutURL); status != http.StatusServiceUnavailable {
		t.Errorf("GET %s: %d, want 503", f.CheckoutURL, status)
	}
	assertNoCSPViolations(t, b)
}
