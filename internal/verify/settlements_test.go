package verify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/verify"
)

// share is one bank's part of a settlement, as the banks column keeps it.
type share struct {
	BankCode  string `json:"bank_code"`
	Count     int    `json:"count"`
	Collected string `json:"collected"`
	Refunds   int    `json:"refund_count"`
	Refunded  string `json:"refunded"`
}

// cleanShare is the clean world's day at VCB: pa_paid, pa_partial and
// pa_refunded collected, rf_partial_ok and rf_full refunded; net 125 000.
var cleanShare = share{BankCode: bankCode, Count: 3, Collected: "225000", Refunds: 2, Refunded: "100000"}

const stlID = "stl_1"

// bookAt moves every ledger transaction to at, as migration 0006 did when
// it gave them booked_at: the business day the postings belong to is then
// the test's choice, whatever the clock says.
func (w *world) bookAt(at time.Time) {
	w.t.Helper()
	w.exec(`ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_append_only`)
	w.exec(`UPDATE ledger_transactions SET booked_at = $1`, at)
	w.exec(`ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_append_only`)
}

// settlement writes settlement id of portalID's business day date in
// status (closed or settled) with shares; its totals are the shares' sums
// unless edit changes them.
func (w *world) settlement(id, date, status string, shares []share, edit func(count, refunds *int, collected, refunded *decimal.Decimal)) {
	w.t.Helper()
	count, refunds, collected, refunded := 0, 0, decimal.Zero, decimal.Zero
	for _, s := range shares {
		count, refunds = count+s.Count, refunds+s.Refunds
		collected = collected.Add(decimal.RequireFromString(s.Collected))
		refunded = refunded.Add(decimal.RequireFromString(s.Refunded))
	}
	if edit != nil {
		edit(&count, &refunds, &collected, &refunded)
	}
	if shares == nil {
		shares = []share{}
	}
	banks, err := json.Marshal(shares)
	if err != nil {
		w.t.Fatal(err)
	}
	var ref any
	if status == "settled" {
		ref = "TRF-1"
	}
	w.exec(`INSERT INTO settlements (id, portal_id, business_date, status, count, refund_count, collected, refunded, banks,
			settled_reference, closed_at, settled_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric, $9, $10, CASE WHEN $4 <> 'open' THEN $11::timestamptz END,
			CASE WHEN $4 = 'settled' THEN $11::timestamptz END)`,
		id, portalID, date, status, count, refunds, collected.String(), refunded.String(), string(banks), ref, w.now)
}

// postShare posts bank's share of settlement stl as MarkSettled does, for
// net (reversed when negative).
func (w *world) postShare(stl, bank string, net int64) {
	w.t.Helper()
	w.post(mustTx(ledger.SettlementShare(stl, bank, portalID, decimal.NewFromInt(net))).At(w.now))
}

func TestSettlementsEqualTheirPostings(t *testing.T) {
	t.Parallel()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	// 00:30 in Hồ Chí Minh City is still the day before in UTC: a check
	// that read the business day in UTC would put the postings on 29 Nov.
	booked := time.Date(2026, 11, 30, 0, 30, 0, 0, hcm)
	const day, nextDay = "2026-11-30", "2026-12-01"
	with := func(shares ...share) []share { return shares }
	tests := []struct {
		name  string
		build func(w *world)
		want  []finding
	}{
		{"a closed settlement equal to its day's postings", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare), nil)
		}, nil},
		{"a settled settlement with its share posted", func(w *world) {
			w.settlement(stlID, day, "settled", with(cleanShare), nil)
			w.postShare(stlID, bankCode, 125000)
		}, nil},
		{"an open settlement is not held to its figures yet", func(w *world) {
			w.settlement(stlID, day, "open", with(share{BankCode: bankCode, Count: 1, Collected: "75000", Refunded: "0"}), nil)
		}, nil},

		{"the count differs", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare), func(n, _ *int, _, _ *decimal.Decimal) { *n = 2 })
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"the refund count differs", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare), func(_, rn *int, _, _ *decimal.Decimal) { *rn = 1 })
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"the collected amount differs", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare), func(_, _ *int, c, _ *decimal.Decimal) { *c = c.Add(decimal.NewFromInt(1)) })
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"the refunded amount differs", func(w *world) {
			w.settlement(stlID, day, "settled", with(cleanShare), func(_, _ *int, _, r *decimal.Decimal) { *r = decimal.NewFromInt(75000) })
			w.postShare(stlID, bankCode, 125000)
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"a bank's share differs though the totals agree", func(w *world) {
			s := cleanShare
			s.Collected, s.Refunded = "225001", "100001" // same net, other figures
			w.settlement(stlID, day, "closed", with(s), func(_, _ *int, c, r *decimal.Decimal) {
				*c, *r = decimal.NewFromInt(225000), decimal.NewFromInt(100000)
			})
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"a bank with postings that day has no share", func(w *world) {
			w.settlement(stlID, day, "closed", nil, func(n, rn *int, c, r *decimal.Decimal) {
				*n, *rn, *c, *r = 3, 2, decimal.NewFromInt(225000), decimal.NewFromInt(100000)
			})
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"a share of a bank without postings that day", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare, share{BankCode: "TCB", Collected: "0", Refunded: "0"}), nil)
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"a bank's share twice", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare, cleanShare), func(n, rn *int, c, r *decimal.Decimal) {
				*n, *rn, *c, *r = 3, 2, decimal.NewFromInt(225000), decimal.NewFromInt(100000)
			})
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},
		{"the figures of another day", func(w *world) {
			w.settlement(stlID, nextDay, "closed", with(cleanShare), nil)
		}, []finding{{9, verify.CheckSettlementFigures, stlID}}},

		{"settled without its share's posting", func(w *world) {
			w.settlement(stlID, day, "settled", with(cleanShare), nil)
		}, []finding{{9, verify.CheckSettlementPosting, stlID + ":" + bankCode}}},
		{"a share posted for another amount", func(w *world) {
			w.settlement(stlID, day, "settled", with(cleanShare), nil)
			w.postShare(stlID, bankCode, 124999)
		}, []finding{{9, verify.CheckSettlementPosting, stlID + ":" + bankCode}}},
		{"a share posted the wrong way round", func(w *world) {
			w.settlement(stlID, day, "settled", with(cleanShare), nil)
			w.postShare(stlID, bankCode, -125000)
		}, []finding{{9, verify.CheckSettlementPosting, stlID + ":" + bankCode}}},

		{"a share posted for a settlement only closed", func(w *world) {
			w.settlement(stlID, day, "closed", with(cleanShare), nil)
			w.postShare(stlID, bankCode, 125000)
		}, []finding{{9, verify.CheckSettlementUnfounded, stlID + ":" + bankCode}}},
		{"a share posted for no settlement", func(w *world) {
			w.postShare("stl_ghost", bankCode, 1000)
		}, []finding{{9, verify.CheckSettlementUnfounded, "stl_ghost:" + bankCode}}},
		{"a share posted for a bank the settlement has none of", func(w *world) {
			w.settlement(stlID, day, "settled", with(cleanShare), nil)
			w.postShare(stlID, bankCode, 125000)
			w.postShare(stlID, "TCB", 1000)
		}, []finding{{9, verify.CheckSettlementUnfounded, stlID + ":TCB"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t).clean()
			w.bookAt(booked)
			tt.build(w)
			wantExactly(t, w.check(verify.Options{}), tt.want...)
		})
	}
}

// A bank share whose refunds equal its collections nets to zero: it is
// settled with no posting, and a posting for it is a fault.
func TestSettlementZeroShare(t *testing.T) {
	t.Parallel()
	zero := func(t *testing.T) *world {
		w := setup(t)
		w.paid("pr_z", "pa_z", true)
		w.refund("rf_z", "pr_z", "pa_z", 75000, "succeeded", true)
		w.bookAt(w.now)
		date := w.now.In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		w.settlement(stlID, date, "settled", []share{{BankCode: bankCode, Count: 1, Collected: "75000", Refunds: 1, Refunded: "75000"}}, nil)
		return w
	}
	t.Run("settled with no posting", func(t *testing.T) {
		t.Parallel()
		wantExactly(t, zero(t).check(verify.Options{}))
	})
	t.Run("a posting for the zero share", func(t *testing.T) {
		t.Parallel()
		w := zero(t)
		w.postShare(stlID, bankCode, 1)
		wantExactly(t, w.check(verify.Options{}), finding{9, verify.CheckSettlementPosting, stlID + ":" + bankCode})
	})
}

// A share whose refunds exceed its collections is posted the other way
// round: bank_clearing debited, portal_payable credited.
func TestSettlementNegativeShare(t *testing.T) {
	t.Parallel()
	build := func(t *testing.T) *world {
		w := setup(t)
		w.paid("pr_n", "pa_n", false) // paid the day before
		w.post(mustTx(ledger.DebitSucceeded("pa_n", bankCode, portalID, decimal.NewFromInt(75000))).At(w.now.Add(-48 * time.Hour)))
		w.refund("rf_n", "pr_n", "pa_n", 30000, "succeeded", false)
		w.post(mustTx(ledger.RefundSucceeded("rf_n", bankCode, portalID, decimal.NewFromInt(30000))).At(w.now))
		date := w.now.In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		w.settlement(stlID, date, "settled", []share{{BankCode: bankCode, Collected: "0", Refunds: 1, Refunded: "30000"}}, nil)
		return w
	}
	t.Run("posted the other way round", func(t *testing.T) {
		t.Parallel()
		w := build(t)
		w.postShare(stlID, bankCode, -30000)
		wantExactly(t, w.check(verify.Options{}))
	})
	t.Run("posted as a positive share", func(t *testing.T) {
		t.Parallel()
		w := build(t)
		w.postShare(stlID, bankCode, 30000)
		wantExactly(t, w.check(verify.Options{}), finding{9, verify.CheckSettlementPosting, stlID + ":" + bankCode})
	})
}
