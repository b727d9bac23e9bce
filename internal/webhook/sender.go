package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// AttemptTimeout is how long one delivery attempt may take, from connecting
// to reading the answer's headers (PROTOCOL.md §8).
const AttemptTimeout = 10 * time.Second

// excerptBytes bounds the part of an answer's body kept with a failed
// attempt: enough to tell "maintenance" from a stack trace, too little to
// hold anything worth protecting.
const excerptBytes = 80

// drainBytes is how much of an answer's body is read so that the connection
// can be reused; the rest is dropped with the connection.
const drainBytes = 4 << 10

// errPrivateAddress is what the dialer returns for an address that is not
// public, in production.
var errPrivateAddress = errors.New("private address")

// Sender posts deliveries to portals' webhook endpoints: one POST per
// attempt, signed anew, with a 10 s timeout, redirects not followed and no
// proxy. It is safe for concurrent use.
type Sender struct {
	client      *http.Client
	development bool
}

// NewSender returns a Sender. In production (development false) it sends
// only to https:// URLs at public addresses; the address is checked where
// the connection is made, so a name that resolves to a private address is
// refused too. Development also allows http:// and private addresses.
func NewSender(development bool) *Sender {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !development {
		d.Control = refusePrivate
	}
	tr := &http.Transport{
		Proxy:             nil, // a proxy would hide the address checked above
		DialContext:       d.DialContext,
		ForceAttemptHTTP2: true,
		// Deliveries to one portal run side by side (up to the dispatcher's
		// workers): their connections are kept, not opened anew each time.
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &Sender{
		development: development,
		client: &http.Client{
			Transport: tr,
			Timeout:   AttemptTimeout,
			// A 3xx is an answer like any other: a failed attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Result is the outcome of one delivery attempt.
type Result struct {
	// Status is the answer's HTTP status; 0 when there was none.
	Status int
	// RetryAfter is the answer's Retry-After; 0 when it had none.
	RetryAfter time.Duration
	// Problem says why the attempt failed, short and safe to store: the
	// status with an excerpt of the body, or what went wrong on the way. It
	// never holds the URL, which may carry a token. Empty when delivered.
	Problem string
}

// Delivered reports whether the portal took the event: any 2xx.
func (r Result) Delivered() bool { return r.Status >= 200 && r.Status <= 299 }

// Gone reports whether the portal answered 410 Gone: its endpoint is to be
// disabled until the operator re-enables it.
func (r Result) Gone() bool { return r.Status == http.StatusGone }

// Send makes one delivery attempt of the event id with body to rawURL,
// signed at now with every secret (the current one first). A failure is in
// the Result; if ctx ends during the attempt, the caller should look at
// ctx.Err() rather than count the attempt.
func (s *Sender) Send(ctx context.Context, rawURL, id string, body []byte, now time.Time, secrets ...Secret) Result {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return Result{Problem: "refused: the webhook URL is not an absolute http(s) URL"}
	case u.Scheme != "https" && !s.development:
		return Result{Problem: "refused: the webhook URL must be https:// in production"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Result{Problem: "refused: the webhook URL cannot be requested"}
	}
	for k, v := range Headers(id, now, body, secrets...) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "citizenpay-gateway-webhooks/1")
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Problem: describe(err)}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, drainBytes))
	r := Result{Status: resp.StatusCode}
	if r.Delivered() {
		return r
	}
	r.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	r.Problem = fmt.Sprintf("HTTP %d", resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		r.Problem += " (redirects are not followed)"
	}
	if ex := excerpt(head); ex != "" {
		r.Problem += ": " + ex
	}
	return r
}

// describe turns a transport error into a short text without the URL.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, errPrivateAddress):
		return "refused: the webhook host resolves to a private address"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", AttemptTimeout)
	}
	return truncate(err.Error(), 200)
}

// excerpt returns the start of a body as one line of printable text.
func excerpt(b []byte) string {
	cut := len(b) > excerptBytes
	if cut {
		b = b[:excerptBytes] // a character cut in two becomes "?" below
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, strings.ToValidUTF8(string(b), "?"))
	s = maskNumbers(strings.Join(strings.Fields(s), " "))
	if cut && s != "" {
		s += "…"
	}
	return s
}

// maskNumbers replaces every run of six digits or more with "[number]": a
// portal's error page may echo a personal ID or an account number, which
// must not reach the database or the logs in clear (DOMAIN.md invariant 7).
func maskNumbers(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		switch {
		case j-i >= 6:
			b.WriteString("[number]")
		case j > i:
			b.WriteString(s[i:j])
		default:
			b.WriteByte(s[i])
			j++
		}
		i = j
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// refusePrivate is the production dialer's check of the address it is about
// to connect to.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !PublicAddr(ap.Addr()) {
		return errPrivateAddress
	}
	return nil
}

// PublicAddr reports whether a is a public unicast address: not loopback,
// private (RFC 1918, fc00::/7), link-local, shared (100.64.0.0/10),
// unspecified, multicast or reserved.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return false
		}
	}
	return true
}
