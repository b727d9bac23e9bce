package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
)

// TestConcurrentLinks races links of one citizen: the same key ten times at
// once makes one account; different numbers at once never pass the limit.
func TestConcurrentLinks(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, noCitizenRateLimit())
	cit := idp.NewCitizen(t, 2)
	var held []banksim.Account
	for range 14 {
		held = append(held, apitest.AccountOf(t, cit))
	}
	h.NewBank("SBX", held...)

	statuses := func(n int, req func(i int) *apitest.Response) map[string]int {
		var mu sync.Mutex
		var wg sync.WaitGroup
		out := map[string]int{}
		for i := range n {
			wg.Go(func() {
				r := req(i)
				key := fmt.Sprint(r.Status)
				if r.Status >= 400 {
					key += " " + r.Code()
				}
				if r.Header.Get("Idempotent-Replayed") == "true" {
					key += " replayed"
				}
				mu.Lock()
				out[key]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return out
	}

	same := statuses(10, func(int) *apitest.Response {
		return h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "same-key", linkBody("SBX", held[0].Number))
	})
	if same["202"] != 1 || same["202"]+same["202 replayed"]+same["409 idempotency_key_in_use"] != 10 {
		t.Fatalf("the same key at once: %v", same)
	}
	if n := h.Count(`SELECT count(*) FROM linked_accounts`); n != 1 {
		t.Fatalf("%d accounts from one key", n)
	}

	// Eight more pending (nine in all), then five at once for the last place.
	for i := 1; i < 9; i++ {
		link(t, h, cit, fmt.Sprintf("link-%d", i), "SBX", held[i].Number)
	}
	race := statuses(5, func(i int) *apitest.Response {
		return h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", fmt.Sprintf("race-%d", i), linkBody("SBX", held[9+i].Number))
	})
	if race["202"] != 1 || race["409 account_limit"] != 4 {
		t.Fatalf("five links for the last place: %v", race)
	}
	if n := h.Count(`SELECT count(*) FROM linked_accounts WHERE status IN ('pending_verification', 'active')`); n != 10 {
		t.Fatalf("%d live accounts", n)
	}
}
