package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
)

// problemFields returns the fields a 422 problem names, by their codes.
func problemFields(t *testing.T, r *apitest.Response) map[string]string {
	t.Helper()
	var p struct {
		Errors []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	}
	r.JSON(t, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

// TestCreateRefusesControlCharacters: a control or bidirectional formatting
// character in any text field is a field problem (422), not a database
// error; nothing is stored and the same key then creates the request.
func TestCreateRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	items := func(b map[string]any) []map[string]any { return b["items"].([]map[string]any) }
	cases := []struct {
		name, field string
		change      func(b map[string]any)
	}{
		{"NUL in dossier_code", "dossier_code", func(b map[string]any) { b["dossier_code"] = "HCM\x00-1" }},
		{"ESC in dossier_code", "dossier_code", func(b map[string]any) { b["dossier_code"] = "\x1b[31mHCM" }},
		{"NUL in service_code", "service_code", func(b map[string]any) { b["service_code"] = "1.00\x001234" }},
		{"NUL in description", "description", func(b map[string]any) { b["description"] = "Lệ phí\x00" }},
		{"BEL in description", "description", func(b map[string]any) { b["description"] = "Lệ phí\a" }},
		{"newline in description", "description", func(b map[string]any) { b["description"] = "Lệ phí\ncấp phép" }},
		{"DEL in description", "description", func(b map[string]any) { b["description"] = "Lệ phí\x7f" }},
		{"C1 NEL in description", "description", func(b map[string]any) { b["description"] = "Lệ phí\u0085" }},
		{"bidi override in description", "description", func(b map[string]any) { b["description"] = "Phí \u202e00005" }},
		{"NUL in an item code", "items[0].code", func(b map[string]any) { items(b)[0]["code"] = "LE\x00PHI" }},
		{"tab in an item description", "items[1].description", func(b map[string]any) { items(b)[1]["description"] = "Phí\tthẩm định" }},
		{"bidi isolate in an item description", "items[1].description", func(b map[string]any) { items(b)[1]["description"] = "Phí \u2066x\u2069" }},
		{"NUL in a metadata key", "metadata", func(b map[string]any) { b["metadata"] = map[string]string{"of\x00fice": "Q1"} }},
		{"NUL in a metadata value", "metadata.office", func(b map[string]any) { b["metadata"] = map[string]string{"office": "Q\x001"} }},
		{"C1 in a metadata value", "metadata.office", func(b map[string]any) { b["metadata"] = map[string]string{"office": "Q\u009b1"} }},
	}
	for i, tc := range cases {
		key := fmt.Sprintf("ctl-%d", i)
		bad := createBody(fmt.Sprintf("CTL-%d", i))
		tc.change(bad)
		r := h.Post("/v1/payment-requests", key, bad)
		if r.Status != http.StatusUnprocessableEntity || r.Code() != "validation_failed" {
			t.Errorf("%s: %d %s, want 422 validation_failed", tc.name, r.Status, r.Body)
			continue
		}
		if got := problemFields(t, r); got[tc.field] != "validation_failed" || len(got) != 1 {
			t.Errorf("%s: problems %v, want only %s", tc.name, got, tc.field)
		}
		if n := h.Count(`SELECT count(*) FROM payment_requests`); n != i {
			t.Fatalf("%s: %d requests stored", tc.name, n)
		}
		// The refusal kept nothing: the same key takes the corrected body.
		if r := h.Post("/v1/payment-requests", key, createBody(fmt.Sprintf("CTL-%d", i))); r.Status != http.StatusCreated {
			t.Fatalf("%s: corrected body: %d %s", tc.name, r.Status, r.Body)
		}
	}
	// Layout characters are allowed in a metadata value, which is not shown
	// on one line.
	ok := createBody("CTL-MULTILINE")
	ok["metadata"] = map[string]string{"note": "line one\r\nline two\tend"}
	if r := h.Post("/v1/payment-requests", "ctl-multiline", ok); r.Status != http.StatusCreated {
		t.Fatalf("multi-line metadata value: %d %s", r.Status, r.Body)
	}
}

// TestIDsAndFiltersWithControlCharacters: an id or a filter holding NUL is
// no object of the caller's (404) or a bad parameter (400), never a 500.
func TestIDsAndFiltersWithControlCharacters(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	nul := url.PathEscape("pr_\x00")
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/v1/payment-requests/" + nul, http.StatusNotFound},
		{http.MethodPost, "/v1/payment-requests/" + nul + "/cancel", http.StatusNotFound},
		{http.MethodPost, "/v1/payment-requests/" + nul + "/refunds", http.StatusNotFound},
		{http.MethodGet, "/v1/refunds/" + url.PathEscape("rf_\x00"), http.StatusNotFound},
		{http.MethodGet, "/v1/payment-requests?dossier_code=" + url.QueryEscape("HCM\x00"), http.StatusBadRequest},
		{http.MethodGet, "/v1/payment-requests?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("pr:\x00")), http.StatusBadRequest},
	} {
		var body []byte
		if tc.method == http.MethodPost {
			body = []byte(`{"amount":"1000","reason":"x"}`)
			if tc.path[len(tc.path)-1] == 'l' {
				body = nil
			}
		}
		r := h.Do(apitest.Request{Method: tc.method, Path: tc.path, Body: body, IdempotencyKey: "k-" + fmt.Sprint(time.Now().UnixNano())})
		if r.Status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.status)
		}
	}
}

// TestRefundAndCitizenTextRefusesControlCharacters: the refund's reason and
// the citizen's fields follow the same rule as a create.
func TestRefundAndCitizenTextRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	p := newPayer(t, fastClearing("1h")...)
	h := p.h
	for _, tc := range []struct {
		name, field string
		body        map[string]string
	}{
		{"NUL in bank_code", "bank_code", linkBody("SB\x00X", p.account.Number)},
		{"NUL in account_number", "account_number", linkBody("SBX", "9704\x00"+p.account.Number[4:])},
	} {
		r := h.AsCitizen(p.cit.Token, http.MethodPost, "/v1/me/accounts", "link-ctl", tc.body)
		if r.Status != http.StatusUnprocessableEntity || problemFields(t, r)[tc.field] != "validation_failed" {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	if r := h.AsCitizen(p.cit.Token, http.MethodPost, "/v1/me/payment-requests/"+p.prID+"/pay", "pay-ctl",
		map[string]string{"account_id": "acc_\x00"}); r.Status != http.StatusUnprocessableEntity || problemFields(t, r)["account_id"] != "validation_failed" {
		t.Errorf("NUL in account_id: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/v1/me/payment-requests/" + url.PathEscape("pr_\x00") + "/pay", "/v1/me/accounts/" + url.PathEscape("acc_\x00") + "/default"} {
		if r := h.AsCitizen(p.cit.Token, http.MethodPost, path, "id-ctl", nil); r.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d %s, want 404", path, r.Status, r.Body)
		}
	}
	if n := h.Count(`SELECT count(*) FROM payment_attempts`); n != 0 {
		t.Fatalf("refused pays made %d attempts", n)
	}
	if r := p.pay(t, p.prID, "pay"); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	p.waitStatus(t, p.prID, "paid")
	path := "/v1/payment-requests/" + p.prID + "/refunds"
	for i, reason := range []string{"Hoàn\x00 phí", "Hoàn phí\x1b[0m", "Hoàn \u202ephí", "Hoàn phí\u0090"} {
		r := h.Post(path, "refund-ctl", map[string]string{"amount": "25000", "reason": reason})
		if r.Status != http.StatusUnprocessableEntity || r.Code() != "validation_failed" || problemFields(t, r)["reason"] != "validation_failed" {
			t.Errorf("reason %d: %d %s", i, r.Status, r.Body)
		}
	}
	if n := h.Count(`SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("refused refunds stored %d rows", n)
	}
	// A reason may run over several lines; the same key takes it.
	if r := h.Post(path, "refund-ctl", map[string]string{"amount": "25000", "reason": "Hoàn phí:\r\n\tnộp trùng"}); r.Status != http.StatusAccepted {
		t.Fatalf("corrected refund: %d %s", r.Status, r.Body)
	}
}
