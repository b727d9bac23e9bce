package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// CheckRefund asks a bank about a refund whose outcome is not known yet.
type CheckRefund struct {
	RefundID string `json:"refund_id"`
	N        int    `json:"n"`
}

// Kind implements river.JobArgs.
func (CheckRefund) Kind() string { return "check_refund" }

// InsertOpts puts the check on the banks queue, beside the sends.
func (CheckRefund) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueBanks} }

// SendRefundWorker sends a refund to its bank, like SendDebitWorker.
type SendRefundWorker struct {
	river.WorkerDefaults[service.SendRefund]
	*Clearing
}

// Work implements river.Worker.
func (w *SendRefundWorker) Work(ctx context.Context, job *river.Job[service.SendRefund]) error {
	rf, err := postgres.GetRefund(ctx, w.Pool, job.Args.RefundID, false)
	if err != nil {
		return err
	}
	if rf.Status != payment.OutcomePending {
		return nil
	}
	if w.Banks.Open(rf.BankCode) {
		return river.JobSnooze(w.backoff(job.Attempt))
	}
	if err := postgres.MarkSent(ctx, w.Pool, "refunds", rf.ID); err != nil {
		return err
	}
	ans := w.Banks.Refund(ctx, rf.BankCode, RefundOrder{RefundID: rf.ID, DebitID: rf.AttemptID, Amount: money.Format(rf.Amount), Currency: rf.Currency})
	switch ans.Kind {
	case AnswerFinal:
		return w.applyRefund(ctx, rf.BankCode, rf.ID, ans.Outcome)
	case AnswerNotSent:
		return river.JobSnooze(w.soon())
	}
	return w.scheduleCheck(ctx, CheckRefund{RefundID: rf.ID})
}

func (w *Clearing) applyRefund(ctx context.Context, bankCode, id string, o payment.BankOutcome) error {
	return w.apply(ctx, bankCode, id, func(tx pgx.Tx) (service.Applied, error) {
		return w.Service.ApplyRefundOutcome(ctx, tx, bankCode, id, o)
	})
}

// CheckRefundWorker asks a bank about a refund on the status schedule.
type CheckRefundWorker struct {
	river.WorkerDefaults[CheckRefund]
	*Clearing
}

// Work implements river.Worker.
func (w *CheckRefundWorker) Work(ctx context.Context, job *river.Job[CheckRefund]) error {
	rf, err := postgres.GetRefund(ctx, w.Pool, job.Args.RefundID, false)
	if err != nil {
		return err
	}
	if rf.Status != payment.OutcomePending {
		return nil
	}
	next := CheckRefund{RefundID: rf.ID, N: job.Args.N + 1}
	ans := w.Banks.GetRefund(ctx, rf.BankCode, rf.ID)
	switch ans.Kind {
	case AnswerFinal:
		return w.applyRefund(ctx, rf.BankCode, rf.ID, ans.Outcome)
	case AnswerNotSent:
		return river.JobSnooze(w.soon())
	case AnswerNotFound:
		client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
		if err != nil {
			return err
		}
		if _, err := client.Insert(ctx, service.SendRefund{RefundID: rf.ID}, &river.InsertOpts{Queue: QueueBanks}); err != nil {
			return err
		}
	}
	return w.scheduleCheck(ctx, next)
}
