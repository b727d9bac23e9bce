// Command gatewayctl is the operator's command line: schema migrations,
// onboarding portals and banks, incidents, reconciliation and settlements,
// the invariant check, and a signed-request client for trying the API by hand. It reads the same
// environment as the gateway and prints JSON. `gatewayctl --help` lists the
// commands (commands.go); every command that changes something names its
// operator with --by.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/citizenpay/gateway/internal/devenv"
)

// errUsage asks main to print the usage.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintln(os.Stderr, "gatewayctl: "+ue.msg)
		}
		fmt.Fprint(os.Stderr, ue.help)
		os.Exit(2)
	case errors.Is(err, errUsage):
		fmt.Fprint(os.Stderr, usage())
		os.Exit(2)
	case errors.Is(err, errExit):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gatewayctl:", err)
		os.Exit(1)
	}
}

// usageError is a command line gatewayctl cannot run: main prints msg, if
// any, and help, and exits 2. It is an errUsage.
type usageError struct {
	msg  string
	help string
}

func (e *usageError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return "usage"
}

func (e *usageError) Unwrap() error { return errUsage }

// errExit ends the command with status 1 after it printed its own report.
var errExit = errors.New("exit 1")

type env struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// by is the operator a mutating command names (--by).
	by string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage())
		return nil
	}
	var g group
	found := false
	for _, c := range groups() {
		if c.name == args[0] {
			g, found = c, true
		}
	}
	if !found {
		return &usageError{msg: "unknown command: " + args[0], help: "`gatewayctl --help` lists the commands.\n"}
	}
	c, rest := g.self, args[1:]
	if c == nil {
		if len(rest) == 0 {
			return &usageError{help: g.help()}
		}
		if isHelp(rest[0]) {
			fmt.Fprint(stdout, g.help())
			return nil
		}
		sub, ok := g.sub(rest[0])
		if !ok {
			return &usageError{msg: "unknown command: " + rest[0],
				help: "`gatewayctl " + g.name + " --help` lists its subcommands.\n"}
		}
		c = &sub
		rest = rest[1:]
	}
	prefix := g.name
	if hasHelpFlag(rest) {
		fmt.Fprint(stdout, c.help(prefix))
		return nil
	}
	e := env{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if c.mutates {
		// Refused before anything is read or changed.
		by, others, err := takeBy(rest)
		if err != nil {
			return err
		}
		e.by, rest = by, others
	}
	getenv, err := devSettings(getenv, devenv.Dir, devenv.EnvFile)
	if err != nil {
		return err
	}
	e.getenv = getenv
	cmdArgs := rest
	if g.self == nil {
		cmdArgs = append([]string{c.name}, rest...)
	}
	err = g.run(e, cmdArgs)
	if errors.Is(err, errUsage) {
		var ue *usageError
		if !errors.As(err, &ue) {
			return &usageError{help: c.help(prefix)}
		}
	}
	if err == nil && c.mutates {
		fmt.Fprintf(stderr, "gatewayctl: %s by %s\n", strings.TrimSpace(prefix+" "+c.name), e.by)
	}
	return err
}

func (e env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
