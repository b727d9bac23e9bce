package postgres

import (
	"context"
	"fmt"
	"time"
)

// BankSummary is what an operator lists of a bank: no secret, so listing
// needs no master key.
type BankSummary struct {
	Code    string
	Name    string
	BaseURL string
	// PreviousSecretExpires is when the previous secret stops verifying
	// callbacks, nil when none is kept.
	PreviousSecretExpires *time.Time
	CreatedAt             time.Time
}

// ListBanks returns every bank without its secrets, by code.
func ListBanks(ctx context.Context, q Querier) ([]BankSummary, error) {
	rows, err := q.conn().Query(ctx, `SELECT code, name, base_url,
		CASE WHEN previous_secret_sealed IS NOT NULL THEN previous_secret_expires_at END, created_at FROM banks ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	defer rows.Close()
	var out []BankSummary
	for rows.Next() {
		var b BankSummary
		if err := rows.Scan(&b.Code, &b.Name, &b.BaseURL, &b.PreviousSecretExpires, &b.CreatedAt); err != nil {
			return nil, fmt.Errorf("list banks: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	return out, nil
}
