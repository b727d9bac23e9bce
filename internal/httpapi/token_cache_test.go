package httpapi

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/identity"
)

func TestTokenCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	tc := newTokenCache(3)
	session := func(exp time.Time) *citizenSession {
		return &citizenSession{who: identity.Citizen{ExpiresAt: exp}}
	}
	key := func(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

	live, dead := session(now.Add(time.Hour)), session(now.Add(time.Minute))
	tc.put(key("a"), live, now)
	tc.put(key("b"), dead, now)
	if tc.get(key("a"), now) != live || tc.get(key("b"), now) != dead || tc.get(key("c"), now) != nil {
		t.Fatal("lookups")
	}
	later := now.Add(2 * time.Minute)
	if tc.get(key("b"), later) != nil {
		t.Fatal("an expired token is served")
	}
	// Full: the expired entry goes first, the live ones stay.
	tc.put(key("c"), session(now.Add(time.Hour)), later)
	tc.put(key("d"), session(now.Add(time.Hour)), later)
	if len(tc.byHash) != 3 || tc.get(key("a"), later) != live || tc.get(key("d"), later) == nil {
		t.Fatalf("after eviction: %d entries", len(tc.byHash))
	}
	// Full of live entries: everything goes, the cache stays bounded.
	tc.put(key("e"), session(now.Add(time.Hour)), later)
	if len(tc.byHash) != 1 || tc.get(key("e"), later) == nil {
		t.Fatalf("bound: %d entries", len(tc.byHash))
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "  Bearer   abc  ": "abc",
		"": "", "Bearer": "", "Bearer ": "", "Basic abc": "", "abc": "",
	} {
		got, ok := bearer(in)
		if got != want || ok != (want != "") {
			t.Errorf("bearer(%q) = %q, %v", in, got, ok)
		}
	}
}
