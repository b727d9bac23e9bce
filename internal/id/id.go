// Package id makes the gateway's opaque, prefixed, time-ordered ids
// (pr_…, pa_…, evt_…): a type prefix and a ULID.
package id

import (
	"crypto/rand"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the gateway's objects.
const (
	PaymentRequest      = "pr"
	PaymentAttempt      = "pa"
	Refund              = "rf"
	Account             = "acc"
	AccountVerification = "av"
	Event               = "evt"
	Portal              = "ptl"
	Citizen             = "ctz"
	Incident            = "inc"
	Receipt             = "rc"
	Reconciliation      = "rcn"
	Settlement          = "stl"
)

// New returns a new id with prefix, ordered by creation time.
func New(prefix string) string {
	u := ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader)
	return prefix + "_" + strings.ToLower(u.String())
}

// HasPrefix reports whether s looks like an id of prefix.
func HasPrefix(s, prefix string) bool {
	return strings.HasPrefix(s, prefix+"_") && len(s) > len(prefix)+1 && len(s) <= 64
}
