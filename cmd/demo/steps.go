package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/citizenpay/gateway/internal/pii"
)

// The story's steps, in the order run tells them: the fee, the citizen's
// sign-in, the account link, the payment and its clearing.

type paymentRequest struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	Version          int    `json:"version"`
	CitizenPIDMasked string `json:"citizen_pid_masked"`
	DossierCode      string `json:"dossier_code"`
	Amount           string `json:"amount"`
	Currency         string `json:"currency"`
	AmountRefunded   string `json:"amount_refunded"`
	ExpiresAt        string `json:"expires_at"`
	Payment          *struct {
		AttemptID     string `json:"attempt_id"`
		BankCode      string `json:"bank_code"`
		BankReference string `json:"bank_reference"`
		PaidAt        string `json:"paid_at"`
	} `json:"payment"`
}

func (s *story) issueFee(ctx context.Context) error {
	s.title("The portal issues a fee to the citizen")
	dossier := "DEMO-" + time.Now().Format("20060102-150405")
	body := map[string]any{
		"citizen_pid": demoPID, "dossier_code": dossier, "service_code": "1.001234",
		"description": "Lệ phí cấp giấy phép xây dựng",
		"items": []map[string]string{
			{"code": "LE_PHI", "description": "Lệ phí cấp phép", "amount": "50000"},
			{"code": "THAM_DINH", "description": "Phí thẩm định hồ sơ", "amount": "25000"},
		},
		"amount": "75000", "currency": "VND",
	}
	s.sent("POST /v1/payment-requests, signed by portal key %s, Idempotency-Key %s", s.c.portal.KeyID, s.c.key("create"))
	s.say(fmt.Sprintf("citizen_pid %s, dossier %s, two items: 50000 + 25000 = 75000 VND", pii.MaskPID(demoPID), dossier))
	var pr paymentRequest
	r, err := s.c.asPortal(ctx, http.MethodPost, "/v1/payment-requests", s.c.key("create"), body)
	if err := expect(r, err, http.StatusCreated, &pr); err != nil {
		return err
	}
	s.prID = pr.ID
	s.got("201 Created: %s, status %s, version %d, citizen_pid_masked %s, expires_at %s",
		pr.ID, pr.Status, pr.Version, pr.CitizenPIDMasked, pr.ExpiresAt)
	return nil
}

func (s *story) signIn(ctx context.Context) error {
	s.title("The citizen signs in with the identity provider (devidp)")
	s.sent("POST %s/token for pid %s, name %s, loa 2", s.cfg.idp, pii.MaskPID(demoPID), demoName)
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	r, err := s.c.plain(ctx, http.MethodPost, s.cfg.idp+"/token",
		map[string]any{"pid": demoPID, "name": demoName, "birthdate": demoBirthdate, "loa": 2})
	if err := expect(r, err, http.StatusOK, &tok); err != nil {
		return fmt.Errorf("devidp: %w", err)
	}
	s.c.token = tok.AccessToken
	s.got("200: a signed token (%d characters), valid %s", len(tok.AccessToken), time.Duration(tok.ExpiresIn)*time.Second)
	var me struct {
		CitizenPIDMasked string `json:"citizen_pid_masked"`
		Name             string `json:"name"`
		LOA              int    `json:"loa"`
	}
	s.sent("GET /v1/me with the token")
	r, err = s.c.asCitizen(ctx, http.MethodGet, "/v1/me", "", nil)
	if err := expect(r, err, http.StatusOK, &me); err != nil {
		return err
	}
	s.got("200: the gateway knows them as %s, %s, level of assurance %d", me.CitizenPIDMasked, me.Name, me.LOA)
	return nil
}

// account is the part of a linked account the demo shows.
type account struct {
	ID                  string  `json:"id"`
	BankCode            string  `json:"bank_code"`
	AccountNumberMasked string  `json:"account_number_masked"`
	Status              string  `json:"status"`
	IsDefault           bool    `json:"is_default"`
	RejectionReason     *string `json:"rejection_reason"`
}

func (s *story) linkAccount(ctx context.Context) error {
	s.title("The citizen links their bank account; the bank confirms they hold it")
	s.sent("POST /v1/me/accounts {bank_code %s, account_number %s}, Idempotency-Key %s",
		s.bank, pii.MaskAccount(demoAccount), s.c.key("link"))
	var acc account
	r, err := s.c.asCitizen(ctx, http.MethodPost, "/v1/me/accounts", s.c.key("link"),
		map[string]string{"bank_code": s.bank, "account_number": demoAccount})
	if err := expect(r, err, http.StatusAccepted, &acc); err != nil {
		return err
	}
	s.accID = acc.ID
	s.got("202 Accepted: %s, %s at %s, status %s", acc.ID, acc.AccountNumberMasked, acc.BankCode, acc.Status)
	if acc.Status == "active" {
		s.say("(linked by an earlier run: the gateway answers with the same account)")
		return nil
	}
	s.say("the gateway asks bank " + s.bank + " whether this pid holds the account; the bank answers by callback")
	err = waitFor(ctx, s.cfg.timeout, "the bank's confirmation", s.say, func() (bool, error) {
		var list struct{ Data []account }
		r, err := s.c.asCitizen(ctx, http.MethodGet, "/v1/me/accounts", "", nil)
		if err := expect(r, err, http.StatusOK, &list); err != nil {
			return false, err
		}
		for _, a := range list.Data {
			if a.ID != acc.ID {
				continue
			}
			if a.Status == "rejected" {
				reason := ""
				if a.RejectionReason != nil {
					reason = *a.RejectionReason
				}
				return false, fmt.Errorf("the bank rejected the link (%s)", reason)
			}
			if a.Status == "active" {
				acc = a
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	s.sent("GET /v1/me/accounts")
	s.got("200: %s is %s (default: %t)", acc.ID, acc.Status, acc.IsDefault)
	return nil
}

func (s *story) listRequests(ctx context.Context) error {
	s.title("The citizen sees the fees addressed to them")
	s.sent("GET /v1/me/payment-requests?status=pending")
	var list struct{ Data []paymentRequest }
	r, err := s.c.asCitizen(ctx, http.MethodGet, "/v1/me/payment-requests?status=pending&limit=100", "", nil)
	if err := expect(r, err, http.StatusOK, &list); err != nil {
		return err
	}
	found := false
	for _, pr := range list.Data {
		if pr.ID == s.prID {
			found = true
			s.got("200: %d pending; among them %s, dossier %s, %s %s", len(list.Data), pr.ID, pr.DossierCode, pr.Amount, pr.Currency)
		}
	}
	if !found {
		return fmt.Errorf("%s is not among the citizen's %d pending requests", s.prID, len(list.Data))
	}
	return nil
}

// bankBalance reads the account's balance from the sandbox bank's admin route.
func (s *story) bankBalance(ctx context.Context) (string, error) {
	var b struct {
		Balance string `json:"balance"`
	}
	r, err := s.c.plain(ctx, http.MethodGet, s.cfg.bank+"/_sim/accounts/"+demoAccount, nil)
	if err := expect(r, err, http.StatusOK, &b); err != nil {
		return "", fmt.Errorf("the sandbox bank's balance: %w", err)
	}
	return b.Balance, nil
}

func (s *story) pay(ctx context.Context) error {
	s.title("The citizen pays from the linked account")
	var err error
	if s.balance, err = s.bankBalance(ctx); err != nil {
		return err
	}
	s.say(fmt.Sprintf("balance of %s at bank %s before: %s VND", pii.MaskAccount(demoAccount), s.bank, s.balance))
	s.sent("POST /v1/me/payment-requests/%s/pay {account_id %s}, Idempotency-Key %s", s.prID, s.accID, s.c.key("pay"))
	var pr paymentRequest
	r, err := s.c.asCitizen(ctx, http.MethodPost, "/v1/me/payment-requests/"+s.prID+"/pay", s.c.key("pay"),
		map[string]string{"account_id": s.accID})
	if err := expect(r, err, http.StatusAccepted, &pr); err != nil {
		return err
	}
	s.got("202 Accepted: %s is %s (version %d); a worker sends the debit to bank %s", pr.ID, pr.Status, pr.Version, s.bank)
	return nil
}

// waitStatus polls the portal's view of the request until it is want.
func (s *story) waitStatus(ctx context.Context, want string) (paymentRequest, error) {
	var pr paymentRequest
	err := waitFor(ctx, s.cfg.timeout, s.prID+" to be "+want, s.say, func() (bool, error) {
		r, err := s.c.asPortal(ctx, http.MethodGet, "/v1/payment-requests/"+s.prID, "", nil)
		if err := expect(r, err, http.StatusOK, &pr); err != nil {
			return false, err
		}
		switch pr.Status {
		case want:
			return true, nil
		case "pending", "expired", "canceled":
			return false, fmt.Errorf("%s became %s instead of %s", s.prID, pr.Status, want)
		}
		return false, nil
	})
	return pr, err
}

func (s *story) cleared(ctx context.Context) error {
	s.title("The bank accepts the debit (202), executes it and calls back; the gateway clears the fee")
	s.say("polling GET /v1/payment-requests/" + s.prID + " as the portal")
	pr, err := s.waitStatus(ctx, "paid")
	if err != nil {
		return err
	}
	if pr.Payment == nil {
		return fmt.Errorf("%s is paid without a payment", pr.ID)
	}
	paidAt, err := time.Parse(time.RFC3339Nano, pr.Payment.PaidAt)
	if err != nil {
		return fmt.Errorf("%s was paid at %q, not a time", pr.ID, pr.Payment.PaidAt)
	}
	s.debit, s.paidAt, s.paidAmount = pr.Payment.AttemptID, paidAt, pr.Amount
	s.got("200: %s is %s (version %d): debit %s, bank %s, bank reference %s, paid at %s",
		pr.ID, pr.Status, pr.Version, pr.Payment.AttemptID, pr.Payment.BankCode, pr.Payment.BankReference, pr.Payment.PaidAt)
	after, err := s.bankBalance(ctx)
	if err != nil {
		return err
	}
	s.say(fmt.Sprintf("balance of %s at bank %s after: %s VND (was %s)", pii.MaskAccount(demoAccount), s.bank, after, s.balance))
	return nil
}
