package checkout

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/payment"
)

// TestWayBack: the way back to the portal, with the portal's own query kept
// and only the id and status added, is on every final page and on the 403
// page, and on no page where the citizen still has something to do.
func TestWayBack(t *testing.T) {
	t.Parallel()
	p, err := New(Deps{Config: Config{Missing: "IDP_ISSUER"}})
	if err != nil {
		t.Fatal(err)
	}
	back := payment.ReturnTo("https://portal.example.gov.vn/ho-so?ma=HS-1", "pr_1", payment.StatusPaid)
	for _, tc := range []struct {
		shown string
		want  bool
	}{
		{"pending", false}, {"failed", false}, {"processing", false}, {"unknown", true}, {"paid", true},
		{"expired", true}, {"canceled", true}, {"refunded", true}, {"partially_refunded", true},
	} {
		v := p.newView("vi", pageRequest)
		v.ReqID, v.Status, v.ReturnURL = "pr_1", tc.shown, back
		p.describe(v, tc.shown)
		body := render(t, p, v)
		has := strings.Contains(body, `<a id="return" class="button" href="https://portal.example.gov.vn/ho-so?ma=HS-1&amp;payment_request_id=pr_1&amp;status=paid">`)
		if has != tc.want {
			t.Errorf("%s: way back shown %v, want %v", tc.shown, has, tc.want)
		}
	}
	v := p.newView("en", pageForbidden)
	v.Heading, v.ReturnURL, v.SignedIn = v.T["forbidden_heading"], back, true
	body := render(t, p, v)
	if !strings.Contains(body, `id="return"`) || !strings.Contains(body, `data-page="forbidden" data-status=""`) ||
		!strings.Contains(body, `<html lang="en">`) {
		t.Fatalf("403 page: %s", body)
	}
}

func render(t *testing.T, p *Pages, v *view) string {
	t.Helper()
	w := httptest.NewRecorder()
	if err := p.templates.render(w, 200, v); err != nil {
		t.Fatal(err)
	}
	return w.Body.String()
}
