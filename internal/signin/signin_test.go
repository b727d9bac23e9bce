package signin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/signin"
)

func TestCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	authURL, kept, err := b.rp.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": clientID, "redirect_uri": callbackURL, "response_type": "code", "scope": "openid",
		"state": kept.State, "nonce": kept.Nonce, "code_challenge_method": "S256", "response_mode": "query",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("authorization URL %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("code_challenge")) != 43 || q.Get("code_challenge") == kept.Verifier {
		t.Errorf("code_challenge = %q", q.Get("code_challenge"))
	}
	if !strings.HasPrefix(authURL, b.srv.URL+"/oauth2/authorize?") {
		t.Errorf("authorization URL = %s", authURL)
	}

	page, form := b.openPage(t, authURL)
	if !strings.Contains(page, sandboxCitizen.Name) {
		t.Error("the page does not offer the sandbox bank's citizen")
	}
	form.Set("action", "choose")
	form.Set("citizen", "0")
	back := b.submit(t, form)
	if got := back.Scheme + "://" + back.Host + back.Path; got != callbackURL {
		t.Fatalf("redirected to %s, want %s", got, callbackURL)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range back.Query() {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"code", "state"}) {
		t.Errorf("callback carries %v, want only code and state", keys)
	}

	c, err := b.rp.Finish(context.Background(), kept, back.Query())
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if c.PID != sandboxCitizen.PID || c.Name != sandboxCitizen.Name || c.Birthdate != sandboxCitizen.Birthdate || c.LOA != 2 {
		t.Errorf("citizen = %+v", c)
	}
	if c.Issuer != b.srv.URL || c.Subject == "" || c.ExpiresAt.Sub(b.clock.Now()) > 5*time.Minute {
		t.Errorf("citizen = %+v", c)
	}
}

func TestBeginIsRandom(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, first, err := b.rp.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := b.rp.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{first.State, first.Nonce, first.Verifier} {
		if len(v) < 43 { // 256 bits in base64url; at least 128 are asked for
			t.Errorf("value %q is too short", v)
		}
	}
	if first.State == second.State || first.Nonce == second.Nonce || first.Verifier == second.Verifier ||
		first.State == first.Nonce {
		t.Errorf("Begin repeats itself: %+v %+v", first, second)
	}
	if !first.Started.Equal(b.clock.Now()) {
		t.Errorf("Started = %v, want the clock's %v", first.Started, b.clock.Now())
	}
}

func TestTypedCitizenBelowLevelTwo(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, url.Values{
		"action": {"enter"}, "pid": {"001195004321"}, "name": {"Lê Thị Cúc"}, "birthdate": {"1995-08-20"}, "loa": {"1"},
	})
	c, err := b.rp.Finish(context.Background(), kept, back.Query())
	if err != nil {
		t.Fatalf("Finish: %v (§2 lets loa 1 sign in and read)", err)
	}
	if c.LOA != 1 || c.PID != "001195004321" || c.Name != "Lê Thị Cúc" {
		t.Errorf("citizen = %+v, want the typed one with loa 1", c)
	}
}

func TestTamperedState(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, chooseFirst)
	for name, q := range map[string]url.Values{
		"other state":    {"code": back.Query()["code"], "state": {kept.State[:len(kept.State)-1] + "x"}},
		"no state":       {"code": back.Query()["code"]},
		"state twice":    {"code": back.Query()["code"], "state": {kept.State, kept.State}},
		"empty kept":     nil,
		"another issuer": {"code": back.Query()["code"], "state": {kept.State}, "iss": {"https://evil.example"}},
	} {
		k := kept
		if q == nil {
			q, k = back.Query(), signin.Pending{Started: kept.Started}
		}
		if _, err := b.rp.Finish(context.Background(), k, q); !errors.Is(err, signin.ErrCallback) {
			t.Errorf("%s: Finish = %v, want ErrCallback", name, err)
		}
	}
	// None of them spent the code: the genuine callback still signs in.
	if _, err := b.rp.Finish(context.Background(), kept, back.Query()); err != nil {
		t.Fatalf("genuine callback after the tampered ones: %v", err)
	}
}

func TestReplayedCode(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, chooseFirst)
	if _, err := b.rp.Finish(context.Background(), kept, back.Query()); err != nil {
		t.Fatalf("first Finish: %v", err)
	}
	_, err := b.rp.Finish(context.Background(), kept, back.Query())
	if !errors.Is(err, signin.ErrExchange) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("replayed code: %v, want ErrExchange (invalid_grant)", err)
	}
}

func TestWrongNonce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, chooseFirst)
	kept.Nonce = strings.Repeat("n", 43)
	_, err := b.rp.Finish(context.Background(), kept, back.Query())
	if !errors.Is(err, identity.ErrInvalidToken) || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("Finish = %v, want ErrInvalidToken for the nonce", err)
	}
}

func TestWrongVerifier(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, chooseFirst)
	kept.Verifier = strings.Repeat("v", 43)
	if _, err := b.rp.Finish(context.Background(), kept, back.Query()); !errors.Is(err, signin.ErrExchange) {
		t.Fatalf("Finish = %v, want ErrExchange", err)
	}
}

func TestWrongClientSecret(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *signin.Config) { c.ClientSecret = "not-the-secret-0123456789" })
	kept, back := b.signIn(t, chooseFirst)
	_, err := b.rp.Finish(context.Background(), kept, back.Query())
	if !errors.Is(err, signin.ErrExchange) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("Finish = %v, want ErrExchange (invalid_client)", err)
	}
}

func TestMissingCodeChallenge(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for name, change := range map[string]func(url.Values){
		"no challenge": func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"no method":    func(q url.Values) { q.Del("code_challenge_method") },
		"plain":        func(q url.Values) { q.Set("code_challenge_method", "plain") },
	} {
		authURL, kept, err := b.rp.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(authURL)
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		resp, err := b.browser.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: GET = %d, want a 303 back to the client", name, resp.StatusCode)
		}
		back, _ := url.Parse(resp.Header.Get("Location"))
		if back.Query().Get("code") != "" {
			t.Fatalf("%s: devidp issued a code without S256", name)
		}
		_, err = b.rp.Finish(context.Background(), kept, back.Query())
		var ce *signin.CallbackError
		if !errors.As(err, &ce) || ce.Code != "invalid_request" || !errors.Is(err, signin.ErrDenied) {
			t.Errorf("%s: Finish = %v, want CallbackError invalid_request", name, err)
		}
	}
}

func TestCancelledSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, url.Values{"action": {"cancel"}})
	_, err := b.rp.Finish(context.Background(), kept, back.Query())
	var ce *signin.CallbackError
	if !errors.As(err, &ce) || ce.Code != "access_denied" {
		t.Fatalf("Finish = %v, want CallbackError access_denied", err)
	}
}

func TestExpiredCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		wait time.Duration
		ok   bool
	}{{59 * time.Second, true}, {61 * time.Second, false}} {
		b := setup(t, nil)
		kept, back := b.signIn(t, chooseFirst)
		b.clock.Advance(tt.wait)
		_, err := b.rp.Finish(context.Background(), kept, back.Query())
		if tt.ok && err != nil {
			t.Errorf("code used after %s: %v", tt.wait, err)
		}
		if !tt.ok && (!errors.Is(err, signin.ErrExchange) || !strings.Contains(err.Error(), "invalid_grant")) {
			t.Errorf("code used after %s: %v, want ErrExchange (invalid_grant)", tt.wait, err)
		}
	}
}

func TestPendingTooOld(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	kept, back := b.signIn(t, chooseFirst)
	kept.Started = kept.Started.Add(-signin.DefaultMaxPendingAge - time.Second)
	if _, err := b.rp.Finish(context.Background(), kept, back.Query()); !errors.Is(err, signin.ErrCallback) {
		t.Fatalf("Finish = %v, want ErrCallback", err)
	}
}

func TestDiscoveryIsLazyAndBounded(t *testing.T) {
	t.Parallel()
	good := setup(t, nil)
	var calls atomic.Int64
	var healthy atomic.Bool
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if !healthy.Load() {
			select { // a provider that never answers
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		http.Redirect(w, r, good.srv.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(proxy.Close)

	clk := &clock{t: time.Now()}
	rp, err := signin.New(signin.Config{
		Issuer: proxy.URL, ClientID: clientID, ClientSecret: clientSecret, RedirectURL: callbackURL,
		Development: true, Timeout: 100 * time.Millisecond, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Fatal("New asked the provider")
	}
	if _, _, err := rp.Begin(context.Background()); !errors.Is(err, signin.ErrUnavailable) {
		t.Fatalf("Begin with the provider hanging: %v, want ErrUnavailable", err)
	}
	if _, _, err := rp.Begin(context.Background()); !errors.Is(err, signin.ErrUnavailable) || calls.Load() != 1 {
		t.Fatalf("second Begin: %v after %d requests, want the remembered failure", err, calls.Load())
	}
	// A redirect is not followed: the issuer answers for itself.
	healthy.Store(true)
	clk.Advance(6 * time.Second)
	if _, _, err := rp.Begin(context.Background()); !errors.Is(err, signin.ErrUnavailable) || calls.Load() != 2 {
		t.Fatalf("Begin against a redirect: %v after %d requests", err, calls.Load())
	}
}

func TestNewNamesTheMissingSetting(t *testing.T) {
	t.Parallel()
	good := signin.Config{Issuer: "https://id.example", ClientID: clientID, ClientSecret: clientSecret, RedirectURL: callbackURL}
	if _, err := signin.New(good); err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, tt := range []struct {
		name   string
		change func(*signin.Config)
		want   string
	}{
		{"no issuer", func(c *signin.Config) { c.Issuer = "" }, "IDP_ISSUER"},
		{"http issuer in production", func(c *signin.Config) { c.Issuer = "http://id.example" }, "IDP_ISSUER"},
		{"no client id", func(c *signin.Config) { c.ClientID = "" }, "IDP_CLIENT_ID"},
		{"no secret", func(c *signin.Config) { c.ClientSecret = "" }, "IDP_CLIENT_SECRET"},
		{"relative redirect", func(c *signin.Config) { c.RedirectURL = "/auth/callback" }, "GATEWAY_PUBLIC_URL"},
		{"negative timeout", func(c *signin.Config) { c.Timeout = -time.Second }, "negative"},
	} {
		cfg := good
		tt.change(&cfg)
		if _, err := signin.New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}
