package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

// servedKIDs lists the kids of the JWKS the gateway serves.
func servedKIDs(t *testing.T, h *apitest.Harness) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	h.Do(apitest.Request{Method: http.MethodGet, Path: "/.well-known/receipt-keys", Unsigned: true}).JSON(t, &set)
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

// TestReceiptsRotateAndRevokeKey: rotate-key adds a key to the served JWKS
// and keeps the old ones; revoke-key takes one out at once; the refusals
// say what is wrong.
func TestReceiptsRotateAndRevokeKey(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	if got := servedKIDs(t, h); len(got) != 0 {
		t.Fatalf("keys before any receipt or rotation: %v", got)
	}
	var first, second struct {
		KID string `json:"kid"`
	}
	ctlJSON(t, h, &first, "receipts", "rotate-key", "--by", "tester")
	ctlJSON(t, h, &second, "receipts", "rotate-key", "--by", "tester")
	if first.KID == "" || second.KID == "" || first.KID == second.KID {
		t.Fatalf("rotations: %q then %q", first.KID, second.KID)
	}
	if got := strings.Join(servedKIDs(t, h), ","); got != first.KID+","+second.KID {
		t.Fatalf("served kids %s, want both", got)
	}
	var rev struct {
		Revoked  string `json:"revoked"`
		Current  string `json:"current"`
		Resigned int    `json:"resigned"`
	}
	ctlJSON(t, h, &rev, "receipts", "revoke-key", "--by", "tester", "--kid", first.KID, "--batch", "10")
	if rev.Revoked != first.KID || rev.Current != second.KID || rev.Resigned != 0 {
		t.Fatalf("revoke: %+v", rev)
	}
	if got := servedKIDs(t, h); len(got) != 1 || got[0] != second.KID {
		t.Fatalf("served kids after revoking %s: %v", first.KID, got)
	}

	env := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": "development"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"receipts", "revoke-key", "--by", "tester"}, "--kid"},
		{[]string{"receipts", "revoke-key", "--by", "tester", "--kid", "nokid"}, "no receipt key nokid"},
		{[]string{"receipts", "revoke-key", "--by", "tester", "--kid", second.KID, "--batch", "0"}, "--batch"},
		{[]string{"receipts", "rotate-key", "--by", "tester", "extra"}, "usage"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gatewayctl %v: %v, want an error about %s", tc.args, err, tc.want)
		}
		if json.Valid(stdout.Bytes()) && stdout.Len() > 0 {
			t.Errorf("gatewayctl %v printed %s on failure", tc.args, stdout.String())
		}
	}
	if got := servedKIDs(t, h); len(got) != 1 || got[0] != second.KID {
		t.Fatalf("a refused command changed the keys: %v", got)
	}
}
