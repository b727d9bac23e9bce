package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/keyring"
)

// ctlEnv runs gatewayctl with env alone and returns its stdout.
func ctlEnv(env map[string]string, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

const wrongKeyLine = "GATEWAY_MASTER_KEY: does not match the key this database was set up with"

func TestAnotherMasterKeyIsRefusedByName(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // the database is set up with apitest.MasterKey
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	env := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": other, "GATEWAY_ENV": "development"}
	portals := h.Count(`SELECT count(*) FROM portals`)
	for _, args := range [][]string{
		{"portal", "create", "--name", "X", "--webhook-url", "https://x.example.vn/hooks", "--by", "tester"},
		{"portal", "rotate-secret", "--portal", h.Portal.ID, "--by", "tester"},
		{"bank", "create", "--code", "XB", "--name", "X", "--base-url", "https://x.example.vn", "--by", "tester"},
		{"receipts", "rotate-key", "--by", "tester"},
		{"migrate"},
	} {
		_, _, err := ctlEnv(env, args...)
		if !errors.Is(err, keyring.ErrMasterKeyMismatch) || err.Error() != wrongKeyLine {
			t.Errorf("%v with another key: %v", args, err)
		}
	}
	if n := h.Count(`SELECT count(*) FROM portals`); n != portals {
		t.Errorf("%d portals after the refusals, want %d", n, portals)
	}
	var created map[string]any
	ctlJSON(t, h, &created, "portal", "create", "--name", "Right key", "--webhook-url", "https://r.example.vn/hooks", "--by", "tester")
	if created["portal_id"] == nil {
		t.Errorf("the right key: %v", created)
	}
}

func TestReadsNeedNoMasterKey(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	h.NewBank("SBX")
	env := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_ENV": "development"}
	for _, args := range [][]string{
		{"portal", "list"},
		{"bank", "list"},
		{"incidents", "list"},
		{"events", "list", "--portal", h.Portal.ID},
		{"settlements", "list"},
	} {
		out, _, err := ctlEnv(env, args...)
		if err != nil {
			t.Errorf("%v without a key: %v", args, err)
			continue
		}
		var v []map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%v printed %q", args, out)
		}
		if args[0] == "portal" && (len(v) != 1 || v[0]["portal_id"] != h.Portal.ID || v[0]["secret"] != nil || v[0]["disabled"] != false) {
			t.Errorf("portal list: %v", v)
		}
		if args[0] == "bank" && (len(v) != 1 || v[0]["bank_code"] != "SBX" || v[0]["secret"] != nil) {
			t.Errorf("bank list: %v", v)
		}
	}
	if _, _, err := ctlEnv(env, "portal", "create", "--name", "X", "--webhook-url", "https://x.example.vn/h", "--by", "t"); err == nil ||
		!strings.Contains(err.Error(), "GATEWAY_MASTER_KEY") {
		t.Errorf("create without a key: %v", err)
	}
}
