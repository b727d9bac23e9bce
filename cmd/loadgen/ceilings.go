package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// runCeilings measures this machine's ceilings for the gateway's hot paths,
// without HTTP in the way, at a concurrency equal to the gateway's pool:
// the create and clearing transactions (the gateway's own code, see
// ceilings_store.go) on a scratch database made afresh, the create's writes
// pipelined in one round trip (create-pipelined: the least a create can cost
// PostgreSQL), and the idempotency script in Redis. It writes the figures run's --ceilings reads.
func runCeilings(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen ceilings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		adminURL = fs.String("admin-url", os.Getenv("DATABASE_URL"), "a database of the server, to drop and create the scratch one from")
		dbURL    = fs.String("database-url", "", "the scratch database: dropped, made anew, and dropped at the end")
		redisURL = fs.String("redis-url", "", "the Redis of the idempotency script (its keys, under a prefix of their own, are deleted after)")
		pool     = fs.Int("pool", 32, "concurrency, as the gateway's pool (DATABASE_MAX_CONNS)")
		duration = fs.Duration("duration", 15*time.Second, "how long each ceiling is measured")
		debits   = fs.Int("debits", 0, "debits in flight seeded for the clearing (default 2,500 per second of --duration)")
		out      = fs.String("out", ".bench/ceilings.json", "where the figures go")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbURL == "" || *redisURL == "" || *pool < 1 || *duration <= 0 {
		return errors.New("give --database-url, --redis-url, a --pool of at least 1 and a positive --duration")
	}
	if *debits == 0 {
		*debits = max(2000, int(2500*duration.Seconds()))
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "ceilings: "+format+"\n", args...) }

	if err := recreateDatabase(ctx, *adminURL, *dbURL); err != nil {
		return err
	}
	defer func() {
		if err := dropDatabase(context.WithoutCancel(ctx), *adminURL, *dbURL); err != nil {
			logf("%v", err)
		}
	}()
	store, err := openCeilingStore(ctx, *dbURL, int32(*pool))
	if err != nil {
		return err
	}
	defer store.Close()
	var syncCommit string
	if err := store.db.Pool().QueryRow(ctx, "SHOW synchronous_commit").Scan(&syncCommit); err != nil {
		return err
	}
	logf("%s each, %d clients, synchronous_commit=%s; seeding %d debits in flight", *duration, *pool, syncCommit, *debits)
	ids, err := seedParallel(ctx, store, *debits)
	if err != nil {
		return err
	}
	if _, err := store.db.Pool().Exec(ctx, "ANALYZE"); err != nil {
		return err
	}

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	create, err := measure(ctx, *pool, *duration, 0, func(ctx context.Context, n int) error {
		return store.create(ctx, run, n)
	})
	if err != nil {
		return fmt.Errorf("create ceiling: %w", err)
	}
	response, err := store.createResponse()
	if err != nil {
		return err
	}
	pipelined, err := measure(ctx, *pool, *duration, 0, func(ctx context.Context, n int) error {
		return store.createPipelined(ctx, run, n, response)
	})
	if err != nil {
		return fmt.Errorf("create-pipelined ceiling: %w", err)
	}
	clearing, err := measure(ctx, *pool, *duration, len(ids), func(ctx context.Context, n int) error {
		return store.clear(ctx, run+"-"+strconv.Itoa(n), ids[n])
	})
	if err != nil {
		return fmt.Errorf("clearing ceiling: %w", err)
	}
	if clearing.ops == int64(len(ids)) {
		logf("the clearing used all %d seeded debits in %s: give more with --debits", len(ids), clearing.elapsed.Round(time.Millisecond))
	}
	if ok, err := store.ledgerBalanced(ctx); err != nil || !ok {
		return fmt.Errorf("the scratch ledger does not balance after the clearing (%v)", err)
	}
	idem, err := openIdemScript(*redisURL, "ceil-"+run+":")
	if err != nil {
		return err
	}
	defer idem.Close()
	redisRate, err := measure(ctx, *pool, *duration, 0, func(ctx context.Context, n int) error {
		return idem.acquire(ctx, n)
	})
	if cerr := idem.cleanup(context.WithoutCancel(ctx)); cerr != nil {
		logf("deleting the script's keys: %v", cerr)
	}
	if err != nil {
		return fmt.Errorf("idempotency script ceiling: %w", err)
	}

	figures := map[string]float64{ceilCreate: create.rate(), ceilCreatePipelined: pipelined.rate(), ceilClear: clearing.rate(),
		ceilRedis: redisRate.rate(), "pool": float64(*pool)}
	logf("create %.0f tx/s (pipelined in one round trip %.0f tx/s), clear %.0f tx/s, idempotency script %.0f calls/s",
		figures[ceilCreate], figures[ceilCreatePipelined], figures[ceilClear], figures[ceilRedis])
	return writeJSON(*out, figures)
}

// measured is what measure counted.
type measured struct {
	ops     int64
	elapsed time.Duration
}

// rate is the operations a second, to a tenth.
func (m measured) rate() float64 {
	if m.elapsed <= 0 {
		return 0
	}
	return math.Round(float64(m.ops)/m.elapsed.Seconds()*10) / 10
}

// measure runs op closed loop from workers goroutines, each n once, until d
// has passed (when d > 0) or limit ops have started (when limit > 0); ops in
// flight at the end finish and count, like pgbench's. The first error stops
// every worker and is returned.
func measure(ctx context.Context, workers int, d time.Duration, limit int, op func(ctx context.Context, n int) error) (measured, error) {
	var next, done atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for gctx.Err() == nil && (d <= 0 || time.Now().Before(deadline)) {
				n := next.Add(1) - 1
				if limit > 0 && n >= int64(limit) {
					return nil
				}
				if err := op(gctx, int(n)); err != nil {
					return err
				}
				done.Add(1)
			}
			return gctx.Err()
		})
	}
	err := g.Wait()
	return measured{ops: done.Load(), elapsed: time.Since(start)}, err
}

// seedParallel seeds n debits from four connections at once.
func seedParallel(ctx context.Context, store *ceilingStore, n int) ([]string, error) {
	const parts, batch = 4, 500
	chunks := make([][]string, parts)
	g, gctx := errgroup.WithContext(ctx)
	for p := range parts {
		first, count := p*n/parts, (p+1)*n/parts-p*n/parts
		g.Go(func() error {
			ids, err := store.seedDebits(gctx, first, count, batch)
			chunks[p] = ids
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range chunks {
		ids = append(ids, c...)
	}
	return ids, nil
}

// recreateDatabase drops the database of dbURL, if it exists, and creates
// it empty, from a connection to adminURL's server.
func recreateDatabase(ctx context.Context, adminURL, dbURL string) error {
	return onServer(ctx, adminURL, dbURL, "DROP DATABASE IF EXISTS %s WITH (FORCE)", "CREATE DATABASE %s")
}

// dropDatabase drops the database of dbURL.
func dropDatabase(ctx context.Context, adminURL, dbURL string) error {
	return onServer(ctx, adminURL, dbURL, "DROP DATABASE IF EXISTS %s WITH (FORCE)")
}

// onServer runs each statement, with dbURL's database name quoted for %s,
// on adminURL, which must name another database of the same server.
func onServer(ctx context.Context, adminURL, dbURL string, statements ...string) error {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("--database-url: %w", err)
	}
	admin, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return fmt.Errorf("--admin-url: %w", err)
	}
	if cfg.Database == "" || cfg.Database == admin.Database {
		return fmt.Errorf("the scratch database %q must be named, and not be the admin URL's", cfg.Database)
	}
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to --admin-url: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	name := pgx.Identifier{cfg.Database}.Sanitize()
	for _, s := range statements {
		if _, err := conn.Exec(ctx, fmt.Sprintf(s, name)); err != nil {
			return fmt.Errorf("%s: %w", fmt.Sprintf(s, name), err)
		}
	}
	return nil
}

// runFresh makes the bench's database anew, empty, and empties its Redis
// database, for a run that starts from nothing.
func runFresh(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen fresh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	adminURL := fs.String("admin-url", os.Getenv("DATABASE_URL"), "a database of the server, to drop and create the bench's from")
	dbURL := fs.String("database-url", "", "the bench's database: dropped and made anew")
	redisURL := fs.String("redis-url", "", "the bench's Redis database, emptied (FLUSHDB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dbURL == "" {
		return errors.New("give --database-url")
	}
	if err := recreateDatabase(ctx, *adminURL, *dbURL); err != nil {
		return err
	}
	if *redisURL == "" {
		return nil
	}
	return flushRedis(ctx, *redisURL)
}
