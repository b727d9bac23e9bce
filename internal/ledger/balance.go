package ledger

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Balance is what one account has been debited and credited in all.
type Balance struct {
	Account Account
	Debits  decimal.Decimal
	Credits decimal.Decimal
}

// Amount returns the balance on the account's normal side: debits minus
// credits for bank_clearing, credits minus debits for portal_payable.
func (b Balance) Amount() decimal.Decimal {
	if b.Account.Kind().Normal() == Debit {
		return b.Debits.Sub(b.Credits)
	}
	return b.Credits.Sub(b.Debits)
}

// Totals sums the balances of each kind, each on its normal side.
func Totals(bs []Balance) (clearing, payable decimal.Decimal) {
	for _, b := range bs {
		switch b.Account.Kind() {
		case BankClearingKind:
			clearing = clearing.Add(b.Amount())
		case PortalPayableKind:
			payable = payable.Add(b.Amount())
		}
	}
	return clearing, payable
}

// CheckBalances verifies the ledger as a whole (DOMAIN.md invariant 1):
// every account is a ledger account, and what all banks owe equals what is
// owed to all portals. The error wraps ErrInvalidTransaction or
// ErrUnbalanced.
func CheckBalances(bs []Balance) error {
	for _, b := range bs {
		if _, err := ParseAccount(string(b.Account)); err != nil {
			return err
		}
	}
	clearing, payable := Totals(bs)
	if !clearing.Equal(payable) {
		return fmt.Errorf("%w: bank_clearing %s, portal_payable %s", ErrUnbalanced, clearing.String(), payable.String())
	}
	return nil
}
