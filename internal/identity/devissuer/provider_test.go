package devissuer_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

const (
	rpID       = "gateway-checkout"
	rpSecret   = "rp-secret-0123456789abcdef"
	rpCallback = "https://gateway.example.test/auth/callback?tenant=hcm"
	otherID    = "console"
	verifier   = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-dBjftJeZ4CV"
)

var challenge = func() string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}()

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// oidcBundle is a provider with two clients, served over HTTP.
type oidcBundle struct {
	url     string
	issuer  *devissuer.Issuer
	clock   *fakeClock
	browser *http.Client
}

func setupProvider(t *testing.T) oidcBundle {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	iss, err := devissuer.Generate("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Now()}
	p, err := devissuer.NewProvider(iss, devissuer.ProviderConfig{
		Clients: []devissuer.Client{
			{ID: rpID, Secret: rpSecret, RedirectURIs: []string{rpCallback}},
			{ID: otherID, Secret: "console-secret-0123456789", RedirectURIs: []string{"http://127.0.0.1:8081/auth/callback"}},
		},
		Citizens: []devissuer.Citizen{
			{PID: goodPID, Name: "Nguyễn Văn An", Birthdate: goodBirthdate, Note: "Sandbox bank"},
			{PID: "001195004321", Name: "Lê Thị Cúc", Birthdate: "1995-08-20", LOA: 1},
		},
		Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return oidcBundle{url: srv.URL, issuer: iss, clock: clk, browser: browser}
}

// authParams is a valid authorization request of the gateway's client.
func authParams() url.Values {
	return url.Values{
		"client_id": {rpID}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"st-1"}, "nonce": {"no-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// get fetches path and returns the response and its body.
func (b oidcBundle) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := b.browser.Get(b.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// post posts a form to the authorization endpoint.
func (b oidcBundle) post(t *testing.T, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := b.browser.PostForm(b.url+"/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestDiscoveryDocument(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	resp, body := b.get(t, "/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery = %d", resp.StatusCode)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                                b.url,
		"authorization_endpoint":                b.url + "/oauth2/authorize",
		"token_endpoint":                        b.url + "/oauth2/token",
		"jwks_uri":                              b.url + "/.well-known/jwks.json",
		"response_types_supported":              []any{"code"},
		"response_modes_supported":              []any{"query"},
		"grant_types_supported":                 []any{"authorization_code"},
		"code_challenge_methods_supported":      []any{"S256"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic"},
		"id_token_signing_alg_values_supported": []any{"EdDSA"},
		"scopes_supported":                      []any{"openid"},
	}
	for k, v := range want {
		got, _ := json.Marshal(d[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	claims, _ := d["claims_supported"].([]any)
	for _, c := range []any{"pid", "name", "birthdate", "loa", "nonce"} {
		if !slices.Contains(claims, c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	tests := []struct {
		name   string
		change func(url.Values)
		want   string // OAuth error sent to the redirect URI; empty: an error page
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }, ""},
		{"no client", func(q url.Values) { q.Del("client_id") }, ""},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, ""},
		{"redirect without its query", func(q url.Values) { q.Set("redirect_uri", "https://gateway.example.test/auth/callback") }, ""},
		{"another client's redirect", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:8081/auth/callback") }, ""},
		{"no redirect", func(q url.Values) { q.Del("redirect_uri") }, ""},
		{"redirect twice", func(q url.Values) { q.Add("redirect_uri", rpCallback) }, ""},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token") }, "unsupported_response_type"},
		{"no openid scope", func(q url.Values) { q.Set("scope", "profile") }, "invalid_scope"},
		{"no state", func(q url.Values) { q.Del("state") }, "invalid_request"},
		{"no nonce", func(q url.Values) { q.Del("nonce") }, "invalid_request"},
		{"no challenge", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request"},
		{"plain method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"fragment mode", func(q url.Values) { q.Set("response_mode", "fragment") }, "invalid_request"},
		{"state twice", func(q url.Values) { q.Add("state", "st-2") }, "invalid_request"},
		{"prompt none", func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
		{"request object", func(q url.Values) { q.Set("request", "eyJ…") }, "request_not_supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := authParams()
			tt.change(q)
			resp, body := b.get(t, "/oauth2/authorize?"+q.Encode())
			if tt.want == "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("GET = %d to %q, want a 400 page and no redirect", resp.StatusCode, resp.Header.Get("Location"))
				}
				if !strings.Contains(body, "Sign-in refused") {
					t.Errorf("page = %s", body)
				}
				return
			}
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("GET = %d, want 303", resp.StatusCode)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			got := loc.Query()
			if got.Get("error") != tt.want || got.Get("code") != "" || got.Get("tenant") != "hcm" {
				t.Errorf("redirect = %s, want error %s and the URI's own query", loc, tt.want)
			}
			if got.Get("state") != q.Get("state") {
				t.Errorf("state = %q, want %q", got.Get("state"), q.Get("state"))
			}
		})
	}
}

var labelRE = regexp.MustCompile(`<label for="([^"]+)"`)
var inputRE = regexp.MustCompile(`<(?:input|select)[^>]* id="([^"]+)"`)

func TestSignInPage(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	resp, page := b.get(t, "/oauth2/authorize?"+authParams().Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d: %s", resp.StatusCode, page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self' https://gateway.example.test"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(page, "<script") || strings.Contains(page, "style=") {
		t.Error("the page needs inline script or style")
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers = %v", resp.Header)
	}
	for _, want := range []string{`<html lang="en">`, `name="viewport" content="width=device-width, initial-scale=1"`,
		`<span lang="vi">Nguyễn Văn An</span>, CCCD 079******234`, `method="post"`, "Sandbox bank"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, goodPID) {
		t.Error("the page shows an offered citizen's pid in clear")
	}
	if strings.Index(page, "Nguyễn Văn An") > strings.Index(page, "Lê Thị Cúc") {
		t.Error("citizens are not offered in the order given")
	}
	labels := map[string]bool{}
	for _, m := range labelRE.FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	ids := inputRE.FindAllStringSubmatch(page, -1)
	if len(ids) < 6 {
		t.Fatalf("found %d fields", len(ids))
	}
	for _, m := range ids {
		if !labels[m[1]] {
			t.Errorf("field %s has no label", m[1])
		}
	}
	if len(page) > 100<<10 {
		t.Errorf("page is %d bytes", len(page))
	}

	css := regexp.MustCompile(`href="(/assets/devidp\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatal("no content-hashed style sheet")
	}
	resp, sheet := b.get(t, css[1])
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(sheet, "max-width") {
		t.Errorf("style sheet = %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSignInTypedCitizenErrors(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	tests := []struct {
		name   string
		fields map[string]string
		field  string // the field the error names
	}{
		{"bad province", map[string]string{"pid": "003203001234"}, "pid"},
		{"eleven digits", map[string]string{"pid": "07920300123"}, "pid"},
		{"birth year disagrees", map[string]string{"birthdate": "2004-05-01"}, "birthdate"},
		{"not a date", map[string]string{"birthdate": "01/05/2003"}, "birthdate"},
		{"no name", map[string]string{"name": " "}, "name"},
		{"loa 9", map[string]string{"loa": "9"}, "loa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := authParams()
			form.Set("action", "enter")
			for k, v := range map[string]string{"pid": goodPID, "name": "Trần Thị B", "birthdate": goodBirthdate, "loa": "2"} {
				form.Set(k, v)
			}
			for k, v := range tt.fields {
				form.Set(k, v)
			}
			resp, page := b.post(t, form)
			if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Location") != "" {
				t.Fatalf("POST = %d, want 422 and no redirect", resp.StatusCode)
			}
			if !strings.Contains(page, `href="#`+tt.field+`"`) || !strings.Contains(page, `id="`+tt.field+`-error"`) {
				t.Errorf("the page does not point at %s", tt.field)
			}
			if !strings.Contains(page, "<title>Error: ") {
				t.Error("the title does not say there is an error")
			}
		})
	}
}

func TestSignInFormIsCheckedAgain(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	form := authParams()
	form.Set("action", "choose")
	form.Set("citizen", "0")
	form.Set("redirect_uri", "https://evil.example/cb")
	resp, _ := b.post(t, form)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("POST with another redirect = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form = authParams()
	form.Set("action", "choose")
	form.Set("citizen", "7")
	if resp, _ := b.post(t, form); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST with no such citizen = %d, want 422", resp.StatusCode)
	}
}
