package checkout

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/keyring"
)

// TestCookie: outside development the cookie is Secure and named with the
// __Host- prefix; it is always HttpOnly, SameSite=Lax, Path=/ and lives at
// most SessionLifetime.
func TestCookie(t *testing.T) {
	t.Parallel()
	keys, err := keyring.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	for _, secure := range []bool{true, false} {
		s := newSessions(nil, "", keys, func() time.Time { return now }, secure)
		sess := s.fresh("vi")
		w := httptest.NewRecorder()
		s.setCookie(w, sess)
		c := w.Header().Get("Set-Cookie")
		name := "checkout="
		if secure {
			name = "__Host-checkout="
		}
		for _, want := range []string{name + sess.id, "Path=/", "Max-Age=1800", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(c, want) {
				t.Errorf("secure=%v: cookie %q lacks %q", secure, c, want)
			}
		}
		if strings.Contains(c, "Secure") != secure || strings.Contains(c, "Domain") {
			t.Errorf("secure=%v: cookie %q", secure, c)
		}
		if len(sess.id) != 43 {
			t.Errorf("session id of %d characters, want 256 bits in base64url", len(sess.id))
		}
	}
}

// TestAttemptTokens: a token is reused until spent, then replaced only
// when another attempt is allowed; old tokens stay recognised.
func TestAttemptTokens(t *testing.T) {
	t.Parallel()
	sess := &session{}
	first, issued := sess.currentAttempt("pr_1", true)
	if !issued || first == "" {
		t.Fatal("no first token")
	}
	if again, issued := sess.currentAttempt("pr_1", true); again != first || issued {
		t.Fatal("an unspent token was replaced")
	}
	sess.Attempts["pr_1"].Spent = true
	if same, issued := sess.currentAttempt("pr_1", false); same != first || issued {
		t.Fatal("a new token was issued while no attempt is allowed")
	}
	second, issued := sess.currentAttempt("pr_1", true)
	if !issued || second == first {
		t.Fatal("no new token after a spent one")
	}
	if !sess.issuedAttempt("pr_1", first) || !sess.issuedAttempt("pr_1", second) || sess.issuedAttempt("pr_1", "forged") ||
		sess.issuedAttempt("pr_2", first) {
		t.Fatal("issued tokens not told from others")
	}
}
