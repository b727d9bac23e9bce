package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// SendRefundWorker sends a refund to its bank, like SendDebitWorker.
type SendRefundWorker struct {
	river.WorkerDefaults[jobargs.SendRefund]
	*Clearing
}

// Work implements river.Worker.
func (w *SendRefundWorker) Work(ctx context.Context, job *river.Job[jobargs.SendRefund]) error {
	rf, err := postgres.GetRefund(ctx, w.DB, job.Args.RefundID, false)
	if err != nil {
		return err
	}
	if rf.Status != payment.OutcomePending {
		return nil
	}
	if w.Banks.Open(rf.BankCode) {
		return river.JobSnooze(w.backoff(job.Attempt))
	}
	if err := postgres.MarkSent(ctx, w.DB, postgres.SentRefund(rf.ID)); err != nil {
		return err
	}
	ans := w.Banks.Refund(ctx, rf.BankCode, RefundOrder{RefundID: rf.ID, DebitID: rf.AttemptID, Amount: money.Format(rf.Amount), Currency: rf.Currency})
	switch ans.Kind {
	case AnswerFinal:
		return w.applyRefund(ctx, rf.BankCode, rf.ID, ans.Outcome)
	case AnswerNotSent:
		return river.JobSnooze(w.soon())
	}
	return w.scheduleCheck(ctx, jobargs.CheckRefund{RefundID: rf.ID})
}

func (w *Clearing) applyRefund(ctx context.Context, bankCode, id string, o payment.BankOutcome) error {
	return w.apply(ctx, bankCode, id, func(tx *postgres.Tx) (service.Applied, error) {
		return w.Service.ApplyRefundOutcome(ctx, tx, bankCode, id, o)
	})
}

// CheckRefundWorker asks a bank about a refund on the status schedule.
type CheckRefundWorker struct {
	river.WorkerDefaults[jobargs.CheckRefund]
	*Clearing
}

// Work implements river.Worker.
func (w *CheckRefundWorker) Work(ctx context.Context, job *river.Job[jobargs.CheckRefund]) error {
	rf, err := postgres.GetRefund(ctx, w.DB, job.Args.RefundID, false)
	if err != nil {
		return err
	}
	if rf.Status != payment.OutcomePending {
		return nil
	}
	next := jobargs.CheckRefund{RefundID: rf.ID, N: job.Args.N + 1}
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
		if _, err := client.Insert(ctx, jobargs.SendRefund{RefundID: rf.ID}, &river.InsertOpts{Queue: jobargs.QueueBanks}); err != nil {
			return err
		}
	}
	return w.scheduleCheck(ctx, next)
}
