package wire

import (
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/settlement"
)

// Settlement is a portal's business day as portals and operators see it
// (PROTOCOL.md §12).
type Settlement struct {
	ID               string           `json:"id"`
	Object           string           `json:"object"`
	PortalID         string           `json:"portal_id"`
	Date             string           `json:"date"`
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
	ClosedAt         *string          `json:"closed_at"`
	SettledAt        *string          `json:"settled_at"`
	CreatedAt        string           `json:"created_at"`
	UpdatedAt        string           `json:"updated_at"`
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

// ToSettlement converts a domain settlement.
func ToSettlement(s *settlement.Settlement) Settlement {
	f := s.Figures
	out := Settlement{ID: s.ID, Object: "settlement", PortalID: s.PortalID, Date: s.Day.String(), Status: string(s.Status),
		Version: s.Version, Count: f.Count(), RefundCount: f.RefundCount(), Collected: money.Format(f.Collected()),
		Refunded: money.Format(f.Refunded()), Net: money.Format(f.Net()), Currency: money.Currency,
		Banks: []SettlementBank{}, CreatedAt: Time(s.CreatedAt), UpdatedAt: Time(s.UpdatedAt)}
	for _, b := range f.Banks {
		out.Banks = append(out.Banks, SettlementBank{BankCode: b.BankCode, Count: b.Count, Collected: money.Format(b.Collected),
			RefundCount: b.Refunds, Refunded: money.Format(b.Refunded), Net: money.Format(b.Net())})
	}
	if s.Reference != "" {
		ref := s.Reference
		out.SettledReference = &ref
	}
	if s.ClosedAt != nil {
		out.ClosedAt = TimePtr(*s.ClosedAt)
	}
	if s.SettledAt != nil {
		out.SettledAt = TimePtr(*s.SettledAt)
	}
	return out
}

// SettlementLine is one debit or refund of a settlement's day.
type SettlementLine struct {
	Type             string `json:"type"`
	ID               string `json:"id"`
	PaymentRequestID string `json:"payment_request_id"`
	DossierCode      string `json:"dossier_code"`
	Amount           string `json:"amount"`
	BookedAt         string `json:"booked_at"`
	BankCode         string `json:"bank_code"`
	BankReference    string `json:"bank_reference"`
}

// Reconciliation is a bank's business day checked against its statement
// (PROTOCOL.md §12).
type Reconciliation struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	BankCode    string  `json:"bank_code"`
	Date        string  `json:"date"`
	Status      string  `json:"status"`
	Lines       int     `json:"lines"`
	Matched     int     `json:"matched"`
	Applied     int     `json:"applied"`
	Differences int     `json:"differences"`
	DebitTotal  string  `json:"debit_total"`
	RefundTotal string  `json:"refund_total"`
	Reason      *string `json:"reason,omitempty"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

// ToReconciliation converts a reconciliation's result.
func ToReconciliation(r reconcile.Result) Reconciliation {
	out := Reconciliation{ID: r.ID, Object: "reconciliation", BankCode: r.BankCode, Date: r.Day.String(), Status: string(r.Status),
		Lines: r.Tally.Lines, Matched: r.Tally.Matched, Applied: r.Tally.Applied, Differences: r.Tally.Differences,
		DebitTotal: money.Format(r.Tally.DebitTotal), RefundTotal: money.Format(r.Tally.RefundTotal),
		CreatedAt: Time(r.CreatedAt), UpdatedAt: Time(r.UpdatedAt)}
	if r.Reason != "" {
		reason := r.Reason
		out.Reason = &reason
	}
	return out
}
