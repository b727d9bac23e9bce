package payment

import (
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/plaintext"
)

// Limits of a payment request (PROTOCOL.md §5).
const (
	MaxItems         = 50
	MaxMetadata      = 20
	MaxExpiry        = 30 * 24 * time.Hour
	DefaultExpiry    = 24 * time.Hour
	maxDossierCode   = 64
	maxServiceCode   = 64
	maxDescription   = 140
	maxItemCode      = 64
	maxMetadataKey   = 40
	maxMetadataValue = 500
)

// ItemInput is one line as the portal sent it; amounts are still text.
type ItemInput struct {
	Code        string
	Description string
	Amount      *string // nil when absent or not a JSON string
}

// CreateInput is a portal's create request after JSON decoding.
type CreateInput struct {
	CitizenPID  string
	DossierCode string
	ServiceCode string
	Description string
	Items       []ItemInput
	Amount      *string
	Currency    string
	ExpiresAt   *time.Time
	// ExpiresAtMalformed: expires_at was sent but is not an RFC 3339 time.
	ExpiresAtMalformed bool
	Metadata           map[string]string
	// ReturnURL is where the hosted checkout sends the citizen back; "" for
	// none. It is checked against the portal's return origins when the
	// request is created (CheckReturnURL), not here.
	ReturnURL string
}

// Draft is a validated create request: everything but the citizen's sealed
// identity, which the service adds.
type Draft struct {
	CitizenPID  string
	DossierCode string
	ServiceCode string
	Description string
	Items       []Item
	Amount      decimal.Decimal
	Currency    string
	ExpiresAt   time.Time
	Metadata    map[string]string
	ReturnURL   string
}

type problems struct{ list []fault.FieldError }

func (p *problems) add(field string, code fault.Code, msg string) {
	p.list = append(p.list, fault.FieldError{Field: field, Code: code, Message: msg})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	code := fault.ValidationFailed
	if len(p.list) == 1 {
		code = p.list[0].Code
	}
	return &fault.Error{Code: code, Message: p.list[0].Message, Fields: p.list}
}

// text checks a one-line field: lo to hi characters of plain text
// (plaintext.OneLine: no control or bidirectional formatting character).
// It adds at most one problem for the field.
func text(p *problems, field, v string, lo, hi int) {
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < lo || n > hi {
		p.add(field, fault.ValidationFailed, field+" must be "+itoa(lo)+" to "+itoa(hi)+" characters")
		return
	}
	if msg := plaintext.Problem(field, v, plaintext.OneLine); msg != "" {
		p.add(field, fault.ValidationFailed, msg)
	}
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

// Validate checks a create request against every rule of §1 and §5 at now and
// returns the draft, or a *fault.Error listing each field problem.
func Validate(in CreateInput, now time.Time) (Draft, error) {
	var p problems
	if err := pii.ValidatePID(in.CitizenPID); err != nil {
		p.add("citizen_pid", fault.InvalidPID, "citizen_pid is not a valid personal identification number")
	}
	text(&p, "dossier_code", in.DossierCode, 1, maxDossierCode)
	text(&p, "service_code", in.ServiceCode, 1, maxServiceCode)
	text(&p, "description", in.Description, 1, maxDescription)
	if in.Currency != money.Currency {
		p.add("currency", fault.ValidationFailed, "currency must be VND")
	}
	d := Draft{
		CitizenPID: in.CitizenPID, DossierCode: in.DossierCode, ServiceCode: in.ServiceCode,
		Description: in.Description, Currency: in.Currency, Metadata: in.Metadata, ReturnURL: in.ReturnURL,
	}
	if len(in.Items) < 1 || len(in.Items) > MaxItems {
		p.add("items", fault.ValidationFailed, "items must hold 1 to 50 lines")
	}
	sum := decimal.Zero
	itemsOK := true
	for i, it := range in.Items {
		f := "items[" + itoa(i) + "]"
		text(&p, f+".code", it.Code, 1, maxItemCode)
		text(&p, f+".description", it.Description, 1, maxDescription)
		amt, ok := parseAmount(&p, f+".amount", it.Amount)
		if !ok {
			itemsOK = false
			continue
		}
		sum = sum.Add(amt)
		d.Items = append(d.Items, Item{Code: it.Code, Description: it.Description, Amount: amt})
	}
	total, totalOK := parseAmount(&p, "amount", in.Amount)
	if totalOK && itemsOK && len(in.Items) > 0 && !sum.Equal(total) {
		p.add("amount", fault.AmountMismatch, "amount must equal the sum of the items' amounts ("+money.Format(sum)+")")
	}
	d.Amount = total
	d.ExpiresAt = now.Add(DefaultExpiry)
	if in.ExpiresAtMalformed {
		p.add("expires_at", fault.InvalidExpiry, "expires_at must be an RFC 3339 time")
	}
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC()
		if !e.After(now) || e.Sub(now) > MaxExpiry {
			p.add("expires_at", fault.InvalidExpiry, "expires_at must be in the future and at most 30 days ahead")
		}
		d.ExpiresAt = e
	}
	d.ExpiresAt = d.ExpiresAt.Truncate(time.Microsecond)
	if len(in.Metadata) > MaxMetadata {
		p.add("metadata", fault.ValidationFailed, "metadata holds at most 20 pairs")
	}
	// A key is one-line text; a value may hold line breaks and tabs. A bad
	// key is named by "metadata" alone: the key itself is what is wrong.
	for k, v := range in.Metadata {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxMetadataKey {
			p.add("metadata", fault.ValidationFailed, "metadata keys must be 1 to 40 characters")
			break
		}
		if plaintext.Problem("key", k, plaintext.OneLine) != "" {
			p.add("metadata", fault.ValidationFailed, "metadata keys must not hold control or bidirectional formatting characters")
			break
		}
		if utf8.RuneCountInString(v) > maxMetadataValue {
			p.add("metadata."+k, fault.ValidationFailed, "metadata values must be at most 500 characters")
			break
		}
		if msg := plaintext.Problem("metadata."+k, v, plaintext.MultiLine); msg != "" {
			p.add("metadata."+k, fault.ValidationFailed, msg)
			break
		}
	}
	if d.Metadata == nil {
		d.Metadata = map[string]string{}
	}
	if err := p.err(); err != nil {
		return Draft{}, err
	}
	return d, nil
}

func parseAmount(p *problems, field string, s *string) (decimal.Decimal, bool) {
	if s == nil {
		p.add(field, fault.InvalidAmount, field+` must be a string of whole đồng such as "75000"`)
		return decimal.Decimal{}, false
	}
	d, err := money.Parse(*s)
	if err != nil {
		p.add(field, fault.InvalidAmount, field+` must be a string of whole đồng such as "75000"`)
		return decimal.Decimal{}, false
	}
	return d, true
}
