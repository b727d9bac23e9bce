package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/api"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/httpapi"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/signature"
)

// lookupCounter counts the queries that authenticate a signed request, as
// PostgreSQL receives them.
type lookupCounter struct{ portals, banks atomic.Int64 }

func (lc *lookupCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	switch {
	case strings.Contains(d.SQL, "FROM portals WHERE key_id"):
		lc.portals.Add(1)
	case strings.Contains(d.SQL, "FROM banks WHERE code"):
		lc.banks.Add(1)
	}
	return ctx
}

func (lc *lookupCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// testClock is the router's clock; tests move it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type lookupBundle struct {
	h      *apitest.Harness
	url    string
	count  *lookupCounter
	clock  *testClock
	bank   *bank.Bank
	portal *portal.Portal
}

// setupLookups starts a second router on the harness's database whose
// portal and bank lookups go through a counting connection pool, with a
// clock the test moves.
func setupLookups(t *testing.T) *lookupBundle {
	t.Helper()
	h := apitest.New(t)
	cfg, err := pgxpool.ParseConfig(h.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	lc := &lookupCounter{}
	cfg.ConnConfig.Tracer = lc
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	clock := &testClock{now: time.Now()}
	now := time.Now().UTC()
	b := &bank.Bank{Code: "SBX", Name: "Sandbox", BaseURL: "http://127.0.0.1:9/gw", Secret: bank.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := h.App.Banks.Store.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	a := h.App
	router := httpapi.New(httpapi.Deps{
		Log: a.Log, DB: a.DB, Redis: a.Store, Service: a.Service, Metrics: a.Metrics, OpenAPI: api.OpenAPI, Now: clock.Now,
		Portals:  postgres.NewPortalStore(postgres.NewDB(pool), a.Keys),
		Banks:    &service.Banks{Store: postgres.NewBankStore(postgres.NewDB(pool), a.Keys), Now: clock.Now},
		Citizens: a.Citizens, Callbacks: a.Callbacks, BankOpen: a.BankClients.Open,
	})
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return &lookupBundle{h: h, url: srv.URL, count: lc, clock: clock, bank: b, portal: h.Portal}
}

// get reads a request that does not exist: 404 once authenticated.
func (lb *lookupBundle) get(p *portal.Portal, secret string, ts time.Time) *apitest.Response {
	return lb.h.Do(apitest.Request{BaseURL: lb.url, Method: http.MethodGet, Path: "/v1/payment-requests/pr_none", Portal: p, Secret: secret, Timestamp: ts})
}

// callback posts an empty object: 422 once authenticated, nothing applied.
func (lb *lookupBundle) callback(t *testing.T, code, secret string, ts time.Time) *apitest.Response {
	t.Helper()
	body := []byte(`{}`)
	req, err := banksim.SignedCallbackRequest(context.Background(), lb.url+"/v1/bank-callbacks/"+code, secret, body, ts)
	if err != nil {
		t.Fatal(err)
	}
	return lb.h.Send(req, body)
}

func expectStatus(t *testing.T, what string, r *apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

func (lb *lookupBundle) expectLookups(t *testing.T, what string, portals, banks int64) {
	t.Helper()
	if p, b := lb.count.portals.Load(), lb.count.banks.Load(); p != portals || b != banks {
		t.Fatalf("%s: %d portal and %d bank lookups, want %d and %d", what, p, b, portals, banks)
	}
}

// TestUnknownKeysCostOneLookupPerMissTTL: requests naming a key id or a
// bank that does not exist cost one lookup per key per miss TTL, however
// many come, at once or one after another; a portal onboarded meanwhile is
// usable once the miss expires.
func TestUnknownKeysCostOneLookupPerMissTTL(t *testing.T) {
	t.Parallel()
	lb := setupLookups(t)
	ghost := &portal.Portal{KeyID: portal.NewKeyID(), Secret: portal.NewSecret()}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if r := lb.get(ghost, "", time.Time{}); r.Status != http.StatusUnauthorized {
				t.Errorf("unknown key id: %d", r.Status)
			}
		}()
		go func() {
			defer wg.Done()
			if r := lb.callback(t, "NOPE", lb.bank.Secret, time.Now()); r.Status != http.StatusUnauthorized {
				t.Errorf("unknown bank: %d", r.Status)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 10; i++ {
		lb.clock.Advance(400 * time.Millisecond)
		expectStatus(t, "unknown key id", lb.get(ghost, "", time.Time{}), http.StatusUnauthorized)
		expectStatus(t, "unknown bank", lb.callback(t, "NOPE", lb.bank.Secret, time.Now()), http.StatusUnauthorized)
	}
	lb.expectLookups(t, "40 requests within the miss TTL", 1, 1)

	// The portal is onboarded now: usable when the miss expires.
	ghost.ID, ghost.Name, ghost.WebhookURL, ghost.WebhookSecret, ghost.CreatedAt = id.New(id.Portal), "Late portal", "http://127.0.0.1:9/w", lb.portal.WebhookSecret, time.Now().UTC()
	if err := lb.h.App.Portals.Create(context.Background(), ghost); err != nil {
		t.Fatal(err)
	}
	lb.clock.Advance(time.Second)
	expectStatus(t, "a new portal after the miss TTL", lb.get(ghost, "", time.Time{}), http.StatusNotFound)
	expectStatus(t, "unknown bank after the miss TTL", lb.callback(t, "NOPE", lb.bank.Secret, time.Now()), http.StatusUnauthorized)
	lb.expectLookups(t, "after the miss TTL", 2, 2)
}

// TestBadSignaturesForceAtMostOneReloadPerInterval: bad signatures on a
// known key reread it at most once per reload interval; a rotated secret
// works once the interval has passed; a request with a malformed signature
// or a stale timestamp costs no lookup at all.
func TestBadSignaturesForceAtMostOneReloadPerInterval(t *testing.T) {
	t.Parallel()
	lb := setupLookups(t)
	// Malformed or stale: refused before any lookup.
	stale := time.Now().Add(-301 * time.Second)
	expectStatus(t, "stale portal request", lb.get(nil, "", stale), http.StatusUnauthorized)
	expectStatus(t, "future portal request", lb.get(nil, "", time.Now().Add(301*time.Second)), http.StatusUnauthorized)
	expectStatus(t, "stale callback", lb.callback(t, "SBX", lb.bank.Secret, stale), http.StatusUnauthorized)
	expectStatus(t, "stale callback of an unknown bank", lb.callback(t, "NOPE", lb.bank.Secret, stale), http.StatusUnauthorized)
	for _, sig := range []string{"v1=zz", "v2=" + strings.Repeat("ab", 32), "v1=" + strings.Repeat("ab", 31)} {
		req := signedRequest(t, lb.h, http.MethodGet, "/v1/payment-requests/pr_none", nil, "")
		req.URL.Host = strings.TrimPrefix(lb.url, "http://")
		req.Header.Set(signature.HeaderSignature, sig)
		expectStatus(t, "malformed portal signature "+sig, lb.h.Send(req, nil), http.StatusUnauthorized)
		cb, err := banksim.SignedCallbackRequest(context.Background(), lb.url+"/v1/bank-callbacks/SBX", lb.bank.Secret, []byte(`{}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		cb.Header.Set(signature.HeaderSignature, sig)
		expectStatus(t, "malformed callback signature "+sig, lb.h.Send(cb, []byte(`{}`)), http.StatusUnauthorized)
	}
	lb.expectLookups(t, "malformed and stale requests", 0, 0)

	// Good requests load each key once.
	expectStatus(t, "portal", lb.get(nil, "", time.Time{}), http.StatusNotFound)
	expectStatus(t, "bank", lb.callback(t, "SBX", lb.bank.Secret, time.Now()), http.StatusUnprocessableEntity)
	lb.expectLookups(t, "good requests", 1, 1)

	// A flood of bad signatures, past the reload interval: one reread each.
	lb.clock.Advance(6 * time.Second)
	wrongPortal, wrongBank := portal.NewSecret(), bank.NewSecret()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if r := lb.get(nil, wrongPortal, time.Time{}); r.Status != http.StatusUnauthorized {
				t.Errorf("bad portal signature: %d", r.Status)
			}
		}()
		go func() {
			defer wg.Done()
			if r := lb.callback(t, "SBX", wrongBank, time.Now()); r.Status != http.StatusUnauthorized {
				t.Errorf("bad bank signature: %d", r.Status)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 5; i++ {
		lb.clock.Advance(time.Second / 2)
		expectStatus(t, "bad portal signature", lb.get(nil, wrongPortal, time.Time{}), http.StatusUnauthorized)
		expectStatus(t, "bad bank signature", lb.callback(t, "SBX", wrongBank, time.Now()), http.StatusUnauthorized)
	}
	lb.expectLookups(t, "30 bad signatures within one interval", 2, 2)

	// Both secrets are rotated; a request signed with the new one is refused
	// until the interval since the last reread has passed, then accepted.
	ctx := context.Background()
	newPortalSecret := portal.NewSecret()
	if err := lb.h.App.Portals.RotateSecret(ctx, lb.portal.ID, newPortalSecret, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rotated, err := lb.h.App.Banks.RotateSecret(ctx, "SBX")
	if err != nil {
		t.Fatal(err)
	}
	expectStatus(t, "new portal secret within the interval", lb.get(nil, newPortalSecret, time.Time{}), http.StatusUnauthorized)
	expectStatus(t, "new bank secret within the interval", lb.callback(t, "SBX", rotated.Secret, time.Now()), http.StatusUnauthorized)
	lb.clock.Advance(3 * time.Second)
	expectStatus(t, "new portal secret after the interval", lb.get(nil, newPortalSecret, time.Time{}), http.StatusNotFound)
	expectStatus(t, "new bank secret after the interval", lb.callback(t, "SBX", rotated.Secret, time.Now()), http.StatusUnprocessableEntity)
	// The old secrets stay valid for the grace period, from the cache.
	expectStatus(t, "old portal secret", lb.get(nil, "", time.Time{}), http.StatusNotFound)
	expectStatus(t, "old bank secret", lb.callback(t, "SBX", lb.bank.Secret, time.Now()), http.StatusUnprocessableEntity)
	lb.expectLookups(t, "after the rotation", 3, 3)
}
