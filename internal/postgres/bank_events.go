package postgres

import (
	"context"
	"fmt"

	"github.com/citizenpay/gateway/internal/pgtx"
)

// BankEvent is a bank's callback as kept: the raw body as evidence (it
// carries no personal data), and what the gateway made of it.
type BankEvent struct {
	BankCode string
	EventID  string
	Type     string
	ObjectID string
	Result   string // applied, duplicate, or the code of the refusal
	Body     []byte
}

// ResultProcessing marks a bank event whose transaction has not decided yet;
// it is never seen committed.
const ResultProcessing = "processing"

// ClaimBankEvent inserts e with result processing as the first statement of
// the transaction that applies it. It reports false when (bank, event id)
// is already recorded: a concurrent duplicate waits here on the primary key
// until the first transaction ends, then finds its result.
func ClaimBankEvent(ctx context.Context, tx *Tx, e BankEvent) (bool, error) {
	tag, err := tx.conn().Exec(ctx, `INSERT INTO bank_events (bank_code, event_id, type, object_id, result, body)
		VALUES ($1, $2, $3, nullif($4, ''), $5, $6) ON CONFLICT DO NOTHING`,
		e.BankCode, e.EventID, e.Type, e.ObjectID, ResultProcessing, e.Body)
	if err != nil {
		return false, fmt.Errorf("record bank event %s/%s: %w", e.BankCode, e.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetBankEventResult records what applying a claimed event came to. It is
// the transaction's last write and nothing reads its result, so on a pgtx
// transaction it goes out with COMMIT (one round trip fewer); an error then
// fails the commit and rolls everything back.
func SetBankEventResult(ctx context.Context, tx *Tx, bankCode, eventID, result string) error {
	if err := pgtx.DeferUntilCommit(ctx, tx.tx, `UPDATE bank_events SET result = $3 WHERE bank_code = $1 AND event_id = $2`,
		bankCode, eventID, result); err != nil {
		return fmt.Errorf("record result of bank event %s/%s: %w", bankCode, eventID, err)
	}
	return nil
}

// BankEventResult returns the recorded result of (bank, event id), or ""
// when there is none.
func BankEventResult(ctx context.Context, q Querier, bankCode, eventID string) (string, error) {
	var result string
	err := q.conn().QueryRow(ctx, `SELECT result FROM bank_events WHERE bank_code = $1 AND event_id = $2`,
		bankCode, eventID).Scan(&result)
	err = interpretError(err, "")
	if err == errNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read bank event %s/%s: %w", bankCode, eventID, err)
	}
	return result, nil
}
