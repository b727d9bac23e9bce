package banksim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/signature"
)

// Event is the body of a callback (PROTOCOL §7). Data names the gateway's id
// and, for money, amount, currency and bank_reference or reason_code and
// reason_message; never personal data.
type Event struct {
	EventID    string         `json:"event_id"`
	Type       string         `json:"type"`
	OccurredAt time.Time      `json:"occurred_at"`
	Data       map[string]any `json:"data"`
}

// ErrNoCallbackURL is returned by SendCallback when the bank has no
// callback URL.
var ErrNoCallbackURL = errors.New("banksim: no callback URL configured")

func eventFor(op operation) Event {
	data := map[string]any{op.kind.idField(): op.id}
	if op.kind.movesMoney() {
		data["amount"] = money.Format(op.amount)
		data["currency"] = op.currency
	}
	switch {
	case op.status == statusSucceeded && op.bankReference != "":
		data["bank_reference"] = op.bankReference
	case op.status == statusFailed:
		data["reason_code"] = op.reasonCode
		if op.kind.movesMoney() {
			data["reason_message"] = op.reasonMessage
		}
	}
	return Event{
		EventID:    op.eventID,
		Type:       string(op.kind) + "." + op.status,
		OccurredAt: op.settledAt.UTC(),
		Data:       data,
	}
}

// SignedCallbackRequest builds a POST of body to callbackURL signed with
// secret as a bank signs callbacks (PROTOCOL §3): no Idempotency-Key, so the
// key line of the canonical string is empty. Tests use it to forge, tamper
// with or replay callbacks.
func SignedCallbackRequest(ctx context.Context, callbackURL, secret string, body []byte, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	signature.SignRequest(req, secret, body, now)
	return req, nil
}

// SendCallback posts one callback with the given event id, type and data,
// occurring now, signed with the bank's secret, to the bank's callback URL,
// once and without retry. It returns the gateway's status and body.
func (s *Server) SendCallback(ctx context.Context, eventID, eventType string, data map[string]any) (int, []byte, error) {
	body, err := json.Marshal(Event{EventID: eventID, Type: eventType, OccurredAt: s.now().UTC(), Data: data})
	if err != nil {
		return 0, nil, fmt.Errorf("encode callback %s: %w", eventID, err)
	}
	return s.post(ctx, body)
}

func (s *Server) post(ctx context.Context, body []byte) (int, []byte, error) {
	if s.cfg.CallbackURL == "" {
		return 0, nil, ErrNoCallbackURL
	}
	req, err := SignedCallbackRequest(ctx, s.cfg.CallbackURL, s.cfg.Secret, body, s.now())
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post callback: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("read callback answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// callBack delivers the callback of a settled operation as the knobs say:
// DuplicateCallbacks times, all but the last at once, each retried until
// final.
func (s *Server) callBack(ctx context.Context, op operation, k Knobs) {
	if s.cfg.CallbackURL == "" {
		return
	}
	ev := eventFor(op)
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("encode callback", "event_id", ev.EventID, "error", err)
		return
	}
	var wg sync.WaitGroup
	for range max(k.DuplicateCallbacks, 1) - 1 {
		wg.Go(func() { s.deliver(ctx, ev, body, k.OutOfOrder) })
	}
	wg.Wait()
	s.deliver(ctx, ev, body, k.OutOfOrder)
}

// deliver posts one callback until it gets a 2xx or a final answer, or the
// attempts run out, always with the same body and so the same event_id.
func (s *Server) deliver(ctx context.Context, ev Event, body []byte, outOfOrder bool) {
	if outOfOrder && !sleep(ctx, rand.N(OutOfOrderSpread)) {
		return
	}
	for attempt := 1; ; attempt++ {
		status, _, err := s.post(ctx, body)
		if ctx.Err() != nil {
			return
		}
		s.stats.callbackAttempt(status, err)
		switch {
		case err == nil && status/100 == 2:
			s.log.Debug("callback delivered", "event_id", ev.EventID, "type", ev.Type, "attempt", attempt)
			return
		case err == nil && !retryable(status):
			s.stats.update(func(st *Stats) { st.CallbacksAbandoned++ })
			s.log.Warn("callback refused", "event_id", ev.EventID, "type", ev.Type, "status", status)
			return
		case attempt >= s.retry.Attempts:
			s.stats.update(func(st *Stats) { st.CallbacksAbandoned++ })
			s.log.Warn("callback given up", "event_id", ev.EventID, "type", ev.Type, "attempts", attempt, "status", status, "error", err)
			return
		}
		if !sleep(ctx, s.retry.backoff(attempt)) {
			return
		}
	}
}

// retryable says whether a callback answer is worth another attempt: 401
// (a clock or a secret being rotated), 408, 425, 429 and 5xx are; any other
// 4xx, 404, 409 and 422 among them, is final.
func retryable(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}
