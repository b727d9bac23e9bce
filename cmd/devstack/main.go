// Command devstack runs the gateway's development stack for `make run`, once
// PostgreSQL and Redis are up (scripts/run.sh starts them and gives their
// DATABASE_URL and REDIS_URL): it builds the commands into bin/, migrates the
// database, makes sure of a development portal (.dev/portal.json) and of the
// sandbox bank SBX (.dev/bank.json), then starts the sandbox bank, the
// development identity provider, `gatewayctl listen` for the portal's
// webhooks (each with its log in .dev/log/NAME.log; its /return page is the
// development portal's return origin) and the gateway (on this terminal),
// and prints where everything is. Once the gateway is ready it creates a
// fresh fee for the first sandbox citizen and prints one line,
// `Checkout: <checkout_url>`, where a browser pays it.
//
// SIGINT, SIGTERM or SIGHUP stops every program it started, the last started
// first (SIGTERM, then SIGKILL after 10 s), and devstack exits 0: that is
// how the stack is meant to stop, and `make run` should not report it as an
// error (make's "Error 130"). If one of them ends by itself, the
// others are stopped the same way and devstack exits 1 with one line naming
// it.
//
// Environment: GATEWAY_ADDR (:8080), OPS_ADDR (127.0.0.1:9090), OPS_PPROF
// (true), GATEWAY_MASTER_KEY (else .dev/master.key, created once),
// DATABASE_URL and REDIS_URL (required), IDP_ISSUER, IDP_AUDIENCE and
// IDP_JWKS_URL (else devidp's), DEV_IDP_ADDR (127.0.0.1:8091), DEV_BANK_ADDR
// (127.0.0.1:8092) and DEV_WEBHOOK_PORT (8090); every other variable reaches
// the gateway as it is.
//
// It writes the stack's DATABASE_URL, REDIS_URL, GATEWAY_MASTER_KEY,
// GATEWAY_ENV and GATEWAY_PUBLIC_URL to .dev/env as export lines (owner
// only), where gatewayctl in a second terminal finds them and which `make
// env` prints. Its changes through gatewayctl name the operator
// "devstack" (--by).
//
// Run it from the repository root.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/citizenpay/gateway/internal/devenv"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan os.Signal, 1)
	go func() {
		s := <-sigs
		got <- s
		cancel() // later signals stay caught, and ignored: the stop runs to its end
	}()
	err := run(ctx, os.Environ(), os.Stdout, os.Stderr)
	select {
	case <-got:
		os.Exit(0) // stopped as asked: whatever the stop interrupted is no failure
	default:
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack: error: "+err.Error())
		os.Exit(1)
	}
}

// sandboxCitizen is one citizen of the sandbox: the sandbox bank holds
// their account, and the development identity provider offers them first
// on its sign-in page. One table for both, so they never disagree.
type sandboxCitizen struct {
	account, pid, name, birthdate, balance string
}

// The sandbox citizens: Nguyen Van An, whom `make demo` plays, and someone
// else.
var sandboxCitizens = []sandboxCitizen{
	{"0071000123456", "079203001234", "Nguyen Van An", "2003-05-17", "10000000"},
	{"0071000999999", "001090012345", "Tran Thi Binh", "1990-02-03", "500000"},
}

// commands are the programs devstack builds into bin/ and runs.
var commands = []string{"./cmd/gateway", "./cmd/gatewayctl", "./cmd/banksim", "./cmd/devidp"}

func run(ctx context.Context, environ []string, stdout, stderr io.Writer) error {
	getenv := lookup(environ)
	st, err := devenv.Load(getenv)
	if err != nil {
		return err
	}
	if getenv("DATABASE_URL") == "" || (getenv("REDIS_URL") == "" && getenv("REDIS_ADDRS") == "") {
		return errors.New("DATABASE_URL and REDIS_URL must be set: start the stack with `make run`, which brings them up")
	}
	sup := newSupervisor(stderr)
	if err := os.MkdirAll(devenv.LogDir, 0o755); err != nil {
		return err
	}
	sup.log("building bin/gateway, bin/gatewayctl, bin/banksim and bin/devidp")
	build := exec.CommandContext(ctx, goTool(), append([]string{"build", "-o", "bin/"}, commands...)...)
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	env, err := stackEnv(st, environ, sup.log)
	if err != nil {
		return err
	}
	if err := writeEnvFile(devenv.EnvFile, env); err != nil {
		return fmt.Errorf("%s: %w", devenv.EnvFile, err)
	}
	ctl := gatewayctl{bin: filepath.Join("bin", "gatewayctl"), env: env}
	migrate := exec.CommandContext(ctx, ctl.bin, "migrate")
	migrate.Env, migrate.Stdout, migrate.Stderr = env, stdout, stderr
	if err := migrate.Run(); err != nil {
		return fmt.Errorf("gatewayctl migrate: %w", err)
	}
	if err := ensurePortal(ctx, ctl, st, devenv.PortalFile, sup.log); err != nil {
		return err
	}
	if err := ensureBank(ctx, ctl, st, devenv.BankFile, devenv.BankSecretFile, sup.log); err != nil {
		return err
	}
	if err := startAll(ctx, sup, st, env, stdout, stderr); err != nil {
		sup.stopAll()
		return err
	}
	var creds portalCreds
	if _, err := readJSONFile(devenv.PortalFile, &creds); err != nil {
		sup.stopAll()
		return err
	}
	fee := demoFee{client: &http.Client{Timeout: 10 * time.Second}, gateway: st.GatewayURL(), creds: creds,
		now: time.Now, ticks: every(250 * time.Millisecond)}
	feeCtx, stopFee := context.WithCancel(ctx)
	defer stopFee()
	go announceCheckout(feeCtx, fee, st, stdout, sup.log) // it logs its own failure
	return sup.run(ctx)
}

// startAll starts the helpers, prints the banner, and starts the gateway.
func startAll(ctx context.Context, sup *supervisor, st devenv.Stack, env []string, stdout, stderr io.Writer) error {
	banksim := []string{"--addr", st.BankAddr, "--code", devenv.BankCode, "--base-path", devenv.BankBasePath,
		"--secret-file", devenv.BankSecretFile, "--callback-url", st.CallbackURL()}
	devidp := []string{"bin/devidp", "serve", "--addr", st.IDPAddr}
	for _, c := range sandboxCitizens {
		banksim = append(banksim, "--account", c.account+":"+c.pid+":"+c.name+":"+c.balance)
		devidp = append(devidp, "--citizen", c.pid+":"+c.name+":"+c.birthdate)
	}
	helpers := []struct {
		name string
		args []string
	}{
		{"banksim", append([]string{"bin/banksim"}, banksim...)},
		{"devidp", devidp},
		{"webhooks", []string{"bin/gatewayctl", "listen", "--port", strconv.Itoa(st.WebhookPort), "--portal-file", devenv.PortalFile}},
	}
	for _, h := range helpers {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		file := filepath.Join(devenv.LogDir, h.name+".log")
		log, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		cmd := exec.Command(h.args[0], h.args[1:]...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, log, log
		err = sup.start(h.name, cmd)
		log.Close() // the child holds its own copy
		if err != nil {
			return err
		}
		sup.log("started %s (pid %d), log in %s", h.name, cmd.Process.Pid, file)
	}
	banner(stderr, st, lookup(env))
	gw := exec.Command("bin/gateway")
	gw.Env, gw.Stdout, gw.Stderr = env, stdout, stderr
	return sup.start("gateway", gw)
}

// stackEnv is the environment of every program of the stack: environ, with
// the development settings and defaults `make run` has always given.
func stackEnv(st devenv.Stack, environ []string, log func(string, ...any)) ([]string, error) {
	getenv := lookup(environ)
	env := append([]string(nil), environ...)
	env = append(env, "GATEWAY_ENV=development", "GATEWAY_ADDR="+st.GatewayAddr, "OPS_ADDR="+st.OpsAddr)
	if getenv("GATEWAY_MASTER_KEY") == "" {
		key, err := masterKey(devenv.MasterKeyFile, log)
		if err != nil {
			return nil, fmt.Errorf("development master key: %w", err)
		}
		env = append(env, "GATEWAY_MASTER_KEY="+key)
	}
	// The checkout signs citizens in with devidp as the OpenID Connect
	// client IDP_CLIENT_ID, whose secret is made once. The client id is not
	// IDP_AUDIENCE: an ID token must never pass for a bearer token.
	if getenv("IDP_CLIENT_SECRET") == "" {
		secret, err := clientSecret(devenv.IDPClientSecretFile, log)
		if err != nil {
			return nil, fmt.Errorf("development OpenID Connect client secret: %w", err)
		}
		env = append(env, "IDP_CLIENT_SECRET="+secret)
	}
	for _, kv := range [][2]string{
		{"OPS_PPROF", "true"},
		{"IDP_ISSUER", st.IDPURL()},
		{"IDP_AUDIENCE", "citizenpay-gateway"},
		{"IDP_JWKS_URL", st.IDPURL() + "/.well-known/jwks.json"},
		{"IDP_CLIENT_ID", "citizenpay-checkout"},
		{"GATEWAY_PUBLIC_URL", st.GatewayURL()},
	} {
		if getenv(kv[0]) == "" {
			env = append(env, kv[0]+"="+kv[1])
		}
	}
	return env, nil
}

// lookup reads a variable of env.
func lookup(env []string) func(string) string {
	return func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if name, v, _ := strings.Cut(env[i], "="); name == k {
				return v
			}
		}
		return ""
	}
}

// goTool is the go command: on PATH, or where the machines keep it.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}
