package checkout

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/receipt"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets/*
var assetFiles embed.FS

// The pages (data-page) of the contract with the browser tests.
const (
	pageRequest     = "request"
	pageForbidden   = "forbidden"
	pageNotFound    = "notfound"
	pageError       = "error"
	pageLOA         = "loa"
	pageUnavailable = "unavailable"
)

// view is what one page shows. Handlers fill it; templates only print it.
type view struct {
	Lang   string
	T      messages
	Page   string // data-page
	Status string // data-status: the status as shown, "" without a request
	Title  string
	Assets assetNames
	// Refresh is the seconds after which the page reloads itself without
	// JavaScript (0: never); Poll says the script should follow /status.
	Refresh int
	Poll    bool

	ReqID    string
	LangHref string // the same page in the other language
	Fee      *feeView
	CSRF     string
	SignedIn bool
	Payer    string // the signed-in citizen's name, only once signed in

	// Payable: the accounts, the pay form and the link form are shown.
	Payable  bool
	Accounts []accountView
	Banks    []bankView
	Attempt  string

	Verifying    bool
	LinkRejected string
	Notice       string
	Failure      string // a failed debit's reason, in words

	Heading string
	Lead    string
	Receipt *receiptView
	// ReceiptPending: paid, but the receipt is not there yet.
	ReceiptPending bool
	ReturnURL      string
	ErrorCode      string
	// SignInAgain shows the sign-in form on an error page.
	SignInAgain bool
}

// feeView is the request's summary, the same before and after sign-in.
type feeView struct {
	Portal      string
	Service     string
	Dossier     string
	Description string
	Items       []itemView
	Amount      string
	Expires     string
}

type itemView struct{ Description, Amount string }

type accountView struct {
	ID, Bank, Masked string
	Default          bool
}

type bankView struct{ Code, Name string }

type receiptView struct {
	Number, Amount, AmountInWords, PaidAt, Payer string
	QR                                           string // the QR image's path
	PDF                                          string // the PDF's path
}

// formatVND writes an amount of đồng as vi-VN does: "150.000 ₫".
func formatVND(d decimal.Decimal) string {
	digits := d.StringFixed(0)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	s := b.String() + " ₫"
	if neg {
		s = "-" + s
	}
	return s
}

// formatWireVND formats an amount in its wire form ("150000").
func formatWireVND(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return formatVND(d)
}

// formatTime writes t in Vietnam's time, as people there read it.
func formatTime(t time.Time) string {
	return t.In(receipt.Location()).Format("15:04, 02/01/2006")
}

// formatWireTime formats an RFC 3339 time of a receipt.
func formatWireTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return formatTime(t)
}

// assetNames are the content-hashed paths of the assets.
type assetNames struct{ CSS, JS, Mark string }

// assets are the embedded files, served under content-hashed names so that
// they are cached for good and a change is a new name.
type assets struct {
	names  assetNames
	byName map[string]asset
}

type asset struct {
	body        []byte
	contentType string
}

// assetPrefix is where the assets are served.
const assetPrefix = "/checkout/assets/"

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]asset{}}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	hashed := map[string]string{}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		base := path.Base(p)
		ext := path.Ext(base)
		name := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		a.byName[name] = asset{body: body, contentType: types[ext]}
		hashed[base] = assetPrefix + name
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.names = assetNames{CSS: hashed["checkout.css"], JS: hashed["checkout.js"], Mark: hashed["mark.svg"]}
	if a.names.CSS == "" || a.names.JS == "" || a.names.Mark == "" {
		return nil, fmt.Errorf("checkout: an embedded asset is missing")
	}
	return a, nil
}

// templates are the parsed pages: the layout with one page's content each.
type templates struct {
	byPage map[string]*template.Template
}

func loadTemplates() (*templates, error) {
	t := &templates{byPage: map[string]*template.Template{}}
	for _, name := range []string{"request", "message"} {
		tpl, err := template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("checkout templates: %w", err)
		}
		t.byPage[name] = tpl
	}
	return t, nil
}

// render writes v with the template of its page.
func (t *templates) render(w http.ResponseWriter, status int, v *view) error {
	name := "message"
	if v.Page == pageRequest {
		name = "request"
	}
	var buf bytes.Buffer
	if err := t.byPage[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", v.Page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
