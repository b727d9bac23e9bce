// Command gatewayctl is the operator's command line: schema migrations,
// onboarding portals and banks, incidents, reconciliation and settlements,
// the invariant check, and a signed-request client for trying the API by hand. It reads the same
// environment as the gateway and prints JSON.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `gatewayctl: operate the payment gateway

  gatewayctl migrate
  gatewayctl portal create --name N --webhook-url U [--return-origin URL]...
  gatewayctl portal set-return-origins --portal ID [URL...]   (replaces the set; none clears it)
  gatewayctl portal list
  gatewayctl portal rotate-secret --portal ID [--revoke-old]
  gatewayctl portal rotate-webhook-secret --portal ID [--revoke-old]
  gatewayctl portal enable-webhook --portal ID   (after a 410; queues the events held meanwhile)
  gatewayctl bank create --code C --name N --base-url U
  gatewayctl bank list
  gatewayctl bank rotate-secret --code C [--revoke-old]
      (the old secret keeps working for 24 h; with --revoke-old it stops at once)
  gatewayctl events redeliver --event EVT_ID | --portal ID --failed
  gatewayctl incidents list [--status open|resolved|all] [--limit 100]
  gatewayctl incidents show --id INC_ID
  gatewayctl incidents resolve --id INC_ID --action note|apply-paid|refund --note TEXT [--bank-reference R]
  gatewayctl listen [--port 8090] [--secret whsec_…|--portal-file .dev/portal.json] [--forward URL]
  gatewayctl reseal [--batch 500]   (binds sealed pids and account numbers to their rows; resumable)
  gatewayctl receipts verify --jws FILE [--jwks FILE|URL]   (offline; the JWKS defaults to GATEWAY_PUBLIC_URL's)
  gatewayctl receipts rotate-key   (a new current signing key; the old ones stay published)
  gatewayctl receipts revoke-key --kid K [--batch 200]   (K leaves the JWKS; its receipts are signed again)
  gatewayctl reconcile --bank C --date YYYY-MM-DD   (runs that day now, Asia/Ho_Chi_Minh; exit 1 only if the statement could not be read)
  gatewayctl settlements list [--portal ID] [--date YYYY-MM-DD] [--status open|closed|settled] [--limit 100]
  gatewayctl settlements show --id STL_ID
  gatewayctl settlements mark-settled --id STL_ID --reference REF --by NAME   (a closed one only; posts each bank's share, once)
  gatewayctl verify [--logs FILE]... [--redis-url URL [--redis-prefix P]] [--accounts FILE] [--horizon 80h]
  gatewayctl request [--portal FILE] [--url URL] [--data JSON|@FILE] [--idempotency-key K] [--explain] METHOD PATH
      (signed with pkg/portal; --explain prints the canonical string it signed to stderr)

Environment: DATABASE_URL, GATEWAY_MASTER_KEY, GATEWAY_ENV, GATEWAY_PUBLIC_URL,
BANK_STATEMENT_TIMEOUT (as the gateway reads them; verify opens sealed values only
when GATEWAY_MASTER_KEY is set).
`

// errUsage asks main to print the usage.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case errors.Is(err, errExit):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gatewayctl:", err)
		os.Exit(1)
	}
}

// errExit ends the command with status 1 after it printed its own report.
var errExit = errors.New("exit 1")

type env struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	e := env{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "migrate":
		return e.migrate(args[1:])
	case "portal":
		return e.portal(args[1:])
	case "request":
		return e.request(args[1:])
	case "verify":
		return e.verify(args[1:])
	case "reseal":
		return e.reseal(args[1:])
	case "bank":
		return e.bank(args[1:])
	case "events":
		return e.events(args[1:])
	case "listen":
		return e.listen(args[1:])
	case "incidents":
		return e.incidents(args[1:])
	case "receipts":
		return e.receipts(args[1:])
	case "reconcile":
		return e.reconcile(args[1:])
	case "settlements":
		return e.settlements(args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage
}

func (e env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
