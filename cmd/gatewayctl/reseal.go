package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
)

// resealCount is what reseal did to one column, and what is left.
type resealCount struct {
	Column string `json:"column"`
	// Resealed counts the legacy values now bound to their row.
	Resealed int `json:"resealed"`
	// Unopenable counts the legacy values left as they are because they do
	// not open, or are not the value of their row's index (copied from
	// another row): verify reports them.
	Unopenable int `json:"unopenable"`
	// Remaining counts the values of the column still unbound after the
	// run: the unopenable ones, rows a gateway held locked, rows written
	// meanwhile by an older gateway.
	Remaining int64 `json:"remaining"`
}

// reseal binds every legacy sealed personal number to its row (PROTOCOL.md
// §2): it opens each with the old aad, checks it against its row's blind
// index and seals it again with its binding.
//
//	reseal [--batch 500]
//
// Each batch of rows is its own short transaction, skipping rows a gateway
// holds locked and updating a row only if its ciphertext is still the one
// read, so the gateway keeps serving meanwhile. It may be stopped and run
// again at any time: only values still unbound are read. A JSON line per
// batch goes to stderr; the counts per column go to stdout. It succeeds
// when nothing is left unbound.
func (e env) reseal(args []string) error {
	fs := newFlags("reseal")
	batch := fs.Int("batch", 500, "rows per transaction")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *batch < 1 || *batch > 10000 {
		return errUsage
	}
	db, k, _, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := resealAll(e.ctx, db, pii.NewProtector(k), *batch, func(c resealCount, after string) {
		line, _ := json.Marshal(map[string]any{"column": c.Column, "after": after, "resealed": c.Resealed, "unopenable": c.Unopenable})
		fmt.Fprintf(e.stderr, "%s\n", line)
	})
	if err != nil {
		return err
	}
	complete := true
	for _, c := range counts {
		complete = complete && c.Remaining == 0
	}
	if err := e.printJSON(map[string]any{"columns": counts, "complete": complete}); err != nil {
		return err
	}
	if !complete {
		fmt.Fprintln(e.stderr, "gatewayctl reseal: some values are still unbound; run it again, and see gatewayctl verify for those that do not open")
		return errExit
	}
	return nil
}

// resealAll re-seals every sealed column in batches of batch rows, calling
// progress after each batch.
func resealAll(ctx context.Context, db *postgres.DB, p *pii.Protector, batch int,
	progress func(c resealCount, after string)) ([]resealCount, error) {
	var out []resealCount
	for _, col := range postgres.SealedColumns() {
		c := resealCount{Column: col.Label}
		reseal := func(r postgres.SealedRow) []byte {
			b := col.Binding(r.ID, r.Index)
			v, legacy, err := p.Inspect(col.Kind, r.Sealed, b)
			switch {
			case err != nil:
				c.Unopenable++
				return nil
			case !legacy:
				return nil
			}
			return p.Seal(col.Kind, v, b)
		}
		for after := ""; ; {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("reseal stopped in %s after %q: %w", col.Label, after, err)
			}
			last, read, changed, err := postgres.ResealBatch(ctx, db, col, after, batch, reseal)
			if err != nil {
				return nil, err
			}
			c.Resealed += changed
			if read == 0 {
				break
			}
			after = last
			progress(c, after)
		}
		n, err := postgres.CountLegacySealed(ctx, db, col)
		if err != nil {
			return nil, err
		}
		c.Remaining = n
		out = append(out, c)
	}
	return out, nil
}
