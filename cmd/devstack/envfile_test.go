package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/citizenpay/gateway/internal/devenv"
)

func TestWriteEnvFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "env")
	env := []string{"DATABASE_URL=postgres://a@127.0.0.1/db", "REDIS_URL=redis://127.0.0.1:6379/0", "GATEWAY_MASTER_KEY=old",
		"GATEWAY_MASTER_KEY=key", "GATEWAY_ENV=development", "GATEWAY_PUBLIC_URL=http://localhost:8080", "IDP_CLIENT_SECRET=s"}
	if err := writeEnvFile(file, env); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: it holds the master key", st.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := devenv.ParseEnv(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DATABASE_URL": "postgres://a@127.0.0.1/db", "REDIS_URL": "redis://127.0.0.1:6379/0",
		"GATEWAY_MASTER_KEY": "key", "GATEWAY_ENV": "development", "GATEWAY_PUBLIC_URL": "http://localhost:8080"}
	if len(vars) != len(want) {
		t.Errorf("%d variables, want %d: %v", len(vars), len(want), vars)
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s=%q, want %q", k, vars[k], v)
		}
	}
}
