// Command loadgen drives open-loop, constant-rate load at a running gateway
// for `make bench`, speaking PROTOCOL.md like real parties: it signs portal
// requests, mints citizens' tokens in-process with a development issuer
// (whose JWKS the gateway is given as a file:// URL), signs bank callbacks
// with a bank's secret, and receives the portal's webhooks.
//
// Usage:
//
//	loadgen init --dir .bench/state [--citizens 64] [--banks SBX,SB2]
//	    writes the issuer's key, jwks.json, and one banksim accounts file per bank
//	loadgen fresh --database-url URL [--admin-url URL] [--redis-url URL]
//	    drops and creates the bench's database, and empties its Redis database
//	loadgen ceilings --database-url SCRATCH_URL --redis-url URL [--admin-url URL]
//	    [--pool 32] [--duration 15s] [--out .bench/ceilings.json]
//	    measures the create and clearing transactions (the gateway's own code)
//	    on a scratch database, the create's writes in one pipelined round trip
//	    (create-pipelined), and the idempotency script, at the pool's
//	    concurrency; writes the figures for run's --ceilings
//	loadgen run --dir .bench/state --gateway URL --portal-file portal.json
//	    --bank CODE=SECRET=SIM_URL ... --database-url URL [--scenarios create,replay,...]
//	    [--rate N | --rate-create N ...] [--duration 30s] [--warmup 5s]
//	    [--ceilings ceilings.json] [--out bench-results]
//	    [--cpu-pids gateway=PID,postgres=PID,redis=PID] [--clk-tck 100]
//
// Scenarios: create, replay, clear, flow, read, mixed, overload, bank-down.
// run prints a Markdown table on stdout and writes JSON and a PNG chart under
// --out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: loadgen init|fresh|ceilings|run [flags]")
		return flag.ErrHelp
	}
	switch args[0] {
	case "init":
		return runInit(args[1:], stderr)
	case "run":
		return runBench(ctx, args[1:], stdout, stderr)
	case "ceilings":
		return runCeilings(ctx, args[1:], stderr)
	case "fresh":
		return runFresh(ctx, args[1:], stderr)
	}
	return fmt.Errorf("unknown command %q: want init, fresh, ceilings or run", args[0])
}
