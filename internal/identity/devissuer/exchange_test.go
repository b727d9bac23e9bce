package devissuer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// code signs in as the first offered citizen and returns the code.
func (b oidcBundle) code(t *testing.T) string {
	t.Helper()
	form := authParams()
	form.Set("action", "choose")
	form.Set("citizen", "0")
	resp, body := b.post(t, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("state") != "st-1" || loc.Query().Get("tenant") != "hcm" {
		t.Fatalf("callback = %s", loc)
	}
	return loc.Query().Get("code")
}

// exchangeParams is a valid token request for code.
func exchangeParams(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback}, "code_verifier": {verifier}}
}

// exchange posts a token request with client_secret_basic (id and secret
// form-encoded first, as RFC 6749 §2.3.1 says); an empty id sends none.
func (b oidcBundle) exchange(t *testing.T, id, secret string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("token answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, body
}

func TestTokenEndpointIssuesIDToken(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	status, h, body := b.exchange(t, rpID, rpSecret, exchangeParams(b.code(t)))
	if status != http.StatusOK || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("token = %d %v %v", status, h, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["scope"] != "openid" {
		t.Errorf("answer = %v", body)
	}
	idToken, _ := body["id_token"].(string)
	jws, err := jose.ParseSignedCompact(idToken, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if jws.Signatures[0].Protected.KeyID != b.issuer.KeyID() {
		t.Errorf("kid = %q, want the issuer's", jws.Signatures[0].Protected.KeyID)
	}
	var claims map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		t.Fatal(err)
	}
	now := b.clock.Now().Unix()
	want := map[string]any{"iss": b.url, "aud": rpID, "azp": rpID, "nonce": "no-1", "pid": goodPID,
		"name": "Nguyễn Văn An", "birthdate": goodBirthdate, "loa": float64(2),
		"iat": float64(now), "auth_time": float64(now), "exp": float64(now + 300)}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("id token %s = %v, want %v", k, claims[k], v)
		}
	}

	// The access token is a §2 bearer token for the gateway.
	v, err := identity.NewVerifier(identity.Config{
		Issuer: b.url, Audience: devissuer.DefaultAudience, JWKSURL: b.url + "/.well-known/jwks.json", Development: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	access, _ := body["access_token"].(string)
	if c, err := v.Verify(context.Background(), access); err != nil || c.PID != goodPID {
		t.Errorf("access token: %+v %v", c, err)
	}
	// And the ID token is not one: its audience is the client.
	if _, err := v.Verify(context.Background(), idToken); !errors.Is(err, identity.ErrInvalidToken) {
		t.Errorf("ID token accepted as a bearer token: %v", err)
	}
}

func TestTokenEndpointRefusals(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	tests := []struct {
		name       string
		id, secret string
		change     func(url.Values)
		status     int
		want       string
	}{
		{"no client authentication", "", "", nil, http.StatusUnauthorized, "invalid_client"},
		{"wrong secret", rpID, rpSecret + "x", nil, http.StatusUnauthorized, "invalid_client"},
		{"unknown client", "nobody", rpSecret, nil, http.StatusUnauthorized, "invalid_client"},
		{"client_secret_post", "", "", func(f url.Values) { f.Set("client_id", rpID); f.Set("client_secret", rpSecret) }, http.StatusUnauthorized, "invalid_client"},
		{"two methods", rpID, rpSecret, func(f url.Values) { f.Set("client_secret", rpSecret) }, http.StatusBadRequest, "invalid_request"},
		{"password grant", rpID, rpSecret, func(f url.Values) { f.Set("grant_type", "password") }, http.StatusBadRequest, "unsupported_grant_type"},
		{"no grant type", rpID, rpSecret, func(f url.Values) { f.Del("grant_type") }, http.StatusBadRequest, "invalid_request"},
		{"no verifier", rpID, rpSecret, func(f url.Values) { f.Del("code_verifier") }, http.StatusBadRequest, "invalid_request"},
		{"code twice", rpID, rpSecret, func(f url.Values) { f.Add("code", "x") }, http.StatusBadRequest, "invalid_request"},
		{"unknown code", rpID, rpSecret, func(f url.Values) { f.Set("code", "nope") }, http.StatusBadRequest, "invalid_grant"},
		{"another redirect", rpID, rpSecret, func(f url.Values) { f.Set("redirect_uri", "https://gateway.example.test/auth/callback") }, http.StatusBadRequest, "invalid_grant"},
		{"wrong verifier", rpID, rpSecret, func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 43)) }, http.StatusBadRequest, "invalid_grant"},
		{"short verifier", rpID, rpSecret, func(f url.Values) { f.Set("code_verifier", verifier[:42]) }, http.StatusBadRequest, "invalid_grant"},
		{"another client", otherID, "console-secret-0123456789", nil, http.StatusBadRequest, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := b.code(t)
			form := exchangeParams(code)
			if tt.change != nil {
				tt.change(form)
			}
			status, h, body := b.exchange(t, tt.id, tt.secret, form)
			if status != tt.status || body["error"] != tt.want {
				t.Fatalf("token = %d %v, want %d %s", status, body, tt.status, tt.want)
			}
			if status == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without WWW-Authenticate: %v", h)
			}
			// A refusal before the code was looked at leaves it usable; any
			// presentation by an authenticated client spends it.
			spent := tt.want == "invalid_grant" && tt.name != "unknown code"
			status, _, body = b.exchange(t, rpID, rpSecret, exchangeParams(code))
			if spent != (status != http.StatusOK) {
				t.Errorf("the code afterwards: %d %v, spent = %v", status, body, spent)
			}
		})
	}
}

func TestTokenEndpointCodeLifetime(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	code := b.code(t)
	b.clock.Advance(devissuer.CodeTTL)
	status, _, body := b.exchange(t, rpID, rpSecret, exchangeParams(code))
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["error_description"] != "code expired" {
		t.Fatalf("expired code = %d %v", status, body)
	}

	code = b.code(t)
	b.clock.Advance(devissuer.CodeTTL - time.Second)
	if status, _, body := b.exchange(t, rpID, rpSecret, exchangeParams(code)); status != http.StatusOK {
		t.Fatalf("code a second before it expires = %d %v", status, body)
	}
	status, _, body = b.exchange(t, rpID, rpSecret, exchangeParams(code))
	if status != http.StatusBadRequest || body["error_description"] != "code already used" {
		t.Fatalf("replayed code = %d %v", status, body)
	}
}

func TestTokenEndpointWantsAForm(t *testing.T) {
	t.Parallel()
	b := setupProvider(t)
	req, err := http.NewRequest(http.MethodPost, b.url+"/oauth2/token", strings.NewReader(`{"grant_type":"authorization_code"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(rpID, rpSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("JSON token request = %d, want 400", resp.StatusCode)
	}
}

func TestNewProviderRefusesBadConfig(t *testing.T) {
	t.Parallel()
	iss, err := devissuer.Generate("http://127.0.0.1:8091")
	if err != nil {
		t.Fatal(err)
	}
	good := devissuer.Client{ID: rpID, Secret: rpSecret, RedirectURIs: []string{rpCallback}}
	tests := []struct {
		name string
		cfg  devissuer.ProviderConfig
	}{
		{"client id with a colon", devissuer.ProviderConfig{Clients: []devissuer.Client{{ID: "a:b", Secret: rpSecret, RedirectURIs: good.RedirectURIs}}}},
		{"short secret", devissuer.ProviderConfig{Clients: []devissuer.Client{{ID: rpID, Secret: "short", RedirectURIs: good.RedirectURIs}}}},
		{"no redirect URI", devissuer.ProviderConfig{Clients: []devissuer.Client{{ID: rpID, Secret: rpSecret}}}},
		{"relative redirect URI", devissuer.ProviderConfig{Clients: []devissuer.Client{{ID: rpID, Secret: rpSecret, RedirectURIs: []string{"/cb"}}}}},
		{"redirect URI with a fragment", devissuer.ProviderConfig{Clients: []devissuer.Client{{ID: rpID, Secret: rpSecret, RedirectURIs: []string{"https://a.example/cb#x"}}}}},
		{"client twice", devissuer.ProviderConfig{Clients: []devissuer.Client{good, good}}},
		{"citizen with a bad pid", devissuer.ProviderConfig{Citizens: []devissuer.Citizen{{PID: "003203001234", Name: "A", Birthdate: goodBirthdate}}}},
		{"citizen with loa 9", devissuer.ProviderConfig{Citizens: []devissuer.Citizen{{PID: goodPID, Name: "A", Birthdate: goodBirthdate, LOA: 9}}}},
	}
	for _, tt := range tests {
		_, err := devissuer.NewProvider(iss, tt.cfg)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if strings.Contains(err.Error(), "003203001234") || strings.Contains(err.Error(), goodPID) {
			t.Errorf("%s: error quotes the pid: %v", tt.name, err)
		}
	}
	if _, err := devissuer.NewProvider(iss, devissuer.ProviderConfig{Clients: []devissuer.Client{good}}); err != nil {
		t.Errorf("good config: %v", err)
	}
}
