package portal

import "time"

// Amounts are whole đồng in a decimal string ("75000"), never a float: the
// gateway refuses anything else (PROTOCOL.md §1).

// Payment request states (PROTOCOL.md §5).
const (
	StatusPending           = "pending"
	StatusProcessing        = "processing"
	StatusPaid              = "paid"
	StatusPartiallyRefunded = "partially_refunded"
	StatusRefunded          = "refunded"
	StatusCanceled          = "canceled"
	StatusExpired           = "expired"
)

// Item is one line of a fee.
type Item struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Amount      string `json:"amount"`
}

// Payment says how a request was paid.
type Payment struct {
	AttemptID     string    `json:"attempt_id"`
	BankCode      string    `json:"bank_code"`
	BankReference string    `json:"bank_reference"`
	PaidAt        time.Time `json:"paid_at"`
	// ReceiptID is the receipt's id once it is issued.
	ReceiptID *string `json:"receipt_id"`
}

// PaymentRequest is a fee a portal asks a citizen to pay.
type PaymentRequest struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Status string `json:"status"`
	// Version grows by one at every change: apply an event's snapshot only
	// when its version is newer than the one held.
	Version          int               `json:"version"`
	CitizenPIDMasked string            `json:"citizen_pid_masked"`
	DossierCode      string            `json:"dossier_code"`
	ServiceCode      string            `json:"service_code"`
	Description      string            `json:"description"`
	Items            []Item            `json:"items"`
	Amount           string            `json:"amount"`
	Currency         string            `json:"currency"`
	AmountRefunded   string            `json:"amount_refunded"`
	ExpiresAt        time.Time         `json:"expires_at"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
	Metadata         map[string]string `json:"metadata"`
	Payment          *Payment          `json:"payment"`
	// CheckoutURL is the hosted page where the citizen pays.
	CheckoutURL string `json:"checkout_url"`
	ReturnURL   string `json:"return_url,omitempty"`
}

// Live reports whether the request may still be paid or is being paid.
func (r *PaymentRequest) Live() bool {
	return r.Status == StatusPending || r.Status == StatusProcessing
}

// Refund states.
const (
	RefundPending   = "pending"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
)

// Refund gives back part or all of a paid request.
type Refund struct {
	ID               string    `json:"id"`
	Object           string    `json:"object"`
	PaymentRequestID string    `json:"payment_request_id"`
	Status           string    `json:"status"`
	Amount           string    `json:"amount"`
	Currency         string    `json:"currency"`
	Reason           *string   `json:"reason"`
	FailureReason    *string   `json:"failure_reason"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Page is one page of a list; NextCursor is "" after the last page.
type Page[T any] struct {
	Data       []T
	NextCursor string
}

// page is a list's JSON.
type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func (p page[T]) public() *Page[T] {
	out := &Page[T]{Data: p.Data}
	if p.NextCursor != nil {
		out.NextCursor = *p.NextCursor
	}
	return out
}

// Event types (PROTOCOL.md §8). Clients ignore types they do not know.
const (
	EventPaymentRequestCreated       = "payment_request.created"
	EventPaymentRequestPaid          = "payment_request.paid"
	EventPaymentRequestPaymentFailed = "payment_request.payment_failed"
	EventPaymentRequestExpired       = "payment_request.expired"
	EventPaymentRequestCanceled      = "payment_request.canceled"
	EventPaymentRequestRefunded      = "payment_request.refunded"
	EventRefundSucceeded             = "refund.succeeded"
	EventRefundFailed                = "refund.failed"
	EventReceiptIssued               = "receipt.issued"
	EventSettlementClosed            = "settlement.closed"
	EventSettlementSettled           = "settlement.settled"
)

// Event is something that happened to one of the portal's objects, as
// delivered by webhook and listed by ListEvents: the snapshots are taken
// when it happened.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      EventData `json:"data"`
}

// EventData holds the snapshots an event carries.
type EventData struct {
	PaymentRequest *PaymentRequest `json:"payment_request,omitempty"`
	Refund         *Refund         `json:"refund,omitempty"`
	Receipt        *ReceiptIssued  `json:"receipt,omitempty"`
	Settlement     *Settlement     `json:"settlement,omitempty"`
}

// ReceiptIssued is a receipt.issued event's summary of the receipt.
type ReceiptIssued struct {
	ID               string    `json:"id"`
	Number           string    `json:"number"`
	PaymentRequestID string    `json:"payment_request_id"`
	Amount           string    `json:"amount"`
	IssuedAt         time.Time `json:"issued_at"`
}

// EventPage is a page of events. NextCursor is always set: the position
// after the last event, or the same position when none came.
type EventPage struct {
	Data       []Event `json:"data"`
	NextCursor string  `json:"next_cursor"`
}

// Settlement is what the gateway owes a portal for one day (PROTOCOL.md §12).
type Settlement struct {
	ID               string           `json:"id"`
	Object           string           `json:"object"`
	PortalID         string           `json:"portal_id"`
	Date             string           `json:"date"` // YYYY-MM-DD
	Status           string           `json:"status"`
	Version          int              `json:"version"`
	Count            int              `json:"count"`
	RefundCount      int              `json:"refund_count"`
	Collected        string           `json:"collected"`
	Refunded         string           `json:"refunded"`
	Net              string           `json:"net"`
	Currency         string           `json:"currency"`
	Banks            []SettlementBank `json:"banks"`
	SettledReference *string          `json:"settled_reference"`
	ClosedAt         *time.Time       `json:"closed_at"`
	SettledAt        *time.Time       `json:"settled_at"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

// SettlementBank is one bank's part of a settlement.
type SettlementBank struct {
	BankCode    string `json:"bank_code"`
	Count       int    `json:"count"`
	Collected   string `json:"collected"`
	RefundCount int    `json:"refund_count"`
	Refunded    string `json:"refunded"`
	Net         string `json:"net"`
}

// SettlementLine is one payment or refund in a settlement.
type SettlementLine struct {
	Type             string    `json:"type"`
	ID               string    `json:"id"`
	PaymentRequestID string    `json:"payment_request_id"`
	DossierCode      string    `json:"dossier_code"`
	Amount           string    `json:"amount"`
	BookedAt         time.Time `json:"booked_at"`
	BankCode         string    `json:"bank_code"`
	BankReference    string    `json:"bank_reference"`
}

// Receipt is the electronic receipt of a paid request (PROTOCOL.md §11)
// and its JWS, signed by the gateway's receipt key.
type Receipt struct {
	Receipt ReceiptBody `json:"receipt"`
	JWS     string      `json:"jws"`
}

// ReceiptBody is what a receipt says.
type ReceiptBody struct {
	ID               string `json:"id"`
	Number           string `json:"number"`
	PaymentRequestID string `json:"payment_request_id"`
	Portal           struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"portal"`
	Payer struct {
		Name      string `json:"name"`
		PIDMasked string `json:"pid_masked"`
	} `json:"payer"`
	ServiceCode   string    `json:"service_code"`
	DossierCode   string    `json:"dossier_code"`
	Description   string    `json:"description"`
	Items         []Item    `json:"items"`
	Amount        string    `json:"amount"`
	AmountInWords string    `json:"amount_in_words"`
	Currency      string    `json:"currency"`
	PaidAt        time.Time `json:"paid_at"`
	BankCode      string    `json:"bank_code"`
	BankReference string    `json:"bank_reference"`
	IssuedAt      time.Time `json:"issued_at"`
	VerifyURL     string    `json:"verify_url"`
}
