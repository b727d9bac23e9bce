// Package webhook signs the events the gateway delivers to portals, and
// verifies them for gatewayctl's receiver, per the Standard Webhooks
// specification (PROTOCOL.md §8): any Standard Webhooks library on the
// portal's side verifies what this package signs.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the scheme. http.Header canonicalises them (Webhook-Id…);
// header names are case-insensitive on the wire.
const (
	// HeaderID carries the event id, the same on every delivery attempt.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the attempt's time in unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries one or more space-separated "v1,<base64>" signatures.
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts the text form of every webhook secret.
const SecretPrefix = "whsec_"

// Bounds on the decoded length of a secret, from the Standard Webhooks
// specification; NewSecret makes secrets of NewSecretBytes.
const (
	// MinSecretBytes is the shortest key ParseSecret accepts.
	MinSecretBytes = 24
	// MaxSecretBytes is the longest key ParseSecret accepts.
	MaxSecretBytes = 64
	// NewSecretBytes is the length of the keys NewSecret makes.
	NewSecretBytes = 24
)

// DefaultTolerance is how far a webhook's timestamp may stray from the
// receiver's clock, the value the Standard Webhooks libraries use. Verify uses
// it when given a tolerance that is not positive.
const DefaultTolerance = 5 * time.Minute

// ErrInvalidSecret is returned by ParseSecret; the wrapped message says what
// is wrong and never contains the secret.
var ErrInvalidSecret = errors.New("invalid webhook secret")

// Errors returned by Verify. Each means the delivery must be refused; they are
// distinct so that the receiver can say why.
var (
	// ErrMissingHeaders means one of the three headers is absent or empty.
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	// ErrInvalidTimestamp means webhook-timestamp is not unix seconds in ASCII digits.
	ErrInvalidTimestamp = errors.New("webhook: malformed webhook-timestamp")
	// ErrTooOld means the timestamp is further in the past than the tolerance.
	ErrTooOld = errors.New("webhook: timestamp too old")
	// ErrTooNew means the timestamp is further in the future than the tolerance.
	ErrTooNew = errors.New("webhook: timestamp too far in the future")
	// ErrNoMatch means no v1 signature matches the body under any of the secrets.
	ErrNoMatch = errors.New("webhook: no signature matches")
)

// Secret is a webhook signing key. Make one with ParseSecret; the zero Secret
// signs nothing. Printing a Secret shows no key.
type Secret struct {
	key []byte
}

// ParseSecret reads a secret in its text form, "whsec_" followed by the
// standard, padded base64 of 24 to 64 bytes. The key is the decoded bytes.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf("%w: does not start with %q", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return Secret{}, fmt.Errorf("%w: the part after %q is not standard base64", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return Secret{}, fmt.Errorf("%w: %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return Secret{key: key}, nil
}

// NewSecret returns a new random secret in text form: "whsec_" and the base64
// of NewSecretBytes random bytes. Its error is always nil today (crypto/rand
// does not fail); it is kept so that callers handle a future source that can.
func NewSecret() (string, error) {
	key := make([]byte, NewSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// String returns a fixed text, so that a Secret printed by mistake shows no key.
func (s Secret) String() string { return SecretPrefix + "REDACTED" }

// GoString returns the same fixed text as String, for %#v.
func (s Secret) GoString() string { return s.String() }

// mac returns HMAC-SHA256 under s of id "." timestamp "." body.
func (s Secret) mac(id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the webhook-signature header value for one delivery attempt of
// the event id at ts with body: "v1,<base64 HMAC-SHA256>" for each secret, in
// the order given, separated by spaces. During a rotation pass the new and the
// old secret, so that the portal accepts the delivery whichever it holds. Sign
// panics if given no secret or a zero Secret: a delivery signed with nothing
// would be refused by every portal, so that is a bug.
func Sign(id string, ts time.Time, body []byte, secrets ...Secret) string {
	if len(secrets) == 0 {
		panic("webhook: Sign without a secret")
	}
	unix := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	for i, s := range secrets {
		if len(s.key) == 0 {
			panic("webhook: Sign with a zero Secret")
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(s.mac(id, unix, body)))
	}
	return b.String()
}

// Headers returns the three headers of a delivery attempt: webhook-id (the
// event id, the same on every retry), webhook-timestamp (ts in unix seconds:
// the time of this attempt) and webhook-signature (Sign's value).
func Headers(id string, ts time.Time, body []byte, secrets ...Secret) http.Header {
	h := make(http.Header, 3)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(id, ts, body, secrets...))
	return h
}

// Verify checks a received delivery: the three headers are present, the
// timestamp is within tolerance of now (DefaultTolerance if tolerance is not
// positive), and one of the signatures is a v1 signature of body under one of
// secrets. Signatures of other versions are ignored. Comparisons are
// constant-time and every secret is tried, so timing does not tell which
// matched. It returns nil or one of the Err… values of this package.
func Verify(headers http.Header, body []byte, tolerance time.Duration, now time.Time, secrets ...Secret) error {
	id := headers.Get(HeaderID)
	tsText := headers.Get(HeaderTimestamp)
	sigText := headers.Get(HeaderSignature)
	if id == "" || tsText == "" || sigText == "" {
		return ErrMissingHeaders
	}
	unix, err := parseUnix(tsText)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts := time.Unix(unix, 0)
	if now.Sub(ts) > tolerance {
		return ErrTooOld
	}
	if ts.Sub(now) > tolerance {
		return ErrTooNew
	}
	var given [][]byte
	for _, entry := range strings.Fields(sigText) {
		b64, ok := strings.CutPrefix(entry, "v1,")
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		given = append(given, sig)
	}
	// The signed timestamp is the number re-printed, as the Standard Webhooks
	// libraries do, so "0017…" and "17…" sign alike.
	unixText := strconv.FormatInt(unix, 10)
	matched := false
	for _, s := range secrets {
		if len(s.key) == 0 {
			continue
		}
		want := s.mac(id, unixText, body)
		for _, g := range given {
			if hmac.Equal(want, g) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrNoMatch
	}
	return nil
}

// parseUnix reads a webhook-timestamp: ASCII digits only (no sign, no space),
// as a number of seconds that fits in an int64.
func parseUnix(s string) (int64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrInvalidTimestamp
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrInvalidTimestamp
	}
	return n, nil
}
