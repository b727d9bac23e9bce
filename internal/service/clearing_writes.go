package service

import (
	"context"

	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
)

// writes is how applying a debit's outcome writes: at once, so that the
// rest of the caller's transaction reads the result, or, with atCommit,
// held back for COMMIT and sent with it (postgres.*AtCommit), for a caller
// that reads none of it again: a bank's callback, whose transaction only
// records the result of its bank event afterwards. An error of a write held
// back fails the commit, and everything is rolled back.
type writes struct{ atCommit bool }

func (w writes) saveAttempt(ctx context.Context, tx *postgres.Tx, a *payment.Attempt) error {
	if w.atCommit {
		return postgres.SaveAttemptAtCommit(ctx, tx, a)
	}
	return postgres.SaveAttempt(ctx, tx, a)
}

func (w writes) postLedger(ctx context.Context, tx *postgres.Tx, t ledger.Transaction) error {
	if w.atCommit {
		return postgres.PostLedgerAtCommit(ctx, tx, t)
	}
	return postgres.PostLedger(ctx, tx, t)
}

func (w writes) saveRequest(ctx context.Context, tx *postgres.Tx, r *payment.Request, readVersion int) error {
	if w.atCommit {
		return postgres.SavePaymentRequestAtCommit(ctx, tx, r, readVersion)
	}
	return postgres.SavePaymentRequest(ctx, tx, r, readVersion)
}

func (w writes) insertEvent(ctx context.Context, tx *postgres.Tx, e postgres.NewEvent) error {
	if w.atCommit {
		return postgres.InsertEventAtCommit(ctx, tx, e)
	}
	return postgres.InsertEvent(ctx, tx, e)
}

func (w writes) insertReceipt(ctx context.Context, tx *postgres.Tx, r *postgres.StoredReceipt, attemptID string) error {
	if w.atCommit {
		return postgres.InsertReceiptAtCommit(ctx, tx, r, attemptID)
	}
	return postgres.InsertReceipt(ctx, tx, r, attemptID)
}

// emitWith is emit, writing through w.
func (s *Service) emitWith(ctx context.Context, tx *postgres.Tx, w writes, typ string, r *payment.Request) error {
	evID, body, err := eventBody(s.PublicURL, typ, r, nil)
	if err != nil {
		return err
	}
	return w.insertEvent(ctx, tx, s.newEvent(tx, evID, typ, r, body))
}
