package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	out, _, err := ctlEnv(env, "--help")
	if err != nil || !strings.Contains(out, "gatewayctl portal disable --portal ID --by NAME") ||
		!strings.Contains(out, "GATEWAY_ENV") || !strings.Contains(out, "DATABASE_URL") || !strings.Contains(out, ".dev/env") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	out, _, err = ctlEnv(env, "portal", "--help")
	if err != nil || !strings.Contains(out, "gatewayctl portal update --portal ID [--name N] [--webhook-url U] --by NAME") ||
		!strings.Contains(out, "--revoke-old") || strings.Contains(out, "gatewayctl bank") {
		t.Errorf("portal --help: %v\n%s", err, out)
	}
	out, _, err = ctlEnv(env, "portal", "create", "--help")
	if err != nil || !strings.Contains(out, "--webhook-url U") || !strings.Contains(out, "--by NAME") ||
		!strings.Contains(out, "audit log") || strings.Contains(out, "rotate-secret") {
		t.Errorf("portal create --help: %v\n%s", err, out)
	}
	out, _, err = ctlEnv(env, "portal", "list", "-h")
	if err != nil || !strings.Contains(out, "gatewayctl portal list") || strings.Contains(out, "--by") {
		t.Errorf("portal list -h: %v\n%s", err, out)
	}
	out, _, err = ctlEnv(env, "verify", "--help")
	if err != nil || !strings.Contains(out, "--horizon") {
		t.Errorf("verify --help: %v\n%s", err, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"portl", "list"}, "unknown command: portl"},
		{[]string{"portal", "craete", "--name", "X"}, "unknown command: craete"},
		{[]string{"events", "lsit"}, "unknown command: lsit"},
		{[]string{"settlements", "mark-setled"}, "unknown command: mark-setled"},
	} {
		_, _, err := ctlEnv(map[string]string{}, tc.args...)
		var ue *usageError
		if !errors.As(err, &ue) || ue.msg != tc.want || !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want %q (exit 2)", tc.args, err, tc.want)
		}
	}
	// A subcommand's bad flags print that subcommand's help.
	_, _, err := ctlEnv(map[string]string{}, "portal", "list", "--nope")
	var ue *usageError
	if !errors.As(err, &ue) || !strings.HasPrefix(ue.help, "gatewayctl portal list") {
		t.Errorf("portal list --nope: %v", err)
	}
}

// A mutation without a good --by is refused before anything changes.
func TestMutationWithoutByIsRefused(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	portals := h.Count(`SELECT count(*) FROM portals`)
	create := []string{"portal", "create", "--name", "No by", "--webhook-url", "https://x.example.vn/hooks"}
	long := strings.Repeat("é", maxBy+1)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{create, "--by NAME is required"},
		{append(create, "--by"), "--by NAME is required"},
		{append(create, "--by", "  "), "must not be blank"},
		{append(create, "--by="+long), "at most 200"},
		{append(create, "--by", "a\nb"), "one line"},
		{append(create, "--by", "a", "--by", "b"), "once"},
		{[]string{"portal", "disable", "--portal", h.Portal.ID}, "--by NAME is required"},
		{[]string{"portal", "rotate-secret", "--portal", h.Portal.ID}, "--by NAME is required"},
		{[]string{"bank", "create", "--code", "NB", "--name", "N", "--base-url", "https://n.example.vn"}, "--by NAME is required"},
		{[]string{"events", "redeliver", "--portal", h.Portal.ID, "--failed"}, "--by NAME is required"},
		{[]string{"incidents", "resolve", "--id", "inc_x", "--action", "note", "--note", "n"}, "--by NAME is required"},
		{[]string{"receipts", "revoke-key", "--kid", "k"}, "--by NAME is required"},
		{[]string{"reseal"}, "--by NAME is required"},
	} {
		err := ctlInto(t, h.DB.URL, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if n := h.Count(`SELECT count(*) FROM portals`); n != portals {
		t.Errorf("%d portals, want %d: a refused mutation changed something", n, portals)
	}
	if n := h.Count(`SELECT count(*) FROM portals WHERE disabled_at IS NOT NULL OR previous_secret_sealed IS NOT NULL`); n != 0 {
		t.Error("a refused mutation changed a portal")
	}
	// With --by, anywhere among the flags, it runs and says who did it.
	_, stderr, err := ctlEnv(map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": "development"},
		"portal", "create", "--by", " Nguyễn Thị Lan ", "--name", "By", "--webhook-url", "https://x.example.vn/hooks")
	if err != nil || !strings.Contains(stderr, "portal create by Nguyễn Thị Lan\n") {
		t.Errorf("create --by: %v, stderr %q", err, stderr)
	}
}

func TestDevSettings(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".dev")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "env")
	data := "export DATABASE_URL='postgres://dev@127.0.0.1:5432/dev'\nexport GATEWAY_ENV='development'\nexport GATEWAY_MASTER_KEY='k'\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	lookup := func(env map[string]string, dir string) func(string) string {
		t.Helper()
		get, err := devSettings(func(k string) string { return env[k] }, dir, file)
		if err != nil {
			t.Fatal(err)
		}
		return get
	}
	// No DATABASE_URL and a .dev folder: the stack's settings.
	get := lookup(map[string]string{}, dir)
	if get("DATABASE_URL") != "postgres://dev@127.0.0.1:5432/dev" || get("GATEWAY_ENV") != "development" || get("GATEWAY_MASTER_KEY") != "k" {
		t.Errorf("from .dev/env: %q %q", get("DATABASE_URL"), get("GATEWAY_ENV"))
	}
	// GATEWAY_ENV=development: the environment wins where it is set.
	get = lookup(map[string]string{"GATEWAY_ENV": "development", "DATABASE_URL": "postgres://mine/db"}, filepath.Join(dir, "none"))
	if get("DATABASE_URL") != "postgres://mine/db" || get("GATEWAY_MASTER_KEY") != "k" {
		t.Errorf("development with a DATABASE_URL: %q %q", get("DATABASE_URL"), get("GATEWAY_MASTER_KEY"))
	}
	// Production, or a DATABASE_URL without GATEWAY_ENV: nothing is read.
	for _, env := range []map[string]string{{"GATEWAY_ENV": "production"}, {"DATABASE_URL": "postgres://prod/db"}} {
		if get := lookup(env, dir); get("GATEWAY_MASTER_KEY") != "" {
			t.Errorf("%v read .dev/env", env)
		}
	}
	// No .dev folder and no GATEWAY_ENV: nothing is read.
	if get := lookup(map[string]string{}, filepath.Join(dir, "none")); get("DATABASE_URL") != "" {
		t.Error("read .dev/env without a .dev folder")
	}
	if err := os.WriteFile(file, []byte("garbage line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devSettings(func(string) string { return "" }, dir, file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("a bad file: %v", err)
	}
}
