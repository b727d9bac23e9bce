package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/signature"
)

func ioNop(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// signedRequest prepares a request signed with the harness portal, for tests
// that tamper with it afterwards.
func signedRequest(t *testing.T, h *apitest.Harness, method, target string, body []byte, key string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, h.Server.URL+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.Header.Set("X-Portal-Key", h.Portal.KeyID)
	signature.SignRequest(req, h.Portal.Secret, body, time.Now())
	return req
}
