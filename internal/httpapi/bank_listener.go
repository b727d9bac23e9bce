package httpapi

import (
	"net/http"
	"strings"

	"github.com/citizenpay/gateway/internal/fault"
)

// BankOnly serves, of api, only what a bank needs on the listener of its own
// (BANK_CALLBACK_ADDR): the callbacks and the health checks. Anything else
// is 404 there, so that the banks' listener is no back door to the portal
// or citizen API and its connections are spent on callbacks alone.
// publicURL is GATEWAY_PUBLIC_URL, the base of the problem's type URI.
func BankOnly(api http.Handler, publicURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/v1/bank-callbacks/"), p == "/healthz", p == "/readyz":
			api.ServeHTTP(w, r)
			return
		}
		rid := r.Header.Get("X-Request-Id")
		if !validRequestID(rid) {
			rid = newRequestID()
		}
		status, body := problemFor(fault.New(fault.NotFound, "the banks' listener serves /v1/bank-callbacks/{bank_code} only"), rid, errorTypeBase(publicURL))
		w.Header().Set("X-Request-Id", rid)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}
