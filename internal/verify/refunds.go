package verify

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
)

// checkRefunds: invariant 5, refunds add up, stay within the amount, and
// each succeeded one (and only those) has its reversing posting.
func (c *checker) checkRefunds(ctx context.Context) error {
	if err := c.checkRefundTotals(ctx); err != nil {
		return err
	}
	if err := c.checkRefundPostings(ctx); err != nil {
		return err
	}
	rows, err := c.tx.Query(ctx, `SELECT t.cause FROM ledger_transactions t
		LEFT JOIN refunds f ON f.id = t.cause
		WHERE t.kind = 'refund_succeeded' AND f.id IS NULL ORDER BY t.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cause string
		if err := rows.Scan(&cause); err != nil {
			return err
		}
		c.violation(InvRefunds, CheckRefundPostingUnfounded, cause, "a refund posting for %s, which is no refund", cause)
	}
	return rows.Err()
}

func (c *checker) checkRefundTotals(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT r.id, r.status, r.amount::text, r.amount_refunded::text,
			coalesce(sum(f.amount) FILTER (WHERE f.status = 'succeeded'), 0)::text,
			coalesce(sum(f.amount) FILTER (WHERE f.status IN ('pending', 'succeeded')), 0)::text,
			count(f.id)
		FROM payment_requests r LEFT JOIN refunds f ON f.payment_request_id = r.id
		WHERE r.amount_refunded <> 0 OR r.status IN ('partially_refunded', 'refunded') OR f.id IS NOT NULL
		GROUP BY r.id ORDER BY r.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var reqID, status string
		var texts [4]string
		var n int64
		if err := rows.Scan(&reqID, &status, &texts[0], &texts[1], &texts[2], &texts[3], &n); err != nil {
			return err
		}
		var v [4]decimal.Decimal
		for i, s := range texts {
			if v[i], err = decimal.NewFromString(s); err != nil {
				return fmt.Errorf("amounts of %s: %w", reqID, err)
			}
		}
		amount, refunded, succeeded, reserved := v[0], v[1], v[2], v[3]
		if !refunded.Equal(succeeded) {
			c.violation(InvRefunds, CheckAmountRefunded, reqID, "amount_refunded %s, succeeded refunds add up to %s", refunded, succeeded)
		}
		if reserved.GreaterThan(amount) {
			c.violation(InvRefunds, CheckRefundsExceed, reqID, "refunds succeeded or pending add up to %s, more than the amount %s", reserved, amount)
		}
		var ok bool
		switch status {
		case "paid":
			ok = refunded.IsZero()
		case "partially_refunded":
			ok = refunded.IsPositive() && refunded.LessThan(amount)
		case "refunded":
			ok = refunded.Equal(amount)
		default:
			ok = refunded.IsZero() && n == 0
		}
		if !ok {
			c.violation(InvRefunds, CheckRefundState, reqID, "a %s request of %s with amount_refunded %s and %d refunds", status, amount, refunded, n)
		}
	}
	return rows.Err()
}

func (c *checker) checkRefundPostings(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT f.id, f.status, f.amount::text, f.bank_code, f.attempt_id,
			r.portal_id, coalesce(r.paid_attempt_id, ''), coalesce(a.bank_code, ''),
			t.id IS NOT NULL, coalesce(t.kind, ''), `+postingsJSON+`
		FROM refunds f
		JOIN payment_requests r ON r.id = f.payment_request_id
		LEFT JOIN payment_attempts a ON a.id = f.attempt_id
		LEFT JOIN ledger_transactions t ON t.cause = f.id
		ORDER BY f.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status, amountText, bank, attemptID, portal, paidAttempt, attemptBank, kind string
		var posted bool
		var postings []byte
		if err := rows.Scan(&id, &status, &amountText, &bank, &attemptID, &portal, &paidAttempt, &attemptBank,
			&posted, &kind, &postings); err != nil {
			return err
		}
		if attemptID != paidAttempt || bank != attemptBank {
			c.violation(InvRefunds, CheckRefundAttempt, id, "refunds attempt %s at %s; the request was paid by %s, debited at %s",
				attemptID, bank, paidAttempt, attemptBank)
		}
		switch {
		case status != "succeeded" && posted:
			c.violation(InvRefunds, CheckRefundPostingUnfounded, id, "a %s refund has a ledger transaction", status)
		case status == "succeeded" && !posted:
			c.violation(InvRefunds, CheckRefundPostingMissing, id, "no ledger transaction for the succeeded refund")
		case status == "succeeded":
			amount, err := decimal.NewFromString(amountText)
			if err != nil {
				return fmt.Errorf("amount of %s: %w", id, err)
			}
			want, err := ledger.RefundSucceeded(id, bank, portal, amount)
			if err != nil {
				c.violation(InvRefunds, CheckRefundPostingMismatch, id, "cannot say what the refund should post: %v", err)
				continue
			}
			if msg, ok := comparePostings(want, kind, postings); !ok {
				c.violation(InvRefunds, CheckRefundPostingMismatch, id, "ledger transaction: %s", msg)
			}
		}
	}
	return rows.Err()
}
