package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
)

// ctl runs gatewayctl against h's database and decodes its JSON output.
func ctl(t *testing.T, h *apitest.Harness, args ...string) (map[string]any, string, error) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey, "GATEWAY_ENV": "development"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		return nil, errOut.String(), err
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("gatewayctl %v printed %q: %v", args, out.String(), err)
	}
	return m, errOut.String(), nil
}

func pointPortal(t *testing.T, h *apitest.Harness, url string) {
	t.Helper()
	if _, err := h.DB.Pool.Exec(context.Background(), `UPDATE portals SET webhook_url = $2 WHERE id = $1`, h.Portal.ID, url); err != nil {
		t.Fatal(err)
	}
}

// createRequest creates a payment request and returns the id of its
// payment_request.created event.
func createRequest(t *testing.T, h *apitest.Harness, dossier string) string {
	t.Helper()
	res := h.Post("/v1/payment-requests", "create-"+dossier, map[string]any{
		"citizen_pid": "079203001234", "dossier_code": dossier, "service_code": "1.001234",
		"description": "Lệ phí cấp giấy phép xây dựng",
		"items":       []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "75000"}},
		"amount":      "75000", "currency": "VND",
	})
	if res.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", dossier, res.Status, res.Body)
	}
	var evID string
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT id FROM events
		WHERE payload::jsonb #>> '{data,payment_request,id}' = $1`, res.Map(t)["id"]).Scan(&evID); err != nil {
		t.Fatal(err)
	}
	return evID
}

func delivered(t *testing.T, h *apitest.Harness, evID string) bool {
	t.Helper()
	return h.Count(`SELECT count(*) FROM events WHERE id = $1 AND delivery_status = 'delivered'`, evID) == 1
}

// failAll marks every event failed, as if the portal had been down past the
// last attempt.
func failAll(t *testing.T, h *apitest.Harness) {
	t.Helper()
	if _, err := h.DB.Pool.Exec(context.Background(), `UPDATE events SET delivery_status = 'failed',
		delivered_at = NULL, delivery_attempts = 10, last_error = 'HTTP 500'`); err != nil {
		t.Fatal(err)
	}
}

func TestEventsRedeliver(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, apitest.WithEnv("GATEWAY_WORKERS", "true"), apitest.WithEnv("WEBHOOK_RETRY_FACTOR", "0.001"))
	url, out, _ := startListener(t, h.Portal.WebhookSecret, "")
	pointPortal(t, h, url+"/webhooks")
	a := createRequest(t, h, "HCM-CTL-1")
	b := createRequest(t, h, "HCM-CTL-2")
	testenv.Eventually(t, 30*time.Second, func() bool { return delivered(t, h, a) && delivered(t, h, b) }, "both delivered")
	failAll(t, h)

	m, _, err := ctl(t, h, "events", "redeliver", "--by", "tester", "--event", a)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := m["events"].([]any)
	if m["portal_id"] != h.Portal.ID || m["count"] != float64(1) || len(events) != 1 {
		t.Fatalf("redeliver --event: %v", m)
	}
	if e := events[0].(map[string]any); e["event_id"] != a || e["delivery_status"] != "pending" || e["generation"] != float64(1) {
		t.Errorf("redelivered %v", e)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return delivered(t, h, a) }, a+" delivered again")
	if delivered(t, h, b) {
		t.Errorf("%s redelivered too", b)
	}

	m, _, err = ctl(t, h, "events", "redeliver", "--by", "tester", "--portal", h.Portal.KeyID, "--failed")
	if err != nil {
		t.Fatal(err)
	}
	if m["count"] != float64(1) {
		t.Errorf("redeliver --failed: %v, want %s only", m, b)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return delivered(t, h, b) }, b+" delivered again")

	counts := map[string]int{}
	for _, l := range out.lines(t) {
		counts[l.ID]++
	}
	if counts[a] != 2 || counts[b] != 2 {
		t.Errorf("the listener verified %v, want each event twice", counts)
	}
	if m, _, err := ctl(t, h, "events", "redeliver", "--by", "tester", "--portal", h.Portal.ID, "--failed"); err != nil || m["count"] != float64(0) {
		t.Errorf("nothing failed: %v, %v", m, err)
	}
}

func TestEventsRedeliverArguments(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	tests := []struct {
		args []string
		want string // in the error; "" for errUsage
	}{
		{args: []string{"events"}},
		{args: []string{"events", "replay"}},
		{args: []string{"events", "redeliver", "--by", "tester", "extra"}},
		{args: []string{"events", "redeliver", "--by", "tester"}, want: "give --event ID, or --portal ID --failed"},
		{args: []string{"events", "redeliver", "--by", "tester", "--portal", "ptl_x"}, want: "give --event ID"},
		{args: []string{"events", "redeliver", "--by", "tester", "--event", "evt_x", "--failed"}, want: "give --event ID"},
		{args: []string{"events", "redeliver", "--by", "tester", "--event", "evt_unknown"}, want: "not_found"},
		{args: []string{"events", "redeliver", "--by", "tester", "--portal", "ptl_unknown", "--failed"}, want: "not_found"},
		{args: []string{"portal", "enable-webhook", "--by", "tester"}, want: "--portal is required"},
	}
	for _, tt := range tests {
		_, _, err := ctl(t, h, tt.args...)
		switch {
		case tt.want == "" && !errors.Is(err, errUsage):
			t.Errorf("%v: %v, want usage", tt.args, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestPortalEnableWebhook(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, apitest.WithEnv("GATEWAY_WORKERS", "true"), apitest.WithEnv("WEBHOOK_RETRY_FACTOR", "0.001"))
	// The portal's application behind `gatewayctl listen --forward`: gone at
	// first, back later.
	var status atomic.Int32
	status.Store(http.StatusGone)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(status.Load())) }))
	t.Cleanup(app.Close)
	url, out, _ := startListener(t, h.Portal.WebhookSecret, app.URL)
	pointPortal(t, h, url+"/webhooks")
	a := createRequest(t, h, "HCM-410-1")
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM portals WHERE webhook_disabled_at IS NOT NULL`) == 1
	}, "the endpoint disabled")
	b := createRequest(t, h, "HCM-410-2") // held while disabled

	m, stderr, err := ctl(t, h, "events", "redeliver", "--by", "tester", "--event", a)
	if err != nil {
		t.Fatal(err)
	}
	if m["webhook_disabled"] != true || !strings.Contains(stderr, "enable-webhook") {
		t.Errorf("redelivery to a disabled endpoint: %v, stderr %q", m, stderr)
	}

	status.Store(http.StatusNoContent)
	m, _, err = ctl(t, h, "portal", "enable-webhook", "--by", "tester", "--portal", h.Portal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m["was_disabled"] != true || m["webhook_enabled"] != true || m["count"] != float64(2) {
		t.Errorf("enable-webhook: %v", m)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return delivered(t, h, a) && delivered(t, h, b) }, "both delivered")
	var statuses []int
	for _, l := range out.lines(t) {
		statuses = append(statuses, l.ForwardStatus)
	}
	if len(statuses) != 3 || statuses[0] != http.StatusGone || statuses[1] != http.StatusNoContent || statuses[2] != http.StatusNoContent {
		t.Errorf("forwarded statuses %v, want 410 then two 204", statuses)
	}
	if m, _, err := ctl(t, h, "portal", "enable-webhook", "--by", "tester", "--portal", h.Portal.KeyID); err != nil || m["was_disabled"] != false || m["count"] != float64(0) {
		t.Errorf("enabling again: %v, %v", m, err)
	}
}
