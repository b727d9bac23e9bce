package portal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/webhook"
	"github.com/citizenpay/gateway/pkg/portal"
)

// contractTransport checks every exchange the client makes against
// api/openapi.yaml, as the harness does for its own.
type contractTransport struct{ t testing.TB }

func (c contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		body, _ = io.ReadAll(rc)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	apitest.ValidateExchange(c.t, req, body, &apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: out})
	return resp, nil
}

func newClient(t *testing.T, h *apitest.Harness, opts ...portal.Option) *portal.Client {
	t.Helper()
	opts = append([]portal.Option{portal.WithHTTPClient(&http.Client{Transport: contractTransport{t}, Timeout: 10 * time.Second})}, opts...)
	c, err := portal.New(h.Server.URL, h.Portal.KeyID, h.Portal.Secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fee(dossier, pid string) portal.CreatePaymentRequestParams {
	return portal.CreatePaymentRequestParams{
		CitizenPID: pid, DossierCode: dossier, ServiceCode: "1.001234", Description: "Lệ phí cấp giấy phép xây dựng",
		Items: []portal.Item{
			{Code: "LE_PHI", Description: "Lệ phí", Amount: "50000"},
			{Code: "PHI", Description: "Phí thẩm định", Amount: "25000"},
		},
		Amount: "75000", Metadata: map[string]string{"office": "Q1"},
	}
}

func TestClientAgainstTheGateway(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	c := newClient(t, h)
	ctx := context.Background()

	exp := h.Now().Add(48 * time.Hour).Truncate(time.Second)
	p := fee("SDK-1", "079203001234")
	p.ExpiresAt = &exp
	pr, err := c.CreatePaymentRequest(ctx, p, portal.WithIdempotencyKey("create-SDK-1"))
	if err != nil {
		t.Fatal(err)
	}
	if pr.Status != portal.StatusPending || pr.Amount != "75000" || pr.Currency != "VND" || !pr.ExpiresAt.Equal(exp) ||
		pr.CitizenPIDMasked != "079******234" || !strings.HasPrefix(pr.CheckoutURL, "https://pay.gateway.test/") {
		t.Fatalf("created %+v", pr)
	}
	// The same key replays the create.
	again, err := c.CreatePaymentRequest(ctx, p, portal.WithIdempotencyKey("create-SDK-1"))
	if err != nil || again.ID != pr.ID {
		t.Fatalf("replay: %v %+v", err, again)
	}
	got, err := c.GetPaymentRequest(ctx, pr.ID)
	if err != nil || got.ID != pr.ID || got.Version != 1 {
		t.Fatalf("get: %v %+v", err, got)
	}

	// Another request for the dossier names the live one.
	_, err = c.CreatePaymentRequest(ctx, fee("SDK-1", "079203001234"))
	var e *portal.Error
	if !errors.As(err, &e) || e.StatusCode != 409 || e.Code != portal.CodeDuplicateDossier || e.PaymentRequestID != pr.ID ||
		e.RequestID == "" || !portal.IsCode(err, portal.CodeDuplicateDossier) {
		t.Fatalf("duplicate: %v", err)
	}
	// A field problem carries its fields.
	bad := fee("SDK-BAD", "079203001234")
	bad.Amount = "75001"
	if _, err := c.CreatePaymentRequest(ctx, bad); !errors.As(err, &e) || e.Code != portal.CodeAmountMismatch {
		t.Fatalf("amount mismatch: %v", err)
	}
	if _, err := c.GetPaymentRequest(ctx, "pr_nope"); !portal.IsCode(err, portal.CodeNotFound) {
		t.Fatalf("get unknown: %v", err)
	}

	for i := 2; i <= 5; i++ {
		if _, err := c.CreatePaymentRequest(ctx, fee(fmt.Sprintf("SDK-%d", i), "079203001234")); err != nil {
			t.Fatal(err)
		}
	}
	first, err := c.ListPaymentRequests(ctx, portal.ListPaymentRequestsParams{Limit: 2})
	if err != nil || len(first.Data) != 2 || first.NextCursor == "" || first.Data[0].DossierCode != "SDK-5" {
		t.Fatalf("first page: %v %+v", err, first)
	}
	var all []string
	for r, err := range c.AllPaymentRequests(ctx, portal.ListPaymentRequestsParams{Limit: 2, CreatedFrom: h.Now().Add(-time.Hour),
		CreatedTo: h.Now().Add(time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, r.DossierCode)
	}
	if strings.Join(all, ",") != "SDK-5,SDK-4,SDK-3,SDK-2,SDK-1" {
		t.Fatalf("all pages: %v", all)
	}
	none, err := c.ListPaymentRequests(ctx, portal.ListPaymentRequestsParams{CreatedFrom: h.Now().Add(time.Hour)})
	if err != nil || len(none.Data) != 0 || none.NextCursor != "" {
		t.Fatalf("created_from in the future: %v %+v", err, none)
	}
	one, err := c.ListPaymentRequests(ctx, portal.ListPaymentRequestsParams{DossierCode: "SDK-3", Status: portal.StatusPending})
	if err != nil || len(one.Data) != 1 || one.Data[0].DossierCode != "SDK-3" {
		t.Fatalf("dossier filter: %v %+v", err, one)
	}

	canceled, err := c.CancelPaymentRequest(ctx, pr.ID)
	if err != nil || canceled.Status != portal.StatusCanceled || canceled.Version != 2 {
		t.Fatalf("cancel: %v %+v", err, canceled)
	}
	if _, err := c.CancelPaymentRequest(ctx, pr.ID); !portal.IsCode(err, portal.CodeInvalidState) {
		t.Fatalf("cancel twice: %v", err)
	}
	if _, err := c.CreateRefund(ctx, pr.ID, portal.CreateRefundParams{Amount: "1000"}); !portal.IsCode(err, portal.CodeInvalidState) {
		t.Fatalf("refund of a canceled request: %v", err)
	}

	// Events page by cursor, in commit order; the cursor of the last page
	// stays put.
	var types []string
	cursor := ""
	for range 10 {
		pg, err := c.ListEvents(ctx, cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		if pg.NextCursor == "" {
			t.Fatal("events without next_cursor")
		}
		for _, ev := range pg.Data {
			types = append(types, ev.Type)
		}
		if len(pg.Data) == 0 {
			break
		}
		cursor = pg.NextCursor
	}
	if len(types) != 6 || types[0] != portal.EventPaymentRequestCreated || types[5] != portal.EventPaymentRequestCanceled {
		t.Fatalf("events %v", types)
	}

	stl, err := c.ListSettlements(ctx, portal.ListSettlementsParams{Status: "open"})
	if err != nil || stl.Data == nil {
		t.Fatalf("settlements: %v %+v", err, stl)
	}
	if _, err := c.GetSettlement(ctx, "stl_nope"); !portal.IsCode(err, portal.CodeNotFound) {
		t.Fatalf("unknown settlement: %v", err)
	}
	if _, err := c.GetReceipt(ctx, pr.ID); !portal.IsCode(err, portal.CodeNotFound) {
		t.Fatalf("receipt of an unpaid request: %v", err)
	}
}

func TestClientSignatureRefusals(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx := context.Background()

	var signed []string
	c, err := portal.New(h.Server.URL, h.Portal.KeyID, "psk_not_the_secret",
		portal.WithHTTPClient(&http.Client{Transport: contractTransport{t}}),
		portal.WithExplain(func(canonical string) { signed = append(signed, canonical) }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreatePaymentRequest(ctx, fee("SIG-1", "079203001234"), portal.WithIdempotencyKey("k-1"))
	var e *portal.Error
	if !errors.As(err, &e) || e.StatusCode != 401 || e.Code != portal.CodeInvalidSignature || e.SignatureError != portal.SignatureMismatch {
		t.Fatalf("wrong secret: %v", err)
	}
	// 401 is not retried, and what the client signed is what the gateway computed.
	if len(signed) != 1 || e.CanonicalString != signed[0] || e.GatewayTime == nil {
		t.Fatalf("signed %q, gateway computed %q", signed, e.CanonicalString)
	}
	if strings.Contains(string(e.Body), h.Portal.Secret) {
		t.Fatal("the refusal shows the secret")
	}

	unknown, err := portal.New(h.Server.URL, "pk_unknown", h.Portal.Secret, portal.WithHTTPClient(&http.Client{Transport: contractTransport{t}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unknown.GetPaymentRequest(ctx, "pr_x"); !errors.As(err, &e) || e.SignatureError != portal.SignatureUnknownKeyID {
		t.Fatalf("unknown key id: %v", err)
	}

	skewed := newClient(t, h, portal.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	if _, err := skewed.GetPaymentRequest(ctx, "pr_x"); !errors.As(err, &e) || e.SignatureError != portal.SignatureOutOfWindow ||
		time.Until(*e.GatewayTime).Abs() > 5*time.Second {
		t.Fatalf("skewed clock: %v", err)
	}
}

func TestClientPaidRequestReceiptAndRefund(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, apitest.WithEnv("GATEWAY_WORKERS", "true"))
	cit := idp.NewCitizen(t, 2)
	acct := apitest.AccountOf(t, cit)
	h.NewBank("SBX", acct)
	c := newClient(t, h)
	ctx := context.Background()

	link := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-1", map[string]string{"bank_code": "SBX", "account_number": acct.Number})
	if link.Status != http.StatusAccepted {
		t.Fatalf("link: %d %s", link.Status, link.Body)
	}
	accID := link.Map(t)["id"].(string)
	testenv.Eventually(t, 45*time.Second, func() bool {
		return strings.Contains(string(h.AsCitizen(cit.Token, http.MethodGet, "/v1/me/accounts", "", nil).Body), `"status":"active"`)
	}, "the account never became active")

	pr, err := c.CreatePaymentRequest(ctx, fee("PAID-1", cit.PID))
	if err != nil {
		t.Fatal(err)
	}
	if r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/payment-requests/"+pr.ID+"/pay", "pay-1", map[string]string{"account_id": accID}); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 45*time.Second, func() bool {
		pr, err = c.GetPaymentRequest(ctx, pr.ID)
		return err == nil && pr.Status == portal.StatusPaid && pr.Payment != nil && pr.Payment.ReceiptID != nil
	}, "the request was never paid with a receipt")

	rc, err := c.GetReceipt(ctx, pr.ID)
	if err != nil || rc.Receipt.PaymentRequestID != pr.ID || rc.Receipt.Amount != "75000" || rc.JWS == "" || rc.Receipt.ID != *pr.Payment.ReceiptID {
		t.Fatalf("receipt: %v %+v", err, rc)
	}
	rf, err := c.CreateRefund(ctx, pr.ID, portal.CreateRefundParams{Amount: "25000", Reason: "overcharged"})
	if err != nil || rf.Status != portal.RefundPending || rf.Amount != "25000" || rf.PaymentRequestID != pr.ID {
		t.Fatalf("refund: %v %+v", err, rf)
	}
	if _, err := c.CreateRefund(ctx, pr.ID, portal.CreateRefundParams{Amount: "60000"}); !portal.IsCode(err, portal.CodeRefundExceedsRefundable) {
		t.Fatalf("refund beyond the refundable: %v", err)
	}
	got, err := c.GetRefund(ctx, rf.ID)
	if err != nil || got.ID != rf.ID {
		t.Fatalf("get refund: %v %+v", err, got)
	}
}

func TestVerifyWebhookOfTheGatewaysSigner(t *testing.T) {
	t.Parallel()
	text, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	old, _ := webhook.NewSecret()
	sec, _ := webhook.ParseSecret(text)
	oldSec, _ := webhook.ParseSecret(old)
	body := []byte(`{"id":"evt_1","type":"payment_request.paid","created_at":"2026-12-01T08:00:00Z","data":{}}`)
	at := time.Now()
	hdr := webhook.Headers("evt_1", at, body, oldSec, sec) // during a rotation: both secrets
	for _, s := range []string{text, old} {
		if err := portal.VerifyWebhook(s, hdr, body, at.Add(30*time.Second), 0); err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	other, _ := webhook.NewSecret()
	for name, tc := range map[string]struct {
		secret string
		hdr    http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		"other secret": {other, hdr, body, at, portal.ErrWebhookSignature},
		"changed body": {text, hdr, append(bytes.Clone(body), ' '), at, portal.ErrWebhookSignature},
		"stale":        {text, hdr, body, at.Add(10 * time.Minute), portal.ErrWebhookStale},
		"no headers":   {text, http.Header{}, body, at, portal.ErrWebhookHeaders},
		"bad secret":   {"psk_x", hdr, body, at, portal.ErrWebhookSecret},
	} {
		if err := portal.VerifyWebhook(tc.secret, tc.hdr, tc.body, tc.now, 0); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// The package signs as the gateway verifies.
	req, _ := http.NewRequest(http.MethodGet, "http://gw.test/v1/payment-requests?status=paid", nil)
	canonical := portal.SignRequest(req, "psk_x", nil, at)
	m := signature.FromRequest(&http.Request{Method: req.Method, RequestURI: req.URL.RequestURI(), Header: req.Header}, nil)
	if m.Canonical() != canonical || signature.Verify(req.Header.Get(portal.HeaderSignature), []string{"psk_x"}, m, at) != nil {
		t.Fatalf("the gateway does not verify %q", canonical)
	}
}
