// Command gateway runs the payment gateway: the HTTP API and, by default,
// the background workers, in one process.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/citizenpay/gateway/internal/app"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/httpapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func newLogger(level string, w *os.File) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func run(ctx context.Context, getenv func(string) string, out *os.File) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, out)
	if !cfg.IdentityConfigured() {
		log.Warn("IDP_ISSUER, IDP_AUDIENCE and IDP_JWKS_URL are not set: the citizen API answers 503 identity_not_configured")
	}
	a, err := app.Build(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	inner, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GATEWAY_ADDR: %w", err)
	}
	// A flood of connections waits in the kernel's accept queue instead of
	// each costing the gateway buffers and a goroutine; one source holds at
	// most its own share.
	ln := a.Listen(inner)
	defer ln.Close()
	opsLn, err := net.Listen("tcp", cfg.OpsAddr)
	if err != nil {
		return fmt.Errorf("OPS_ADDR: %w", err)
	}
	defer opsLn.Close()
	var bankLn net.Listener
	if cfg.BankCallbackAddr != "" {
		inner, err := net.Listen("tcp", cfg.BankCallbackAddr)
		if err != nil {
			return fmt.Errorf("BANK_CALLBACK_ADDR: %w", err)
		}
		bankLn = a.ListenBanks(inner)
		defer bankLn.Close()
	}
	if err := a.StartWorkers(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second, // idle connections count against the connection caps
		MaxHeaderBytes:    32 << 10,
	}
	// The operations listener serves operators and Prometheus, not the
	// public: it has no connection cap of its own to share with clients.
	ops := &http.Server{Handler: a.Ops, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}
	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- ops.Serve(opsLn) }()
	log.Info("operations listening", "addr", opsLn.Addr().String(), "pprof", cfg.OpsPprof)
	// The banks' own listener: its connections are the banks' alone, so a
	// flood of the public listener from however many sources never keeps
	// the banks' callbacks waiting.
	var banks *http.Server
	if bankLn != nil {
		banks = &http.Server{
			Handler: httpapi.BankOnly(a.Handler, cfg.PublicURL), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 32 << 10,
		}
		go func() { errc <- banks.Serve(bankLn) }()
		log.Info("bank callbacks listening", "addr", bankLn.Addr().String())
	}
	log.Info("gateway listening", "addr", ln.Addr().String(), "env", cfg.Env, "workers", cfg.Workers)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "error", err)
	}
	if banks != nil {
		if err := banks.Shutdown(sctx); err != nil {
			log.Error("shutdown of the banks' listener", "error", err)
		}
	}
	_ = ops.Close()
	if err := a.StopWorkers(sctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stop workers", "error", err)
	}
	log.Info("stopped")
	return nil
}
