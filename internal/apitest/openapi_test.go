package apitest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/citizenpay/gateway/api"
	"github.com/citizenpay/gateway/internal/httpapi"
	"github.com/citizenpay/gateway/internal/webhook"
)

// routes is every operation of PROTOCOL.md, as method and path template.
// The document must describe exactly these.
var routes = []string{
	"POST /v1/payment-requests",
	"GET /v1/payment-requests",
	"GET /v1/payment-requests/{id}",
	"POST /v1/payment-requests/{id}/cancel",
	"POST /v1/payment-requests/{id}/refunds",
	"GET /v1/refunds/{id}",
	"GET /v1/events",
	"GET /v1/me",
	"POST /v1/me/accounts",
	"GET /v1/me/accounts",
	"DELETE /v1/me/accounts/{id}",
	"POST /v1/me/accounts/{id}/default",
	"GET /v1/me/payment-requests",
	"POST /v1/me/payment-requests/{id}/pay",
	"POST /v1/bank-callbacks/{bank_code}",
	"GET /healthz",
	"GET /readyz",
	"GET /openapi.yaml",
	// §11: receipts.
	"GET /v1/payment-requests/{id}/receipt",
	"GET /v1/me/payment-requests/{id}/receipt",
	"GET /.well-known/receipt-keys",
	"GET /r/{id}",
	"GET /r/assets/{name}",
	// §12: settlements.
	"GET /v1/settlements",
	"GET /v1/settlements/{id}",
	"GET /v1/settlements/{id}/lines",
	// The error reference: every problem's type.
	"GET /errors",
	"GET /errors/{code}",
	"GET /errors/assets/{name}",
}

// eventTypes are the event types of PROTOCOL.md §8.
var eventTypes = []string{
	"payment_request.created", "payment_request.paid", "payment_request.payment_failed",
	"payment_request.expired", "payment_request.canceled", "payment_request.refunded",
	"refund.succeeded", "refund.failed", "receipt.issued",
	"settlement.closed", "settlement.settled",
}

func TestOpenAPIDocumentIsValid31(t *testing.T) {
	t.Parallel()
	doc, err := loadDocument()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "http://127.0.0.1:8080" {
		t.Errorf("servers = %v, want one, http://127.0.0.1:8080", doc.Servers)
	}
	if _, err := loadContract(); err != nil {
		t.Errorf("the validator cannot use the document: %v", err)
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := loadDocument()
	if err != nil {
		t.Fatal(err)
	}
	var described []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+path)
		}
	}
	for _, r := range routes {
		if !slices.Contains(described, r) {
			t.Errorf("api/openapi.yaml does not describe %s", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routes, d) {
			t.Errorf("api/openapi.yaml describes %s, which PROTOCOL.md does not have (add it to routes if it should)", d)
		}
	}
	var hooks []string
	for name, item := range doc.Webhooks {
		if item.Post == nil {
			t.Errorf("webhook %s has no POST", name)
		}
		hooks = append(hooks, name)
	}
	sort.Strings(hooks)
	want := slices.Clone(eventTypes)
	sort.Strings(want)
	if !slices.Equal(hooks, want) {
		t.Errorf("webhooks = %v, want %v", hooks, want)
	}
}

// TestOpenAPIDescribesRegisteredRoutes builds the real router and lists its
// routes, so that a route added to internal/httpapi cannot miss the table
// above, and so the document.
func TestOpenAPIDescribesRegisteredRoutes(t *testing.T) {
	t.Parallel()
	for _, r := range registeredRoutes(t) {
		if !slices.Contains(routes, r) {
			t.Errorf("internal/httpapi registers %s, which is not in the route table (nor, so, checked against api/openapi.yaml)", r)
		}
	}
}

// registeredRoutes builds the gateway's router with no database, Redis or
// identity provider (routes are registered before any is used) and returns
// its routes as "METHOD /path/{param}".
func registeredRoutes(t *testing.T) (out []string) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("httpapi.New with empty Deps panicked (%v): give this test what the router needs to register its routes", v)
		}
	}()
	h := httpapi.New(httpapi.Deps{
		Log:     slog.New(slog.DiscardHandler),
		Metrics: httpapi.NewMetrics(nil, nil),
		OpenAPI: api.OpenAPI,
	})
	engine, ok := h.(interface{ Routes() gin.RoutesInfo })
	if !ok {
		t.Fatalf("httpapi.New returns %T, which cannot list its routes", h)
	}
	for _, r := range engine.Routes() {
		out = append(out, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	if !slices.Contains(out, "GET /healthz") {
		t.Fatalf("the router lists no GET /healthz: %v", out)
	}
	return out
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

// Fatalf records too, and does not stop the test: ValidateExchange and
// ValidateWebhook only ever call Errorf.
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recorder) Fatal(args ...any) { r.Error(args...) }

const (
	testPR = `{"id":"pr_01jq0000000000000000000000","object":"payment_request","status":"pending","version":1,
"citizen_pid_masked":"079******234","dossier_code":"HCM-2026-000123","service_code":"1.001234",
"description":"Lệ phí cấp giấy phép xây dựng","items":[{"code":"LE_PHI","description":"Lệ phí","amount":"75000"}],
"amount":"75000","currency":"VND","amount_refunded":"0","expires_at":"2026-03-02T08:30:00Z",
"created_at":"2026-03-01T08:30:00Z","updated_at":"2026-03-01T08:30:00Z","metadata":{},"payment":null}`
	testCreate = `{"citizen_pid":"079203001234","dossier_code":"HCM-2026-000123","service_code":"1.001234",
"description":"Lệ phí cấp giấy phép xây dựng","items":[{"code":"LE_PHI","description":"Lệ phí","amount":"75000"}],
"amount":"75000","currency":"VND"}`
	testProblem422 = `{"type":"https://pay.gateway.test/errors/invalid_amount","title":"Unprocessable content",
"status":422,"detail":"amount must be a string","code":"invalid_amount","request_id":"req_1",
"errors":[{"field":"amount","code":"invalid_amount","message":"amount must be a string"}]}`
	testRefund = `{"id":"rf_01","object":"refund","payment_request_id":"pr_01","status":"pending","amount":"25000",
"currency":"VND","reason":null,"failure_reason":null,"created_at":"2026-03-01T08:30:00Z","updated_at":"2026-03-01T08:30:00Z"}`
	testAccount = `{"id":"acc_01","object":"linked_account","bank_code":"VCB","account_number_masked":"******3456",
"status":"pending_verification","is_default":false,"rejection_reason":null,"created_at":"2026-03-01T08:30:00Z",
"updated_at":"2026-03-01T08:30:00Z"}`
	testProblem404 = `{"type":"https://pay.gateway.test/errors/not_found","title":"Not found","status":404,
"detail":"no route","code":"not_found","request_id":"req_1"}`
)

// asCitizen turns a portal's request into a citizen's.
func asCitizen(req *http.Request, _ http.Header) {
	for _, k := range []string{"X-Portal-Key", "X-Timestamp", "X-Signature"} {
		req.Header.Del(k)
	}
	req.Header.Set("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
}

// asBank turns a portal's request into a bank's callback.
func asBank(req *http.Request, _ http.Header) {
	req.Header.Del("X-Portal-Key")
	req.Header.Del("Idempotency-Key")
}

// exchange builds a request as the harness sends it (to an httptest URL)
// and its response.
func exchange(t *testing.T, method, target, reqBody string, status int, respBody string, edit func(req *http.Request, h http.Header)) (*http.Request, []byte, *Response) {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1:41234"+target, strings.NewReader(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	if reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Portal-Key", "pk_test")
	req.Header.Set("X-Timestamp", "1767225600")
	req.Header.Set("X-Signature", "v1=00")
	if method == http.MethodPost || method == http.MethodDelete {
		req.Header.Set("Idempotency-Key", "key-1")
	}
	h := http.Header{}
	h.Set("X-Request-Id", "req_1")
	switch {
	case status >= 400:
		h.Set("Content-Type", "application/problem+json")
	case respBody != "":
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if edit != nil {
		edit(req, h)
	}
	return req, []byte(reqBody), &Response{Status: status, Header: h, Body: []byte(respBody)}
}

func TestValidateExchange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		target   string
		reqBody  string
		status   int
		respBody string
		edit     func(req *http.Request, h http.Header)
		wantErr  string // "" = the exchange is valid
	}{
		{name: "created", method: "POST", target: "/v1/payment-requests", reqBody: testCreate, status: 201, respBody: testPR},
		{name: "replayed", method: "POST", target: "/v1/payment-requests", reqBody: testCreate, status: 201, respBody: testPR,
			edit: func(_ *http.Request, h http.Header) { h.Set("Idempotent-Replayed", "true") }},
		{name: "got", method: "GET", target: "/v1/payment-requests/pr_01jq0000000000000000000000", status: 200, respBody: testPR},
		{name: "listed", method: "GET", target: "/v1/payment-requests?status=pending&limit=5", status: 200,
			respBody: `{"data":[` + testPR + `],"next_cursor":null}`},
		{name: "events", method: "GET", target: "/v1/events", status: 200,
			respBody: `{"data":[{"id":"evt_01","type":"payment_request.created","created_at":"2026-03-01T08:30:00Z","data":{"payment_request":` + testPR + `}}],"next_cursor":"ZXY6MQ"}`},
		{name: "readyz degraded", method: "GET", target: "/readyz", status: 200, respBody: `{"postgres":"ok","redis":"degraded"}`},
		{name: "healthz", method: "GET", target: "/healthz", status: 200, respBody: `{"status":"ok"}`},
		{name: "refund", method: "POST", target: "/v1/payment-requests/pr_01/refunds", reqBody: `{"amount":"25000","reason":""}`,
			status: 202, respBody: testRefund},
		{name: "me", method: "GET", target: "/v1/me", status: 200, respBody: `{"citizen_pid_masked":"079******234","name":"Nguyễn Văn A","loa":2}`,
			edit: asCitizen},
		{name: "account linked", method: "POST", target: "/v1/me/accounts", reqBody: `{"bank_code":"VCB","account_number":"0071-000-123456"}`,
			status: 202, respBody: testAccount, edit: asCitizen},
		{name: "account unlinked", method: "DELETE", target: "/v1/me/accounts/acc_01", status: 200,
			respBody: strings.Replace(testAccount, "pending_verification", "unlinked", 1), edit: asCitizen},
		{name: "paid", method: "POST", target: "/v1/me/payment-requests/pr_01/pay", reqBody: `{"account_id":"acc_01"}`, status: 202,
			respBody: strings.Replace(testPR, `"pending"`, `"processing"`, 1), edit: asCitizen},
		{name: "callback with a field the gateway does not know", method: "POST", target: "/v1/bank-callbacks/VCB",
			reqBody: `{"event_id":"e-1","type":"debit.succeeded","occurred_at":"2026-03-01T15:30:00+07:00",` +
				`"data":{"debit_id":"pa_01","amount":"75000","currency":"VND","bank_reference":"FT1","branch":"HN"},"channel":"core"}`,
			status: 200, respBody: `{"result":"applied"}`, edit: asBank},
		{name: "insufficient assurance", method: "POST", target: "/v1/me/accounts", reqBody: `{}`, status: 403,
			respBody: strings.NewReplacer("404", "403", "not_found", "insufficient_assurance").Replace(testProblem404), edit: asCitizen},

		{name: "invalid request refused", method: "POST", target: "/v1/payment-requests",
			reqBody: strings.Replace(testCreate, `"amount":"75000","currency"`, `"amount":75000,"currency"`, 1),
			status:  422, respBody: testProblem422},
		{name: "unknown field refused", method: "POST", target: "/v1/payment-requests",
			reqBody: strings.Replace(testCreate, `"currency":"VND"`, `"currency":"VND","colour":"red"`, 1),
			status:  400, respBody: strings.NewReplacer("422", "400", "invalid_amount", "invalid_request").Replace(testProblem422)},
		{name: "unknown route is a 404 problem", method: "GET", target: "/v1/nowhere", status: 404, respBody: testProblem404},
		{name: "unknown method is a 404 problem", method: "DELETE", target: "/v1/payment-requests", status: 404, respBody: testProblem404},

		{name: "response field missing", method: "GET", target: "/v1/payment-requests/pr_01", status: 200,
			respBody: strings.Replace(testPR, `"version":1,`, "", 1), wantErr: "version"},
		{name: "amount as a number", method: "GET", target: "/v1/payment-requests/pr_01", status: 200,
			respBody: strings.Replace(testPR, `"amount":"75000","currency"`, `"amount":75000,"currency"`, 1), wantErr: "amount"},
		{name: "undescribed field", method: "GET", target: "/v1/payment-requests/pr_01", status: 200,
			respBody: strings.Replace(testPR, `"version":1,`, `"version":1,"citizen_pid":"079203001234",`, 1), wantErr: "citizen_pid"},
		{name: "clear pid in the mask", method: "GET", target: "/v1/payment-requests/pr_01", status: 200,
			respBody: strings.Replace(testPR, `079******234`, `079203001234`, 1), wantErr: "citizen_pid_masked"},
		{name: "time not in UTC", method: "GET", target: "/v1/payment-requests/pr_01", status: 200,
			respBody: strings.Replace(testPR, `"created_at":"2026-03-01T08:30:00Z"`, `"created_at":"2026-03-01T15:30:00+07:00"`, 1), wantErr: "created_at"},
		{name: "undescribed status", method: "GET", target: "/v1/payment-requests/pr_01", status: 418, respBody: testProblem404, wantErr: "status"},
		{name: "problem with the wrong code for its status", method: "GET", target: "/v1/payment-requests/pr_01", status: 404,
			respBody: strings.Replace(testProblem404, `"code":"not_found"`, `"code":"invalid_state"`, 1), wantErr: "code"},
		{name: "problem with an undescribed field", method: "GET", target: "/v1/payment-requests/pr_01", status: 404,
			respBody: strings.Replace(testProblem404, `"detail"`, `"stack":"main.go:12","detail"`, 1), wantErr: "stack"},
		{name: "no request id", method: "GET", target: "/v1/payment-requests/pr_01", status: 200, respBody: testPR,
			edit: func(_ *http.Request, h http.Header) { h.Del("X-Request-Id") }, wantErr: "X-Request-Id"},
		{name: "503 without Retry-After", method: "GET", target: "/v1/payment-requests", status: 503,
			respBody: strings.NewReplacer("404", "503", "not_found", "unavailable").Replace(testProblem404), wantErr: "Retry-After"},
		{name: "problem served as JSON", method: "GET", target: "/v1/payment-requests/pr_01", status: 404, respBody: testProblem404,
			edit: func(_ *http.Request, h http.Header) { h.Set("Content-Type", "application/json") }, wantErr: "application/json"},
		{name: "undescribed route answered", method: "GET", target: "/v1/nowhere", status: 200, respBody: `{}`, wantErr: "not described"},
		{name: "accepted request with an unknown field", method: "POST", target: "/v1/payment-requests",
			reqBody: strings.Replace(testCreate, `"currency":"VND"`, `"currency":"VND","colour":"red"`, 1),
			status:  201, respBody: testPR, wantErr: "colour"},
		{name: "accepted request without a key", method: "POST", target: "/v1/payment-requests", reqBody: testCreate,
			status: 201, respBody: testPR, edit: func(req *http.Request, _ http.Header) { req.Header.Del("Idempotency-Key") },
			wantErr: "Idempotency-Key"},
		{name: "account number in clear", method: "GET", target: "/v1/me/accounts", status: 200,
			respBody: `{"data":[` + strings.Replace(testAccount, "******3456", "0071000123456", 1) + `],"next_cursor":null}`,
			edit:     asCitizen, wantErr: "account_number_masked"},
		{name: "callback answered with an unknown result", method: "POST", target: "/v1/bank-callbacks/VCB",
			reqBody: `{"event_id":"e-1","type":"debit.failed","occurred_at":"2026-03-01T08:30:00Z","data":{"debit_id":"pa_01"}}`,
			status:  200, respBody: `{"result":"ignored"}`, edit: asBank, wantErr: "result"},
		{name: "events without a cursor", method: "GET", target: "/v1/events", status: 200,
			respBody: `{"data":[],"next_cursor":null}`, wantErr: "next_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, body, res := exchange(t, tt.method, tt.target, tt.reqBody, tt.status, tt.respBody, tt.edit)
			rec := &recorder{TB: t}
			ValidateExchange(rec, req, body, res)
			got := strings.Join(rec.errors, "\n")
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("valid exchange refused:\n%s", got)
			case tt.wantErr != "" && got == "":
				t.Errorf("drifted exchange accepted; want an error mentioning %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("error does not mention %q:\n%s", tt.wantErr, got)
			}
			if n := len(rec.errors); n > 1 {
				t.Errorf("%d errors for one exchange, want at most one:\n%s", n, got)
			}
			rest := new(bytes.Buffer)
			if _, err := rest.ReadFrom(req.Body); err != nil || rest.String() != tt.reqBody {
				t.Errorf("request body after validation = %q, %v; want it untouched", rest.String(), err)
			}
		})
	}
}

func TestValidateWebhook(t *testing.T) {
	t.Parallel()
	text, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	secret, err := webhook.ParseSecret(text)
	if err != nil {
		t.Fatal(err)
	}
	refund := strings.Replace(testRefund, `"pending"`, `"succeeded"`, 1)
	tests := []struct {
		name    string
		body    string
		headers bool
		wantErr string
	}{
		{name: "created", body: `{"id":"evt_01","type":"payment_request.created","created_at":"2026-03-01T08:30:00Z","data":{"payment_request":` + testPR + `}}`, headers: true},
		{name: "refund succeeded", body: `{"id":"evt_01","type":"refund.succeeded","created_at":"2026-03-01T08:30:00Z","data":{"payment_request":` + testPR + `,"refund":` + refund + `}}`, headers: true},
		{name: "refund event without its refund", body: `{"id":"evt_01","type":"refund.succeeded","created_at":"2026-03-01T08:30:00Z","data":{"payment_request":` + testPR + `}}`, headers: true, wantErr: "refund"},
		{name: "unknown type", body: `{"id":"evt_01","type":"payment_request.teleported","created_at":"2026-03-01T08:30:00Z","data":{"payment_request":` + testPR + `}}`, headers: true, wantErr: "teleported"},
		{name: "unsigned", body: `{"id":"evt_01","type":"payment_request.created","created_at":"2026-03-01T08:30:00Z","data":{"payment_request":` + testPR + `}}`, wantErr: "webhook-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.headers {
				h = webhook.Headers("evt_01", time.Unix(1767225600, 0), []byte(tt.body), secret)
			}
			rec := &recorder{TB: t}
			ValidateWebhook(rec, h, []byte(tt.body))
			got := strings.Join(rec.errors, "\n")
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("valid webhook refused:\n%s", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("want an error mentioning %q, got:\n%s", tt.wantErr, got)
			}
		})
	}
}
