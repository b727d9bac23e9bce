package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
)

// refund is the part of a refund the demo shows.
type refund struct {
	ID               string  `json:"id"`
	PaymentRequestID string  `json:"payment_request_id"`
	Status           string  `json:"status"`
	Amount           string  `json:"amount"`
	Currency         string  `json:"currency"`
	Reason           *string `json:"reason"`
	FailureReason    *string `json:"failure_reason"`
}

// partialRefund asks for 25 000 đồng back through `gatewayctl request`,
// which signs like a portal must.
func (s *story) partialRefund(ctx context.Context) error {
	s.title("The portal refunds the appraisal fee (25000 of 75000 VND) with `gatewayctl request`")
	body := `{"amount":"25000","reason":"Hồ sơ không cần thẩm định"}`
	target := "/v1/payment-requests/" + s.prID + "/refunds"
	args := []string{"request", "--portal", s.cfg.portalFile, "--url", s.cfg.gateway,
		"--idempotency-key", s.c.key("refund"), "--data", body, "POST", target}
	s.sent("%s %s", s.cfg.gatewayctl, strings.Join(quoteArgs(args), " "))
	cmd := exec.CommandContext(ctx, s.cfg.gatewayctl, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gatewayctl request: %w: %s%s", err, strings.TrimSpace(stderr.String()), strings.TrimSpace(stdout.String()))
	}
	var rf refund
	if err := json.Unmarshal(stdout.Bytes(), &rf); err != nil {
		return fmt.Errorf("gatewayctl request printed %.200q: %w", stdout.String(), err)
	}
	status, _, _ := strings.Cut(stderr.String(), "\n")
	s.got("%s: refund %s of %s %s, status %s", strings.TrimSpace(status), rf.ID, rf.Amount, rf.Currency, rf.Status)
	s.refund, s.refundAmount = rf.ID, rf.Amount
	return nil
}

func (s *story) refunded(ctx context.Context) error {
	s.title("The bank executes the refund and calls back; the fee is partially refunded")
	pr, err := s.waitStatus(ctx, "partially_refunded")
	if err != nil {
		return err
	}
	s.got("GET /v1/payment-requests/%s: %s (version %d), amount_refunded %s of %s", pr.ID, pr.Status, pr.Version, pr.AmountRefunded, pr.Amount)
	var rf refund
	r, err := s.c.asPortal(ctx, http.MethodGet, "/v1/refunds/"+s.refund, "", nil)
	if err := expect(r, err, http.StatusOK, &rf); err != nil {
		return err
	}
	s.got("GET /v1/refunds/%s: %s, %s %s", rf.ID, rf.Status, rf.Amount, rf.Currency)
	after, err := s.bankBalance(ctx)
	if err != nil {
		return err
	}
	s.say(fmt.Sprintf("balance at the bank now: %s VND (before paying: %s)", after, s.balance))
	ds, err := s.waitWebhooks(ctx, "payment_request.refunded", "refund.succeeded")
	if err != nil {
		return err
	}
	s.showDeliveries(ds)
	return nil
}

// quoteArgs quotes the arguments a shell would need quoted, for printing.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \"'{}$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}
