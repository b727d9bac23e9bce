package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/wire"
)

// checkReceipts: invariant 8. Every paid (or since refunded) request has
// exactly one receipt (UNIQUE holds "at most"), of its amount and portal;
// each portal's receipts of a year are numbered 1..N without gaps or
// repeats, and its counter stands at N; every receipt's JWS verifies with
// the published keys (revoked ones excluded) and signs what its row and its
// request say.
func (c *checker) checkReceipts(ctx context.Context) error {
	if err := c.checkReceiptPresence(ctx); err != nil {
		return err
	}
	if err := c.checkReceiptNumbering(ctx); err != nil {
		return err
	}
	return c.checkReceiptSignatures(ctx)
}

func (c *checker) checkReceiptPresence(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT p.id, coalesce(r.id, ''), p.status,
			coalesce(r.amount = p.amount AND r.portal_id = p.portal_id, false)
		FROM payment_requests p FULL JOIN receipts r ON r.payment_request_id = p.id
		WHERE (p.status IN ('paid', 'partially_refunded', 'refunded')) IS DISTINCT FROM (r.id IS NOT NULL)
			OR r.amount <> p.amount OR r.portal_id <> p.portal_id
		ORDER BY p.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var reqID, rcID, status string
		var same bool
		if err := rows.Scan(&reqID, &rcID, &status, &same); err != nil {
			return err
		}
		switch {
		case rcID == "":
			c.violation(InvReceipts, CheckReceiptMissing, reqID, "the request is %s but has no receipt", status)
		case !same:
			c.violation(InvReceipts, CheckReceiptUnfounded, rcID, "receipt of %s: another amount or portal than the request's", reqID)
		default:
			c.violation(InvReceipts, CheckReceiptUnfounded, rcID, "receipt of %s, which is %s", reqID, status)
		}
	}
	return rows.Err()
}

func (c *checker) checkReceiptNumbering(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT coalesce(r.portal_id, k.portal_id), coalesce(r.year, k.year),
			coalesce(r.n, 0), coalesce(r.lo, 0), coalesce(r.hi, 0), coalesce(r.distinct_n, 0), coalesce(k.last_seq, 0)
		FROM (SELECT portal_id, year, count(*) AS n, min(seq) AS lo, max(seq) AS hi, count(DISTINCT seq) AS distinct_n
		      FROM receipts GROUP BY portal_id, year) r
		FULL JOIN receipt_counters k ON k.portal_id = r.portal_id AND k.year = r.year
		WHERE r.n IS NULL OR k.last_seq IS NULL OR r.lo <> 1 OR r.hi <> r.n OR r.distinct_n <> r.n OR k.last_seq <> r.hi`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var portalID string
		var year int
		var n, lo, hi, distinct, last int64
		if err := rows.Scan(&portalID, &year, &n, &lo, &hi, &distinct, &last); err != nil {
			return err
		}
		c.violation(InvReceipts, CheckReceiptNumbering, fmt.Sprintf("%s:%d", portalID, year),
			"%d receipts numbered %d..%d (%d distinct), counter at %d: want 1..N without gaps, counter at N", n, lo, hi, distinct, last)
	}
	return rows.Err()
}

// receiptRow is what a receipt's row and its request say, to compare with
// what its JWS signs.
type receiptRow struct {
	id, reqID, portalID, number, kid, pidMasked, bankRef string
	amount                                               decimal.Decimal
	sealed                                               []byte
	paidAt, issuedAt                                     time.Time
}

func (c *checker) checkReceiptSignatures(ctx context.Context) error {
	if c.opts.OpenReceipt == nil {
		c.warning(InvReceipts, WarnReceiptsNotChecked, "receipts", "no master key given: receipts' signatures not checked")
		return nil
	}
	jwks, err := c.publishedReceiptKeys(ctx)
	if err != nil {
		return err
	}
	rows, err := c.tx.Query(ctx, `SELECT r.id, r.payment_request_id, r.portal_id, r.number, r.kid, p.citizen_pid_masked,
			coalesce(p.paid_bank_reference, ''), r.amount, r.jws_sealed, coalesce(p.paid_at, 'epoch'), r.issued_at
		FROM receipts r JOIN payment_requests p ON p.id = r.payment_request_id ORDER BY r.id`)
	if err != nil {
		return err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (receiptRow, error) {
		var r receiptRow
		return r, row.Scan(&r.id, &r.reqID, &r.portalID, &r.number, &r.kid, &r.pidMasked, &r.bankRef, &r.amount, &r.sealed, &r.paidAt, &r.issuedAt)
	})
	if err != nil {
		return err
	}
	c.count(InvReceipts, "receipts", int64(len(list)))
	for _, r := range list {
		jws, err := c.opts.OpenReceipt(r.id, r.sealed)
		if err != nil {
			c.violation(InvReceipts, CheckReceiptSignature, r.id, "the sealed JWS does not open: %v", err)
			continue
		}
		signed, kid, err := receipt.Verify(jws, jwks)
		if err != nil {
			c.violation(InvReceipts, CheckReceiptSignature, r.id, "%v", err)
			continue
		}
		if d := r.differs(signed, kid); d != "" {
			c.violation(InvReceipts, CheckReceiptDiffers, r.id, "%s", d)
		}
	}
	return nil
}

// differs says what the signed receipt gets wrong about its row and request.
func (r receiptRow) differs(s receipt.Receipt, kid string) string {
	for _, f := range []struct{ what, signed, stored string }{
		{"id", s.ID, r.id}, {"payment_request_id", s.PaymentRequestID, r.reqID}, {"portal", s.Portal.ID, r.portalID},
		{"number", s.Number, r.number}, {"kid", kid, r.kid}, {"pid_masked", s.Payer.PIDMasked, r.pidMasked},
		{"bank_reference", s.BankReference, r.bankRef}, {"amount", s.Amount, money.Format(r.amount)},
		{"paid_at", s.PaidAt, wire.Time(r.paidAt)}, {"issued_at", s.IssuedAt, wire.Time(r.issuedAt)},
	} {
		if f.signed != f.stored {
			return fmt.Sprintf("signed %s %q, stored %q", f.what, f.signed, f.stored)
		}
	}
	return ""
}

// publishedReceiptKeys is the JWKS the gateway serves: every key not revoked.
func (c *checker) publishedReceiptKeys(ctx context.Context) ([]byte, error) {
	rows, err := c.tx.Query(ctx, `SELECT public_key FROM receipt_keys WHERE revoked_at IS NULL ORDER BY created_at, kid`)
	if err != nil {
		return nil, err
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, err
	}
	keys := make([]receipt.PublicKey, 0, len(raws))
	for _, raw := range raws {
		k, err := receipt.NewPublicKey(raw)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return receipt.JWKS(keys...)
}
