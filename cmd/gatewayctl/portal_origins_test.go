package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

// portalctl runs gatewayctl portal args in env against h's database and
// returns what it printed and its error.
func portalctl(t *testing.T, h *apitest.Harness, env string, args ...string) (string, error) {
	t.Helper()
	vars := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": env}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"portal"}, args...), func(k string) string { return vars[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

func storedOrigins(t *testing.T, h *apitest.Harness, id string) []string {
	t.Helper()
	p, err := h.App.Portals.ByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.ReturnOrigins
}

func TestPortalCreateWithReturnOrigins(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	var created struct {
		PortalID      string   `json:"portal_id"`
		ReturnOrigins []string `json:"return_origins"`
	}
	ctlJSON(t, h, &created, "portal", "create", "--by", "tester", "--name", "DVC", "--webhook-url", "https://dvc.example.vn/hooks",
		"--return-origin", "https://DVC.example.vn/ho-so", "--return-origin", "http://localhost:8099/return", "--return-origin", "https://dvc.example.vn:443")
	want := []string{"http://localhost:8099", "https://dvc.example.vn"}
	if !slices.Equal(created.ReturnOrigins, want) || !slices.Equal(storedOrigins(t, h, created.PortalID), want) {
		t.Fatalf("created with %q, stored %q; want %q", created.ReturnOrigins, storedOrigins(t, h, created.PortalID), want)
	}
	var plain struct {
		PortalID      string   `json:"portal_id"`
		ReturnOrigins []string `json:"return_origins"`
	}
	ctlJSON(t, h, &plain, "portal", "create", "--by", "tester", "--name", "Plain", "--webhook-url", "https://plain.example.vn/hooks")
	if plain.ReturnOrigins == nil || len(plain.ReturnOrigins) != 0 || len(storedOrigins(t, h, plain.PortalID)) != 0 {
		t.Fatalf("a portal created without --return-origin has %q", plain.ReturnOrigins)
	}

	// A bad origin, or http in production, refuses the portal: none is created.
	before := h.Count(`SELECT count(*) FROM portals`)
	for _, tc := range []struct{ env, origin string }{
		{"development", "dvc.example.vn"},
		{"development", "https://user:pw@dvc.example.vn"},
		{"production", "http://dvc.example.vn"},
	} {
		out, err := portalctl(t, h, tc.env, "create", "--by", "tester", "--name", "Bad", "--webhook-url", "https://bad.example.vn/hooks", "--return-origin", tc.origin)
		if err == nil || !strings.Contains(err.Error(), "--return-origin") || !strings.Contains(err.Error(), tc.origin) || strings.Contains(err.Error(), "\n") || out != "" {
			t.Errorf("create --return-origin %q in %s: %v (printed %q)", tc.origin, tc.env, err, out)
		}
	}
	if after := h.Count(`SELECT count(*) FROM portals`); after != before {
		t.Errorf("%d portals created by refused commands", after-before)
	}
}

func TestPortalSetReturnOrigins(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	type set struct {
		PortalID      string   `json:"portal_id"`
		ReturnOrigins []string `json:"return_origins"`
	}
	var first set
	ctlJSON(t, h, &first, "portal", "set-return-origins", "--by", "tester", "--portal", h.Portal.ID, "https://a.example.vn/x", "https://b.example.vn:8443",
		"https://[2001:DB8::1]:9443/")
	if first.PortalID != h.Portal.ID || !slices.Equal(first.ReturnOrigins, []string{"https://[2001:db8::1]:9443", "https://a.example.vn", "https://b.example.vn:8443"}) {
		t.Fatalf("set: %+v", first)
	}
	// The set is replaced, not added to; the key id names the portal too.
	var second set
	ctlJSON(t, h, &second, "portal", "set-return-origins", "--by", "tester", "--portal", h.Portal.KeyID, "https://c.example.vn")
	if second.PortalID != h.Portal.ID || !slices.Equal(second.ReturnOrigins, []string{"https://c.example.vn"}) ||
		!slices.Equal(storedOrigins(t, h, h.Portal.ID), []string{"https://c.example.vn"}) {
		t.Fatalf("replace: %+v, stored %q", second, storedOrigins(t, h, h.Portal.ID))
	}
	// A bad URL among good ones changes nothing.
	out, err := portalctl(t, h, "production", "set-return-origins", "--by", "tester", "--portal", h.Portal.ID, "https://d.example.vn", "http://e.example.vn")
	if err == nil || !strings.Contains(err.Error(), "http://e.example.vn") || strings.Contains(err.Error(), "\n") || out != "" {
		t.Errorf("set with an http origin in production: %v (printed %q)", err, out)
	}
	if got := storedOrigins(t, h, h.Portal.ID); !slices.Equal(got, []string{"https://c.example.vn"}) {
		t.Errorf("a refused set changed the origins to %q", got)
	}
	if _, err := portalctl(t, h, "development", "set-return-origins", "--by", "tester", "https://c.example.vn"); err == nil || !strings.Contains(err.Error(), "--portal") {
		t.Errorf("without --portal: %v", err)
	}
	if _, err := portalctl(t, h, "development", "set-return-origins", "--by", "tester", "--portal", "ptl_nope", "https://c.example.vn"); err == nil || !strings.Contains(err.Error(), "no portal") {
		t.Errorf("unknown portal: %v", err)
	}
	// No URL clears the set.
	var cleared set
	ctlJSON(t, h, &cleared, "portal", "set-return-origins", "--by", "tester", "--portal", h.Portal.ID)
	if cleared.ReturnOrigins == nil || len(cleared.ReturnOrigins) != 0 || len(storedOrigins(t, h, h.Portal.ID)) != 0 {
		t.Fatalf("clear: %+v", cleared)
	}
	// The table itself holds origins only, whoever writes to it.
	for _, bad := range []string{"https://c.example.vn/path", "HTTPS://C.EXAMPLE.VN", "https://c.example.vn?x", "c.example.vn"} {
		if _, err := h.DB.Pool.Exec(context.Background(), `INSERT INTO portal_return_origins (portal_id, origin) VALUES ($1, $2)`, h.Portal.ID, bad); err == nil {
			t.Errorf("the table took %q as an origin", bad)
		}
	}
	// Other commands still take no positional arguments.
	if _, err := portalctl(t, h, "development", "list", "extra"); !errors.Is(err, errUsage) {
		t.Errorf("portal list extra: %v, want usage", err)
	}
}
