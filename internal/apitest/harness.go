// Package apitest runs a whole gateway for HTTP tests: its own database
// cloned from the migrated template, its own Redis key space, the real
// router behind httptest, and a portal whose requests it signs. Every
// exchange is checked against api/openapi.yaml.
package apitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"github.com/jackc/pgx/v5/pgxpool"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/app"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/webhook"
)

// MasterKey is the tests' master key.
var MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// Harness is a running gateway for one test.
type Harness struct {
	T      testing.TB
	DB     *testenv.DB
	App    *app.App
	Server *httptest.Server
	Ops    *httptest.Server // the operations listener: /metrics, /healthz, /readyz
	Portal *portal.Portal
	Logs   *LogBuffer
	Env    map[string]string
	// RedisPrefix is the prefix of this gateway's Redis keys.
	RedisPrefix string
	// Clock is the gateway's clock when the test gave it one (WithClock),
	// or nil: the gateway reads the wall clock.
	Clock *testenv.Clock
}

// Defaults the harness gives every gateway before the options. A test that
// is not about shedding is never shed: admission control admits everything
// (ADMISSION_MAX_IN_FLIGHT 0, which also turns off the shedding of reads
// while PostgreSQL's connections are scarce), since the suite's own parallel
// load can make any request wait for a connection or a slot. Tests of
// admission set their own bound, wait and database wait.
func defaults(db *testenv.DB, redisURL string) map[string]string {
	return map[string]string{
		"DATABASE_URL":            db.URL,
		"REDIS_URL":               redisURL,
		"GATEWAY_MASTER_KEY":      MasterKey,
		"GATEWAY_ENV":             "development",
		"GATEWAY_PUBLIC_URL":      "https://pay.gateway.test",
		"GATEWAY_WORKERS":         "false",
		"EXPIRY_INTERVAL":         "1s",
		"ADMISSION_MAX_IN_FLIGHT": "0",
		"ADMISSION_DB_WAIT":       "0s",
		"ADMISSION_MAX_WAIT":      "2s",
		// Tests reconcile the days they choose; the daily job would read
		// the sandbox banks' statements while a test sets their faults.
		"RECONCILE_AT": "off",
	}
}

// New starts a gateway for t. Workers do not run unless WithEnv("GATEWAY_WORKERS", "true").
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	db := testenv.NewDB(t)
	s := &settings{env: defaults(db, testenv.RedisURL(t))}
	for _, o := range opts {
		o(s)
	}
	return start(t, db, s)
}

func start(t testing.TB, db *testenv.DB, s *settings) *Harness {
	t.Helper()
	env := s.env
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &LogBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	prefix := "t" + strings.TrimPrefix(id.New("x"), "x_") + ":"
	h := &Harness{T: t, DB: db, Logs: logs, Env: env, RedisPrefix: prefix, Clock: s.clock}
	pool := db.Pool
	if s.tracer != nil {
		pc := db.Pool.Config()
		pc.ConnConfig.Tracer = s.tracer
		if pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
	}
	a, err := app.Build(ctx, cfg, log, app.Options{Pool: pool, RedisPrefix: prefix, Now: h.clockFunc()})
	if err != nil {
		t.Fatal(err)
	}
	h.App = a
	if s.listener != nil {
		h.Server = httptest.NewUnstartedServer(a.Handler)
		_ = h.Server.Listener.Close()
		h.Server.Listener = s.listener
		h.Server.Start()
	} else {
		h.Server = httptest.NewServer(a.Handler)
	}
	h.Ops = httptest.NewServer(a.Ops)
	if err := a.StartWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.StopWorkers(sctx)
		h.Server.Close()
		h.Ops.Close()
		a.Close()
	})
	h.Portal = h.NewPortal("Test portal")
	return h
}

// SecondGateway starts another gateway process's worth of wiring on the same
// database and Redis key space (its own pools, its own workers when the
// first has them), as a second node behind a load balancer would be. It
// returns the second gateway's base URL.
func (h *Harness) SecondGateway() string {
	h.T.Helper()
	cfg, err := config.Load(func(k string) string { return h.Env[k] })
	if err != nil {
		h.T.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, log, app.Options{RedisPrefix: h.RedisPrefix, Now: h.clockFunc()})
	if err != nil {
		h.T.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	if err := a.StartWorkers(ctx); err != nil {
		h.T.Fatal(err)
	}
	h.T.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.StopWorkers(sctx)
		srv.Close()
		a.Close()
	})
	return srv.URL
}

// Now is the gateway's time: its Clock's, or the wall clock's. Requests the
// harness signs carry it, and a test builds times the gateway will judge
// (an expires_at) from it.
func (h *Harness) Now() time.Time {
	if h.Clock != nil {
		return h.Clock.Now()
	}
	return time.Now()
}

// clockFunc is the clock to build a gateway with: nil for the wall clock.
func (h *Harness) clockFunc() func() time.Time {
	if h.Clock == nil {
		return nil
	}
	return h.Clock.Now
}

// Metrics returns what the operations listener's /metrics shows. It is not
// checked against api/openapi.yaml, which describes the public listener.
func (h *Harness) Metrics() string {
	h.T.Helper()
	resp, err := http.Get(h.Ops.URL + "/metrics")
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.T.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

// NewPortal onboards another portal.
func (h *Harness) NewPortal(name string) *portal.Portal {
	h.T.Helper()
	whsec, err := webhook.NewSecret()
	if err != nil {
		h.T.Fatal(err)
	}
	p := &portal.Portal{ID: id.New(id.Portal), Name: name, KeyID: portal.NewKeyID(), Secret: portal.NewSecret(),
		WebhookURL: "http://127.0.0.1:9/webhooks", WebhookSecret: whsec, CreatedAt: h.Now().UTC()}
	if err := h.App.Portals.Create(context.Background(), p); err != nil {
		h.T.Fatal(err)
	}
	return p
}

// Response is a finished exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Code returns a problem's code, or "".
func (r *Response) Code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &p)
	return p.Code
}

// Request describes one call.
type Request struct {
	BaseURL        string // "": the harness's gateway
	Method         string
	Path           string // request target: path and query, as sent
	Body           []byte
	IdempotencyKey string
	Header         http.Header
	Portal         *portal.Portal // nil: the harness's portal
	Secret         string         // sign with this instead of the portal's secret
	Timestamp      time.Time      // zero: now (the harness's Now)
	Unsigned       bool
}

// Do sends r and validates the exchange against the OpenAPI contract.
func (h *Harness) Do(r Request) *Response {
	h.T.Helper()
	base := r.BaseURL
	if base == "" {
		base = h.Server.URL
	}
	req, err := http.NewRequest(r.Method, base+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		h.T.Fatal(err)
	}
	if len(r.Body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.IdempotencyKey != "" {
		req.Header.Set(signature.HeaderIdempotencyKey, r.IdempotencyKey)
	}
	if !r.Unsigned {
		p := r.Portal
		if p == nil {
			p = h.Portal
		}
		secret := p.Secret
		if r.Secret != "" {
			secret = r.Secret
		}
		ts := r.Timestamp
		if ts.IsZero() {
			ts = h.Now()
		}
		req.Header.Set(signature.HeaderPortalKey, p.KeyID)
		signature.SignRequest(req, secret, r.Body, ts)
	}
	return h.Send(req, r.Body)
}

// Send sends a prepared request and validates the exchange.
func (h *Harness) Send(req *http.Request, body []byte) *Response {
	h.T.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.T.Fatal(err)
	}
	res := &Response{Status: resp.StatusCode, Header: resp.Header, Body: out}
	ValidateExchange(h.T, req, body, res)
	return res
}

// Post sends a signed POST with a JSON body and an idempotency key.
func (h *Harness) Post(path, key string, body any) *Response {
	h.T.Helper()
	return h.Do(Request{Method: http.MethodPost, Path: path, Body: Marshal(h.T, body), IdempotencyKey: key})
}

// Get sends a signed GET.
func (h *Harness) Get(path string) *Response {
	h.T.Helper()
	return h.Do(Request{Method: http.MethodGet, Path: path})
}

// Marshal encodes v, passing []byte and string through.
func Marshal(t testing.TB, v any) []byte {
	t.Helper()
	switch b := v.(type) {
	case nil:
		return nil
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Count returns the number of rows of a query such as "SELECT count(*) FROM t".
func (h *Harness) Count(query string, args ...any) int {
	h.T.Helper()
	var n int
	if err := h.DB.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		h.T.Fatal(err)
	}
	return n
}

// LogBuffer collects log lines safely from many goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
