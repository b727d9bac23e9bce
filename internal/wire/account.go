package wire

import "github.com/citizenpay/gateway/internal/account"

// LinkedAccount is a linked account as its citizen sees it: the number
// masked.
type LinkedAccount struct {
	ID                  string  `json:"id"`
	Object              string  `json:"object"`
	BankCode            string  `json:"bank_code"`
	AccountNumberMasked string  `json:"account_number_masked"`
	Status              string  `json:"status"`
	IsDefault           bool    `json:"is_default"`
	RejectionReason     *string `json:"rejection_reason"`
	CreatedAt           string  `json:"created_at"`
	UpdatedAt           string  `json:"updated_at"`
}

// ToLinkedAccount converts a domain account.
func ToLinkedAccount(a *account.Account) LinkedAccount {
	out := LinkedAccount{
		ID: a.ID, Object: "linked_account", BankCode: a.BankCode, AccountNumberMasked: a.NumberMasked,
		Status: string(a.Status), IsDefault: a.IsDefault, CreatedAt: Time(a.CreatedAt), UpdatedAt: Time(a.UpdatedAt),
	}
	if a.RejectionReason != "" {
		reason := a.RejectionReason
		out.RejectionReason = &reason
	}
	return out
}

// Me is the citizen a token names, masked.
type Me struct {
	CitizenPIDMasked string `json:"citizen_pid_masked"`
	Name             string `json:"name"`
	LOA              int    `json:"loa"`
}
