package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/statement"
)

// StatementSource fetches a bank's statement of a business day
// (bankclient.Clients): it streams the body into w and returns its content
// type, or a *bankclient.NotReadyError while the bank has none yet.
type StatementSource interface {
	FetchStatement(ctx context.Context, bankCode, date string, w io.Writer) (string, error)
}

// Reconciler checks each bank's day against its statement (PROTOCOL.md
// §12) and then brings the day's settlements up to date.
//
// A run holds the (bank, day)'s lock in PostgreSQL, so two runs of a day
// never overlap in any gateway process. It spools the statement to a
// temporary file, reads it once through to the end to check its form —
// nothing is applied from a statement that does not read — and then again
// in batches of BatchSize lines, each compared with the gateway's view in
// one round trip: memory stays bounded whatever the day's size.
type Reconciler struct {
	Service    *Service
	Statements StatementSource
	// TempDir holds statements while they are read ("" is os.TempDir).
	TempDir string
	// BatchSize is how many lines are compared at a time (0: 500).
	BatchSize int
	Log       *slog.Logger
}

// Run is what one run came to: the result as stored, and while the
// statement is not ready, how long the bank asked the gateway to wait.
type Run struct {
	Result     reconcile.Result
	RetryAfter time.Duration
}

// Reconcile runs bank's day now. It returns an error only when the run
// could not be made (an unknown bank, a day that has not begun, PostgreSQL
// away); a statement that cannot be fetched or read is a run whose result
// is unavailable, with the reason.
func (rc *Reconciler) Reconcile(ctx context.Context, bank string, day reconcile.Day) (Run, error) {
	s := rc.Service
	if err := rc.checkBank(ctx, bank); err != nil {
		return Run{}, err
	}
	if now := s.now(); now.Before(day.Start()) {
		return Run{}, fault.Field(fault.ValidationFailed, "date", fmt.Sprintf("%s has not begun (it is %s in Asia/Ho_Chi_Minh)",
			day, reconcile.DayOf(now)))
	}
	release, err := s.DB.LockReconciliation(ctx, bank, day)
	if err != nil {
		return Run{}, err
	}
	defer release()
	rcnID, err := postgres.ReconciliationID(ctx, s.DB, bank, day, s.now())
	if err != nil {
		return Run{}, err
	}
	f, contentType, retry, ferr := rc.fetch(ctx, bank, day)
	if f != nil {
		defer os.Remove(f.Name())
		defer f.Close()
	}
	if ferr == nil {
		ferr = checkForm(f, contentType, day)
	}
	if ferr != nil {
		if ctx.Err() != nil {
			return Run{}, ctx.Err()
		}
		return rc.unavailable(ctx, rcnID, bank, day, ferr, retry)
	}
	tally, err := rc.compare(ctx, rcnID, bank, day, f, contentType)
	if err != nil {
		return Run{}, err
	}
	if err := rc.missing(ctx, bank, day); err != nil {
		return Run{}, err
	}
	if _, err := postgres.SaveReconciliation(ctx, s.DB, reconcile.Result{BankCode: bank, Day: day,
		Status: reconcile.StatusMatched, Tally: tally}, s.now()); err != nil {
		return Run{}, err
	}
	res, err := postgres.SettleReconciliationStatus(ctx, s.DB, rcnID)
	if err != nil {
		return Run{}, err
	}
	rc.log().Info("reconciled", "bank", bank, "date", day.String(), "status", res.Status, "lines", tally.Lines,
		"matched", tally.Matched, "applied", tally.Applied, "differences", tally.Differences)
	if err := s.RefreshSettlements(ctx, day); err != nil {
		return Run{}, fmt.Errorf("refresh the settlements of %s: %w", day, err)
	}
	return Run{Result: res}, nil
}

func (rc *Reconciler) log() *slog.Logger {
	if rc.Log != nil {
		return rc.Log
	}
	return slog.Default()
}

func (rc *Reconciler) checkBank(ctx context.Context, bank string) error {
	codes, err := postgres.BankCodes(ctx, rc.Service.DB)
	if err != nil {
		return err
	}
	for _, c := range codes {
		if c == bank {
			return nil
		}
	}
	return fault.New(fault.NotFound, "no bank %q is onboarded", bank)
}

// fetch spools bank's statement of day to a temporary file, rewound.
func (rc *Reconciler) fetch(ctx context.Context, bank string, day reconcile.Day) (*os.File, string, time.Duration, error) {
	f, err := os.CreateTemp(rc.TempDir, "statement-*")
	if err != nil {
		return nil, "", 0, fmt.Errorf("spool the statement: %w", err)
	}
	ct, err := rc.Statements.FetchStatement(ctx, bank, day.String(), f)
	if err != nil {
		var nr *bankclient.NotReadyError
		if errors.As(err, &nr) {
			return f, "", nr.RetryAfter, err
		}
		return f, "", 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return f, "", 0, fmt.Errorf("rewind the statement: %w", err)
	}
	return f, ct, 0, nil
}

// checkForm reads the whole statement once, to the end, and rewinds it.
func checkForm(f *os.File, contentType string, day reconcile.Day) error {
	r, err := statement.NewReader(f, contentType, day.String())
	if err != nil {
		return err
	}
	for {
		if _, err := r.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// unavailable records a run that could not read the statement: the last
// complete run's counts stand, and once the statement has been unavailable
// for a day of trying, the operator gets one incident.
func (rc *Reconciler) unavailable(ctx context.Context, rcnID, bank string, day reconcile.Day, cause error, retry time.Duration) (Run, error) {
	s := rc.Service
	reason := incident.MaskText(cause.Error())
	if len(reason) > 500 {
		reason = reason[:500]
	}
	res, err := postgres.SaveReconciliation(ctx, s.DB, reconcile.Result{BankCode: bank, Day: day,
		Status: reconcile.StatusUnavailable, Reason: reason}, s.now())
	if err != nil {
		return Run{}, err
	}
	since, err := postgres.UnavailableSince(ctx, s.DB, bank, day)
	if err != nil {
		return Run{}, err
	}
	if !since.IsZero() && s.now().Sub(since) >= reconcile.UnavailableIncidentAfter {
		d := postgres.Difference{Key: "statement_unavailable", Incident: incident.KindStatementUnavailable,
			Summary: fmt.Sprintf("bank %s's statement of %s has been unavailable since %s: %s", bank, day,
				since.UTC().Format(time.RFC3339), reason),
			Evidence: map[string]any{"bank_code": bank, "date": day.String(), "since": since.UTC().Format(time.RFC3339), "reason": reason}}
		if _, err := postgres.RecordDifferences(ctx, s.DB, rcnID, bank, []postgres.Difference{d}, s.now()); err != nil {
			return Run{}, err
		}
	}
	rc.log().Warn("statement unavailable", "bank", bank, "date", day.String(), "reason", reason)
	return Run{Result: res, RetryAfter: retry}, nil
}

func (rc *Reconciler) batchSize() int {
	if rc.BatchSize > 0 {
		return rc.BatchSize
	}
	return 500
}

// compare reads the statement again, batch by batch, and settles each
// line: matched, applied, or a difference recorded once.
func (rc *Reconciler) compare(ctx context.Context, rcnID, bank string, day reconcile.Day, f io.Reader, contentType string) (reconcile.Tally, error) {
	tally := reconcile.Tally{}
	r, err := statement.NewReader(f, contentType, day.String())
	if err != nil {
		return tally, err
	}
	batch := make([]reconcile.Line, 0, rc.batchSize())
	for {
		l, err := r.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return tally, err
		}
		if err == nil {
			batch = append(batch, l)
		}
		if len(batch) == cap(batch) || (errors.Is(err, io.EOF) && len(batch) > 0) {
			if err := rc.compareBatch(ctx, rcnID, bank, day, batch, &tally); err != nil {
				return tally, err
			}
			batch = batch[:0]
		}
		if errors.Is(err, io.EOF) {
			return tally, nil
		}
	}
}

func (rc *Reconciler) compareBatch(ctx context.Context, rcnID, bank string, day reconcile.Day, lines []reconcile.Line, tally *reconcile.Tally) error {
	s := rc.Service
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.ID
	}
	views, priors, err := postgres.GatewayViews(ctx, s.DB, bank, ids)
	if err != nil {
		return err
	}
	var matches []postgres.Match
	var diffs []postgres.Difference
	for _, l := range lines {
		v := views[l.ID]
		var prior *reconcile.Prior
		if p, ok := priors[l.ID]; ok {
			prior = &p
		}
		d := reconcile.Decide(bank, day, l, v, prior)
		if d.Verdict == reconcile.VerdictApply {
			if d, err = rc.apply(ctx, bank, day, l, v); err != nil {
				return err
			}
		}
		tally.Add(l, d)
		switch {
		case d.Verdict == reconcile.VerdictMatched && prior == nil:
			matches = append(matches, postgres.Match{ObjectID: l.ID, BankReference: l.BankReference})
			// A second line of the same batch for this id is a second line.
			priors[l.ID] = reconcile.Prior{Day: day, BankReference: l.BankReference}
		case d.Verdict == reconcile.VerdictApply:
			priors[l.ID] = reconcile.Prior{Day: day, BankReference: l.BankReference, Applied: true}
		case d.Verdict == reconcile.VerdictDifference:
			diffs = append(diffs, difference(d, l, v, day))
		}
	}
	return s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		if err := postgres.SaveMatches(ctx, tx, bank, day, matches, s.now()); err != nil {
			return err
		}
		_, err := postgres.RecordDifferences(ctx, tx, rcnID, bank, diffs, s.now())
		return err
	})
}

// apply takes line l as the bank's word on an outcome the gateway still
// waits for: applied exactly as its callback would be (the posting, the
// event, the receipt), and matched to l in the same transaction. A word the
// gateway refuses (the request was paid by another attempt meanwhile) is a
// difference.
func (rc *Reconciler) apply(ctx context.Context, bank string, day reconcile.Day, l reconcile.Line, v reconcile.View) (reconcile.Decision, error) {
	s := rc.Service
	o := payment.BankOutcome{Succeeded: true, Amount: l.Amount, Currency: l.Currency, BankReference: l.BankReference}
	var result Applied
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		if l.Type == reconcile.TypeDebit {
			result, err = s.ApplyDebitOutcome(ctx, tx, bank, l.ID, o)
		} else {
			result, err = s.ApplyRefundOutcome(ctx, tx, bank, l.ID, o)
		}
		if err != nil {
			return err
		}
		return postgres.SaveMatches(ctx, tx, bank, day, []postgres.Match{{ObjectID: l.ID, BankReference: l.BankReference,
			Applied: result == ResultApplied}}, s.now())
	})
	if f, ok := fault.As(err); ok && f.Code != fault.Internal {
		return reconcile.Decision{Verdict: reconcile.VerdictDifference, Kind: reconcile.FailedAtGateway,
			Summary: fmt.Sprintf("bank %s's statement of %s books %s %s, which the gateway could not apply: %s", bank, day,
				l.Type, l.ID, f.Message)}, nil
	}
	if err != nil {
		return reconcile.Decision{}, fmt.Errorf("apply %s from the statement: %w", l.ID, err)
	}
	return reconcile.Decision{Verdict: reconcile.VerdictApply, Applied: result == ResultApplied}, nil
}

// difference is d's record: the line and the gateway's view as evidence.
func difference(d reconcile.Decision, l reconcile.Line, v reconcile.View, day reconcile.Day) postgres.Difference {
	line := map[string]any{"n": l.N, "type": l.Type, "id": incident.MaskText(l.ID), "amount": money.Format(l.Amount), "currency": l.Currency,
		"reversed": l.Reversed, "booked_at": l.BookedAt.UTC().Format(time.RFC3339),
		"bank_reference": incident.MaskText(l.BankReference)}
	gateway := map[string]any{"found": v.Found}
	if v.Found {
		gateway = map[string]any{"found": true, "type": v.Type, "status": v.Status, "amount": money.Format(v.Amount),
			"currency": v.Currency, "payment_request_id": v.RequestID}
		if !v.BookedAt.IsZero() {
			gateway["booked_at"] = v.BookedAt.UTC().Format(time.RFC3339)
		}
	}
	objectID := ""
	if id.HasPrefix(l.ID, id.PaymentAttempt) || id.HasPrefix(l.ID, id.Refund) {
		objectID = l.ID
	}
	return postgres.Difference{Key: reconcile.Key(d, l), ObjectID: incident.MaskText(objectID), Summary: incident.MaskText(d.Summary),
		Evidence: map[string]any{"difference": string(d.Kind), "date": day.String(), "line": line, "gateway": gateway}}
}

// missing records the gateway's succeeded outcomes that no statement of
// their day or the next lists, each as a difference of the day it was
// booked on, once both statements have been read: those of the day
// before, once that day has been read, and this day's own once the next
// day has been. A day that gains a difference this way is told so, and so
// are its settlements.
func (rc *Reconciler) missing(ctx context.Context, bank string, day reconcile.Day) error {
	s := rc.Service
	for _, booked := range []reconcile.Day{day.Add(-1), day} {
		other := booked
		if booked == day {
			other = day.Add(1)
		}
		read := true
		for _, d := range []reconcile.Day{booked, other} {
			if d == day {
				continue
			}
			prev, err := postgres.GetReconciliation(ctx, s.DB, bank, d)
			if fault.Is(err, fault.NotFound) || (err == nil && prev.Status == reconcile.StatusUnavailable) {
				read = false // that statement has not been read: the outcome may be on it
			} else if err != nil {
				return err
			}
		}
		if !read {
			continue
		}
		rcnID, err := postgres.ReconciliationID(ctx, s.DB, bank, booked, s.now())
		if err != nil {
			return err
		}
		added := 0
		for after := ""; ; {
			outs, err := postgres.UnmatchedOutcomes(ctx, s.DB, bank, booked, after, rc.batchSize())
			if err != nil {
				return err
			}
			if len(outs) == 0 {
				break
			}
			diffs := make([]postgres.Difference, len(outs))
			for i, o := range outs {
				d := reconcile.Missing(bank, o.Type, o.ID, booked)
				l := reconcile.Line{Type: o.Type, ID: o.ID, Amount: o.Amount, Currency: o.Currency}
				diffs[i] = postgres.Difference{Key: reconcile.Key(d, l), ObjectID: o.ID, Summary: d.Summary,
					Evidence: map[string]any{"difference": string(d.Kind), "date": booked.String(), "gateway": map[string]any{
						"type": o.Type, "id": o.ID, "status": reconcile.OutcomeSucceeded, "amount": money.Format(o.Amount),
						"currency": o.Currency, "booked_at": o.BookedAt.UTC().Format(time.RFC3339)}}}
			}
			n, err := postgres.RecordDifferences(ctx, s.DB, rcnID, bank, diffs, s.now())
			if err != nil {
				return err
			}
			added += n
			after = outs[len(outs)-1].ID
		}
		if added > 0 && booked != day {
			if _, err := postgres.SettleReconciliationStatus(ctx, s.DB, rcnID); err != nil {
				return err
			}
			if err := s.RefreshSettlements(ctx, booked); err != nil {
				return err
			}
		}
	}
	return nil
}
