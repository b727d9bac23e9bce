package postgres

import (
	"context"
	"fmt"

	"github.com/citizenpay/gateway/internal/fault"
)

// returnOriginsColumn reads a portal's return origins with its row, sorted
// bytewise (as portal.ReturnOrigins sorts them),
// as an empty array when it has none.
const returnOriginsColumn = `ARRAY(SELECT o.origin FROM portal_return_origins o WHERE o.portal_id = portals.id ORDER BY o.origin COLLATE "C") AS return_origins`

func insertReturnOrigins(ctx context.Context, tx *Tx, portalID string, origins []string) error {
	if len(origins) == 0 {
		return nil
	}
	_, err := tx.conn().Exec(ctx, `INSERT INTO portal_return_origins (portal_id, origin)
		SELECT $1, o FROM unnest($2::text[]) AS o ON CONFLICT DO NOTHING`, portalID, origins)
	if err != nil {
		return fmt.Errorf("insert return origins of portal %s: %w", portalID, err)
	}
	return nil
}

// SetReturnOrigins replaces the return origins of the portal named by id or
// key id with origins (already normalised: portal.ReturnOrigins) and returns
// its id and the set now stored, or a not_found fault.
func (s *PortalStore) SetReturnOrigins(ctx context.Context, id string, origins []string) (string, []string, error) {
	var portalID string
	var stored []string
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var keyID string
		err := interpretError(tx.conn().QueryRow(ctx, `SELECT id, key_id FROM portals WHERE id = $1 OR key_id = $1 FOR UPDATE`, id).Scan(&portalID, &keyID), "")
		if err == errNoRows {
			return fault.New(fault.NotFound, "no portal %s", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.conn().Exec(ctx, `DELETE FROM portal_return_origins WHERE portal_id = $1`, portalID); err != nil {
			return fmt.Errorf("clear return origins of portal %s: %w", portalID, err)
		}
		if err := insertReturnOrigins(ctx, tx, portalID, origins); err != nil {
			return err
		}
		if _, err := tx.conn().Exec(ctx, `UPDATE portals SET updated_at = now() WHERE id = $1`, portalID); err != nil {
			return fmt.Errorf("touch portal %s: %w", portalID, err)
		}
		if stored, err = ReturnOrigins(ctx, tx, portalID); err != nil {
			return err
		}
		// Caches of the portal by key id forget it and read the new set.
		return notifyKeyChange(ctx, tx, KeyPortal, keyID)
	})
	return portalID, stored, err
}

// ReturnOrigins returns the return origins of portal portalID as q sees
// them, sorted; none is an empty slice. Creating a payment request reads
// them here, in its own transaction, rather than from a cached portal: a set
// just replaced applies at once.
func ReturnOrigins(ctx context.Context, q Querier, portalID string) ([]string, error) {
	var out []string
	err := q.conn().QueryRow(ctx, `SELECT ARRAY(SELECT origin FROM portal_return_origins WHERE portal_id = $1 ORDER BY origin COLLATE "C")`, portalID).Scan(&out)
	if err != nil {
		return nil, fmt.Errorf("read return origins of portal %s: %w", portalID, err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
