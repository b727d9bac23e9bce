// Command devidp is a development identity provider for `make run`, tests
// and benchmarks. It signs citizen tokens with an Ed25519 key kept in a file
// and publishes the key as a JWKS. It authenticates nobody: never expose it.
//
// serve is also an OpenID Connect provider (devissuer.Provider): the
// authorization code flow with PKCE that the gateway's hosted checkout signs
// in with (PROTOCOL.md §10). Its sign-in page offers the --citizen citizens
// first (`make run` gives it the sandbox bank's account holders), then a few
// built in, and lets the tester type any other. The gateway's client is
// registered from the settings the gateway itself reads: IDP_CLIENT_ID,
// IDP_CLIENT_SECRET and GATEWAY_PUBLIC_URL (redirect URI
// {GATEWAY_PUBLIC_URL}/auth/callback), or the flags that override them.
//
// Usage:
//
//	devidp serve [--addr 127.0.0.1:8091] [--issuer URL] [--key-file PATH] [--audience A]
//	        [--client-id ID] [--client-secret-file F | --client-secret S] [--redirect-uri URL ...]
//	        [--clients clients.json] [--citizen pid:name:birthdate[:loa] ...]
//	devidp token --pid PID --name NAME --birthdate YYYY-MM-DD [--loa 2] [--audience A] [--issuer URL] [--key-file PATH] [--ttl 1h]
//	devidp jwks [--key-file PATH]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// Defaults shared by the subcommands.
const (
	defaultAddr    = "127.0.0.1:8091"
	defaultKeyFile = ".dev/devidp/key.json"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

// run executes one subcommand; getenv reads the environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("a subcommand is required")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
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
  devidp serve [--addr 127.0.0.1:8091] [--issuer URL] [--key-file PATH] [--audience A]
          [--client-id ID] [--client-secret-file F | --client-secret S] [--redirect-uri URL ...]
          [--clients clients.json] [--citizen pid:name:birthdate[:loa] ...]
  devidp token --pid PID --name NAME --birthdate YYYY-MM-DD [--loa 2] [--audience A] [--issuer URL] [--key-file PATH] [--ttl 1h]
  devidp jwks [--key-file PATH]
`)
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
