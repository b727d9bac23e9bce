package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/signature"
)

// signatureProblem is what a 401 invalid_signature says beyond its code.
type signatureProblem struct {
	Code            string  `json:"code"`
	Detail          string  `json:"detail"`
	SignatureError  string  `json:"signature_error"`
	GatewayTime     string  `json:"gateway_time"`
	CanonicalString *string `json:"canonical_string"`
}

func decodeSignatureProblem(t *testing.T, r *apitest.Response, wantCheck string) signatureProblem {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("status %d %s, want 401", r.Status, r.Body)
	}
	var p signatureProblem
	r.JSON(t, &p)
	if p.Code != "invalid_signature" || p.SignatureError != wantCheck {
		t.Fatalf("code %q signature_error %q, want invalid_signature %q: %s", p.Code, p.SignatureError, wantCheck, r.Body)
	}
	if _, err := time.Parse(time.RFC3339, p.GatewayTime); err != nil || !strings.HasSuffix(p.GatewayTime, "Z") {
		t.Fatalf("gateway_time %q is not RFC 3339 in UTC", p.GatewayTime)
	}
	if wantCheck != "signature_mismatch" && p.CanonicalString != nil {
		t.Fatalf("%s carries canonical_string: %s", wantCheck, r.Body)
	}
	return p
}

// noSecret fails when the answer shows the secret or what it signs.
func noSecret(t *testing.T, r *apitest.Response, secret string, m signature.Message) {
	t.Helper()
	sig := strings.TrimPrefix(signature.Sign(secret, m), "v1=")
	if bytes.Contains(r.Body, []byte(secret)) || bytes.Contains(r.Body, []byte(sig)) {
		t.Fatalf("the answer shows the secret or the expected signature: %s", r.Body)
	}
}

func TestSignatureRefusalSaysWhichCheckFailed(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	body := apitest.Marshal(t, createBody("SIG-1"))

	t.Run("unknown key id", func(t *testing.T) {
		req := signedRequest(t, h, http.MethodGet, "/v1/payment-requests", nil, "")
		req.Header.Set(signature.HeaderPortalKey, "pk_no_such_portal")
		p := decodeSignatureProblem(t, h.Send(req, nil), "unknown_key_id")
		if !strings.Contains(p.Detail, "X-Portal-Key") {
			t.Fatalf("detail %q does not name X-Portal-Key", p.Detail)
		}
	})

	t.Run("missing headers", func(t *testing.T) {
		r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Unsigned: true,
			Header: http.Header{signature.HeaderPortalKey: {h.Portal.KeyID}}})
		decodeSignatureProblem(t, r, "missing_headers")
		r = h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Unsigned: true})
		decodeSignatureProblem(t, r, "missing_headers")
	})

	t.Run("ill-formed headers", func(t *testing.T) {
		req := signedRequest(t, h, http.MethodGet, "/v1/payment-requests", nil, "")
		req.Header.Set(signature.HeaderSignature, "v1=zz")
		p := decodeSignatureProblem(t, h.Send(req, nil), "malformed_headers")
		if !strings.Contains(p.Detail, "X-Signature") {
			t.Fatalf("detail %q does not name X-Signature", p.Detail)
		}
		req = signedRequest(t, h, http.MethodGet, "/v1/payment-requests", nil, "")
		req.Header.Set(signature.HeaderTimestamp, "yesterday")
		p = decodeSignatureProblem(t, h.Send(req, nil), "malformed_headers")
		if !strings.Contains(p.Detail, "X-Timestamp") {
			t.Fatalf("detail %q does not name X-Timestamp", p.Detail)
		}
	})

	t.Run("stale timestamp", func(t *testing.T) {
		sent := time.Now().Add(-10 * time.Minute)
		r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Timestamp: sent})
		p := decodeSignatureProblem(t, r, "timestamp_out_of_window")
		gt, _ := time.Parse(time.RFC3339, p.GatewayTime)
		if d := time.Since(gt); d < -2*time.Second || d > 2*time.Second {
			t.Fatalf("gateway_time %s is not the gateway's time now", p.GatewayTime)
		}
		if !strings.Contains(p.Detail, "300 s") || !strings.Contains(p.Detail, p.GatewayTime) {
			t.Fatalf("detail %q names neither the window nor the gateway's time", p.Detail)
		}
	})

	t.Run("tampered body", func(t *testing.T) {
		req := signedRequest(t, h, http.MethodPost, "/v1/payment-requests?x=1", body, "sig-tamper")
		tampered := bytes.Replace(body, []byte("75000"), []byte("75001"), 1)
		req.Body, req.ContentLength = ioNop(tampered), int64(len(tampered))
		r := h.Send(req, tampered)
		p := decodeSignatureProblem(t, r, "signature_mismatch")
		want := signature.Message{Timestamp: req.Header.Get(signature.HeaderTimestamp), Method: http.MethodPost,
			Target: "/v1/payment-requests?x=1", IdempotencyKey: "sig-tamper", Body: tampered}
		if p.CanonicalString == nil || *p.CanonicalString != want.Canonical() {
			t.Fatalf("canonical_string %q, want %q", deref(p.CanonicalString), want.Canonical())
		}
		noSecret(t, r, h.Portal.Secret, want)
	})

	t.Run("wrong secret", func(t *testing.T) {
		r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests?limit=2", Secret: "psk_not_it"})
		p := decodeSignatureProblem(t, r, "signature_mismatch")
		if p.CanonicalString == nil || !strings.HasPrefix(*p.CanonicalString, "v1\n") ||
			!strings.Contains(*p.CanonicalString, "\nGET\n/v1/payment-requests?limit=2\n\n") {
			t.Fatalf("canonical_string %q", deref(p.CanonicalString))
		}
	})

	t.Run("bank callback", func(t *testing.T) {
		// An unknown bank is refused like a wrong signature, with the
		// same canonical string: the answer does not tell which banks exist.
		cb := []byte(`{}`)
		req, err := banksim.SignedCallbackRequest(context.Background(), h.Server.URL+"/v1/bank-callbacks/NOPE", "bsk_x", cb, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := h.Send(req, cb)
		p := decodeSignatureProblem(t, r, "signature_mismatch")
		want := signature.FromRequest(&http.Request{Method: req.Method, RequestURI: req.URL.RequestURI(), Header: req.Header}, cb)
		if p.CanonicalString == nil || *p.CanonicalString != want.Canonical() {
			t.Fatalf("canonical_string %q, want %q", deref(p.CanonicalString), want.Canonical())
		}
		req, _ = banksim.SignedCallbackRequest(context.Background(), h.Server.URL+"/v1/bank-callbacks/NOPE", "bsk_x", cb, time.Now().Add(-time.Hour))
		decodeSignatureProblem(t, h.Send(req, cb), "timestamp_out_of_window")
	})
}

func TestDuplicateDossierNamesTheLiveRequest(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	first := h.Post("/v1/payment-requests", "dd-1", createBody("DD-1"))
	if first.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", first.Status, first.Body)
	}
	live := first.Map(t)["id"].(string)
	dup := h.Post("/v1/payment-requests", "dd-2", createBody("DD-1"))
	var p struct {
		Code             string `json:"code"`
		Detail           string `json:"detail"`
		PaymentRequestID string `json:"payment_request_id"`
	}
	dup.JSON(t, &p)
	if dup.Status != http.StatusConflict || p.Code != "duplicate_dossier" || p.PaymentRequestID != live || !strings.Contains(p.Detail, live) {
		t.Fatalf("duplicate dossier: %d %s, want payment_request_id %s in it and its detail", dup.Status, dup.Body, live)
	}
	if again := h.Post("/v1/payment-requests", "dd-2", createBody("DD-1")); !bytes.Equal(again.Body, dup.Body) {
		t.Fatalf("replay differs: %s", again.Body)
	}
	// Once the live request is canceled the dossier is free again.
	if r := h.Post("/v1/payment-requests/"+live+"/cancel", "dd-cancel", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if r := h.Post("/v1/payment-requests", "dd-3", createBody("DD-1")); r.Status != http.StatusCreated {
		t.Fatalf("create after cancel: %d %s", r.Status, r.Body)
	}
}
