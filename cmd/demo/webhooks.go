package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// delivery is one line gatewayctl listen printed for a verified webhook.
type delivery struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Body struct {
		CreatedAt string `json:"created_at"`
		Data      struct {
			PaymentRequest *struct {
				ID      string `json:"id"`
				Status  string `json:"status"`
				Version int    `json:"version"`
			} `json:"payment_request"`
			Refund *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Amount string `json:"amount"`
			} `json:"refund"`
		} `json:"data"`
	} `json:"body"`
}

// deliveriesFor reads the listener's log and returns the verified
// webhooks about request prID, in the order they arrived. Lines that are
// not webhooks (the listener's own messages) are skipped.
func deliveriesFor(path, prID string) ([]delivery, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []delivery
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var d delivery
		if json.Unmarshal(line, &d) != nil || d.Body.Data.PaymentRequest == nil || d.Body.Data.PaymentRequest.ID != prID {
			continue
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

// waitWebhooks waits until the listener has printed an event of each of
// types about the story's request, and returns every delivery about it so
// far.
func (s *story) waitWebhooks(ctx context.Context, types ...string) ([]delivery, error) {
	var ds []delivery
	what := strings.Join(types, " and ") + " webhooks in " + s.cfg.webhooksLog
	err := waitFor(ctx, s.cfg.timeout, what, s.say, func() (bool, error) {
		var err error
		if ds, err = deliveriesFor(s.cfg.webhooksLog, s.prID); err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, d := range ds {
			seen[d.Type] = true
		}
		for _, t := range types {
			if !seen[t] {
				return false, nil
			}
		}
		return true, nil
	})
	return ds, err
}

func (s *story) webhook(ctx context.Context) error {
	s.title("The portal is told: the signed webhook arrives at `gatewayctl listen`")
	s.say(fmt.Sprintf("gatewayctl listen (127.0.0.1:%d) checks each Standard Webhooks signature and prints the event to %s",
		s.cfg.webhookPort, s.cfg.webhooksLog))
	ds, err := s.waitWebhooks(ctx, "payment_request.paid")
	if err != nil {
		return err
	}
	s.showDeliveries(ds)
	return nil
}

// showDeliveries prints the deliveries not shown before.
func (s *story) showDeliveries(ds []delivery) {
	if s.shown == nil {
		s.shown = map[string]bool{}
	}
	var types []string
	for _, d := range ds {
		types = append(types, d.Type)
		if s.shown[d.ID] {
			continue
		}
		s.shown[d.ID] = true
		pr := d.Body.Data.PaymentRequest
		text := fmt.Sprintf("webhook-id %s: %s, request %s version %d", d.ID, d.Type, pr.Status, pr.Version)
		if rf := d.Body.Data.Refund; rf != nil {
			text += fmt.Sprintf(", refund %s %s of %s", rf.ID, rf.Status, rf.Amount)
		}
		s.got("%s", text)
	}
	s.say(fmt.Sprintf("%d verified webhooks about %s so far: %s", len(ds), s.prID, strings.Join(types, ", ")))
}
