package checkout_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/testenv"
)

// TestSummaryBeforeSignIn: the page shows the fee and a sign-in button,
// never who it is addressed to; an unknown id is the 404 page.
func TestSummaryBeforeSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	who := newPerson(t, 2)
	reqID := b.newRequest(t, who.PID, "HS-001")
	br := b.browser(t)

	pg := br.get("/pay/" + reqID)
	if pg.Status != http.StatusOK || pg.Page() != "request" || pg.Shown() != "pending" || pg.Lang() != "vi" {
		t.Fatalf("page = %d %s/%s/%s", pg.Status, pg.Page(), pg.Shown(), pg.Lang())
	}
	for _, want := range []string{"Test portal", "HS-001", "1.001234", "Lệ phí cấp giấy phép xây dựng", "75.000 ₫", "50.000 ₫",
		"25.000 ₫", `<form id="signin-form" method="post" action="/pay/` + reqID + `/signin">`, `<button id="signin"`} {
		if !strings.Contains(pg.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	masked := who.PID[:3] + "******" + who.PID[9:]
	for _, bad := range []string{who.PID, masked, who.Name, "pay-form", "link-form"} {
		if strings.Contains(pg.Body, bad) {
			t.Errorf("page before sign-in holds %q", bad)
		}
	}
	cookie := pg.Header.Get("Set-Cookie")
	for _, want := range []string{"checkout=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1800"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}

	nf := br.get("/pay/pr_doesnotexist")
	if nf.Status != http.StatusNotFound || nf.Page() != "notfound" || nf.Shown() != "" {
		t.Fatalf("unknown id = %d %s", nf.Status, nf.Page())
	}
	en := br.get("/pay/" + reqID + "?lang=en")
	if en.Lang() != "en" || !strings.Contains(en.Body, "Sign in with e-identity") {
		t.Fatalf("?lang=en = %s", en.Lang())
	}
	if kept := br.get("/pay/" + reqID); kept.Lang() != "en" {
		t.Fatalf("language not kept: %s", kept.Lang())
	}
}

// TestSignInRoundTrip: the citizen signs in at devidp and lands on the
// request, with a new session id; no URL on the way holds their pid or name.
func TestSignInRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	who := newPerson(t, 2)
	reqID := b.newRequest(t, who.PID, "HS-002")
	br := b.browser(t)

	before := br.get("/pay/" + reqID)
	anonymous := sessionCookie(t, before)
	_, resp := br.signIn(reqID, who)
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+reqID {
		t.Fatalf("callback = %d %s: %s", resp.Status, resp.Header.Get("Location"), resp.Body)
	}
	if fresh := sessionCookie(t, resp); fresh == "" || fresh == anonymous {
		t.Fatalf("session id not renewed at sign-in: %q then %q", anonymous, fresh)
	}
	pg := br.get("/pay/" + reqID)
	if pg.Status != http.StatusOK || pg.Page() != "request" || !pg.has("link-form") || !pg.has("payer-name") ||
		!strings.Contains(pg.Body, who.Name) {
		t.Fatalf("signed-in page = %d %s: %s", pg.Status, pg.Page(), pg.Body)
	}
	if pg.has("signin-form") {
		t.Fatal("signed-in page still offers to sign in")
	}
	br.noPersonalData(who)

	// Redis holds the session sealed: neither the pid nor the name in clear.
	keys, err := b.h.App.Redis.Keys(t.Context(), b.h.RedisPrefix+"checkout:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v %v", keys, err)
	}
	for _, k := range keys {
		v, _ := b.h.App.Redis.Get(t.Context(), k).Result()
		if strings.Contains(v, who.PID) || strings.Contains(v, "Bình") || strings.Contains(k, anonymous) {
			t.Fatalf("redis %s holds personal data or the cookie", k)
		}
	}

	// Signing out ends the session: the page offers to sign in again.
	out := br.post("/signout", url.Values{"csrf": {pg.field(t, "signout-form", "csrf")}, "request_id": {reqID}})
	if out.Status != http.StatusSeeOther || out.Header.Get("Location") != "/pay/"+reqID+"?lang=vi" {
		t.Fatalf("sign out = %d %s", out.Status, out.Header.Get("Location"))
	}
	if pg := br.get("/pay/" + reqID); !pg.has("signin-form") || strings.Contains(pg.Body, who.Name) {
		t.Fatal("still signed in after signing out")
	}
}

// sessionCookie is the checkout cookie an answer sets, or "".
func sessionCookie(t *testing.T, p page) string {
	t.Helper()
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "checkout" {
			return c.Value
		}
	}
	return ""
}

// TestCallbackTamperedOrReplayed: a callback whose state was changed, one
// replayed, or one finished in another browser is an error page, and
// nothing changes: the browser is still not signed in (or still signed in
// as before).
func TestCallbackTamperedOrReplayed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	who := newPerson(t, 2)
	reqID := b.newRequest(t, who.PID, "HS-003")

	br := b.browser(t)
	callback := br.authorize(br.beginSignIn(reqID), who)
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", q.Get("state")+"x")
	u.RawQuery = q.Encode()
	tampered := br.get(u.String())
	if tampered.Status != http.StatusBadRequest || tampered.Page() != "error" || tampered.ErrCode() != "signin_invalid" {
		t.Fatalf("tampered state = %d %s %s", tampered.Status, tampered.Page(), tampered.ErrCode())
	}
	if pg := br.get("/pay/" + reqID); !pg.has("signin-form") || pg.has("link-form") {
		t.Fatal("a tampered callback signed the browser in")
	}

	// The genuine callback still works once, then never again.
	if resp := br.get(callback); resp.Status != http.StatusSeeOther {
		t.Fatalf("callback = %d %s", resp.Status, resp.Body)
	}
	replay := br.get(callback)
	if replay.Status != http.StatusBadRequest || replay.ErrCode() != "signin_invalid" {
		t.Fatalf("replayed callback = %d %s", replay.Status, replay.ErrCode())
	}
	if pg := br.get("/pay/" + reqID); !pg.has("link-form") {
		t.Fatal("the replay changed the signed-in session")
	}

	// A sign-in cancelled at the provider fails, and signs nobody in.
	fresh := b.browser(t)
	cancelled := fresh.get(fresh.answer(fresh.beginSignIn(reqID), url.Values{"action": {"cancel"}}))
	if cancelled.Status != http.StatusBadRequest || cancelled.ErrCode() != "signin_failed" ||
		!strings.Contains(cancelled.Body, `href="/pay/`+reqID+`"`) {
		t.Fatalf("cancelled sign-in = %d %s", cancelled.Status, cancelled.ErrCode())
	}
	if pg := fresh.get("/pay/" + reqID); !pg.has("signin-form") {
		t.Fatal("a cancelled sign-in signed the browser in")
	}

	// A callback taken to another browser is refused there.
	victim, other := b.browser(t), b.browser(t)
	stolen := victim.authorize(victim.beginSignIn(reqID), who)
	other.get("/pay/" + reqID)
	if resp := other.get(stolen); resp.Status != http.StatusBadRequest || resp.ErrCode() != "signin_invalid" {
		t.Fatalf("callback in another browser = %d %s", resp.Status, resp.ErrCode())
	}
	if pg := other.get("/pay/" + reqID); !pg.has("signin-form") {
		t.Fatal("another browser was signed in by a callback it did not begin")
	}
}

// TestSignInCSRFAndExpiry: the sign-in form needs its CSRF token; a session
// past its 30 minutes asks to sign in again and lands on the request.
func TestSignInCSRFAndExpiry(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	b := setup(t, clock)
	who := newPerson(t, 2)
	reqID := b.newRequest(t, who.PID, "HS-004")
	br := b.browser(t)

	br.get("/pay/" + reqID)
	bad := br.post("/pay/"+reqID+"/signin", url.Values{"csrf": {"forged"}})
	if bad.Status != http.StatusForbidden || bad.ErrCode() != "csrf_invalid" {
		t.Fatalf("forged csrf = %d %s", bad.Status, bad.ErrCode())
	}

	br.signedIn(reqID, who)
	signed := br.get("/pay/" + reqID)
	csrf := signed.field(t, "link-form", "csrf")
	clock.Advance(31 * time.Minute)
	late := br.post("/pay/"+reqID+"/accounts", url.Values{"csrf": {csrf}, "bank_code": {"SBX"}, "account_number": {"9704000000001"}})
	if late.Status != http.StatusForbidden || late.ErrCode() != "session_expired" || !late.has("signin-form") {
		t.Fatalf("expired session = %d %s: %s", late.Status, late.ErrCode(), late.Body)
	}
	if n := b.count(t, `SELECT count(*) FROM linked_accounts`); n != 0 {
		t.Fatalf("%d accounts after an expired session's post", n)
	}
	again := br.post("/pay/"+reqID+"/signin", url.Values{"csrf": {late.field(t, "signin-form", "csrf")}})
	if again.Status != http.StatusSeeOther {
		t.Fatalf("sign in again = %d %s", again.Status, again.Body)
	}
	resp := br.get(br.authorize(again.Header.Get("Location"), who))
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/pay/"+reqID {
		t.Fatalf("lands on %d %s", resp.Status, resp.Header.Get("Location"))
	}
}

var assetRE = regexp.MustCompile(`(?:href|src)="(/checkout/assets/[^"]+)"`)

// TestAssets: every asset a page names is the gateway's own, served with a
// content-hashed name, its type, nosniff and a long cache lifetime.
func TestAssets(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	br := b.browser(t)
	pg := br.get("/pay/pr_nothing")
	found := assetRE.FindAllStringSubmatch(pg.Body, -1)
	types := map[string]string{}
	for _, m := range found {
		types[m[1]] = ""
	}
	if len(types) != 3 {
		t.Fatalf("assets %v, want the style sheet, the script and the mark", types)
	}
	for path := range types {
		resp, err := http.Get(b.h.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!(strings.HasPrefix(ct, "text/css") || strings.HasPrefix(ct, "text/javascript") || ct == "image/svg+xml") {
			t.Fatalf("%s = %d %s %s", path, resp.StatusCode, ct, resp.Header.Get("Cache-Control"))
		}
	}
	resp, err := http.Get(b.h.Server.URL + "/checkout/assets/checkout.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unhashed name = %d", resp.StatusCode)
	}
}
