package checkout

import (
	"context"
	"crypto/subtle"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// Statuses the page shows besides the request's own (see the package doc).
const (
	shownFailed  = "failed"
	shownUnknown = "unknown"
)

// defaultUnknownAfter is UnknownAfter when the configuration gives none.
const defaultUnknownAfter = 90 * time.Second

// Seconds between reloads of a page that waits, without JavaScript; the
// script asks /status as often, as its Retry-After says.
const (
	refreshProcessing = 3
	refreshVerifying  = 4
	refreshUnknown    = 30
)

// show is GET /pay/:id: the request as the browser's session may see it.
func (p *Pages) show(c *gin.Context) {
	sess, err := p.browse(c)
	if err != nil {
		p.internal(c, lang(c.Query("lang")), err)
		return
	}
	ctx := c.Request.Context()
	r, addressed, err := p.d.Service.CheckoutRequest(ctx, c.Param("id"))
	if fault.Is(err, fault.NotFound) {
		p.notFound(c, sess.Lang)
		return
	} else if err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	v, status, changed, err := p.requestView(ctx, sess, r, addressed)
	if err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	if changed {
		if err := p.sessions.save(ctx, sess); err != nil {
			p.internal(c, sess.Lang, err)
			return
		}
	}
	p.page(c, status, v)
}

// isAddressed reports in constant time whether the signed-in citizen is the
// one the request is addressed to.
func isAddressed(sess *session, addressed []byte) bool {
	return sess.Citizen != nil && len(addressed) > 0 &&
		subtle.ConstantTimeCompare(sess.Citizen.PIDIndex, addressed) == 1
}

// requestView gathers what GET /pay/:id shows, and reports whether the
// session changed (a notice shown, an attempt token issued).
func (p *Pages) requestView(ctx context.Context, sess *session, r *payment.Request, addressed []byte) (*view, int, bool, error) {
	v := p.newView(sess.Lang, pageRequest)
	v.ReqID, v.LangHref = r.ID, requestPath(r.ID)+"?lang="+v.T["other_lang_code"]
	v.CSRF = p.sessions.csrf(sess)
	if r.ReturnURL != "" {
		v.ReturnURL = payment.ReturnTo(r.ReturnURL, r.ID, r.Status)
	}
	if sess.Citizen != nil && !isAddressed(sess, addressed) {
		v.Page, v.Heading, v.SignedIn = pageForbidden, v.T["forbidden_heading"], true
		return v, http.StatusForbidden, false, nil
	}
	name, err := p.portalName(ctx, r.PortalID)
	if err != nil {
		return nil, 0, false, err
	}
	v.Fee = toFeeView(r, name)
	shown, last, err := p.shownStatus(ctx, r)
	if err != nil {
		return nil, 0, false, err
	}
	changed := false
	if n := sess.Notice; n != nil && n.ReqID == r.ID {
		v.Notice, sess.Notice, changed = v.T["notice_"+n.Code], nil, true
	}
	if sess.Citizen == nil {
		if shown == shownFailed {
			shown = string(payment.StatusPending) // a failure's reason is the payer's
		}
		v.Status = shown
		p.describe(v, shown)
		v.Poll = false // /status answers the addressed citizen only; the page reloads itself
		if shown == string(payment.StatusExpired) || shown == string(payment.StatusCanceled) {
			v.CSRF = "" // nothing to sign in for
		}
		return v, http.StatusOK, changed, nil
	}
	v.SignedIn, v.Payer, v.Status = true, sess.Citizen.Name, shown
	p.describe(v, shown)
	switch shown {
	case string(payment.StatusPending), shownFailed:
		if sess.Citizen.LOA < minLOA {
			v.Page, v.Heading, v.Lead, v.ReturnURL = pageLOA, v.T["loa_heading"], v.T["loa_lead"], ""
			return v, http.StatusForbidden, changed, nil
		}
		if shown == shownFailed && last != nil {
			v.Failure = bankReason(v.T, last.FailureCode)
		}
		more, err := p.payable(ctx, sess, r, v)
		return v, http.StatusOK, changed || more, err
	case string(payment.StatusPaid), string(payment.StatusRefunded), string(payment.StatusPartiallyRefunded):
		p.receiptView(ctx, r, v)
	}
	return v, http.StatusOK, changed, nil
}

// minLOA is the level of assurance paying and linking need (PROTOCOL.md §2).
const minLOA = 2

// describe sets the heading, the lead, the way back and the reloading of a
// request's page by the status shown.
func (p *Pages) describe(v *view, shown string) {
	t := v.T
	v.Heading = t["fee_heading"]
	switch shown {
	case string(payment.StatusPending), shownFailed:
		v.ReturnURL = ""
	case string(payment.StatusProcessing):
		v.Heading, v.Lead, v.Refresh, v.Poll, v.ReturnURL = t["processing_heading"], t["processing_lead"], refreshProcessing, true, ""
	case shownUnknown:
		v.Heading, v.Lead, v.Refresh, v.Poll = t["unknown_heading"], t["unknown_lead"], refreshUnknown, true
	case string(payment.StatusPaid):
		v.Heading = t["paid_heading"]
	default: // expired, canceled, refunded, partially_refunded
		v.Heading, v.Lead = t["status_"+shown], t["final_"+shown]
	}
	v.Title = v.Heading
}

// shownStatus is the status the page shows for r, with the latest attempt
// when it was read.
func (p *Pages) shownStatus(ctx context.Context, r *payment.Request) (string, *payment.Attempt, error) {
	now := p.d.Now()
	switch r.Status {
	case payment.StatusPending:
		if !now.Before(r.ExpiresAt) {
			return string(payment.StatusExpired), nil, nil
		}
		a, err := p.d.Service.LatestAttempt(ctx, r.ID)
		if err != nil {
			return "", nil, err
		}
		if a != nil && a.Status == payment.OutcomeFailed {
			return shownFailed, a, nil
		}
		return string(r.Status), a, nil
	case payment.StatusProcessing:
		a, err := p.d.Service.LatestAttempt(ctx, r.ID)
		if err != nil {
			return "", nil, err
		}
		wait := p.d.Config.UnknownAfter
		if wait <= 0 {
			wait = defaultUnknownAfter
		}
		if a != nil && a.Status == payment.OutcomePending && now.Sub(a.CreatedAt) >= wait {
			return shownUnknown, a, nil
		}
		return string(r.Status), a, nil
	}
	return string(r.Status), nil, nil
}

// bankReason is a failed debit's reason in plain words.
func bankReason(t messages, code string) string {
	if s, ok := t["bank_"+code]; ok && code != "" && code != "other" {
		return s
	}
	return t["bank_other"]
}

// payable fills the accounts, the banks, the pay form's attempt token and
// the following of a link. It reports whether the session changed.
func (p *Pages) payable(ctx context.Context, sess *session, r *payment.Request, v *view) (bool, error) {
	v.Payable = true
	changed := false
	citizenID, err := p.knownCitizen(ctx, sess)
	if err != nil {
		return false, err
	}
	if citizenID != "" && sess.Citizen.CitizenID == "" {
		sess.Citizen.CitizenID, changed = citizenID, true
	}
	var accounts []*account.Account
	if citizenID != "" {
		if accounts, _, err = p.d.Citizens.ListAccounts(ctx, postgres.AccountFilter{CitizenID: citizenID, Limit: 100}); err != nil {
			return false, err
		}
	}
	following := sess.Linking[r.ID]
	checked := ""
	for _, a := range accounts {
		switch {
		case a.Status == account.StatusActive:
			name, err := p.bankName(ctx, a.BankCode)
			if err != nil {
				return false, err
			}
			v.Accounts = append(v.Accounts, accountView{ID: a.ID, Bank: name, Masked: a.NumberMasked})
			if a.IsDefault && checked == "" || a.ID == following {
				checked = a.ID
			}
		case a.Status == account.StatusPending:
			v.Verifying = true
		case a.Status == account.StatusRejected && a.ID == following:
			reason, ok := v.T["reason_"+a.RejectionReason]
			if !ok {
				reason = v.T["reason_not_verified"]
			}
			v.LinkRejected = reason
		}
	}
	if len(v.Accounts) > 0 && checked == "" {
		checked = v.Accounts[0].ID
	}
	for i := range v.Accounts {
		v.Accounts[i].Default = v.Accounts[i].ID == checked
	}
	if v.Verifying {
		v.Refresh, v.Poll = refreshVerifying, true
	}
	banks, err := p.d.Banks.List(ctx)
	if err != nil {
		return false, err
	}
	for _, b := range banks {
		v.Banks = append(v.Banks, bankView{Code: b.Code, Name: b.Name})
	}
	sort.Slice(v.Banks, func(i, j int) bool { return v.Banks[i].Name < v.Banks[j].Name })
	token, issued := sess.currentAttempt(r.ID, true)
	v.Attempt = token
	return changed || issued, nil
}

// knownCitizen is the signed-in citizen's id, or "" for a citizen the
// gateway has never seen (reading creates nothing).
func (p *Pages) knownCitizen(ctx context.Context, sess *session) (string, error) {
	if id := sess.Citizen.CitizenID; id != "" {
		return id, nil
	}
	return p.d.Citizens.Find(ctx, sess.Citizen.PIDIndex)
}

// portalName is the name of the portal that charges the fee.
func (p *Pages) portalName(ctx context.Context, id string) (string, error) {
	pt, err := p.d.Portals.ByID(ctx, id)
	if err != nil {
		return "", err
	}
	return pt.Name, nil
}

// bankName is a bank's name, or its code when it has none.
func (p *Pages) bankName(ctx context.Context, code string) (string, error) {
	b, err := p.d.Banks.Bank(ctx, code)
	if fault.Is(err, fault.NotFound) {
		return code, nil
	}
	if err != nil {
		return "", err
	}
	return b.Name, nil
}

// toFeeView is the request's summary.
func toFeeView(r *payment.Request, portalName string) *feeView {
	f := &feeView{
		Portal: portalName, Service: r.ServiceCode, Dossier: r.DossierCode, Description: r.Description,
		Amount: formatVND(r.Amount), Expires: formatTime(r.ExpiresAt),
	}
	for _, it := range r.Items {
		f.Items = append(f.Items, itemView{Description: it.Description, Amount: formatVND(it.Amount)})
	}
	return f
}
