package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/testenv"
)

func noEnv(string) string { return "" }

func TestParseOptions(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("bsk_from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions([]string{
		"--secret-file", secretFile, "--accounts", "testdata/accounts.json",
		"--account", "0071000777777:079090009999:LÊ: VĂN C:1200", "--sync", "--latency", "10ms",
		"--base-path", "/api/gw", "--duplicate-callbacks", "3", "--callback-attempts", "5",
	}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:8092" || o.bank.BankCode != "SBX" || o.bank.Secret != "bsk_from_file" ||
		o.bank.CallbackURL != "http://127.0.0.1:8080/v1/bank-callbacks/SBX" || o.bank.BasePath != "/api/gw" {
		t.Fatalf("options %+v", o)
	}
	if want := (banksim.Knobs{Sync: true, Latency: 10 * time.Millisecond, DuplicateCallbacks: 3}); o.bank.Knobs != want {
		t.Fatalf("knobs %+v", o.bank.Knobs)
	}
	if o.bank.Retry != (banksim.CallbackRetry{Base: banksim.DefaultRetryBase, Max: banksim.DefaultRetryMax, Attempts: 5}) {
		t.Fatalf("retry %+v", o.bank.Retry)
	}
	if len(o.bank.Accounts) != 3 {
		t.Fatalf("accounts %d", len(o.bank.Accounts))
	}
	last := o.bank.Accounts[2]
	if last.Number != "0071000777777" || last.HolderPID != "079090009999" || last.HolderName != "LÊ: VĂN C" || !last.Balance.Equal(decimal.NewFromInt(1200)) {
		t.Fatalf("--account %+v", last)
	}
	if !o.bank.Accounts[1].Balance.Equal(decimal.NewFromInt(50000)) {
		t.Fatalf("file account %+v", o.bank.Accounts[1])
	}
}

func TestParseOptionsSecret(t *testing.T) {
	t.Parallel()
	env := func(string) string { return "bsk_from_env" }
	if o, err := parseOptions(nil, env, io.Discard); err != nil || o.bank.Secret != "bsk_from_env" {
		t.Fatalf("env: %q %v", o.bank.Secret, err)
	}
	if o, err := parseOptions([]string{"--secret", "bsk_flag"}, env, io.Discard); err != nil || o.bank.Secret != "bsk_flag" {
		t.Fatalf("flag over env: %q %v", o.bank.Secret, err)
	}
	if _, err := parseOptions(nil, noEnv, io.Discard); err == nil {
		t.Fatal("no secret accepted")
	}
	if _, err := parseOptions([]string{"--secret", "a", "--secret-file", "b"}, noEnv, io.Discard); err == nil {
		t.Fatal("two secrets accepted")
	}
}

func TestParseOptionsRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"positional argument", []string{"--secret", "s", "serve"}},
		{"account without balance", []string{"--secret", "s", "--account", "0071000123456:079090001234:A"}},
		{"account balance not a number", []string{"--secret", "s", "--account", "0071000123456:079090001234:A:lots"}},
		{"missing accounts file", []string{"--secret", "s", "--accounts", "testdata/none.json"}},
		{"unknown flag", []string{"--secret", "s", "--speed", "1"}},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		_, err := parseOptions(tt.args, noEnv, &stderr)
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
		if out := err.Error() + stderr.String(); strings.Contains(out, "0071000123456") || strings.Contains(out, "079090001234") {
			t.Errorf("%s: the message shows personal data: %s", tt.name, out)
		}
	}
	if _, err := parseOptions([]string{"-h"}, noEnv, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// lockedBuffer is an io.Writer the test may read while run writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	const secret = "bsk_test_cmd"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{
			"--addr", "127.0.0.1:0", "--secret", secret, "--sync", "--base-path", "/api/gw", "--log-level", "debug",
			"--accounts", "testdata/accounts.json", "--callback-url", "http://127.0.0.1:1/v1/bank-callbacks/SBX",
		}, &stdout, io.Discard)
	}()

	var addr string
	testenv.Eventually(t, 5*time.Second, func() bool {
		sc := bufio.NewScanner(strings.NewReader(stdout.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "banksim listening" {
				addr = line.Addr
			}
		}
		return addr != ""
	}, "no listening line")

	body := []byte(`{"debit_id":"pa_cmd","account_number":"0071000123456","holder_pid":"079090001234","amount":"75000","currency":"VND","description":"x","description_ascii":"x","reference":"HS-1"}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/gw/v1/debits", bytes.NewReader(body))
	req.Header.Set(signature.HeaderIdempotencyKey, "pa_cmd")
	signature.SignRequest(req, secret, body, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"status":"succeeded"`) {
		t.Fatalf("debit: %d %s", resp.StatusCode, out)
	}
	resp, err = http.Get("http://" + addr + "/_sim/accounts/0071000123456")
	if err != nil {
		t.Fatal(err)
	}
	out, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(out), `"balance":"9925000"`) {
		t.Fatalf("balance: %s", out)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	logs := stdout.String()
	if !strings.Contains(logs, `"msg":"operation"`) || !strings.Contains(logs, "******3456") {
		t.Fatalf("the debug log of the debit is missing: %s", logs)
	}
	for _, personal := range []string{"0071000123456", "079090001234", "NGUY", secret} {
		if strings.Contains(logs, personal) {
			t.Fatalf("logs show %q: %s", personal, logs)
		}
	}
}
