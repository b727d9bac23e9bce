// Package portal is a Go client of the CitizenPay gateway's portal API
// (PROTOCOL.md §3–§5, §8, §11, §12), for the public-service portals that
// charge fees through it. It uses the standard library only and can be
// imported by any module.
//
// A Client signs every request with the portal's key (§3), sets an
// Idempotency-Key on every POST (the caller's, or a new one kept across
// retries, §4), retries what is safe to retry with capped exponential
// backoff and jitter, honouring Retry-After, and returns the gateway's
// refusals as *Error, its RFC 9457 problem document. VerifyWebhook checks
// the Standard Webhooks signature of an event the gateway delivers.
//
//	c, err := portal.New("https://pay.example.vn", keyID, secret)
//	pr, err := c.CreatePaymentRequest(ctx, portal.CreatePaymentRequestParams{…},
//		portal.WithIdempotencyKey("create-"+dossier))
//	fmt.Println(pr.CheckoutURL)
package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the gateway as one portal. It is safe for concurrent use.
type Client struct {
	base    string
	keyID   string
	secret  string
	http    *http.Client
	retry   RetryPolicy
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	explain func(canonical string)
	agent   string
}

// Option changes how New builds a Client.
type Option func(*Client)

// WithHTTPClient sends requests with hc instead of a client with a 30 s
// timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetry replaces DefaultRetry.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithClock signs requests with now's time instead of the wall clock's.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithExplain calls f with the canonical string of every attempt, just
// before it is sent: what an integrator compares with the canonical_string
// of a signature_mismatch.
func WithExplain(f func(canonical string)) Option { return func(c *Client) { c.explain = f } }

// WithUserAgent sets the User-Agent of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// New returns a Client of the gateway at baseURL (scheme, host and any path
// prefix, such as "https://pay.example.vn") for the portal whose key id and
// secret ("psk_…") were issued at onboarding.
func New(baseURL, keyID, secret string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("portal: base URL %q is not an http(s) URL without a query", baseURL)
	}
	if keyID == "" || secret == "" {
		return nil, errors.New("portal: the key id and the secret are required")
	}
	c := &Client{
		base: strings.TrimRight(baseURL, "/"), keyID: keyID, secret: secret,
		http: &http.Client{Timeout: 30 * time.Second}, retry: DefaultRetry, now: time.Now, sleep: sleep,
		agent: "citizenpay-go-portal",
	}
	for _, o := range opts {
		o(c)
	}
	c.retry.MaxAttempts = max(1, c.retry.MaxAttempts)
	return c, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CallOption changes one call.
type CallOption func(*call)

type call struct {
	key    string
	header http.Header
}

// WithIdempotencyKey sends key as the Idempotency-Key (1–255 printable
// ASCII) instead of a new one. A key names one operation: reuse it to retry
// that operation later, such as "create-" + the dossier code, never for
// another.
func WithIdempotencyKey(key string) CallOption { return func(c *call) { c.key = key } }

// WithHeader adds a header to the request, such as X-Request-Id.
func WithHeader(name, value string) CallOption {
	return func(c *call) {
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Add(name, value)
	}
}

// NewIdempotencyKey returns a new random key.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "go-" + hex.EncodeToString(b[:])
}

// Response is the gateway's last answer to a call.
type Response struct {
	StatusCode int
	Status     string // such as "201 Created"
	Proto      string
	Header     http.Header
	Body       []byte
	// IdempotencyKey is the key the request carried, or "".
	IdempotencyKey string
	// Attempts is how many times the request was sent.
	Attempts int
}

// Replayed reports whether the gateway answered from its idempotency
// record: the operation had already run under this key.
func (r *Response) Replayed() bool { return r.Header.Get("Idempotent-Replayed") == "true" }

// Do sends a signed request: method, target (the path under the base URL,
// with any ?query, as it is to be sent), and body (nil for none). POST and
// DELETE carry an Idempotency-Key. It returns the last response; err is an
// *Error when the gateway refused (status ≥ 400, the response is returned
// too), or the transport's error when no answer came.
func (c *Client) Do(ctx context.Context, method, target string, body []byte, opts ...CallOption) (*Response, error) {
	var o call
	for _, opt := range opts {
		opt(&o)
	}
	method = strings.ToUpper(method)
	mutation := method == http.MethodPost || method == http.MethodDelete || method == http.MethodPut || method == http.MethodPatch
	if o.key == "" && mutation {
		o.key = NewIdempotencyKey()
	}
	safe := !mutation || o.key != ""
	var lastErr error
	for attempt := 1; ; attempt++ {
		res, err := c.send(ctx, method, target, body, o)
		if res != nil {
			res.Attempts = attempt
		}
		var wait time.Duration
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, err
		case err != nil:
			if !safe || attempt >= c.retry.MaxAttempts {
				return nil, err
			}
			lastErr, wait = err, c.retry.backoff(attempt)
		case res.StatusCode < 400:
			return res, nil
		default:
			e := errorOf(res.StatusCode, res.Header, res.Body)
			if !retryable(res.StatusCode, e.Code, safe) || attempt >= c.retry.MaxAttempts {
				return res, e
			}
			wait = c.retry.backoff(attempt)
			if ra, ok := parseRetryAfter(res.Header.Get("Retry-After"), c.now()); ok {
				if ra > c.retry.MaxRetryAfter && c.retry.MaxRetryAfter > 0 {
					return res, e
				}
				wait = max(wait, ra)
			}
			lastErr = e
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w (while waiting to retry after: %v)", err, lastErr)
		}
	}
}

// send makes one attempt, signed anew.
func (c *Client) send(ctx context.Context, method, target string, body []byte, o call) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("portal: %s %s: %w", method, target, err)
	}
	for k, vs := range o.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	if o.key != "" {
		req.Header.Set(HeaderIdempotencyKey, o.key)
	}
	req.Header.Set(HeaderPortalKey, c.keyID)
	canonical := SignRequest(req, c.secret, body, c.now())
	if c.explain != nil {
		c.explain(canonical)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("portal: read the answer to %s %s: %w", method, target, err)
	}
	return &Response{StatusCode: resp.StatusCode, Status: resp.Status, Proto: resp.Proto, Header: resp.Header,
		Body: out, IdempotencyKey: o.key}, nil
}

// call sends a JSON request (in nil for none) and decodes a JSON answer
// into out.
func (c *Client) call(ctx context.Context, method, target string, in, out any, opts ...CallOption) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("portal: encode %s %s: %w", method, target, err)
		}
	}
	res, err := c.Do(ctx, method, target, body, opts...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("portal: decode the answer to %s %s: %w", method, target, err)
	}
	return nil
}

// pathSegment escapes an id for a path.
func pathSegment(id string) string { return url.PathEscape(id) }
