package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/testenv"
)

// verifyOutput is the part of the report the tests read.
type verifyOutput struct {
	OK         bool `json:"ok"`
	Invariants []struct {
		Invariant  int  `json:"invariant"`
		OK         bool `json:"ok"`
		Violations []struct {
			Check, ID string
		} `json:"violations"`
	} `json:"invariants"`
	OpenIncidents []struct {
		Kind string `json:"kind"`
	} `json:"open_incidents"`
}

func runVerify(t *testing.T, dbURL string, args ...string) (verifyOutput, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return ""
	}
	err := run(context.Background(), append([]string{"verify"}, args...), getenv, strings.NewReader(""), &stdout, &stderr)
	var out verifyOutput
	if err == nil || errors.Is(err, errExit) {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", jerr, stdout.String())
		}
	}
	return out, stderr.String(), err
}

func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := context.Background()

	out, _, err := runVerify(t, db.URL)
	if err != nil || !out.OK || len(out.Invariants) != 9 {
		t.Fatalf("clean database: err %v, report %+v", err, out)
	}

	// A log line with a pid breaks invariant 7; the command says so by its
	// status and names the broken invariant.
	logFile := filepath.Join(t.TempDir(), "gateway.log")
	if err := os.WriteFile(logFile, []byte(`{"msg":"debit","holder_pid":"079203001234"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runVerify(t, db.URL, "--logs", logFile)
	if !errors.Is(err, errExit) || out.OK || out.Invariants[6].OK || len(out.Invariants[6].Violations) != 1 {
		t.Errorf("pid in a log: err %v, report %+v", err, out)
	}
	if !strings.Contains(stderr, "7 no_clear_personal_data (1)") || strings.Contains(stderr, "079203001234") {
		t.Errorf("stderr = %q", stderr)
	}

	// A known account number, given in a file, found in Redis.
	rdb, prefix := testenv.NewRedis(t)
	rdb.Set(ctx, prefix+"note", "account 0071-000-123456", 0)
	accounts := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(accounts, []byte("0071000123456\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runVerify(t, db.URL, "--redis-url", testenv.RedisURL(t), "--redis-prefix", prefix, "--accounts", accounts)
	if !errors.Is(err, errExit) || len(out.Invariants[6].Violations) != 1 || out.Invariants[6].Violations[0].Check != "clear_account_number" {
		t.Errorf("account number in Redis: err %v, report %+v", err, out)
	}

	// A posting no attempt caused breaks invariant 3.
	err = db.Store.InTx(ctx, func(tx *postgres.Tx) error {
		lt, err := ledger.DebitSucceeded("pa_nowhere", "VCB", "ptl_a", decimal.NewFromInt(1000))
		if err != nil {
			return err
		}
		return postgres.PostLedger(ctx, tx, lt)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = runVerify(t, db.URL)
	if !errors.Is(err, errExit) || out.OK || out.Invariants[2].OK || out.Invariants[2].Violations[0].ID != "pa_nowhere" {
		t.Errorf("posting without attempt: err %v, report %+v", err, out)
	}
}

// TestVerifyFailOnIncidents: an open incident is no violation, so verify
// passes; with --fail-on-incidents it prints the same report and fails.
func TestVerifyFailOnIncidents(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := context.Background()

	if out, _, err := runVerify(t, db.URL, "--fail-on-incidents"); err != nil || !out.OK {
		t.Fatalf("clean database with --fail-on-incidents: err %v, report %+v", err, out)
	}
	if err := postgres.InsertIncident(ctx, db.Store, incident.KindUnknownObject, "VCB", "pa_nowhere", "a callback about no known debit", nil); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runVerify(t, db.URL)
	if err != nil || !out.OK || len(out.OpenIncidents) != 1 || stderr != "" {
		t.Errorf("open incident without the flag: err %v, stderr %q, report %+v", err, stderr, out)
	}
	out, stderr, err = runVerify(t, db.URL, "--fail-on-incidents")
	if !errors.Is(err, errExit) || !out.OK || len(out.OpenIncidents) != 1 || out.OpenIncidents[0].Kind != string(incident.KindUnknownObject) {
		t.Errorf("open incident with --fail-on-incidents: err %v, report %+v", err, out)
	}
	if !strings.Contains(stderr, "1 open incidents") || strings.Contains(stderr, "invariants violated") {
		t.Errorf("stderr = %q", stderr)
	}
}

func TestVerifyCommandUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"extra"}, {"--horizon", "soon"}, {"--horizon", "-1h"}, {"--no-such-flag"}} {
		if _, _, err := runVerify(t, "postgres://127.0.0.1:1/none", args...); !errors.Is(err, errUsage) {
			t.Errorf("verify %v: err %v, want usage", args, err)
		}
	}
	if _, _, err := runVerify(t, "postgres://127.0.0.1:1/none", "--accounts", "/no/such/file"); err == nil || errors.Is(err, errUsage) {
		t.Errorf("missing accounts file: err %v", err)
	}
}
