package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/receiptpage"
)

// receiptAnswer is GET …/receipt's JSON.
type receiptAnswer struct {
	Receipt receipt.Receipt `json:"receipt"`
	JWS     string          `json:"jws"`
}

// jwks fetches the served JWKS.
func jwks(t *testing.T, h *apitest.Harness) []byte {
	t.Helper()
	r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/.well-known/receipt-keys", Unsigned: true})
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/jwk-set+json") {
		t.Fatalf("receipt keys: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	return r.Body
}

// TestReceiptOfAPaidRequest pays a fee through the sandbox bank (its
// callback makes it paid) and follows the receipt everywhere it goes: the
// request's payment, the events, the portal's and the citizen's GET, the
// JWKS, the PDF and the public verify page.
func TestReceiptOfAPaidRequest(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("2s")...)
	h := p.h

	// Before it is paid there is no receipt, for the portal or the citizen.
	if r := h.Get("/v1/payment-requests/" + p.prID + "/receipt"); r.Status != http.StatusNotFound || r.Code() != "not_found" {
		t.Fatalf("receipt before paid: %d %s", r.Status, r.Body)
	}
	if r := h.AsCitizen(p.cit.Token, http.MethodGet, "/v1/me/payment-requests/"+p.prID+"/receipt", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("citizen's receipt before paid: %d %s", r.Status, r.Body)
	}
	if r := p.pay(t, p.prID, "pay-1"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	paid := p.waitStatus(t, p.prID, "paid")
	receiptID, _ := paid["payment"].(map[string]any)["receipt_id"].(string)
	if !strings.HasPrefix(receiptID, "rc_") {
		t.Fatalf("payment.receipt_id %v", paid["payment"])
	}

	var got receiptAnswer
	r := h.Get("/v1/payment-requests/" + p.prID + "/receipt")
	if r.Status != http.StatusOK {
		t.Fatalf("receipt: %d %s", r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	r.JSON(t, &got)
	rc := got.Receipt
	year := receipt.Year(h.Now())
	if rc.ID != receiptID || rc.PaymentRequestID != p.prID || rc.Number != receipt.Number(year, 1) ||
		rc.Amount != "75000" || rc.AmountInWords != "Bảy mươi lăm nghìn đồng" || rc.Currency != "VND" ||
		rc.Payer.Name != p.cit.Name || rc.Payer.PIDMasked != paid["citizen_pid_masked"] ||
		rc.Portal.ID != h.Portal.ID || rc.Portal.Name != h.Portal.Name || rc.BankCode != "SBX" || rc.BankReference == "" ||
		rc.PaidAt != paid["payment"].(map[string]any)["paid_at"] {
		t.Fatalf("receipt %+v\nrequest %+v", rc, paid)
	}
	// The JWS verifies against the served keys and signs exactly the receipt shown.
	signed, kid, err := receipt.Verify(got.JWS, jwks(t, h))
	if err != nil {
		t.Fatal(err)
	}
	shown := rc
	shown.VerifyURL = ""
	a, _ := receipt.Payload(shown)
	b, _ := receipt.Payload(signed)
	if string(a) != string(b) || kid == "" {
		t.Fatalf("signed %s\nshown %s", b, a)
	}
	// The citizen gets the same receipt; another portal gets 404.
	var mine receiptAnswer
	h.AsCitizen(p.cit.Token, http.MethodGet, "/v1/me/payment-requests/"+p.prID+"/receipt", "", nil).JSON(t, &mine)
	if mine.JWS != got.JWS || mine.Receipt.VerifyURL != rc.VerifyURL {
		t.Fatalf("citizen's receipt differs: %+v", mine.Receipt)
	}
	// The citizen's list and the portal's list carry receipt_id too.
	var lists [2]struct {
		Data []struct {
			Payment *struct {
				ReceiptID string `json:"receipt_id"`
			} `json:"payment"`
		} `json:"data"`
	}
	h.AsCitizen(p.cit.Token, http.MethodGet, "/v1/me/payment-requests", "", nil).JSON(t, &lists[0])
	h.Get("/v1/payment-requests").JSON(t, &lists[1])
	for i, l := range lists {
		if len(l.Data) != 1 || l.Data[0].Payment == nil || l.Data[0].Payment.ReceiptID != rc.ID {
			t.Fatalf("list %d: %+v", i, l.Data)
		}
	}
	other := h.NewPortal("Other")
	if r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests/" + p.prID + "/receipt", Portal: other}); r.Status != http.StatusNotFound {
		t.Fatalf("another portal's view: %d", r.Status)
	}

	// receipt.issued, once, with the receipt's summary; the paid event names it too.
	var issued, paidEvents []string
	rows, err := h.DB.Pool.Query(context.Background(), `SELECT type, payload FROM events WHERE type IN ('receipt.issued', 'payment_request.paid')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ, payload string
		if err := rows.Scan(&typ, &payload); err != nil {
			t.Fatal(err)
		}
		if typ == "receipt.issued" {
			issued = append(issued, payload)
		} else {
			paidEvents = append(paidEvents, payload)
		}
	}
	rows.Close()
	if len(issued) != 1 || len(paidEvents) != 1 {
		t.Fatalf("events: issued %v paid %v", issued, paidEvents)
	}
	var ev struct {
		Data struct {
			Receipt        map[string]string `json:"receipt"`
			PaymentRequest struct {
				Payment struct {
					ReceiptID string `json:"receipt_id"`
				} `json:"payment"`
			} `json:"payment_request"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(issued[0]), &ev)
	if ev.Data.Receipt["id"] != rc.ID || ev.Data.Receipt["number"] != rc.Number || ev.Data.Receipt["amount"] != "75000" ||
		ev.Data.Receipt["payment_request_id"] != p.prID || ev.Data.Receipt["issued_at"] != rc.IssuedAt {
		t.Fatalf("receipt.issued %s", issued[0])
	}
	_ = json.Unmarshal([]byte(paidEvents[0]), &ev)
	if ev.Data.PaymentRequest.Payment.ReceiptID != rc.ID {
		t.Fatalf("paid event %s", paidEvents[0])
	}

	// No name in clear in the database: receipts and attempts hold it sealed.
	if n := h.Count(`SELECT count(*) FROM receipts WHERE position(convert_to($1, 'UTF8') IN jws_sealed) > 0`, p.cit.Name); n != 0 {
		t.Fatalf("%d receipts hold the name in clear", n)
	}
	if n := h.Count(`SELECT count(*) FROM payment_attempts WHERE payer_name_sealed IS NOT NULL`); n != 0 {
		t.Fatalf("%d attempts still keep the payer's name after the receipt", n)
	}

	checkReceiptPDF(t, h, p, rc)
	checkReceiptPage(t, h, rc, p.cit.Name)
	verifyClean(t, h, p.account.Number)
}

// checkReceiptPDF fetches the PDF and reads it as a person would: its text
// (pdftotext) holds the number and the amount in words with diacritics,
// and its QR code (zbarimg) reads the verify URL.
func checkReceiptPDF(t *testing.T, h *apitest.Harness, p *payer, rc receipt.Receipt) {
	t.Helper()
	r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests/" + p.prID + "/receipt",
		Header: http.Header{"Accept": {"application/pdf"}}})
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.Body), "%PDF-") {
		t.Fatalf("pdf: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "receipt.pdf")
	if err := os.WriteFile(pdf, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(text), rc.Number) || !strings.Contains(string(text), "Bảy mươi lăm nghìn đồng") {
		t.Fatalf("the PDF's text lacks the number or the amount in words:\n%s", text)
	}
	if out, err := exec.Command("pdftoppm", "-r", "200", "-png", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) == 0 {
		t.Fatal("no page image")
	}
	qr, err := exec.Command("zbarimg", "--quiet", "--raw", pages[0]).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if strings.TrimSpace(string(qr)) != rc.VerifyURL {
		t.Fatalf("QR %q, want %q", qr, rc.VerifyURL)
	}
}

// checkReceiptPage opens the verify URL's page: authentic with the right
// code, the same 404 page with a wrong or missing code or an unknown id,
// and never the payer's name.
func checkReceiptPage(t *testing.T, h *apitest.Harness, rc receipt.Receipt, name string) {
	t.Helper()
	u, err := url.Parse(rc.VerifyURL)
	if err != nil || u.Host != "pay.gateway.test" || u.Path != "/r/"+rc.ID || u.Query().Get("c") == "" {
		t.Fatalf("verify_url %q", rc.VerifyURL)
	}
	get := func(path string) *apitest.Response {
		return h.Do(apitest.Request{Method: http.MethodGet, Path: path, Unsigned: true})
	}
	page := get(u.RequestURI())
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.Contains(body, `lang="vi"`) || !strings.Contains(body, "Biên lai này là thật") ||
		!strings.Contains(body, rc.Number) || !strings.Contains(body, "75.000 đồng") || !strings.Contains(body, rc.DossierCode) ||
		!strings.Contains(body, rc.Portal.Name) || !strings.Contains(body, receipt.Initials(name)) {
		t.Fatalf("page: %d\n%s", page.Status, body)
	}
	// Each part of the name, as a word of its own: "An" inside a random id
	// or an asset's hash is not the payer's name.
	for _, part := range strings.Fields(name) {
		word := regexp.MustCompile(`(^|[^\p{L}\p{N}])` + regexp.QuoteMeta(part) + `([^\p{L}\p{N}]|$)`)
		if len([]rune(part)) > 1 && word.MatchString(body) {
			t.Fatalf("the page shows %q of the payer's name", part)
		}
	}
	csp := page.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		page.Header.Get("Referrer-Policy") != "no-referrer" || len(page.Body) > 100<<10 {
		t.Fatalf("headers %v, %d bytes", page.Header, len(page.Body))
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Fatalf("the page loads or inlines something: %s", body)
	}
	en := get(u.RequestURI() + "&lang=en")
	if en.Status != http.StatusOK || !strings.Contains(string(en.Body), `lang="en"`) || !strings.Contains(string(en.Body), "This receipt is authentic") {
		t.Fatalf("English page: %d %s", en.Status, en.Body)
	}
	css := get(receiptpage.StylesheetPath())
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d", css.Status)
	}
	notFound := get("/r/rc_01jnotareceipt000000000000?c=" + u.Query().Get("c"))
	for _, path := range []string{"/r/" + rc.ID + "?c=wrong", "/r/" + rc.ID} {
		r := get(path)
		if r.Status != http.StatusNotFound || string(r.Body) != string(notFound.Body) || strings.Contains(string(r.Body), rc.Number) {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	if notFound.Status != http.StatusNotFound || !strings.Contains(string(notFound.Body), "Không tìm thấy biên lai") {
		t.Fatalf("unknown id: %d %s", notFound.Status, notFound.Body)
	}
}
