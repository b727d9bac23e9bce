package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
)

func TestValidationRefusals(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	with := func(mod func(m map[string]any)) map[string]any {
		m := createBody("V-1")
		mod(m)
		return m
	}
	item := func(amount any) []map[string]any {
		return []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": amount}}
	}
	soon := time.Now().Add(-time.Minute).Format(time.RFC3339)
	far := time.Now().Add(31 * 24 * time.Hour).Format(time.RFC3339)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"amount with decimals", with(func(m map[string]any) { m["amount"] = "75000.0" }), 422, "invalid_amount"},
		{"amount in exponent form", with(func(m map[string]any) { m["amount"] = "7.5e4" }), 422, "invalid_amount"},
		{"negative amount", with(func(m map[string]any) { m["amount"] = "-1" }), 422, "invalid_amount"},
		{"leading zero", with(func(m map[string]any) { m["amount"] = "075000" }), 422, "invalid_amount"},
		{"amount as a number", with(func(m map[string]any) { m["amount"] = 75000 }), 422, "invalid_amount"},
		{"zero amount", with(func(m map[string]any) { m["amount"] = "0" }), 422, "invalid_amount"},
		{"item amount as a number", with(func(m map[string]any) { m["items"] = item(75000); m["amount"] = "75000" }), 422, "invalid_amount"},
		{"items not summing", with(func(m map[string]any) { m["amount"] = "75001" }), 422, "amount_mismatch"},
		{"expiry in the past", with(func(m map[string]any) { m["expires_at"] = soon }), 422, "invalid_expiry"},
		{"expiry past 30 days", with(func(m map[string]any) { m["expires_at"] = far }), 422, "invalid_expiry"},
		{"expiry not a time", with(func(m map[string]any) { m["expires_at"] = "tomorrow" }), 422, "invalid_expiry"},
		{"expiry with a one-digit hour", with(func(m map[string]any) {
			m["expires_at"] = time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly) + "T8:00:00Z"
		}), 422, "invalid_expiry"},
		{"pid with 11 digits", with(func(m map[string]any) { m["citizen_pid"] = "07920300123" }), 422, "invalid_pid"},
		{"pid with an unknown province", with(func(m map[string]any) { m["citizen_pid"] = "003203001234" }), 422, "invalid_pid"},
		{"pid with letters", with(func(m map[string]any) { m["citizen_pid"] = "07920300123A" }), 422, "invalid_pid"},
		{"unknown field", with(func(m map[string]any) { m["tip"] = "1" }), 400, "invalid_request"},
		{"a field in another case", with(func(m map[string]any) { m["Amount"] = m["amount"]; delete(m, "amount") }), 400, "invalid_request"},
		{"an unknown field in an item", with(func(m map[string]any) {
			m["items"] = []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "75000", "Code": "X"}}
			m["amount"] = "75000"
		}), 400, "invalid_request"},
		{"wrong type", with(func(m map[string]any) { m["description"] = 5 }), 400, "invalid_request"},
		{"metadata value not a string", with(func(m map[string]any) { m["metadata"] = map[string]any{"a": 1} }), 400, "invalid_request"},
		{"malformed JSON", `{"citizen_pid":`, 400, "invalid_request"},
		{"two JSON values", `{} {}`, 400, "invalid_request"},
		{"an array for a body", `[]`, 400, "invalid_request"},
		{"a string for a body", `"x"`, 400, "invalid_request"},
		{"no items", with(func(m map[string]any) { m["items"] = []any{} }), 422, "validation_failed"},
		{"51 items", with(func(m map[string]any) {
			its := make([]map[string]any, 51)
			for i := range its {
				its[i] = map[string]any{"code": "X", "description": "x", "amount": "1"}
			}
			m["items"], m["amount"] = its, "51"
		}), 422, "validation_failed"},
		{"other currency", with(func(m map[string]any) { m["currency"] = "USD" }), 422, "validation_failed"},
		{"empty dossier code", with(func(m map[string]any) { m["dossier_code"] = "" }), 422, "validation_failed"},
		{"dossier code of 65", with(func(m map[string]any) { m["dossier_code"] = strings.Repeat("D", 65) }), 422, "validation_failed"},
		{"description of 141", with(func(m map[string]any) { m["description"] = strings.Repeat("ệ", 141) }), 422, "validation_failed"},
		{"21 metadata pairs", with(func(m map[string]any) {
			md := map[string]string{}
			for i := 0; i < 21; i++ {
				md[fmt.Sprint("k", i)] = "v"
			}
			m["metadata"] = md
		}), 422, "validation_failed"},
		{"several problems", with(func(m map[string]any) { m["amount"] = "x"; m["citizen_pid"] = "1" }), 422, "validation_failed"},
		{"oversized body", with(func(m map[string]any) { m["description"] = strings.Repeat("a", 70<<10) }), 413, "payload_too_large"},
	}
	for i, c := range cases {
		res := h.Post("/v1/payment-requests", fmt.Sprint("v-", i), c.body)
		if res.Status != c.status || res.Code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s", c.name, res.Status, res.Body, c.status, c.code)
			continue
		}
		var p struct {
			Type, Title, Detail, RequestID string
			Status                         int
			Errors                         []struct{ Field, Code, Message string }
		}
		res.JSON(t, &p)
		if p.Status != c.status || p.Title == "" || p.Detail == "" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: not a full problem: %s", c.name, res.Body)
		}
		if c.status == 422 && len(p.Errors) == 0 {
			t.Errorf("%s: no field errors listed", c.name)
		}
		for _, e := range p.Errors {
			if e.Field == "" {
				t.Errorf("%s: a field problem that names no field: %s", c.name, res.Body)
			}
		}
	}
	if n := h.Count("SELECT count(*) FROM payment_requests") + h.Count("SELECT count(*) FROM idempotency_records") +
		h.Count("SELECT count(*) FROM events"); n != 0 {
		t.Fatalf("refused requests wrote %d rows", n)
	}
	// A refused request stores nothing: the same key then runs a corrected body.
	if res := h.Post("/v1/payment-requests", "v-0", createBody("V-1")); res.Status != 201 {
		t.Fatalf("corrected retry: %d %s", res.Status, res.Body)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?status=paidish", "?cursor=bogus", "?sort=asc", "?limit=1&limit=2"} {
		if res := h.Get("/v1/payment-requests" + q); res.Status != 400 || res.Code() != "invalid_request" {
			t.Errorf("list%s: %d %s", q, res.Status, res.Body)
		}
	}
}
