// Package jobs holds the gateway's background work as River jobs (the
// webhook dispatcher is internal/webhook/dispatch). Timers are
// jobs, not goroutines, so that any number of gateway processes share them
// through PostgreSQL and a dead node's work is picked up by the others.
// Job arguments carry ids, never personal data.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// ExpireWorker expires overdue requests in batches until none are left.
type ExpireWorker struct {
	river.WorkerDefaults[jobargs.ExpirePaymentRequests]
	Service *service.Service
	Log     *slog.Logger
}

// Work implements river.Worker.
func (w *ExpireWorker) Work(ctx context.Context, _ *river.Job[jobargs.ExpirePaymentRequests]) error {
	total := 0
	for {
		n, err := w.Service.ExpireDue(ctx, 200)
		if err != nil {
			return err
		}
		total += n
		if n < 200 {
			break
		}
	}
	if total > 0 {
		w.Log.Info("expired payment requests", "count", total)
	}
	return nil
}

// PurgeWorker deletes idempotency records past their keeping time.
type PurgeWorker struct {
	river.WorkerDefaults[jobargs.PurgeIdempotencyRecords]
	DB   *postgres.DB
	Keep time.Duration
}

// Work implements river.Worker.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[jobargs.PurgeIdempotencyRecords]) error {
	_, err := idempotency.Purge(ctx, w.DB, w.Keep)
	return err
}

// Config is what the background workers need.
type Config struct {
	DB             *postgres.DB
	Service        *service.Service
	Log            *slog.Logger
	ExpiryInterval time.Duration
	IdempotencyTTL time.Duration
	Work           bool // false: a client that only inserts jobs

	// Account verification (PROTOCOL.md §6, §7); nil Citizens: not wired.
	Citizens            *service.Citizens
	BankClients         *bankclient.Clients
	BankCallbackTimeout time.Duration // when a bank that answered 202 is asked again
	BankBreakerCooldown time.Duration // how long an open circuit is waited out

	// Clearing (PROTOCOL.md §7): debits and refunds; nil PII: not wired.
	PII                 *pii.Protector
	StatusScheduleScale float64 // scales the status-query schedule (tests)

	// Reconciliation (PROTOCOL.md §12); nil Reconciler: not wired.
	Reconciler  *service.Reconciler
	ReconcileAt time.Duration // RECONCILE_AT, past midnight; negative: no daily job

	// Now is the clock the dispatcher and the clearing workers decide by;
	// nil is time.Now. River schedules its jobs by the wall clock.
	Now func() time.Time
}

// NewClient builds the River client with the gateway's workers and periodic
// jobs.
func NewClient(c Config) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &ExpireWorker{Service: c.Service, Log: c.Log})
	river.AddWorker(workers, &PurgeWorker{DB: c.DB, Keep: 3 * c.IdempotencyTTL})
	addAccountWorkers(workers, c)
	addClearingWorkers(workers, c)
	if c.Reconciler != nil {
		river.AddWorker(workers, &ScheduleReconciliationsWorker{DB: c.DB, At: c.ReconcileAt, Now: c.Now, Log: c.Log})
		river.AddWorker(workers, &ReconcileWorker{Reconciler: c.Reconciler, Log: c.Log.With("component", "reconcile")})
	}
	cfg := &river.Config{
		Workers: workers,
		Logger:  riverLog(c.Log),
		// A job whose process died is taken up again after a few minutes,
		// not River's default hour: a debit sent just before a crash gets
		// its status query soon after BANK_CALLBACK_TIMEOUT, as §7 wants.
		JobTimeout:           2 * time.Minute,
		RescueStuckJobsAfter: 5 * time.Minute,
		// A payment's debit job is fetched within ~10 ms of its insert's
		// notification instead of River's default 100 ms cooldown: the
		// citizen waits for it. At most 100 fetches a second per queue.
		FetchCooldown: 10 * time.Millisecond,
	}
	if c.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}}
		cfg.Queues[jobargs.QueueBanks] = river.QueueConfig{MaxWorkers: bankWorkers}
		if c.Reconciler != nil {
			cfg.Queues[jobargs.QueueReconcile] = river.QueueConfig{MaxWorkers: 2}
		}
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(c.ExpiryInterval),
				func() (river.JobArgs, *river.InsertOpts) {
					return jobargs.ExpirePaymentRequests{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: c.ExpiryInterval}}
				}, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return jobargs.PurgeIdempotencyRecords{}, nil }, nil),
		}
		if c.Reconciler != nil && c.ReconcileAt >= 0 {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
				func() (river.JobArgs, *river.InsertOpts) {
					return jobargs.ScheduleReconciliations{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 10 * time.Minute}}
				}, &river.PeriodicJobOpts{RunOnStart: true}))
		}
	}
	return river.NewClient(riverpgxv5.New(c.DB.Pool()), cfg)
}

func addClearingWorkers(workers *river.Workers, c Config) {
	if c.PII == nil || c.BankClients == nil {
		return
	}
	scale := c.StatusScheduleScale
	if scale <= 0 {
		scale = 1
	}
	cl := &Clearing{
		DB: c.DB, Service: c.Service, PII: c.PII, Banks: BankClients{Clients: c.BankClients},
		Log: c.Log.With("component", "clearing"), CallbackTimeout: c.BankCallbackTimeout, TimerScale: scale,
		Incident: postgres.InsertIncident, Now: c.Now,
	}
	river.AddWorker(workers, &SendDebitWorker{Clearing: cl})
	river.AddWorker(workers, &CheckDebitWorker{Clearing: cl})
	river.AddWorker(workers, &SendRefundWorker{Clearing: cl})
	river.AddWorker(workers, &CheckRefundWorker{Clearing: cl})
}

// Queue is where the services insert their jobs: River's client, bound
// with Bind once it exists, since its workers need the services first.
type Queue struct {
	client atomic.Pointer[river.Client[pgx.Tx]]
}

// Bind gives the queue the client its jobs are inserted with.
func (q *Queue) Bind(c *river.Client[pgx.Tx]) { q.client.Store(c) }

// Enqueue inserts job in tx on its queue (jobargs.QueueOf), to run at runAt
// (zero: at once). It is a jobargs.Enqueue.
func (q *Queue) Enqueue(ctx context.Context, tx *postgres.Tx, job jobargs.Job, runAt time.Time) error {
	c := q.client.Load()
	if c == nil {
		return fmt.Errorf("insert %s job: the job queue is not bound", job.Kind())
	}
	opts := &river.InsertOpts{Queue: jobargs.QueueOf(job), ScheduledAt: runAt}
	if _, err := c.InsertTx(ctx, tx.Driver(), job, opts); err != nil {
		return fmt.Errorf("insert %s job: %w", job.Kind(), err)
	}
	return nil
}
