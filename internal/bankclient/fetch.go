package bankclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// NotReadyError is a bank's answer that the statement of the day is not
// ready yet (PROTOCOL.md §12): a 404, or a 503 with Retry-After. Fetch it
// again later, after RetryAfter when the bank gave one.
type NotReadyError struct {
	// RetryAfter is the bank's Retry-After; 0 when it gave none.
	RetryAfter time.Duration
	// Status is the bank's HTTP status, 404 or 503.
	Status int
}

// Error names the status and the wait.
func (e *NotReadyError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("bankclient: the statement is not ready yet (%d), retry after %s", e.Status, e.RetryAfter)
	}
	return fmt.Sprintf("bankclient: the statement is not ready yet (%d)", e.Status)
}

// statementAccept is the formats the gateway reads (§12).
const statementAccept = "text/csv, application/xml"

// newStatementHTTP is the HTTP client of a bank's statements: a few
// connections of their own, bounded by the statement timeout rather than
// the per-attempt timeout of debits.
func newStatementHTTP(opts Options) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: min(5*time.Second, opts.StatementTimeout), KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     2,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: min(5*time.Second, opts.StatementTimeout),
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// FetchStatement streams the statement of business day date (YYYY-MM-DD,
// Asia/Ho_Chi_Minh) into w: GET {base}/v1/statements?date=…, signed like
// every request (§3), with Accept: text/csv, application/xml. It has its own
// timeout, Options.StatementTimeout, over the whole download, and never
// touches the bank's circuit breaker nor its bulkhead for debits: a
// statement that fails says nothing about the bank's debits.
//
// It returns the answer's Content-Type, for statement.NewReader. A 404, or
// a 503 with Retry-After, is a *NotReadyError; any other status, a transport
// error or a timeout (errors.Is context.DeadlineExceeded) is an error naming
// the bank and the status. On an error w may hold part of the statement:
// discard it.
func (c *Client) FetchStatement(ctx context.Context, date string, w io.Writer) (contentType string, err error) {
	route := "GET /v1/statements?date=" + date
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", fmt.Errorf("statement date %q is not YYYY-MM-DD", date)
	}
	start := time.Now()
	label := "unknown" // a 503 not ready counts as unknown, as every 5xx of other operations does
	defer func() {
		c.m.latency.WithLabelValues(c.code, OpStatement).Observe(time.Since(start).Seconds())
		c.m.outcome(c.code, OpStatement, label)
	}()
	fail := func(err error) (string, error) { return "", fmt.Errorf("bank %s %s: %w", c.code, route, err) }

	b := c.bank.Load()
	sctx, cancel := context.WithTimeout(ctx, c.opts.StatementTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, b.BaseURL+"/v1/statements?date="+date, nil)
	if err != nil {
		return fail(fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Accept", statementAccept)
	now := c.now()
	sign(req, b.SigningSecrets(now), nil, now)
	resp, err := c.statements.Do(req)
	if err != nil {
		return fail(c.statementErr(ctx, sctx, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		label = "not_found"
		return "", &NotReadyError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now())}
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return "", &NotReadyError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now())}
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
		return fail(fmt.Errorf("bank answered %d", resp.StatusCode))
	}
	if _, err := io.Copy(w, &bodyReader{r: resp.Body}); err != nil {
		var be *bodyError
		if errors.As(err, &be) {
			return fail(fmt.Errorf("read the statement: %w", c.statementErr(ctx, sctx, be.err)))
		}
		return fail(fmt.Errorf("write the statement: %w", err))
	}
	label = "succeeded"
	return resp.Header.Get("Content-Type"), nil
}

// statementErr names a transport error of a statement fetch: the caller's
// end, the statement timeout, or the bank's.
func (c *Client) statementErr(ctx, sctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return err
	case errors.Is(sctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("no whole answer within %s: %w", c.opts.StatementTimeout, context.DeadlineExceeded)
	}
	return err
}

// bodyReader marks the errors of reading the bank's answer, to tell them
// from those of writing it to the caller's writer.
type bodyReader struct{ r io.Reader }

type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &bodyError{err}
	}
	return n, err
}

// retryAfter reads a Retry-After of seconds or an HTTP date; 0 when absent
// or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
