package bankclient

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizenpay/gateway/internal/bank"
)

// Directory finds a bank's current details (base URL, secrets). Lookups are
// expected to be cached: the clients ask on every call.
type Directory interface {
	Bank(ctx context.Context, code string) (*bank.Bank, error)
}

// Clients holds one Client per bank, made on first use and kept with its
// connections and circuit breaker for the life of the process. It is safe
// for concurrent use.
type Clients struct {
	dir  Directory
	opts Options
	m    *metrics

	mu     sync.RWMutex
	byCode map[string]*Client
}

// New returns the clients of the banks dir knows. Metrics are registered on
// reg when it is not nil: latency and outcomes per bank and operation, and
// each bank's breaker state.
func New(dir Directory, opts Options, reg prometheus.Registerer) *Clients {
	cs := &Clients{dir: dir, opts: opts.withDefaults(), byCode: map[string]*Client{}}
	cs.m = newMetrics(reg, cs)
	return cs
}

// Client returns the client of bank code with its current details.
func (cs *Clients) Client(ctx context.Context, code string) (*Client, error) {
	b, err := cs.dir.Bank(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("bank %s: %w", code, err)
	}
	cs.mu.RLock()
	c := cs.byCode[code]
	cs.mu.RUnlock()
	if c == nil {
		cs.mu.Lock()
		if c = cs.byCode[code]; c == nil {
			c = newClient(b, cs.opts, cs.m)
			cs.byCode[code] = c
		}
		cs.mu.Unlock()
	}
	c.update(b)
	return c, nil
}

// Open reports whether bank code's circuit is open. A bank not called yet
// is not open.
func (cs *Clients) Open(code string) bool {
	cs.mu.RLock()
	c := cs.byCode[code]
	cs.mu.RUnlock()
	return c != nil && c.Open()
}

func (cs *Clients) each(f func(*Client)) {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	for _, c := range cs.byCode {
		f(c)
	}
}

// Close drops idle connections to every bank.
func (cs *Clients) Close() {
	cs.each(func(c *Client) {
		c.http.CloseIdleConnections()
		c.statements.CloseIdleConnections()
	})
}

// with runs f with bank code's client, or answers Unknown when the bank
// cannot be found.
func (cs *Clients) with(ctx context.Context, code string, f func(*Client) Result) Result {
	c, err := cs.Client(ctx, code)
	if err != nil {
		return Result{Err: err}
	}
	return f(c)
}

// VerifyAccount is Client.VerifyAccount at bank code.
func (cs *Clients) VerifyAccount(ctx context.Context, code string, v Verification) Result {
	return cs.with(ctx, code, func(c *Client) Result { return c.VerifyAccount(ctx, v) })
}

// Debit is Client.Debit at bank code.
func (cs *Clients) Debit(ctx context.Context, code string, d Debit) Result {
	return cs.with(ctx, code, func(c *Client) Result { return c.Debit(ctx, d) })
}

// Refund is Client.Refund at bank code.
func (cs *Clients) Refund(ctx context.Context, code string, r Refund) Result {
	return cs.with(ctx, code, func(c *Client) Result { return c.Refund(ctx, r) })
}

// GetDebit is Client.GetDebit at bank code.
func (cs *Clients) GetDebit(ctx context.Context, code, debitID string) Result {
	return cs.with(ctx, code, func(c *Client) Result { return c.GetDebit(ctx, debitID) })
}

// GetRefund is Client.GetRefund at bank code.
func (cs *Clients) GetRefund(ctx context.Context, code, refundID string) Result {
	return cs.with(ctx, code, func(c *Client) Result { return c.GetRefund(ctx, refundID) })
}

// Statement is Client.Statement at bank code.
func (cs *Clients) Statement(ctx context.Context, code, date string) Statement {
	c, err := cs.Client(ctx, code)
	if err != nil {
		return Statement{Result: Result{Err: err}}
	}
	return c.Statement(ctx, date)
}

// FetchStatement is Client.FetchStatement at bank code.
func (cs *Clients) FetchStatement(ctx context.Context, code, date string, w io.Writer) (contentType string, err error) {
	c, err := cs.Client(ctx, code)
	if err != nil {
		return "", err
	}
	return c.FetchStatement(ctx, date, w)
}
