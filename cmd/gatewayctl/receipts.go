package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/receipt"
)

// maxJWKS bounds what is read of a JWKS or a receipt file.
const maxJWKS = 1 << 20

// receipts runs `gatewayctl receipts rotate-key|revoke-key` (receipts_keys.go)
// and `gatewayctl receipts verify --jws FILE [--jwks FILE|URL]`:
// the offline check of a receipt that PROTOCOL.md §11 promises anyone,
// with the JWKS alone. FILE holds the compact JWS, or the whole answer of
// GET …/receipt ({"receipt":…,"jws":…}), whose receipt must then be the one
// signed. Without --jwks the keys come from
// {GATEWAY_PUBLIC_URL}/.well-known/receipt-keys. It prints the verified
// receipt's number, amount, payer and kid; anything else is one line and
// exit status 1.
func (e env) receipts(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "rotate-key":
		return e.rotateReceiptKey(args[1:])
	case "revoke-key":
		return e.revokeReceiptKey(args[1:])
	case "verify":
	default:
		return errUsage
	}
	fs := newFlags("receipts verify")
	jwsFile := fs.String("jws", "", "file holding the receipt's JWS (or the JSON answer of GET …/receipt)")
	jwksRef := fs.String("jwks", "", "JWKS file, or its http(s) URL (default {GATEWAY_PUBLIC_URL}/.well-known/receipt-keys)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if *jwsFile == "" {
		return errors.New("--jws: the file holding the receipt's JWS is required")
	}
	jws, shown, err := readReceiptFile(*jwsFile)
	if err != nil {
		return err
	}
	if *jwksRef == "" {
		base := strings.TrimRight(e.getenv("GATEWAY_PUBLIC_URL"), "/")
		if base == "" {
			return errors.New("--jwks: give the JWKS file or URL (or set GATEWAY_PUBLIC_URL)")
		}
		*jwksRef = base + "/.well-known/receipt-keys"
	}
	jwks, err := e.readJWKS(*jwksRef)
	if err != nil {
		return err
	}
	r, kid, err := receipt.Verify(jws, jwks)
	if err != nil {
		return fmt.Errorf("the receipt does not verify: %w", err)
	}
	if shown != nil {
		if err := sameAsSigned(*shown, r); err != nil {
			return err
		}
	}
	return e.printJSON(map[string]any{
		"verified": true, "kid": kid, "id": r.ID, "number": r.Number, "payment_request_id": r.PaymentRequestID,
		"amount": r.Amount, "currency": r.Currency, "payer": r.Payer,
	})
}

// readReceiptFile reads a compact JWS, or a {"receipt":…,"jws":…} answer
// whose receipt it returns too.
func readReceiptFile(path string) (string, *receipt.Receipt, error) {
	b, err := readLimited(path)
	if err != nil {
		return "", nil, fmt.Errorf("--jws: %w", err)
	}
	b = bytes.TrimSpace(b)
	if !bytes.HasPrefix(b, []byte("{")) {
		return string(b), nil, nil
	}
	var answer struct {
		Receipt *receipt.Receipt `json:"receipt"`
		JWS     string           `json:"jws"`
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.JWS == "" {
		return "", nil, fmt.Errorf("--jws: %s is JSON but not a receipt answer with a jws", path)
	}
	return answer.JWS, answer.Receipt, nil
}

// sameAsSigned refuses an answer whose receipt is not the one its JWS
// signs (verify_url aside, which is never signed).
func sameAsSigned(shown, signed receipt.Receipt) error {
	shown.VerifyURL = ""
	a, err1 := receipt.Payload(shown)
	b, err2 := receipt.Payload(signed)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		return errors.New("the receipt does not verify: the receipt beside the JWS differs from the one it signs")
	}
	return nil
}

// readJWKS reads the JWKS from a file or fetches it from an http(s) URL.
func (e env) readJWKS(ref string) ([]byte, error) {
	if !strings.HasPrefix(ref, "https://") && !strings.HasPrefix(ref, "http://") {
		b, err := readLimited(ref)
		if err != nil {
			return nil, fmt.Errorf("--jwks: %w", err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, ref, nil)
	if err != nil {
		return nil, fmt.Errorf("--jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("--jwks: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("--jwks: %s answered %s", ref, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, fmt.Errorf("--jwks: read %s: %w", ref, err)
	}
	if len(b) > maxJWKS {
		return nil, fmt.Errorf("--jwks: %s sent more than %d bytes", ref, maxJWKS)
	}
	return b, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJWKS+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJWKS {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxJWKS)
	}
	return b, nil
}
