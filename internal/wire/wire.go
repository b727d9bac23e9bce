// Package wire holds the JSON shapes the gateway sends and receives
// (PROTOCOL.md), and named converters from the domain to them. The HTTP
// layer, events and webhooks all speak these shapes, so a payment request
// looks the same in a response and in an event snapshot.
package wire

import (
	"time"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
)

// Time formats t as RFC 3339 in UTC.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TimePtr formats t, or returns nil for the zero time.
func TimePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := Time(t)
	return &s
}

// Item is one line of a fee.
type Item struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Amount      string `json:"amount"`
}

// Payment says how a request was paid.
type Payment struct {
	AttemptID     string  `json:"attempt_id"`
	BankCode      string  `json:"bank_code"`
	BankReference string  `json:"bank_reference"`
	PaidAt        string  `json:"paid_at"`
	ReceiptID     *string `json:"receipt_id"`
}

// PaymentRequest is a payment request as portals and citizens see it.
type PaymentRequest struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Status           string            `json:"status"`
	Version          int               `json:"version"`
	CitizenPIDMasked string            `json:"citizen_pid_masked"`
	DossierCode      string            `json:"dossier_code"`
	ServiceCode      string            `json:"service_code"`
	Description      string            `json:"description"`
	Items            []Item            `json:"items"`
	Amount           string            `json:"amount"`
	Currency         string            `json:"currency"`
	AmountRefunded   string            `json:"amount_refunded"`
	ExpiresAt        string            `json:"expires_at"`
	CreatedAt        string            `json:"created_at"`
	UpdatedAt        string            `json:"updated_at"`
	Metadata         map[string]string `json:"metadata"`
	Payment          *Payment          `json:"payment"`
	// CheckoutURL is the hosted checkout page of the request (PROTOCOL.md §10).
	CheckoutURL string `json:"checkout_url"`
	// ReturnURL is where the checkout sends the citizen back, when the
	// portal gave one.
	ReturnURL string `json:"return_url,omitempty"`
}

// ToPaymentRequest converts a domain request; publicURL is
// GATEWAY_PUBLIC_URL, the base of its checkout_url.
func ToPaymentRequest(r *payment.Request, publicURL string) PaymentRequest {
	out := PaymentRequest{
		ID: r.ID, Object: "payment_request", Status: string(r.Status), Version: r.Version,
		CitizenPIDMasked: r.CitizenPIDMasked, DossierCode: r.DossierCode, ServiceCode: r.ServiceCode,
		Description: r.Description, Amount: money.Format(r.Amount), Currency: r.Currency,
		AmountRefunded: money.Format(r.AmountRefunded), ExpiresAt: Time(r.ExpiresAt),
		CreatedAt: Time(r.CreatedAt), UpdatedAt: Time(r.UpdatedAt), Metadata: r.Metadata,
		Items:       make([]Item, 0, len(r.Items)),
		CheckoutURL: payment.CheckoutURL(publicURL, r.ID), ReturnURL: r.ReturnURL,
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	for _, it := range r.Items {
		out.Items = append(out.Items, Item{Code: it.Code, Description: it.Description, Amount: money.Format(it.Amount)})
	}
	if p := r.Payment; p != nil {
		out.Payment = &Payment{AttemptID: p.AttemptID, BankCode: p.BankCode, BankReference: p.BankReference, PaidAt: Time(p.PaidAt)}
		if p.ReceiptID != "" {
			out.Payment.ReceiptID = &p.ReceiptID
		}
	}
	return out
}

// List is a page of a list.
type List[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// Event is what portals are told (PROTOCOL.md §8).
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt string    `json:"created_at"`
	Data      EventData `json:"data"`
}

// EventData holds the snapshots an event carries.
type EventData struct {
	PaymentRequest *PaymentRequest `json:"payment_request,omitempty"`
	Refund         *Refund         `json:"refund,omitempty"`
	Receipt        *ReceiptIssued  `json:"receipt,omitempty"`
	Settlement     *Settlement     `json:"settlement,omitempty"`
}

// Refund is a refund as portals see it.
type Refund struct {
	ID               string  `json:"id"`
	Object           string  `json:"object"`
	PaymentRequestID string  `json:"payment_request_id"`
	Status           string  `json:"status"`
	Amount           string  `json:"amount"`
	Currency         string  `json:"currency"`
	Reason           *string `json:"reason"`
	FailureReason    *string `json:"failure_reason"`
	CreatedAt        string  `json:"created_at"`
	UpdatedAt        string  `json:"updated_at"`
}

// ToRefund converts a domain refund.
func ToRefund(r *payment.Refund) Refund {
	out := Refund{ID: r.ID, Object: "refund", PaymentRequestID: r.RequestID, Status: string(r.Status),
		Amount: money.Format(r.Amount), Currency: r.Currency, CreatedAt: Time(r.CreatedAt), UpdatedAt: Time(r.UpdatedAt)}
	if r.Reason != "" {
		out.Reason = &r.Reason
	}
	if r.FailureReason != "" {
		out.FailureReason = &r.FailureReason
	}
	return out
}
