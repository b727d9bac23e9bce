package service

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/wire"
)

// EventReceiptIssued is the event of a new receipt (PROTOCOL.md §11).
const EventReceiptIssued = "receipt.issued"

// Keyring labels of what receipts seal at rest. Each sealed value is bound
// to its row's id (the aad), so it cannot be moved to another row.
const (
	labelReceiptJWS  = "receipts/jws"
	labelReceiptKeys = "receipts/signing-keys"
	labelPayerNames  = "receipts/payer-names"
)

// Receipts is what issuing and serving receipts needs: the verify-code key
// and public URL that make verify_url, and the sealers of receipts, their
// signing keys and the payer's name kept on an attempt until its receipt.
type Receipts struct {
	PublicURL string
	CodeKey   []byte
	docs      *keyring.Sealer
	keys      *keyring.Sealer
	names     *keyring.Sealer
}

// NewReceipts derives the receipts' keys from the gateway's keyring;
// publicURL is GATEWAY_PUBLIC_URL.
func NewReceipts(k *keyring.Keyring, publicURL string) *Receipts {
	return &Receipts{PublicURL: publicURL, CodeKey: receipt.CodeKey(k),
		docs: k.Sealer(labelReceiptJWS), keys: k.Sealer(labelReceiptKeys), names: k.Sealer(labelPayerNames)}
}

// errNoReceipts is the refusal to make a request paid by a service built
// without Receipts: a paid request without its receipt would break
// invariant 8.
var errNoReceipts = errors.New("service: receipts are not configured")

// sealPayerName seals the payer's name for attempt attemptID.
func (rs *Receipts) sealPayerName(attemptID, name string) []byte {
	return rs.names.Seal([]byte(name), []byte(attemptID))
}

// issueReceipt issues the receipt of r, made paid by debit d in tx, with
// its receipt.issued event, writing through w. r.Payment.ReceiptID is the
// receipt's id, given before the paid event was written. The counter of
// the portal's year is locked last, so that its lock, which serialises the
// portal's payments, is held only for what is left before commit.
func (s *Service) issueReceipt(ctx context.Context, tx *postgres.Tx, r *payment.Request, d *postgres.LockedDebit) error {
	rs := s.Receipts
	if rs == nil {
		return errNoReceipts
	}
	attemptID := d.Attempt.ID
	// An attempt made before receipts kept the payer's name has none: the
	// receipt then names the payer by their masked pid.
	payerName := r.CitizenPIDMasked
	if d.PayerNameSealed != nil {
		name, err := rs.names.Open(d.PayerNameSealed, []byte(attemptID))
		if err != nil {
			return fmt.Errorf("open payer of %s: %w", attemptID, err)
		}
		payerName = string(name)
	}
	var key *receipt.Key
	var err error
	if d.Key != nil {
		key, err = s.openReceiptKey(d.Key)
	} else {
		key, err = s.currentReceiptKey(ctx, tx) // none yet, or revoked meanwhile: made under the keys' lock
	}
	if err != nil {
		return err
	}
	now := s.now()
	year := receipt.Year(now)
	seq, err := postgres.NextReceiptSeq(ctx, tx, r.PortalID, year)
	if err != nil {
		return err
	}
	rc, err := receipt.New(r, receipt.Issue{ID: r.Payment.ReceiptID, Seq: seq, PortalName: d.PortalName, PayerName: payerName,
		IssuedAt: now, PublicURL: rs.PublicURL, CodeKey: rs.CodeKey})
	if err != nil {
		return err
	}
	jws, err := receipt.Sign(rc, key)
	if err != nil {
		return err
	}
	stored := &postgres.StoredReceipt{ID: rc.ID, RequestID: r.ID, PortalID: r.PortalID, Number: rc.Number, Year: year, Seq: seq,
		Amount: r.Amount, JWSSealed: rs.docs.Seal([]byte(jws), []byte(rc.ID)), KID: key.KID(), IssuedAt: now, SignedAt: now}
	if err := postgres.InsertReceipt(ctx, tx, stored, attemptID); err != nil {
		return err
	}
	ev := wire.Event{ID: id.New(id.Event), Type: EventReceiptIssued, CreatedAt: wire.Time(now), Data: wire.EventData{
		Receipt: &wire.ReceiptIssued{ID: rc.ID, Number: rc.Number, PaymentRequestID: r.ID, Amount: money.Format(r.Amount), IssuedAt: rc.IssuedAt}}}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return postgres.InsertEvent(ctx, tx, s.newEvent(tx, ev.ID, EventReceiptIssued, r, body))
}

// Receipt returns the receipt of payment request reqID and its compact JWS,
// or not_found while the request is not paid (or does not exist). Whether
// the caller may see the request is the caller's check.
func (s *Service) Receipt(ctx context.Context, reqID string) (receipt.Receipt, string, error) {
	if !id.HasPrefix(reqID, id.PaymentRequest) {
		return receipt.Receipt{}, "", fault.New(fault.NotFound, "no receipt of payment request %s", reqID)
	}
	st, err := postgres.GetReceiptOfRequest(ctx, s.DB, reqID)
	if err != nil {
		return receipt.Receipt{}, "", err
	}
	return s.openReceipt(st)
}

// ReceiptByID returns receipt rcID and its JWS, or not_found.
func (s *Service) ReceiptByID(ctx context.Context, rcID string) (receipt.Receipt, string, error) {
	if !id.HasPrefix(rcID, id.Receipt) {
		return receipt.Receipt{}, "", fault.New(fault.NotFound, "no receipt %s", rcID)
	}
	st, err := postgres.GetReceipt(ctx, s.DB, rcID)
	if err != nil {
		return receipt.Receipt{}, "", err
	}
	return s.openReceipt(st)
}

// openReceipt opens a stored receipt: its JWS, the receipt it signs and
// the receipt's verify_url.
func (s *Service) openReceipt(st *postgres.StoredReceipt) (receipt.Receipt, string, error) {
	if s.Receipts == nil {
		return receipt.Receipt{}, "", errNoReceipts
	}
	raw, err := s.Receipts.docs.Open(st.JWSSealed, []byte(st.ID))
	if err != nil {
		return receipt.Receipt{}, "", fmt.Errorf("open receipt %s: %w", st.ID, err)
	}
	jws := string(raw)
	rc, _, err := signedReceipt(jws)
	if err != nil {
		return receipt.Receipt{}, "", fmt.Errorf("receipt %s: %w", st.ID, err)
	}
	rc.VerifyURL = receipt.VerifyURL(s.Receipts.PublicURL, rc.ID, receipt.Code(s.Receipts.CodeKey, rc.ID))
	return rc, jws, nil
}

// CheckReceiptCode reports whether code is receipt rcID's verify code.
func (s *Service) CheckReceiptCode(rcID, code string) bool {
	return s.Receipts != nil && receipt.CheckCode(s.Receipts.CodeKey, rcID, code)
}

// signedReceipt reads the receipt a JWS of the gateway's own signs, and its
// payload, without checking the signature: the JWS comes from the
// gateway's database, sealed.
func signedReceipt(jws string) (receipt.Receipt, []byte, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return receipt.Receipt{}, nil, fmt.Errorf("%w: %d parts", receipt.ErrMalformed, len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return receipt.Receipt{}, nil, fmt.Errorf("%w: %v", receipt.ErrMalformed, err)
	}
	var rc receipt.Receipt
	if err := json.Unmarshal(payload, &rc); err != nil {
		return receipt.Receipt{}, nil, fmt.Errorf("%w: %v", receipt.ErrMalformed, err)
	}
	return rc, payload, nil
}

// resign signs jws's receipt again with key. The payload must come out
// byte for byte the same: a receipt never changes, only its signature.
func resign(jws string, key *receipt.Key) (string, error) {
	rc, payload, err := signedReceipt(jws)
	if err != nil {
		return "", err
	}
	out, err := receipt.Sign(rc, key)
	if err != nil {
		return "", err
	}
	if _, again, err := signedReceipt(out); err != nil || !bytes.Equal(again, payload) {
		return "", fmt.Errorf("re-sign receipt %s: the payload would change", rc.ID)
	}
	return out, nil
}

// OpenJWS opens the sealed JWS of receipt receiptID, for gatewayctl verify.
func (rs *Receipts) OpenJWS(receiptID string, sealed []byte) (string, error) {
	raw, err := rs.docs.Open(sealed, []byte(receiptID))
	if err != nil {
		return "", fmt.Errorf("open receipt %s: %w", receiptID, err)
	}
	return string(raw), nil
}
