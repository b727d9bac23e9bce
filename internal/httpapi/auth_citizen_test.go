package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

func TestCitizenIdentityRefusals(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t)
	good := idp.NewCitizen(t, 2)
	now := time.Now().Unix()
	claims := func(over map[string]any) string {
		c := map[string]any{"iss": idp.Issuer.Issuer(), "aud": devissuer.DefaultAudience, "iat": now, "nbf": now,
			"exp": now + 600, "pid": good.PID, "name": good.Name, "birthdate": good.Birthdate, "loa": 2}
		for k, v := range over {
			c[k] = v
		}
		tok, err := idp.Issuer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	other := apitest.NewIdentity(t).NewCitizen(t, 2) // signed by a key the gateway does not trust
	tests := []struct {
		name, token, method, path string
		status                    int
		code                      string
	}{
		{"no token", "", http.MethodGet, "/v1/me", 401, "invalid_token"},
		{"not a JWT", "garbage", http.MethodGet, "/v1/me", 401, "invalid_token"},
		{"expired", claims(map[string]any{"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}), http.MethodGet, "/v1/me", 401, "invalid_token"},
		{"wrong audience", claims(map[string]any{"aud": "someone-else"}), http.MethodGet, "/v1/me/accounts", 401, "invalid_token"},
		{"loa as a string", claims(map[string]any{"loa": "2"}), http.MethodGet, "/v1/me", 401, "invalid_token"},
		{"unknown key", other.Token, http.MethodGet, "/v1/me", 401, "invalid_token"},
		{"bad pid", claims(map[string]any{"pid": "000203001234"}), http.MethodGet, "/v1/me", 401, "invalid_identity"},
		{"pid against birthdate", claims(map[string]any{"birthdate": "1999-05-17"}), http.MethodGet, "/v1/me", 401, "invalid_identity"},
		{"loa 1 links", claims(map[string]any{"loa": 1}), http.MethodPost, "/v1/me/accounts", 403, "insufficient_assurance"},
		{"loa 1 unlinks", claims(map[string]any{"loa": 1}), http.MethodDelete, "/v1/me/accounts/acc_x", 403, "insufficient_assurance"},
		{"loa 1 sets a default", claims(map[string]any{"loa": 1}), http.MethodPost, "/v1/me/accounts/acc_x/default", 403, "insufficient_assurance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == http.MethodPost && strings.HasSuffix(tt.path, "/accounts") {
				body = linkBody("SBX", "0071000123456")
			}
			r := h.AsCitizen(tt.token, tt.method, tt.path, "key-"+tt.name, body)
			if r.Status != tt.status || r.Code() != tt.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, tt.status, tt.code)
			}
			if tt.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without a WWW-Authenticate challenge")
			}
		})
	}
	// loa 1 may read.
	low := claims(map[string]any{"loa": 1})
	if r := h.AsCitizen(low, http.MethodGet, "/v1/me/accounts", "", nil); r.Status != http.StatusOK {
		t.Fatalf("loa 1 reads: %d %s", r.Status, r.Body)
	}
	if n := h.Count(`SELECT count(*) FROM citizens`) + h.Count(`SELECT count(*) FROM idempotency_records`); n != 0 {
		t.Fatalf("refused requests wrote %d rows", n)
	}
}

func TestCitizenAPIWithoutIdentityProvider(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	idp := apitest.NewIdentity(t)
	c := idp.NewCitizen(t, 2)
	for _, path := range []string{"/v1/me", "/v1/me/accounts", "/v1/me/payment-requests"} {
		r := h.AsCitizen(c.Token, http.MethodGet, path, "", nil)
		if r.Status != http.StatusServiceUnavailable || r.Code() != "identity_not_configured" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d %s %v", path, r.Status, r.Body, r.Header)
		}
	}
}

// TestIdentityKeysUnavailable: the provider's JWKS cannot be fetched and no
// key set was ever loaded, so no token can be judged either way: 503.
func TestIdentityKeysUnavailable(t *testing.T) {
	t.Parallel()
	idp := apitest.NewIdentity(t)
	h := apitest.New(t, idp.Option())
	c := idp.NewCitizen(t, 2)
	idp.Server.Close()
	r := h.AsCitizen(c.Token, http.MethodGet, "/v1/me", "", nil)
	if r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("keys unavailable: %d %s", r.Status, r.Body)
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t)
	c := idp.NewCitizen(t, 3)
	r := h.AsCitizen(c.Token, http.MethodGet, "/v1/me", "", nil)
	m := r.Map(t)
	if r.Status != http.StatusOK || m["citizen_pid_masked"] != c.PID[:3]+"******"+c.PID[9:] || m["name"] != c.Name || m["loa"] != 3.0 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), c.PID) {
		t.Fatal("the clear pid is shown")
	}
	// Reading creates nothing.
	if n := h.Count(`SELECT count(*) FROM citizens`); n != 0 {
		t.Fatalf("GET /v1/me wrote %d citizens", n)
	}
}

func TestMyPaymentRequests(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t)
	c, other := idp.NewCitizen(t, 1), idp.NewCitizen(t, 1)
	var ids []string
	for _, dossier := range []string{"HCM-ME-1", "HCM-ME-2"} {
		body := createBody(dossier)
		body["citizen_pid"] = c.PID
		r := h.Post("/v1/payment-requests", "pr-"+dossier, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		ids = append(ids, r.Map(t)["id"].(string))
	}
	if r := h.Post("/v1/payment-requests/"+ids[0]+"/cancel", "cancel", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	list := func(c *apitest.Citizen, query string) []string {
		r := h.AsCitizen(c.Token, http.MethodGet, "/v1/me/payment-requests"+query, "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, r.Status, r.Body)
		}
		var l struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		r.JSON(t, &l)
		var out []string
		for _, pr := range l.Data {
			out = append(out, pr.ID)
		}
		return out
	}
	if got := list(c, ""); len(got) != 2 || got[0] != ids[1] || got[1] != ids[0] {
		t.Fatalf("mine: %v, want %v newest first", got, ids)
	}
	if got := list(c, "?status=pending"); len(got) != 1 || got[0] != ids[1] {
		t.Fatalf("pending: %v", got)
	}
	if got := list(other, ""); len(got) != 0 {
		t.Fatalf("another citizen sees %v", got)
	}
	if r := h.AsCitizen(c.Token, http.MethodGet, "/v1/me/payment-requests?status=nope", "", nil); r.Code() != "invalid_request" {
		t.Fatalf("bad status: %d %s", r.Status, r.Body)
	}
}
