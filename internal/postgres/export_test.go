package postgres

import (
	"context"

	"github.com/citizenpay/gateway/internal/payment"
)

// GroupCreate is one create of a group, for tests of group commit.
type GroupCreate struct {
	Scope, Key string
	Request    *payment.Request
	PID        SealedPID
	Event      NewEvent
}

// WriteGroupForTest writes creates as one group and returns what became of
// each: "committed", "key_taken" or "alone".
func (db *DB) WriteGroupForTest(ctx context.Context, creates []GroupCreate) ([]string, error) {
	items := make([]*groupItem, len(creates))
	for i, c := range creates {
		sql, args, err := paymentRequestInsert(c.Request, c.PID)
		if err != nil {
			return nil, err
		}
		items[i] = &groupItem{scope: c.Scope, key: c.Key, fp: []byte("fp"), status: 201, body: []byte(`{"id":"` + c.Request.ID + `"}`),
			create: &pendingCreate{sql: sql, args: args, requestID: c.Request.ID, event: c.Event}, result: make(chan groupResult, 1)}
	}
	db.commitGroup(items)
	names := map[groupResult]string{groupCommitted: "committed", groupKeyTaken: "key_taken", groupAlone: "alone"}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = names[<-it.result]
	}
	return out, nil
}

// PostLedgerSQL is the posting statement, for tests that send it postings
// PostLedger would refuse before PostgreSQL sees them.
const PostLedgerSQL = postLedgerSQL
