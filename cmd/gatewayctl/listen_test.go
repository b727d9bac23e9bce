package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/webhook"
)

// syncBuffer is a bytes.Buffer safe for a server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the JSON lines printed so far.
func (b *syncBuffer) lines(t *testing.T) []received {
	t.Helper()
	var out []received
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var r received
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

func newSecret(t *testing.T) (string, webhook.Secret) {
	t.Helper()
	text, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s, err := webhook.ParseSecret(text)
	if err != nil {
		t.Fatal(err)
	}
	return text, s
}

// startListener serves a listener for secret; its output goes to the
// returned buffers.
func startListener(t *testing.T, secret, forward string) (url string, out, warn *syncBuffer) {
	t.Helper()
	s, err := webhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	out, warn = &syncBuffer{}, &syncBuffer{}
	srv := httptest.NewServer(&listener{secrets: []webhook.Secret{s}, forward: forward, out: out, warn: warn})
	t.Cleanup(srv.Close)
	return srv.URL, out, warn
}

func post(t *testing.T, url string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestListenVerifiesARealDelivery(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, apitest.WithEnv("GATEWAY_WORKERS", "true"), apitest.WithEnv("WEBHOOK_RETRY_FACTOR", "0.001"))
	url, out, warn := startListener(t, h.Portal.WebhookSecret, "")
	pointPortal(t, h, url+"/webhooks")
	evID := createRequest(t, h, "HCM-LISTEN")
	testenv.Eventually(t, 30*time.Second, func() bool { return len(out.lines(t)) == 1 && delivered(t, h, evID) }, "the delivery")
	line := out.lines(t)[0]
	if line.ID != evID || line.Type != "payment_request.created" || line.ForwardStatus != 0 {
		t.Errorf("line %+v, want %s payment_request.created", line, evID)
	}
	var stored []byte
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT payload FROM events WHERE id = $1`, evID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, stored); err != nil {
		t.Fatal(err)
	}
	if string(line.Body) != compact.String() {
		t.Errorf("printed body %s, stored %s", line.Body, stored)
	}
	if w := warn.String(); w != "" {
		t.Errorf("warnings: %s", w)
	}
}

func TestListenRefusesWhatItCannotVerify(t *testing.T) {
	t.Parallel()
	text, sec := newSecret(t)
	_, stranger := newSecret(t)
	url, out, warn := startListener(t, text, "")
	body := []byte(`{"id":"evt_1","type":"payment_request.paid","data":{}}`)
	now := time.Now()
	tests := []struct {
		name   string
		path   string
		method string
		header http.Header
		status int
		warn   string
	}{
		{name: "another secret", header: webhook.Headers("evt_1", now, body, stranger), status: 400, warn: "no signature matches"},
		{name: "no headers", header: http.Header{}, status: 400, warn: "missing"},
		{name: "too old", header: webhook.Headers("evt_1", now.Add(-10*time.Minute), body, sec), status: 400, warn: "too old"},
		{name: "tampered id", header: func() http.Header {
			hd := webhook.Headers("evt_1", now, body, sec)
			hd.Set(webhook.HeaderID, "evt_2")
			return hd
		}(), status: 400, warn: "no signature matches"},
		{name: "wrong path", path: "/other", header: webhook.Headers("evt_1", now, body, sec), status: 404},
		{name: "GET", method: http.MethodGet, status: 405},
	}
	for _, tt := range tests {
		method := cmp.Or(tt.method, http.MethodPost)
		req, err := http.NewRequest(method, url+cmp.Or(tt.path, "/webhooks"), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		if tt.warn != "" && !strings.Contains(warn.String(), tt.warn) {
			t.Errorf("%s: no warning %q in %q", tt.name, tt.warn, warn.String())
		}
	}
	if s := out.String(); s != "" {
		t.Errorf("printed refused webhooks: %s", s)
	}
	// And the genuine one passes.
	if status, _ := post(t, url+"/webhooks", webhook.Headers("evt_1", now, body, sec), body); status != 200 {
		t.Errorf("genuine: %d", status)
	}
	if l := out.lines(t); len(l) != 1 || l[0].ID != "evt_1" || l[0].Type != "payment_request.paid" {
		t.Errorf("lines %+v", l)
	}
}

func TestListenForwards(t *testing.T) {
	t.Parallel()
	text, sec := newSecret(t)
	got := make(chan http.Header, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(target.Close)
	url, out, _ := startListener(t, text, target.URL+"/hook")
	body := []byte(`{"id":"evt_9","type":"refund.succeeded"}`)
	hd := webhook.Headers("evt_9", time.Now(), body, sec)
	hd.Set("Content-Type", "application/json")
	if status, _ := post(t, url+"/webhooks", hd, body); status != http.StatusServiceUnavailable {
		t.Errorf("answered %d, want the target's 503", status)
	}
	fwd := <-got
	for _, k := range []string{webhook.HeaderID, webhook.HeaderTimestamp, webhook.HeaderSignature, "Content-Type"} {
		if fwd.Get(k) != hd.Get(k) {
			t.Errorf("forwarded %s = %q, want %q", k, fwd.Get(k), hd.Get(k))
		}
	}
	if l := out.lines(t); len(l) != 1 || l[0].ForwardStatus != http.StatusServiceUnavailable {
		t.Errorf("lines %+v", l)
	}
}

func TestListenCommandStopsOnSignal(t *testing.T) {
	t.Parallel()
	text, sec := newSecret(t)
	file := filepath.Join(t.TempDir(), "portal.json")
	if err := os.WriteFile(file, []byte(`{"portal_id":"ptl_1","webhook_secret":"`+text+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, warn := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"listen", "--port", "0", "--portal-file", file}, func(string) string { return "" }, nil, out, warn)
	}()
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+/webhooks`)
	testenv.Eventually(t, 30*time.Second, func() bool { return addr.MatchString(warn.String()) }, "the listener")
	body := []byte(`{"id":"evt_5","type":"payment_request.expired"}`)
	if status, _ := post(t, addr.FindString(warn.String()), webhook.Headers("evt_5", time.Now(), body, sec), body); status != 200 {
		t.Errorf("delivery: %d", status)
	}
	if l := out.lines(t); len(l) != 1 || l[0].ID != "evt_5" {
		t.Errorf("lines %+v", l)
	}
	cancel() // what SIGINT does through main's signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("listen returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not stop")
	}
	if !strings.Contains(warn.String(), "stopped") {
		t.Errorf("stderr %q", warn.String())
	}
}

func TestListenArguments(t *testing.T) {
	t.Parallel()
	text, _ := newSecret(t)
	tests := []struct {
		args []string
		want string // in the error; "" for errUsage
	}{
		{args: []string{"listen", "extra"}},
		{args: []string{"listen", "--port", "70000"}},
		{args: []string{"listen", "--portal-file", filepath.Join(t.TempDir(), "missing.json")}, want: "--portal-file"},
		{args: []string{"listen", "--secret", "whsec_short"}, want: "invalid webhook secret"},
		{args: []string{"listen", "--secret", text, "--forward", "ftp://x"}, want: "--forward"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, func(string) string { return "" }, nil, &bytes.Buffer{}, &bytes.Buffer{})
		switch {
		case tt.want == "" && !errors.Is(err, errUsage):
			t.Errorf("%v: %v, want usage", tt.args, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}
