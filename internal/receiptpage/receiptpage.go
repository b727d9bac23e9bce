// Package receiptpage renders the public verify page of a receipt,
// /r/{id}?c={code} (PROTOCOL.md §11): whether the receipt is authentic and
// what it says, with the payer named by initials only. The template and
// its stylesheet are embedded; the page loads nothing else and needs no
// script, so it works on any phone under a strict Content-Security-Policy.
package receiptpage

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the template and stylesheet below
	"encoding/hex"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/receipt"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed receipt.css
	stylesheet []byte
)

var page = template.Must(template.New("receipt").Parse(pageHTML))

// stylesheetName is the stylesheet's content-hashed name, so that it may be
// cached for ever and a new one is fetched when it changes.
var stylesheetName = func() string {
	sum := sha256.Sum256(stylesheet)
	return "receipt-" + hex.EncodeToString(sum[:6]) + ".css"
}()

// AssetsPath is where the page's stylesheet is served from.
const AssetsPath = "/r/assets/"

// StylesheetPath is the path of the page's stylesheet.
func StylesheetPath() string { return AssetsPath + stylesheetName }

// Stylesheet returns the stylesheet if name is its current name.
func Stylesheet(name string) ([]byte, bool) {
	if name != stylesheetName {
		return nil, false
	}
	return stylesheet, true
}

// CSP is the page's Content-Security-Policy: its own stylesheet, nothing
// inline, no frames, forms or other origins.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Refund is a succeeded refund of the receipt's request.
type Refund struct {
	Amount decimal.Decimal
	At     time.Time
}

// View is what the page shows of a receipt whose code was right.
type View struct {
	Receipt   receipt.Receipt
	Authentic bool // the JWS verifies with a published key
	Refunds   []Refund
}

// Lang picks the page's language from ?lang=: English for "en",
// Vietnamese otherwise.
func Lang(q string) string {
	if q == "en" {
		return "en"
	}
	return "vi"
}

type refundLine struct{ Amount, At, AtISO string }

type model struct {
	Lang, OtherLang, OtherLangURL, Stylesheet                   string
	T                                                           texts
	Found, Authentic                                            bool
	Number, Portal, Service, Dossier, Amount, PaidAt, PaidAtISO string
	Payer                                                       string
	Refunds                                                     []refundLine
}

// Render writes the page of v in lang; code makes the link to the other
// language. A nil v is the not-found page, the same for an unknown id and
// a wrong code.
func Render(v *View, lang, code string) ([]byte, error) {
	t := textsOf(lang)
	m := model{Lang: lang, T: t, Stylesheet: StylesheetPath(), OtherLang: "en"}
	if lang == "en" {
		m.OtherLang = "vi"
	}
	q := url.Values{}
	if code != "" {
		q.Set("c", code)
	}
	if m.OtherLang == "en" {
		q.Set("lang", "en")
	}
	// A relative link keeps the page's own path, so the not-found page is
	// the same for every id.
	m.OtherLangURL = "?" + q.Encode()
	if v != nil {
		r := v.Receipt
		m.Found, m.Authentic = true, v.Authentic
		m.Number, m.Portal, m.Service, m.Dossier = r.Number, r.Portal.Name, r.ServiceCode, r.DossierCode
		m.Amount = amount(r.Amount, lang)
		m.PaidAt, m.PaidAtISO = r.PaidAt, r.PaidAt
		if at, err := time.Parse(time.RFC3339, r.PaidAt); err == nil {
			m.PaidAt = when(at, lang)
		}
		m.Payer = receipt.Initials(r.Payer.Name)
		for _, rf := range v.Refunds {
			m.Refunds = append(m.Refunds, refundLine{Amount: amount(rf.Amount.StringFixed(0), lang),
				At: when(rf.At, lang), AtISO: rf.At.UTC().Format(time.RFC3339)})
		}
	}
	var b bytes.Buffer
	if err := page.Execute(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// amount groups whole đồng: 75.000 đồng, or 75,000 VND in English.
func amount(digits, lang string) string {
	sep, unit := ".", " đồng"
	if lang == "en" {
		sep, unit = ",", " VND"
	}
	var parts []string
	for len(digits) > 3 {
		parts = append([]string{digits[len(digits)-3:]}, parts...)
		digits = digits[:len(digits)-3]
	}
	parts = append([]string{digits}, parts...)
	return strings.Join(parts, sep) + unit
}

func when(t time.Time, lang string) string {
	t = t.In(receipt.Location())
	if lang == "en" {
		return t.Format("2006-01-02 15:04") + " (UTC+7)"
	}
	return t.Format("15:04 ngày 02/01/2006")
}
