package httpapi

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

// faultCodes reads every constant of type fault.Code declared in
// internal/fault, so that a code added there without a registry entry
// fails TestEveryCodeHasAnEntry without anyone listing it twice.
func faultCodes(t *testing.T) map[string]fault.Code {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "fault", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := map[string]fault.Code{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for i, n := range v.Names {
					lit, ok := v.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("fault.%s is not a string literal", n.Name)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					found[n.Name] = fault.Code(s)
				}
			}
		}
	}
	if len(found) < 30 {
		t.Fatalf("found %d codes in internal/fault, want all of PROTOCOL.md §1", len(found))
	}
	return found
}

func TestEveryCodeHasAnEntry(t *testing.T) {
	t.Parallel()
	declared := faultCodes(t)
	for name, code := range declared {
		e, ok := codes[code]
		if !ok {
			t.Errorf("fault.%s (%q) has no entry in the registry", name, code)
			continue
		}
		if e.status < 400 || e.status > 599 || e.title == "" {
			t.Errorf("fault.%s: entry %+v lacks a 4xx/5xx status or a title", name, e)
		}
	}
	known := map[fault.Code]bool{}
	for _, c := range declared {
		known[c] = true
	}
	for code := range codes {
		if !known[code] {
			t.Errorf("registry entry %q is no code of internal/fault", code)
		}
	}
}

// TestCodesMatchProtocol checks the registry against PROTOCOL.md §1's
// table, row by row, and §4's rules of what is stored and what says
// Retry-After.
func TestCodesMatchProtocol(t *testing.T) {
	t.Parallel()
	type want struct {
		status     int
		stored     bool
		retryAfter string
	}
	// PROTOCOL.md §1, transcribed; internal is the gateway's own 500.
	protocol := map[fault.Code]want{
		"invalid_request":           {status: 400},
		"idempotency_key_missing":   {status: 400},
		"idempotency_key_invalid":   {status: 400},
		"invalid_signature":         {status: 401},
		"invalid_token":             {status: 401},
		"invalid_identity":          {status: 401},
		"insufficient_assurance":    {status: 403},
		"portal_disabled":           {status: 403},
		"not_found":                 {status: 404, stored: true},
		"idempotency_key_in_use":    {status: 409, retryAfter: "1"},
		"invalid_state":             {status: 409, stored: true},
		"duplicate_dossier":         {status: 409, stored: true},
		"payment_in_progress":       {status: 409, stored: true},
		"account_taken":             {status: 409, stored: true},
		"account_limit":             {status: 409, stored: true},
		"account_busy":              {status: 409, stored: true},
		"outcome_conflict":          {status: 409},
		"payload_too_large":         {status: 413},
		"validation_failed":         {status: 422},
		"invalid_amount":            {status: 422},
		"amount_mismatch":           {status: 422},
		"invalid_pid":               {status: 422},
		"invalid_expiry":            {status: 422},
		"invalid_return_url":        {status: 422},
		"refund_exceeds_refundable": {status: 422, stored: true},
		"account_not_active":        {status: 422, stored: true},
		"account_required":          {status: 422, stored: true},
		"idempotency_key_reused":    {status: 422},
		"amount_differs":            {status: 422},
		"unknown_event_type":        {status: 422},
		"rate_limited":              {status: 429, retryAfter: "5"},
		"unavailable":               {status: 503, retryAfter: "5"},
		"bank_unavailable":          {status: 503, retryAfter: "5"},
		"identity_not_configured":   {status: 503, retryAfter: "5"},
		"internal":                  {status: 500},
	}
	titles := map[int]string{
		400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict",
		413: "Payload too large", 422: "Unprocessable content", 429: "Too many requests",
		500: "Internal server error", 503: "Service unavailable",
	}
	if len(protocol) != len(codes) {
		t.Errorf("PROTOCOL.md §1 has %d codes here, the registry %d", len(protocol), len(codes))
	}
	for code, w := range protocol {
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			e, ok := codes[code]
			if !ok {
				t.Fatalf("no registry entry for %q", code)
			}
			if e.status != w.status {
				t.Errorf("status %d, PROTOCOL.md §1 says %d", e.status, w.status)
			}
			if e.title != titles[w.status] {
				t.Errorf("title %q for status %d", e.title, w.status)
			}
			if got := decidedOnState(fault.New(code, "x")); got != w.stored {
				t.Errorf("stored and replayed %v, want %v (PROTOCOL.md §4)", got, w.stored)
			}
			if got := retryAfter(code, noWait); got != w.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, w.retryAfter)
			}
			status, body := problemFor(fault.New(code, "detail"), "req_1", errorTypeBase("https://pay.example.test/"))
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if status != w.status || p.Status != w.status || p.Code != string(code) ||
				p.Type != "https://pay.example.test/errors/"+string(code) || p.Title != e.title || p.RequestID != "req_1" {
				t.Errorf("problem %d %+v", status, p)
			}
		})
	}
}

func TestRetryAfterCallerWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code fault.Code
		wait time.Duration
		want string
	}{
		{fault.RateLimited, 1000 * time.Second, "1000"},
		{fault.RateLimited, 1500 * time.Millisecond, "2"},
		{fault.RateLimited, 0, "1"},
		{fault.Unavailable, time.Second, "1"},
		{fault.IdempotencyKeyInUse, noWait, "1"},
		{fault.InvalidState, 3 * time.Second, ""},
	} {
		if got := retryAfter(tc.code, tc.wait); got != tc.want {
			t.Errorf("retryAfter(%s, %v) = %q, want %q", tc.code, tc.wait, got, tc.want)
		}
	}
}

func TestUnknownCodeIsInternal(t *testing.T) {
	t.Parallel()
	status, body := problemFor(fault.New("no_such_code", "driver text"), "req_1", errorTypeBase(""))
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if status != 500 || p.Code != "internal" || p.Detail != internalDetail {
		t.Fatalf("unknown code answered %d %+v", status, p)
	}
}
