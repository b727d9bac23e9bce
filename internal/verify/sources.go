package verify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// report records one finding per kind of personal data at one place.
func (c *checker) reportHits(id string, hits []hit) {
	seen := map[string]bool{}
	for _, h := range hits {
		if seen[h.check+"\x00"+h.where] {
			continue
		}
		seen[h.check+"\x00"+h.where] = true
		c.violation(InvNoClearPII, h.check, id, "%s: %s in clear", h.where, describeHit(h.check))
	}
}

func describeHit(check string) string {
	switch check {
	case CheckClearPID:
		return "a personal ID number"
	case CheckClearAccount:
		return "a known account number"
	}
	return "an account-number-like digit run"
}

// tableColumns lists the scanned schema's tables (partitions are read
// through their parent), their columns and primary keys.
type tableColumns struct {
	name    string
	columns []string
	bytea   []bool
	key     []string
}

func (c *checker) tables(ctx context.Context) ([]tableColumns, error) {
	rows, err := c.tx.Query(ctx, `SELECT cl.relname, a.attname, t.typname = 'bytea', coalesce(a.attnum = ANY (i.indkey), false)
		FROM pg_class cl
		JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_index i ON i.indrelid = cl.oid AND i.indisprimary
		WHERE n.nspname = $1 AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition
		ORDER BY cl.relname, a.attnum`, c.opts.Schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tableColumns
	for rows.Next() {
		var table, column string
		var isBytea, inKey bool
		if err := rows.Scan(&table, &column, &isBytea, &inKey); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].name != table {
			out = append(out, tableColumns{name: table})
		}
		t := &out[len(out)-1]
		t.columns = append(t.columns, column)
		t.bytea = append(t.bytea, isBytea)
		if inKey {
			t.key = append(t.key, column)
		}
	}
	return out, rows.Err()
}

// scanDatabase: invariant 7 in the database, every column of every row.
func (c *checker) scanDatabase(ctx context.Context) error {
	tables, err := c.tables(ctx)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := c.scanTable(ctx, t); err != nil {
			return fmt.Errorf("scan table %s: %w", t.name, err)
		}
	}
	c.count(InvNoClearPII, "tables", int64(len(tables)))
	return nil
}

func (c *checker) scanTable(ctx context.Context, t tableColumns) error {
	key := "ctid::text"
	if len(t.key) > 0 {
		parts := make([]string, len(t.key))
		for i, k := range t.key {
			parts[i] = pgx.Identifier{k}.Sanitize() + "::text"
		}
		key = "concat_ws('/', " + strings.Join(parts, ", ") + ")"
	}
	sel := make([]string, len(t.columns))
	for i, col := range t.columns {
		sel[i] = pgx.Identifier{col}.Sanitize()
		if !t.bytea[i] {
			sel[i] += "::text"
		}
	}
	rows, err := c.tx.Query(ctx, "SELECT "+key+", "+strings.Join(sel, ", ")+" FROM "+pgx.Identifier{c.opts.Schema, t.name}.Sanitize())
	if err != nil {
		return err
	}
	defer rows.Close()
	texts := make([]*string, len(t.columns))
	blobs := make([][]byte, len(t.columns))
	var rowKey string
	dest := make([]any, 1+len(t.columns))
	dest[0] = &rowKey
	for i := range t.columns {
		if t.bytea[i] {
			dest[1+i] = &blobs[i]
		} else {
			dest[1+i] = &texts[i]
		}
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		n++
		var hits []hit
		for i, col := range t.columns {
			where := col
			switch {
			case t.bytea[i] && blobs[i] != nil:
				hits = append(hits, c.scan.scanBytes(where, blobs[i], isAccountField(col))...)
			case !t.bytea[i] && texts[i] != nil:
				hits = append(hits, c.scan.scan(where, *texts[i], isAccountField(col))...)
			}
		}
		c.reportHits(t.name+":"+rowKey, hits)
	}
	c.count(InvNoClearPII, "rows", n)
	return rows.Err()
}

// logField matches key=value pairs of a text log line (log/slog's text
// handler, logfmt).
var logField = regexp.MustCompile(`([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)`)

// scanLogFile: invariant 7 in a log file, line by line. A JSON line is
// read field by field; a text line as a whole and by its key=value pairs.
func (c *checker) scanLogFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var n int64
	for sc.Scan() {
		n++
		line := sc.Text()
		var hits []hit
		if _, ok := parseJSON(line); ok {
			hits = c.scan.scan("line", line, false)
		} else {
			hits = c.scan.scanLeaf("line", line, false)
			for _, m := range logField.FindAllStringSubmatch(line, -1) {
				if isAccountField(m[1]) {
					v := m[2]
					if u, err := strconv.Unquote(v); err == nil {
						v = u
					}
					hits = append(hits, c.scan.scan(m[1], v, true)...)
				}
			}
		}
		c.reportHits(path+":"+strconv.FormatInt(n, 10), hits)
	}
	c.count(InvNoClearPII, "log_lines", n)
	return sc.Err()
}

// scanRedis: invariant 7 in Redis, every key under the prefix and its
// value, on every master of a cluster.
func (c *checker) scanRedis(ctx context.Context) error {
	pattern := globEscape(c.opts.RedisPrefix) + "*"
	scanNode := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			if err := c.scanRedisKey(ctx, node, iter.Val()); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := c.opts.Redis.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scanNode(ctx, n) })
	}
	return scanNode(ctx, c.opts.Redis)
}

func (c *checker) scanRedisKey(ctx context.Context, node redis.Cmdable, key string) error {
	c.count(InvNoClearPII, "redis_keys", 1)
	hits := c.scan.scanLeaf("key", key, false)
	typ, err := node.Type(ctx, key).Result()
	if err != nil {
		return err
	}
	var values []string
	switch typ {
	case "none": // expired meanwhile
	case "string":
		v, err := node.Get(ctx, key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		values = []string{v}
	case "hash":
		m, err := node.HGetAll(ctx, key).Result()
		if err != nil {
			return err
		}
		for field, v := range m {
			hits = append(hits, c.scan.scanLeaf("field "+field, field, false)...)
			hits = append(hits, c.scan.scan("field "+field, v, isAccountField(field))...)
		}
	case "list":
		values, err = node.LRange(ctx, key, 0, -1).Result()
	case "set":
		values, err = node.SMembers(ctx, key).Result()
	case "zset":
		values, err = node.ZRange(ctx, key, 0, -1).Result()
	case "stream":
		var msgs []redis.XMessage
		msgs, err = node.XRange(ctx, key, "-", "+").Result()
		for _, m := range msgs {
			for field, v := range m.Values {
				hits = append(hits, c.scan.scan("field "+field, fmt.Sprint(v), isAccountField(field))...)
			}
		}
	}
	if err != nil {
		return err
	}
	for _, v := range values {
		hits = append(hits, c.scan.scan("value", v, false)...)
	}
	c.reportHits("redis:"+key, hits)
	return nil
}

// globEscape escapes the characters SCAN MATCH gives a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
