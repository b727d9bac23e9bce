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
// record written at once with its response, as CommitClaimed writes it
// ahead of a create's rows.
func IdempotentResponseInsertStatement(scope, key string, fp []byte, status int, body []byte) (string, []any) {
	return insertRecord, []any{scope, key, fp, status, body}
}
