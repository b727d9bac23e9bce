package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
)

// The checks of invariant 9.
const (
	CheckSettlementFigures   = "settlement_figures"   // a closed or settled day's figures ≠ its postings
	CheckSettlementPosting   = "settlement_posting"   // a settled bank share without its one posting, or a wrong one
	CheckSettlementUnfounded = "settlement_unfounded" // a settlement posting of no settled share
)

// settledShare is one bank's part of a settlement, as kept.
type settledShare struct {
	BankCode  string `json:"bank_code"`
	Count     int    `json:"count"`
	Collected string `json:"collected"`
	Refunds   int    `json:"refund_count"`
	Refunded  string `json:"refunded"`
}

// checkSettlements: invariant 9, a closed or settled settlement's figures
// equal the day's debit and refund postings for its portal, by its own
// reading of the ledger, and a settled one has one posting per non-zero
// bank share, of exactly that share.
func (c *checker) checkSettlements(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT s.id, s.portal_id, s.status, s.count, s.refund_count, s.collected::text,
			s.refunded::text, s.banks,
			coalesce((SELECT json_agg(json_build_array(f.bank, f.kind, f.n, f.total::text) ORDER BY f.bank, f.kind) FROM (
				SELECT substr(bp.account, length('bank_clearing:') + 1) AS bank, t.kind, count(*) AS n, sum(bp.amount) AS total
				FROM ledger_transactions t
				JOIN ledger_postings pp ON pp.transaction_id = t.id AND pp.account = 'portal_payable:' || s.portal_id
				JOIN ledger_postings bp ON bp.transaction_id = t.id AND bp.account LIKE 'bank\_clearing:%'
				WHERE t.kind IN ('debit_succeeded', 'refund_succeeded')
					AND t.booked_at >= s.business_date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
					AND t.booked_at < (s.business_date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
				GROUP BY 1, 2) f), '[]')
		FROM settlements s WHERE s.status IN ('closed', 'settled') ORDER BY s.id`)
	if err != nil {
		return err
	}
	type kept struct {
		id, portal, status string
		shares             []settledShare
	}
	var settled []kept
	for rows.Next() {
		var k kept
		var count, refunds int
		var collected, refunded string
		var banks, posted []byte
		if err := rows.Scan(&k.id, &k.portal, &k.status, &count, &refunds, &collected, &refunded, &banks, &posted); err != nil {
			rows.Close()
			return err
		}
		c.count(InvSettlements, "settlements", 1)
		if err := json.Unmarshal(banks, &k.shares); err != nil {
			rows.Close()
			return fmt.Errorf("settlement %s: %w", k.id, err)
		}
		if msg := compareFigures(k.shares, count, refunds, collected, refunded, posted); msg != "" {
			c.violation(InvSettlements, CheckSettlementFigures, k.id, "%s", msg)
		}
		if k.status == "settled" {
			settled = append(settled, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range settled {
		if err := c.checkSettledPostings(ctx, k.id, k.portal, k.shares); err != nil {
			return err
		}
	}
	return c.checkUnfoundedSettlementPostings(ctx)
}

// compareFigures says how a settlement's kept figures differ from the
// postings (rows of [bank, kind, count, total]), or "".
func compareFigures(shares []settledShare, count, refunds int, collected, refunded string, posted []byte) string {
	var rows [][]any
	if err := json.Unmarshal(posted, &rows); err != nil {
		return "its postings cannot be read: " + err.Error()
	}
	type fig struct {
		n, rn int
		c, r  decimal.Decimal
	}
	want := map[string]*fig{}
	for _, row := range rows {
		bank, kind := row[0].(string), row[1].(string)
		n := int(row[2].(float64))
		total, _ := decimal.NewFromString(row[3].(string))
		f := want[bank]
		if f == nil {
			f = &fig{}
			want[bank] = f
		}
		if kind == string(ledger.KindDebitSucceeded) {
			f.n, f.c = n, total
		} else {
			f.rn, f.r = n, total
		}
	}
	var diffs []string
	tn, trn, tc, tr := 0, 0, decimal.Zero, decimal.Zero
	for _, f := range want {
		tn, trn, tc, tr = tn+f.n, trn+f.rn, tc.Add(f.c), tr.Add(f.r)
	}
	kc, _ := decimal.NewFromString(collected)
	kr, _ := decimal.NewFromString(refunded)
	if count != tn || refunds != trn || !kc.Equal(tc) || !kr.Equal(tr) {
		diffs = append(diffs, fmt.Sprintf("keeps %d debits of %s and %d refunds of %s; the ledger's postings of its day are %d of %s and %d of %s",
			count, collected, refunds, refunded, tn, tc.String(), trn, tr.String()))
	}
	seen := map[string]bool{}
	for _, s := range shares {
		if seen[s.BankCode] {
			// Each share would match its postings on its own, but the
			// bank's part would count twice.
			diffs = append(diffs, fmt.Sprintf("bank %s has more than one share", s.BankCode))
			continue
		}
		seen[s.BankCode] = true
		f := want[s.BankCode]
		sc, _ := decimal.NewFromString(s.Collected)
		sr, _ := decimal.NewFromString(s.Refunded)
		if f == nil || f.n != s.Count || f.rn != s.Refunds || !f.c.Equal(sc) || !f.r.Equal(sr) {
			diffs = append(diffs, fmt.Sprintf("bank %s's share differs from its postings", s.BankCode))
		}
	}
	for bank := range want {
		if !seen[bank] {
			diffs = append(diffs, fmt.Sprintf("bank %s has postings that day but no share", bank))
		}
	}
	return strings.Join(diffs, "; ")
}

// checkSettledPostings checks one settled settlement's share postings.
func (c *checker) checkSettledPostings(ctx context.Context, stlID, portal string, shares []settledShare) error {
	for _, s := range shares {
		sc, _ := decimal.NewFromString(s.Collected)
		sr, _ := decimal.NewFromString(s.Refunded)
		net := sc.Sub(sr)
		cause := stlID + ":" + s.BankCode
		var kind string
		var postings []byte
		err := c.tx.QueryRow(ctx, `SELECT t.kind, `+postingsJSON+` FROM ledger_transactions t WHERE t.cause = $1`, cause).
			Scan(&kind, &postings)
		found := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		switch {
		case net.IsZero() && found:
			c.violation(InvSettlements, CheckSettlementPosting, cause, "bank %s's share is zero but has a posting", s.BankCode)
		case net.IsZero():
		case !found:
			c.violation(InvSettlements, CheckSettlementPosting, cause, "settled, but bank %s's share of %s has no posting", s.BankCode, net.String())
		default:
			want, err := ledger.SettlementShare(stlID, s.BankCode, portal, net)
			if err != nil {
				return err
			}
			if msg, ok := comparePostings(want, kind, postings); !ok {
				c.violation(InvSettlements, CheckSettlementPosting, cause, "%s", msg)
			}
		}
	}
	return nil
}

// checkUnfoundedSettlementPostings finds settlement postings that no
// settled settlement's share accounts for.
func (c *checker) checkUnfoundedSettlementPostings(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT t.cause FROM ledger_transactions t
		LEFT JOIN settlements s ON s.id = split_part(t.cause, ':', 1) AND s.status = 'settled'
		WHERE t.kind = 'settlement' AND (s.id IS NULL OR NOT EXISTS (
			SELECT 1 FROM jsonb_array_elements(s.banks) b WHERE b->>'bank_code' = split_part(t.cause, ':', 2)))
		ORDER BY t.cause`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cause string
		if err := rows.Scan(&cause); err != nil {
			return err
		}
		c.violation(InvSettlements, CheckSettlementUnfounded, cause, "a settlement posting of no settled settlement's bank share")
	}
	return rows.Err()
}
