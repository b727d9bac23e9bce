package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestStartupRefusesBadSettings(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"DATABASE_URL":       "postgres://gateway@127.0.0.1:1/none",
		"REDIS_URL":          "redis://127.0.0.1:1/0",
		"GATEWAY_MASTER_KEY": apitest.MasterKey,
	}
	cases := map[string]map[string]string{
		"DATABASE_URL":          {"DATABASE_URL": ""},
		"REDIS_URL":             {"REDIS_URL": ""},
		"GATEWAY_MASTER_KEY":    {"GATEWAY_MASTER_KEY": "c2hvcnQ="},
		"IDEMPOTENCY_TTL":       {"IDEMPOTENCY_TTL": "soon"},
		"BANK_CALLBACK_TIMEOUT": {"BANK_CALLBACK_TIMEOUT": "0s"},
		"GATEWAY_ENV":           {"GATEWAY_ENV": "prod"},
		"IDP_JWKS_URL":          {"IDP_ISSUER": "https://id", "IDP_AUDIENCE": "gw", "IDP_JWKS_URL": "http://127.0.0.1/jwks"},
		"OPS_ADDR":              {"OPS_ADDR": "localhost"},
		"TRUSTED_PROXIES":       {"TRUSTED_PROXIES": "10.0.0.0/8,proxy"},
	}
	for setting, over := range cases {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range over {
			env[k] = v
		}
		err := run(context.Background(), func(k string) string { return env[k] }, os.Stderr)
		if err == nil || !strings.HasPrefix(err.Error(), setting+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v", setting, err)
		}
	}
}

func TestStartupRefusesOlderSchema(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	if _, err := db.Pool.Exec(context.Background(), "DELETE FROM gateway_schema_migrations WHERE version = (SELECT max(version) FROM gateway_schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testenv.RedisURL(t), "GATEWAY_MASTER_KEY": apitest.MasterKey}
	err := run(context.Background(), func(k string) string { return env[k] }, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), "gatewayctl migrate") {
		t.Fatalf("got %v", err)
	}
}

func TestServesAndShutsDown(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	env := map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testenv.RedisURL(t), "GATEWAY_MASTER_KEY": apitest.MasterKey,
		"GATEWAY_ADDR": "127.0.0.1:0", "OPS_ADDR": "127.0.0.1:0"}
	// Port 0 is resolved by the listener; find it in the log line instead of guessing.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, w) }()
	addr, opsAddr := "", ""
	buf := make([]byte, 64<<10)
	var seen strings.Builder
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		n, _ := r.Read(buf)
		seen.Write(buf[:n])
		for _, line := range strings.Split(seen.String(), "\n") {
			if i := strings.Index(line, `"addr":"`); i >= 0 {
				rest := line[i+len(`"addr":"`):]
				switch {
				case strings.Contains(line, "gateway listening"):
					addr = rest[:strings.Index(rest, `"`)]
				case strings.Contains(line, "operations listening"):
					opsAddr = rest[:strings.Index(rest, `"`)]
				}
			}
		}
	}
	if addr == "" || opsAddr == "" {
		t.Fatalf("no listening lines in %s", seen.String())
	}
	go func() {
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	for _, want := range []struct {
		base, path string
		status     int
	}{
		{addr, "/readyz", 200}, {addr, "/healthz", 200}, {addr, "/metrics", 404},
		{opsAddr, "/readyz", 200}, {opsAddr, "/healthz", 200}, {opsAddr, "/metrics", 200}, {opsAddr, "/debug/pprof/", 404},
	} {
		resp, err := http.Get("http://" + want.base + want.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want.status {
			t.Errorf("%s%s: %d, want %d", want.base, want.path, resp.StatusCode, want.status)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v on shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	w.Close()
}
