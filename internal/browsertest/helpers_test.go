package browsertest

import (
	"context"
	"fmt"
	"github.com/citizenpay/gateway/internal/testenv"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/citizenpay/gateway/internal/banksim"
)

// Waits of the journeys: a page that follows the bank updates itself (a
// script, or a meta refresh without one) within a few seconds; the bank is
// told to take CallbackDelay.
const (
	pageTimeout   = 20 * time.Second
	bankTimeout   = 30 * time.Second
	callbackDelay = 1500 * time.Millisecond
)

// assertNoHorizontalScroll fails t when the page is wider than width CSS
// pixels, so that a person on a phone would scroll sideways.
func assertNoHorizontalScroll(t *testing.T, b *Browser, width int) {
	t.Helper()
	raw := b.Eval(`document.scrollingElement.scrollWidth`)
	w, err := strconv.Atoi(raw)
	if err != nil {
		t.Fatalf("scrollWidth = %s", raw)
	}
	if w > width {
		t.Errorf("%s is %d px wide on a %d-px screen: it scrolls sideways", b.State(), w, width)
	}
}

// assertNoCSPViolations fails t when a page the browser showed broke its
// Content Security Policy.
func assertNoCSPViolations(t *testing.T, b *Browser) {
	t.Helper()
	if v := b.CSPViolations(); len(v) > 0 {
		t.Errorf("console CSP violations:\n%s", strings.Join(v, "\n"))
	}
}

// signIn goes from a request page before sign-in to devidp, signs in there
// as its citizen n (CitizenPayer, CitizenOther…), and waits until the
// browser is back on a gateway page.
func signIn(t *testing.T, s *Stack, b *Browser, n int) {
	t.Helper()
	b.WaitVisible("form#signin-form")
	b.Click("button#signin")
	b.WaitVisible("#citizen-0")
	if n != 0 {
		b.Click(fmt.Sprintf(`label[for="citizen-%d"]`, n))
	}
	b.Shot("devidp")
	b.ClickText("Sign in as the chosen citizen")
	var st PageState
	if !testenv.Poll(pageTimeout, func() bool {
		st = b.State()
		return st.Found && strings.HasPrefix(st.URL, s.URL+"/pay/")
	}) {
		t.Fatalf("after signing in at devidp the browser is on %s, not the checkout", st)
	}
}

// linkOnPage links account a on the signed-in request page, waits while the
// page says the bank is verifying it, and returns the account's id once
// the page offers it to pay with.
func linkOnPage(t *testing.T, b *Browser, a banksim.Account) string {
	t.Helper()
	b.WaitVisible("form#link-form")
	b.Do("fill the link form",
		chromedp.SetValue(chromedp.CSS("select#bank_code"), BankCode),
		chromedp.SendKeys(chromedp.CSS("input#account_number"), a.Number),
	)
	b.Shot("link-form")
	b.Click("button#link")
	b.WaitVisible("#verifying")
	b.Shot("verifying")
	b.WaitVisible(`input[type="radio"][name="account_id"]`)
	id := strings.Trim(b.Eval(`document.querySelector('input[type=radio][name=account_id]').value`), `"`)
	if got := b.Attr(`input[type="radio"][name="account_id"]`, "id"); got != "account-"+id {
		t.Errorf("the account's radio has id %q, want account-%s", got, id)
	}
	label := b.Text(fmt.Sprintf(`label[for="account-%s"]`, id))
	if strings.Contains(label, a.Number) || !strings.Contains(label, a.Number[len(a.Number)-4:]) {
		t.Errorf("the account reads %q: want it masked, ending in %s", label, a.Number[len(a.Number)-4:])
	}
	return id
}

// assertReturn follows a#return and checks that the browser lands on the
// portal's return URL with exactly payment_request_id and status added to
// its own query.
func assertReturn(t *testing.T, s *Stack, b *Browser, f Fee, status string) {
	t.Helper()
	b.WaitVisible("a#return")
	before := len(s.Portal.Visits())
	b.Click("a#return")
	b.WaitPage("portal", "", pageTimeout)
	b.Shot("portal")
	visits := s.Portal.Visits()
	if len(visits) != before+1 {
		t.Fatalf("the portal saw %d visits, want %d", len(visits), before+1)
	}
	got := visits[len(visits)-1]
	want, err := url.Parse(f.ReturnURL)
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != want.Path {
		t.Errorf("returned to %s, want %s", got.Path, want.Path)
	}
	wantQ := want.Query()
	wantQ.Set("payment_request_id", f.ID)
	wantQ.Set("status", status)
	gotQ := got.Query()
	if len(gotQ) != len(wantQ) {
		t.Errorf("return query = %v, want %v", gotQ, wantQ)
	}
	for k, v := range wantQ {
		if !slices.Equal(gotQ[k], v) {
			t.Errorf("return query %s = %q, want %q (whole query %q)", k, gotQ[k], v, got.RawQuery)
		}
	}
}

// checkReceiptPDF downloads the receipt's PDF with the browser's cookies
// and reads it as a person's tools would: pdftotext finds the receipt's
// number and the amount in words, diacritics included, and zbarimg decodes
// its QR code to the receipt's verify URL, which it returns.
func checkReceiptPDF(t *testing.T, s *Stack, b *Browser, f Fee, number string) string {
	t.Helper()
	href := b.Attr("a#receipt-pdf", "href")
	if href != "/pay/"+f.ID+"/receipt.pdf" && href != s.URL+"/pay/"+f.ID+"/receipt.pdf" {
		t.Errorf("a#receipt-pdf href = %q, want /pay/%s/receipt.pdf", href, f.ID)
	}
	pdfURL, err := url.Parse(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	status, header, body := b.Fetch(pdfURL.ResolveReference(ref).String())
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "application/pdf") || !strings.HasPrefix(string(body), "%PDF-") {
		t.Fatalf("GET %s: %d %s, %d bytes starting %q", href, status, header.Get("Content-Type"), len(body), head(body))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "receipt.pdf")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("SCREENSHOTS_DIR"); d != "" {
		_ = os.WriteFile(filepath.Join(d, b.Name+"-receipt.pdf"), body, 0o644)
	}
	text := strings.Join(strings.Fields(run(t, "pdftotext", "-enc", "UTF-8", path, "-")), " ")
	if !strings.Contains(text, number) {
		t.Errorf("the PDF does not hold the receipt number %s: %q", number, text)
	}
	if !strings.Contains(text, f.AmountInWords) {
		t.Errorf("the PDF does not read the amount as %q: %q", f.AmountInWords, text)
	}
	run(t, "pdftoppm", "-r", "150", "-png", path, filepath.Join(dir, "page"))
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) == 0 {
		t.Fatal("pdftoppm drew no page")
	}
	verify := strings.TrimSpace(run(t, "zbarimg", "--quiet", "--raw", pages[0]))
	if !strings.HasPrefix(verify, s.URL+"/r/") || !strings.Contains(verify, "?c=") {
		t.Errorf("the PDF's QR code reads %q, want a verify URL %s/r/{id}?c={code}", verify, s.URL)
	}
	return verify
}

func head(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// run runs a command and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v %s (scripts/services.sh install puts it on this machine)", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
