package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/payment"
)

// itemRow is an item as stored in the items column.
type itemRow struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Amount      string `json:"amount"`
}

func toDBItems(items []payment.Item) ([]byte, error) {
	rows := make([]itemRow, len(items))
	for i, it := range items {
		rows[i] = itemRow{Code: it.Code, Description: it.Description, Amount: it.Amount.StringFixed(0)}
	}
	return json.Marshal(rows)
}

func toBusItems(raw []byte) ([]payment.Item, error) {
	var rows []itemRow
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	out := make([]payment.Item, len(rows))
	for i, r := range rows {
		amt, err := decimal.NewFromString(r.Amount)
		if err != nil {
			return nil, err
		}
		out[i] = payment.Item{Code: r.Code, Description: r.Description, Amount: amt}
	}
	return out, nil
}

// SealedPID is a personal ID number as stored: blind index and ciphertext.
type SealedPID struct {
	Index  []byte
	Sealed []byte
}

const requestColumns = `id, portal_id, status, version, citizen_pid_masked, dossier_code, service_code, description,
	items, amount, currency, amount_refunded, metadata, expires_at, created_at, updated_at,
	paid_attempt_id, paid_bank_code, paid_bank_reference, paid_at, return_url,
	(SELECT rc.id FROM receipts rc WHERE rc.payment_request_id = payment_requests.id) AS receipt_id`

func scanRequest(row pgx.Row) (*payment.Request, error) {
	var r payment.Request
	var items, meta []byte
	var attempt, bank, ref, returnURL, receiptID *string
	var paidAt *time.Time
	if err := row.Scan(&r.ID, &r.PortalID, &r.Status, &r.Version, &r.CitizenPIDMasked, &r.DossierCode, &r.ServiceCode,
		&r.Description, &items, &r.Amount, &r.Currency, &r.AmountRefunded, &meta, &r.ExpiresAt, &r.CreatedAt, &r.UpdatedAt,
		&attempt, &bank, &ref, &paidAt, &returnURL, &receiptID); err != nil {
		return nil, err
	}
	r.ReturnURL = deref(returnURL)
	var err error
	if r.Items, err = toBusItems(items); err != nil {
		return nil, fmt.Errorf("payment request %s items: %w", r.ID, err)
	}
	if err := json.Unmarshal(meta, &r.Metadata); err != nil {
		return nil, fmt.Errorf("payment request %s metadata: %w", r.ID, err)
	}
	if attempt != nil {
		r.Payment = &payment.Payment{AttemptID: *attempt, BankCode: deref(bank), BankReference: deref(ref), ReceiptID: deref(receiptID)}
		if paidAt != nil {
			r.Payment.PaidAt = *paidAt
		}
	}
	return &r, nil
}

// toDBText is s, or NULL for "".
func toDBText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func notFound(what, id string) error { return fault.New(fault.NotFound, "no %s %s", what, id) }

// ErrNoScope is returned for a scoped look-up given no portal and no
// citizen (or both): it is a bug in the caller, never a caller's mistake.
var ErrNoScope = errors.New("payment request look-up needs exactly one of a portal or a citizen scope")

// scopeWhere is the condition that keeps a look-up within s (payment.Scope:
// exactly one of a portal or a citizen). The gateway's own changes of any
// request use LockPaymentRequestUnscoped instead, so that reading everything
// is never an accident.
func scopeWhere(s payment.Scope, args *[]any) (string, error) {
	switch hasPortal, hasCitizen := s.PortalID != "", len(s.CitizenPIDIdx) > 0; {
	case hasPortal && !hasCitizen:
		*args = append(*args, s.PortalID)
		return fmt.Sprintf("portal_id = $%d", len(*args)), nil
	case hasCitizen && !hasPortal:
		*args = append(*args, s.CitizenPIDIdx)
		return fmt.Sprintf("citizen_pid_index = $%d", len(*args)), nil
	}
	return "", ErrNoScope
}

// GetPaymentRequest returns the request id within scope, or not_found.
func GetPaymentRequest(ctx context.Context, q Querier, scope payment.Scope, id string) (*payment.Request, error) {
	args := []any{id}
	cond, err := scopeWhere(scope, &args)
	if err != nil {
		return nil, fmt.Errorf("get payment request %s: %w", id, err)
	}
	r, err := scanRequest(q.conn().QueryRow(ctx, `SELECT `+requestColumns+` FROM payment_requests WHERE id = $1 AND `+cond, args...))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, notFound("payment request", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get payment request %s: %w", id, err)
	}
	return r, nil
}

// LiveRequestForDossier returns the id of portalID's live (pending or
// processing) request for dossier, or "" when there is none: the request a
// duplicate_dossier refusal names.
func LiveRequestForDossier(ctx context.Context, q Querier, portalID, dossier string) (string, error) {
	var id string
	err := interpretError(q.conn().QueryRow(ctx, `SELECT id FROM payment_requests
		WHERE portal_id = $1 AND dossier_code = $2 AND status IN ('pending', 'processing')`, portalID, dossier).Scan(&id), "")
	if err == errNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find the live request of dossier %s: %w", dossier, err)
	}
	return id, nil
}

// ListPaymentRequests returns up to f.Limit requests within f, newest first
// by id, and whether more follow. f.Before is a position in that order alone,
// whatever the other conditions: the next page of a filtered list is the same
// filter with the last id as Before. For a caller that keeps requests by id
// and version (a request changes only with its version), a row whose version
// known reports is not decoded; known may be nil.
func ListPaymentRequests(ctx context.Context, q Querier, f payment.Filter, known func(id string, version int) bool) ([]payment.Listed, bool, error) {
	var args []any
	cond, err := scopeWhere(f.Scope, &args)
	if err != nil {
		return nil, false, fmt.Errorf("list payment requests: %w", err)
	}
	conds := []string{cond}
	if f.Status != "" {
		args = append(args, f.Status)
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	if f.DossierCode != "" {
		args = append(args, f.DossierCode)
		conds = append(conds, fmt.Sprintf("dossier_code = $%d", len(args)))
	}
	for _, r := range []struct {
		column string
		span   payment.TimeRange
	}{{"created_at", f.Created}, {"updated_at", f.Updated}, {"paid_at", f.Paid}} {
		conds = rangeWhere(conds, &args, r.column, r.span)
	}
	if f.Before != "" {
		args = append(args, f.Before)
		conds = append(conds, fmt.Sprintf("id < $%d", len(args)))
	}
	args = append(args, f.Limit+1)
	// The page's ids and versions first; then the rows the caller does not
	// know, whole. A row changed in between is listed as it is by then.
	rows, err := q.conn().Query(ctx, `SELECT id, version FROM payment_requests WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("list payment requests: %w", err)
	}
	var out []payment.Listed
	for rows.Next() {
		var l payment.Listed
		if err := rows.Scan(&l.ID, &l.Version); err != nil {
			rows.Close()
			return nil, false, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list payment requests: %w", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	var missing []string
	for _, l := range out {
		if known == nil || !known(l.ID, l.Version) {
			missing = append(missing, l.ID)
		}
	}
	if len(missing) == 0 {
		return out, more, nil
	}
	rows, err = q.conn().Query(ctx, `SELECT `+requestColumns+` FROM payment_requests WHERE id = ANY($1)`, missing)
	if err != nil {
		return nil, false, fmt.Errorf("list payment requests: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]*payment.Request, len(missing))
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, false, err
		}
		byID[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list payment requests: %w", err)
	}
	for i := range out {
		if r, ok := byID[out[i].ID]; ok {
			out[i].Request, out[i].Version = r, r.Version
		}
	}
	return out, more, nil
}

// rangeWhere adds to conds the conditions that keep column within r: at or
// after r.From, before r.To (a NULL column is in no bounded range). The ends
// are rounded up to the microsecond, timestamptz's precision: a stored time
// is at or after a finer From exactly when it is at or after From rounded up
// (pgx would truncate, letting in the microsecond before From), and likewise
// before To.
func rangeWhere(conds []string, args *[]any, column string, r payment.TimeRange) []string {
	if r.From != nil {
		*args = append(*args, ceilMicrosecond(*r.From))
		conds = append(conds, fmt.Sprintf("%s >= $%d", column, len(*args)))
	}
	if r.To != nil {
		*args = append(*args, ceilMicrosecond(*r.To))
		conds = append(conds, fmt.Sprintf("%s < $%d", column, len(*args)))
	}
	return conds
}

// ceilMicrosecond is the first microsecond at or after t.
func ceilMicrosecond(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); !u.Equal(t) {
		return u.Add(time.Microsecond)
	}
	return t
}

// LockPaymentRequest reads the request id within scope FOR UPDATE, so that
// of two racing changes one waits and then sees the other's result.
func LockPaymentRequest(ctx context.Context, tx *Tx, scope payment.Scope, id string) (*payment.Request, error) {
	args := []any{id}
	cond, err := scopeWhere(scope, &args)
	if err != nil {
		return nil, fmt.Errorf("lock payment request %s: %w", id, err)
	}
	return lockRequest(ctx, tx, id, cond, args)
}

// LockPaymentRequestUnscoped reads any request id FOR UPDATE, whichever
// portal or citizen it belongs to: for the gateway's own changes (expiry, a
// bank's outcome, the operator's tools), never on behalf of a portal or a
// citizen, whose calls go through LockPaymentRequest with their scope.
func LockPaymentRequestUnscoped(ctx context.Context, tx *Tx, id string) (*payment.Request, error) {
	return lockRequest(ctx, tx, id, "true", []any{id})
}

// lockRequest locks request id ($1 of args) where cond also holds.
func lockRequest(ctx context.Context, tx *Tx, id, cond string, args []any) (*payment.Request, error) {
	r, err := scanRequest(tx.conn().QueryRow(ctx, `SELECT `+requestColumns+` FROM payment_requests WHERE id = $1 AND `+cond+` FOR UPDATE`, args...))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, notFound("payment request", id)
	}
	if err != nil {
		return nil, fmt.Errorf("lock payment request %s: %w", id, err)
	}
	return r, nil
}

// SavePaymentRequest writes r's mutable fields. It is conditional on the
// version r was read at, so a change made without the lock cannot win.
func SavePaymentRequest(ctx context.Context, tx *Tx, r *payment.Request, readVersion int) error {
	if tx.hold {
		return savePaymentRequestAtCommit(ctx, tx, r, readVersion)
	}
	args, err := requestSaveArgs(r, readVersion)
	if err != nil {
		return err
	}
	tag, err := tx.conn().Exec(ctx, `UPDATE payment_requests SET status = $3, version = $4, amount_refunded = $5,
		paid_attempt_id = $6, paid_bank_code = $7, paid_bank_reference = $8, paid_at = $9, updated_at = $10
		WHERE id = $1 AND version = $2`, args...)
	if err != nil {
		return fmt.Errorf("save payment request %s: %w", r.ID, err)
	}
	if tag.RowsAffected() != 1 {
		return fault.New(fault.InvalidState, "payment request %s changed meanwhile", r.ID)
	}
	return nil
}

// requestSaveArgs are the arguments of a request's save: $1 id, $2 the
// version read, then the mutable fields.
func requestSaveArgs(r *payment.Request, readVersion int) ([]any, error) {
	if r.Version != readVersion+1 {
		// Every change is a new version: caches of a request's answer are
		// keyed by it.
		return nil, fmt.Errorf("save payment request %s: version %d after %d", r.ID, r.Version, readVersion)
	}
	var attempt, bank, ref *string
	var paidAt *time.Time
	if p := r.Payment; p != nil {
		attempt, bank, ref, paidAt = &p.AttemptID, &p.BankCode, &p.BankReference, &p.PaidAt
	}
	return []any{r.ID, readVersion, r.Status, r.Version, r.AmountRefunded, attempt, bank, ref, paidAt, r.UpdatedAt}, nil
}

// DuePaymentRequests returns the ids of pending requests past their expiry,
// skipping those another worker holds.
func DuePaymentRequests(ctx context.Context, tx *Tx, now time.Time, limit int) ([]string, error) {
	rows, err := tx.conn().Query(ctx, `SELECT id FROM payment_requests WHERE status = 'pending' AND expires_at <= $1
		ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("find due payment requests: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CountByStatus counts the payment requests in each status.
func CountByStatus(ctx context.Context, q Querier) (map[payment.Status]int64, error) {
	rows, err := q.conn().Query(ctx, `SELECT status, count(*) FROM payment_requests GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count payment requests: %w", err)
	}
	defer rows.Close()
	out := map[payment.Status]int64{}
	for rows.Next() {
		var st payment.Status
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count payment requests: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}
