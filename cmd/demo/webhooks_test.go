package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDeliveriesFor reads a listener log as `gatewayctl listen` writes it:
// its own messages, webhooks about other requests, and a partial last line.
func TestDeliveriesFor(t *testing.T) {
	t.Parallel()
	log := `gatewayctl listen: receiving webhooks at http://127.0.0.1:8090/webhooks (Ctrl-C stops)
{"id":"evt_1","type":"payment_request.created","body":{"data":{"payment_request":{"id":"pr_a","status":"pending","version":1}}}}
{"id":"evt_2","type":"payment_request.created","body":{"data":{"payment_request":{"id":"pr_b","status":"pending","version":1}}}}
gatewayctl listen: warning: refused webhook "evt_x": signature mismatch
{"id":"evt_3","type":"refund.succeeded","body":{"data":{"payment_request":{"id":"pr_a","status":"partially_refunded","version":4},"refund":{"id":"rf_1","status":"succeeded","amount":"25000"}}}}
{"id":"evt_4","type":"payment_req`
	path := filepath.Join(t.TempDir(), "webhooks.log")
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	ds, err := deliveriesFor(path, "pr_a")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].ID != "evt_1" || ds[1].ID != "evt_3" || ds[1].Body.Data.Refund == nil ||
		ds[1].Body.Data.Refund.Amount != "25000" || ds[1].Body.Data.PaymentRequest.Version != 4 {
		t.Fatalf("deliveries: %+v", ds)
	}
	if ds, err := deliveriesFor(filepath.Join(t.TempDir(), "missing.log"), "pr_a"); err != nil || len(ds) != 0 {
		t.Fatalf("a missing log: %+v, %v", ds, err)
	}
}
