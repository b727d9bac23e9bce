// Command banksim runs the sandbox bank (internal/banksim): the bank side of
// PROTOCOL.md §7 for `make run`, end-to-end tests and benchmarks. It holds
// made-up accounts in memory and forgets everything when it stops.
//
// Usage:
//
//	banksim [--addr 127.0.0.1:8092] [--code SBX] (--secret-file F | --secret S | env BANKSIM_SECRET)
//	        [--callback-url URL] [--accounts accounts.json] [--account number:pid:name:balance ...]
//	        [--base-path /api/gw] [--sync] [--latency 10ms] [--failure-rate 0.1]
//	        [--execute-then-fail 0.1] [--reject CODE] [--callback-delay 1s] [--never-call-back]
//	        [--duplicate-callbacks N] [--out-of-order] [--down] [--also-call-back-after-sync]
//	        [--callback-retry-base 200ms] [--callback-retry-max 5s] [--callback-attempts 30]
//	        [--log-level info]
//
// The knobs can be changed while it runs: POST /_sim/knobs with a JSON object
// of the fields to change, e.g. {"sync":true,"latency":"50ms"}.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/citizenpay/gateway/internal/banksim"
)

// shutdownGrace is how long in-flight answers get to finish on SIGINT/SIGTERM.
const shutdownGrace = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "banksim:", err)
		os.Exit(1)
	}
}

// run serves the sandbox bank until ctx ends. It logs JSON to stdout; usage
// goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: opts.logLevel}))
	opts.bank.Logger = log

	bank, err := banksim.New(opts.bank)
	if err != nil {
		return err
	}
	defer bank.Close()

	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.addr, err)
	}
	srv := &http.Server{
		Handler:           bank.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("banksim listening",
		"addr", ln.Addr().String(),
		"bank_code", opts.bank.BankCode,
		"base_path", opts.bank.BasePath,
		"callback_url", opts.bank.CallbackURL,
		"accounts", len(opts.bank.Accounts),
		"knobs", bank.Knobs())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("banksim shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("banksim stopped")
	return nil
}
