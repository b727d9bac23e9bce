package checkout

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// outcome is what the guard stores of one of the page's mutations: the id
// made, or the code of a refusal decided on state. It is replayed as it is.
type outcome struct {
	ID   string `json:"id,omitempty"`
	Code string `json:"code,omitempty"`
}

// actor is the signed-in, addressed citizen of a POST on request :id, with
// the request; it answers the page itself (and returns nil) otherwise.
type actor struct {
	sess      *session
	citizenID string
	req       *payment.Request
}

// acting checks a POST on request :id: a session with its CSRF token, a
// signed-in citizen to whom the request is addressed, at loa 2. The
// citizen's row is created on their first change, as in the API.
func (p *Pages) acting(c *gin.Context) *actor {
	reqID := c.Param("id")
	sess := p.posted(c, reqID)
	if sess == nil {
		return nil
	}
	ctx := c.Request.Context()
	r, addressed, err := p.d.Service.CheckoutRequest(ctx, reqID)
	if fault.Is(err, fault.NotFound) {
		p.notFound(c, sess.Lang)
		return nil
	} else if err != nil {
		p.internal(c, sess.Lang, err)
		return nil
	}
	if sess.Citizen == nil {
		p.expired(c, reqID)
		return nil
	}
	if !isAddressed(sess, addressed) {
		v := p.newView(sess.Lang, pageForbidden)
		v.Heading, v.SignedIn, v.ReqID, v.CSRF = v.T["forbidden_heading"], true, reqID, p.sessions.csrf(sess)
		if r.ReturnURL != "" {
			v.ReturnURL = payment.ReturnTo(r.ReturnURL, r.ID, r.Status)
		}
		p.page(c, http.StatusForbidden, v)
		return nil
	}
	if sess.Citizen.LOA < minLOA {
		v := p.newView(sess.Lang, pageLOA)
		v.Heading, v.Lead, v.SignedIn, v.ReqID, v.CSRF = v.T["loa_heading"], v.T["loa_lead"], true, reqID, p.sessions.csrf(sess)
		v.Status = string(r.Status)
		p.page(c, http.StatusForbidden, v)
		return nil
	}
	citizenID := sess.Citizen.CitizenID
	if citizenID == "" {
		if citizenID, err = p.d.Citizens.Ensure(ctx, sess.Citizen.PID); err != nil {
			p.internal(c, sess.Lang, err)
			return nil
		}
		sess.Citizen.CitizenID = citizenID
	}
	a := &actor{sess: sess, citizenID: citizenID, req: r}
	// A change from the page counts against the same allowance as one
	// through the API: a script probing account numbers is slowed alike.
	if p.d.CitizenLimit != nil {
		if ok, _ := p.d.CitizenLimit(ctx, citizenID); !ok {
			p.done(c, a, "rate_limited")
			return nil
		}
	}
	return a
}

// done saves the session with a notice (none when code is "") and sends
// the browser back to the request's page.
func (p *Pages) done(c *gin.Context, a *actor, code string) {
	if code != "" && code != noNotice {
		a.sess.Notice = &notice{ReqID: a.req.ID, Code: code}
	}
	if err := p.sessions.save(c.Request.Context(), a.sess); err != nil {
		p.internal(c, a.sess.Lang, err)
		return
	}
	seeOther(c, requestPath(a.req.ID))
}

// guarded runs m once for the claim, through the same guard as the API:
// refusals decided on state are stored and replayed like successes.
func (p *Pages) guarded(ctx context.Context, claim idempotency.Claim, m func(ctx context.Context, tx *postgres.Tx) (string, error)) (outcome, error) {
	op := func(ctx context.Context, tx *postgres.Tx) (idempotency.Response, error) {
		id, err := m(ctx, tx)
		if err != nil {
			return idempotency.Response{}, err
		}
		b, _ := json.Marshal(outcome{ID: id})
		return idempotency.Response{Status: http.StatusAccepted, Body: b}, nil
	}
	render := func(err error) (idempotency.Response, bool) {
		if !p.d.Stored(err) {
			return idempotency.Response{}, false
		}
		b, _ := json.Marshal(outcome{Code: string(fault.CodeOf(err))})
		return idempotency.Response{Status: http.StatusConflict, Body: b}, true
	}
	resp, _, err := p.d.Guard.Do(ctx, claim, op, render)
	if err != nil {
		return outcome{}, err
	}
	var o outcome
	if err := json.Unmarshal(resp.Body, &o); err != nil {
		return outcome{}, errorf("stored outcome unreadable: %v", err)
	}
	return o, nil
}

// noNotice is the notice of a refusal that needs none: the page as it is
// says everything.
const noNotice = "-"

// refusalNotice is the notice for a refusal the citizen can act on,
// noNotice, or "" for an error that is the gateway's (then logged).
func refusalNotice(err error) string {
	switch code := fault.CodeOf(err); code {
	case fault.IdempotencyKeyInUse:
		return noNotice // the same form, sent twice at once: the first is running
	case fault.AccountNotActive, fault.AccountRequired, fault.PaymentInProgress, fault.InvalidState,
		fault.BankUnavailable, fault.AccountTaken, fault.AccountLimit, fault.Unavailable, fault.RateLimited:
		return string(code)
	case fault.IdempotencyKeyReused, fault.NotFound:
		return "form_stale"
	}
	return ""
}

// link is POST /pay/:id/accounts: link a new account (PROTOCOL.md §6), the
// page then follows its verification.
func (p *Pages) link(c *gin.Context) {
	a := p.acting(c)
	if a == nil {
		return
	}
	ctx := c.Request.Context()
	code := c.PostForm("bank_code")
	if bank.CheckCode(code) != nil {
		p.done(c, a, "bank_code")
		return
	}
	if _, err := p.d.Banks.Bank(ctx, code); fault.Is(err, fault.NotFound) {
		p.done(c, a, "bank_code")
		return
	} else if err != nil {
		p.internal(c, a.sess.Lang, err)
		return
	}
	number, err := pii.NormalizeAccount(c.PostForm("account_number"))
	if err != nil {
		p.done(c, a, "account_number")
		return
	}
	if wait, err := p.d.Citizens.LinkPause(ctx, a.citizenID); err != nil {
		p.internal(c, a.sess.Lang, err)
		return
	} else if wait > 0 {
		p.done(c, a, "link_paused")
		return
	}
	in := service.LinkInput{BankCode: code, Number: number, HolderName: a.sess.Citizen.Name}
	// Keyed on the number's blind index, never the number: the same link
	// sent twice from this session is one link.
	index := hex.EncodeToString(p.d.Citizens.PII.Index(pii.KindAccount, number))
	body, _ := json.Marshal(map[string]string{"bank_code": code, "account_index": index})
	fp, err := idempotency.Fingerprint(p.d.FingerprintKey, http.MethodPost, c.FullPath(), body)
	if err != nil {
		p.internal(c, a.sess.Lang, err)
		return
	}
	claim := idempotency.Claim{
		Scope: "citizen:" + a.citizenID, Key: p.sessions.idempotencyKey("link", a.sess.id, code, index), Fingerprint: fp,
	}
	o, err := p.guarded(ctx, claim, func(ctx context.Context, tx *postgres.Tx) (string, error) {
		acc, err := p.d.Citizens.Link(ctx, tx, a.citizenID, in)
		if err != nil {
			return "", err
		}
		return acc.ID, nil
	})
	if err != nil {
		if n := refusalNotice(err); n != "" {
			p.done(c, a, n)
			return
		}
		p.internal(c, a.sess.Lang, err)
		return
	}
	if o.Code != "" {
		p.done(c, a, o.Code)
		return
	}
	if a.sess.Linking == nil {
		a.sess.Linking = map[string]string{}
	}
	a.sess.Linking[a.req.ID] = o.ID
	p.done(c, a, "linked")
}

// pay is POST /pay/:id/pay. The form's attempt token names the pay: its
// idempotency key derives from it, so the same form sent again replays the
// first pay. A refusal lets the citizen try again with a new token.
func (p *Pages) pay(c *gin.Context) {
	a := p.acting(c)
	if a == nil {
		return
	}
	ctx := c.Request.Context()
	token := c.PostForm("attempt")
	if !a.sess.issuedAttempt(a.req.ID, token) {
		p.done(c, a, "form_stale")
		return
	}
	accountID := c.PostForm("account_id")
	if accountID != "" && !validAccountID(accountID) {
		p.done(c, a, "account_required")
		return
	}
	// The fingerprint covers the token only: a form sent again with another
	// account chosen still replays the pay it started.
	body, _ := json.Marshal(map[string]string{"attempt": digest(token)})
	fp, err := idempotency.Fingerprint(p.d.FingerprintKey, http.MethodPost, c.FullPath(), body)
	if err != nil {
		p.internal(c, a.sess.Lang, err)
		return
	}
	claim := idempotency.Claim{
		Scope: "citizen:" + a.citizenID, Key: p.sessions.idempotencyKey("pay", a.req.ID, token), Fingerprint: fp,
	}
	payer := service.Payer{CitizenID: a.citizenID, PIDIndex: a.sess.Citizen.PIDIndex, Name: a.sess.Citizen.Name}
	o, err := p.guarded(ctx, claim, func(ctx context.Context, tx *postgres.Tx) (string, error) {
		r, err := p.d.Service.Pay(ctx, tx, payer, a.req.ID, accountID, p.d.BankOpen)
		if err != nil {
			return "", err
		}
		return r.ID, nil
	})
	current := a.sess.Attempts[a.req.ID]
	isCurrent := current != nil && current.Current == token
	switch {
	case err != nil:
		n := refusalNotice(err)
		if n == "" {
			p.internal(c, a.sess.Lang, err)
			return
		}
		p.done(c, a, n) // nothing was stored: the same token may try again
	case o.Code != "":
		if isCurrent {
			current.Spent = true // refused: the next view issues a new token
		}
		p.done(c, a, o.Code)
	default:
		if isCurrent {
			current.Spent = true
		}
		p.done(c, a, "")
	}
}

// validAccountID reports whether s can be a linked account's id.
func validAccountID(s string) bool {
	if len(s) < 5 || len(s) > 64 || s[:4] != "acc_" {
		return false
	}
	for i := 4; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
