package verify_test

import (
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/verify"
)

// TestReceipts: invariant 8 holds in the clean world (every paid request
// there has its signed receipt, numbered 1..3) and each way of breaking it
// is found, and only it.
func TestReceipts(t *testing.T) {
	t.Parallel()
	runWorldCases(t, []worldCase{
		{"a paid request without its receipt", func(w *world) {
			w.exec(`DELETE FROM receipts WHERE payment_request_id = 'pr_paid'`) // number 1: the others start at 2
		}, []finding{{8, verify.CheckReceiptMissing, "pr_paid"}, {8, verify.CheckReceiptNumbering, "ptl_a:" + yearOfNow()}}},
		{"a gap in the numbers", func(w *world) {
			w.exec(`UPDATE receipts SET seq = 5, number = year::text || '/000005' WHERE payment_request_id = 'pr_refunded'`)
			w.exec(`UPDATE receipt_counters SET last_seq = 5`)
		}, []finding{{8, verify.CheckReceiptNumbering, "ptl_a:" + yearOfNow()}, {8, verify.CheckReceiptDiffers, "rc_refunded"}}},
		{"a counter behind its receipts", func(w *world) {
			w.exec(`UPDATE receipt_counters SET last_seq = 2`)
		}, []finding{{8, verify.CheckReceiptNumbering, "ptl_a:" + yearOfNow()}}},
		{"a receipt of another amount than its request's", func(w *world) {
			w.exec(`UPDATE receipts SET amount = 70000 WHERE payment_request_id = 'pr_paid'`)
		}, []finding{{8, verify.CheckReceiptUnfounded, "rc_paid"}, {8, verify.CheckReceiptDiffers, "rc_paid"}}},
		{"a receipt signed by a revoked key", func(w *world) {
			k, err := receipt.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			w.exec(`INSERT INTO receipt_keys (kid, seed_sealed, public_key) VALUES ($1, '\x11', $2)`, k.KID(), k.Public().Bytes())
			w.exec(`UPDATE receipt_keys SET revoked_at = now() WHERE kid = $1`, w.key.KID())
		}, []finding{{8, verify.CheckReceiptSignature, "rc_paid"}, {8, verify.CheckReceiptSignature, "rc_partial"}, {8, verify.CheckReceiptSignature, "rc_refunded"}}},
		{"a tampered JWS", func(w *world) {
			w.exec(`UPDATE receipts SET jws_sealed = overlay(jws_sealed PLACING '\x41' FROM length(jws_sealed) - 3) WHERE payment_request_id = 'pr_partial'`)
		}, []finding{{8, verify.CheckReceiptSignature, "rc_partial"}}},
	})
}

func yearOfNow() string {
	return receipt.Number(receipt.Year(time.Now()), 1)[:4]
}
