// Package portal is the domain of onboarded public-service portals: their
// credentials and the rule that an old signing secret keeps working for a
// day after a rotation.
package portal

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// RotationGrace is how long a replaced secret keeps working.
const RotationGrace = 24 * time.Hour

// GraceUntil returns until when a secret replaced at now keeps working:
// RotationGrace later, or never again (the zero time) when revokeOld, for a
// secret known or feared to be compromised.
func GraceUntil(now time.Time, revokeOld bool) time.Time {
	if revokeOld {
		return time.Time{}
	}
	return now.Add(RotationGrace)
}

// Portal is an onboarded portal with its secrets in clear (they live in
// memory only; at rest they are sealed).
type Portal struct {
	ID                     string
	Name                   string
	KeyID                  string
	Secret                 string
	PreviousSecret         string
	PreviousSecretExpires  time.Time
	WebhookURL             string
	WebhookSecret          string
	PreviousWebhookSecret  string
	PreviousWebhookExpires time.Time
	WebhookDisabledAt      *time.Time
	// DisabledAt is when the operator disabled the portal (gatewayctl
	// portal disable): its signed requests are refused and its webhooks
	// held until it is enabled again; nil while it is enabled.
	DisabledAt *time.Time
	// ReturnOrigins are the origins the hosted checkout may send a citizen
	// back to (ReturnOrigins normalises them), sorted; none by default.
	ReturnOrigins []string
	CreatedAt     time.Time
}

// Disabled reports whether the operator disabled the portal.
func (p *Portal) Disabled() bool { return p.DisabledAt != nil }

// WebhooksHeld reports whether the portal's webhooks wait, held: its
// endpoint answered 410 Gone, or the portal is disabled.
func (p *Portal) WebhooksHeld() bool { return p.WebhookDisabledAt != nil || p.DisabledAt != nil }

// SigningSecrets returns the secrets a request may be signed with at now:
// the current one, and the previous one only while its grace lasts (a
// revoked one has none).
func (p *Portal) SigningSecrets(now time.Time) []string {
	out := []string{p.Secret}
	if p.PreviousSecret != "" && now.Before(p.PreviousSecretExpires) {
		out = append(out, p.PreviousSecret)
	}
	return out
}

// WebhookSecrets returns the webhook secrets to sign with at now: both
// during a rotation's grace, the current one alone once the previous one
// has expired or was revoked.
func (p *Portal) WebhookSecrets(now time.Time) []string {
	out := []string{p.WebhookSecret}
	if p.PreviousWebhookSecret != "" && now.Before(p.PreviousWebhookExpires) {
		out = append(out, p.PreviousWebhookSecret)
	}
	return out
}

// NewKeyID returns a new public key id.
func NewKeyID() string { return "pk_" + randomHex(12) }

// NewSecret returns a new signing secret.
func NewSecret() string { return "psk_" + randomHex(32) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
