// Command devidp is a development identity provider for `make run`, tests
// and benchmarks. It signs citizen tokens with an Ed25519 key kept in a file
// and publishes the key as a JWKS. It authenticates nobody: never expose it.
//
// Usage:
//
//	devidp serve [--addr 127.0.0.1:8091] [--issuer URL] [--key-file PATH]
//	devidp token --pid PID --name NAME --birthdate YYYY-MM-DD [--loa 2] [--audience A] [--issuer URL] [--key-file PATH] [--ttl 1h]
//	devidp jwks [--key-file PATH]
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

	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// Defaults shared by the subcommands.
const (
	defaultAddr    = "127.0.0.1:8091"
	defaultKeyFile = ".dev/devidp/key.json"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

// run executes one subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("a subcommand is required")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "jwks":
		return jwks(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	default:
		usage(stderr)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  devidp serve [--addr 127.0.0.1:8091] [--issuer URL] [--key-file PATH]
  devidp token --pid PID --name NAME --birthdate YYYY-MM-DD [--loa 2] [--audience A] [--issuer URL] [--key-file PATH] [--ttl 1h]
  devidp jwks [--key-file PATH]
`)
}

// serve runs the HTTP provider until ctx ends.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("devidp serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultAddr, "listen address (keep it on loopback)")
	issuer := fs.String("issuer", "", "issuer URL put in iss (default http://<addr>)")
	keyFile := fs.String("key-file", defaultKeyFile, "Ed25519 private JWK, created if missing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if *issuer == "" {
		*issuer = "http://" + *addr
	}
	iss, err := devissuer.LoadOrCreate(*keyFile, *issuer)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if !isLoopback(*addr) {
		log.Warn("devidp listens beyond loopback: anyone who reaches it can mint any identity", "addr", *addr)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           iss.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	log.Info("devidp serving", "addr", ln.Addr().String(), "issuer", iss.Issuer(), "kid", iss.KeyID(), "key_file", *keyFile)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("devidp stopped")
	return nil
}

// token prints one token to stdout.
func token(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devidp token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pid := fs.String("pid", "", "12-digit CCCD number (required)")
	name := fs.String("name", "", "full name (required)")
	birthdate := fs.String("birthdate", "", "YYYY-MM-DD (required)")
	loa := fs.Int("loa", devissuer.DefaultLOA, "level of assurance")
	audience := fs.String("audience", devissuer.DefaultAudience, "aud claim")
	issuer := fs.String("issuer", "http://"+defaultAddr, "iss claim; must match the gateway's IDP_ISSUER")
	keyFile := fs.String("key-file", defaultKeyFile, "Ed25519 private JWK, created if missing")
	ttl := fs.Duration("ttl", devissuer.DefaultTTL, "token lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	}
	if *loa < 1 {
		return errors.New("token: --loa must be at least 1")
	}
	iss, err := devissuer.LoadOrCreate(*keyFile, *issuer)
	if err != nil {
		return err
	}
	tok, err := iss.Mint(devissuer.Claims{
		PID: *pid, Name: *name, Birthdate: *birthdate,
		LOA: *loa, Audience: *audience, TTL: *ttl,
	})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// jwks prints the public key set to stdout.
func jwks(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devidp jwks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key-file", defaultKeyFile, "Ed25519 private JWK, created if missing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("jwks: unexpected argument %q", fs.Arg(0))
	}
	// The issuer does not appear in a JWKS; any valid URL will do.
	iss, err := devissuer.LoadOrCreate(*keyFile, "http://"+defaultAddr)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", iss.JWKS())
	return err
}

// isLoopback reports whether addr's host is a loopback name or address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
