package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/receipt"
)

// receiptFixture is a signed receipt of 75 000 đồng, the JWKS of its key
// (and of a retired one), and a directory to write files in.
type receiptFixture struct {
	dir  string
	r    receipt.Receipt
	jws  string
	kid  string
	jwks []byte
}

func newReceiptFixture(t *testing.T) *receiptFixture {
	t.Helper()
	req := &payment.Request{
		ID: "pr_01jreceipt0000000000000000", PortalID: "ptl_01jportal0000000000000000", Status: payment.StatusPaid,
		CitizenPIDMasked: "079******234", DossierCode: "HCM-1", ServiceCode: "1.001234", Description: "Lệ phí",
		Items:  []payment.Item{{Code: "LE_PHI", Description: "Lệ phí", Amount: decimal.RequireFromString("75000")}},
		Amount: decimal.RequireFromString("75000"), Currency: "VND",
		Payment: &payment.Payment{BankCode: "SBX", BankReference: "FT1", PaidAt: time.Date(2026, 12, 2, 8, 30, 0, 0, time.UTC)},
	}
	r, err := receipt.New(req, receipt.Issue{ID: "rc_01jreceipt0000000000000000", Seq: 7, PortalName: "Cổng A",
		PayerName: "Nguyễn Văn An", IssuedAt: req.Payment.PaidAt, PublicURL: "https://pay.example.test", CodeKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	key, err1 := receipt.GenerateKey()
	retired, err2 := receipt.GenerateKey()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	jws, err := receipt.Sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := receipt.JWKS(retired.Public(), key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &receiptFixture{dir: t.TempDir(), r: r, jws: jws, kid: key.KID(), jwks: jwks}
}

func (f *receiptFixture) file(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ctlOut runs gatewayctl with env and returns its standard output.
func ctlOut(env map[string]string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), err
}

func TestReceiptsVerify(t *testing.T) {
	t.Parallel()
	f := newReceiptFixture(t)
	jwks := f.file(t, "keys.json", f.jwks)
	answer, _ := json.Marshal(map[string]any{"receipt": f.r, "jws": f.jws})
	for name, jwsFile := range map[string]string{
		"compact JWS":    f.file(t, "receipt.jws", []byte(f.jws+"\n")),
		"the GET answer": f.file(t, "answer.json", answer),
	} {
		out, err := ctlOut(nil, "receipts", "verify", "--jws", jwsFile, "--jwks", jwks)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got struct {
			Verified bool          `json:"verified"`
			Number   string        `json:"number"`
			Amount   string        `json:"amount"`
			Kid      string        `json:"kid"`
			Payer    receipt.Payer `json:"payer"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: output %q: %v", name, out, err)
		}
		if !got.Verified || got.Number != "2026/000007" || got.Amount != "75000" || got.Kid != f.kid ||
			got.Payer != (receipt.Payer{Name: "Nguyễn Văn An", PIDMasked: "079******234"}) {
			t.Errorf("%s: printed %s", name, out)
		}
	}
}

func TestReceiptsVerifyFails(t *testing.T) {
	t.Parallel()
	f := newReceiptFixture(t)
	jwks := f.file(t, "keys.json", f.jwks)
	parts := strings.Split(f.jws, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"75000"`), []byte(`"7500"`), -1)) + "." + parts[2]
	other, _ := receipt.GenerateKey()
	otherJWKS, _ := receipt.JWKS(other.Public())
	shown := f.r
	shown.Amount = "7500"
	lying, _ := json.Marshal(map[string]any{"receipt": shown, "jws": f.jws})
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"tampered payload": {[]string{"--jws", f.file(t, "tampered.jws", []byte(tampered)), "--jwks", jwks}, "bad signature"},
		"unknown kid":      {[]string{"--jws", f.file(t, "ok.jws", []byte(f.jws)), "--jwks", f.file(t, "other.json", otherJWKS)}, "is not in the JWKS"},
		"answer that lies": {[]string{"--jws", f.file(t, "lying.json", lying), "--jwks", jwks}, "differs from the one it signs"},
		"not a JWS":        {[]string{"--jws", f.file(t, "junk.jws", []byte("hello")), "--jwks", jwks}, "malformed JWS"},
		"no such file":     {[]string{"--jws", filepath.Join(f.dir, "missing"), "--jwks", jwks}, "no such file"},
		"no --jws":         {[]string{"--jwks", jwks}, "--jws"},
		"no JWKS at all":   {[]string{"--jws", f.file(t, "ok2.jws", []byte(f.jws))}, "GATEWAY_PUBLIC_URL"},
	} {
		out, err := ctlOut(nil, append([]string{"receipts", "verify"}, tc.args...)...)
		switch {
		case err == nil:
			t.Errorf("%s: verified: %s", name, out)
		case !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: %q, want one line with %q", name, err, tc.want)
		case out != "":
			t.Errorf("%s: printed %q on failure", name, out)
		}
	}
	if _, err := ctlOut(nil, "receipts", "rotate"); !errors.Is(err, errUsage) {
		t.Errorf("receipts rotate: %v, want usage", err)
	}
}

// TestReceiptsVerifyURL fetches the JWKS by URL, given or from
// GATEWAY_PUBLIC_URL.
func TestReceiptsVerifyURL(t *testing.T) {
	t.Parallel()
	f := newReceiptFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/receipt-keys" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.jwks)
	}))
	t.Cleanup(srv.Close)
	jws := f.file(t, "receipt.jws", []byte(f.jws))
	if out, err := ctlOut(nil, "receipts", "verify", "--jws", jws, "--jwks", srv.URL+"/.well-known/receipt-keys"); err != nil || !strings.Contains(out, f.kid) {
		t.Errorf("--jwks URL: %q, %v", out, err)
	}
	if out, err := ctlOut(map[string]string{"GATEWAY_PUBLIC_URL": srv.URL + "/"}, "receipts", "verify", "--jws", jws); err != nil || !strings.Contains(out, "2026/000007") {
		t.Errorf("JWKS from GATEWAY_PUBLIC_URL: %q, %v", out, err)
	}
	if _, err := ctlOut(nil, "receipts", "verify", "--jws", jws, "--jwks", srv.URL+"/keys"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("--jwks URL answering 404: %v", err)
	}
}
