package httpapi_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
)

// TestSlowBodyIsCutOff: a client that sends its headers and then only part
// of its body gets a 400 problem once BODY_READ_TIMEOUT has passed, and its
// connection is closed, on the routes that read bodies (a bank callback,
// a portal's signed request, a citizen's) and on one that does not.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	h, id := apitest.NewWithIdentity(t, apitest.WithEnv("BODY_READ_TIMEOUT", "200ms"))
	cit := id.NewCitizen(t, 2)
	for _, target := range []string{"POST /v1/bank-callbacks/SBX", "POST /v1/payment-requests", "POST /v1/me/accounts", "GET /healthz"} {
		method, path, _ := strings.Cut(target, " ")
		c, err := net.Dial("tcp", strings.TrimPrefix(h.Server.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The client's own bound: only for the test to fail instead of hanging.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		head := method + " " + path + " HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n" +
			"X-Portal-Key: pk_x\r\nAuthorization: Bearer " + cit.Token + "\r\nIdempotency-Key: slow-1\r\n\r\n{\"a\":"
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if path == "/healthz" {
			// Answered without reading the body; the rest never comes, so
			// the connection is closed, not kept for the next request.
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %v", target, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
		} else {
			if err != nil {
				t.Fatalf("%s: no answer: %v", target, err)
			}
			var p struct{ Code, Detail string }
			_ = json.NewDecoder(resp.Body).Decode(&p)
			if resp.StatusCode != http.StatusBadRequest || p.Code != "invalid_request" || !strings.Contains(p.Detail, "in time") {
				t.Fatalf("%s: %d %+v, want 400 invalid_request", target, resp.StatusCode, p)
			}
		}
		if _, err := br.ReadByte(); err == nil || isTimeout(err) {
			t.Fatalf("%s: the connection is still open (%v)", target, err)
		}
	}
	// Honest clients are served meanwhile and after.
	if r := h.Get("/v1/payment-requests"); r.Status != http.StatusOK {
		t.Fatalf("an honest request: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests", "body-ok", createBody("HCM-BODY-1")); r.Status != http.StatusCreated {
		t.Fatalf("an honest create: %d %s", r.Status, r.Body)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
