package postgres

import (
	"context"
	"fmt"

	"github.com/citizenpay/gateway/internal/payment"
)

// The hosted checkout (PROTOCOL.md §10) reads a request before it knows who
// is looking: the summary page shows it to whoever holds the link, and after
// sign-in the page must tell "addressed to someone else" (403) from "no such
// request" (404). These reads serve it and nothing else.

// GetCheckoutRequest returns request id, whoever it is addressed to, with the
// blind index of the addressed citizen's pid, or not_found. The caller
// compares the index with the signed-in citizen's; it never shows it.
func GetCheckoutRequest(ctx context.Context, q Querier, id string) (*payment.Request, []byte, error) {
	row := q.conn().QueryRow(ctx, `SELECT `+requestColumns+`, citizen_pid_index FROM payment_requests WHERE id = $1`, id)
	var idx []byte
	r, err := scanRequestWith(row, &idx)
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, nil, notFound("payment request", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get checkout request %s: %w", id, err)
	}
	return r, idx, nil
}

// LatestAttempt returns the newest attempt at paying request id, or nil when
// none was made.
func LatestAttempt(ctx context.Context, q Querier, requestID string) (*payment.Attempt, error) {
	a, err := scanAttempt(q.conn().QueryRow(ctx, `SELECT `+attemptColumns+` FROM payment_attempts
		WHERE payment_request_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, requestID))
	err = interpretError(err, "")
	if err == errNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest attempt of %s: %w", requestID, err)
	}
	return a, nil
}

// extraRow scans a request's columns followed by more.
type extraRow struct {
	row  interface{ Scan(dest ...any) error }
	more []any
}

// Scan implements pgx.Row, appending the extra destinations.
func (e extraRow) Scan(dest ...any) error { return e.row.Scan(append(dest, e.more...)...) }

// scanRequestWith scans a request row that has more columns after the
// request's own, into more.
func scanRequestWith(row interface{ Scan(dest ...any) error }, more ...any) (*payment.Request, error) {
	return scanRequest(extraRow{row: row, more: more})
}
