package portal

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// CreatePaymentRequestParams is a new payment request (PROTOCOL.md §5).
type CreatePaymentRequestParams struct {
	// CitizenPID is the payer's 12-digit personal identification number.
	CitizenPID string `json:"citizen_pid"`
	// DossierCode is the portal's case number: at most one live request
	// per dossier (else duplicate_dossier, naming the live one).
	DossierCode string `json:"dossier_code"`
	ServiceCode string `json:"service_code"`
	// Description and the items' descriptions are shown before sign-in:
	// no personal data.
	Description string `json:"description"`
	Items       []Item `json:"items"`
	// Amount is the sum of the items' amounts.
	Amount string `json:"amount"`
	// Currency is "VND"; "" sends VND.
	Currency string `json:"currency"`
	// ExpiresAt is when the request expires, at most 30 days ahead; nil
	// for the default, 24 h.
	ExpiresAt *time.Time        `json:"-"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	// ReturnURL is where the checkout sends the citizen back.
	ReturnURL string `json:"return_url,omitempty"`
}

// createBody is CreatePaymentRequestParams on the wire.
type createBody struct {
	CreatePaymentRequestParams
	Currency  string  `json:"currency"`
	ExpiresAt *string `json:"expires_at,omitempty"`
}

// CreatePaymentRequest creates a payment request. Pass
// WithIdempotencyKey (say "create-" + the dossier code) to make the create
// safe to repeat after a crash; without it a key is made for this call and
// kept across its retries.
func (c *Client) CreatePaymentRequest(ctx context.Context, p CreatePaymentRequestParams, opts ...CallOption) (*PaymentRequest, error) {
	b := createBody{CreatePaymentRequestParams: p, Currency: p.Currency}
	if b.Currency == "" {
		b.Currency = "VND"
	}
	if p.ExpiresAt != nil {
		s := p.ExpiresAt.Format(time.RFC3339)
		b.ExpiresAt = &s
	}
	var out PaymentRequest
	if err := c.call(ctx, http.MethodPost, "/v1/payment-requests", b, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPaymentRequest returns one of the portal's requests (another
// portal's is not_found).
func (c *Client) GetPaymentRequest(ctx context.Context, id string, opts ...CallOption) (*PaymentRequest, error) {
	var out PaymentRequest
	if err := c.call(ctx, http.MethodGet, "/v1/payment-requests/"+pathSegment(id), nil, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelPaymentRequest cancels a pending request; any other state is
// invalid_state.
func (c *Client) CancelPaymentRequest(ctx context.Context, id string, opts ...CallOption) (*PaymentRequest, error) {
	var out PaymentRequest
	if err := c.call(ctx, http.MethodPost, "/v1/payment-requests/"+pathSegment(id)+"/cancel", nil, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListPaymentRequestsParams filters and pages the portal's requests. Zero
// fields do not filter. Time ranges include From and exclude To.
type ListPaymentRequestsParams struct {
	Status      string
	DossierCode string
	CreatedFrom time.Time
	CreatedTo   time.Time
	UpdatedFrom time.Time
	UpdatedTo   time.Time
	PaidFrom    time.Time
	PaidTo      time.Time
	// Limit is the page size, 1–100; 0 for the gateway's default, 20.
	Limit int
	// Cursor is a NextCursor of an earlier page, or "" for the first.
	Cursor string
}

func (p ListPaymentRequestsParams) query() string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	setTime := func(k string, t time.Time) {
		if !t.IsZero() {
			q.Set(k, t.Format(time.RFC3339Nano))
		}
	}
	set("status", p.Status)
	set("dossier_code", p.DossierCode)
	setTime("created_from", p.CreatedFrom)
	setTime("created_to", p.CreatedTo)
	setTime("updated_from", p.UpdatedFrom)
	setTime("updated_to", p.UpdatedTo)
	setTime("paid_from", p.PaidFrom)
	setTime("paid_to", p.PaidTo)
	return listQuery(q, p.Limit, p.Cursor)
}

// listQuery adds limit and cursor to q and encodes it, "" or "?…".
func listQuery(q url.Values, limit int, cursor string) string {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// ListPaymentRequests returns one page of the portal's requests, newest
// first.
func (c *Client) ListPaymentRequests(ctx context.Context, p ListPaymentRequestsParams, opts ...CallOption) (*Page[PaymentRequest], error) {
	var out page[PaymentRequest]
	if err := c.call(ctx, http.MethodGet, "/v1/payment-requests"+p.query(), nil, &out, opts...); err != nil {
		return nil, err
	}
	return out.public(), nil
}

// AllPaymentRequests iterates over every request p selects, newest first,
// page after page from p.Cursor; it stops at the first error, which it
// yields.
//
//	for pr, err := range c.AllPaymentRequests(ctx, portal.ListPaymentRequestsParams{Status: "paid"}) {
//		if err != nil { return err }
//		…
//	}
func (c *Client) AllPaymentRequests(ctx context.Context, p ListPaymentRequestsParams, opts ...CallOption) iter.Seq2[PaymentRequest, error] {
	return paginate(func(cursor string) (*Page[PaymentRequest], error) {
		p.Cursor = cursor
		return c.ListPaymentRequests(ctx, p, opts...)
	}, p.Cursor)
}

// paginate yields the items of fetch's pages from cursor on.
func paginate[T any](fetch func(cursor string) (*Page[T], error), cursor string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			pg, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, v := range pg.Data {
				if !yield(v, nil) {
					return
				}
			}
			if pg.NextCursor == "" || pg.NextCursor == cursor {
				return
			}
			cursor = pg.NextCursor
		}
	}
}

// CreateRefundParams is a refund of a paid request.
type CreateRefundParams struct {
	// Amount is at most the refundable amount (paid, less refunds pending
	// or succeeded), else refund_exceeds_refundable.
	Amount string `json:"amount"`
	// Reason is optional, at most 500 characters.
	Reason string `json:"reason,omitempty"`
}

// CreateRefund asks for a refund; it answers with the refund pending.
func (c *Client) CreateRefund(ctx context.Context, paymentRequestID string, p CreateRefundParams, opts ...CallOption) (*Refund, error) {
	var out Refund
	if err := c.call(ctx, http.MethodPost, "/v1/payment-requests/"+pathSegment(paymentRequestID)+"/refunds", p, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetRefund returns a refund.
func (c *Client) GetRefund(ctx context.Context, id string, opts ...CallOption) (*Refund, error) {
	var out Refund
	if err := c.call(ctx, http.MethodGet, "/v1/refunds/"+pathSegment(id), nil, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetReceipt returns the receipt of a paid request (not_found until it is
// issued) with its JWS.
func (c *Client) GetReceipt(ctx context.Context, paymentRequestID string, opts ...CallOption) (*Receipt, error) {
	var out Receipt
	if err := c.call(ctx, http.MethodGet, "/v1/payment-requests/"+pathSegment(paymentRequestID)+"/receipt", nil, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}
