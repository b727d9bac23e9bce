package banksim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	post := func(body string) (int, Knobs) {
		t.Helper()
		resp, err := http.Post(b.srv.URL+"/_sim/knobs", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var k Knobs
		_ = json.NewDecoder(resp.Body).Decode(&k)
		return resp.StatusCode, k
	}
	status, k := post(`{"sync":true,"latency":"15ms","duplicate_callbacks":2}`)
	if status != http.StatusOK || k != (Knobs{Sync: true, Latency: 15 * time.Millisecond, DuplicateCallbacks: 2}) || b.bank.Knobs() != k {
		t.Fatalf("set: %d %+v", status, k)
	}
	// A POST changes only what it names.
	if _, k = post(`{"reject":"ACCOUNT_FROZEN"}`); k != (Knobs{Sync: true, Latency: 15 * time.Millisecond, DuplicateCallbacks: 2, Reject: "ACCOUNT_FROZEN"}) {
		t.Fatalf("merge: %+v", k)
	}
	for _, bad := range []string{`{"failure_rate":2}`, `{"latency":"soon"}`, `{"laytency":"1s"}`, `{`} {
		if status, _ := post(bad); status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, status)
		}
	}
	if b.bank.Knobs().Reject != "ACCOUNT_FROZEN" {
		t.Fatal("a refused POST changed the knobs")
	}

	getJSON := func(path string, v any) int {
		t.Helper()
		resp, err := http.Get(b.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	var got Knobs
	if getJSON("/_sim/knobs", &got); got != b.bank.Knobs() {
		t.Fatalf("GET knobs %+v", got)
	}
	var acc struct{ Number, Balance string }
	if status := getJSON("/_sim/accounts/0071-000-123456", &acc); status != http.StatusOK || acc.Number != testAccount || acc.Balance != "1000000" {
		t.Fatalf("account: %d %+v", status, acc)
	}
	if status := getJSON("/_sim/accounts/0071000000000", &acc); status != http.StatusNotFound {
		t.Fatalf("unknown account: %d", status)
	}

	b.bank.SetKnobs(Knobs{Sync: true})
	b.debit(t, "pa_adm", testAccount, testPID, "75000")
	var st Stats
	if getJSON("/_sim/stats", &st); st.Executed["pa_adm"] != 1 || st.Received["debit"] != 1 || st.Requests != 1 {
		t.Fatalf("stats %+v", st)
	}
}
