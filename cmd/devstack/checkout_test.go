package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/devenv"
	"github.com/citizenpay/gateway/internal/portal"
)

func TestReturnPageOfTheStack(t *testing.T) {
	t.Parallel()
	st, err := devenv.Load(lookup([]string{devenv.EnvWebhookPort + "=18090"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := returnURL(st); got != "http://127.0.0.1:18090/return" {
		t.Errorf("return page %q", got)
	}
	// The origin is one the gateway registers as given, in development.
	if o, err := portal.ReturnOrigins([]string{returnOrigin(st)}, true); err != nil || o[0] != returnOrigin(st) {
		t.Errorf("origin %q normalises to %q, %v", returnOrigin(st), o, err)
	}
}

// feeFor is a demoFee against h's gateway as p.
func feeFor(h *apitest.Harness, p *portal.Portal) demoFee {
	return demoFee{client: h.Server.Client(), gateway: h.Server.URL, creds: portalCreds{PortalID: p.ID, KeyID: p.KeyID, Secret: p.Secret},
		now: h.Now, ticks: every(time.Hour)}
}

func TestAnnounceCheckout(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	st, err := devenv.Load(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.App.Portals.SetReturnOrigins(context.Background(), h.Portal.ID, []string{returnOrigin(st)}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var logged []string
	log := func(format string, args ...any) { logged = append(logged, format) }
	line := regexp.MustCompile(`^Checkout: https://pay\.gateway\.test/pay/(pr_[A-Za-z0-9]+)\n$`)
	var ids []string
	for range 2 {
		out.Reset()
		url, err := announceCheckout(context.Background(), feeFor(h, h.Portal), st, &out, log)
		m := line.FindStringSubmatch(out.String())
		if err != nil || m == nil || !strings.HasSuffix(url, m[1]) {
			t.Fatalf("announce: %v, printed %q", err, out.String())
		}
		ids = append(ids, m[1])
	}
	// Each run makes a fresh fee, for the first sandbox citizen, returning to the page.
	if ids[0] == ids[1] {
		t.Fatalf("two runs announced the same fee %s", ids[0])
	}
	want := sandboxCitizens[0].pid[:3] + "******" + sandboxCitizens[0].pid[9:]
	if n := h.Count(`SELECT count(*) FROM payment_requests WHERE id = ANY($1) AND status = 'pending' AND return_url = $2 AND citizen_pid_masked = $3`,
		ids, returnURL(st), want); n != 2 {
		t.Fatalf("%d of the announced fees are pending for %s with return_url %s, want 2", n, want, returnURL(st))
	}
	if len(logged) != 2 {
		t.Errorf("logged %q, want one line per fee", logged)
	}

	// A portal that may not return there gets no fee, and nothing is printed.
	other := h.NewPortal("No origin")
	out.Reset()
	if _, err := announceCheckout(context.Background(), feeFor(h, other), st, &out, log); err == nil || !strings.Contains(err.Error(), "invalid_return_url") || out.Len() != 0 {
		t.Errorf("without the origin: %v, printed %q", err, out.String())
	}
}

func TestWaitReady(t *testing.T) {
	t.Parallel()
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if asked.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	tick := make(chan time.Time)
	d := demoFee{client: srv.Client(), gateway: srv.URL, ticks: func() (<-chan time.Time, func()) { return tick, func() {} }}
	done := make(chan error, 1)
	go func() { done <- d.waitReady(context.Background(), time.Minute) }()
	tick <- time.Time{} // after the first 503
	tick <- time.Time{} // after the second
	if err := <-done; err != nil || asked.Load() != 3 {
		t.Fatalf("waitReady: %v after %d questions, want ready at the third", err, asked.Load())
	}

	// A gateway that never gets ready: the wait ends with the context.
	asked.Store(-1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- d.waitReady(ctx, time.Minute) }()
	tick <- time.Time{}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("waitReady returned nil for a gateway that never answered 200")
	}
}

func TestEnsureReturnOrigin(t *testing.T) {
	t.Parallel()
	st, err := devenv.Load(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := filepath.Join(dir, "gatewayctl")
	body := "#!/bin/sh\necho \"$@\" > " + argsFile + "\necho '{\"portal_id\":\"ptl_1\",\"return_origins\":[\"https://dvc.example.vn\",\"" + returnOrigin(st) + "\"]}'\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	log := func(string, ...any) {}

	// A portal that has the origin already is left alone: no command runs.
	if err := ensureReturnOrigin(context.Background(), gatewayctl{bin: filepath.Join(dir, "absent")}, st, "ptl_1", []string{returnOrigin(st)}, log); err != nil {
		t.Fatalf("with the origin: %v", err)
	}
	// One without it gets it added to what it has.
	if err := ensureReturnOrigin(context.Background(), gatewayctl{bin: script}, st, "ptl_1", []string{"https://dvc.example.vn"}, log); err != nil {
		t.Fatalf("without the origin: %v", err)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := "portal set-return-origins --portal ptl_1 --by devstack https://dvc.example.vn " + returnOrigin(st) + "\n"; string(args) != want {
		t.Errorf("ran gatewayctl %q, want %q", args, want)
	}
}
