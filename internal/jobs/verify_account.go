package jobs

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/account"
	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/service"
)

// bankWorkers bounds the calls to banks one process makes at once.
const bankWorkers = 50

// VerifyAccountWorker sends an account's verification to its bank and
// applies a final answer. The bank's 202 waits for the callback, asking
// again (the same Idempotency-Key returns the outcome as it stands) from
// PollAfter on; an unknown outcome is retried with backoff, and an open
// circuit waits for it to close. It never gives up by itself: the account
// leaves pending_verification by the bank's word or by the timeout job.
// Its arguments carry the account id only.
type VerifyAccountWorker struct {
	river.WorkerDefaults[jobargs.VerifyAccount]
	Citizens *service.Citizens
	Banks    *bankclient.Clients
	// PollAfter is how long after the first send a bank that accepted
	// without calling back is asked again (BANK_CALLBACK_TIMEOUT).
	PollAfter time.Duration
	// Cooldown is how long to wait while the bank's circuit is open.
	Cooldown time.Duration
	Log      *slog.Logger
}

// Timeout bounds one run: the client's attempts and their backoff.
func (w *VerifyAccountWorker) Timeout(*river.Job[jobargs.VerifyAccount]) time.Duration {
	return 2 * time.Minute
}

// Work implements river.Worker.
func (w *VerifyAccountWorker) Work(ctx context.Context, job *river.Job[jobargs.VerifyAccount]) error {
	o, err := w.Citizens.NextVerification(ctx, job.Args.AccountID)
	if err != nil || o == nil {
		return err
	}
	if w.Banks.Open(o.BankCode) {
		return river.JobSnooze(jitter(w.Cooldown))
	}
	if err := w.Citizens.MarkSent(ctx, o); err != nil {
		return err
	}
	res := w.Banks.VerifyAccount(ctx, o.BankCode, bankclient.Verification{
		VerificationID: o.VerificationID, AccountNumber: o.AccountNumber, HolderPID: o.HolderPID, HolderName: o.HolderName,
	})
	elapsed := time.Since(o.SentAt)
	switch res.Outcome {
	case bankclient.Succeeded:
		return w.Citizens.ApplyVerificationAnswer(ctx, o.BankCode, o.VerificationID, account.OutcomeSucceeded, "")
	case bankclient.Failed:
		return w.Citizens.ApplyVerificationAnswer(ctx, o.BankCode, o.VerificationID, account.OutcomeFailed, res.ReasonCode)
	case bankclient.Pending:
		if elapsed < w.PollAfter {
			return river.JobSnooze(w.PollAfter - elapsed)
		}
		return river.JobSnooze(retryDelay(elapsed, w.PollAfter, time.Hour))
	}
	if errors.Is(res.Err, bankclient.ErrCircuitOpen) {
		return river.JobSnooze(jitter(w.Cooldown))
	}
	if errors.Is(res.Err, bankclient.ErrBusy) {
		return river.JobSnooze(jitter(time.Second)) // nothing was sent: soon again
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w.Log.Warn("account verification outcome unknown; will ask again", "account_id", o.AccountID,
		"bank_code", o.BankCode, "attempts", res.Attempts, "error", res.Err)
	return river.JobSnooze(retryDelay(elapsed, time.Second, 5*time.Minute))
}

// retryDelay is a quarter of the time spent since the first send, between
// lo and hi, jittered: quick retries at first, rarer ones as the outage
// lasts, without counting attempts anywhere.
func retryDelay(elapsed, lo, hi time.Duration) time.Duration {
	return jitter(min(max(elapsed/4, lo), hi))
}

// jitter shortens d by up to a quarter at random, so that jobs that failed
// together do not come back together.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - rand.N(d/4+1)
}

// ExpireVerificationWorker rejects, with bank_timeout, an account whose bank
// has not answered by the end of the verification timeout.
type ExpireVerificationWorker struct {
	river.WorkerDefaults[jobargs.ExpireVerification]
	Citizens *service.Citizens
}

// Work implements river.Worker.
func (w *ExpireVerificationWorker) Work(ctx context.Context, job *river.Job[jobargs.ExpireVerification]) error {
	return w.Citizens.ExpireVerification(ctx, job.Args.AccountID)
}

// addAccountWorkers registers the account verification workers when the
// citizen service is wired.
func addAccountWorkers(workers *river.Workers, c Config) {
	if c.Citizens == nil {
		return
	}
	w := &VerifyAccountWorker{
		Citizens: c.Citizens, Banks: c.BankClients, PollAfter: c.BankCallbackTimeout, Cooldown: c.BankBreakerCooldown,
		Log: c.Log.With("component", "verify_account"),
	}
	if w.PollAfter <= 0 {
		w.PollAfter = 90 * time.Second
	}
	if w.Cooldown <= 0 {
		w.Cooldown = bankclient.DefaultBreakerCooldown
	}
	river.AddWorker(workers, w)
	river.AddWorker(workers, &ExpireVerificationWorker{Citizens: c.Citizens})
}
