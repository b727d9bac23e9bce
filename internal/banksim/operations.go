package banksim

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/signature"
)

// The gateway's requests (PROTOCOL §7). Every field is a string, so that the
// re-marshalled request is a canonical form to fingerprint.
type (
	verificationRequest struct {
		VerificationID string `json:"verification_id"`
		AccountNumber  string `json:"account_number"`
		HolderPID      string `json:"holder_pid"`
		HolderName     string `json:"holder_name"`
	}
	debitRequest struct {
		DebitID          string `json:"debit_id"`
		AccountNumber    string `json:"account_number"`
		HolderPID        string `json:"holder_pid"`
		Amount           string `json:"amount"`
		Currency         string `json:"currency"`
		Description      string `json:"description"`
		DescriptionASCII string `json:"description_ascii"`
		Reference        string `json:"reference"`
	}
	refundRequest struct {
		RefundID string `json:"refund_id"`
		DebitID  string `json:"debit_id"`
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	}
)

// answer is the bank's final answer, and its status GET body (where status
// may be pending).
type answer struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Amount        string `json:"amount,omitempty"`
	Currency      string `json:"currency,omitempty"`
	BankReference string `json:"bank_reference,omitempty"`
	ReasonCode    string `json:"reason_code,omitempty"`
	ReasonMessage string `json:"reason_message,omitempty"`
}

func toAnswer(op operation) answer {
	a := answer{ID: op.id, Status: op.status, ReasonCode: op.reasonCode}
	if op.kind.movesMoney() {
		a.Amount, a.Currency = money.Format(op.amount), op.currency
		a.BankReference, a.ReasonMessage = op.bankReference, op.reasonMessage
	}
	return a
}

// checker gathers field problems of one request.
type checker []fieldError

func (c *checker) required(field, v string) {
	if v == "" {
		*c = append(*c, fieldError{Field: field, Code: "required", Message: "is required"})
	}
}

func (c *checker) account(field, v string) string {
	n, err := pii.NormalizeAccount(v)
	switch {
	case v == "":
		c.required(field, v)
	case err != nil:
		*c = append(*c, fieldError{Field: field, Code: "invalid_account_number", Message: "must be 6 to 19 digits"})
	}
	return n
}

func (c *checker) money(amountField, amount, currencyField, currency string) decimal.Decimal {
	d, err := money.Parse(amount)
	if err != nil {
		*c = append(*c, fieldError{Field: amountField, Code: "invalid_amount", Message: err.Error()})
	}
	if currency != money.Currency {
		*c = append(*c, fieldError{Field: currencyField, Code: "invalid_currency", Message: "must be VND"})
	}
	return d
}

// refuse answers the field problems, if any, and reports whether it did.
func (c checker) refuse(w http.ResponseWriter) bool {
	if len(c) == 0 {
		return false
	}
	writeProblem(w, http.StatusUnprocessableEntity, "validation_failed", "Some fields are invalid.", c...)
	return true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "The body is not the expected JSON object.")
		return false
	}
	return true
}

func (s *Server) handleVerification(w http.ResponseWriter, r *http.Request) {
	var req verificationRequest
	if !decode(w, r, &req) {
		return
	}
	var c checker
	c.required("verification_id", req.VerificationID)
	acc := c.account("account_number", req.AccountNumber)
	c.required("holder_pid", req.HolderPID)
	if c.refuse(w) {
		return
	}
	// The holder's name is not compared: names are spelt too many ways.
	s.execute(w, r, &operation{kind: kindVerification, id: req.VerificationID, account: acc, holderPID: req.HolderPID}, req)
}

func (s *Server) handleDebit(w http.ResponseWriter, r *http.Request) {
	var req debitRequest
	if !decode(w, r, &req) {
		return
	}
	var c checker
	c.required("debit_id", req.DebitID)
	acc := c.account("account_number", req.AccountNumber)
	c.required("holder_pid", req.HolderPID)
	amount := c.money("amount", req.Amount, "currency", req.Currency)
	if c.refuse(w) {
		return
	}
	s.execute(w, r, &operation{
		kind: kindDebit, id: req.DebitID, account: acc, holderPID: req.HolderPID,
		amount: amount, currency: req.Currency,
	}, req)
}

func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request) {
	var req refundRequest
	if !decode(w, r, &req) {
		return
	}
	var c checker
	c.required("refund_id", req.RefundID)
	c.required("debit_id", req.DebitID)
	amount := c.money("amount", req.Amount, "currency", req.Currency)
	if c.refuse(w) {
		return
	}
	s.execute(w, r, &operation{kind: kindRefund, id: req.RefundID, debitID: req.DebitID, amount: amount, currency: req.Currency}, req)
}

// execute runs a checked request once per Idempotency-Key, forever, and
// answers it: 200 with the outcome once settled, 202 while pending. A repeat
// executes nothing and answers the operation as it stands: with Sync that is
// the original answer; after a 202 it is 202 again until settled, then the
// final 200.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, op *operation, req any) {
	k := knobsFrom(r.Context())
	switch key := r.Header.Get(signature.HeaderIdempotencyKey); key {
	case "":
		writeProblem(w, http.StatusBadRequest, "idempotency_key_missing", "Idempotency-Key is required.")
		return
	case op.id:
	default:
		writeProblem(w, http.StatusBadRequest, "idempotency_key_invalid", "Idempotency-Key must equal "+op.kind.idField()+".")
		return
	}
	canonical, err := json.Marshal(req)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "internal", "")
		return
	}
	op.fingerprint = sha256.Sum256(append([]byte(op.kind+"\n"), canonical...))

	got, replay, err := s.ledger.submit(op, k.Sync, k.Reject, s.now())
	if errors.Is(err, errKeyReused) {
		writeProblem(w, http.StatusUnprocessableEntity, "idempotency_key_reused", "This Idempotency-Key was used for another request.")
		return
	}
	if replay {
		s.stats.update(func(st *Stats) { st.Replays++ })
	} else {
		s.stats.update(func(st *Stats) { st.Received[string(op.kind)]++ })
		switch {
		case !k.Sync:
			s.settleLater(op.id, k, !k.NeverCallBack && s.takeDrop())
		case k.AlsoCallBackAfterSync && !k.NeverCallBack && !s.takeDrop():
			s.goAsync(func(ctx context.Context) {
				if sleep(ctx, k.CallbackDelay) {
					s.callBack(ctx, got, k)
				}
			})
		}
	}
	s.log.Debug("operation", "kind", got.kind, "id", got.id, "account", pii.MaskAccount(got.account),
		"status", got.status, "reason_code", got.reasonCode, "replay", replay)

	if roll(k.ExecuteThenFail) {
		s.stats.update(func(st *Stats) { st.AnswersLost++ })
		writeProblem(w, http.StatusInternalServerError, "simulated_failure", "The sandbox bank did it, then lost the answer.")
		return
	}
	if replay {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if got.status == statusPending {
		writeJSON(w, http.StatusAccepted, struct {
			Status string `json:"status"`
		}{statusPending})
		return
	}
	writeJSON(w, http.StatusOK, toAnswer(got))
}

// settleLater settles an accepted operation after CallbackDelay, then calls
// back unless NeverCallBack or drop.
func (s *Server) settleLater(id string, k Knobs, drop bool) {
	s.goAsync(func(ctx context.Context) {
		if !sleep(ctx, k.CallbackDelay) {
			return
		}
		op, ok := s.ledger.settle(id, k.Reject, s.now())
		if !ok || k.NeverCallBack || drop {
			return
		}
		s.callBack(ctx, op, k)
	})
}

func (s *Server) handleStatus(kind opKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op, ok := s.ledger.get(kind, r.PathValue("id"))
		if !ok {
			writeProblem(w, http.StatusNotFound, "not_found", "The bank never received it.")
			return
		}
		writeJSON(w, http.StatusOK, toAnswer(op))
	}
}
