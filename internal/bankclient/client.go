// Package bankclient is the gateway's client of banks (PROTOCOL.md §7): one
// Client per bank, each with its own connections, per-attempt timeout,
// retries on answers that leave the outcome unknown, circuit breaker and
// metrics, so that one bank's slowness or outage never reaches another bank
// or the rest of the gateway.
//
// Every call returns a Result whose Outcome is Succeeded, Failed, Pending or
// Unknown. Unknown — a network error, a timeout, a 5xx, an unreadable body,
// any other status — is never Failed: the caller re-sends with the same
// Idempotency-Key or asks the status later.
package bankclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sony/gobreaker/v2"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/signature"
)

// Outcome is what a call to a bank came to.
type Outcome int

// Outcomes. The zero value is Unknown, so that a Result nobody filled in is
// never taken for a verdict.
const (
	// Unknown: no usable answer. Never take it as failed.
	Unknown Outcome = iota
	// Succeeded: the bank's final word is success.
	Succeeded
	// Failed: the bank's final word is failure, with a reason code.
	Failed
	// Pending: the bank accepted it (202) or is still deciding; the outcome
	// comes by callback or a later status query.
	Pending
)

// String names the outcome, for metrics and logs.
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Pending:
		return "pending"
	}
	return "unknown"
}

// Errors carried by an Unknown Result.
var (
	// ErrCircuitOpen: the bank's circuit breaker is open; nothing was sent.
	ErrCircuitOpen = errors.New("bankclient: circuit open: the bank is not answering, nothing was sent")
	// ErrNotReceived: a status query's 404, the bank never received it; re-send
	// the original request with the same Idempotency-Key.
	ErrNotReceived = errors.New("bankclient: the bank never received it")
)

// Result is a bank's answer to one call, after any retries.
type Result struct {
	Outcome       Outcome
	ID            string
	Amount        decimal.Decimal // debits and refunds; zero when not given
	Currency      string
	BankReference string
	ReasonCode    string
	ReasonMessage string
	// NotFound is set on a status query's 404 (Err is ErrNotReceived).
	NotFound bool
	// Status is the HTTP status of the last answer; 0 when none came.
	Status int
	// Attempts is how many requests were sent.
	Attempts int
	// Err says why the outcome is Unknown. It names the bank and the route,
	// never personal data.
	Err error
}

// Defaults of Options.
const (
	DefaultTimeout         = 10 * time.Second
	DefaultAttempts        = 3
	DefaultBackoff         = 200 * time.Millisecond
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
	DefaultMaxConns        = 64
	// DefaultStatementTimeout bounds one statement fetch (§12).
	DefaultStatementTimeout = 5 * time.Minute
	maxBackoff              = 2 * time.Second
	maxAnswerBytes          = 1 << 20
	maxStatementBytes       = 64 << 20
)

// Options tune every bank's client; zero fields take the defaults.
type Options struct {
	// Timeout bounds one attempt, connection included.
	Timeout time.Duration
	// Attempts is how many requests one call may send while the outcome
	// stays unknown (the first included).
	Attempts int
	// Backoff is the wait before the first retry; it doubles, with jitter,
	// up to 2 s.
	Backoff time.Duration
	// BreakerFailures is how many failures in a row (network errors,
	// timeouts, 5xx) open a bank's circuit.
	BreakerFailures uint32
	// BreakerCooldown is how long an open circuit refuses calls before it
	// lets one through to try the bank again.
	BreakerCooldown time.Duration
	// MaxConns caps the connections to one bank, so that a slow bank holds
	// at most this many.
	MaxConns int
	// StatementTimeout bounds one statement fetch, from the request to the
	// last byte of the answer (BANK_STATEMENT_TIMEOUT).
	StatementTimeout time.Duration
	// Now is the clock requests are signed by and secrets chosen by; nil is
	// time.Now. (The circuit breaker keeps its cooldown by the wall clock.)
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = DefaultBreakerCooldown
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Client calls one bank. It is safe for concurrent use.
type Client struct {
	code string
	bank atomic.Pointer[bank.Bank]
	http *http.Client
	// statements has connections of its own: see FetchStatement.
	statements *http.Client
	breaker    *gobreaker.CircuitBreaker[reply]
	opts       Options
	m          *metrics
	now        func() time.Time
	// calls bounds the calls in flight to this bank (a bulkhead): a bank
	// that hangs holds at most this many of the gateway's workers, and
	// calls past it come back Unknown at once, to be asked about later.
	calls chan struct{}
}

// ErrBusy: the bank already has as many calls in flight as it may; nothing
// was sent.
var ErrBusy = errors.New("bankclient: too many calls in flight to this bank, nothing was sent")

// MaxInFlight bounds the calls in flight to one bank; a call waits up to
// slotWait for a free one.
const (
	MaxInFlight = 16
	slotWait    = 200 * time.Millisecond
)

// reply is a bank's raw answer.
type reply struct {
	status int
	body   []byte
}

// callerGone marks an attempt cut short by the caller's context: it says
// nothing about the bank, so the breaker does not count it.
type callerGone struct{ err error }

func (e *callerGone) Error() string { return e.err.Error() }
func (e *callerGone) Unwrap() error { return e.err }

func newClient(b *bank.Bank, opts Options, m *metrics) *Client {
	c := &Client{code: b.Code, opts: opts, m: m, now: opts.Now, calls: make(chan struct{}, MaxInFlight)}
	c.bank.Store(b)
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: min(5*time.Second, opts.Timeout), KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:       opts.MaxConns,
		MaxIdleConns:          opts.MaxConns,
		MaxIdleConnsPerHost:   opts.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(5*time.Second, opts.Timeout),
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	c.http = &http.Client{
		Transport: tr,
		// A redirect is not an answer of the protocol: it leaves the outcome unknown.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.statements = newStatementHTTP(opts)
	c.breaker = gobreaker.NewCircuitBreaker[reply](gobreaker.Settings{
		Name:        b.Code,
		MaxRequests: 1,
		Timeout:     opts.BreakerCooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= opts.BreakerFailures },
		IsExcluded: func(err error) bool {
			var gone *callerGone
			return errors.As(err, &gone)
		},
	})
	return c
}

// Code returns the bank's code.
func (c *Client) Code() string { return c.code }

// Open reports whether the bank's circuit is open: calls fail at once
// without reaching the bank.
func (c *Client) Open() bool { return c.breaker.State() == gobreaker.StateOpen }

// update takes a bank's new details (a rotated secret, a new base URL).
func (c *Client) update(b *bank.Bank) { c.bank.Store(b) }

// call sends one request, retrying while the outcome is unknown, and decodes
// the answer.
func (c *Client) call(ctx context.Context, op, method, path, key string, body []byte, decode func(reply) Result) Result {
	wait := time.NewTimer(slotWait)
	select {
	case c.calls <- struct{}{}:
		wait.Stop()
		defer func() { <-c.calls }()
	case <-wait.C:
		c.m.outcome(c.code, op, "busy")
		return Result{Err: ErrBusy}
	case <-ctx.Done():
		wait.Stop()
		return Result{Err: ctx.Err()}
	}
	var res Result
	for attempt := 1; ; attempt++ {
		start := time.Now()
		rep, err := c.breaker.Execute(func() (reply, error) { return c.send(ctx, method, path, key, body) })
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			c.m.outcome(c.code, op, "circuit_open")
			prev := res.Err
			res = Result{Status: res.Status, Attempts: attempt - 1, Err: ErrCircuitOpen}
			if prev != nil {
				res.Err = fmt.Errorf("%w; before it opened: %w", ErrCircuitOpen, prev)
			}
			return res
		}
		if err != nil {
			res = Result{Status: rep.status, Err: fmt.Errorf("bank %s %s %s: %w", c.code, method, path, err)}
		} else {
			res = decode(rep)
			res.Status = rep.status
			if res.Err != nil {
				res.Err = fmt.Errorf("bank %s %s %s: %w", c.code, method, path, res.Err)
			}
		}
		res.Attempts = attempt
		c.m.observe(c.code, op, res, time.Since(start))
		if res.Outcome != Unknown || res.NotFound || attempt >= c.opts.Attempts || ctx.Err() != nil {
			return res
		}
		if !sleep(ctx, c.backoff(attempt)) {
			return res
		}
	}
}

// backoff is the jittered wait after the given attempt.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.Backoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// send makes one signed attempt. It returns an error the breaker counts as
// the bank's failure for a network error, a timeout, an unreadable body and
// a 5xx; other answers are the bank's and come back as they are.
func (c *Client) send(ctx context.Context, method, path, key string, body []byte) (reply, error) {
	b := c.bank.Load()
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, b.BaseURL+path, rd)
	if err != nil {
		return reply{}, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(signature.HeaderIdempotencyKey, key)
	}
	sign(req, b.SigningSecrets(c.now()), body, c.now())
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return reply{}, &callerGone{err}
		}
		return reply{}, err
	}
	defer resp.Body.Close()
	limit := int64(maxAnswerBytes)
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return reply{status: resp.StatusCode}, &callerGone{err}
	case err != nil:
		return reply{status: resp.StatusCode}, fmt.Errorf("read answer: %w", err)
	case int64(len(data)) > limit:
		return reply{status: resp.StatusCode}, fmt.Errorf("answer over %d bytes", limit)
	case resp.StatusCode >= 500:
		return reply{status: resp.StatusCode}, fmt.Errorf("bank answered %d", resp.StatusCode)
	}
	return reply{status: resp.StatusCode, body: data}, nil
}

// sign signs req with every secret valid now (PROTOCOL.md §3): during a
// rotation a bank that still holds the old secret finds its match too.
func sign(req *http.Request, secrets []string, body []byte, now time.Time) {
	signature.SignRequest(req, secrets[0], body, now)
	if len(secrets) == 1 {
		return
	}
	m := signature.Message{
		Timestamp: req.Header.Get(signature.HeaderTimestamp), Method: req.Method, Target: req.URL.RequestURI(),
		IdempotencyKey: req.Header.Get(signature.HeaderIdempotencyKey), Body: body,
	}
	sigs := []string{req.Header.Get(signature.HeaderSignature)}
	for _, s := range secrets[1:] {
		sigs = append(sigs, signature.Sign(s, m))
	}
	req.Header.Set(signature.HeaderSignature, strings.Join(sigs, " "))
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
