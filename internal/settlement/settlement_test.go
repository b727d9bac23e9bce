package settlement_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/settlement"
)

func figures() settlement.Figures {
	return settlement.Figures{Banks: []settlement.Bank{
		{BankCode: "ACB", Count: 2, Collected: decimal.NewFromInt(150000), Refunds: 1, Refunded: decimal.NewFromInt(200000)},
		{BankCode: "SBX", Count: 3, Collected: decimal.NewFromInt(225000), Refunded: decimal.Zero},
	}}
}

func TestFigures(t *testing.T) {
	f := figures()
	if f.Count() != 5 || f.RefundCount() != 1 || !f.Collected().Equal(decimal.NewFromInt(375000)) ||
		!f.Refunded().Equal(decimal.NewFromInt(200000)) || !f.Net().Equal(decimal.NewFromInt(175000)) {
		t.Fatalf("%d %d %s %s %s", f.Count(), f.RefundCount(), f.Collected(), f.Refunded(), f.Net())
	}
	if !f.Banks[0].Net().Equal(decimal.NewFromInt(-50000)) {
		t.Fatalf("a bank whose refunds exceed its collections: %s", f.Banks[0].Net())
	}
	g := figures()
	g.Banks[1].Collected = decimal.NewFromInt(225001)
	if !f.Equal(figures()) || f.Equal(g) {
		t.Fatal("Equal")
	}
}

func TestStates(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	s := &settlement.Settlement{ID: "stl_1", Status: settlement.StatusOpen, Version: 1}
	if !s.Refresh(figures(), now) || s.Version != 2 || s.Refresh(figures(), now) {
		t.Fatalf("refresh: version %d", s.Version)
	}
	if err := s.Settle("TRF-1", "ops", now); !fault.Is(err, fault.InvalidState) || s.Status != settlement.StatusOpen {
		t.Fatalf("settling an open day: %v", err)
	}
	if err := s.Close(now); err != nil || s.Status != settlement.StatusClosed || s.ClosedAt == nil {
		t.Fatalf("close: %v", err)
	}
	changed := figures()
	changed.Banks = changed.Banks[:1]
	if s.Refresh(changed, now) || s.Figures.Count() != 5 {
		t.Fatal("a closed day's figures changed")
	}
	for _, bad := range []struct{ ref, by string }{{"", "ops"}, {"TRF", " "}} {
		if err := s.Settle(bad.ref, bad.by, now); !fault.Is(err, fault.ValidationFailed) {
			t.Fatalf("settle %q by %q: %v", bad.ref, bad.by, err)
		}
	}
	if err := s.Settle(" TRF-1 ", "ops", now); err != nil || s.Status != settlement.StatusSettled || s.Reference != "TRF-1" {
		t.Fatalf("settle: %v %+v", err, s)
	}
	v := s.Version
	if err := s.Settle("TRF-2", "ops", now); !fault.Is(err, fault.InvalidState) || s.Reference != "TRF-1" || s.Version != v {
		t.Fatalf("settling twice: %v", err)
	}
}
