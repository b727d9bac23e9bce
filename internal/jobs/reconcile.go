package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/service"
)

// reconcileLookback is how many due days the scheduler looks at: a gateway
// that was down for a day still reconciles the day it missed.
const reconcileLookback = 3

// ScheduleReconciliationsWorker inserts a Reconcile job for every bank's
// due day that has no read result yet, once RECONCILE_AT has passed. The
// jobs are unique by their arguments, so every gateway process may
// schedule and each day is still run by one job.
type ScheduleReconciliationsWorker struct {
	river.WorkerDefaults[jobargs.ScheduleReconciliations]
	DB *postgres.DB
	// At is RECONCILE_AT: the time of day after which yesterday is due.
	At  time.Duration
	Now func() time.Time
	Log *slog.Logger
}

// Work implements river.Worker.
func (w *ScheduleReconciliationsWorker) Work(ctx context.Context, _ *river.Job[jobargs.ScheduleReconciliations]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	banks, err := postgres.BankCodes(ctx, w.DB)
	if err != nil {
		return err
	}
	at := time.Now()
	if w.Now != nil {
		at = w.Now()
	}
	due := reconcile.Due(at, w.At)
	for i := range reconcileLookback {
		day := due.Add(-i)
		for _, bank := range banks {
			r, err := postgres.GetReconciliation(ctx, w.DB, bank, day)
			if err == nil && r.Status != reconcile.StatusUnavailable {
				continue
			}
			args := jobargs.Reconcile{BankCode: bank, Date: day.String()}
			if _, err := client.Insert(ctx, args, &river.InsertOpts{Queue: jobargs.QueueReconcile,
				UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReconcileWorker runs one bank's day. While the statement is unavailable
// it tries again later, backing off from a minute to an hour (or what the
// bank's Retry-After asks, if longer); after a week it gives up, with the
// operator's incident long open.
type ReconcileWorker struct {
	river.WorkerDefaults[jobargs.Reconcile]
	Reconciler *service.Reconciler
	Log        *slog.Logger
}

// giveUpAfter is how long a day's statement is tried for.
const giveUpAfter = 7 * 24 * time.Hour

// Timeout implements river.Worker: a day of a million lines takes a while.
func (w *ReconcileWorker) Timeout(*river.Job[jobargs.Reconcile]) time.Duration { return time.Hour }

// Work implements river.Worker.
func (w *ReconcileWorker) Work(ctx context.Context, job *river.Job[jobargs.Reconcile]) error {
	day, err := reconcile.ParseDay(job.Args.Date)
	if err != nil {
		return river.JobCancel(err)
	}
	run, err := w.Reconciler.Reconcile(ctx, job.Args.BankCode, day)
	if err != nil {
		return err
	}
	if run.Result.Status != reconcile.StatusUnavailable {
		return nil
	}
	if time.Since(job.CreatedAt) > giveUpAfter {
		w.Log.Error("statement still unavailable: giving up", "bank", job.Args.BankCode, "date", day.String())
		return nil
	}
	return river.JobSnooze(unavailableBackoff(job.Attempt, run.RetryAfter))
}

// unavailableBackoff is the wait before the attempt-th retry of an
// unavailable statement: a minute, doubling up to an hour, and at least
// what the bank asked.
func unavailableBackoff(attempt int, retryAfter time.Duration) time.Duration {
	d := time.Minute
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	return max(d, retryAfter)
}
