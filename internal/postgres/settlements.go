package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/settlement"
)

// settleLockClass is the first key of a business day's settlement lock;
// the second is the day's hash.
const settleLockClass = 1_000_613

// LockSettlementDay takes day's settlement lock until tx ends: the runs
// that close a day's settlements follow one another, so that the last bank
// to reconcile a day sees every other bank's result.
func LockSettlementDay(ctx context.Context, tx *Tx, day reconcile.Day) error {
	if _, err := tx.conn().Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, settleLockClass, day.String()); err != nil {
		return fmt.Errorf("lock the settlements of %s: %w", day, err)
	}
	return nil
}

// dayFiguresSQL sums a day's debit and refund postings per portal and bank:
// every succeeded outcome is booked on portal_payable:{portal} and
// bank_clearing:{bank} in one ledger transaction.
const dayFiguresSQL = `SELECT split_part(pp.account, ':', 2), split_part(bp.account, ':', 2), lt.kind, count(*), sum(pp.amount)::text
	FROM ledger_transactions lt
	JOIN ledger_postings pp ON pp.transaction_id = lt.id AND pp.account LIKE 'portal\_payable:%'
	JOIN ledger_postings bp ON bp.transaction_id = lt.id AND bp.account LIKE 'bank\_clearing:%'
	WHERE lt.kind IN ('debit_succeeded', 'refund_succeeded') AND lt.booked_at >= $1 AND lt.booked_at < $2
		AND ($3 = '' OR pp.account = 'portal_payable:' || $3)
	GROUP BY 1, 2, 3 ORDER BY 1, 2`

// DayFigures returns the figures of day for every portal that had
// outcomes that day (or only for portal, if not ""), from the ledger.
func DayFigures(ctx context.Context, q Querier, day reconcile.Day, portal string) (map[string]settlement.Figures, error) {
	rows, err := q.conn().Query(ctx, dayFiguresSQL, day.Start(), day.End(), portal)
	if err != nil {
		return nil, fmt.Errorf("sum the postings of %s: %w", day, err)
	}
	defer rows.Close()
	out := map[string]settlement.Figures{}
	for rows.Next() {
		var p, bank, kind, sum string
		var n int
		if err := rows.Scan(&p, &bank, &kind, &n, &sum); err != nil {
			return nil, fmt.Errorf("sum the postings of %s: %w", day, err)
		}
		amount, err := decimal.NewFromString(sum)
		if err != nil {
			return nil, err
		}
		f := out[p]
		if len(f.Banks) == 0 || f.Banks[len(f.Banks)-1].BankCode != bank {
			f.Banks = append(f.Banks, settlement.Bank{BankCode: bank, Collected: decimal.Zero, Refunded: decimal.Zero})
		}
		b := &f.Banks[len(f.Banks)-1]
		if kind == "debit_succeeded" {
			b.Count, b.Collected = n, amount
		} else {
			b.Refunds, b.Refunded = n, amount
		}
		out[p] = f
	}
	return out, rows.Err()
}

// bankJSON is a settlement's part of one bank as the banks column keeps it.
type bankJSON struct {
	BankCode  string `json:"bank_code"`
	Count     int    `json:"count"`
	Collected string `json:"collected"`
	Refunds   int    `json:"refund_count"`
	Refunded  string `json:"refunded"`
}

const settlementColumns = `id, portal_id, business_date, status, version, banks, coalesce(settled_reference, ''),
	coalesce(settled_by, ''), closed_at, settled_at, created_at, updated_at`

func scanSettlement(row interface{ Scan(...any) error }) (*settlement.Settlement, error) {
	s := &settlement.Settlement{}
	var date time.Time
	var banks []byte
	if err := row.Scan(&s.ID, &s.PortalID, &date, &s.Status, &s.Version, &banks, &s.Reference, &s.SettledBy,
		&s.ClosedAt, &s.SettledAt, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, err
	}
	s.Day = reconcile.DayOfDate(date)
	var bs []bankJSON
	if err := json.Unmarshal(banks, &bs); err != nil {
		return nil, fmt.Errorf("read the banks of settlement %s: %w", s.ID, err)
	}
	for _, b := range bs {
		c, err1 := decimal.NewFromString(b.Collected)
		r, err2 := decimal.NewFromString(b.Refunded)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("settlement %s keeps an amount that is not one", s.ID)
		}
		s.Figures.Banks = append(s.Figures.Banks, settlement.Bank{BankCode: b.BankCode, Count: b.Count, Collected: c,
			Refunds: b.Refunds, Refunded: r})
	}
	return s, nil
}

// EnsureSettlement creates portal's settlement of day, open, unless it
// exists.
func EnsureSettlement(ctx context.Context, tx *Tx, portal string, day reconcile.Day, now time.Time) error {
	if _, err := tx.conn().Exec(ctx, `INSERT INTO settlements (id, portal_id, business_date, status, created_at, updated_at)
		VALUES ($1, $2, $3, 'open', $4, $4) ON CONFLICT (portal_id, business_date) DO NOTHING`,
		id.New(id.Settlement), portal, day.Date(), now); err != nil {
		return fmt.Errorf("create the settlement of %s %s: %w", portal, day, err)
	}
	return nil
}

// SettlementFilter selects settlements: of one portal ("" for all), of one
// day (zero for all), in one state ("" for all), after a position.
type SettlementFilter struct {
	PortalID string
	Day      reconcile.Day
	Status   settlement.Status
	// After is the id the previous page ended at; pages run newest day first.
	AfterDay reconcile.Day
	AfterID  string
	Limit    int
}

// ListSettlements returns the settlements f selects, newest day first.
func ListSettlements(ctx context.Context, q Querier, f SettlementFilter) ([]*settlement.Settlement, error) {
	var day, afterDay *time.Time
	if !f.Day.IsZero() {
		d := f.Day.Date()
		day = &d
	}
	if !f.AfterDay.IsZero() {
		d := f.AfterDay.Date()
		afterDay = &d
	}
	rows, err := q.conn().Query(ctx, `SELECT `+settlementColumns+` FROM settlements
		WHERE ($1 = '' OR portal_id = $1) AND ($2::date IS NULL OR business_date = $2) AND ($3 = '' OR status = $3)
			AND ($4::date IS NULL OR (business_date, id) < ($4, $5))
		ORDER BY business_date DESC, id DESC LIMIT $6`, f.PortalID, day, string(f.Status), afterDay, f.AfterID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list settlements: %w", err)
	}
	defer rows.Close()
	var out []*settlement.Settlement
	for rows.Next() {
		s, err := scanSettlement(rows)
		if err != nil {
			return nil, fmt.Errorf("list settlements: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetSettlement returns settlement stlID (of portal, unless portal is "";
// another portal's is not_found), locked until tx ends when lock is set.
func GetSettlement(ctx context.Context, q Querier, portal, stlID string, lock bool) (*settlement.Settlement, error) {
	sql := `SELECT ` + settlementColumns + ` FROM settlements WHERE id = $1 AND ($2 = '' OR portal_id = $2)`
	if lock {
		sql += ` FOR UPDATE`
	}
	s, err := scanSettlement(q.conn().QueryRow(ctx, sql, stlID, portal))
	if err = interpretError(err, ""); err == errNoRows {
		return nil, fault.New(fault.NotFound, "no settlement %s", stlID)
	}
	if err != nil {
		return nil, fmt.Errorf("read settlement %s: %w", stlID, err)
	}
	return s, nil
}

// OpenSettlements returns day's open settlements, locked until tx ends.
func OpenSettlements(ctx context.Context, tx *Tx, day reconcile.Day) ([]*settlement.Settlement, error) {
	rows, err := tx.conn().Query(ctx, `SELECT `+settlementColumns+` FROM settlements
		WHERE business_date = $1 AND status = 'open' ORDER BY id FOR UPDATE`, day.Date())
	if err != nil {
		return nil, fmt.Errorf("read the open settlements of %s: %w", day, err)
	}
	defer rows.Close()
	var out []*settlement.Settlement
	for rows.Next() {
		s, err := scanSettlement(rows)
		if err != nil {
			return nil, fmt.Errorf("read the open settlements of %s: %w", day, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SaveSettlement writes s's state and figures.
func SaveSettlement(ctx context.Context, tx *Tx, s *settlement.Settlement) error {
	bs := make([]bankJSON, len(s.Figures.Banks))
	for i, b := range s.Figures.Banks {
		bs[i] = bankJSON{BankCode: b.BankCode, Count: b.Count, Collected: money.Format(b.Collected), Refunds: b.Refunds,
			Refunded: money.Format(b.Refunded)}
	}
	banks, err := json.Marshal(bs)
	if err != nil {
		return err
	}
	f := s.Figures
	if _, err := tx.conn().Exec(ctx, `UPDATE settlements SET status = $2, version = $3, count = $4, refund_count = $5,
			collected = $6::numeric, refunded = $7::numeric, banks = $8, settled_reference = nullif($9, ''),
			settled_by = nullif($10, ''), closed_at = $11, settled_at = $12, updated_at = $13
		WHERE id = $1`, s.ID, string(s.Status), s.Version, f.Count(), f.RefundCount(), f.Collected().String(),
		f.Refunded().String(), banks, s.Reference, s.SettledBy, s.ClosedAt, s.SettledAt, s.UpdatedAt); err != nil {
		return fmt.Errorf("save settlement %s: %w", s.ID, err)
	}
	return nil
}

// SettlementLine is one debit or refund of a settlement's day.
type SettlementLine struct {
	Type          string
	ID            string
	RequestID     string
	DossierCode   string
	Amount        decimal.Decimal
	BookedAt      time.Time
	BankCode      string
	BankReference string
}

// SettlementLines returns up to limit of portal's debits and refunds
// booked on day, in booking order after (booked, id) of the last line of
// the page before (zero time for the first page).
func SettlementLines(ctx context.Context, q Querier, portal string, day reconcile.Day, afterAt time.Time, afterID string, limit int) ([]SettlementLine, error) {
	rows, err := q.conn().Query(ctx, `SELECT CASE lt.kind WHEN 'debit_succeeded' THEN 'debit' ELSE 'refund' END, lt.cause,
			r.id, r.dossier_code, o.amount::text, lt.booked_at, o.bank_code, coalesce(o.bank_reference, '')
		FROM ledger_transactions lt
		JOIN (SELECT id, payment_request_id, amount, bank_code, bank_reference FROM payment_attempts
			UNION ALL SELECT id, payment_request_id, amount, bank_code, bank_reference FROM refunds) o ON o.id = lt.cause
		JOIN payment_requests r ON r.id = o.payment_request_id AND r.portal_id = $1
		WHERE lt.kind IN ('debit_succeeded', 'refund_succeeded') AND lt.booked_at >= $2 AND lt.booked_at < $3
			AND (lt.booked_at, lt.cause) > ($4, $5)
		ORDER BY lt.booked_at, lt.cause LIMIT $6`, portal, day.Start(), day.End(), afterAt, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read the lines of %s %s: %w", portal, day, err)
	}
	defer rows.Close()
	var out []SettlementLine
	for rows.Next() {
		var l SettlementLine
		var amount string
		if err := rows.Scan(&l.Type, &l.ID, &l.RequestID, &l.DossierCode, &amount, &l.BookedAt, &l.BankCode, &l.BankReference); err != nil {
			return nil, fmt.Errorf("read the lines of %s %s: %w", portal, day, err)
		}
		if l.Amount, err = decimal.NewFromString(amount); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
