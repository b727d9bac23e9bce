package httpapi

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/errorref"
	"github.com/citizenpay/gateway/internal/fault"
)

// errorRoutes adds the error reference: GET /errors (the index), GET
// /errors/{code} (each problem's type URI) and the pages' stylesheet.
func (s *Server) errorRoutes(r *gin.Engine) {
	r.GET(errorref.Path, s.getErrorIndex)
	r.GET(errorref.Path+"/:code", s.getErrorPage)
	r.GET(errorref.AssetsPath+":name", s.getErrorAsset)
}

// errorTypeBase is the base of every problem's type URI under publicURL
// (GATEWAY_PUBLIC_URL): the code's page on the gateway itself.
func errorTypeBase(publicURL string) string {
	return strings.TrimSuffix(publicURL, "/") + errorref.Path + "/"
}

// problemTypeBase is this server's errorTypeBase.
func (s *Server) problemTypeBase() string {
	if s.Service == nil {
		return errorTypeBase("")
	}
	return errorTypeBase(s.Service.PublicURL)
}

// errorEntries is the reference of every code in the registry, by status
// then code; ok is false when a code has no text in errorref.
func errorEntries() (entries []errorref.Entry, ok bool) {
	ok = true
	for code, e := range codes {
		t, found := errorref.Of(code)
		ok = ok && found
		entries = append(entries, errorEntry(code, e, t))
	}
	slices.SortFunc(entries, func(a, b errorref.Entry) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Code, b.Code))
	})
	return entries, ok
}

// errorEntry is the reference of code: the registry's entry e with its text t.
func errorEntry(code fault.Code, e codeEntry, t errorref.Text) errorref.Entry {
	return errorref.Entry{Code: string(code), Status: e.status, Title: e.title, Stored: e.decidedOnState,
		RetryAfter: retryAfter(code, noWait), Text: t}
}

func (s *Server) getErrorIndex(c *gin.Context) {
	entries, _ := errorEntries()
	body, err := errorref.RenderIndex(entries)
	s.errorPage(c, http.StatusOK, body, err)
}

// getErrorPage serves one code's page; a code the registry does not know
// gets the not-found page.
func (s *Server) getErrorPage(c *gin.Context) {
	code := fault.Code(c.Param("code"))
	e, known := codes[code]
	t, written := errorref.Of(code)
	if !known || !written {
		body, err := errorref.RenderNotFound(string(code))
		s.errorPage(c, http.StatusNotFound, body, err)
		return
	}
	body, err := errorref.RenderCode(errorEntry(code, e, t))
	s.errorPage(c, http.StatusOK, body, err)
}

func (s *Server) errorPage(c *gin.Context, status int, body []byte, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	errorPageHeaders(c)
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(status, "text/html; charset=utf-8", body)
}

// getErrorAsset serves the pages' stylesheet under its hashed name, cached
// for a year.
func (s *Server) getErrorAsset(c *gin.Context) {
	css, ok := errorref.Stylesheet(c.Param("name"))
	if !ok {
		s.fail(c, fault.New(fault.NotFound, "no asset %s", c.Param("name")))
		return
	}
	errorPageHeaders(c)
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, "text/css; charset=utf-8", css)
}

// errorPageHeaders are pageHeaders with the reference's own policy.
func errorPageHeaders(c *gin.Context) {
	c.Header("Content-Security-Policy", errorref.CSP)
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Content-Type-Options", "nosniff")
}
