package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/verify"
)

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// verify checks every invariant of DOMAIN.md and prints the report as JSON.
// Any violation ends the command with status 1; warnings do not, and open
// incidents do only with --fail-on-incidents, for a check that must find
// nothing waiting for the operator (a deploy gate, the end of a demo).
func (e env) verify(args []string) error {
	fs := newFlags("verify")
	var logs stringList
	fs.Var(&logs, "logs", "a log file to scan for personal data (may be repeated)")
	redisURL := fs.String("redis-url", "", "a Redis to scan for personal data")
	redisPrefix := fs.String("redis-prefix", "", "scan only Redis keys with this prefix")
	accounts := fs.String("accounts", "", "a file of account numbers known to be in use, one a line, to look for in clear")
	horizon := fs.Duration("horizon", verify.DefaultRetryHorizon, "an event older than this must be delivered or failed")
	failOnIncidents := fs.Bool("fail-on-incidents", false, "exit with status 1 when incidents are open, even if every invariant holds")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *horizon <= 0 {
		return errUsage
	}
	opts := verify.Options{RetryHorizon: *horizon, LogFiles: logs, RedisPrefix: *redisPrefix}
	if *accounts != "" {
		known, err := readLines(*accounts)
		if err != nil {
			return fmt.Errorf("--accounts: %w", err)
		}
		opts.KnownAccountNumbers = known
	}
	if *redisURL != "" {
		ro, err := redis.ParseURL(*redisURL)
		if err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		rdb := redis.NewClient(ro)
		defer rdb.Close()
		opts.Redis = rdb
	}
	// With the master key, every sealed value is opened under its row's
	// binding; without it that check is skipped with a warning.
	db, k, op, err := e.open(e.getenv("GATEWAY_MASTER_KEY") != "")
	if err != nil {
		return err
	}
	defer db.Close()
	if k != nil {
		opts.PII = pii.NewProtector(k)
		opts.OpenReceipt = service.NewReceipts(k, op.PublicURL).OpenJWS
	}
	rep, err := verify.Check(e.ctx, db.Pool(), opts)
	if err != nil {
		return err
	}
	if err := e.printJSON(rep); err != nil {
		return err
	}
	failed := false
	if !rep.OK {
		var broken []string
		for _, r := range rep.Invariants {
			if !r.OK {
				broken = append(broken, fmt.Sprintf("%d %s (%d)", r.Invariant, r.Name, len(r.Violations)+r.Omitted))
			}
		}
		fmt.Fprintf(e.stderr, "gatewayctl verify: invariants violated: %s\n", strings.Join(broken, ", "))
		failed = true
	}
	if *failOnIncidents && len(rep.OpenIncidents) > 0 {
		fmt.Fprintf(e.stderr, "gatewayctl verify: %d open incidents (gatewayctl incidents list)\n", len(rep.OpenIncidents))
		failed = true
	}
	if failed {
		return errExit
	}
	return nil
}

// readLines returns the file's non-empty lines, trimmed.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
