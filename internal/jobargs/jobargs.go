// Package jobargs names every kind of background work the gateway does:
// the arguments a job is inserted with, and the queue it runs on. The
// services insert them in the transaction that makes them due; the
// workers in internal/jobs carry them out. Nothing here knows the queue's
// driver: the arguments are plain values, stored as JSON.
package jobargs

import (
	"context"
	"time"

	"github.com/citizenpay/gateway/internal/postgres"
)

// Job is one piece of background work (river.JobArgs satisfies it).
type Job interface{ Kind() string }

// Enqueue inserts job in tx, to run at runAt (zero: at once). It is the one
// way the services start background work.
type Enqueue func(ctx context.Context, tx *postgres.Tx, job Job, runAt time.Time) error

// Queues. Bank work has its own, so that a slow bank never holds up
// expiries or webhooks, and they never wait behind a bank.
const (
	QueueDefault = "default"
	QueueBanks   = "banks"
	// QueueReconcile runs the long reads of statements, so that a bank's
	// day of a million lines holds up nothing else.
	QueueReconcile = "reconcile"
)

// QueueOf is the queue job runs on.
func QueueOf(job Job) string {
	switch job.(type) {
	case SendDebit, CheckDebit, SendRefund, CheckRefund, VerifyAccount:
		return QueueBanks
	case Reconcile:
		return QueueReconcile
	}
	return QueueDefault
}

// SendDebit asks for an attempt's debit to be sent to its bank.
type SendDebit struct {
	AttemptID string `json:"attempt_id"`
}

// Kind implements Job.
func (SendDebit) Kind() string { return "send_debit" }

// CheckDebit asks a bank about a debit whose outcome is not known yet.
type CheckDebit struct {
	AttemptID string `json:"attempt_id"`
	N         int    `json:"n"` // which check of the schedule
}

// Kind implements Job.
func (CheckDebit) Kind() string { return "check_debit" }

// SendRefund asks for a refund to be sent to its bank.
type SendRefund struct {
	RefundID string `json:"refund_id"`
}

// Kind implements Job.
func (SendRefund) Kind() string { return "send_refund" }

// CheckRefund asks a bank about a refund whose outcome is not known yet.
type CheckRefund struct {
	RefundID string `json:"refund_id"`
	N        int    `json:"n"`
}

// Kind implements Job.
func (CheckRefund) Kind() string { return "check_refund" }

// VerifyAccount asks for an account's verification to be sent to its bank.
type VerifyAccount struct {
	AccountID string `json:"account_id"`
}

// Kind implements Job.
func (VerifyAccount) Kind() string { return "verify_account" }

// ExpireVerification asks, at the end of the verification timeout, for an
// account its bank never answered about to be rejected.
type ExpireVerification struct {
	AccountID string `json:"account_id"`
}

// Kind implements Job.
func (ExpireVerification) Kind() string { return "expire_account_verification" }

// ExpirePaymentRequests asks for overdue pending payment requests to be
// expired.
type ExpirePaymentRequests struct{}

// Kind implements Job.
func (ExpirePaymentRequests) Kind() string { return "expire_payment_requests" }

// PurgeIdempotencyRecords asks for old idempotency records to be deleted.
type PurgeIdempotencyRecords struct{}

// Kind implements Job.
func (PurgeIdempotencyRecords) Kind() string { return "purge_idempotency_records" }

// ScheduleReconciliations asks for each bank's due business day to be
// reconciled (PROTOCOL.md §12), once RECONCILE_AT has passed.
type ScheduleReconciliations struct{}

// Kind implements Job.
func (ScheduleReconciliations) Kind() string { return "schedule_reconciliations" }

// Reconcile asks for one bank's business day to be checked against its
// statement.
type Reconcile struct {
	BankCode string `json:"bank_code"`
	Date     string `json:"date"` // YYYY-MM-DD, Asia/Ho_Chi_Minh
}

// Kind implements Job.
func (Reconcile) Kind() string { return "reconcile" }
