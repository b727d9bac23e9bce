package verify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/postgres"
)

// checkSealed: invariant 7 for what is sealed. Every sealed personal number
// must open under its own binding — its column, its row's id and the blind
// index beside it — so that a ciphertext copied from another row, or a row
// whose index was changed, is found. A legacy value, sealed before values
// were bound, is a violation too: `gatewayctl reseal` binds it.
func (c *checker) checkSealed(ctx context.Context) error {
	if c.opts.PII == nil {
		c.warning(InvNoClearPII, WarnSealedNotChecked, "sealed values",
			"sealed personal numbers were not opened: give GATEWAY_MASTER_KEY to check that each opens under its own row's binding")
		return nil
	}
	for _, col := range postgres.SealedColumns() {
		if err := c.checkSealedColumn(ctx, col); err != nil {
			return fmt.Errorf("%s: %w", col.Label, err)
		}
	}
	return nil
}

func (c *checker) checkSealedColumn(ctx context.Context, col postgres.SealedColumn) error {
	rows, err := c.tx.Query(ctx, col.SelectSealed(c.opts.Schema))
	if err != nil {
		return err
	}
	defer rows.Close()
	var n, legacy, broken int64
	var r postgres.SealedRow
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Index, &r.Sealed}, func() error {
		n++
		// The error names the column and row only, never the value.
		_, old, err := c.opts.PII.Inspect(col.Kind, r.Sealed, col.Binding(r.ID, r.Index))
		where := col.Table + ":" + r.ID
		switch {
		case err != nil:
			broken++
			c.violation(InvNoClearPII, CheckSealedUnopenable, where,
				"%s does not open under its row's binding (copied from another row, altered, or sealed under another key)", col.Sealed)
		case old:
			legacy++
			c.violation(InvNoClearPII, CheckSealedUnbound, where,
				"%s is sealed without its row's binding (legacy): run gatewayctl reseal", col.Sealed)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.count(InvNoClearPII, "sealed values", n)
	c.count(InvNoClearPII, "sealed values unbound", legacy)
	c.count(InvNoClearPII, "sealed values unopenable", broken)
	return nil
}
