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
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/pkg/portal"
)

// portalCreds is what `gatewayctl portal create` prints.
type portalCreds struct {
	PortalID string `json:"portal_id"`
	KeyID    string `json:"key_id"`
	Secret   string `json:"secret"`
}

// bankCreds names a bank the gateway knows, its secret, and the sandbox
// bank's URL (for its /_sim/knobs).
type bankCreds struct {
	Code   string
	Secret string
	SimURL string
}

// client speaks PROTOCOL.md to the gateway as a portal, as citizens and as
// banks.
type client struct {
	base   string
	http   *http.Client // setup and the sandbox banks' knobs
	lean   *leanClient  // the measured requests to the gateway
	portal portalCreds
	banks  map[string]bankCreds
	tokens []string // one per citizen, same order as citizens
}

// result is one exchange.
type result struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error // transport error or timeout; Status is 0
}

// timedOut reports whether the exchange ended on the client's timeout.
func (r result) timedOut() bool {
	var ne net.Error
	return r.Err != nil && (errors.Is(r.Err, context.DeadlineExceeded) || (errors.As(r.Err, &ne) && ne.Timeout()))
}

// requestTimeout is how long the bench waits for any answer: past it, a
// request is a client timeout.
const requestTimeout = 5 * time.Second

// maxConns bounds the connections to the gateway, as a fleet of portal and
// citizen clients behind a few proxies would. Requests beyond it wait for a
// connection in the client, and that wait counts in their latency: the load
// stays open loop, but the generator does not spend its core opening tens of
// thousands of sockets once answers slow down.
const maxConns = 256

func newClient(base string, creds portalCreds, banks map[string]bankCreds) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: requestTimeout}, lean: newLeanClient(host, maxConns),
		portal: creds, banks: banks}
}

func (c *client) mintTokens(iss *devissuer.Issuer, cits []citizen) error {
	c.tokens = make([]string, len(cits))
	for i, ct := range cits {
		tok, err := iss.Mint(devissuer.Claims{PID: ct.PID, Name: ct.Name, Birthdate: ct.Birthdate, LOA: 2, TTL: 12 * time.Hour})
		if err != nil {
			return fmt.Errorf("mint a token for citizen %d: %w", i, err)
		}
		c.tokens[i] = tok
	}
	return nil
}

// do sends req, whose body is body, to the gateway.
func (c *client) do(ctx context.Context, req *http.Request, body []byte) result {
	return c.lean.do(ctx, req.Method, req.URL.RequestURI(), req.Header, body)
}

// untilAdmitted repeats call while the gateway sheds it (429 or 503 with
// Retry-After), waiting as long as it asks, for up to a minute: setup work
// behaves like a well-mannered client, and only the measured scenarios count
// refusals.
func (c *client) untilAdmitted(ctx context.Context, call func() result) result {
	deadline := time.Now().Add(time.Minute)
	for {
		r := call()
		if r.Status != http.StatusTooManyRequests && r.Status != http.StatusServiceUnavailable {
			return r
		}
		wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || time.Now().Add(time.Duration(wait)*time.Second).After(deadline) {
			return r
		}
		select {
		case <-time.After(time.Duration(wait) * time.Second):
		case <-ctx.Done():
			return r
		}
	}
}

// portalDo sends a portal request signed as portals sign theirs, with
// pkg/portal's signer; key is the Idempotency-Key or "". The measured
// requests go through the lean client, not portal.Client, whose retries
// would hide the refusals the bench counts.
func (c *client) portalDo(ctx context.Context, method, target string, body []byte, key string) result {
	req, err := http.NewRequest(method, c.base+target, bytes.NewReader(body))
	if err != nil {
		return result{Err: err}
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(portal.HeaderIdempotencyKey, key)
	}
	req.Header.Set(portal.HeaderPortalKey, c.portal.KeyID)
	portal.SignRequest(req, c.portal.Secret, body, time.Now())
	return c.do(ctx, req, body)
}

// citizenDo sends a request with citizen i's token.
func (c *client) citizenDo(ctx context.Context, i int, method, target string, body []byte, key string) result {
	req, err := http.NewRequest(method, c.base+target, bytes.NewReader(body))
	if err != nil {
		return result{Err: err}
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(signature.HeaderIdempotencyKey, key)
	}
	req.Header.Set("Authorization", "Bearer "+c.tokens[i])
	return c.do(ctx, req, body)
}

// callback posts a bank's signed callback.
func (c *client) callback(ctx context.Context, bank string, body []byte) result {
	b := c.banks[bank]
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/bank-callbacks/"+bank, bytes.NewReader(body))
	if err != nil {
		return result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	signature.SignRequest(req, b.Secret, body, time.Now())
	return c.do(ctx, req, body)
}

// setKnobs changes a sandbox bank's knobs (POST /_sim/knobs).
func (c *client) setKnobs(ctx context.Context, bank string, knobs map[string]any) error {
	b, err := json.Marshal(knobs)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.banks[bank].SimURL+"/_sim/knobs", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("set knobs of %s: %w", bank, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		out, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("set knobs of %s: %d %s", bank, resp.StatusCode, out)
	}
	return nil
}

// createBody is a valid payment request for citizen pid.
func createBody(pid, dossier string) []byte {
	b, _ := json.Marshal(map[string]any{
		"citizen_pid": pid, "dossier_code": dossier, "service_code": "1.001234",
		"description": "Lệ phí cấp giấy phép xây dựng",
		"items": []map[string]string{
			{"code": "LE_PHI", "description": "Lệ phí", "amount": "50000"},
			{"code": "PHI", "description": "Phí thẩm định", "amount": "25000"},
		},
		"amount": "75000", "currency": "VND", "metadata": map[string]string{"office": "Q1"},
	})
	return b
}

// newID returns a random hex id for keys, dossiers and event ids.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// idOf reads the "id" of a JSON object.
func idOf(body []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &v)
	return v.ID
}
