package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestPortalUpdate(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	var out map[string]any
	ctlJSON(t, h, &out, "portal", "update", "--portal", h.Portal.KeyID, "--name", "  Renamed  ", "--by", "tester")
	if out["name"] != "Renamed" || out["webhook_url"] != h.Portal.WebhookURL || out["portal_id"] != h.Portal.ID {
		t.Fatalf("update --name: %v", out)
	}
	ctlJSON(t, h, &out, "portal", "update", "--portal", h.Portal.ID, "--webhook-url", "https://moved.example.vn/hooks", "--by", "tester")
	if out["name"] != "Renamed" || out["webhook_url"] != "https://moved.example.vn/hooks" {
		t.Fatalf("update --webhook-url: %v", out)
	}
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"production", []string{"--portal", h.Portal.ID, "--webhook-url", "http://moved.example.vn/hooks"}, "https"},
		{"production", []string{"--portal", h.Portal.ID, "--name", "N", "--webhook-url", "https://127.0.0.1/hooks"}, "private"},
		{"development", []string{"--portal", h.Portal.ID, "--name", " "}, "--name"},
		{"development", []string{"--portal", h.Portal.ID}, "give --name"},
		{"development", []string{"--name", "N"}, "--portal"},
		{"development", []string{"--portal", "ptl_nope", "--name", "N"}, "no portal"},
	} {
		_, err := portalctl(t, h, tc.env, append([]string{"update", "--by", "tester"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("update %v (%s): %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
	if n := h.Count(`SELECT count(*) FROM portals WHERE id = $1 AND name = 'Renamed' AND webhook_url = 'https://moved.example.vn/hooks'`, h.Portal.ID); n != 1 {
		t.Error("a refused update changed the portal")
	}
}

// A disabled portal's signed requests are refused with 403
// portal_disabled, and its webhooks are held until it is enabled.
func TestPortalDisabledAndEnabled(t *testing.T) {
	t.Parallel()
	h := apitest.New(t, apitest.WithEnv("GATEWAY_WORKERS", "true"), apitest.WithEnv("WEBHOOK_RETRY_FACTOR", "0.001"))
	<-h.App.ListeningForKeyChanges()
	var status, hits atomic.Int32
	status.Store(http.StatusInternalServerError)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(receiver.Close)
	pointPortal(t, h, receiver.URL+"/webhooks")
	ev := createRequest(t, h, "HCM-OFF-1")
	testenv.Eventually(t, 30*time.Second, func() bool { return hits.Load() > 0 }, "a first attempt")

	m, _, err := ctl(t, h, "portal", "disable", "--portal", h.Portal.ID, "--by", "tester")
	if err != nil || m["disabled"] != true || m["changed"] != true {
		t.Fatalf("disable: %v %v", m, err)
	}
	testenv.Eventually(t, 10*time.Second, func() bool {
		r := h.Do(apitest.Request{Method: http.MethodGet, Path: "/v1/payment-requests", Portal: h.Portal, Secret: h.Portal.Secret})
		return r.Status == http.StatusForbidden && r.Code() == "portal_disabled"
	}, "the disabled portal's request refused with 403 portal_disabled")
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM events WHERE id = $1 AND delivery_status = 'pending' AND next_attempt_at IS NULL`, ev) == 1
	}, "the webhook held")
	if m, stderr, err := ctl(t, h, "portal", "disable", "--portal", h.Portal.KeyID, "--by", "tester"); err != nil || m["changed"] != false ||
		!strings.Contains(stderr, "disabled already") {
		t.Errorf("disable again: %v %v %q", m, err, stderr)
	}
	var list []map[string]any
	ctlJSON(t, h, &list, "events", "list", "--portal", h.Portal.ID, "--status", "pending")
	if len(list) != 1 || list[0]["event_id"] != ev || list[0]["held"] != true || list[0]["type"] != "payment_request.created" ||
		list[0]["attempts"].(float64) < 1 || list[0]["last_error"] == nil || list[0]["created_at"] == nil {
		t.Errorf("events list --status pending: %v", list)
	}

	status.Store(http.StatusNoContent)
	m, _, err = ctl(t, h, "portal", "enable", "--portal", h.Portal.ID, "--by", "tester")
	if err != nil || m["disabled"] != false || m["changed"] != true {
		t.Fatalf("enable: %v %v", m, err)
	}
	if q, _ := m["queued_events"].([]any); len(q) != 1 {
		t.Errorf("enable queued %v, want the held event", m["queued_events"])
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return delivered(t, h, ev) }, "the held webhook delivered")
	testenv.Eventually(t, 10*time.Second, func() bool { return listAs(h, h.Portal, h.Portal.Secret) == http.StatusOK },
		"the enabled portal's requests accepted")
	ctlJSON(t, h, &list, "events", "list", "--portal", h.Portal.KeyID, "--status", "delivered", "--limit", "5")
	if len(list) != 1 || list[0]["delivery_status"] != "delivered" || list[0]["held"] != false {
		t.Errorf("events list --status delivered: %v", list)
	}
	for _, args := range [][]string{
		{"events", "list"},
		{"events", "list", "--portal", h.Portal.ID, "--status", "held"},
		{"events", "list", "--portal", h.Portal.ID, "--limit", "0"},
		{"events", "list", "--portal", "ptl_nope"},
		{"portal", "disable", "--by", "tester"},
	} {
		if _, _, err := ctl(t, h, args...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
