package signin_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
	"github.com/citizenpay/gateway/internal/signin"
)

const (
	clientID     = "citizenpay-checkout"
	clientSecret = "dev-client-secret-0123456789"
	gatewayURL   = "https://gateway.example.test"
	callbackURL  = gatewayURL + "/auth/callback"
)

// The sandbox bank's first citizen, offered first on devidp's page.
var sandboxCitizen = devissuer.Citizen{PID: "079203001234", Name: "Nguyễn Văn An", Birthdate: "2003-05-17", LOA: 2}

// clock is a settable time source shared by devidp and the relying party.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle is a devidp provider served in-process and a relying party on it.
type bundle struct {
	srv     *httptest.Server
	issuer  *devissuer.Issuer
	clock   *clock
	rp      *signin.RelyingParty
	browser *http.Client // follows no redirect, like a test that reads each hop
	faults  *faults
}

// faults change what devidp answers, for the cases an honest provider never
// produces.
type faults struct {
	jwksDown atomic.Bool
	mu       sync.Mutex
	// reissue, when set, replaces the ID token of a token response by the
	// one it returns for the original's claims.
	reissue func(claims map[string]any) string
}

func (f *faults) setReissue(fn func(map[string]any) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reissue = fn
}

// wrap applies the faults around devidp's handler.
func (f *faults) wrap(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/jwks.json" && f.jwksDown.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		f.mu.Lock()
		reissue := f.reissue
		f.mu.Unlock()
		if r.URL.Path != "/oauth2/token" || reissue == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			t.Errorf("token endpoint = %d %s", rec.Code, rec.Body)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		raw, _ := body["id_token"].(string)
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.EdDSA})
		var claims map[string]any
		if err != nil || json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims) != nil {
			t.Errorf("id_token unreadable: %v", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		body["id_token"] = reissue(claims)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}

// setup starts devidp with the gateway's client and returns a relying party
// configured with cfg's changes applied.
func setup(t *testing.T, change func(*signin.Config)) bundle {
	t.Helper()
	clk := &clock{t: time.Now()}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	iss, err := devissuer.Generate(issuer)
	if err != nil {
		t.Fatal(err)
	}
	p, err := devissuer.NewProvider(iss, devissuer.ProviderConfig{
		Clients:  []devissuer.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{callbackURL}}},
		Citizens: []devissuer.Citizen{sandboxCitizen},
		Now:      clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{}
	srv.Config.Handler = f.wrap(t, p.Handler())
	srv.Start()
	t.Cleanup(srv.Close)

	cfg := signin.Config{
		Issuer: issuer, ClientID: clientID, ClientSecret: clientSecret, RedirectURL: callbackURL,
		Development: true, Now: clk.Now,
	}
	if change != nil {
		change(&cfg)
	}
	rp, err := signin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return bundle{srv: srv, issuer: iss, clock: clk, rp: rp, browser: browser, faults: f}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// openPage GETs the authorization URL as a browser would and returns the
// page and the hidden fields of its first form.
func (b bundle) openPage(t *testing.T, authURL string) (string, url.Values) {
	t.Helper()
	resp, err := b.browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET authorization URL = %d: %s", resp.StatusCode, body)
	}
	page := string(body)
	form := url.Values{}
	firstForm := page[:strings.Index(page, "</form>")]
	for _, m := range hiddenRE.FindAllStringSubmatch(firstForm, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return page, form
}

// submit posts the sign-in form and returns the redirect it answers with.
func (b bundle) submit(t *testing.T, form url.Values) *url.URL {
	t.Helper()
	resp, err := b.browser.PostForm(b.srv.URL+"/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST sign-in = %d, want 303: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// signIn runs the browser's part: Begin, the page, the chosen citizen, and
// the redirect back, whose URL it returns with what Begin said to keep.
func (b bundle) signIn(t *testing.T, fields url.Values) (signin.Pending, *url.URL) {
	t.Helper()
	authURL, kept, err := b.rp.Begin(context.Background())
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	_, form := b.openPage(t, authURL)
	for k, vs := range fields {
		form[k] = vs
	}
	return kept, b.submit(t, form)
}

// chooseFirst picks the first offered citizen.
var chooseFirst = url.Values{"action": {"choose"}, "citizen": {"0"}}
