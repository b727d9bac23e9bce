package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/payment"
)

// InsertPaymentRequest writes r with its first event e in tx, in one round
// trip; in a transaction begun with BeginAtCommit both are held back for
// CommitClaimed, which writes them with the commit, alone or with other
// creates (group commit). A live
// request for the same dossier is refused with duplicate_dossier, from
// here or, when held back, from the commit (OnCommitError).
func InsertPaymentRequest(ctx context.Context, tx *Tx, r *payment.Request, pid SealedPID, e NewEvent) error {
	sql, args, err := paymentRequestInsert(r, pid)
	if err != nil {
		return err
	}
	if tx.hold && tx.create == nil {
		tx.create = &pendingCreate{sql: sql, args: args, requestID: r.ID, event: e}
		tx.OnCommitError(func(err error) error {
			if refusal := interpretError(err, r.DossierCode); isRefusal(refusal) {
				return refusal
			}
			return err
		})
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	b.Queue(insertEvent, e.args()...)
	br := tx.conn().SendBatch(ctx, b)
	_, err = br.Exec()
	if err = interpretError(err, r.DossierCode); err != nil {
		err = refusalOr(err, fmt.Errorf("insert payment request %s: %w", r.ID, err))
	} else if _, err = br.Exec(); err != nil {
		err = fmt.Errorf("insert event %s: %w", e.ID, err)
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("insert payment request %s: %w", r.ID, cerr)
	}
	return err
}

func paymentRequestInsert(r *payment.Request, pid SealedPID) (string, []any, error) {
	items, err := toDBItems(r.Items)
	if err != nil {
		return "", nil, err
	}
	meta, err := json.Marshal(r.Metadata)
	if err != nil {
		return "", nil, err
	}
	return `INSERT INTO payment_requests (id, portal_id, status, version, citizen_pid_index, citizen_pid_sealed,
		citizen_pid_masked, dossier_code, service_code, description, items, amount, currency, amount_refunded, metadata,
		expires_at, created_at, updated_at, return_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		[]any{r.ID, r.PortalID, r.Status, r.Version, pid.Index, pid.Sealed, r.CitizenPIDMasked, r.DossierCode, r.ServiceCode,
			r.Description, items, r.Amount, r.Currency, r.AmountRefunded, meta, r.ExpiresAt, r.CreatedAt, r.UpdatedAt,
			toDBText(r.ReturnURL)}, nil
}
