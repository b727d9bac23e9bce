package main

import (
	"context"
	"fmt"
	"io"
	"net"
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
		"GATEWAY_PUBLIC_URL": "https://pay.example.test",
	}
	cases := map[string]map[string]string{
		"DATABASE_URL":           {"DATABASE_URL": ""},
		"REDIS_URL":              {"REDIS_URL": ""},
		"GATEWAY_MASTER_KEY":     {"GATEWAY_MASTER_KEY": "c2hvcnQ="},
		"IDEMPOTENCY_TTL":        {"IDEMPOTENCY_TTL": "soon"},
		"BANK_CALLBACK_TIMEOUT":  {"BANK_CALLBACK_TIMEOUT": "0s"},
		"GATEWAY_ENV":            {"GATEWAY_ENV": "prod"},
		"IDP_JWKS_URL":           {"IDP_ISSUER": "https://id", "IDP_AUDIENCE": "gw", "IDP_JWKS_URL": "http://127.0.0.1/jwks"},
		"OPS_ADDR":               {"OPS_ADDR": "localhost"},
		"TRUSTED_PROXIES":        {"TRUSTED_PROXIES": "10.0.0.0/8,proxy"},
		"GATEWAY_PUBLIC_URL":     {"GATEWAY_PUBLIC_URL": "http://pay.example.test"},
		"IDP_CLIENT_SECRET":      {"IDP_CLIENT_ID": "checkout"},
		"RECONCILE_AT":           {"RECONCILE_AT": "2am"},
		"BANK_STATEMENT_TIMEOUT": {"BANK_STATEMENT_TIMEOUT": "5"},
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
	env := map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testenv.RedisURL(t), "GATEWAY_MASTER_KEY": apitest.MasterKey,
		"GATEWAY_PUBLIC_URL": "https://pay.example.test"}
	err := run(context.Background(), func(k string) string { return env[k] }, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), "gatewayctl migrate") {
		t.Fatalf("got %v", err)
	}
}

func TestServesAndShutsDown(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	g := startGateway(t, map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testenv.RedisURL(t), "GATEWAY_MASTER_KEY": apitest.MasterKey})
	for _, want := range []struct {
		base, path string
		status     int
	}{
		{g.addr, "/readyz", 200}, {g.addr, "/healthz", 200}, {g.addr, "/metrics", 404},
		{g.ops, "/readyz", 200}, {g.ops, "/healthz", 200}, {g.ops, "/metrics", 200}, {g.ops, "/debug/pprof/", 404},
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
	g.stop(t)
}

// gateway is a gateway process's run, on ports of its own.
type gateway struct {
	addr, ops, banks string
	cancel           context.CancelFunc
	done             chan error
	w                *os.File
}

// startGateway runs the gateway with env (and its listeners on free
// loopback ports), and returns once both listeners are up.
func startGateway(t *testing.T, env map[string]string) *gateway {
	t.Helper()
	env["GATEWAY_ADDR"], env["OPS_ADDR"] = "127.0.0.1:0", "127.0.0.1:0"
	if env["GATEWAY_PUBLIC_URL"] == "" {
		env["GATEWAY_PUBLIC_URL"] = "https://pay.example.test"
	}
	// Port 0 is resolved by the listener; find it in the log line instead of guessing.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{cancel: cancel, done: make(chan error, 1), w: w}
	// A run that stops before listening closes the pipe, so the wait below
	// ends at once with its error instead of at the deadline.
	exited := make(chan error, 1)
	go func() {
		err := run(ctx, func(k string) string { return env[k] }, w)
		exited <- err
		w.Close()
		g.done <- err
	}()
	t.Cleanup(func() { cancel(); <-g.done })
	buf := make([]byte, 64<<10)
	var seen strings.Builder
	deadline := time.Now().Add(20 * time.Second)
	_, wantBanks := env["BANK_CALLBACK_ADDR"]
	for (g.addr == "" || g.ops == "" || (wantBanks && g.banks == "")) && time.Now().Before(deadline) {
		n, err := r.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			break
		}
		for _, line := range strings.Split(seen.String(), "\n") {
			if i := strings.Index(line, `"addr":"`); i >= 0 {
				rest := line[i+len(`"addr":"`):]
				switch {
				case strings.Contains(line, "gateway listening"):
					g.addr = rest[:strings.Index(rest, `"`)]
				case strings.Contains(line, "operations listening"):
					g.ops = rest[:strings.Index(rest, `"`)]
				case strings.Contains(line, "bank callbacks listening"):
					g.banks = rest[:strings.Index(rest, `"`)]
				}
			}
		}
	}
	if g.addr == "" || g.ops == "" || (wantBanks && g.banks == "") {
		select {
		case err := <-exited:
			t.Fatalf("the gateway stopped before listening: %v; it logged %s", err, seen.String())
		default:
			t.Fatalf("no listening lines in %s", seen.String())
		}
	}
	go func() {
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	return g
}

// stop shuts the gateway down as SIGTERM does, and checks it stops cleanly.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	g.cancel()
	select {
	case err := <-g.done:
		g.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("run returned %v on shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no graceful shutdown")
	}
}

// TestSlowFloodFromOneSourceLeavesBankCallbacksServed: one source opens
// many connections that send their headers and then trickle nothing more
// of their bodies, far more than the gateway's whole connection budget.
// Only its own share is held (the body timeout is left long here, so that
// the cap alone is tested); a bank's callback from another source is
// answered at once, and the refusals are counted on the operations
// listener.
func TestSlowFloodFromOneSourceLeavesBankCallbacksServed(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	g := startGateway(t, map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testenv.RedisURL(t), "GATEWAY_MASTER_KEY": apitest.MasterKey,
		"GATEWAY_MAX_CONNECTIONS": "16", "GATEWAY_MAX_CONNECTIONS_PER_IP": "4", "BODY_READ_TIMEOUT": "1m", "GATEWAY_WORKERS": "false"})
	const flood = 40
	slowBodies(t, g.addr, net.ParseIP("127.0.0.2"), flood)
	client := callbackAnswered(t, g.addr)
	resp, err := client.Get("http://" + g.ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	want := fmt.Sprintf(`gateway_connections_refused_total{listener="api",reason="per_source"} %d`, flood-4)
	if !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

// TestBanksListenerServesCallbacksThroughAFloodFromManySources: slow
// connections from many sources, each within its per-source cap, fill the
// public listener's whole budget; a bank's callback on the banks' listener
// (BANK_CALLBACK_ADDR) is still answered, and that listener serves nothing
// but callbacks and health.
func TestBanksListenerServesCallbacksThroughAFloodFromManySources(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	g := startGateway(t, map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testenv.RedisURL(t), "GATEWAY_MASTER_KEY": apitest.MasterKey,
		"GATEWAY_MAX_CONNECTIONS": "16", "GATEWAY_MAX_CONNECTIONS_PER_IP": "4", "BODY_READ_TIMEOUT": "1m", "GATEWAY_WORKERS": "false",
		"BANK_CALLBACK_ADDR": "127.0.0.1:0"})
	for i := range 8 { // 8 sources × 4 connections: twice the public budget
		slowBodies(t, g.addr, net.IPv4(127, 0, 1, byte(10+i)), 4)
	}
	client := callbackAnswered(t, g.banks)
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/v1/payment-requests": http.StatusNotFound,
		"/v1/me": http.StatusNotFound, "/metrics": http.StatusNotFound, "/openapi.yaml": http.StatusNotFound} {
		resp, err := client.Get("http://" + g.banks + path)
		if err != nil {
			t.Fatalf("GET %s on the banks' listener: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s on the banks' listener: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// slowBodies opens n connections from ip to addr that send a callback's
// headers and then one byte of its 60,000-byte body, held until the test
// ends.
func slowBodies(t *testing.T, addr string, ip net.IP, n int) {
	t.Helper()
	for range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_, _ = io.WriteString(c, "POST /v1/bank-callbacks/SBX HTTP/1.1\r\nHost: gw\r\nContent-Length: 60000\r\n\r\n{")
	}
}

// callbackAnswered posts an unsigned callback to addr and fails unless it
// is answered (401: refused as unsigned); it returns the client it used.
func callbackAnswered(t *testing.T, addr string) *http.Client {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second} // only so that the test fails instead of hanging
	resp, err := client.Post("http://"+addr+"/v1/bank-callbacks/SBX", "application/json", strings.NewReader(`{"event_type":"debit.succeeded"}`))
	if err != nil {
		t.Fatalf("a bank's callback during the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a bank's callback during the flood: %d, want 401", resp.StatusCode)
	}
	return client
}
