package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
)

// TestMetricsLabelsAreBounded sends requests with invented methods, to known
// and unknown paths: each would be a new series if the raw method (or path)
// became a label, and a few thousand of them grow the gateway for good.
func TestMetricsLabelsAreBounded(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	for i := range 200 {
		method := "X" + strings.Repeat("A", 1+i%50) + string(rune('A'+i%26))
		path := "/healthz"
		if i%2 == 1 {
			path = "/nowhere/" + method
		}
		req, err := http.NewRequest(method, h.Server.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s %s: %d, want 404", method[:8], path[:8], resp.StatusCode)
		}
	}
	h.Get("/v1/payment-requests")
	families, err := h.App.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods, routes := map[string]bool{}, map[string]bool{}
	series := 0
	for _, f := range families {
		if f.GetName() != "gateway_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			series++
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "method":
					methods[l.GetValue()] = true
				case "route":
					routes[l.GetValue()] = true
				}
			}
		}
	}
	for m := range methods {
		switch m {
		case http.MethodGet, http.MethodPost, http.MethodDelete, "other":
		default:
			t.Errorf("method label %.20q: only the router's methods and other may be labels", m)
		}
	}
	if !methods["other"] {
		t.Errorf("no method=\"other\" series among %d method labels", len(methods))
	}
	for r := range routes {
		if r != "unmatched" && !strings.HasPrefix(r, "/") || strings.HasPrefix(r, "/nowhere") {
			t.Errorf("route label %.40q: only registered routes and unmatched may be labels", r)
		}
	}
	if series > 10 {
		t.Errorf("%d series of gateway_http_requests_total after 200 invented methods, want a handful", series)
	}
}
