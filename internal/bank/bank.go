// Package bank is the domain of onboarded banks (PROTOCOL.md §7): their code,
// base URL and shared secret, and the rule that a replaced secret keeps
// verifying callbacks for a day after a rotation.
package bank

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
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

// SecretPrefix starts every bank secret.
const SecretPrefix = "bsk_"

// Errors of the onboarding checks. Wrapped messages say what is wrong.
var (
	// ErrInvalidCode means a bank code is not 2–16 of A–Z and 0–9.
	ErrInvalidCode = errors.New("invalid bank code")
	// ErrInvalidBaseURL means a base URL cannot be used to reach a bank.
	ErrInvalidBaseURL = errors.New("invalid bank base URL")
	// ErrInvalidName means a bank's name is empty or too long.
	ErrInvalidName = errors.New("invalid bank name")
)

var codePattern = regexp.MustCompile(`^[A-Z0-9]{2,16}$`)

// Bank is an onboarded bank with its secrets in clear (they live in memory
// only; at rest they are sealed).
type Bank struct {
	Code                  string
	Name                  string
	BaseURL               string // absolute, without a trailing slash; may hold a path
	Secret                string
	PreviousSecret        string
	PreviousSecretExpires time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// SigningSecrets returns the secrets valid at now: the current one, and
// during a rotation's grace the previous one (a revoked one has none).
// Callbacks may be signed with either; requests to the bank are signed with
// all of them, so that a bank that has not switched yet still finds a match.
func (b *Bank) SigningSecrets(now time.Time) []string {
	out := []string{b.Secret}
	if b.PreviousSecret != "" && now.Before(b.PreviousSecretExpires) {
		out = append(out, b.PreviousSecret)
	}
	return out
}

// CheckCode validates a bank code: 2–16 of A–Z and 0–9.
func CheckCode(code string) error {
	if !codePattern.MatchString(code) {
		return fmt.Errorf("%w: must be 2 to 16 of A-Z and 0-9", ErrInvalidCode)
	}
	return nil
}

// CheckName validates a bank's display name.
func CheckName(name string) error {
	if n := len([]rune(strings.TrimSpace(name))); n < 1 || n > 200 {
		return fmt.Errorf("%w: must be 1 to 200 characters", ErrInvalidName)
	}
	return nil
}

// NormalizeBaseURL checks a bank's base URL and returns it without a trailing
// slash. A path is allowed (banks often sit behind a gateway prefix) and so
// are private addresses (banks often sit on private links); https is
// required unless development allows http. No query, fragment or user
// information: requests are signed over the path, and secrets never travel
// in URLs.
func NormalizeBaseURL(raw string, development bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "", fmt.Errorf("%w: not an absolute URL", ErrInvalidBaseURL)
	case u.Scheme == "http" && !development:
		return "", fmt.Errorf("%w: must be https:// (http:// only with GATEWAY_ENV=development)", ErrInvalidBaseURL)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%w: must be https://", ErrInvalidBaseURL)
	case u.User != nil:
		return "", fmt.Errorf("%w: must not carry user information", ErrInvalidBaseURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("%w: must not have a query or fragment", ErrInvalidBaseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// NewSecret returns a new shared secret: "bsk_" and 64 hex digits.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return SecretPrefix + hex.EncodeToString(b)
}
