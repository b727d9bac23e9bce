package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true},
		{"203.113.131.1", true},
		{"2001:4860:4860::8888", true},
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.64.0.1", false},      // carrier-grade NAT
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"198.18.0.1", false},
		{"::1", false},
		{"::", false},
		{"fc00::1", false},
		{"fe80::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
	}
	for _, tt := range tests {
		if got := PublicAddr(netip.MustParseAddr(tt.addr)); got != tt.public {
			t.Errorf("PublicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
		}
	}
}

func testSecret(t *testing.T) (string, Secret) {
	t.Helper()
	text, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSecret(text)
	if err != nil {
		t.Fatal(err)
	}
	return text, s
}

func TestSendSignsWithEverySecret(t *testing.T) {
	t.Parallel()
	newText, newSec := testSecret(t)
	oldText, oldSec := testSecret(t)
	body := []byte(`{"id":"evt_1","type":"payment_request.created"}`)
	type got struct {
		header http.Header
		body   []byte
	}
	gotc := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotc <- got{r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	res := NewSender(true).Send(context.Background(), srv.URL+"/webhooks", "evt_1", body, time.Now(), newSec, oldSec)
	if !res.Delivered() || res.Problem != "" {
		t.Fatalf("result %+v, want delivered", res)
	}
	g := <-gotc
	if string(g.body) != string(body) {
		t.Errorf("body %s, want %s", g.body, body)
	}
	if ct := g.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if id := g.header.Get(HeaderID); id != "evt_1" {
		t.Errorf("webhook-id %q", id)
	}
	if n := len(strings.Fields(g.header.Get(HeaderSignature))); n != 2 {
		t.Errorf("%d signatures, want 2", n)
	}
	for _, text := range []string{newText, oldText} {
		wh, err := standardwebhooks.NewWebhook(text)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(g.body, g.header); err != nil {
			t.Errorf("standardwebhooks refuses: %v", err)
		}
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	_, sec := testSecret(t)
	var elsewhere atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, _ *http.Request) { elsewhere.Add(1) })
	mux.HandleFunc("/busy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "down\x00 for\n\tmaintenance "+strings.Repeat("é", 5000))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"error":"citizen 079203001234 unknown, account 12345678, code 42"}`)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // after the parallel subtests
	t.Cleanup(func() {
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("the redirect was followed %d times", n)
		}
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name        string
		url         string
		status      int
		retryAfter  time.Duration
		problemHas  []string
		problemLack []string
	}{
		{name: "redirect not followed", url: srv.URL + "/redirect", status: http.StatusFound,
			problemHas: []string{"HTTP 302", "redirects are not followed"}, problemLack: []string{"elsewhere"}},
		{name: "503 with Retry-After and a long body", url: srv.URL + "/busy", status: http.StatusServiceUnavailable, retryAfter: 2 * time.Minute,
			problemHas: []string{"HTTP 503: down for maintenance é", "…"}, problemLack: []string{"\x00", "\n"}},
		{name: "numbers masked", url: srv.URL + "/echo", status: http.StatusUnprocessableEntity,
			problemHas: []string{"citizen [number] unknown, account [number], code 42"}, problemLack: []string{"079203001234", "12345678"}},
		{name: "410", url: srv.URL + "/gone", status: http.StatusGone, problemHas: []string{"HTTP 410"}},
		{name: "nobody listening, URL with a token", url: closedURL + "/webhooks?token=s3cr3t", problemHas: []string{"connect"},
			problemLack: []string{"s3cr3t", "/webhooks"}},
		{name: "not a URL", url: "portal.example/webhooks", problemHas: []string{"refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := NewSender(true).Send(context.Background(), tt.url, "evt_2", []byte(`{}`), time.Now(), sec)
			if res.Delivered() || res.Status != tt.status || res.RetryAfter != tt.retryAfter {
				t.Errorf("result %+v, want status %d, Retry-After %v", res, tt.status, tt.retryAfter)
			}
			if tt.status == http.StatusGone != res.Gone() {
				t.Errorf("Gone() = %v", res.Gone())
			}
			for _, s := range tt.problemHas {
				if !strings.Contains(res.Problem, s) {
					t.Errorf("problem %q lacks %q", res.Problem, s)
				}
			}
			for _, s := range tt.problemLack {
				if strings.Contains(res.Problem, s) {
					t.Errorf("problem %q has %q", res.Problem, s)
				}
			}
			if len(res.Problem) > 300 || !utf8.ValidString(res.Problem) {
				t.Errorf("problem is %d bytes or not UTF-8: %q", len(res.Problem), res.Problem)
			}
		})
	}
}

func TestSendInProductionRefusesInsecureAndPrivate(t *testing.T) {
	t.Parallel()
	_, sec := testSecret(t)
	var hits atomic.Int32
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) })
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	local := strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1)
	tests := []struct{ url, problem string }{
		{plain.URL + "/webhooks", "must be https://"},
		{tlsSrv.URL + "/webhooks", "private address"},
		{local + "/webhooks", "private address"},
	}
	for _, tt := range tests {
		res := NewSender(false).Send(context.Background(), tt.url, "evt_3", []byte(`{}`), time.Now(), sec)
		if res.Status != 0 || !strings.Contains(res.Problem, tt.problem) {
			t.Errorf("%s: %+v, want refused with %q", tt.url, res, tt.problem)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached a private address", n)
	}
}
