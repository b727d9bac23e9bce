package browsertest

import (
	"fmt"
	"github.com/citizenpay/gateway/internal/testenv"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/banksim"
)

// TestJourney walks the whole hosted checkout on a 360-px phone, with
// JavaScript: the portal's fee, the summary before sign-in, devidp, linking
// an account while the bank verifies it, paying, processing, paid with the
// receipt and its PDF, and the way back to the portal. Every page fits the
// phone without sideways scrolling and breaks no CSP.
func TestJourney(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, WithViewport(Phone), Named("phone"))
	walkJourney(t, s, b, 360)
}

// TestJourneyWithoutJavaScript walks the same journey with the page's
// scripts off, on a desktop: every step works with forms, links and the
// pages' meta refresh alone.
func TestJourneyWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, WithoutJavaScript(), Named("nojs"))
	walkJourney(t, s, b, 0)
}

// walkJourney is the journey; width > 0 checks that each page fits a screen
// that wide.
func walkJourney(t *testing.T, s *Stack, b *Browser, width int) {
	t.Helper()
	// on waits for a page of the checkout, names its screenshot, and checks
	// that it is in Vietnamese and fits the screen.
	on := func(page, status string, timeout time.Duration, shot string) {
		t.Helper()
		st := b.WaitPage(page, status, timeout)
		b.Shot(shot)
		if st.Lang != "vi" {
			t.Errorf("%s: want <html lang=\"vi\"> by default", st)
		}
		if width > 0 {
			assertNoHorizontalScroll(t, b, width)
		}
	}
	// The bank takes a moment, so that the pages that follow it are seen.
	s.Bank.Sim.SetKnobs(banksim.Knobs{CallbackDelay: callbackDelay})
	f := s.NewFee()

	// The summary, before sign-in: the fee, and nobody's name or pid.
	b.Go(f.CheckoutURL)
	on("request", "pending", pageTimeout, "summary")
	page := b.Text("main#main")
	for _, want := range []string{s.H.Portal.Name, f.DossierCode, "Lệ phí cấp bản sao trích lục khai sinh", "Phí gửi kết quả qua bưu điện"} {
		if !strings.Contains(page, want) {
			t.Errorf("the summary does not show %q: %q", want, page)
		}
	}
	if !strings.Contains(digits(page), "125000") {
		t.Errorf("the summary does not show the amount 125000: %q", page)
	}
	if strings.Contains(page, s.Payer.Name) || strings.Contains(page, s.Payer.PID) {
		t.Errorf("before sign-in the summary shows the citizen's name or pid: %q", page)
	}
	if action, method := b.Attr("form#signin-form", "action"), b.Attr("form#signin-form", "method"); !strings.HasSuffix(action, "/pay/"+f.ID+"/signin") || !strings.EqualFold(method, "post") {
		t.Errorf("form#signin-form is %s %s, want POST /pay/%s/signin", method, action, f.ID)
	}

	// devidp, then the request again, signed in: no account yet.
	signIn(t, s, b, CitizenPayer)
	on("request", "pending", pageTimeout, "signed-in")
	if b.Present(`input[type="radio"][name="account_id"]`) {
		t.Error("a citizen who linked nothing is offered an account")
	}

	// Link an account and wait for the bank.
	account := linkOnPage(t, b, s.PayerAccounts[0])
	b.WaitVisible("form#pay-form")
	on("request", "pending", pageTimeout, "accounts")
	if !b.Visible("button#pay") {
		t.Error("the pay button is not visible")
	}
	if width > 0 {
		if inside := b.Eval(fmt.Sprintf(`(() => { const r = document.getElementById('pay').getBoundingClientRect();
			return r.left >= 0 && r.right <= %d && r.width > 0 })()`, width)); inside != "true" {
			t.Errorf("the pay button does not fit within the %d-px screen", width)
		}
	}
	if b.Eval(`document.getElementById('account-`+account+`').checked`) != "true" {
		t.Error("the only account is not chosen")
	}

	// Pay: processing while the bank holds the debit, then paid.
	b.Click("button#pay")
	on("request", "processing", pageTimeout, "processing")
	b.WaitPage("request", "paid", bankTimeout)
	b.WaitVisible("#receipt")
	on("request", "paid", pageTimeout, "paid")
	if got := s.Status(f); got != "paid" {
		t.Errorf("the API says %s, want paid", got)
	}
	if n := s.Debits(); n != 1 {
		t.Errorf("the sandbox bank received %d debits, want 1", n)
	}

	number := b.Text("#receipt-number")
	if !regexp.MustCompile(`^\d{4}/\d{6,}$`).MatchString(number) {
		t.Errorf("receipt number %q, want YYYY/NNNNNN", number)
	}
	// The image may still be on its way when the page is: wait until it
	// has loaded (or failed), then check it decoded.
	if !b.Visible("img#receipt-qr") || !qrLoaded(b) {
		t.Error("the receipt's QR code is not shown")
	}
	verify := checkReceiptPDF(t, s, b, f, number)

	// The verify URL of the QR code opens the receipt's public page.
	status, _, body := b.Fetch(verify)
	if status != 200 || !strings.Contains(string(body), number) {
		t.Errorf("GET %s: %d, want 200 with the number %s", verify, status, number)
	}

	assertReturn(t, s, b, f, "paid")
	assertNoCSPViolations(t, b)
}

// digits keeps only the digits of s, so that an amount reads the same
// whatever its thousands separator.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// qrLoaded polls the receipt's QR image until the browser has finished
// with it, and reports whether it decoded. It polls rather than listening for
// the load event, because a page without JavaScript runs no listener.
func qrLoaded(b *Browser) bool {
	b.T.Helper()
	state := ""
	testenv.Poll(StepTimeout, func() bool {
		state = b.Eval(`(() => { const i = document.getElementById('receipt-qr'); return !i ? "missing" : !i.complete ? "loading" : i.naturalWidth > 0 ? "shown" : "broken"; })()`)
		return state != `"loading"`
	})
	return state == `"shown"`
}
