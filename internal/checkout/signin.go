package checkout

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/signin"
)

// browse returns the browser's session, starting an anonymous one (and
// setting its cookie) when there is none. ?lang= changes its language.
func (p *Pages) browse(c *gin.Context) (*session, error) {
	ctx := c.Request.Context()
	sess, err := p.sessions.load(ctx, c.Request)
	if err != nil {
		return nil, err
	}
	asked, hasLang := c.GetQuery("lang")
	if sess == nil {
		sess = p.sessions.fresh(lang(asked))
		if err := p.sessions.save(ctx, sess); err != nil {
			return nil, err
		}
		p.sessions.setCookie(c.Writer, sess)
		return sess, nil
	}
	if hasLang && lang(asked) != sess.Lang {
		sess.Lang = lang(asked)
		if err := p.sessions.save(ctx, sess); err != nil {
			return nil, err
		}
	}
	return sess, nil
}

// posted returns the session of a POST whose csrf field matches it. It
// answers the error page itself (session_expired with a way to sign in
// again, or csrf_invalid) and returns nil when it does not.
func (p *Pages) posted(c *gin.Context, reqID string) *session {
	ctx := c.Request.Context()
	sess, err := p.sessions.load(ctx, c.Request)
	if err != nil {
		p.internal(c, lang(c.Query("lang")), err)
		return nil
	}
	if sess == nil {
		p.expired(c, reqID)
		return nil
	}
	if !p.sessions.checkCSRF(sess, c.PostForm("csrf")) {
		p.failPage(c, http.StatusForbidden, sess.Lang, reqID, "csrf_invalid")
		return nil
	}
	return sess
}

// expired answers session_expired: a new anonymous session, and a sign-in
// form that leads back to the request.
func (p *Pages) expired(c *gin.Context, reqID string) {
	ctx := c.Request.Context()
	sess := p.sessions.fresh(lang(c.Query("lang")))
	if err := p.sessions.save(ctx, sess); err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	p.sessions.setCookie(c.Writer, sess)
	v := p.newView(sess.Lang, pageError)
	v.Heading, v.Lead, v.ErrorCode = v.T["error_heading"], v.T["err_session_expired"], "session_expired"
	if validReqID(reqID) {
		v.ReqID, v.CSRF, v.SignInAgain = reqID, p.sessions.csrf(sess), true
	}
	p.page(c, http.StatusForbidden, v)
}

// signIn begins a sign-in for request :id and sends the browser to the
// identity provider.
func (p *Pages) signIn(c *gin.Context) {
	reqID := c.Param("id")
	sess := p.posted(c, reqID)
	if sess == nil {
		return
	}
	ctx := c.Request.Context()
	if _, _, err := p.d.Service.CheckoutRequest(ctx, reqID); fault.Is(err, fault.NotFound) {
		p.notFound(c, sess.Lang)
		return
	} else if err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	if sess.Citizen == nil {
		// The anonymous session must outlive the sign-in it begins.
		sess.Expires = p.d.Now().Add(SessionLifetime)
		if err := p.sessions.save(ctx, sess); err != nil {
			p.internal(c, sess.Lang, err)
			return
		}
		p.sessions.setCookie(c.Writer, sess)
	}
	authURL, kept, err := p.rp.Begin(ctx)
	if err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	err = p.sessions.keepPending(ctx, pendingSignIn{
		State: kept.State, Nonce: kept.Nonce, Verifier: kept.Verifier, Started: kept.Started,
		ReqID: reqID, Lang: sess.Lang, Browser: digest(sess.id),
	})
	if err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	c.Redirect(http.StatusSeeOther, authURL)
	c.Abort()
}

// callback finishes a sign-in: the pending sign-in named by state is
// consumed whatever happens next; on success the citizen gets a new
// session and lands on the request the sign-in began from.
func (p *Pages) callback(c *gin.Context) {
	ctx := c.Request.Context()
	current, err := p.sessions.load(ctx, c.Request)
	if err != nil {
		p.internal(c, "vi", err)
		return
	}
	l := "vi"
	if current != nil {
		l = current.Lang
	}
	q := c.Request.URL.Query()
	states := q["state"]
	if len(states) != 1 || states[0] == "" || len(states[0]) > 256 {
		p.failPage(c, http.StatusBadRequest, l, "", "signin_invalid")
		return
	}
	pending, err := p.sessions.takePending(ctx, states[0])
	if err != nil {
		p.internal(c, l, err)
		return
	}
	if pending == nil {
		c.Set("error", errorf("callback with an unknown or spent state"))
		p.failPage(c, http.StatusBadRequest, l, "", "signin_invalid")
		return
	}
	l = pending.Lang
	if current == nil || subtle.ConstantTimeCompare([]byte(digest(current.id)), []byte(pending.Browser)) != 1 {
		c.Set("error", errorf("callback in another browser than the sign-in's"))
		p.failPage(c, http.StatusBadRequest, l, pending.ReqID, "signin_invalid")
		return
	}
	who, err := p.rp.Finish(ctx, signin.Pending{
		State: pending.State, Nonce: pending.Nonce, Verifier: pending.Verifier, Started: pending.Started,
	}, q)
	switch {
	case errors.Is(err, signin.ErrUnavailable):
		p.internal(c, l, err)
		return
	case errors.Is(err, signin.ErrCallback):
		c.Set("error", err)
		p.failPage(c, http.StatusBadRequest, l, pending.ReqID, "signin_invalid")
		return
	case err != nil:
		c.Set("error", err)
		p.failPage(c, http.StatusBadRequest, l, pending.ReqID, "signin_failed")
		return
	}
	now := p.d.Now()
	fresh := &session{
		id: randomID(), Lang: l, Started: now, Expires: now.Add(SessionLifetime),
		Citizen: &signedIn{
			PID: who.PID, Name: who.Name, LOA: who.LOA, PIDIndex: p.d.Citizens.PIDIndex(who.PID), SignedInAt: now,
		},
	}
	if err := p.sessions.save(ctx, fresh); err != nil {
		p.internal(c, l, err)
		return
	}
	if err := p.sessions.drop(ctx, current); err != nil {
		c.Set("error", err) // the old, anonymous session expires on its own
	}
	p.sessions.setCookie(c.Writer, fresh)
	seeOther(c, requestPath(pending.ReqID))
}

// signOut ends the session and goes back to the request's page.
func (p *Pages) signOut(c *gin.Context) {
	reqID := c.PostForm("request_id")
	sess := p.posted(c, reqID)
	if sess == nil {
		return
	}
	if err := p.sessions.drop(c.Request.Context(), sess); err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	p.sessions.clearCookie(c.Writer)
	if !validReqID(reqID) {
		p.notFound(c, sess.Lang)
		return
	}
	seeOther(c, requestPath(reqID)+"?lang="+sess.Lang)
}

// notFound answers the 404 page.
func (p *Pages) notFound(c *gin.Context, lang string) {
	v := p.newView(lang, pageNotFound)
	v.Heading, v.Lead = v.T["notfound_heading"], v.T["notfound_lead"]
	p.page(c, http.StatusNotFound, v)
}
