package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/pii"
)

// The labels that bind a sealed personal number to its column
// (pii.Binding.Column). They are part of every stored ciphertext's aad, so
// they never change, even if a table or column is renamed.
const (
	labelCitizenPID    = "citizens.pid"
	labelRequestPID    = "payment_requests.citizen_pid"
	labelAccountNumber = "linked_accounts.account"
)

// sealedSelectColumns reads a SealedRow: id, then index and sealed columns.
const sealedSelectColumns = "id, %[1]s, %[2]s"

// CitizenPIDBinding binds a citizen's sealed pid to their row.
func CitizenPIDBinding(citizenID string, index []byte) pii.Binding {
	return pii.Binding{Column: labelCitizenPID, RowID: citizenID, Index: index}
}

// RequestPIDBinding binds the sealed pid of a payment request to its row.
func RequestPIDBinding(requestID string, index []byte) pii.Binding {
	return pii.Binding{Column: labelRequestPID, RowID: requestID, Index: index}
}

// AccountNumberBinding binds a linked account's sealed number to its row.
func AccountNumberBinding(accountID string, index []byte) pii.Binding {
	return pii.Binding{Column: labelAccountNumber, RowID: accountID, Index: index}
}

// SealedColumn is a column of sealed personal numbers, with the blind index
// stored beside it in the same row: what re-sealing and verifying walk.
type SealedColumn struct {
	Label  string // the binding's column label
	Table  string
	Index  string // the column of the blind index
	Sealed string // the column of the ciphertext
	Kind   pii.Kind
}

// Binding returns the binding of the value in the row with id and index.
func (c SealedColumn) Binding(id string, index []byte) pii.Binding {
	return pii.Binding{Column: c.Label, RowID: id, Index: index}
}

// SealedColumns lists every column holding sealed personal numbers. (Holder
// names in linked_accounts.holder_name_sealed are sealed apart, bound to
// their account's id from the start.)
func SealedColumns() []SealedColumn {
	return []SealedColumn{
		{Label: labelCitizenPID, Table: "citizens", Index: "pid_index", Sealed: "pid_sealed", Kind: pii.KindPID},
		{Label: labelRequestPID, Table: "payment_requests", Index: "citizen_pid_index", Sealed: "citizen_pid_sealed", Kind: pii.KindPID},
		{Label: labelAccountNumber, Table: "linked_accounts", Index: "account_index", Sealed: "account_sealed", Kind: pii.KindAccount},
	}
}

// SealedRow is one row's sealed value with what binds it.
type SealedRow struct {
	ID     string
	Index  []byte
	Sealed []byte
}

// SelectSealed returns the query that reads every row of c as a SealedRow,
// by id, in schema.
func (c SealedColumn) SelectSealed(schema string) string {
	return `SELECT ` + fmt.Sprintf(sealedSelectColumns, pgx.Identifier{c.Index}.Sanitize(), pgx.Identifier{c.Sealed}.Sanitize()) +
		` FROM ` + pgx.Identifier{schema, c.Table}.Sanitize() + ` ORDER BY id`
}

// legacyFilter selects the values not sealed with their binding yet.
func (c SealedColumn) legacyFilter() string {
	return fmt.Sprintf(`substring(%s FROM 1 FOR 1) <> '\x%02x'::bytea`, pgx.Identifier{c.Sealed}.Sanitize(), pii.BoundVersion)
}

// ResealBatch re-seals the next rows of c after the id after whose value is
// not yet bound to its row, at most limit of them, in one short
// transaction. Rows a gateway holds locked are skipped, not waited for (a
// later run takes them); each update is conditional on the ciphertext read,
// so a concurrent write is never overwritten. reseal returns a row's new
// ciphertext, or nil to leave the row as it is. ResealBatch returns the
// last id it read ("" when there were no rows left), how many rows it read
// and how many it changed.
func ResealBatch(ctx context.Context, db *DB, c SealedColumn, after string, limit int,
	reseal func(SealedRow) []byte) (last string, read, changed int, err error) {
	table := pgx.Identifier{c.Table}.Sanitize()
	sealed := pgx.Identifier{c.Sealed}.Sanitize()
	err = db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.conn().Query(ctx, `SELECT `+fmt.Sprintf(sealedSelectColumns, pgx.Identifier{c.Index}.Sanitize(), sealed)+
			` FROM `+table+` WHERE id > $1 AND `+c.legacyFilter()+` ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, after, limit)
		if err != nil {
			return err
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SealedRow, error) {
			var s SealedRow
			return s, r.Scan(&s.ID, &s.Index, &s.Sealed)
		})
		if err != nil {
			return err
		}
		var ids []string
		var olds, news [][]byte
		for _, r := range batch {
			last = r.ID
			if v := reseal(r); v != nil {
				ids, olds, news = append(ids, r.ID), append(olds, r.Sealed), append(news, v)
			}
		}
		read = len(batch)
		if len(ids) == 0 {
			return nil
		}
		tag, err := tx.conn().Exec(ctx, `UPDATE `+table+` AS t SET `+sealed+` = v.new
			FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS v(id, old, new)
			WHERE t.id = v.id AND t.`+sealed+` = v.old`, ids, olds, news)
		changed = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return "", 0, 0, fmt.Errorf("reseal %s after %q: %w", c.Label, after, err)
	}
	return last, read, changed, nil
}

// CountLegacySealed counts the values of c not yet bound to their row.
func CountLegacySealed(ctx context.Context, q Querier, c SealedColumn) (int64, error) {
	var n int64
	err := q.conn().QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{c.Table}.Sanitize()+` WHERE `+c.legacyFilter()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count legacy sealed %s: %w", c.Label, err)
	}
	return n, nil
}
