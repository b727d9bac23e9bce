package receipt

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
)

const (
	testPID       = "079203001234"
	testReceiptID = "rc_01jabcdexyz0000000000000"
	testPublicURL = "https://pay.example.test/"
)

var testCodeKey = []byte("0123456789abcdef0123456789abcdef")

// paidRequest is a request of 75 000 đồng in two items, paid at 15:30 on
// 2 December 2026 in Hồ Chí Minh City.
func paidRequest() *payment.Request {
	paidAt := time.Date(2026, 12, 2, 8, 30, 0, 0, time.UTC)
	return &payment.Request{
		ID: "pr_01jabcdexyz0000000000000", PortalID: "ptl_01jportal0000000000000000", Status: payment.StatusPaid,
		CitizenPIDMasked: pii.MaskPID(testPID), DossierCode: "HCM-2026-000123", ServiceCode: "1.001234",
		Description: "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ",
		Items: []payment.Item{
			{Code: "LE_PHI", Description: "Lệ phí", Amount: decimal.RequireFromString("50000")},
			{Code: "PHI_THAM_DINH", Description: "Phí thẩm định hồ sơ", Amount: decimal.RequireFromString("25000")},
		},
		Amount: decimal.RequireFromString("75000"), Currency: "VND", AmountRefunded: decimal.Zero,
		Payment: &payment.Payment{AttemptID: "pa_01jattempt00000000000000", BankCode: "SBX", BankReference: "FT26336123456", PaidAt: paidAt},
	}
}

func testIssue() Issue {
	return Issue{ID: testReceiptID, Seq: 42, PortalName: "Cổng dịch vụ công Thành phố Hồ Chí Minh",
		PayerName: "Nguyễn Văn An", IssuedAt: time.Date(2026, 12, 2, 8, 30, 1, 0, time.UTC),
		PublicURL: testPublicURL, CodeKey: testCodeKey}
}

func sampleReceipt(t *testing.T) Receipt {
	t.Helper()
	r, err := New(paidRequest(), testIssue())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNewFields checks every field of §11, by its JSON name, against the
// request it came from.
func TestNewFields(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(sampleReceipt(t))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": testReceiptID, "number": "2026/000042", "payment_request_id": "pr_01jabcdexyz0000000000000",
		"portal":       map[string]any{"id": "ptl_01jportal0000000000000000", "name": "Cổng dịch vụ công Thành phố Hồ Chí Minh"},
		"payer":        map[string]any{"name": "Nguyễn Văn An", "pid_masked": "079******234"},
		"service_code": "1.001234", "dossier_code": "HCM-2026-000123",
		"description": "Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ",
		"items": []any{
			map[string]any{"code": "LE_PHI", "description": "Lệ phí", "amount": "50000"},
			map[string]any{"code": "PHI_THAM_DINH", "description": "Phí thẩm định hồ sơ", "amount": "25000"},
		},
		"amount": "75000", "amount_in_words": "Bảy mươi lăm nghìn đồng", "currency": "VND",
		"paid_at": "2026-12-02T08:30:00Z", "bank_code": "SBX", "bank_reference": "FT26336123456",
		"issued_at":  "2026-12-02T08:30:01Z",
		"verify_url": "https://pay.example.test/r/" + testReceiptID + "?c=" + Code(testCodeKey, testReceiptID),
	}
	if len(got) != len(want) {
		t.Errorf("%d fields, want %d: %s", len(got), len(want), b)
	}
	for k, w := range want {
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(got[k])
		if string(wj) != string(gj) {
			t.Errorf("%s = %s, want %s", k, gj, wj)
		}
	}
	if strings.Contains(string(b), testPID) {
		t.Errorf("the receipt holds the pid in clear: %s", b)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		req   func(*payment.Request)
		issue func(*Issue)
	}{
		"pending request": {req: func(r *payment.Request) { r.Status = payment.StatusPending; r.Payment = nil }},
		"no payment":      {req: func(r *payment.Request) { r.Payment = nil }},
		"other currency":  {req: func(r *payment.Request) { r.Currency = "USD" }},
		"fractional":      {req: func(r *payment.Request) { r.Amount = decimal.RequireFromString("75000.5") }},
		"not an rc id":    {issue: func(i *Issue) { i.ID = "pr_01jabc" }},
		"sequence 0":      {issue: func(i *Issue) { i.Seq = 0 }},
		"no payer name":   {issue: func(i *Issue) { i.PayerName = " " }},
		"no code key":     {issue: func(i *Issue) { i.CodeKey = nil }},
		"no issue time":   {issue: func(i *Issue) { i.IssuedAt = time.Time{} }},
	} {
		req, in := paidRequest(), testIssue()
		if tc.req != nil {
			tc.req(req)
		}
		if tc.issue != nil {
			tc.issue(&in)
		}
		if r, err := New(req, in); err == nil {
			t.Errorf("%s: New = %+v, want a refusal", name, r)
		}
	}
	req := paidRequest()
	req.Status = payment.StatusProcessing
	if _, err := New(req, testIssue()); !errors.Is(err, ErrNotPaid) {
		t.Errorf("New of a processing request: %v, want ErrNotPaid", err)
	}
}

// TestNumberYear: the year is Hồ Chí Minh City's, so a receipt issued at
// 17:30 UTC on 31 December is the next year's.
func TestNumberYear(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		year int
		seq  int64
		want string
	}{
		{2026, 1, "2026/000001"}, {2026, 42, "2026/000042"}, {2026, 999999, "2026/999999"},
		{2027, 1234567, "2027/1234567"},
	} {
		if got := Number(tc.year, tc.seq); got != tc.want {
			t.Errorf("Number(%d, %d) = %q, want %q", tc.year, tc.seq, got, tc.want)
		}
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 12, 31, 16, 59, 59, 0, time.UTC), 2026},
		{time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC), 2027},
	} {
		if got := Year(tc.at); got != tc.want {
			t.Errorf("Year(%s) = %d, want %d", tc.at, got, tc.want)
		}
	}
	in := testIssue()
	in.IssuedAt, in.Seq = time.Date(2026, 12, 31, 17, 30, 0, 0, time.UTC), 1
	r, err := New(paidRequest(), in)
	if err != nil || r.Number != "2027/000001" {
		t.Errorf("receipt issued 00:30 on 1 January in HCMC: number %q, %v; want 2027/000001", r.Number, err)
	}
}

func TestInitials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"Nguyễn Văn An", "N. V. A."},
		{"  trần   thị  bích ", "T. T. B."},
		{"Đặng Ánh", "Đ. Á."},
		{"A\u0301nh Đỗ", "Á. Đ."}, // a decomposed Á
		{"Lê", "L."},
		{"", ""},
	} {
		if got := Initials(tc.name); got != tc.want {
			t.Errorf("Initials(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
