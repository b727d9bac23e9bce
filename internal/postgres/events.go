package postgres

import (
	"context"
	"fmt"
	"time"
)

// StoredEvent is an event as kept: its number in the portal's sequence and
// its body exactly as portals receive it.
type StoredEvent struct {
	ID      string
	Seq     int64
	Type    string
	Payload []byte
}

// NewEvent is an event to write: what the webhook and the event feed will
// carry, due for delivery DueIn from now.
type NewEvent struct {
	ID, PortalID, Type string
	Payload            []byte
	At                 time.Time
	DueIn              time.Duration
}

func (e NewEvent) args() []any {
	return []any{e.ID, e.PortalID, e.Type, e.Payload, e.At, e.DueIn.Microseconds()}
}

// InsertEvent writes an event in the transaction of the change it reports.
// Its sequence number comes later, from SequenceEvents.
func InsertEvent(ctx context.Context, tx *Tx, e NewEvent) error {
	if tx.hold {
		return insertEventAtCommit(ctx, tx, e)
	}
	if _, err := tx.conn().Exec(ctx, insertEvent, e.args()...); err != nil {
		return fmt.Errorf("insert event %s: %w", e.ID, err)
	}
	return nil
}

// insertEvent writes an event due for delivery dueIn (microseconds) from
// now: at once, or after the lease of the process that delivers it itself.
const insertEvent = `INSERT INTO events (id, portal_id, type, payload, created_at, next_attempt_at)
	VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 microsecond')`

// SequenceEvents numbers the portal's committed, unnumbered events in the
// order they became visible. It holds the portal's row lock while it works,
// so numbers are given in one order and an event that committed late gets a
// number after every event a poller has already seen.
func SequenceEvents(ctx context.Context, db *DB, portalID string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		var seq int64
		// NO KEY UPDATE: does not block inserts that reference the portal.
		err := tx.conn().QueryRow(ctx, `SELECT event_seq FROM portals WHERE id = $1 FOR NO KEY UPDATE`, portalID).Scan(&seq)
		if err != nil {
			return fmt.Errorf("lock portal %s for sequencing: %w", portalID, err)
		}
		// A new statement: its snapshot sees every sequencing committed
		// before the lock was granted.
		tag, err := tx.conn().Exec(ctx, `UPDATE events e SET seq = $2 + n.rn
			FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn
			      FROM events WHERE portal_id = $1 AND seq IS NULL) n
			WHERE e.id = n.id`, portalID, seq)
		if err != nil {
			return fmt.Errorf("sequence events of %s: %w", portalID, err)
		}
		if n := tag.RowsAffected(); n > 0 {
			if _, err := tx.conn().Exec(ctx, `UPDATE portals SET event_seq = event_seq + $2 WHERE id = $1`, portalID, n); err != nil {
				return fmt.Errorf("advance event sequence of %s: %w", portalID, err)
			}
		}
		return nil
	})
}

// ListEvents returns up to limit of the portal's numbered events after seq.
func ListEvents(ctx context.Context, q Querier, portalID string, after int64, limit int) ([]StoredEvent, error) {
	rows, err := q.conn().Query(ctx, `SELECT id, seq, type, payload FROM events
		WHERE portal_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, portalID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var e StoredEvent
		if err := rows.Scan(&e.ID, &e.Seq, &e.Type, &e.Payload); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
