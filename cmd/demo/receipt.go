package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/signature"
)

// receipt fetches the paid fee's receipt as the portal, as JSON and as a
// PDF, and verifies its JWS offline against /.well-known/receipt-keys, as
// anyone holding the receipt could.
func (s *story) receipt(ctx context.Context) error {
	s.title("The portal fetches the receipt (biên lai) and verifies its signature offline")
	path := "/v1/payment-requests/" + s.prID + "/receipt"
	s.sent("GET %s (signed, as the portal)", path)
	var answer struct {
		Receipt receipt.Receipt `json:"receipt"`
		JWS     string          `json:"jws"`
	}
	r, err := s.c.asPortal(ctx, http.MethodGet, path, "", nil)
	if err := expect(r, err, http.StatusOK, &answer); err != nil {
		return err
	}
	rc := answer.Receipt
	s.got("200: receipt %s, number %s, %s %s", rc.ID, rc.Number, rc.Amount, rc.Currency)
	s.say("amount in words: " + rc.AmountInWords)
	s.say("verify at: " + rc.VerifyURL)

	s.sent("GET /.well-known/receipt-keys (unauthenticated)")
	keys, err := s.c.plain(ctx, http.MethodGet, s.cfg.gateway+"/.well-known/receipt-keys", nil)
	if err := expect(keys, err, http.StatusOK, nil); err != nil {
		return err
	}
	signed, kid, err := receipt.Verify(answer.JWS, keys.Body)
	if err != nil {
		return fmt.Errorf("the receipt's JWS does not verify: %w", err)
	}
	if signed.ID != rc.ID || signed.Number != rc.Number || signed.Amount != rc.Amount || signed.PaymentRequestID != s.prID {
		return fmt.Errorf("the JWS signs receipt %s %s, not the one shown", signed.ID, signed.Number)
	}
	s.got("the JWS verifies offline with key %s: receipt %s of %s đồng (%s)", kid, signed.Number, signed.Amount, signed.AmountInWords)

	s.sent("GET %s with Accept: application/pdf", path)
	pdf, err := s.receiptPDF(ctx, path)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "demo-receipt-")
	if err != nil {
		return err
	}
	file := filepath.Join(dir, s.prID+".pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		return err
	}
	s.got("200: a %d-byte PDF, saved as %s", len(pdf), file)
	return nil
}

// receiptPDF fetches the receipt as a PDF, signed as the portal.
func (s *story) receiptPDF(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.gateway+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/pdf")
	req.Header.Set(signature.HeaderPortalKey, s.c.portal.KeyID)
	signature.SignRequest(req, s.c.portal.Secret, nil, time.Now())
	resp, err := s.c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
		return nil, fmt.Errorf("the PDF: answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return body, nil
}
