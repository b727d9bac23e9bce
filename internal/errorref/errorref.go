// Package errorref is the gateway's error reference: for every error code,
// what it means and what the caller should do, served as one HTML page per
// code at /errors/{code} (each problem's type URI points there) and written
// out as docs/errors.md. The HTTP status and title of a code are the HTTP
// layer's (internal/httpapi, problem.go); this package holds the words and
// renders them. The pages are in English only: they are read by portals'
// and banks' developers, not by citizens.
package errorref

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the template and stylesheet below
	"encoding/hex"
	"fmt"
	"html/template"
	"strings"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed errors.css
	stylesheet []byte
)

var page = template.Must(template.New("errors").Parse(pageHTML))

// Path is where the reference is served: Path for the index, Path/{code}
// for a code.
const Path = "/errors"

// AssetsPath is where the pages' stylesheet is served from.
const AssetsPath = Path + "/assets/"

// stylesheetName is the stylesheet's content-hashed name, so that it may be
// cached for ever and a new one is fetched when it changes.
var stylesheetName = func() string {
	sum := sha256.Sum256(stylesheet)
	return "errors-" + hex.EncodeToString(sum[:6]) + ".css"
}()

// StylesheetPath is the path of the pages' stylesheet.
func StylesheetPath() string { return AssetsPath + stylesheetName }

// Stylesheet returns the stylesheet if name is its current name.
func Stylesheet(name string) ([]byte, bool) {
	if name != stylesheetName {
		return nil, false
	}
	return stylesheet, true
}

// CSP is the pages' Content-Security-Policy: their own stylesheet, nothing
// inline, no script, frames, forms or other origins.
const CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Entry is one code of the reference: the HTTP layer's status and title
// with this package's text.
type Entry struct {
	Code   string
	Status int
	Title  string
	// Stored marks a refusal kept under the request's Idempotency-Key and
	// replayed; RetryAfter is the Retry-After it is sent with ("" for none).
	Stored     bool
	RetryAfter string
	Text
}

// span is a run of text, shown as code or not.
type span struct {
	Code bool
	Text string
}

// spans cuts s at its backticks: every other run is code.
func spans(s string) []span {
	var out []span
	for i, part := range strings.Split(s, "`") {
		if part != "" {
			out = append(out, span{Code: i%2 == 1, Text: part})
		}
	}
	return out
}

type entryView struct {
	Code, Title, Href, RetryAfter string
	Status                        int
	Stored                        bool
	Meaning, Fix                  []span
}

type model struct {
	Stylesheet, Index string
	Title             string
	Entry             *entryView
	Entries           []entryView
	Missing           string
	NotFound          bool
}

func viewOf(e Entry) entryView {
	return entryView{Code: e.Code, Title: e.Title, Status: e.Status, Href: Path + "/" + e.Code,
		Stored: e.Stored, RetryAfter: e.RetryAfter, Meaning: spans(e.Meaning), Fix: spans(e.Fix)}
}

func render(m model) ([]byte, error) {
	m.Stylesheet, m.Index = StylesheetPath(), Path
	var b bytes.Buffer
	if err := page.Execute(&b, m); err != nil {
		return nil, fmt.Errorf("render error reference: %w", err)
	}
	return b.Bytes(), nil
}

// RenderCode renders the page of one code.
func RenderCode(e Entry) ([]byte, error) {
	v := viewOf(e)
	return render(model{Title: e.Code, Entry: &v})
}

// RenderIndex renders the index of every code, in the order given.
func RenderIndex(entries []Entry) ([]byte, error) {
	m := model{Title: "Error reference"}
	for _, e := range entries {
		m.Entries = append(m.Entries, viewOf(e))
	}
	return render(m)
}

// RenderNotFound renders the page of a code the gateway does not have.
func RenderNotFound(code string) ([]byte, error) {
	return render(model{Title: "Unknown error code", NotFound: true, Missing: code})
}

// Markdown writes the reference as docs/errors.md says it, in the order
// given: a table of every code, then a section per code.
func Markdown(entries []Entry) []byte {
	var b bytes.Buffer
	b.WriteString("# Error reference\n\n")
	b.WriteString("<!-- Generated from internal/errorref and internal/httpapi/problem.go by\n")
	b.WriteString("     go test ./internal/httpapi/ -run TestErrorsDoc -update. Do not edit by hand. -->\n\n")
	b.WriteString("Every refusal is an RFC 9457 `application/problem+json` document whose `code` is one of\n")
	b.WriteString("these and whose `type` is this code's page on the gateway itself,\n")
	b.WriteString("`{GATEWAY_PUBLIC_URL}/errors/{code}` (the index is at `/errors`; the pages are in English).\n")
	b.WriteString("Act on `code`, never on `title` or `detail`: `detail` is for people and may change.\n")
	b.WriteString("A code marked *stored* is an outcome of a request that ran: it is kept under the request's\n")
	b.WriteString("`Idempotency-Key` and replayed to a retry; any other refusal stores nothing, so a retry\n")
	b.WriteString("runs anew (see [integration.md](integration.md#idempotency)).\n\n")
	b.WriteString("| status | code | title | stored | Retry-After |\n|---|---|---|---|---|\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "| %d | [`%s`](#%s) | %s | %s | %s |\n", e.Status, e.Code, e.Code, e.Title, yes(e.Stored), seconds(e.RetryAfter))
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "\n## %s\n\n%d %s. %s\n\n%s\n\n**What to do:** %s\n", e.Code, e.Status, e.Title, keeping(e), e.Meaning, e.Fix)
	}
	return b.Bytes()
}

func yes(b bool) string {
	if b {
		return "stored"
	}
	return ""
}

func seconds(s string) string {
	if s == "" {
		return ""
	}
	return s + " s"
}

// keeping says in words what idempotency and Retry-After do with e.
func keeping(e Entry) string {
	s := "Stores nothing: a retry runs anew."
	if e.Stored {
		s = "Stored under the `Idempotency-Key` and replayed."
	}
	if e.RetryAfter != "" {
		s += " Sent with `Retry-After` (" + e.RetryAfter + " s unless the answer says otherwise)."
	}
	return s
}
