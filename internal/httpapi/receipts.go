package httpapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/receiptpage"
)

// receiptAnswer is GET …/receipt's JSON (PROTOCOL.md §11).
type receiptAnswer struct {
	Receipt receipt.Receipt `json:"receipt"`
	JWS     string          `json:"jws"`
}

// receiptRoutes adds the receipts' routes: the portal's and the citizen's
// GET …/receipt, the JWKS and the public verify page with its stylesheet.
func (s *Server) receiptRoutes(r *gin.Engine, portal, me *gin.RouterGroup) {
	portal.GET("/payment-requests/:id/receipt", s.getReceipt)
	me.GET("/payment-requests/:id/receipt", s.getMyReceipt)
	r.GET("/.well-known/receipt-keys", s.getReceiptKeys)
	r.GET("/r/:id", s.getReceiptPage)
	r.GET(receiptpage.AssetsPath+":name", s.getReceiptAsset)
}

// getReceipt serves a portal its request's receipt.
func (s *Server) getReceipt(c *gin.Context) {
	s.serveReceipt(c, func(reqID string) payment.Scope { return payment.PortalScope(portalOf(c).ID) })
}

// getMyReceipt serves a citizen the receipt of a request addressed to them.
func (s *Server) getMyReceipt(c *gin.Context) {
	s.serveReceipt(c, func(string) payment.Scope {
		return payment.CitizenScope(citizenOf(c).PIDIndex())
	})
}

// serveReceipt answers with the receipt of the request in the path, if
// the caller's scope sees it: JSON with its JWS, or the PDF when the
// client accepts application/pdf (in English with ?lang=en).
func (s *Server) serveReceipt(c *gin.Context, scope func(reqID string) payment.Scope) {
	reqID, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := s.Service.GetPaymentRequest(ctx, scope(reqID), reqID); err != nil {
		s.fail(c, err)
		return
	}
	rc, jws, err := s.Service.Receipt(ctx, reqID)
	if err != nil {
		s.fail(c, err)
		return
	}
	// The receipt names the payer: no shared cache keeps it.
	c.Header("Cache-Control", "private, no-store")
	c.Header("Vary", "Accept")
	if !wantsPDF(c.GetHeader("Accept")) {
		c.JSON(http.StatusOK, receiptAnswer{Receipt: rc, JWS: jws})
		return
	}
	lang := c.Query("lang")
	if lang != "" && lang != "vi" && lang != "en" {
		s.fail(c, fault.New(fault.InvalidRequest, "lang must be vi or en"))
		return
	}
	pdf, err := receipt.PDF(rc, lang)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(rc.Number, "/", "-")+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", pdf)
}

// wantsPDF reports whether an Accept header asks for application/pdf.
func wantsPDF(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		media, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(media), "application/pdf") {
			return true
		}
	}
	return false
}

// getReceiptKeys serves the JWKS of every receipt key in use.
func (s *Server) getReceiptKeys(c *gin.Context) {
	jwks, err := s.Service.ReceiptJWKS(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/jwk-set+json", jwks)
}

// getReceiptPage serves the public verify page of /r/{id}?c={code}. An
// unknown id and a wrong code get the same 404 page.
func (s *Server) getReceiptPage(c *gin.Context) {
	lang := receiptpage.Lang(c.Query("lang"))
	code := c.Query("c")
	rcID := c.Param("id")
	var view *receiptpage.View
	status := http.StatusOK
	check, err := s.Service.CheckReceipt(c.Request.Context(), rcID, code)
	switch {
	case fault.Is(err, fault.NotFound):
		status, code = http.StatusNotFound, ""
	case err != nil:
		s.fail(c, err)
		return
	default:
		view = &receiptpage.View{Receipt: check.Receipt, Authentic: check.Authentic}
		for _, rf := range check.Refunds {
			view.Refunds = append(view.Refunds, receiptpage.Refund{Amount: rf.Amount, At: rf.At})
		}
	}
	body, err := receiptpage.Render(view, lang, code)
	if err != nil {
		s.fail(c, err)
		return
	}
	pageHeaders(c)
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", body)
}

// getReceiptAsset serves the verify page's stylesheet under its hashed
// name, cached for a year.
func (s *Server) getReceiptAsset(c *gin.Context) {
	css, ok := receiptpage.Stylesheet(c.Param("name"))
	if !ok {
		s.fail(c, fault.New(fault.NotFound, "no asset %s", c.Param("name")))
		return
	}
	pageHeaders(c)
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, "text/css; charset=utf-8", css)
}

// pageHeaders are the security headers of the gateway's own pages.
func pageHeaders(c *gin.Context) {
	c.Header("Content-Security-Policy", receiptpage.CSP)
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Content-Type-Options", "nosniff")
}
