package receiptpage

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/receipt"
)

func TestRender(t *testing.T) {
	t.Parallel()
	v := &View{Authentic: true, Receipt: receipt.Receipt{ID: "rc_1", Number: "2026/000007", Portal: receipt.Portal{Name: "Cổng A"},
		Payer: receipt.Payer{Name: "Nguyễn Văn Ánh"}, ServiceCode: "1.001", DossierCode: "HCM-<1>", Amount: "1250000",
		PaidAt: "2026-12-02T01:30:00Z"},
		Refunds: []Refund{{Amount: decimal.NewFromInt(250000), At: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}}}
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"vi", []string{`<html lang="vi">`, "Biên lai này là thật", "2026/000007", "Cổng A", "1.250.000 đồng", "08:30 ngày 02/12/2026",
			"N. V. Á.", "250.000 đồng", "HCM-&lt;1&gt;", `href="?c=code&amp;lang=en"`, `name="viewport"`, StylesheetPath()}},
		{"en", []string{`<html lang="en">`, "This receipt is authentic", "1,250,000 VND", "2026-12-02 08:30", `href="?c=code"`}},
	} {
		b, err := Render(v, tc.lang, "code")
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, w := range tc.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s page lacks %q:\n%s", tc.lang, w, page)
			}
		}
		if strings.Contains(page, "Nguyễn") || strings.Contains(page, "Ánh") || strings.Contains(page, "<script") || len(b) > 100<<10 {
			t.Errorf("%s page shows the name, a script or is too big (%d bytes)", tc.lang, len(b))
		}
	}
	notFound, err := Render(nil, "vi", "")
	if err != nil || !strings.Contains(string(notFound), "Không tìm thấy biên lai") || strings.Contains(string(notFound), "2026/") {
		t.Fatalf("not-found page: %v %s", err, notFound)
	}
	v.Authentic = false
	forged, _ := Render(v, "vi", "code")
	if strings.Contains(string(forged), "Biên lai này là thật") || !strings.Contains(string(forged), "Không xác thực được") {
		t.Fatalf("a receipt that does not verify is shown as authentic: %s", forged)
	}
	if css, ok := Stylesheet(strings.TrimPrefix(StylesheetPath(), AssetsPath)); !ok || len(css) == 0 {
		t.Fatal("the stylesheet is not served under its name")
	}
	if _, ok := Stylesheet("receipt.css"); ok {
		t.Fatal("the stylesheet is served under a name without its hash")
	}
}
