package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/settlement"
	"github.com/citizenpay/gateway/internal/wire"
)

// Settlement event types (PROTOCOL.md §8, §12).
const (
	EventSettlementClosed  = "settlement.closed"
	EventSettlementSettled = "settlement.settled"
)

// RefreshSettlements brings day's settlements up to date with the ledger
// and the day's reconciliations: every portal with outcomes that day has
// one; an open one takes the ledger's figures, and closes once every bank
// it had outcomes with has reconciled the day matched — never before the
// day has ended, so no posting of the day can come after its figures are
// frozen. The day's settlement lock makes concurrent refreshes follow one
// another, so the last bank to reconcile a day sees every other's result.
func (s *Service) RefreshSettlements(ctx context.Context, day reconcile.Day) error {
	now := s.now()
	return s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		if err := postgres.LockSettlementDay(ctx, tx, day); err != nil {
			return err
		}
		figures, err := postgres.DayFigures(ctx, tx, day, "")
		if err != nil {
			return err
		}
		for portal := range figures {
			if err := postgres.EnsureSettlement(ctx, tx, portal, day, now); err != nil {
				return err
			}
		}
		open, err := postgres.OpenSettlements(ctx, tx, day)
		if err != nil {
			return err
		}
		runs, err := postgres.ListReconciliations(ctx, tx, day)
		if err != nil {
			return err
		}
		matched := map[string]bool{}
		for _, r := range runs {
			matched[r.BankCode] = r.Status == reconcile.StatusMatched
		}
		for _, st := range open {
			f := figures[st.PortalID]
			changed := st.Refresh(f, now)
			closing := !now.Before(day.End()) && len(f.Banks) > 0
			for _, b := range f.Banks {
				closing = closing && matched[b.BankCode]
			}
			if closing {
				if err := st.Close(now); err != nil {
					return err
				}
			}
			if !changed && !closing {
				continue
			}
			if err := postgres.SaveSettlement(ctx, tx, st); err != nil {
				return err
			}
			if closing {
				if err := s.emitSettlement(ctx, tx, EventSettlementClosed, st); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// MarkSettled records the operator's transfer of closed settlement stlID
// to its agency under reference: each bank's non-zero net share is posted
// (stl_…:{bank}), the settlement becomes settled and the portal is told. A
// settlement still open, or already settled, is refused and nothing
// changes.
func (s *Service) MarkSettled(ctx context.Context, stlID, reference, by string) (*settlement.Settlement, error) {
	now := s.now()
	var st *settlement.Settlement
	err := s.DB.InTx(ctx, func(tx *postgres.Tx) error {
		var err error
		if st, err = postgres.GetSettlement(ctx, tx, "", stlID, true); err != nil {
			return err
		}
		if err := st.Settle(reference, by, now); err != nil {
			return err
		}
		for _, b := range st.Figures.Banks {
			if b.Net().IsZero() {
				continue
			}
			t, err := ledger.SettlementShare(st.ID, b.BankCode, st.PortalID, b.Net())
			if err != nil {
				return err
			}
			if err := postgres.PostLedger(ctx, tx, t.At(now)); err != nil {
				return err
			}
		}
		if err := postgres.SaveSettlement(ctx, tx, st); err != nil {
			return err
		}
		return s.emitSettlement(ctx, tx, EventSettlementSettled, st)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Settlement returns settlement stlID of portal ("" for any portal's: the
// operator); another portal's is not_found.
func (s *Service) Settlement(ctx context.Context, portal, stlID string) (*settlement.Settlement, error) {
	return postgres.GetSettlement(ctx, s.DB, portal, stlID, false)
}

// ListSettlements returns the settlements f selects, newest day first.
func (s *Service) ListSettlements(ctx context.Context, f postgres.SettlementFilter) ([]*settlement.Settlement, error) {
	return postgres.ListSettlements(ctx, s.DB, f)
}

// emitSettlement writes the event typ about st in tx.
func (s *Service) emitSettlement(ctx context.Context, tx *postgres.Tx, typ string, st *settlement.Settlement) error {
	evID := id.New(id.Event)
	snap := wire.ToSettlement(st)
	body, err := json.Marshal(wire.Event{ID: evID, Type: typ, CreatedAt: wire.Time(st.UpdatedAt),
		Data: wire.EventData{Settlement: &snap}})
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	return postgres.InsertEvent(ctx, tx, postgres.NewEvent{ID: evID, PortalID: st.PortalID, Type: typ, Payload: body,
		At: st.UpdatedAt, DueIn: s.deliver(tx, evID, st.PortalID, body)})
}

// SettlementLines returns up to limit of st's debits and refunds in
// booking order, after the line booked at afterAt with id afterID (the
// zero time for the first page).
func (s *Service) SettlementLines(ctx context.Context, st *settlement.Settlement, afterAt time.Time, afterID string, limit int) ([]postgres.SettlementLine, error) {
	return postgres.SettlementLines(ctx, s.DB, st.PortalID, st.Day, afterAt, afterID, limit)
}
