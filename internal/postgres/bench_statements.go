package postgres

import "github.com/citizenpay/gateway/internal/payment"

// The statements of the gateway's create, for `make bench`'s one-round-trip
// create ceiling (cmd/loadgen), which sends them in one pipelined batch.

// PaymentRequestInsertStatement is the SQL and arguments InsertPaymentRequest
// runs to insert r.
func PaymentRequestInsertStatement(r *payment.Request, pid SealedPID) (string, []any, error) {
	return paymentRequestInsert(r, pid)
}

// EventInsertStatement is the SQL and arguments InsertEvent (and
// InsertPaymentRequest) runs to write e.
func EventInsertStatement(e NewEvent) (string, []any) {
	return insertEvent, e.args()
}

// IdempotentResponseInsertStatement is the SQL and arguments of a key's
// record written at once with its response, as StoreIdempotentRefusal writes
// it: the one statement that leaves what ClaimIdempotencyKey's insert and
// StoreIdempotentResponse's update leave together.
func IdempotentResponseInsertStatement(scope, key string, fp []byte, status int, body []byte) (string, []any) {
	return `INSERT INTO idempotency_records (scope, key, fingerprint, response_status, response_body)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, []any{scope, key, fp, status, body}
}
