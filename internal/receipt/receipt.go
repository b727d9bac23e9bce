package receipt

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/wire"
)

// Receipt is the biên lai of a paid request exactly as PROTOCOL.md §11 lists
// its fields. Amounts, items and times are in their wire form (package
// wire), so they read exactly as in the payment request. It is a document,
// signed as it is: everything but VerifyURL is covered by the JWS.
type Receipt struct {
	ID               string      `json:"id"`
	Number           string      `json:"number"`
	PaymentRequestID string      `json:"payment_request_id"`
	Portal           Portal      `json:"portal"`
	Payer            Payer       `json:"payer"`
	ServiceCode      string      `json:"service_code"`
	DossierCode      string      `json:"dossier_code"`
	Description      string      `json:"description"`
	Items            []wire.Item `json:"items"`
	Amount           string      `json:"amount"`
	AmountInWords    string      `json:"amount_in_words"`
	Currency         string      `json:"currency"`
	PaidAt           string      `json:"paid_at"`
	BankCode         string      `json:"bank_code"`
	BankReference    string      `json:"bank_reference"`
	IssuedAt         string      `json:"issued_at"`
	// VerifyURL is not signed (it holds the verify code, which is a secret
	// of the gateway's): Verify returns it empty.
	VerifyURL string `json:"verify_url"`
}

// Portal names the portal that charged the fee.
type Portal struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Payer is the citizen who paid: the name from their identity token and
// their pid masked, never in clear.
type Payer struct {
	Name      string `json:"name"`
	PIDMasked string `json:"pid_masked"`
}

// Issue is what a receipt is built from besides its paid request.
type Issue struct {
	// ID is the receipt's id (NewID).
	ID string
	// Seq is the receipt's place among the portal's receipts of the year
	// Year(IssuedAt), from 1: the store allocates it without gaps.
	Seq        int64
	PortalName string
	// PayerName is the name in the identity token of the citizen who paid.
	PayerName string
	IssuedAt  time.Time
	// PublicURL is GATEWAY_PUBLIC_URL and CodeKey the verify-code key
	// (CodeKey): together they make VerifyURL.
	PublicURL string
	CodeKey   []byte
}

// ErrNotPaid is New's refusal of a request that is not paid.
var ErrNotPaid = errors.New("receipt: the payment request is not paid")

// NewID returns a new receipt id, rc_….
func NewID() string { return id.New(id.Receipt) }

// New builds the receipt of req, a request that has just become paid. The
// payer's pid is taken masked from the request (pii.MaskPID made it), so a
// pid in clear never reaches a receipt.
func New(req *payment.Request, in Issue) (Receipt, error) {
	if req.Status != payment.StatusPaid || req.Payment == nil {
		return Receipt{}, fmt.Errorf("%w: %s is %s", ErrNotPaid, req.ID, req.Status)
	}
	switch {
	case !id.HasPrefix(in.ID, id.Receipt):
		return Receipt{}, fmt.Errorf("receipt: id %q is not a receipt id (%s_…)", in.ID, id.Receipt)
	case in.Seq < 1:
		return Receipt{}, fmt.Errorf("receipt: sequence %d, want 1 or more", in.Seq)
	case req.Currency != money.Currency:
		return Receipt{}, fmt.Errorf("receipt: currency %q, want %s", req.Currency, money.Currency)
	case strings.TrimSpace(in.PayerName) == "" || strings.TrimSpace(in.PortalName) == "":
		return Receipt{}, errors.New("receipt: the payer's and the portal's names are required")
	case in.IssuedAt.IsZero() || in.PublicURL == "" || len(in.CodeKey) == 0:
		return Receipt{}, errors.New("receipt: the issue time, public URL and code key are required")
	}
	words, err := AmountInWords(req.Amount)
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of %s: %w", req.ID, err)
	}
	r := Receipt{
		ID: in.ID, Number: Number(Year(in.IssuedAt), in.Seq), PaymentRequestID: req.ID,
		Portal:      Portal{ID: req.PortalID, Name: in.PortalName},
		Payer:       Payer{Name: in.PayerName, PIDMasked: req.CitizenPIDMasked},
		ServiceCode: req.ServiceCode, DossierCode: req.DossierCode, Description: req.Description,
		Items:  make([]wire.Item, 0, len(req.Items)),
		Amount: money.Format(req.Amount), AmountInWords: words, Currency: req.Currency,
		PaidAt: wire.Time(req.Payment.PaidAt), BankCode: req.Payment.BankCode, BankReference: req.Payment.BankReference,
		IssuedAt:  wire.Time(in.IssuedAt),
		VerifyURL: VerifyURL(in.PublicURL, in.ID, Code(in.CodeKey, in.ID)),
	}
	for _, it := range req.Items {
		r.Items = append(r.Items, wire.Item{Code: it.Code, Description: it.Description, Amount: money.Format(it.Amount)})
	}
	return r, nil
}

// Location is Asia/Ho_Chi_Minh, the zone of receipt years and of the times
// a PDF shows. Without tzdata it is the same fixed +07:00: Vietnam keeps no
// daylight saving time.
func Location() *time.Location { return location() }

// location loads the zone once: LoadLocation reads the tz database each time.
var location = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return loc
	}
	return time.FixedZone("ICT", 7*60*60)
})

// Year is the calendar year of t in Asia/Ho_Chi_Minh: the year whose
// sequence a receipt issued at t takes its number from.
func Year(t time.Time) int { return t.In(Location()).Year() }

// Number formats a receipt number, {YYYY}/{NNNNNN}: the sequence zero-padded
// to at least six digits (2026/000042, 2026/1234567).
func Number(year int, seq int64) string { return fmt.Sprintf("%04d/%06d", year, seq) }

// Initials shortens a name to its initials for the public verify page:
// "Nguyễn Văn An" → "N. V. A.". Each word gives its first letter in upper
// case (in NFC, so a decomposed "Ánh" still gives "Á"); a word without a
// letter gives nothing.
func Initials(name string) string {
	var parts []string
	for _, w := range strings.Fields(norm.NFC.String(name)) {
		for _, r := range w {
			if unicode.IsLetter(r) {
				parts = append(parts, string(unicode.ToUpper(r))+".")
				break
			}
		}
	}
	return strings.Join(parts, " ")
}
