package main

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
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/pkg/portal"
)

// portalCredentials is what `gatewayctl portal create` printed into
// .dev/portal.json.
type portalCredentials struct {
	PortalID string `json:"portal_id"`
	KeyID    string `json:"key_id"`
	Secret   string `json:"secret"`
}

// readJSONFile decodes a credentials file that `make run` wrote.
func readJSONFile(path string, v any) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s does not exist: start `make run` first", path)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// reply is one finished exchange.
type reply struct {
	Status int
	Body   []byte
}

// decode reads the body into v.
func (r reply) decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("unreadable answer (%d): %.200s", r.Status, r.Body)
	}
	return nil
}

// problem describes an error answer by its code and detail.
func (r reply) problem() string {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(r.Body, &p) != nil || (p.Code == "" && p.Error == "") {
		return fmt.Sprintf("%d %s", r.Status, strings.TrimSpace(string(r.Body)))
	}
	if p.Code == "" {
		p.Code = p.Error
	}
	return fmt.Sprintf("%d %s: %s", r.Status, p.Code, p.Detail)
}

// caller sends the demo's requests: as the portal (signed, PROTOCOL.md §3),
// as the citizen (a bearer token) or unauthenticated.
type caller struct {
	http    *http.Client
	gateway string
	portal  portalCredentials
	token   string // the citizen's
	run     string // makes this run's idempotency keys unique
	client  *portal.Client
}

func newCaller(gateway string, portal portalCredentials) *caller {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &caller{http: &http.Client{Timeout: 15 * time.Second}, gateway: gateway, portal: portal, run: hex.EncodeToString(b[:])}
}

// key is an Idempotency-Key naming one operation of this run.
func (c *caller) key(op string) string { return "demo-" + c.run + "-" + op }

// asPortal sends a request as the portal, through the portal's Go client
// (pkg/portal): signed (PROTOCOL.md §3), key sent as the Idempotency-Key
// when not empty, and what the gateway sheds with Retry-After sent again.
func (c *caller) asPortal(ctx context.Context, method, target, key string, body any) (reply, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return reply{}, err
		}
	}
	var opts []portal.CallOption
	if key != "" {
		opts = append(opts, portal.WithIdempotencyKey(key))
	}
	return c.portalDo(ctx, method, target, raw, opts...)
}

// asPortalWith sends a signed request without a body, with header added
// (an Accept, say).
func (c *caller) asPortalWith(ctx context.Context, method, target string, header http.Header) (reply, error) {
	var opts []portal.CallOption
	for k, vs := range header {
		for _, v := range vs {
			opts = append(opts, portal.WithHeader(k, v))
		}
	}
	return c.portalDo(ctx, method, target, nil, opts...)
}

// portalDo makes one call with the portal client; an error answer is a
// reply like any other, for the step to judge.
func (c *caller) portalDo(ctx context.Context, method, target string, body []byte, opts ...portal.CallOption) (reply, error) {
	if c.client == nil {
		cl, err := portal.New(c.gateway, c.portal.KeyID, c.portal.Secret, portal.WithHTTPClient(c.http))
		if err != nil {
			return reply{}, err
		}
		c.client = cl
	}
	res, err := c.client.Do(ctx, method, target, body, opts...)
	if res == nil {
		return reply{}, err
	}
	return reply{Status: res.StatusCode, Body: res.Body}, nil
}

// asCitizen sends a request with the citizen's bearer token.
func (c *caller) asCitizen(ctx context.Context, method, target, key string, body any) (reply, error) {
	return c.send(ctx, method, c.gateway+target, key, body, func(req *http.Request, _ []byte) {
		req.Header.Set("Authorization", "Bearer "+c.token)
	})
}

// plain sends an unauthenticated request to any URL.
func (c *caller) plain(ctx context.Context, method, url string, body any) (reply, error) {
	return c.send(ctx, method, url, "", body, nil)
}

// send sends one request, and again (newly signed, with the same
// Idempotency-Key) when the gateway sheds it with 429 or 503 and a
// Retry-After, as every client of the gateway should: at peak hours a
// shed request is an answer to wait out, not a failure.
func (c *caller) send(ctx context.Context, method, url, key string, body any, auth func(*http.Request, []byte)) (reply, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return reply{}, err
		}
	}
	for attempt := 1; ; attempt++ {
		r, wait, err := c.sendOnce(ctx, method, url, key, raw, auth)
		if err != nil || wait == 0 || attempt == maxAttempts {
			return r, err
		}
		select {
		case <-ctx.Done():
			return reply{}, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// maxAttempts bounds how often send tries a request the gateway shed.
const maxAttempts = 5

// sendOnce sends the request once; wait is the Retry-After of a shed
// answer (429 or 503), zero for any other.
func (c *caller) sendOnce(ctx context.Context, method, url, key string, raw []byte, auth func(*http.Request, []byte)) (reply, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(raw))
	if err != nil {
		return reply{}, 0, err
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(signature.HeaderIdempotencyKey, key)
	}
	if auth != nil {
		auth(req, raw)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, 0, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return reply{}, 0, fmt.Errorf("%s %s: %w", method, url, err)
	}
	var wait time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 && secs <= 60 {
			wait = max(time.Duration(secs)*time.Second, 200*time.Millisecond)
		}
	}
	return reply{Status: resp.StatusCode, Body: out}, wait, nil
}

// expect checks an answer's status and decodes its body into v.
func expect(r reply, err error, status int, v any) error {
	if err != nil {
		return err
	}
	if r.Status != status {
		return fmt.Errorf("answered %s, expected %d", r.problem(), status)
	}
	if v == nil {
		return nil
	}
	return r.decode(v)
}

// waitFor polls check every half second until it reports done, saying
// every 10 s that it is still waiting, until timeout.
func waitFor(ctx context.Context, timeout time.Duration, what string, say func(string), check func() (bool, error)) error {
	start := time.Now()
	next := 10 * time.Second
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		waited := time.Since(start)
		if waited > timeout {
			return fmt.Errorf("gave up after %s waiting for %s", timeout, what)
		}
		if waited > next {
			say(fmt.Sprintf("still waiting for %s (%s so far)", what, waited.Round(time.Second)))
			next += 10 * time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
