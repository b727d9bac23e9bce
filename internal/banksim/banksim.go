// Package banksim is the sandbox bank: the bank side of PROTOCOL.md §7, run
// in-process by the gateway's tests (through httptest) and as cmd/banksim by
// `make run` and the benchmarks.
//
// It verifies the gateway's signed requests, executes account verifications,
// debits and refunds against seeded accounts with exact decimal balances,
// answers synchronously or with 202 and a signed callback, keeps every
// Idempotency-Key forever, and writes daily statements of what it executed,
// as CSV or as ISO 20022 camt.053.001.08 XML (PROTOCOL §12), with the
// collection account's other movements and batch entries a reader must
// handle.
//
// Knobs inject the faults the gateway must survive: latency, lost answers,
// refusals, silence, dropped, duplicated and reordered callbacks, and a bank
// that is down; and the faults a reconciliation must catch: statements not
// ready or unavailable, missing lines, lines for ids the gateway never sent,
// amounts that differ, reversals, and bodies that are no statement. The
// statement faults pick lines in booking order, so a day fetched again is
// the same statement. Tests set them with SetKnobs (or POST /_sim/knobs) and
// see the statement as served with Statement.
package banksim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/reconcile"
)

// Config is what a sandbox bank is built from.
type Config struct {
	// BankCode is the code the gateway knows this bank by (e.g. "SBX").
	BankCode string
	// Secret is the bsk_… secret shared with the gateway: it verifies the
	// gateway's requests and signs callbacks.
	Secret string
	// CallbackURL is where callbacks go, e.g.
	// http://127.0.0.1:8080/v1/bank-callbacks/SBX. Empty disables callbacks;
	// status GETs still tell the outcome.
	CallbackURL string
	// BasePath is the path the bank's API sits under (e.g. "/api/gw"), as in
	// the base URL the gateway was given. The admin routes (/_sim/…) stay at
	// the root.
	BasePath string
	// Accounts are the accounts the bank holds at start.
	Accounts []Account
	// Knobs are the initial fault injections; see SetKnobs.
	Knobs Knobs
	// Retry says how callbacks are retried; zero fields take the defaults.
	Retry CallbackRetry
	// Client sends callbacks; nil means a client with a 10 s timeout.
	Client *http.Client
	// Logger receives the bank's logs; nil discards them. Holder pids are
	// never logged and account numbers only masked.
	Logger *slog.Logger
	// Now is the bank's clock: when it books what it executes (and so which
	// day's statement lists it), and the time it checks the gateway's
	// signatures and signs its callbacks by. Nil is time.Now; tests that move
	// the gateway's clock give the bank the same one.
	Now func() time.Time
}

// Account is one account held at the sandbox bank.
type Account struct {
	// Number is the account number, normalised as pii.NormalizeAccount
	// does: separators dropped, 6–19 digits.
	Number     string
	HolderPID  string
	HolderName string
	Balance    decimal.Decimal
}

// CallbackRetry is how a callback that got no final answer is sent again,
// always with the same event_id.
type CallbackRetry struct {
	// Base is the wait after the first attempt; it doubles at each attempt.
	// Default 200 ms.
	Base time.Duration
	// Max caps the wait. Default 5 s.
	Max time.Duration
	// Attempts is how many times one delivery is tried, the first included.
	// Default 30.
	Attempts int
}

// Defaults for CallbackRetry.
const (
	DefaultRetryBase     = 200 * time.Millisecond
	DefaultRetryMax      = 5 * time.Second
	DefaultRetryAttempts = 30
)

func (c CallbackRetry) withDefaults() CallbackRetry {
	if c.Base <= 0 {
		c.Base = DefaultRetryBase
	}
	if c.Max <= 0 {
		c.Max = DefaultRetryMax
	}
	if c.Max < c.Base {
		c.Max = c.Base
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultRetryAttempts
	}
	return c
}

// backoff is the wait after the given attempt (1 = the first).
func (c CallbackRetry) backoff(attempt int) time.Duration {
	d := c.Base
	for i := 1; i < attempt && d < c.Max; i++ {
		d *= 2
	}
	return min(d, c.Max)
}

// Server is a running sandbox bank. Build it with New, serve Handler, and
// Close it to stop settlements and callbacks still in flight.
type Server struct {
	cfg    Config
	retry  CallbackRetry
	log    *slog.Logger
	client *http.Client
	loc    *time.Location
	ledger *ledger
	knobs  atomic.Pointer[knobState]
	// dropLeft is how many more callbacks Knobs.DropCallbacks drops.
	dropLeft atomic.Int64
	stats    counters
	handler  http.Handler

	// Background work (delayed settlements, callback deliveries) runs under
	// ctx and is counted in wg, so that Close can stop and wait for it.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	// running counts the background work under way, so that a test can
	// tell that nothing more will be sent.
	running atomic.Int64
}

// New checks cfg and builds a bank holding cfg.Accounts.
func New(cfg Config) (*Server, error) {
	if cfg.Secret == "" {
		return nil, errors.New("banksim: a secret is required")
	}
	if cfg.BankCode == "" {
		return nil, errors.New("banksim: a bank code is required")
	}
	if cfg.CallbackURL != "" {
		u, err := url.Parse(cfg.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("banksim: callback URL %q is not an absolute http(s) URL", cfg.CallbackURL)
		}
	}
	base, err := cleanBasePath(cfg.BasePath)
	if err != nil {
		return nil, err
	}
	cfg.BasePath = base
	if err := cfg.Knobs.validate(); err != nil {
		return nil, fmt.Errorf("banksim: %w", err)
	}
	loc := businessLocation()
	l, err := newLedger(cfg.Accounts, loc)
	if err != nil {
		return nil, fmt.Errorf("banksim: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		retry:  cfg.Retry.withDefaults(),
		log:    cfg.Logger,
		client: cfg.Client,
		loc:    loc,
		ledger: l,
		stats:  newCounters(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	s.SetKnobs(cfg.Knobs)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s, nil
}

// businessLocation is Asia/Ho_Chi_Minh, whose business day statements
// follow (reconcile.Location).
func businessLocation() *time.Location { return reconcile.Location }

func cleanBasePath(p string) (string, error) {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if p == "" {
		return "", nil
	}
	if strings.ContainsAny(p, "{}?# ") || strings.HasPrefix(p, "_sim") {
		return "", fmt.Errorf("banksim: base path %q is not usable", p)
	}
	return "/" + p, nil
}

// Handler serves the bank's API under the base path and the unsigned admin
// routes under /_sim/.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops delayed settlements and callback deliveries and waits for them
// to end. Operations still pending stay pending. Close is safe to call twice.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// goAsync runs f in the background unless the server is closed.
func (s *Server) goAsync(f func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.running.Add(1)
	s.wg.Go(func() {
		defer s.running.Add(-1)
		f(s.ctx)
	})
}

// SetKnobs replaces the fault injections for requests that arrive from now
// on; operations already accepted keep the knobs they arrived under. Values
// out of range are not refused here: a rate ≥ 1 always fires, ≤ 0 never, a
// negative duration is none, and DuplicateCallbacks below 1 is 1.
//
// SetKnobs starts the StatementUnavailableFor window anew and sets the count
// of DropCallbacks left; since Knobs reports both as what is left, passing
// back what Knobs returned, changed elsewhere, keeps them going.
func (s *Server) SetKnobs(k Knobs) {
	st := &knobState{k: k}
	if k.StatementUnavailableFor > 0 {
		st.unavailableUntil = s.now().Add(k.StatementUnavailableFor)
	}
	s.dropLeft.Store(int64(max(k.DropCallbacks, 0)))
	s.knobs.Store(st)
}

// Knobs returns the fault injections in force, with StatementUnavailableFor
// the time left of its window and DropCallbacks the callbacks left to drop.
func (s *Server) Knobs() Knobs {
	st := s.knobs.Load()
	k := st.k
	k.StatementUnavailableFor = 0
	if !st.unavailableUntil.IsZero() {
		k.StatementUnavailableFor = max(st.unavailableUntil.Sub(s.now()), 0)
	}
	k.DropCallbacks = int(s.dropLeft.Load())
	return k
}

// knobState is the knobs as set, with the end of the statement outage they
// started.
type knobState struct {
	k                Knobs
	unavailableUntil time.Time
}

// takeDrop reports whether the callback of a new operation is to be dropped,
// using up one of Knobs.DropCallbacks.
func (s *Server) takeDrop() bool {
	for {
		n := s.dropLeft.Load()
		if n <= 0 {
			return false
		}
		if s.dropLeft.CompareAndSwap(n, n-1) {
			s.stats.update(func(st *Stats) { st.CallbacksDropped++ })
			return true
		}
	}
}

// Balance returns the balance of the account with the given number (any
// separators ignored), or zero if the bank holds no such account.
func (s *Server) Balance(number string) decimal.Decimal {
	n, err := pii.NormalizeAccount(number)
	if err != nil {
		return decimal.Zero
	}
	b, _ := s.ledger.balance(n)
	return b
}

// Executed returns how many times the debit or refund with the given id moved
// money. Whatever the gateway sends, it must never exceed 1.
func (s *Server) Executed(id string) int { return s.ledger.executions(id) }

// Stats returns the counters the bank keeps for tests.
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	st.Executed = s.ledger.executedCopy()
	return st
}

// now is the bank's clock (Config.Now).
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}
