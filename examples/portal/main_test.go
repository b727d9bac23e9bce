package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/webhook"
)

func TestWebhookHandlerVerifies(t *testing.T) {
	t.Parallel()
	text, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := webhook.ParseSecret(text)
	h := webhookHandler(text, slog.New(slog.NewTextHandler(io.Discard, nil)))
	body := []byte(`{"id":"evt_1","type":"payment_request.paid","created_at":"2026-12-01T08:00:00Z","data":{"payment_request":{"id":"pr_1","status":"paid","version":3}}}`)
	for name, tc := range map[string]struct {
		at   time.Time
		body []byte
		want int
	}{
		"fresh":  {time.Now(), body, http.StatusNoContent},
		"stale":  {time.Now().Add(-time.Hour), body, http.StatusBadRequest},
		"forged": {time.Now(), append(bytes.Clone(body[:len(body)-1]), ' ', '}'), http.StatusBadRequest},
	} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(tc.body))
		for k, v := range webhook.Headers("evt_1", tc.at, body, sec) {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", name, rec.Code, tc.want)
		}
	}
}
