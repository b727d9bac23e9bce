package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/wire"
)

// CreatePaymentRequest records a validated draft for portalID in tx, with
// its payment_request.created event.
func (s *Service) CreatePaymentRequest(ctx context.Context, tx *postgres.Tx, portalID string, d payment.Draft) (*payment.Request, error) {
	r, _, err := s.CreatePaymentRequestJSON(ctx, tx, portalID, d)
	return r, err
}

// CreatePaymentRequestJSON is CreatePaymentRequest that also returns the
// new request's view (wire.PaymentRequest) as JSON, encoded once for the
// response and the event that carries it.
func (s *Service) CreatePaymentRequestJSON(ctx context.Context, tx *postgres.Tx, portalID string, d payment.Draft) (*payment.Request, json.RawMessage, error) {
	if err := s.checkReturnURL(ctx, tx, portalID, d.ReturnURL); err != nil {
		return nil, nil, err
	}
	now := s.now()
	r := &payment.Request{
		ID: id.New(id.PaymentRequest), PortalID: portalID, Status: payment.StatusPending, Version: 1,
		CitizenPIDMasked: pii.MaskPID(d.CitizenPID), DossierCode: d.DossierCode, ServiceCode: d.ServiceCode,
		Description: d.Description, Items: d.Items, Amount: d.Amount, Currency: money.Currency,
		AmountRefunded: decimal.Zero, Metadata: d.Metadata, ReturnURL: d.ReturnURL, ExpiresAt: d.ExpiresAt,
		CreatedAt: now, UpdatedAt: now,
	}
	pidIndex := s.PII.Index(pii.KindPID, d.CitizenPID)
	sealed := postgres.SealedPID{Index: pidIndex, Sealed: s.PII.Seal(pii.KindPID, d.CitizenPID, postgres.RequestPIDBinding(r.ID, pidIndex))}
	view, err := json.Marshal(wire.ToPaymentRequest(r, s.PublicURL))
	if err != nil {
		return nil, nil, fmt.Errorf("encode payment request: %w", err)
	}
	evID := id.New(id.Event)
	body := wire.RequestEventJSON(evID, EventRequestCreated, r.UpdatedAt, view)
	if err := postgres.InsertPaymentRequest(ctx, tx, r, sealed, s.newEvent(tx, evID, EventRequestCreated, r, body)); err != nil {
		return nil, nil, s.namingLiveRequest(ctx, portalID, d.DossierCode, err)
	}
	// Held back for COMMIT, the insert is refused there.
	tx.OnCommitError(func(err error) error { return s.namingLiveRequest(ctx, portalID, d.DossierCode, err) })
	return r, view, nil
}

// namingLiveRequest adds to a duplicate_dossier refusal the id of the live
// request that holds the dossier, in its message and as its
// payment_request_id, so that the portal can resume that request instead.
// The refusal aborted tx: the request is read outside it, where it is
// visible, since its insert committed before the conflict was raised. When
// it has gone (paid or canceled since) the refusal stays as it was.
func (s *Service) namingLiveRequest(ctx context.Context, portalID, dossier string, err error) error {
	e, ok := fault.As(err)
	if !ok || e.Code != fault.DuplicateDossier {
		return err
	}
	live, lerr := postgres.LiveRequestForDossier(ctx, s.DB, portalID, dossier)
	if lerr != nil || live == "" {
		return err
	}
	named := e.With(fault.ExtPaymentRequestID, live)
	named.Message = fmt.Sprintf("dossier %s already has a live payment request, %s: fetch or cancel it instead of creating another", dossier, live)
	return named
}

// GetPaymentRequest returns a request the caller may see.
func (s *Service) GetPaymentRequest(ctx context.Context, scope payment.Scope, reqID string) (*payment.Request, error) {
	if !id.HasPrefix(reqID, id.PaymentRequest) {
		return nil, fault.New(fault.NotFound, "no payment request %s", reqID)
	}
	return postgres.GetPaymentRequest(ctx, s.DB, scope, reqID)
}

// ListPaymentRequests lists the caller's requests, newest first, without
// decoding those whose version known reports (postgres.ListPaymentRequests).
func (s *Service) ListPaymentRequests(ctx context.Context, f payment.Filter, known func(id string, version int) bool) ([]payment.Listed, bool, error) {
	return postgres.ListPaymentRequests(ctx, s.DB, f, known)
}

// UpdatePaymentRequest is the one way a request changes on behalf of a
// portal or a citizen: it locks the row within scope (a request outside it
// is not_found; an empty scope is postgres.ErrNoScope), lets change decide
// on the current state, saves the result and writes the event change names
// (if any), all in tx.
func (s *Service) UpdatePaymentRequest(ctx context.Context, tx *postgres.Tx, scope payment.Scope, reqID string,
	change func(r *payment.Request) (event string, err error)) (*payment.Request, error) {
	return s.updateRequest(ctx, tx, reqID, func() (*payment.Request, error) {
		return postgres.LockPaymentRequest(ctx, tx, scope, reqID)
	}, change)
}

// UpdatePaymentRequestUnscoped is UpdatePaymentRequest for the gateway's own
// changes of any request, whoever's it is (expiry, a bank's outcome).
func (s *Service) UpdatePaymentRequestUnscoped(ctx context.Context, tx *postgres.Tx, reqID string,
	change func(r *payment.Request) (event string, err error)) (*payment.Request, error) {
	return s.updateRequest(ctx, tx, reqID, func() (*payment.Request, error) {
		return postgres.LockPaymentRequestUnscoped(ctx, tx, reqID)
	}, change)
}

func (s *Service) updateRequest(ctx context.Context, tx *postgres.Tx, reqID string, lock func() (*payment.Request, error),
	change func(r *payment.Request) (event string, err error)) (*payment.Request, error) {
	if !id.HasPrefix(reqID, id.PaymentRequest) {
		return nil, fault.New(fault.NotFound, "no payment request %s", reqID)
	}
	r, err := lock()
	if err != nil {
		return nil, err
	}
	read := r.Version
	event, err := change(r)
	if err != nil {
		return nil, err
	}
	if r.Version == read {
		return r, nil
	}
	if err := postgres.SavePaymentRequest(ctx, tx, r, read); err != nil {
		return nil, err
	}
	if event != "" {
		if err := s.emit(ctx, tx, event, r, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// CancelPaymentRequest cancels a pending request of portalID.
func (s *Service) CancelPaymentRequest(ctx context.Context, tx *postgres.Tx, portalID, reqID string) (*payment.Request, error) {
	now := s.now()
	return s.UpdatePaymentRequest(ctx, tx, payment.PortalScope(portalID), reqID, func(r *payment.Request) (string, error) {
		return EventRequestCanceled, r.Cancel(now)
	})
}

// ExpireDue moves up to limit overdue pending requests to expired, each with
// its event, and returns how many it moved. Workers on several nodes share
// the work: rows another holds are skipped.
func (s *Service) ExpireDue(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		now := s.now()
		ids, err := postgres.DuePaymentRequests(ctx, tx, now, limit)
		if err != nil {
			return err
		}
		for _, reqID := range ids {
			_, err := s.UpdatePaymentRequestUnscoped(ctx, tx, reqID, func(r *payment.Request) (string, error) {
				return EventRequestExpired, r.Expire(now)
			})
			if err != nil {
				return fmt.Errorf("expire %s: %w", reqID, err)
			}
			n++
		}
		return nil
	})
	return n, err
}
