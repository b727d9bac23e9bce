package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/errorref"
)

func TestErrorReferencePages(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	get := func(path string) *apitest.Response {
		return h.Do(apitest.Request{Method: http.MethodGet, Path: path, Unsigned: true})
	}
	// A problem's type is its code's page on this gateway, and the page is there.
	missing := get("/v1/no-such-route")
	var p struct{ Type, Code string }
	missing.JSON(t, &p)
	if p.Code != "not_found" || p.Type != "https://pay.gateway.test/errors/not_found" {
		t.Fatalf("problem type %q for %q", p.Type, p.Code)
	}
	page := get(strings.TrimPrefix(p.Type, "https://pay.gateway.test"))
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "HTTP 404 · Not found") || !strings.Contains(body, "What to do") {
		t.Fatalf("not_found's page: %d %s", page.Status, body)
	}
	checkPage := func(r *apitest.Response) {
		t.Helper()
		csp := r.Header.Get("Content-Security-Policy")
		if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("X-Content-Type-Options") != "nosniff" || len(r.Body) > 100<<10 {
			t.Fatalf("headers %v, %d bytes", r.Header, len(r.Body))
		}
		b := string(r.Body)
		if strings.Contains(b, "http://") || strings.Contains(b, "https://") || strings.Contains(b, "<script") || strings.Contains(b, "style=") ||
			!strings.Contains(b, `name="viewport"`) || !strings.Contains(b, errorref.StylesheetPath()) {
			t.Fatalf("the page loads or inlines something, or is not for phones: %s", b)
		}
	}
	checkPage(page)
	reused := get("/errors/idempotency_key_reused")
	if reused.Status != http.StatusOK || !strings.Contains(string(reused.Body), "HTTP 422") ||
		!strings.Contains(string(reused.Body), "whether or not the new body is valid") {
		t.Fatalf("idempotency_key_reused's page: %d %s", reused.Status, reused.Body)
	}
	if b := string(get("/errors/rate_limited").Body); !strings.Contains(b, "<code>Retry-After</code> (5 s") || !strings.Contains(b, "Stores nothing") {
		t.Fatalf("rate_limited's page: %s", b)
	}
	index := get("/errors")
	checkPage(index)
	for _, code := range []string{"invalid_request", "invalid_signature", "idempotency_key_reused", "internal", "unavailable"} {
		if !strings.Contains(string(index.Body), `href="/errors/`+code+`"`) {
			t.Errorf("the index does not link %s", code)
		}
	}
	unknown := get("/errors/no_such_code")
	checkPage(unknown)
	if unknown.Status != http.StatusNotFound || !strings.Contains(string(unknown.Body), "Unknown error code") {
		t.Fatalf("unknown code: %d %s", unknown.Status, unknown.Body)
	}
	css := get(errorref.StylesheetPath())
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(css.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("stylesheet: %d %v", css.Status, css.Header)
	}
	if r := get(errorref.AssetsPath + "errors.css"); r.Status != http.StatusNotFound || r.Code() != "not_found" {
		t.Fatalf("unhashed stylesheet: %d %s", r.Status, r.Body)
	}
}
