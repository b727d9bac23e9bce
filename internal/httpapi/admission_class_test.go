package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/internal/admission"
)

// TestAdmissionClasses: a pay, from the API or the hosted checkout, and a
// bank's callback outrank every other mutation, and mutations outrank reads.
func TestAdmissionClasses(t *testing.T) {
	t.Parallel()
	r := gin.New()
	got := map[string]admission.Class{}
	record := func(c *gin.Context) {
		class, _ := admissionClass(c)
		got[c.Request.Method+" "+c.FullPath()] = class
	}
	routes := []struct {
		method, path, target string
		want                 admission.Class
	}{
		{http.MethodPost, "/pay/:id/pay", "/pay/pr_1/pay", admission.Critical},
		{http.MethodPost, "/v1/me/payment-requests/:id/pay", "/v1/me/payment-requests/pr_1/pay", admission.Critical},
		{http.MethodPost, "/pay/:id/accounts", "/pay/pr_1/accounts", admission.Normal},
		{http.MethodGet, "/pay/:id", "/pay/pr_1", admission.Low},
		{http.MethodGet, "/pay/:id/status", "/pay/pr_1/status", admission.Low},
	}
	for _, rt := range routes {
		r.Handle(rt.method, rt.path, record)
	}
	for _, rt := range routes {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(rt.method, rt.target, nil))
		if c := got[rt.method+" "+rt.path]; c != rt.want {
			t.Errorf("%s %s: class %v, want %v", rt.method, rt.path, c, rt.want)
		}
	}
}
