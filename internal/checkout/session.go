package checkout

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenpay/gateway/internal/keyring"
)

// SessionLifetime is the longest a checkout session lives: 30 minutes from
// its start, and for a signed-in citizen 30 minutes from the sign-in,
// however active they are.
const SessionLifetime = 30 * time.Minute

// pendingLifetime is how long a begun sign-in is kept for its callback.
const pendingLifetime = 10 * time.Minute

// maxIssuedAttempts is how many attempt tokens of one request a session
// remembers: a form older than that is refused as stale.
const maxIssuedAttempts = 8

// session is what the gateway keeps of one browser, sealed in Redis under
// the hash of the cookie's id. The id itself is never stored.
type session struct {
	id string // the cookie's value; not serialised

	Lang    string    `json:"lang"`
	Started time.Time `json:"started"`
	// Expires is the absolute end: Started (or the sign-in) + SessionLifetime.
	Expires time.Time `json:"expires"`
	// Citizen is the signed-in citizen; nil before sign-in.
	Citizen *signedIn `json:"citizen,omitempty"`
	// Attempts are the pay forms' one-time tokens, by request id.
	Attempts map[string]*attempts `json:"attempts,omitempty"`
	// Linking is the account the page is following, by request id.
	Linking map[string]string `json:"linking,omitempty"`
	// Notice is one message to show on the next view of a request.
	Notice *notice `json:"notice,omitempty"`
}

// signedIn is the citizen the identity provider named.
type signedIn struct {
	PID        string    `json:"pid"`
	Name       string    `json:"name"`
	LOA        int       `json:"loa"`
	PIDIndex   []byte    `json:"pid_index"`
	CitizenID  string    `json:"citizen_id,omitempty"` // once known
	SignedInAt time.Time `json:"signed_in_at"`
}

// attempts are the tokens of one request's pay forms. Current is the one the
// next form carries; Spent says a pay was started with it, so that a new one
// is issued only when the request may be paid again.
type attempts struct {
	Current string   `json:"current"`
	Spent   bool     `json:"spent"`
	Issued  []string `json:"issued"`
}

// notice is a message for the next view of request ReqID (post, redirect,
// get): a message code of the table, never personal data.
type notice struct {
	ReqID string `json:"req_id"`
	Code  string `json:"code"`
}

// pendingSignIn is a begun sign-in, kept until its callback consumes it.
type pendingSignIn struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Started  time.Time `json:"started"`
	ReqID    string    `json:"req_id"`
	Lang     string    `json:"lang"`
	// Browser is the hash of the session that began the sign-in: the
	// callback must come back to the same browser.
	Browser string `json:"browser"`
}

// sessions keeps sessions and pending sign-ins in Redis, sealed with
// AES-GCM, so that Redis holds no personal data in clear and any gateway
// process serves any browser.
type sessions struct {
	rdb     redis.UniversalClient
	prefix  string
	sealer  *keyring.Sealer
	csrfKey []byte
	keyKey  []byte // derives the idempotency keys of the page's mutations
	now     func() time.Time
	secure  bool
}

func newSessions(rdb redis.UniversalClient, prefix string, keys *keyring.Keyring, now func() time.Time, secure bool) *sessions {
	return &sessions{
		rdb: rdb, prefix: prefix, sealer: keys.Sealer("checkout-session"),
		csrfKey: keys.Key("checkout-csrf"), keyKey: keys.Key("checkout-idempotency"), now: now, secure: secure,
	}
}

// cookieName is __Host-checkout when the cookie is Secure (the prefix
// requires it), checkout otherwise (development over http).
func (s *sessions) cookieName() string {
	if s.secure {
		return "__Host-checkout"
	}
	return "checkout"
}

// randomID is 256 random bits, base64url.
func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is the hex SHA-256 of s: Redis keys carry it, never the secret.
func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func (s *sessions) sessionKey(id string) string { return s.prefix + "checkout:session:" + digest(id) }
func (s *sessions) pendingKey(state string) string {
	return s.prefix + "checkout:signin:" + digest(state)
}

// fresh returns a new anonymous session, not yet saved.
func (s *sessions) fresh(lang string) *session {
	now := s.now()
	return &session{id: randomID(), Lang: lang, Started: now, Expires: now.Add(SessionLifetime)}
}

// load returns the session of the request's cookie, or nil when there is
// none, it is unknown, it cannot be opened or it has expired.
func (s *sessions) load(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || len(c.Value) != 43 {
		return nil, nil
	}
	key := s.sessionKey(c.Value)
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load checkout session: %w", err)
	}
	plain, err := s.sealer.Open(raw, []byte(key))
	if err != nil {
		return nil, nil
	}
	var sess session
	if err := json.Unmarshal(plain, &sess); err != nil {
		return nil, nil
	}
	if !s.now().Before(sess.Expires) {
		return nil, nil
	}
	sess.id = c.Value
	return &sess, nil
}

// save stores sess until its absolute end.
func (s *sessions) save(ctx context.Context, sess *session) error {
	ttl := sess.Expires.Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	plain, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	key := s.sessionKey(sess.id)
	if err := s.rdb.Set(ctx, key, s.sealer.Seal(plain, []byte(key)), ttl).Err(); err != nil {
		return fmt.Errorf("save checkout session: %w", err)
	}
	return nil
}

// drop deletes sess.
func (s *sessions) drop(ctx context.Context, sess *session) error {
	if err := s.rdb.Del(ctx, s.sessionKey(sess.id)).Err(); err != nil {
		return fmt.Errorf("drop checkout session: %w", err)
	}
	return nil
}

// setCookie gives the browser sess's id until its end.
func (s *sessions) setCookie(w http.ResponseWriter, sess *session) {
	maxAge := int(math.Ceil(sess.Expires.Sub(s.now()).Seconds()))
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: sess.id, Path: "/", MaxAge: max(maxAge, 1),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie ends the browser's cookie.
func (s *sessions) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// csrf is the token sess's forms carry: an HMAC of the session's id.
func (s *sessions) csrf(sess *session) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf\x00" + sess.id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF compares token with sess's in constant time.
func (s *sessions) checkCSRF(sess *session, token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf(sess))) == 1
}

// idempotencyKey derives the key of one of the page's mutations from what
// names it (a request's attempt token, a link's account): the page owns it,
// the browser never sees it.
func (s *sessions) idempotencyKey(kind string, parts ...string) string {
	m := hmac.New(sha256.New, s.keyKey)
	m.Write([]byte(kind))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return "checkout-" + kind + "-" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// keepPending stores a begun sign-in for its callback.
func (s *sessions) keepPending(ctx context.Context, p pendingSignIn) error {
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	key := s.pendingKey(p.State)
	if err := s.rdb.Set(ctx, key, s.sealer.Seal(plain, []byte(key)), pendingLifetime).Err(); err != nil {
		return fmt.Errorf("keep pending sign-in: %w", err)
	}
	return nil
}

// takePending consumes the sign-in begun with state: once taken, a replayed
// callback finds nothing. It returns nil for an unknown state.
func (s *sessions) takePending(ctx context.Context, state string) (*pendingSignIn, error) {
	key := s.pendingKey(state)
	raw, err := s.rdb.GetDel(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("take pending sign-in: %w", err)
	}
	plain, err := s.sealer.Open(raw, []byte(key))
	if err != nil {
		return nil, nil
	}
	var p pendingSignIn
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, nil
	}
	return &p, nil
}

// currentAttempt returns the token the pay form of reqID carries, issuing a
// new one when there is none or the last was spent and another attempt is
// allowed (payable). It reports whether sess changed.
func (sess *session) currentAttempt(reqID string, payable bool) (string, bool) {
	if sess.Attempts == nil {
		sess.Attempts = map[string]*attempts{}
	}
	a := sess.Attempts[reqID]
	if a != nil && a.Current != "" && (!a.Spent || !payable) {
		return a.Current, false
	}
	if a == nil {
		a = &attempts{}
		sess.Attempts[reqID] = a
	}
	a.Current, a.Spent = randomID(), false
	a.Issued = append(a.Issued, a.Current)
	if len(a.Issued) > maxIssuedAttempts {
		a.Issued = a.Issued[len(a.Issued)-maxIssuedAttempts:]
	}
	return a.Current, true
}

// issuedAttempt reports whether token is one of reqID's pay forms' tokens.
func (sess *session) issuedAttempt(reqID, token string) bool {
	a := sess.Attempts[reqID]
	if a == nil || token == "" {
		return false
	}
	found := 0
	for _, t := range a.Issued {
		found |= subtle.ConstantTimeCompare([]byte(t), []byte(token))
	}
	return found == 1
}
