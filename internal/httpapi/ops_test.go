package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/httpapi"
)

// TestMetricsOnlyOnTheOperationsListener: the public listener answers
// /metrics as any unknown route; the operations listener serves it, with
// the health routes, and pprof only when asked.
func TestMetricsOnlyOnTheOperationsListener(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/metrics", Unsigned: true})
	if r.Status != http.StatusNotFound || r.Code() != "not_found" {
		t.Fatalf("/metrics on the API listener: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := h.Do(apitest.Request{Method: http.MethodGet, Path: path, Unsigned: true}); r.Status != http.StatusOK {
			t.Errorf("%s on the API listener: %d %s", path, r.Status, r.Body)
		}
		if status, body := get(t, h.Ops.URL+path); status != http.StatusOK {
			t.Errorf("%s on the operations listener: %d %s", path, status, body)
		}
	}
	metrics := h.Metrics()
	for _, want := range []string{`gateway_http_requests_total{method="GET",route="unmatched",status="404"}`, `gateway_http_requests_total{method="GET",route="/readyz",status="200"}`, "process_resident_memory_bytes "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if status, _ := get(t, h.Ops.URL+"/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("pprof without OPS_PPROF: %d, want 404", status)
	}

	withPprof := httptest.NewServer(httpapi.NewOps(httpapi.Deps{Log: slog.New(slog.DiscardHandler), Metrics: httpapi.NewMetrics(nil, nil)}, true))
	defer withPprof.Close()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		if status, body := get(t, withPprof.URL+path); status != http.StatusOK || len(body) == 0 {
			t.Errorf("%s with OPS_PPROF: %d", path, status)
		}
	}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}
