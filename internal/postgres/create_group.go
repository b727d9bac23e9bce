package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Creates that arrive while earlier ones are being written are written
// together: one transaction, one multi-row statement for their idempotency
// records, requests and events, one COMMIT, where each alone would cost a
// transaction of its own. Nothing waits on a timer: a create that finds a
// committer free is written at once, alone, so latency at low load is that
// of a single create; under load the creates queue behind the busy
// committers and go in the next group. This is group commit, as PostgreSQL
// does it for WAL flushes and fast ledgers do it for transfers.
const (
	groupCommitters = 4  // groups in flight at once
	groupMax        = 64 // creates in one group
	groupTimeout    = 10 * time.Second
)

// pendingCreate is a payment request with its first event, held back in a
// transaction begun with BeginAtCommit (InsertPaymentRequest).
type pendingCreate struct {
	sql       string // the single-row insert, for a create written alone
	args      []any
	requestID string
	event     NewEvent
}

// groupItem is one create in a group: its key's record and its rows.
type groupItem struct {
	scope, key string
	fp         []byte
	status     int
	body       []byte
	create     *pendingCreate
	result     chan groupResult
}

// groupResult is what became of one create of a group.
type groupResult int

const (
	groupCommitted groupResult = iota + 1 // written, committed
	groupKeyTaken                         // the key already had a record: nothing written
	groupAlone                            // not written: write it alone for its own answer
)

// createGroup gathers creates for group commit.
type createGroup struct {
	mu      sync.Mutex
	pending []*groupItem
	running int
	// groups and creates count the groups written and the creates in them.
	groups, creates atomic.Int64
}

// GroupCommits reports how many groups of creates this store has written
// and how many creates they held: their ratio is the mean group size.
func (db *DB) GroupCommits() (groups, creates int64) {
	return db.group.groups.Load(), db.group.creates.Load()
}

// submit writes it in a group and returns what became of it.
func (db *DB) submit(it *groupItem) groupResult {
	g := &db.group
	it.result = make(chan groupResult, 1)
	g.mu.Lock()
	g.pending = append(g.pending, it)
	if g.running < groupCommitters {
		g.running++
		go db.commitGroups()
	}
	g.mu.Unlock()
	return <-it.result
}

// commitGroups writes groups until none is waiting.
func (db *DB) commitGroups() {
	g := &db.group
	for {
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		n := min(len(g.pending), groupMax)
		batch := make([]*groupItem, n)
		copy(batch, g.pending)
		g.pending = g.pending[n:]
		g.mu.Unlock()
		db.commitGroup(batch)
	}
}

// commitGroup writes batch in one transaction and answers each create.
func (db *DB) commitGroup(batch []*groupItem) {
	// A key twice in one group would join its rows to the other's record:
	// the later copy is written alone, where it finds the key taken.
	seen := make(map[[2]string]bool, len(batch))
	group := batch[:0:0]
	for _, it := range batch {
		k := [2]string{it.scope, it.key}
		if seen[k] {
			it.result <- groupAlone
			continue
		}
		seen[k] = true
		group = append(group, it)
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	db.group.groups.Add(1)
	db.group.creates.Add(int64(len(group)))
	if len(group) == 1 {
		group[0].result <- db.writeOne(ctx, group[0])
		return
	}
	results, err := db.writeGroup(ctx, group)
	for i, it := range group {
		if err != nil {
			it.result <- groupAlone
		} else {
			it.result <- results[i]
		}
	}
}

// groupSQL inserts a group's records, then the requests whose record went
// in, then the events of the requests that went in; a key or a live dossier
// already taken (committed, or by a concurrent transaction, waited for)
// skips its rows without aborting the others. It returns the keys and the
// requests written.
const groupSQL = `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[], $5::bytea[], $6::text[]) AS i(scope, key, fp, status, body, request_id)
), rec AS (
	INSERT INTO idempotency_records (scope, key, fingerprint, response_status, response_body)
	SELECT scope, key, fp, status, body FROM input
	ON CONFLICT DO NOTHING
	RETURNING scope, key
), req AS (
	INSERT INTO payment_requests (id, portal_id, status, version, citizen_pid_index, citizen_pid_sealed,
		citizen_pid_masked, dossier_code, service_code, description, items, amount, currency, amount_refunded, metadata,
		expires_at, created_at, updated_at, return_url)
	SELECT r.id, r.portal_id, r.status, r.version, r.pid_index, r.pid_sealed, r.pid_masked, r.dossier_code, r.service_code,
		r.description, r.items, r.amount, r.currency, r.amount_refunded, r.metadata, r.expires_at, r.created_at,
		r.updated_at, r.return_url
	FROM unnest($7::text[], $8::text[], $9::text[], $10::int[], $11::bytea[], $12::bytea[], $13::text[],
		$14::text[], $15::text[], $16::text[], $17::jsonb[], $18::numeric[], $19::text[], $20::numeric[], $21::jsonb[],
		$22::timestamptz[], $23::timestamptz[], $24::timestamptz[], $25::text[])
		AS r(id, portal_id, status, version, pid_index, pid_sealed, pid_masked, dossier_code, service_code,
			description, items, amount, currency, amount_refunded, metadata, expires_at, created_at, updated_at, return_url)
	JOIN input i ON i.request_id = r.id
	JOIN rec ON rec.scope = i.scope AND rec.key = i.key
	ON CONFLICT DO NOTHING
	RETURNING id
), ev AS (
	INSERT INTO events (id, portal_id, type, payload, created_at, next_attempt_at)
	SELECT e.id, e.portal_id, e.type, e.payload, e.created_at, now() + e.due_us * interval '1 microsecond'
	FROM unnest($26::text[], $27::text[], $28::text[], $29::json[], $30::timestamptz[], $31::bigint[], $6::text[])
		AS e(id, portal_id, type, payload, created_at, due_us, request_id)
	JOIN req ON req.id = e.request_id
	RETURNING 1
)
SELECT coalesce((SELECT array_agg(scope || ' ' || key) FROM rec), '{}'),
	coalesce((SELECT array_agg(id) FROM req), '{}'), (SELECT count(*) FROM ev)`

// writeGroup writes group in one transaction: the statement above with
// BEGIN, then COMMIT, with the records of creates refused on their dossier
// deleted first (they are written alone, for their refusal).
func (db *DB) writeGroup(ctx context.Context, group []*groupItem) ([]groupResult, error) {
	n := len(group)
	cols := make([][]any, 25)
	for c := range cols {
		cols[c] = make([]any, n)
	}
	events := make([][]any, 6)
	for c := range events {
		events[c] = make([]any, n)
	}
	scopes, keys, fps, statuses, bodies, reqIDs := make([]string, n), make([]string, n), make([][]byte, n), make([]int, n), make([][]byte, n), make([]string, n)
	for i, it := range group {
		scopes[i], keys[i], fps[i], statuses[i], bodies[i], reqIDs[i] = it.scope, it.key, it.fp, it.status, it.body, it.create.requestID
		for c, v := range it.create.args {
			cols[c][i] = v
		}
		for c, v := range it.create.event.args() {
			events[c][i] = v
		}
	}
	args := []any{scopes, keys, fps, statuses, bodies, reqIDs}
	for _, c := range cols[:19] {
		args = append(args, c)
	}
	for _, c := range events {
		args = append(args, c)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release() // destroyed if it is left in a transaction
	first := &pgx.Batch{}
	first.Queue("begin")
	first.Queue(groupSQL, args...)
	br := conn.SendBatch(ctx, first)
	var wonKeys, wonRequests []string
	var nEvents int64
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&wonKeys, &wonRequests, &nEvents)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
		return nil, fmt.Errorf("write a group of %d creates: %w", n, err)
	}
	if nEvents != int64(len(wonRequests)) {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
		return nil, fmt.Errorf("a group of %d creates wrote %d requests but %d events", n, len(wonRequests), nEvents)
	}
	keyWon := make(map[string]bool, len(wonKeys))
	for _, k := range wonKeys {
		keyWon[k] = true
	}
	reqWon := make(map[string]bool, len(wonRequests))
	for _, id := range wonRequests {
		reqWon[id] = true
	}
	results := make([]groupResult, n)
	b := &pgx.Batch{}
	for i, it := range group {
		switch {
		case !keyWon[it.scope+" "+it.key]:
			results[i] = groupKeyTaken
		case reqWon[it.create.requestID]:
			results[i] = groupCommitted
		default:
			// The key went in but its request did not: a live request
			// holds the dossier. The record must not keep a 201.
			results[i] = groupAlone
			b.Queue(`DELETE FROM idempotency_records WHERE scope = $1 AND key = $2`, it.scope, it.key)
		}
	}
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
		return nil, fmt.Errorf("commit a group of %d creates: %w", n, err)
	}
	return results, nil
}

// insertRecord writes a key's record with its response.
const insertRecord = `INSERT INTO idempotency_records (scope, key, fingerprint, response_status, response_body)
	VALUES ($1, $2, $3, $4, $5)`

// writeOne writes a group of one in one round trip: BEGIN, its record, its
// request, its event and COMMIT, pipelined. A refusal of the request is
// answered groupAlone: the caller writes it again for its own error.
func (db *DB) writeOne(ctx context.Context, it *groupItem) groupResult {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return groupAlone
	}
	defer conn.Release() // destroyed if it is left in a transaction
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(insertRecord, it.scope, it.key, it.fp, it.status, it.body)
	b.Queue(it.create.sql, it.create.args...)
	b.Queue(insertEvent, it.create.event.args()...)
	b.Queue("commit")
	br := conn.SendBatch(ctx, b)
	for range b.QueuedQueries {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return groupCommitted
	}
	_, _ = conn.Exec(context.WithoutCancel(ctx), "rollback")
	if isKeyTaken(err) {
		return groupKeyTaken
	}
	return groupAlone
}
