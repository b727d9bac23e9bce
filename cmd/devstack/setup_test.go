package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/devenv"
)

func TestMasterKeyIsCreatedOnceAndKeptPrivate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "master.key")
	var said []string
	log := func(format string, args ...any) { said = append(said, format) }
	first, err := masterKey(file, log)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.StdEncoding.DecodeString(first); err != nil || len(raw) != 32 {
		t.Errorf("key %q decodes to %d bytes (%v), want 32", first, len(raw), err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, fi.Mode().Perm())
	}
	again, err := masterKey(file, log)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("the second run read %q, want the key of the first %q", again, first)
	}
	if len(said) != 1 {
		t.Errorf("logged %d creations, want 1: %q", len(said), said)
	}
}

func TestStackEnvKeepsTheUsersSettings(t *testing.T) {
	t.Parallel()
	st, err := devenv.Load(lookup([]string{"DEV_IDP_ADDR=127.0.0.1:18091"}))
	if err != nil {
		t.Fatal(err)
	}
	env, err := stackEnv(st, []string{"GATEWAY_MASTER_KEY=k", "IDP_CLIENT_SECRET=s", "GATEWAY_ENV=production", "OPS_PPROF=false",
		"IDP_AUDIENCE=mine", "LOG_LEVEL=debug"}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	get := lookup(env)
	for k, want := range map[string]string{
		"GATEWAY_MASTER_KEY": "k", // the user's key, no file made
		"IDP_CLIENT_SECRET":  "s",
		"GATEWAY_ENV":        "development", // always
		"GATEWAY_ADDR":       ":8080",
		"OPS_PPROF":          "false",
		"IDP_AUDIENCE":       "mine",
		"IDP_ISSUER":         "http://127.0.0.1:18091",
		"IDP_JWKS_URL":       "http://127.0.0.1:18091/.well-known/jwks.json",
		"LOG_LEVEL":          "debug",
	} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q (env %s)", k, got, want, strings.Join(env, " "))
		}
	}
}
