// Package signature signs and verifies requests with the shared-secret HMAC
// scheme of PROTOCOL.md §3. One package serves portals calling the gateway,
// banks posting callbacks, and the gateway calling banks.
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the scheme.
const (
	HeaderTimestamp      = "X-Timestamp"
	HeaderSignature      = "X-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderPortalKey      = "X-Portal-Key"
)

// MaxSkew is how far a request's timestamp may stray from the receiver's clock.
const MaxSkew = 300 * time.Second

// Errors returned by Verify. All of them mean 401 invalid_signature to the caller;
// they are distinct so that logs and metrics can say why.
var (
	ErrMissing   = errors.New("signature: missing timestamp or signature")
	ErrTimestamp = errors.New("signature: malformed timestamp")
	ErrSkew      = errors.New("signature: timestamp outside the allowed window")
	ErrMalformed = errors.New("signature: no well-formed v1= value")
	ErrMismatch  = errors.New("signature: no signature matches")
)

// Message is what a signature covers.
type Message struct {
	Timestamp      string // unix seconds, as sent in X-Timestamp
	Method         string
	Target         string // raw request-target: path as sent on the wire plus ?query
	IdempotencyKey string
	Body           []byte
}

// Canonical returns the string that is signed.
func (m Message) Canonical() string {
	sum := sha256.Sum256(m.Body)
	var b strings.Builder
	b.Grow(128 + len(m.Target) + len(m.IdempotencyKey))
	b.WriteString("v1\n")
	b.WriteString(m.Timestamp)
	b.WriteByte('\n')
	b.WriteString(m.Method)
	b.WriteByte('\n')
	b.WriteString(m.Target)
	b.WriteByte('\n')
	b.WriteString(m.IdempotencyKey)
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

func (m Message) mac(secret string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(m.Canonical()))
	return h.Sum(nil)
}

// Sign returns the X-Signature value for m under secret: "v1=<hex>".
func Sign(secret string, m Message) string {
	return "v1=" + hex.EncodeToString(m.mac(secret))
}

// Precheck checks what needs no secret: that header (an X-Signature value)
// and timestamp (X-Timestamp) are present, that the timestamp is unix
// seconds within MaxSkew of now, and that header holds at least one
// well-formed "v1=" value. A receiver runs it before looking up the
// sender's key, so that a request refused here costs no lookup. It returns
// ErrMissing, ErrTimestamp, ErrSkew or ErrMalformed.
func Precheck(header, timestamp string, now time.Time) error {
	_, err := precheck(header, timestamp, now)
	return err
}

// precheck is Precheck returning the decoded signatures.
func precheck(header, timestamp string, now time.Time) ([][]byte, error) {
	if header == "" || timestamp == "" {
		return nil, ErrMissing
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, ErrTimestamp
	}
	skew := now.Sub(time.Unix(ts, 0))
	if skew > MaxSkew || skew < -MaxSkew {
		return nil, ErrSkew
	}
	var given [][]byte
	for _, part := range strings.Fields(header) {
		v, ok := strings.CutPrefix(part, "v1=")
		if !ok {
			continue
		}
		sig, err := hex.DecodeString(v)
		if err != nil || len(sig) != sha256.Size {
			continue
		}
		given = append(given, sig)
	}
	if len(given) == 0 {
		return nil, ErrMalformed
	}
	return given, nil
}

// Verify checks header (an X-Signature value, possibly several space-separated
// "v1=" entries) against m under any of secrets, and m's timestamp against now
// (Precheck). The comparison is constant-time; every secret is tried so that
// timing does not reveal which one matched. Only ErrMismatch means that a
// fresher secret might match.
func Verify(header string, secrets []string, m Message, now time.Time) error {
	given, err := precheck(header, m.Timestamp, now)
	if err != nil {
		return err
	}
	matched := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		want := m.mac(s)
		for _, g := range given {
			if hmac.Equal(want, g) {
				matched++
			}
		}
	}
	if matched == 0 {
		return ErrMismatch
	}
	return nil
}

// SignRequest sets X-Timestamp and X-Signature on r for body, which must be the
// exact bytes r will send. The target is r.URL.RequestURI(), which is what the
// receiver sees as the raw request-target.
func SignRequest(r *http.Request, secret string, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	m := Message{
		Timestamp:      ts,
		Method:         r.Method,
		Target:         r.URL.RequestURI(),
		IdempotencyKey: r.Header.Get(HeaderIdempotencyKey),
		Body:           body,
	}
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderSignature, Sign(secret, m))
}

// FromRequest builds the Message a received request claims to sign. body must
// be the exact bytes read from r.
func FromRequest(r *http.Request, body []byte) Message {
	return Message{
		Timestamp:      r.Header.Get(HeaderTimestamp),
		Method:         r.Method,
		Target:         r.RequestURI,
		IdempotencyKey: r.Header.Get(HeaderIdempotencyKey),
		Body:           body,
	}
}

// String describes m without its body, for debugging.
func (m Message) String() string {
	return fmt.Sprintf("%s %s at %s", m.Method, m.Target, m.Timestamp)
}
