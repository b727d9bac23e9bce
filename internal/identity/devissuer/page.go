package devissuer

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizenpay/gateway/internal/pii"
)

// Limits of a typed citizen.
const (
	maxNameRunes = 100
	maxLOA       = 3
)

//go:embed pages
var pageFiles embed.FS

// pages renders the provider's HTML: its templates and its one style sheet,
// served under a content-hashed name so that it may be cached for a year.
type pages struct {
	signInTmpl  *template.Template
	failureTmpl *template.Template
	css         []byte
	cssPath     string
}

func newPages() (*pages, error) {
	css, err := pageFiles.ReadFile("pages/devidp.css")
	if err != nil {
		return nil, fmt.Errorf("devissuer: read style sheet: %w", err)
	}
	sum := sha256.Sum256(css)
	pg := &pages{css: css, cssPath: "/assets/devidp." + hex.EncodeToString(sum[:6]) + ".css"}
	pg.signInTmpl, err = template.ParseFS(pageFiles, "pages/layout.html", "pages/signin.html")
	if err != nil {
		return nil, fmt.Errorf("devissuer: parse sign-in page: %w", err)
	}
	pg.failureTmpl, err = template.ParseFS(pageFiles, "pages/layout.html", "pages/failure.html")
	if err != nil {
		return nil, fmt.Errorf("devissuer: parse error page: %w", err)
	}
	return pg, nil
}

func (pg *pages) serveCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(pg.css)
}

// signInView is what the sign-in page shows.
type signInView struct {
	CSSPath  string
	Title    string
	ClientID string
	Hidden   []field
	Citizens []citizenOption
	Entered  enteredCitizen
	Errors   []fieldError
	ErrorFor map[string]string
	LOAs     []int
}

// citizenOption is one offered citizen.
type citizenOption struct {
	Index     int
	Name      string
	PIDMasked string
	LOA       int
	Note      string
	Checked   bool
}

// fieldError is a problem with one field, named by its element id.
type fieldError struct{ ID, Message string }

// failureView is what the error page shows.
type failureView struct {
	CSSPath string
	Title   string
	Message string
}

func (p *Provider) signInView(req authRequest, entered enteredCitizen, errs []fieldError) signInView {
	v := signInView{
		CSSPath:  p.pages.cssPath,
		Title:    "Sign in to " + req.client.id,
		ClientID: req.client.id,
		Hidden:   req.hidden(),
		Entered:  entered,
		Errors:   errs,
		ErrorFor: make(map[string]string, len(errs)),
	}
	if len(errs) > 0 {
		v.Title = "Error: " + v.Title
	}
	for _, e := range errs {
		v.ErrorFor[e.ID] = e.Message
	}
	for n := 1; n <= maxLOA; n++ {
		v.LOAs = append(v.LOAs, n)
	}
	for n, c := range p.citizens {
		v.Citizens = append(v.Citizens, citizenOption{
			Index: n, Name: c.Name, PIDMasked: pii.MaskPID(c.PID), LOA: c.LOA, Note: c.Note, Checked: n == 0,
		})
	}
	return v
}

// signIn renders the sign-in page. Its forms post to this origin; the
// browser is then redirected to the client, whose origin form-action must
// allow too, since browsers apply it to a form's redirects.
func (pg *pages) signIn(w http.ResponseWriter, status int, v signInView) {
	origin := ""
	for _, f := range v.Hidden {
		if f.Name == "redirect_uri" {
			if u, err := url.Parse(f.Value); err == nil {
				origin = " " + u.Scheme + "://" + u.Host
			}
		}
	}
	pg.render(w, status, pg.signInTmpl, v, "'self'"+origin)
}

// failure renders the error page.
func (pg *pages) failure(w http.ResponseWriter, status int, message string) {
	pg.render(w, status, pg.failureTmpl, failureView{CSSPath: pg.cssPath, Title: "Sign-in refused", Message: message}, "'none'")
}

func (pg *pages) render(w http.ResponseWriter, status int, t *template.Template, v any, formAction string) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action "+formAction)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// enteredCitizen is the typed citizen, as typed.
type enteredCitizen struct {
	PID, Name, Birthdate, LOA string
}

// citizen checks what was typed, field by field.
func (e enteredCitizen) citizen() (Citizen, []fieldError) {
	var errs []fieldError
	c := Citizen{PID: strings.TrimSpace(e.PID), Name: strings.TrimSpace(e.Name), Birthdate: strings.TrimSpace(e.Birthdate)}
	pidOK := len(c.PID) == pii.PIDLength && pii.ValidatePID(c.PID) == nil
	if !pidOK {
		errs = append(errs, fieldError{"pid", "Enter a valid 12-digit CCCD number: a province code, then a century-and-sex digit."})
	}
	if c.Name == "" || utf8.RuneCountInString(c.Name) > maxNameRunes {
		errs = append(errs, fieldError{"name", fmt.Sprintf("Enter the full name, at most %d characters.", maxNameRunes)})
	}
	born, err := time.Parse(time.DateOnly, c.Birthdate)
	dateOK := err == nil && born.Format(time.DateOnly) == c.Birthdate
	if !dateOK {
		errs = append(errs, fieldError{"birthdate", "Enter the date of birth as YYYY-MM-DD, for example 2003-05-17."})
	}
	if pidOK && dateOK && pii.ValidatePIDBirthdate(c.PID, c.Birthdate) != nil {
		errs = append(errs, fieldError{"birthdate", "The date of birth must match the CCCD number: digit 4 gives the century, digits 5 and 6 the year."})
	}
	loa, err := strconv.Atoi(e.LOA)
	if err != nil || loa < 1 || loa > maxLOA {
		errs = append(errs, fieldError{"loa", fmt.Sprintf("Choose a level of assurance from 1 to %d.", maxLOA)})
	}
	c.LOA = loa
	return c, errs
}
