package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook header names (Standard Webhooks, PROTOCOL.md §8).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultWebhookTolerance is how far a webhook's timestamp may be from now
// when VerifyWebhook is given no tolerance.
const DefaultWebhookTolerance = 5 * time.Minute

// Errors of VerifyWebhook: refuse the delivery (a 4xx other than 410, so
// that the gateway retries it) on any of them.
var (
	ErrWebhookSecret    = errors.New("portal: the webhook secret is not whsec_ and base64")
	ErrWebhookHeaders   = errors.New("portal: webhook-id, webhook-timestamp or webhook-signature is missing")
	ErrWebhookTimestamp = errors.New("portal: webhook-timestamp is not unix seconds")
	ErrWebhookStale     = errors.New("portal: webhook-timestamp is outside the tolerance")
	ErrWebhookSignature = errors.New("portal: no webhook signature matches")
)

// VerifyWebhook checks an event delivery the gateway signed per Standard
// Webhooks: that one of the "v1,<base64>" values of webhook-signature is
// the HMAC-SHA256, keyed with the base64-decoded part of secret after
// "whsec_", of webhook-id + "." + webhook-timestamp + "." + body, and that
// webhook-timestamp is within tolerance of now (DefaultWebhookTolerance
// when tolerance is not positive), so that an old delivery cannot be
// replayed. body must be the exact bytes received. The comparison is
// constant-time. During a secret rotation the gateway signs with both
// secrets, so either one verifies.
func VerifyWebhook(secret string, headers http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	b64, ok := strings.CutPrefix(strings.TrimSpace(secret), "whsec_")
	if !ok {
		return ErrWebhookSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return ErrWebhookSecret
	}
	id, ts, sigs := headers.Get(HeaderWebhookID), headers.Get(HeaderWebhookTimestamp), headers.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrWebhookHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strings.TrimLeft(ts, "0123456789") != "" {
		return ErrWebhookTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookStale
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	matched := false
	for _, part := range strings.Fields(sigs) {
		v, ok := strings.CutPrefix(part, "v1,")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return ErrWebhookSignature
	}
	return nil
}
