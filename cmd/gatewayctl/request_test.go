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

	"github.com/citizenpay/gateway/internal/apitest"
)

// request runs `gatewayctl request` as h's portal and returns its stdout,
// its stderr and its error.
func requestAs(t *testing.T, h *apitest.Harness, args ...string) (string, string, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "portal.json")
	cred, _ := json.Marshal(map[string]string{"portal_id": h.Portal.ID, "key_id": h.Portal.KeyID, "secret": h.Portal.Secret})
	if err := os.WriteFile(file, cred, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	env := map[string]string{"GATEWAY_URL": h.Server.URL}
	err := run(context.Background(), append([]string{"request", "--portal", file}, args...),
		func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// explained is the canonical string --explain printed.
func explained(t *testing.T, stderr string) string {
	t.Helper()
	_, rest, ok := strings.Cut(stderr, "--- canonical string signed with key ")
	_, rest, ok2 := strings.Cut(rest, "\n")
	canonical, _, ok3 := strings.Cut(rest, "\n---\n")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("no canonical string in %q", stderr)
	}
	return canonical
}

func TestRequestExplainsWhatItSigned(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	body := `{"citizen_pid":"079203001234","dossier_code":"CTL-1","service_code":"1.001234","description":"Lệ phí","items":[{"code":"LE_PHI","description":"Lệ phí","amount":"75000"}],"amount":"75000","currency":"VND"}`
	out, errOut, err := requestAs(t, h, "--explain", "--idempotency-key", "ctl-create-1", "--data", body, "POST", "/v1/payment-requests")
	if err != nil {
		t.Fatalf("request: %v\n%s", err, errOut)
	}
	var pr map[string]any
	if json.Unmarshal([]byte(out), &pr) != nil || pr["dossier_code"] != "CTL-1" {
		t.Fatalf("stdout %q", out)
	}
	canonical := explained(t, errOut)
	if !strings.HasPrefix(canonical, "v1\n") || !strings.Contains(canonical, "\nPOST\n/v1/payment-requests\nctl-create-1\n") ||
		!strings.Contains(errOut, "201 Created") || !strings.Contains(errOut, "Idempotency-Key: ctl-create-1") {
		t.Fatalf("stderr %q", errOut)
	}

	// With a wrong secret the gateway's canonical_string is the one explained.
	out, errOut, err = requestAs(t, h, "--explain", "--secret", "psk_wrong", "GET", "/v1/payment-requests?limit=1")
	if !errors.Is(err, errExit) {
		t.Fatalf("wrong secret: %v", err)
	}
	var p struct {
		SignatureError  string `json:"signature_error"`
		CanonicalString string `json:"canonical_string"`
	}
	if json.Unmarshal([]byte(out), &p) != nil || p.SignatureError != "signature_mismatch" || p.CanonicalString != explained(t, errOut) {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
	}
	if !strings.Contains(errOut, "401 Unauthorized") {
		t.Fatalf("stderr %q", errOut)
	}
}
