package checkout_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

// TestPageChangesShareTheCitizensRateLimit: links and pays from the page
// take from the same per-citizen allowance as the citizen API's changes, so
// a script cannot probe account numbers through the page faster than
// through the API. Over it, the page says to slow down and nothing is linked.
func TestPageChangesShareTheCitizensRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, apitest.WithEnv("RATE_LIMIT_CITIZEN_RPS", "0.001"), apitest.WithEnv("RATE_LIMIT_CITIZEN_BURST", "2"))
	who := newPerson(t, 2)
	b.h.NewBank("SBX")
	reqID := b.newRequest(t, who.PID, "HS-LIMIT")
	br := b.browser(t)
	br.signedIn(reqID, who)
	link := func(number string) page {
		pg := br.get("/pay/" + reqID)
		resp := br.post("/pay/"+reqID+"/accounts", url.Values{
			"csrf": {pg.field(t, "link-form", "csrf")}, "bank_code": {"SBX"}, "account_number": {number},
		})
		if resp.Status != http.StatusSeeOther {
			t.Fatalf("link %s = %d", number, resp.Status)
		}
		return br.get("/pay/" + reqID)
	}
	slow := "Bạn thao tác quá nhanh"
	for _, n := range []string{"12ab", "34cd"} { // within the burst: refused for the number, not the pace
		if shown := link(n); strings.Contains(shown.Body, slow) {
			t.Fatalf("limited within the burst: %s", shown.Body)
		}
	}
	shown := link("9704000011112222")
	if !strings.Contains(shown.Body, slow) {
		t.Fatalf("the third change passed the limit: %s", shown.Body)
	}
	if n := b.count(t, `SELECT count(*) FROM linked_accounts`); n != 0 {
		t.Fatalf("a limited link left %d accounts", n)
	}
}
