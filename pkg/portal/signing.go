package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the request signature scheme (PROTOCOL.md §3).
const (
	HeaderTimestamp      = "X-Timestamp"
	HeaderSignature      = "X-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderPortalKey      = "X-Portal-Key"
)

// MaxSkew is how far a request's X-Timestamp may stray from the gateway's
// clock before the gateway refuses it.
const MaxSkew = 300 * time.Second

// Canonical returns the string a request signature covers:
//
//	"v1\n" + timestamp + "\n" + METHOD + "\n" + request_target + "\n"
//	  + idempotency_key + "\n" + lowercase_hex(SHA-256(body))
//
// timestamp is the X-Timestamp value (unix seconds), target the raw
// request-target as sent on the wire (path, with any path of the base URL,
// plus ?query, undecoded), idempotencyKey the Idempotency-Key header or "",
// and body the exact bytes sent.
func Canonical(timestamp, method, target, idempotencyKey string, body []byte) string {
	sum := sha256.Sum256(body)
	var b strings.Builder
	b.Grow(128 + len(target) + len(idempotencyKey))
	b.WriteString("v1\n")
	b.WriteString(timestamp)
	b.WriteByte('\n')
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(target)
	b.WriteByte('\n')
	b.WriteString(idempotencyKey)
	b.WriteByte('\n')
	b.WriteString(hex.EncodeToString(sum[:]))
	return b.String()
}

// Sign returns the X-Signature value of canonical under secret:
// "v1=" and the lowercase hex HMAC-SHA256 keyed with the secret's bytes
// exactly as issued, prefix included ("psk_…").
func Sign(secret, canonical string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(canonical))
	return "v1=" + hex.EncodeToString(h.Sum(nil))
}

// SignRequest sets X-Timestamp and X-Signature on r, signed at now with
// secret, and returns the canonical string it signed. body must be the
// exact bytes r will send; the Idempotency-Key header, if any, must be set
// before. The request target is r.URL.RequestURI(), what the gateway sees
// on the request line. SignRequest does not set X-Portal-Key.
func SignRequest(r *http.Request, secret string, body []byte, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	c := Canonical(ts, r.Method, r.URL.RequestURI(), r.Header.Get(HeaderIdempotencyKey), body)
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderSignature, Sign(secret, c))
	return c
}
