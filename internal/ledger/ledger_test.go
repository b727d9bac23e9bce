package ledger

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestConstructors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		make      func(cause, bank, portal string, amount decimal.Decimal) (Transaction, error)
		cause     string
		amount    string
		wantErr   error
		wantKind  Kind
		wantDebit Account
		wantCred  Account
	}{
		{"debit", DebitSucceeded, "pa_1", "75000", nil, KindDebitSucceeded, "bank_clearing:VCB", "portal_payable:ptl_1"},
		{"refund", RefundSucceeded, "rf_1", "25000", nil, KindRefundSucceeded, "portal_payable:ptl_1", "bank_clearing:VCB"},
		{"debit of one đồng", DebitSucceeded, "pa_1", "1", nil, KindDebitSucceeded, "bank_clearing:VCB", "portal_payable:ptl_1"},
		{"debit of zero", DebitSucceeded, "pa_1", "0", ErrInvalidAmount, "", "", ""},
		{"debit negative", DebitSucceeded, "pa_1", "-75000", ErrInvalidAmount, "", "", ""},
		{"debit with a fraction", DebitSucceeded, "pa_1", "75000.5", ErrInvalidAmount, "", "", ""},
		{"refund of zero", RefundSucceeded, "rf_1", "0", ErrInvalidAmount, "", "", ""},
		{"refund negative", RefundSucceeded, "rf_1", "-1", ErrInvalidAmount, "", "", ""},
		{"debit caused by a refund id", DebitSucceeded, "rf_1", "75000", ErrInvalidTransaction, "", "", ""},
		{"refund caused by an attempt id", RefundSucceeded, "pa_1", "75000", ErrInvalidTransaction, "", "", ""},
		{"empty cause", DebitSucceeded, "", "75000", ErrInvalidTransaction, "", "", ""},
		{"bare prefix", DebitSucceeded, "pa_", "75000", ErrInvalidTransaction, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tx, err := tt.make(tt.cause, "VCB", "ptl_1", dec(tt.amount))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if tx.Cause() != "" || len(tx.Postings()) != 0 {
					t.Errorf("a refused transaction is not the zero value: %+v", tx)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tx.Cause() != tt.cause || tx.Kind() != tt.wantKind || tx.Currency() != "VND" {
				t.Errorf("cause, kind, currency = %s, %s, %s", tx.Cause(), tx.Kind(), tx.Currency())
			}
			want := []Posting{
				{Account: tt.wantDebit, Direction: Debit, Amount: dec(tt.amount)},
				{Account: tt.wantCred, Direction: Credit, Amount: dec(tt.amount)},
			}
			if !SamePostings(tx.Postings(), want) {
				t.Errorf("postings = %+v, want %+v", tx.Postings(), want)
			}
			if err := tx.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

func TestPostingsIsACopy(t *testing.T) {
	t.Parallel()
	tx, err := DebitSucceeded("pa_1", "VCB", "ptl_1", dec("100"))
	if err != nil {
		t.Fatal(err)
	}
	ps := tx.Postings()
	ps[0].Amount = dec("1")
	if err := tx.Check(); err != nil {
		t.Errorf("changing the copy changed the transaction: %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	good := []Posting{
		{Account: "bank_clearing:VCB", Direction: Debit, Amount: dec("10")},
		{Account: "portal_payable:ptl_1", Direction: Credit, Amount: dec("10")},
	}
	with := func(f func([]Posting)) []Posting {
		ps := append([]Posting(nil), good...)
		f(ps)
		return ps
	}
	tests := []struct {
		name    string
		tx      Transaction
		wantErr error
	}{
		{"balanced", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: good}, nil},
		{"three postings that balance", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: append(with(func(ps []Posting) { ps[0].Amount = dec("4") }),
			Posting{Account: "bank_clearing:TCB", Direction: Debit, Amount: dec("6")})}, nil},
		{"zero value", Transaction{}, ErrInvalidTransaction},
		{"unknown kind", Transaction{cause: "pa_1", kind: "chargeback", postings: good}, ErrInvalidTransaction},
		{"one posting", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: good[:1]}, ErrInvalidTransaction},
		{"unbalanced", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: with(func(ps []Posting) { ps[1].Amount = dec("9") })}, ErrUnbalanced},
		{"both debits", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: with(func(ps []Posting) { ps[1].Direction = Debit })}, ErrUnbalanced},
		{"unknown direction", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: with(func(ps []Posting) { ps[1].Direction = "sideways" })}, ErrInvalidTransaction},
		{"unknown account kind", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: with(func(ps []Posting) { ps[0].Account = "cash:VCB" })}, ErrInvalidTransaction},
		{"account without owner", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: with(func(ps []Posting) { ps[0].Account = "bank_clearing:" })}, ErrInvalidTransaction},
		{"negative posting", Transaction{cause: "pa_1", kind: KindDebitSucceeded, postings: with(func(ps []Posting) {
			ps[0].Amount, ps[1].Amount = dec("-10"), dec("-10")
		})}, ErrInvalidAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.tx.Check()
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Check() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		ok     bool
		kind   AccountKind
		owner  string
		normal Direction
	}{
		{"bank_clearing:VCB", true, BankClearingKind, "VCB", Debit},
		{"portal_payable:ptl_01h", true, PortalPayableKind, "ptl_01h", Credit},
		{"bank_clearing:", false, "", "", ""},
		{"bank_clearing", false, "", "", ""},
		{"portal_payable:a:b", false, "", "", ""},
		{"cash:VCB", false, "", "", ""},
		{"", false, "", "", ""},
	}
	for _, tt := range tests {
		a, err := ParseAccount(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseAccount(%q) err = %v", tt.in, err)
			continue
		}
		if !tt.ok {
			if !errors.Is(err, ErrInvalidTransaction) {
				t.Errorf("ParseAccount(%q) err = %v, want ErrInvalidTransaction", tt.in, err)
			}
			continue
		}
		if a.Kind() != tt.kind || a.Owner() != tt.owner || a.Kind().Normal() != tt.normal {
			t.Errorf("%q: kind %s owner %s normal %s", tt.in, a.Kind(), a.Owner(), a.Kind().Normal())
		}
	}
	if BankClearing("VCB") != "bank_clearing:VCB" || PortalPayable("ptl_1") != "portal_payable:ptl_1" {
		t.Error("account names")
	}
}

func TestSamePostings(t *testing.T) {
	t.Parallel()
	a := Posting{Account: "bank_clearing:VCB", Direction: Debit, Amount: dec("10")}
	b := Posting{Account: "portal_payable:ptl_1", Direction: Credit, Amount: dec("10")}
	b2 := b
	b2.Amount = dec("10.00") // the same number, written otherwise
	tests := []struct {
		name string
		x, y []Posting
		want bool
	}{
		{"same order", []Posting{a, b}, []Posting{a, b}, true},
		{"other order", []Posting{a, b}, []Posting{b, a}, true},
		{"equal amounts of another scale", []Posting{a, b}, []Posting{a, b2}, true},
		{"missing one", []Posting{a, b}, []Posting{a}, false},
		{"one twice", []Posting{a, a}, []Posting{a, b}, false},
		{"other amount", []Posting{a, b}, []Posting{a, {Account: b.Account, Direction: Credit, Amount: dec("11")}}, false},
		{"other direction", []Posting{a, b}, []Posting{a, {Account: b.Account, Direction: Debit, Amount: b.Amount}}, false},
		{"both empty", nil, nil, true},
	}
	for _, tt := range tests {
		if got := SamePostings(tt.x, tt.y); got != tt.want {
			t.Errorf("%s: SamePostings = %v", tt.name, got)
		}
	}
}

func TestBalances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		balances          []Balance
		clearing, payable string
		wantErr           error
	}{
		{"empty ledger", nil, "0", "0", nil},
		{"one debit", []Balance{
			{Account: "bank_clearing:VCB", Debits: dec("100"), Credits: dec("0")},
			{Account: "portal_payable:ptl_1", Debits: dec("0"), Credits: dec("100")},
		}, "100", "100", nil},
		{"debits and a refund across banks and portals", []Balance{
			{Account: "bank_clearing:VCB", Debits: dec("100"), Credits: dec("30")},
			{Account: "bank_clearing:TCB", Debits: dec("50"), Credits: dec("0")},
			{Account: "portal_payable:ptl_1", Debits: dec("30"), Credits: dec("100")},
			{Account: "portal_payable:ptl_2", Debits: dec("0"), Credits: dec("50")},
		}, "120", "120", nil},
		{"clearing without payable", []Balance{
			{Account: "bank_clearing:VCB", Debits: dec("100"), Credits: dec("0")},
		}, "100", "0", ErrUnbalanced},
		{"a foreign account", []Balance{
			{Account: "cash:VCB", Debits: dec("0"), Credits: dec("0")},
		}, "0", "0", ErrInvalidTransaction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, p := Totals(tt.balances)
			if !c.Equal(dec(tt.clearing)) || !p.Equal(dec(tt.payable)) {
				t.Errorf("Totals = %s, %s, want %s, %s", c, p, tt.clearing, tt.payable)
			}
			err := CheckBalances(tt.balances)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckBalances = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSettlementShare(t *testing.T) {
	pos, err := SettlementShare("stl_1", "SBX", "ptl_1", decimal.NewFromInt(50000))
	if err != nil || pos.Cause() != "stl_1:SBX" || pos.Kind() != KindSettlement {
		t.Fatalf("%v %s %s", err, pos.Cause(), pos.Kind())
	}
	want := []Posting{{Account: PortalPayable("ptl_1"), Direction: Debit, Amount: decimal.NewFromInt(50000)},
		{Account: BankClearing("SBX"), Direction: Credit, Amount: decimal.NewFromInt(50000)}}
	if !SamePostings(pos.Postings(), want) {
		t.Fatalf("positive share: %+v", pos.Postings())
	}
	neg, err := SettlementShare("stl_1", "ACB", "ptl_1", decimal.NewFromInt(-20000))
	want = []Posting{{Account: BankClearing("ACB"), Direction: Debit, Amount: decimal.NewFromInt(20000)},
		{Account: PortalPayable("ptl_1"), Direction: Credit, Amount: decimal.NewFromInt(20000)}}
	if err != nil || !SamePostings(neg.Postings(), want) {
		t.Fatalf("negative share: %v %+v", err, neg.Postings())
	}
	if _, err := SettlementShare("stl_1", "SBX", "ptl_1", decimal.Zero); !errors.Is(err, ErrInvalidAmount) {
		t.Fatalf("zero share: %v", err)
	}
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	if got := pos.At(at).BookedAt(); !got.Equal(at) || !pos.BookedAt().IsZero() {
		t.Fatalf("At: %v", got)
	}
}
