// Package checkout is the hosted checkout (PROTOCOL.md §10): the pages a
// citizen sent by a portal uses to sign in with their e-identity, link a
// bank account, pay a fee and read the receipt.
//
// Handlers translate; they decide nothing. Paying and linking go through the
// same service calls as the citizen API (Service.Pay, Citizens.Link) behind
// the same idempotency guard, with keys the page owns: a pay's key derives
// from the one-time attempt token of the form, so a double click, a refresh
// or a resubmitted form replays the first pay instead of starting another.
//
// Decisions:
//   - Sessions live in Redis, sealed with AES-GCM under a key derived from
//     the master keyring, under the SHA-256 of the cookie's id; the cookie
//     holds 256 random bits and nothing else. A session lasts at most
//     SessionLifetime; a sign-in starts a new session with a new id.
//   - Every browser that opens a page gets an anonymous session, so that
//     the sign-in form carries a CSRF token like every other form, and the
//     callback is accepted only in the browser that began the sign-in.
//   - A begun sign-in is kept server-side (sealed, under the hash of its
//     state) and consumed once with GETDEL; where the citizen lands after
//     it comes only from there.
//   - Every POST answers with a redirect to the request's page (post,
//     redirect, get), carrying at most a notice code in the session.
//   - The shown status adds two to the request's own: failed (the last
//     attempt failed and the request is pending again) and unknown (a debit
//     still without outcome after UnknownAfter).
//   - Without the checkout's settings every route answers a 503 page; the
//     assets are still served so that the page is readable.
package checkout

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/signin"
)

// Receipts gives the receipt of a paid request and its JWS; a request
// without one yet is a not_found fault.
type Receipts interface {
	Receipt(ctx context.Context, reqID string) (receipt.Receipt, string, error)
}

// Portals finds the portal that charges a fee, for its name.
type Portals interface {
	ByID(ctx context.Context, id string) (*portal.Portal, error)
}

// Config is the checkout's part of the gateway's configuration.
type Config struct {
	// Missing is the setting the checkout lacks (config.CheckoutMissing);
	// "" when it can sign citizens in.
	Missing      string
	Issuer       string // IDP_ISSUER
	ClientID     string // IDP_CLIENT_ID
	ClientSecret string // IDP_CLIENT_SECRET
	RedirectURL  string // {GATEWAY_PUBLIC_URL}/auth/callback
	Development  bool   // http:// allowed; the cookie is not Secure
	// UnknownAfter is how long a debit may stay without outcome before the
	// page says the outcome is unknown (BANK_CALLBACK_TIMEOUT).
	UnknownAfter time.Duration
}

// Deps is what the checkout needs.
type Deps struct {
	Config      Config
	Redis       redis.UniversalClient
	RedisPrefix string
	Keys        *keyring.Keyring
	Service     *service.Service
	Citizens    *service.Citizens
	Banks       *service.Banks
	Portals     Portals
	Guard       *idempotency.Guard
	// FingerprintKey keys the idempotency fingerprints, as for the API.
	FingerprintKey []byte
	// BankOpen reports whether a bank's circuit breaker is open.
	BankOpen service.BankOpen
	// Stored reports whether a refusal is an outcome the guard stores and
	// replays (the API's rule, httpapi.DecidedOnState).
	Stored func(error) bool
	// Receipts is nil until receipts are issued: the paid page then says
	// the receipt is being prepared.
	Receipts Receipts
	// CitizenLimit takes one change from the citizen's allowance, the one
	// the citizen API's changes share, and says whether it was there and
	// when to try again; nil limits nothing. It fails open, as the API does.
	CitizenLimit func(ctx context.Context, citizenID string) (allowed bool, retryAfter time.Duration)
	// HTTPClient talks to the identity provider; nil: signin's default.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Pages serves the checkout.
type Pages struct {
	d         Deps
	rp        *signin.RelyingParty // nil: the checkout is off
	off       string               // why it is off, for the log
	sessions  *sessions
	templates *templates
	assets    *assets
	csp       string
}

// New builds the checkout. A checkout without its settings, or whose
// settings the relying party refuses, is built off: every page answers
// 503, and Off says why.
func New(d Deps) (*Pages, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Stored == nil {
		d.Stored = func(error) bool { return false }
	}
	tpl, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	p := &Pages{d: d, templates: tpl, assets: as}
	cfg := d.Config
	if cfg.Missing != "" {
		p.off = cfg.Missing + " is not set"
	} else {
		p.rp, err = signin.New(signin.Config{
			Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Development: cfg.Development, HTTPClient: d.HTTPClient, Now: d.Now,
		})
		if err != nil {
			p.rp, p.off = nil, err.Error()
		}
	}
	if p.rp != nil {
		p.sessions = newSessions(d.Redis, d.RedisPrefix, d.Keys, d.Now, !cfg.Development)
	}
	// The sign-in form's answer is a redirect to the provider, which
	// form-action must allow: the issuer's origin, where its authorization
	// endpoint is.
	formAction := "'self'"
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	p.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
	return p, nil
}

// Off says why the checkout is off, or "" when it is on.
func (p *Pages) Off() string { return p.off }

// Routes registers the checkout's routes on r.
func (p *Pages) Routes(r gin.IRouter) {
	r.GET(assetPrefix+":name", p.serveAsset)
	g := r.Group("", p.headers)
	if p.rp == nil {
		for _, route := range []struct{ method, path string }{
			{http.MethodGet, "/pay/:id"}, {http.MethodPost, "/pay/:id/signin"}, {http.MethodGet, "/auth/callback"},
			{http.MethodPost, "/pay/:id/accounts"}, {http.MethodPost, "/pay/:id/pay"}, {http.MethodGet, "/pay/:id/status"},
			{http.MethodGet, "/pay/:id/receipt.pdf"}, {http.MethodGet, "/pay/:id/receipt-qr.png"}, {http.MethodPost, "/signout"},
		} {
			g.Handle(route.method, route.path, p.unavailable)
		}
		return
	}
	g.GET("/pay/:id", p.show)
	g.POST("/pay/:id/signin", p.signIn)
	g.GET("/auth/callback", p.callback)
	g.POST("/pay/:id/accounts", p.link)
	g.POST("/pay/:id/pay", p.pay)
	g.GET("/pay/:id/status", p.status)
	g.GET("/pay/:id/receipt.pdf", p.receiptPDF)
	g.GET("/pay/:id/receipt-qr.png", p.receiptQR)
	g.POST("/signout", p.signOut)
}

// headers sets the headers every checkout answer carries.
func (p *Pages) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", p.csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// serveAsset serves an embedded asset under its hashed name, cached for good.
func (p *Pages) serveAsset(c *gin.Context) {
	a, ok := p.assets.byName[c.Param("name")]
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if !ok {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
		return
	}
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, a.contentType, a.body)
}

// newView starts a view in lang.
func (p *Pages) newView(lang, page string) *view {
	t := table(lang)
	return &view{Lang: lang, T: t, Page: page, Assets: p.assets.names}
}

// page renders v; a failure to render is logged with the request.
func (p *Pages) page(c *gin.Context, status int, v *view) {
	if v.Title == "" {
		v.Title = v.Heading
	}
	if err := p.templates.render(c.Writer, status, v); err != nil {
		c.Set("error", err)
	}
	c.Abort()
}

// unavailable answers the 503 page of a checkout that is off.
func (p *Pages) unavailable(c *gin.Context) {
	l := lang(c.Query("lang"))
	v := p.newView(l, pageUnavailable)
	v.Heading, v.Lead = v.T["unavailable_heading"], v.T["unavailable_lead"]
	c.Header("Retry-After", "60")
	p.page(c, http.StatusServiceUnavailable, v)
}

// failPage answers an error page with a stable code; nothing was changed.
func (p *Pages) failPage(c *gin.Context, status int, lang, reqID, code string) {
	v := p.newView(lang, pageError)
	v.Heading, v.Lead, v.ErrorCode = v.T["error_heading"], v.T["err_"+code], code
	if validReqID(reqID) {
		v.ReqID = reqID // the way back to the fee; an id from a form is checked first
	}
	p.page(c, status, v)
}

// internal answers a 500 page (or 503 when a dependency is away) and logs err.
func (p *Pages) internal(c *gin.Context, lang string, err error) {
	c.Set("error", err)
	v := p.newView(lang, pageUnavailable)
	v.Heading, v.Lead = v.T["unavailable_heading"], v.T["unavailable_lead"]
	c.Header("Retry-After", "5")
	p.page(c, http.StatusServiceUnavailable, v)
}

// seeOther ends a POST with a redirect to a path of the gateway's.
func seeOther(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}

// validReqID reports whether s can be a payment request's id: it becomes
// part of a path the gateway redirects to.
func validReqID(s string) bool {
	if !strings.HasPrefix(s, "pr_") || len(s) < 4 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// requestPath is the page of request id.
func requestPath(id string) string { return "/pay/" + id }

// errorf wraps an error of the checkout's own.
func errorf(format string, args ...any) error { return fmt.Errorf("checkout: "+format, args...) }
