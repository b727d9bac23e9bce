package httpapi_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

// TestTwoGatewaysSeeOneOfEverything runs two gateways on one PostgreSQL and
// one Redis, as two nodes behind a load balancer, and sends both the same
// keys: exactly one request results, and every answer is the same one.
func TestTwoGatewaysSeeOneOfEverything(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, withWorkers())
	second := h.SecondGateway()
	body := apitest.Marshal(t, createBody("TWO-1"))
	var wg sync.WaitGroup
	results := make([]*apitest.Response, 30)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			base := ""
			if i%2 == 1 {
				base = second
			}
			results[i] = h.Do(apitest.Request{BaseURL: base, Method: "POST", Path: "/v1/payment-requests", Body: body, IdempotencyKey: "two-key"})
		}(i)
	}
	wg.Wait()
	var created []byte
	for _, r := range results {
		switch {
		case r.Status == 201 && created == nil:
			created = r.Body
		case r.Status == 201 && !bytes.Equal(r.Body, created):
			t.Fatalf("two different answers:\n%s\n%s", created, r.Body)
		case r.Status == 409 && r.Code() == "idempotency_key_in_use":
		case r.Status != 201:
			t.Fatalf("unexpected %d %s", r.Status, r.Body)
		}
	}
	if n := h.Count("SELECT count(*) FROM payment_requests"); n != 1 {
		t.Fatalf("%d payment requests across two gateways", n)
	}
	// A cancel through one and a replay of it through the other.
	id := (&apitest.Response{Body: created}).Map(t)["id"].(string)
	c1 := h.Do(apitest.Request{Method: "POST", Path: "/v1/payment-requests/" + id + "/cancel", IdempotencyKey: "c"})
	c2 := h.Do(apitest.Request{BaseURL: second, Method: "POST", Path: "/v1/payment-requests/" + id + "/cancel", IdempotencyKey: "c"})
	if c1.Status != 200 || !bytes.Equal(c1.Body, c2.Body) || c2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("cancel across gateways: %d %s / %d %s", c1.Status, c1.Body, c2.Status, c2.Body)
	}
	if n := h.Count("SELECT count(*) FROM events"); n != 2 {
		t.Fatalf("%d events, want created and canceled", n)
	}
}
