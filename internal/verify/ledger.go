package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/postgres"
)

// postingsJSON is a subquery giving transaction t's postings as a JSON
// array of [account, direction, amount] (NULL without t).
const postingsJSON = `(SELECT json_agg(json_build_array(p.account, p.direction, p.amount::text) ORDER BY p.id)
	FROM ledger_postings p WHERE p.transaction_id = t.id)`

// checkLedger: invariant 1, every transaction balances and so do the totals.
func (c *checker) checkLedger(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT t.id, t.cause, count(p.id),
			coalesce(sum(p.amount) FILTER (WHERE p.direction = 'debit'), 0)::text,
			coalesce(sum(p.amount) FILTER (WHERE p.direction = 'credit'), 0)::text
		FROM ledger_transactions t LEFT JOIN ledger_postings p ON p.transaction_id = t.id
		GROUP BY t.id
		HAVING count(p.id) = 0
			OR coalesce(sum(p.amount) FILTER (WHERE p.direction = 'debit'), 0)
			   <> coalesce(sum(p.amount) FILTER (WHERE p.direction = 'credit'), 0)
		ORDER BY t.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var cause, debits, credits string
		if err := rows.Scan(&id, &cause, &n, &debits, &credits); err != nil {
			return err
		}
		if n == 0 {
			c.violation(InvLedgerBalances, CheckTransactionUnbalanced, cause, "ledger transaction %d has no postings", id)
			continue
		}
		c.violation(InvLedgerBalances, CheckTransactionUnbalanced, cause,
			"ledger transaction %d debits %s and credits %s", id, debits, credits)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	bs, err := postgres.Balances(ctx, postgres.WrapTx(c.tx))
	if err != nil {
		return err
	}
	for _, b := range bs {
		if _, err := ledger.ParseAccount(string(b.Account)); err != nil {
			c.violation(InvLedgerBalances, CheckAccountUnknown, string(b.Account), "postings on an account that is not bank_clearing:{bank} or portal_payable:{portal}")
		}
	}
	if err := ledger.CheckBalances(bs); errors.Is(err, ledger.ErrUnbalanced) {
		clearing, payable := ledger.Totals(bs)
		c.violation(InvLedgerBalances, CheckTotalsDiffer, "ledger", "all bank_clearing balances sum to %s, all portal_payable balances to %s",
			clearing.String(), payable.String())
	}
	return nil
}

// checkPaid: invariant 2, a paid, partially refunded or refunded request
// has one succeeded attempt and one posting of exactly its amount.
func (c *checker) checkPaid(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT r.id, r.portal_id, r.amount::text, coalesce(r.paid_attempt_id, ''), coalesce(r.paid_bank_code, ''),
			s.n, coalesce(a.id, ''), coalesce(a.bank_code, ''), coalesce(a.amount::text, '0'),
			t.id IS NOT NULL, coalesce(t.kind, ''), `+postingsJSON+`
		FROM payment_requests r
		CROSS JOIN LATERAL (SELECT count(*) AS n FROM payment_attempts WHERE payment_request_id = r.id AND status = 'succeeded') s
		LEFT JOIN LATERAL (SELECT id, bank_code, amount FROM payment_attempts
			WHERE payment_request_id = r.id AND status = 'succeeded' ORDER BY id LIMIT 1) a ON true
		LEFT JOIN ledger_transactions t ON t.cause = a.id
		WHERE r.status IN ('paid', 'partially_refunded', 'refunded')
		ORDER BY r.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var reqID, portal, amountText, paidAttempt, paidBank, attemptID, attemptBank, attemptAmount, kind string
		var n int64
		var posted bool
		var postings []byte
		if err := rows.Scan(&reqID, &portal, &amountText, &paidAttempt, &paidBank, &n, &attemptID, &attemptBank, &attemptAmount,
			&posted, &kind, &postings); err != nil {
			return err
		}
		if n != 1 {
			c.violation(InvPaidPosted, CheckSucceededAttempts, reqID, "%d succeeded attempts, want exactly 1", n)
		}
		if attemptID == "" {
			continue
		}
		amount, err := decimal.NewFromString(amountText)
		if err != nil {
			return fmt.Errorf("amount of %s: %w", reqID, err)
		}
		if paidAttempt != attemptID || paidBank != attemptBank {
			c.violation(InvPaidPosted, CheckPaymentMismatch, reqID, "paid by %s at %s, but the succeeded attempt is %s at %s",
				paidAttempt, paidBank, attemptID, attemptBank)
		}
		if attemptAmount != amountText {
			c.violation(InvPaidPosted, CheckPaymentMismatch, reqID, "attempt %s is for %s, the request for %s", attemptID, attemptAmount, amountText)
		}
		if !posted {
			c.violation(InvPaidPosted, CheckPostingMissing, reqID, "no ledger transaction for attempt %s", attemptID)
			continue
		}
		want, err := ledger.DebitSucceeded(attemptID, attemptBank, portal, amount)
		if err != nil {
			c.violation(InvPaidPosted, CheckPostingMismatch, reqID, "cannot say what attempt %s should post: %v", attemptID, err)
			continue
		}
		if msg, ok := comparePostings(want, kind, postings); !ok {
			c.violation(InvPaidPosted, CheckPostingMismatch, reqID, "ledger transaction for %s: %s", attemptID, msg)
		}
	}
	return rows.Err()
}

// checkUnpaid: invariant 3, requests not paid have no succeeded attempt
// and no posting.
func (c *checker) checkUnpaid(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT r.id, r.status, a.id FROM payment_requests r
		JOIN payment_attempts a ON a.payment_request_id = r.id AND a.status = 'succeeded'
		WHERE r.status IN ('pending', 'processing', 'canceled', 'expired')
		ORDER BY r.id, a.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var reqID, status, attemptID string
		if err := rows.Scan(&reqID, &status, &attemptID); err != nil {
			return err
		}
		c.violation(InvUnpaidUnposted, CheckSucceededUnpaid, reqID, "the request is %s, but attempt %s succeeded", status, attemptID)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	// Every debit posting belongs to a succeeded attempt of a paid request.
	rows, err = c.tx.Query(ctx, `SELECT t.cause, coalesce(a.status, ''), coalesce(r.id, ''), coalesce(r.status, '')
		FROM ledger_transactions t
		LEFT JOIN payment_attempts a ON a.id = t.cause
		LEFT JOIN payment_requests r ON r.id = a.payment_request_id
		WHERE t.kind = 'debit_succeeded'
		  AND (a.id IS NULL OR a.status <> 'succeeded' OR r.status NOT IN ('paid', 'partially_refunded', 'refunded'))
		ORDER BY t.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cause, attemptStatus, reqID, reqStatus string
		if err := rows.Scan(&cause, &attemptStatus, &reqID, &reqStatus); err != nil {
			return err
		}
		if reqID == "" {
			c.violation(InvUnpaidUnposted, CheckPostingUnpaid, cause, "a debit posting for %s, which is no payment attempt", cause)
			continue
		}
		c.violation(InvUnpaidUnposted, CheckPostingUnpaid, reqID, "a debit posting for attempt %s (%s) of a %s request",
			cause, attemptStatus, reqStatus)
	}
	return rows.Err()
}

// checkLiveAndApplied: invariant 4, one live attempt per request and one
// applied callback per object.
func (c *checker) checkLiveAndApplied(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT payment_request_id, string_agg(id || ' ' || status, ', ' ORDER BY id)
		FROM payment_attempts WHERE status IN ('pending', 'succeeded')
		GROUP BY payment_request_id HAVING count(*) > 1 ORDER BY payment_request_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var reqID, attempts string
		if err := rows.Scan(&reqID, &attempts); err != nil {
			return err
		}
		c.violation(InvOneLiveOneApplied, CheckLiveAttempts, reqID, "live attempts: %s", attempts)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = c.tx.Query(ctx, `SELECT object_id, string_agg(type || ' from ' || bank_code || ' event ' || event_id, ', ' ORDER BY received_at, event_id)
		FROM bank_events WHERE result = 'applied' AND object_id IS NOT NULL
		GROUP BY object_id HAVING count(*) > 1 ORDER BY object_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var objectID, events string
		if err := rows.Scan(&objectID, &events); err != nil {
			return err
		}
		c.violation(InvOneLiveOneApplied, CheckAppliedTwice, objectID, "applied more than once: %s", events)
	}
	return rows.Err()
}

// comparePostings says how the stored transaction (kind, postings as
// postingsJSON gives them) differs from want.
func comparePostings(want ledger.Transaction, kind string, raw []byte) (string, bool) {
	got, err := decodePostings(raw)
	if err != nil {
		return "unreadable postings: " + err.Error(), false
	}
	var diffs []string
	if kind != string(want.Kind()) {
		diffs = append(diffs, fmt.Sprintf("kind %s, want %s", kind, want.Kind()))
	}
	if !ledger.SamePostings(got, want.Postings()) {
		diffs = append(diffs, fmt.Sprintf("postings [%s], want [%s]", describePostings(got), describePostings(want.Postings())))
	}
	return strings.Join(diffs, "; "), len(diffs) == 0
}

func decodePostings(raw []byte) ([]ledger.Posting, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var rows [][3]string
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	out := make([]ledger.Posting, len(rows))
	for i, r := range rows {
		amt, err := decimal.NewFromString(r[2])
		if err != nil {
			return nil, err
		}
		out[i] = ledger.Posting{Account: ledger.Account(r[0]), Direction: ledger.Direction(r[1]), Amount: amt}
	}
	return out, nil
}

func describePostings(ps []ledger.Posting) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s %s %s", p.Direction, p.Account, p.Amount.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
