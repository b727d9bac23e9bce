package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// Clearing is what the debit and refund workers share.
type Clearing struct {
	DB              *postgres.DB
	Service         *service.Service
	PII             *pii.Protector
	Banks           Banks
	Log             *slog.Logger
	CallbackTimeout time.Duration
	TimerScale      float64
	// Incident records something the gateway will not decide alone.
	Incident func(ctx context.Context, q postgres.Querier, kind incident.Kind, bankCode, objectID, summary string, evidence map[string]any) error
	// Now is the clock the status schedule is reckoned by; nil is time.Now.
	Now func() time.Time
}

func (w *Clearing) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// SendDebitWorker sends an attempt's debit. A final answer is applied; a
// 202 or an unknown outcome is asked about on the status schedule. The same
// Idempotency-Key (the attempt id) is used every time, so a retry after the
// worker died mid-send executes nothing twice at the bank.
type SendDebitWorker struct {
	river.WorkerDefaults[jobargs.SendDebit]
	*Clearing
}

// Work implements river.Worker.
func (w *SendDebitWorker) Work(ctx context.Context, job *river.Job[jobargs.SendDebit]) error {
	d, err := postgres.GetDebitDetails(ctx, w.DB, job.Args.AttemptID)
	if err != nil {
		return err
	}
	a := d.Attempt
	if a.Status != payment.OutcomePending {
		return nil
	}
	if w.Banks.Open(a.BankCode) {
		return river.JobSnooze(w.backoff(job.Attempt))
	}
	account, err := w.PII.Open(pii.KindAccount, d.AccountSealed, d.AccountBinding)
	if err != nil {
		return fmt.Errorf("open account of %s: %w", a.ID, err)
	}
	holder, err := w.PII.Open(pii.KindPID, d.HolderPIDSealed, d.HolderPIDBinding)
	if err != nil {
		return fmt.Errorf("open holder of %s: %w", a.ID, err)
	}
	// Recorded before the send: a crash after the send still leaves a
	// trace, and the retry re-sends with the same key.
	if err := postgres.MarkSent(ctx, w.DB, postgres.SentDebit(a.ID)); err != nil {
		return err
	}
	ans := w.Banks.Debit(ctx, a.BankCode, DebitOrder{
		DebitID: a.ID, AccountNumber: account, HolderPID: holder, Amount: money.Format(a.Amount), Currency: a.Currency,
		Description: d.Description, Reference: d.DossierCode, // the client derives the ASCII description
	})
	switch ans.Kind {
	case AnswerFinal:
		return w.applyDebit(ctx, a.BankCode, a.ID, ans.Outcome)
	case AnswerNotSent:
		return river.JobSnooze(w.soon())
	}
	return w.scheduleCheck(ctx, jobargs.CheckDebit{AttemptID: a.ID, N: 0})
}

// soon is a short, jittered wait before trying a send that never left.
func (w *Clearing) soon() time.Duration {
	return 500*time.Millisecond + time.Duration(rand.Int64N(int64(time.Second)))
}

func (w *Clearing) backoff(attempt int) time.Duration {
	d := time.Duration(attempt*attempt) * time.Second
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d + time.Second
}

func (w *Clearing) scheduleCheck(ctx context.Context, args river.JobArgs) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	n := 0
	switch a := args.(type) {
	case jobargs.CheckDebit:
		n = a.N
	case jobargs.CheckRefund:
		n = a.N
	}
	sentID := sentObject(args).ID()
	sched := StatusSchedule(w.CallbackTimeout, w.TimerScale)
	if n >= len(sched) {
		return w.Incident(ctx, w.DB, incident.KindOutcomeUnknown, w.bankOf(ctx, args), sentID,
			"the bank's outcome is still unknown 24 h after the send", map[string]any{"checks": n})
	}
	sentAt, err := w.sentAt(ctx, args)
	if err != nil {
		return err
	}
	at := sentAt.Add(sched[n])
	if now := w.now(); at.Before(now) {
		at = now
	}
	_, err = client.Insert(ctx, args, &river.InsertOpts{Queue: jobargs.QueueBanks, ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// sentObject names what a status check is about.
func sentObject(args river.JobArgs) postgres.Sent {
	switch a := args.(type) {
	case jobargs.CheckRefund:
		return postgres.SentRefund(a.RefundID)
	case jobargs.CheckDebit:
		return postgres.SentDebit(a.AttemptID)
	}
	return postgres.SentDebit("")
}

// bankOf names the bank a debit or refund was sent to, or "".
func (w *Clearing) bankOf(ctx context.Context, args river.JobArgs) string {
	code, _, _ := postgres.SentState(ctx, w.DB, sentObject(args))
	return code
}

func (w *Clearing) sentAt(ctx context.Context, args river.JobArgs) (time.Time, error) {
	_, t, err := postgres.SentState(ctx, w.DB, sentObject(args))
	if err != nil {
		return time.Time{}, err
	}
	if t == nil {
		return w.now(), nil
	}
	return *t, nil
}

// applyDebit applies a final answer; a conflict becomes an incident, since
// the bank's answer contradicts what the gateway already applied.
func (w *Clearing) applyDebit(ctx context.Context, bankCode, id string, o payment.BankOutcome) error {
	return w.apply(ctx, bankCode, id, func(tx *postgres.Tx) (service.Applied, error) {
		return w.Service.ApplyDebitOutcome(ctx, tx, bankCode, id, o)
	})
}

func (w *Clearing) apply(ctx context.Context, bankCode, id string, fn func(*postgres.Tx) (service.Applied, error)) error {
	err := w.DB.InTx(ctx, func(tx *postgres.Tx) error {
		_, err := fn(tx)
		return err
	})
	var f *fault.Error
	if !errors.As(err, &f) {
		return err // River retries: the bank's answer is asked for again
	}
	// A refusal of a bank's answer that the operator must look at becomes
	// an incident; any other error is retried.
	kind, recorded := incident.KindOf(f.Code)
	if !recorded {
		return err
	}
	return w.Incident(ctx, w.DB, kind, bankCode, id, f.Message, map[string]any{"source": "bank answer"})
}

// CheckDebitWorker asks a bank about a debit on the status schedule.
type CheckDebitWorker struct {
	river.WorkerDefaults[jobargs.CheckDebit]
	*Clearing
}

// Work implements river.Worker.
func (w *CheckDebitWorker) Work(ctx context.Context, job *river.Job[jobargs.CheckDebit]) error {
	a, err := postgres.GetAttempt(ctx, w.DB, job.Args.AttemptID, false)
	if err != nil {
		return err
	}
	if a.Status != payment.OutcomePending {
		return nil
	}
	next := jobargs.CheckDebit{AttemptID: a.ID, N: job.Args.N + 1}
	ans := w.Banks.GetDebit(ctx, a.BankCode, a.ID)
	switch ans.Kind {
	case AnswerFinal:
		return w.applyDebit(ctx, a.BankCode, a.ID, ans.Outcome)
	case AnswerNotSent:
		return river.JobSnooze(w.soon()) // the same check, not the next one
	case AnswerNotFound:
		// Never received: send again with the same key.
		client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
		if err != nil {
			return err
		}
		if _, err := client.Insert(ctx, jobargs.SendDebit{AttemptID: a.ID}, &river.InsertOpts{Queue: jobargs.QueueBanks}); err != nil {
			return err
		}
		return w.scheduleCheck(ctx, next)
	}
	return w.scheduleCheck(ctx, next)
}
