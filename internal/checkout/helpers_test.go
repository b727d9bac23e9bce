package checkout_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
	"github.com/citizenpay/gateway/internal/testenv"
)

const (
	clientID     = "citizenpay-checkout"
	clientSecret = "checkout-test-secret-0123456789"
	// publicURL is the harness's GATEWAY_PUBLIC_URL: the IdP redirects
	// there, and the test browser takes the redirect to the harness.
	publicURL = "https://pay.gateway.test"
	wantCSP   = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action %s; frame-ancestors 'none'; base-uri 'none'"
)

// bundle is a gateway with its checkout on, the development identity
// provider it signs citizens in with, and a portal's request to pay.
type bundle struct {
	h      *apitest.Harness
	idp    *httptest.Server
	issuer string
}

// person is a test citizen who signs in on devidp's page.
type person struct {
	PID, Name, Birthdate string
	LOA                  int
}

// newPerson returns a citizen with a random valid pid (Hồ Chí Minh City,
// born 2003).
func newPerson(t *testing.T, loa int) person {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return person{PID: fmt.Sprintf("079203%06d", n.Int64()), Name: "Trần Thị Bình", Birthdate: "2003-05-17", LOA: loa}
}

// setup starts devidp and a gateway whose checkout signs in with it; both
// read clock when it is not nil.
func setup(t *testing.T, clock *testenv.Clock, opts ...apitest.Option) *bundle {
	t.Helper()
	var now func() time.Time
	if clock != nil {
		now = clock.Now
		opts = append(opts, apitest.WithClock(clock))
	}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	iss, err := devissuer.Generate(issuer)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := devissuer.NewProvider(iss, devissuer.ProviderConfig{
		Clients: []devissuer.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{publicURL + "/auth/callback"}}},
		Now:     now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = prov.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	env := []apitest.Option{
		apitest.WithEnv("GATEWAY_PUBLIC_URL", publicURL),
		apitest.WithEnv("IDP_ISSUER", issuer),
		apitest.WithEnv("IDP_AUDIENCE", devissuer.DefaultAudience),
		apitest.WithEnv("IDP_JWKS_URL", issuer+"/.well-known/jwks.json"),
		apitest.WithEnv("IDP_CLIENT_ID", clientID),
		apitest.WithEnv("IDP_CLIENT_SECRET", clientSecret),
	}
	h := apitest.New(t, append(env, opts...)...)
	return &bundle{h: h, idp: srv, issuer: issuer}
}

// newRequest has the harness's portal ask pid for a fee of 75.000 ₫.
func (b *bundle) newRequest(t *testing.T, pid, dossier string) string {
	t.Helper()
	r := b.h.Post("/v1/payment-requests", "create-"+dossier, map[string]any{
		"citizen_pid": pid, "dossier_code": dossier, "service_code": "1.001234",
		"description": "Lệ phí cấp giấy phép xây dựng",
		"items": []map[string]any{
			{"code": "LE_PHI", "description": "Lệ phí", "amount": "50000"},
			{"code": "PHI", "description": "Phí thẩm định", "amount": "25000"},
		},
		"amount": "75000", "currency": "VND",
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.Map(t)["id"].(string)
}

// count runs a count(*) query.
func (b *bundle) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := b.h.DB.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// browser is one person's browser: a cookie jar, no redirect followed, so
// that every hop is seen (and checked).
type browser struct {
	t      *testing.T
	b      *bundle
	client *http.Client
	// base is the gateway the browser talks to: the harness's unless a
	// test points it at another process on the same database and Redis.
	base string
	// urls are every URL the browser was sent to, to check none holds
	// personal data.
	urls []string
}

func (b *bundle) browser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, b: b, base: b.h.Server.URL, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer.
type page struct {
	Status int
	Header http.Header
	Body   string
}

var (
	dataPageRE   = regexp.MustCompile(`<main id="main"[^>]* data-page="([^"]*)" data-status="([^"]*)"`)
	htmlLangRE   = regexp.MustCompile(`<html lang="([a-z]+)">`)
	errorCodeRE  = regexp.MustCompile(`<code id="error-code">([^<]*)</code>`)
	inputValueRE = regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`)
)

// Page is data-page, Status data-status.
func (p page) Page() string    { return p.sub(dataPageRE, 1) }
func (p page) Shown() string   { return p.sub(dataPageRE, 2) }
func (p page) Lang() string    { return p.sub(htmlLangRE, 1) }
func (p page) ErrCode() string { return p.sub(errorCodeRE, 1) }

func (p page) sub(re *regexp.Regexp, n int) string {
	m := re.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return m[n]
}

// field is the value of the first hidden field name inside the form id.
func (p page) field(t *testing.T, formID, name string) string {
	t.Helper()
	i := strings.Index(p.Body, `<form id="`+formID+`"`)
	if i < 0 {
		t.Fatalf("no form %s in %s", formID, p.Body)
	}
	form := p.Body[i:]
	form = form[:strings.Index(form, "</form>")]
	for _, m := range inputValueRE.FindAllStringSubmatch(form, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("form %s has no %s", formID, name)
	return ""
}

// has reports whether the page holds an element with id.
func (p page) has(id string) bool { return strings.Contains(p.Body, `id="`+id+`"`) }

// do sends a request to the gateway and checks the headers every checkout
// page must carry.
func (br *browser) do(method, target string, form url.Values) page {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if !strings.HasPrefix(target, "http") {
		target = br.base + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		br.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	br.urls = append(br.urls, target)
	resp, err := br.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		br.t.Fatal(err)
	}
	p := page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	if loc := resp.Header.Get("Location"); loc != "" {
		br.urls = append(br.urls, loc)
	}
	if strings.HasPrefix(target, br.base) {
		br.checkHeaders(target, p)
	}
	return p
}

func (br *browser) get(path string) page { br.t.Helper(); return br.do(http.MethodGet, path, nil) }
func (br *browser) post(path string, form url.Values) page {
	br.t.Helper()
	return br.do(http.MethodPost, path, form)
}

// checkHeaders checks what every checkout answer carries, and what every
// HTML page must be.
func (br *browser) checkHeaders(target string, p page) {
	br.t.Helper()
	formAction := "'self'"
	if br.b.issuer != "" {
		formAction += " " + br.b.issuer
	}
	want := map[string]string{
		"Content-Security-Policy": fmt.Sprintf(wantCSP, formAction),
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := p.Header.Get(k); got != v {
			br.t.Errorf("%s: %s = %q, want %q", target, k, got, v)
		}
	}
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || p.Status/100 == 3 {
		return
	}
	if len(p.Body) >= 100<<10 {
		br.t.Errorf("%s: page of %d bytes", target, len(p.Body))
	}
	if p.Page() == "" || p.Lang() == "" {
		br.t.Errorf("%s: page without data-page or lang: %.400s", target, p.Body)
	}
	for _, bad := range []string{"style=", "<script>", "unsafe-inline", "onclick", "onload", "<iframe"} {
		if strings.Contains(p.Body, bad) {
			br.t.Errorf("%s: page holds %q", target, bad)
		}
	}
	accessible(br.t, target, p.Body)
}

var (
	controlRE = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRE      = regexp.MustCompile(`\bid="([^"]+)"`)
	headingRE = regexp.MustCompile(`<h([1-6])\b`)
)

// accessible checks what WCAG asks that a page's markup can show: a label
// for every control, one h1, and headings that skip no level.
func accessible(t *testing.T, target, body string) {
	t.Helper()
	for _, m := range controlRE.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[0], `type="hidden"`) {
			continue
		}
		id := idRE.FindStringSubmatch(m[0])
		if id == nil || !strings.Contains(body, `<label for="`+id[1]+`"`) {
			t.Errorf("%s: control without a label: %s", target, m[0])
		}
	}
	levels := headingRE.FindAllStringSubmatch(body, -1)
	if len(levels) == 0 || levels[0][1] != "1" || strings.Count(body, "<h1") != 1 {
		t.Errorf("%s: the page must start with its one h1", target)
	}
	for i := 1; i < len(levels); i++ {
		if levels[i][1][0] > levels[i-1][1][0]+1 {
			t.Errorf("%s: heading h%s after h%s", target, levels[i][1], levels[i-1][1])
		}
	}
}

// signIn runs the whole sign-in from request reqID's page as who: the
// gateway's form, devidp's page, the callback. It returns the callback URL
// (on the harness) and the callback's answer.
func (br *browser) signIn(reqID string, who person) (string, page) {
	br.t.Helper()
	authURL := br.beginSignIn(reqID)
	callback := br.authorize(authURL, who)
	return callback, br.get(callback)
}

// beginSignIn opens the request's page and posts its sign-in form; it
// returns the identity provider's URL the gateway sent the browser to.
func (br *browser) beginSignIn(reqID string) string {
	br.t.Helper()
	pg := br.get("/pay/" + reqID)
	if pg.Status != http.StatusOK || !pg.has("signin-form") {
		br.t.Fatalf("request page = %d without a sign-in form: %s", pg.Status, pg.Body)
	}
	resp := br.post("/pay/"+reqID+"/signin", url.Values{"csrf": {pg.field(br.t, "signin-form", "csrf")}})
	if resp.Status != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), br.b.issuer+"/oauth2/authorize?") {
		br.t.Fatalf("sign-in = %d %s: %s", resp.Status, resp.Header.Get("Location"), resp.Body)
	}
	return resp.Header.Get("Location")
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// authorize signs in on devidp's page as who and returns the callback URL,
// moved from the public URL to the harness.
func (br *browser) authorize(authURL string, who person) string {
	br.t.Helper()
	return br.answer(authURL, url.Values{
		"action": {"enter"}, "pid": {who.PID}, "name": {who.Name}, "birthdate": {who.Birthdate}, "loa": {fmt.Sprint(who.LOA)},
	})
}

// answer posts devidp's page with fields (a citizen, or cancel) and returns
// the callback URL, moved to the harness.
func (br *browser) answer(authURL string, fields url.Values) string {
	br.t.Helper()
	pg := br.get(authURL)
	if pg.Status != http.StatusOK {
		br.t.Fatalf("authorize page = %d: %s", pg.Status, pg.Body)
	}
	form := url.Values{}
	first := pg.Body[:strings.Index(pg.Body, "</form>")]
	for _, m := range hiddenRE.FindAllStringSubmatch(first, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	resp := br.post(br.b.issuer+"/oauth2/authorize", form)
	loc := resp.Header.Get("Location")
	if resp.Status != http.StatusSeeOther || !strings.HasPrefix(loc, publicURL+"/auth/callback?") {
		br.t.Fatalf("devidp sign-in = %d %s: %s", resp.Status, loc, resp.Body)
	}
	return br.base + strings.TrimPrefix(loc, publicURL)
}

// signedIn signs who in from request reqID and checks they land on it.
func (br *browser) signedIn(reqID string, who person) {
	br.t.Helper()
	_, resp := br.signIn(reqID, who)
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+reqID {
		br.t.Fatalf("callback = %d %s: %s", resp.Status, resp.Header.Get("Location"), resp.Body)
	}
}

// noPersonalData fails if any URL the browser saw holds who's pid or name.
func (br *browser) noPersonalData(who person) {
	br.t.Helper()
	for _, u := range br.urls {
		for _, v := range []string{who.PID, who.PID[len(who.PID)-3:] + "&", url.QueryEscape(who.Name), who.Name} {
			if strings.Contains(u, v) {
				br.t.Errorf("URL %s holds personal data", u)
			}
		}
	}
}

// eventually reloads reqID's page until cond holds.
func (br *browser) eventually(reqID string, cond func(page) bool, msg string) page {
	br.t.Helper()
	var pg page
	testenv.Eventually(br.t, 45*time.Second, func() bool {
		pg = br.get("/pay/" + reqID)
		return cond(pg)
	}, msg)
	return pg
}
