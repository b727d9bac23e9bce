package browsertest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"github.com/citizenpay/gateway/internal/testenv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/pii"
)

// TestDevIDPSignInInChromium drives devidp's sign-in page as a tester
// does: it offers the stack's citizens, the payer first and chosen, on a
// phone without horizontal scrolling; choosing the other citizen and
// signing in sends the browser to the gateway's redirect URI with a code and
// the state alone, and that code, exchanged as the gateway does, names the
// citizen chosen.
func TestDevIDPSignInInChromium(t *testing.T) {
	t.Parallel()
	s := New(t)
	b := NewBrowser(t, WithViewport(Phone), Named("devidp"))

	verifier := strings.Repeat("v", 43) + "erifier-of-this-test"
	sum := sha256.Sum256([]byte(verifier))
	state := "state-" + s.Payer.PID[6:]
	redirectURI := s.URL + "/auth/callback"
	q := url.Values{
		"client_id": {ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"response_mode": {"query"}, "scope": {"openid"}, "state": {state}, "nonce": {"nonce-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	b.Go(s.IDP.Issuer.Issuer() + "/oauth2/authorize?" + q.Encode())
	b.WaitVisible("#citizen-0")
	b.Shot("signin")

	first := b.Text(`label[for="citizen-0"]`)
	if !strings.Contains(first, s.Payer.Name) || !strings.Contains(first, pii.MaskPID(s.Payer.PID)) {
		t.Errorf("first citizen = %q, want %s with %s", first, s.Payer.Name, pii.MaskPID(s.Payer.PID))
	}
	if body := b.Text("body"); strings.Contains(body, s.Payer.PID) || strings.Contains(body, s.Other.PID) {
		t.Errorf("the page shows a pid in full: %q", body)
	}
	if b.Eval(`document.getElementById('citizen-0').checked`) != "true" {
		t.Error("the first citizen is not chosen by default")
	}
	assertNoHorizontalScroll(t, b, 360)

	b.Click(`label[for="citizen-1"]`)
	if b.Eval(`document.getElementById('citizen-1').checked`) != "true" {
		t.Fatal("clicking the second citizen's label did not choose them")
	}
	b.ClickText("Sign in as the chosen citizen")
	var back *url.URL
	if !testenv.Poll(StepTimeout, func() bool {
		u, err := url.Parse(b.Location())
		if err == nil && u.Scheme+"://"+u.Host+u.Path == redirectURI {
			back = u
		}
		return back != nil
	}) {
		t.Fatalf("the browser is at %s, not back at %s", b.Location(), redirectURI)
	}
	got := back.Query()
	if got.Get("state") != state || got.Get("code") == "" || len(got) != 2 {
		t.Fatalf("redirect query = %v, want code and state %q alone", got, state)
	}

	claims := exchangeCode(t, s, got.Get("code"), redirectURI, verifier)
	if claims["pid"] != s.Other.PID || claims["name"] != s.Other.Name || claims["nonce"] != "nonce-1" {
		t.Errorf("ID token claims pid %v name %v nonce %v, want the second citizen's and nonce-1",
			claims["pid"], claims["name"], claims["nonce"])
	}
	if v := b.CSPViolations(); len(v) > 0 {
		t.Errorf("CSP violations on devidp's page: %q", v)
	}
}

// exchangeCode redeems an authorization code at devidp as the checkout's
// client and returns the ID token's claims (its signature is devidp's
// tests' business).
func exchangeCode(t *testing.T, s *Stack, code, redirectURI, verifier string) map[string]any {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	req, err := http.NewRequest(http.MethodPost, s.IDP.Issuer.Issuer()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(ClientID, clientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token endpoint: %d %v", resp.StatusCode, err)
	}
	parts := strings.Split(tok.IDToken, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q is not a compact JWS", tok.IDToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestStackFee checks the stack's own footing before any page: the portal's
// fee carries the checkout URL on the stack's public URL, and a return URL
// on another origin than the portal site's is refused.
func TestStackFee(t *testing.T) {
	t.Parallel()
	s := New(t)
	f := s.NewFee()
	if f.CheckoutURL != s.URL+"/pay/"+f.ID {
		t.Errorf("checkout_url = %q, want %s/pay/%s", f.CheckoutURL, s.URL, f.ID)
	}
	res := s.H.Post("/v1/payment-requests", "fee-elsewhere", map[string]any{
		"citizen_pid": s.Payer.PID, "dossier_code": "HS-ELSEWHERE", "service_code": "2.000528",
		"description": "Lệ phí", "items": []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "1000"}},
		"amount": "1000", "currency": "VND", "return_url": s.URL + "/somewhere",
	})
	if res.Status != http.StatusUnprocessableEntity || res.Code() != "invalid_return_url" {
		t.Errorf("a return URL on the gateway's origin: %d %s, want 422 invalid_return_url", res.Status, res.Body)
	}
}
