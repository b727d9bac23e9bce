package payment

import (
	"errors"
	"time"
)

// Scope is who looks a payment request up: the portal that issued it, or the
// citizen it is addressed to (by the blind index of their pid). Exactly one is
// set; the store refuses the zero scope, so that no caller reads every
// portal's requests by forgetting to say whose.
type Scope struct {
	PortalID      string
	CitizenPIDIdx []byte
}

// PortalScope is the scope of portal portalID's requests.
func PortalScope(portalID string) Scope { return Scope{PortalID: portalID} }

// CitizenScope is the scope of the requests addressed to the citizen whose
// pid has the blind index pidIndex.
func CitizenScope(pidIndex []byte) Scope { return Scope{CitizenPIDIdx: pidIndex} }

// Filter narrows a list of requests within its Scope. Its conditions all
// hold of every request listed; a zero one holds of every request.
type Filter struct {
	Scope       Scope
	Status      string
	DossierCode string
	Created     TimeRange // when the request was created
	Updated     TimeRange // when it last changed
	Paid        TimeRange // when the bank's success was applied; bounded, it leaves out the unpaid
	Before      string    // id: list those older than it
	Limit       int
}

// TimeRange is the span of time from From (inclusive) to To (exclusive), so
// that consecutive ranges, one's To the next one's From (a business day, the
// next day), hold each instant exactly once. A nil From or To leaves that end
// open (a pointer, not the zero time, which is an instant like any other).
type TimeRange struct {
	From, To *time.Time
}

// ErrEmptyRange is TimeRange.Check's refusal of a range whose From is not
// before its To: it holds no instant, and is a mistake rather than a query.
var ErrEmptyRange = errors.New("the start of a time range must be before its end")

// Check returns ErrEmptyRange when both ends are set and From is not before
// To; a range with an open end is always valid.
func (r TimeRange) Check() error {
	if r.From != nil && r.To != nil && !r.From.Before(*r.To) {
		return ErrEmptyRange
	}
	return nil
}

// Listed is one request of a list: its id and version, and the request
// itself unless the caller already knew that version.
type Listed struct {
	ID      string
	Version int
	Request *Request // nil when the caller knew this version
}
