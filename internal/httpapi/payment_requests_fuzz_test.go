package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
)

// fuzzNow is the clock of the create fuzz targets; expires_at seeds are
// written against it.
var fuzzNow = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// createDraft runs a create body the way createPaymentRequest does before it
// touches the database: strict decoding, then payment.Validate.
func createDraft(engine *gin.Engine, body []byte) (payment.Draft, error) {
	c := gin.CreateTestContextOnly(httptest.NewRecorder(), engine)
	c.Request = httptest.NewRequest(http.MethodPost, "/v1/payment-requests", bytes.NewReader(body))
	var b createPaymentRequestBody
	if err := decode(c, &b); err != nil {
		return payment.Draft{}, err
	}
	return payment.Validate(toCreateInput(b), fuzzNow)
}

func createSeeds(f *testing.F) {
	f.Helper()
	const valid = `{"citizen_pid":"079203001234","dossier_code":"HCM-2026-000123","service_code":"1.001234","description":"Lệ phí cấp giấy phép xây dựng","items":[{"code":"LE_PHI","description":"Lệ phí","amount":"75000"}],"amount":"75000","currency":"VND"}`
	f.Add([]byte(valid))
	set := func(field, raw string) []byte {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			f.Fatal(err)
		}
		m[field] = json.RawMessage(raw)
		b, err := json.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	// PROTOCOL.md §1's bad amounts, and the edges of the good ones.
	for _, a := range []string{`"75000.0"`, `"7.5e4"`, `"-1"`, `"075000"`, `75000`, `"0"`, `""`, `null`, `"1000000000000000000"`, `"75000 "`} {
		f.Add(set("amount", a))
		f.Add(set("items", `[{"code":"LE_PHI","description":"Lệ phí","amount":`+a+`}]`))
	}
	f.Add(set("amount", `"75001"`))
	f.Add(set("items", `[{"code":"A","description":"a","amount":"50000"},{"code":"B","description":"b","amount":"25000"}]`))
	f.Add(set("items", `[{"code":"A","description":"a","amount":"999999999999999999"},{"code":"B","description":"b","amount":"999999999999999999"}]`))
	f.Add(set("items", `[]`))
	f.Add(set("items", `[`+strings.Repeat(`{"code":"A","description":"a","amount":"1"},`, 50)+`{"code":"A","description":"a","amount":"1"}]`))
	f.Add(set("items", `[{"code":"A","description":"a","amount":"75000","extra":1}]`))
	// NUL and other control characters in text; invalid UTF-8; lengths.
	f.Add(set("dossier_code", `"HCM-2026-\u0000"`))
	f.Add(set("description", `"Lệ phí\u0007\u009f"`))
	f.Add(bytes.Replace([]byte(valid), []byte("HCM-2026-000123"), []byte("HCM-\xff\xfe"), 1))
	f.Add(set("dossier_code", `"`+strings.Repeat("đ", 64)+`"`))
	f.Add(set("dossier_code", `"`+strings.Repeat("đ", 65)+`"`))
	f.Add(set("dossier_code", `""`))
	f.Add(set("citizen_pid", `"079203001235"`))
	f.Add(set("citizen_pid", `"003203001234"`))
	f.Add(set("citizen_pid", `"07920300123"`))
	f.Add(set("citizen_pid", `79203001234`))
	f.Add(set("currency", `"vnd"`))
	f.Add(set("expires_at", `"2026-11-27T08:00:00Z"`))
	f.Add(set("expires_at", `"2026-12-26T08:00:00Z"`))
	f.Add(set("expires_at", `"2026-12-26T08:00:01Z"`))
	f.Add(set("expires_at", `"2026-11-26T08:00:00Z"`))
	f.Add(set("expires_at", `"2026-11-27T8:00:00Z"`))
	f.Add(set("expires_at", `"tomorrow"`))
	f.Add(set("metadata", `{"case":"123","portal":"dvc"}`))
	f.Add(set("metadata", `{"":"x"}`))
	f.Add(set("metadata", `{"k":"\u0000"}`))
	f.Add(set("metadata", `{"k":1}`))
	f.Add(set("unknown", `1`))
	f.Add([]byte(`{"amount":"1","amount":"75000","citizen_pid":"079203001234","dossier_code":"D","service_code":"S","description":"d","items":[{"code":"A","description":"a","amount":"75000"}],"currency":"VND"}`))
	f.Add([]byte(valid + ` {}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Add([]byte(`[]`))
}

// FuzzCreateBody feeds arbitrary bodies to the create path (strict JSON
// decoding, then payment.Validate). It never panics; a refusal is one of the
// 4xx codes of §5 with a code and message for each field problem; an accepted request has a valid pid,
// texts of valid UTF-8 within the protocol's lengths, 1–50 items, amounts of
// ^[1-9][0-9]{0,17}$ sent as JSON strings, an amount equal to the sum of the
// items, currency VND and an expiry in (now, now + 30 days].
func FuzzCreateBody(f *testing.F) {
	createSeeds(f)
	gin.SetMode(gin.ReleaseMode) // as NewServer does
	engine := gin.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := createDraft(engine, body)
		if err != nil {
			e, ok := fault.As(err)
			if !ok {
				t.Fatalf("create(%q) = %v: not a *fault.Error, would be a 500", body, err)
			}
			switch e.Code {
			case fault.InvalidRequest, fault.PayloadTooLarge, fault.ValidationFailed, fault.InvalidAmount,
				fault.AmountMismatch, fault.InvalidPID, fault.InvalidExpiry:
			default:
				t.Fatalf("create(%q) = %v: code %s is not a refusal of the body", body, err, e.Code)
			}
			for _, fe := range e.Fields {
				// fe.Field may be empty today: a body that is not an object
				// gives {"field": "", "message": " has the wrong type"}.
				if fe.Code == "" || fe.Message == "" {
					t.Fatalf("create(%q) = %v: a field problem without code or message: %+v", body, err, fe)
				}
			}
			return
		}

		if len(d.CitizenPID) != 12 || strings.Trim(d.CitizenPID, "0123456789") != "" || pii.ValidatePID(d.CitizenPID) != nil {
			t.Fatalf("create(%q) accepted pid %q", body, d.CitizenPID)
		}
		text := func(field, v string, lo, hi int) {
			t.Helper()
			if n := utf8.RuneCountInString(v); !utf8.ValidString(v) || n < lo || n > hi {
				t.Fatalf("create(%q) accepted %s %q: want valid UTF-8 of %d to %d characters", body, field, v, lo, hi)
			}
		}
		text("dossier_code", d.DossierCode, 1, 64)
		text("service_code", d.ServiceCode, 1, 64)
		text("description", d.Description, 1, 140)
		if d.Currency != "VND" {
			t.Fatalf("create(%q) accepted currency %q", body, d.Currency)
		}
		if n := len(d.Items); n < 1 || n > 50 {
			t.Fatalf("create(%q) accepted %d items", body, n)
		}
		sum := decimal.Zero
		for _, it := range d.Items {
			text("items[].code", it.Code, 1, 64)
			text("items[].description", it.Description, 1, 140)
			if _, err := money.Parse(money.Format(it.Amount)); err != nil || !it.Amount.IsInteger() {
				t.Fatalf("create(%q) accepted item amount %s", body, it.Amount)
			}
			sum = sum.Add(it.Amount)
		}
		if _, err := money.Parse(money.Format(d.Amount)); err != nil || !d.Amount.IsInteger() {
			t.Fatalf("create(%q) accepted amount %s", body, d.Amount)
		}
		if !sum.Equal(d.Amount) {
			t.Fatalf("create(%q) accepted amount %s for items summing to %s", body, d.Amount, sum)
		}
		// The amounts were JSON strings: a number is invalid_amount.
		var raw struct {
			Amount json.RawMessage `json:"amount"`
			Items  []struct {
				Amount json.RawMessage `json:"amount"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("create accepted %q, which encoding/json cannot read: %v", body, err)
		}
		isText := func(raw json.RawMessage, want decimal.Decimal) bool {
			var s string
			return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && s == money.Format(want)
		}
		if !isText(raw.Amount, d.Amount) {
			t.Fatalf("create(%q) accepted amount %s as %s", body, raw.Amount, d.Amount)
		}
		if len(raw.Items) != len(d.Items) {
			t.Fatalf("create(%q) kept %d of %d items", body, len(d.Items), len(raw.Items))
		}
		for i, it := range raw.Items {
			if !isText(it.Amount, d.Items[i].Amount) {
				t.Fatalf("create(%q) accepted item amount %s as %s", body, it.Amount, d.Items[i].Amount)
			}
		}
		if !d.ExpiresAt.After(fuzzNow) || d.ExpiresAt.Sub(fuzzNow) > 30*24*time.Hour {
			t.Fatalf("create(%q) accepted expiry %s at %s", body, d.ExpiresAt, fuzzNow)
		}
		if d.Metadata == nil || len(d.Metadata) > 20 {
			t.Fatalf("create(%q) accepted metadata %v", body, d.Metadata)
		}
		for k, v := range d.Metadata {
			text("metadata key", k, 1, 40)
			text("metadata value", v, 0, 500)
		}
	})
}

// FuzzCreateBodyNoControlChars: an accepted create request has no control
// character (Unicode Cc: U+0000–U+001F, U+007F–U+009F) in any of its text
// fields. A NUL is refused by PostgreSQL's text and jsonb, so it must be a
// 422 here rather than a 500 at the insert; the other control characters
// have no place in a case number or a line shown on the checkout page.
func FuzzCreateBodyNoControlChars(f *testing.F) {
	createSeeds(f)
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := createDraft(engine, body)
		if err != nil {
			return
		}
		check := func(field, v string) {
			t.Helper()
			if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
				t.Fatalf("create(%q) accepted %s %q with control character %U", body, field, v, []rune(v[i:])[0])
			}
		}
		check("citizen_pid", d.CitizenPID)
		check("dossier_code", d.DossierCode)
		check("service_code", d.ServiceCode)
		check("description", d.Description)
		for _, it := range d.Items {
			check("items[].code", it.Code)
			check("items[].description", it.Description)
		}
		for k, v := range d.Metadata {
			check("metadata key", k)
			check("metadata value", v)
		}
	})
}
