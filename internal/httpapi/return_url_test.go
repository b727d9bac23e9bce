package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/portal"
)

// setReturnOrigins registers origins for p as gatewayctl does.
func setReturnOrigins(t *testing.T, h *apitest.Harness, p *portal.Portal, raw ...string) {
	t.Helper()
	origins, err := portal.ReturnOrigins(raw, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.App.Portals.SetReturnOrigins(context.Background(), p.ID, origins); err != nil {
		t.Fatal(err)
	}
}

// requestsOf counts p's payment requests.
func requestsOf(h *apitest.Harness, p *portal.Portal) int {
	return h.Count(`SELECT count(*) FROM payment_requests WHERE portal_id = $1`, p.ID)
}

func TestCreateWithReturnURL(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t)
	setReturnOrigins(t, h, h.Portal, "https://dvc.example.vn", "https://portal.example.vn:8443/")
	cit := idp.NewCitizen(t, 1)
	const returnURL = "https://dvc.example.vn/ho-so/HS-1?tab=fee"
	body := createBody("HCM-RET-1")
	body["citizen_pid"] = cit.PID
	body["return_url"] = returnURL
	res := h.Post("/v1/payment-requests", "ret-1", body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	pr := res.Map(t)
	id, _ := pr["id"].(string)
	if pr["return_url"] != returnURL || pr["checkout_url"] != "https://pay.gateway.test/pay/"+id {
		t.Fatalf("create: return_url %v, checkout_url %v", pr["return_url"], pr["checkout_url"])
	}
	if n := h.Count(`SELECT count(*) FROM payment_requests WHERE id = $1 AND return_url = $2`, id, returnURL); n != 1 {
		t.Fatalf("return_url stored on %d rows, want 1", n)
	}

	// GET, the portal's list and the citizen's list show the same request.
	if got := h.Get("/v1/payment-requests/" + id); got.Status != http.StatusOK || !bytes.Equal(got.Body, res.Body) {
		t.Fatalf("get: %d %s\nwant %s", got.Status, got.Body, res.Body)
	}
	for name, r := range map[string]*apitest.Response{
		"portal list":  h.Get("/v1/payment-requests?dossier_code=HCM-RET-1"),
		"citizen list": h.AsCitizen(cit.Token, http.MethodGet, "/v1/me/payment-requests", "", nil),
	} {
		var l struct {
			Data []map[string]any `json:"data"`
		}
		r.JSON(t, &l)
		if r.Status != http.StatusOK || len(l.Data) != 1 || l.Data[0]["return_url"] != returnURL || l.Data[0]["checkout_url"] != pr["checkout_url"] {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	// Another port of a registered host is another origin.
	body = createBody("HCM-RET-2")
	body["return_url"] = "https://portal.example.vn:8443/done"
	if r := h.Post("/v1/payment-requests", "ret-2", body); r.Status != http.StatusCreated {
		t.Errorf("second origin: %d %s", r.Status, r.Body)
	}
}

func TestCreateReturnURLRefused(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	setReturnOrigins(t, h, h.Portal, "https://dvc.example.vn")
	before := requestsOf(h, h.Portal)
	for i, bad := range []string{
		"https://evil.example.vn/phish",
		"https://dvc.example.vn.evil.test/",
		"https://dvc.example.vn:8443/",
		"https://user@dvc.example.vn/",
		"https://dvc.example.vn/#frag",
		"javascript:alert(1)",
		"/relative",
	} {
		body := createBody("HCM-BAD")
		body["return_url"] = bad
		key := "bad-ret-" + string(rune('a'+i))
		r := h.Post("/v1/payment-requests", key, body)
		p := r.Map(t)
		errs, _ := p["errors"].([]any)
		first, _ := firstField(errs)
		if r.Status != http.StatusUnprocessableEntity || r.Code() != "invalid_return_url" || first != "return_url" {
			t.Errorf("%q: %d %s", bad, r.Status, r.Body)
		}
		// Nothing was stored under the key: a fixed body runs anew.
		body["return_url"] = "https://dvc.example.vn/ok"
		body["dossier_code"] = "HCM-FIX-" + key
		if r := h.Post("/v1/payment-requests", key, body); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("%q then a good body under the same key: %d %s", bad, r.Status, r.Body)
		}
	}
	if got := requestsOf(h, h.Portal); got != before+7 {
		t.Errorf("%d requests created, want the 7 good ones only", got-before)
	}

	// A portal without return origins may not name a return URL.
	bare := h.NewPortal("No origins")
	body := createBody("HCM-BARE")
	body["return_url"] = "https://dvc.example.vn/ok"
	r := h.Do(apitest.Request{Method: http.MethodPost, Path: "/v1/payment-requests", IdempotencyKey: "bare-1", Body: apitest.Marshal(t, body), Portal: bare})
	if r.Status != http.StatusUnprocessableEntity || r.Code() != "invalid_return_url" || requestsOf(h, bare) != 0 {
		t.Errorf("portal without origins: %d %s", r.Status, r.Body)
	}
}

func TestCreateReturnURLHTTPInProduction(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, apitest.WithEnv("GATEWAY_ENV", "production"))
	// An http origin can only have been registered in development.
	setReturnOrigins(t, h, h.Portal, "http://dvc.example.vn", "https://dvc.example.vn")
	body := createBody("HCM-PROD-1")
	body["return_url"] = "http://dvc.example.vn/done"
	if r := h.Post("/v1/payment-requests", "prod-http", body); r.Status != http.StatusUnprocessableEntity || r.Code() != "invalid_return_url" {
		t.Fatalf("http return_url in production: %d %s", r.Status, r.Body)
	}
	body["return_url"] = "https://dvc.example.vn/done"
	if r := h.Post("/v1/payment-requests", "prod-https", body); r.Status != http.StatusCreated {
		t.Fatalf("https return_url in production: %d %s", r.Status, r.Body)
	}
}

func TestCreateReturnURLReplay(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	setReturnOrigins(t, h, h.Portal, "https://dvc.example.vn")
	body := createBody("HCM-REPLAY")
	body["return_url"] = "https://dvc.example.vn/a"
	first := h.Post("/v1/payment-requests", "replay-ret", body)
	again := h.Post("/v1/payment-requests", "replay-ret", body)
	if first.Status != http.StatusCreated || again.Status != http.StatusCreated || !bytes.Equal(first.Body, again.Body) ||
		again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	// The return URL is part of the fingerprint: another one under the key is another operation.
	body["return_url"] = "https://dvc.example.vn/b"
	if r := h.Post("/v1/payment-requests", "replay-ret", body); r.Status != http.StatusUnprocessableEntity || r.Code() != "idempotency_key_reused" {
		t.Fatalf("another return_url under the key: %d %s", r.Status, r.Body)
	}
	// Removing the portal's origins does not change what the key replays.
	setReturnOrigins(t, h, h.Portal)
	body["return_url"] = "https://dvc.example.vn/a"
	if r := h.Post("/v1/payment-requests", "replay-ret", body); r.Status != http.StatusCreated || !bytes.Equal(r.Body, first.Body) {
		t.Fatalf("replay after the origins changed: %d %s", r.Status, r.Body)
	}
}

func TestCheckoutURLOnEveryView(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	res := h.Post("/v1/payment-requests", "co-1", createBody("HCM-CO-1"))
	pr := res.Map(t)
	id, _ := pr["id"].(string)
	want := "https://pay.gateway.test/pay/" + id
	if _, has := pr["return_url"]; has || pr["checkout_url"] != want {
		t.Fatalf("create without return_url: %s", res.Body)
	}
	canceled := h.Post("/v1/payment-requests/"+id+"/cancel", "co-cancel", nil).Map(t)
	if canceled["checkout_url"] != want {
		t.Errorf("cancel: checkout_url %v", canceled["checkout_url"])
	}
	if got := h.Get("/v1/payment-requests/" + id).Map(t); got["checkout_url"] != want {
		t.Errorf("get: checkout_url %v", got["checkout_url"])
	}
	var events struct {
		Data []struct {
			Data struct {
				PaymentRequest map[string]any `json:"payment_request"`
			} `json:"data"`
		} `json:"data"`
	}
	h.Get("/v1/events").JSON(t, &events)
	if len(events.Data) != 2 {
		t.Fatalf("%d events, want created and canceled", len(events.Data))
	}
	for _, e := range events.Data {
		if e.Data.PaymentRequest["checkout_url"] != want {
			t.Errorf("event snapshot: checkout_url %v", e.Data.PaymentRequest["checkout_url"])
		}
	}
}

// firstField is the field of the first of a problem's errors.
func firstField(errs []any) (string, bool) {
	if len(errs) == 0 {
		return "", false
	}
	m, _ := errs[0].(map[string]any)
	f, ok := m["field"].(string)
	return f, ok
}
