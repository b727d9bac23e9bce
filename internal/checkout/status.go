package checkout

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
)

// statusAnswer is GET /pay/:id/status, for the page's script.
type statusAnswer struct {
	Status    string `json:"status"`
	Verifying bool   `json:"verifying"`
	// Poll says whether asking again may show something new.
	Poll bool `json:"poll"`
	// Message is the status in words, for the live region.
	Message string `json:"message"`
}

// Seconds the script waits before asking /status again.
const (
	retryProcessing = 2
	retryVerifying  = 3
	retryUnknown    = 30
)

// status is GET /pay/:id/status: the status as the page shows it, and
// whether an account is waiting for its bank, for the addressed citizen
// only. Retry-After says when to ask again.
func (p *Pages) status(c *gin.Context) {
	ctx := c.Request.Context()
	sess, r, ok := p.reader(c)
	if !ok {
		return
	}
	shown, _, err := p.shownStatus(ctx, r)
	if err != nil {
		c.Set("error", err)
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "", "poll": true})
		return
	}
	t := table(sess.Lang)
	out := statusAnswer{Status: shown, Message: t["status_"+shown]}
	retry := 0
	switch shown {
	case string(payment.StatusProcessing):
		out.Poll, retry = true, retryProcessing
	case shownUnknown:
		out.Poll, retry = true, retryUnknown
	case string(payment.StatusPending), shownFailed:
		if out.Verifying, err = p.verifying(ctx, sess); err != nil {
			c.Set("error", err)
		}
		if out.Verifying {
			out.Poll, retry = true, retryVerifying
		}
	}
	if retry > 0 {
		c.Header("Retry-After", strconv.Itoa(retry))
	}
	c.JSON(http.StatusOK, out)
}

// verifying reports whether one of the citizen's accounts awaits its bank.
func (p *Pages) verifying(ctx context.Context, sess *session) (bool, error) {
	citizenID, err := p.knownCitizen(ctx, sess)
	if err != nil || citizenID == "" {
		return false, err
	}
	as, _, err := p.d.Citizens.ListAccounts(ctx, postgres.AccountFilter{
		CitizenID: citizenID, Status: string(account.StatusPending), Limit: 1,
	})
	return len(as) > 0, err
}

// reader returns the session and request of a read that only the addressed
// citizen may make (status, receipt); it answers 404 otherwise, as the API
// does for a request that is not the caller's.
func (p *Pages) reader(c *gin.Context) (*session, *payment.Request, bool) {
	ctx := c.Request.Context()
	sess, err := p.sessions.load(ctx, c.Request)
	if err != nil {
		c.Set("error", err)
		c.Header("Retry-After", "5")
		c.Data(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("unavailable\n"))
		return nil, nil, false
	}
	r, addressed, err := p.d.Service.CheckoutRequest(ctx, c.Param("id"))
	if err != nil && !fault.Is(err, fault.NotFound) {
		c.Set("error", err)
		c.Header("Retry-After", "5")
		c.Data(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("unavailable\n"))
		return nil, nil, false
	}
	if err != nil || sess == nil || !isAddressed(sess, addressed) {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
		return nil, nil, false
	}
	return sess, r, true
}

// receiptView fills the receipt of a paid request, or says it is being
// prepared.
func (p *Pages) receiptView(ctx context.Context, r *payment.Request, v *view) {
	if p.d.Receipts == nil {
		v.ReceiptPending = true
		return
	}
	rc, _, err := p.d.Receipts.Receipt(ctx, r.ID)
	if err != nil {
		v.ReceiptPending = true
		return
	}
	v.Receipt = &receiptView{
		Number: rc.Number, Amount: formatWireVND(rc.Amount), AmountInWords: rc.AmountInWords,
		PaidAt: formatWireTime(rc.PaidAt), Payer: rc.Payer.Name,
		QR: requestPath(r.ID) + "/receipt-qr.png", PDF: requestPath(r.ID) + "/receipt.pdf",
	}
}

// paidReceipt returns the receipt of request :id for its citizen, or
// answers 404 itself.
func (p *Pages) paidReceipt(c *gin.Context) (*session, receipt.Receipt, bool) {
	sess, r, ok := p.reader(c)
	if !ok {
		return nil, receipt.Receipt{}, false
	}
	if p.d.Receipts == nil {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
		return nil, receipt.Receipt{}, false
	}
	rc, _, err := p.d.Receipts.Receipt(c.Request.Context(), r.ID)
	if err != nil {
		if !fault.Is(err, fault.NotFound) {
			c.Set("error", err)
		}
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
		return nil, receipt.Receipt{}, false
	}
	return sess, rc, true
}

// receiptPDF is GET /pay/:id/receipt.pdf.
func (p *Pages) receiptPDF(c *gin.Context) {
	sess, rc, ok := p.paidReceipt(c)
	if !ok {
		return
	}
	pdf, err := receipt.PDF(rc, sess.Lang)
	if err != nil {
		p.internal(c, sess.Lang, err)
		return
	}
	name := "bien-lai-" + strings.ReplaceAll(rc.Number, "/", "-") + ".pdf"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// receiptQR is GET /pay/:id/receipt-qr.png: the QR code of the receipt's
// verify URL.
func (p *Pages) receiptQR(c *gin.Context) {
	_, rc, ok := p.paidReceipt(c)
	if !ok {
		return
	}
	png, err := qrcode.Encode(rc.VerifyURL, qrcode.Medium, 320)
	if err != nil {
		c.Set("error", err)
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(http.StatusOK, "image/png", png)
}
