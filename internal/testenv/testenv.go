// Package testenv gives tests their own real PostgreSQL database and Redis
// key space. DATABASE_URL names a server where the test may create
// databases (make test brings one up); each test gets a database cloned from
// a migrated template, so tests run in parallel without seeing each other.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/redisstore"
)

// DB is one test's database.
type DB struct {
	Pool  *pgxpool.Pool
	Store *postgres.DB // the gateway's store on Pool
	URL   string
}

func adminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL and Redis")
	}
	return u
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func templateName() string {
	ms, err := postgres.Migrations()
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.SQL))
	}
	return "gw_template_" + hex.EncodeToString(h.Sum(nil))[:12]
}

const templateLock = 7_206_511_338

func ensureTemplate(ctx context.Context, t testing.TB, admin *pgx.Conn, base string) string {
	t.Helper()
	name := templateName()
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		return name
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, withDatabase(base, building), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		t.Fatalf("migrate template: %v", err)
	}
	pool.Close()
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		t.Fatal(err)
	}
	return name
}

// NewDB returns a fresh, migrated database for t, dropped when t ends.
func NewDB(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := adminURL(t)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer admin.Close(context.Background())
	tmpl := ensureTemplate(ctx, t, admin, base)
	name := "gw_test_" + randomHex(6)
	var lastErr error
	for i := 0; i < 20; i++ {
		_, lastErr = admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
		if lastErr == nil || !strings.Contains(lastErr.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("create test database: %v", lastErr)
	}
	dbURL := withDatabase(base, name)
	pool, err := postgres.Open(ctx, dbURL, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	return &DB{Pool: pool, Store: postgres.NewDB(pool), URL: dbURL}
}

// RedisURL returns REDIS_URL, failing the test when it is not set.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test`, which starts PostgreSQL and Redis")
	}
	return u
}

// NewRedis returns a client of the test Redis and a key prefix of t's own.
// Keys under the prefix are deleted when t ends.
func NewRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	c, err := redisstore.Connect(redisstore.Options{URL: RedisURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	prefix := "t" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Widen gives db a pool of n connections in place of its own, for a test
// that holds more transactions open at once than the default pool has
// connections: one that waited for a connection would never show the lock
// wait the test is looking for. The pool closes when t ends, before the
// database is dropped.
func (db *DB) Widen(t testing.TB, n int32) {
	t.Helper()
	cfg := db.Pool.Config()
	cfg.MaxConns = n
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db.Pool, db.Store = pool, postgres.NewDB(pool)
}
