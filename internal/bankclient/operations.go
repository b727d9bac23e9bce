package bankclient

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/wire"
)

// Verification asks the bank to confirm that an account's holder is a
// person. It carries personal data: never log it.
type Verification struct {
	VerificationID string
	AccountNumber  string
	HolderPID      string
	HolderName     string
}

// Debit asks the bank to take an amount from an account. It carries
// personal data: never log it.
type Debit struct {
	DebitID       string
	AccountNumber string
	HolderPID     string
	Amount        decimal.Decimal
	Currency      string
	Description   string
	// DescriptionASCII is Description for cores that need ASCII; empty means
	// ASCII(Description).
	DescriptionASCII string
	Reference        string // the dossier code
}

// Refund asks the bank to give back part or all of a debit.
type Refund struct {
	RefundID string
	DebitID  string
	Amount   decimal.Decimal
	Currency string
}

// StatementLine is one booking of a bank's daily statement.
type StatementLine struct {
	BankReference string
	Type          string // debit or refund
	ID            string // the gateway's debit or refund id
	Amount        decimal.Decimal
	Currency      string
	Status        string // succeeded or reversed
	BookedAt      time.Time
}

// Statement is a bank's statement of one business day: Outcome Succeeded
// with its lines, or Unknown with the reason in Err.
type Statement struct {
	Result
	Lines []StatementLine
}

// Operation names, the operation label of the metrics.
const (
	OpVerifyAccount = "verify_account"
	OpDebit         = "debit"
	OpRefund        = "refund"
	OpGetDebit      = "get_debit"
	OpGetRefund     = "get_refund"
	OpStatement     = "statement"
)

// VerifyAccount sends POST {base}/v1/account-verifications with the
// verification id as Idempotency-Key.
func (c *Client) VerifyAccount(ctx context.Context, v Verification) Result {
	body, _ := json.Marshal(map[string]string{
		"verification_id": v.VerificationID, "account_number": v.AccountNumber,
		"holder_pid": v.HolderPID, "holder_name": v.HolderName,
	})
	return c.call(ctx, OpVerifyAccount, http.MethodPost, "/v1/account-verifications", v.VerificationID, body,
		decodeAnswer(v.VerificationID, false))
}

// Debit sends POST {base}/v1/debits with the debit id as Idempotency-Key.
func (c *Client) Debit(ctx context.Context, d Debit) Result {
	ascii := d.DescriptionASCII
	if ascii == "" {
		ascii = ASCII(d.Description)
	}
	body, _ := json.Marshal(map[string]string{
		"debit_id": d.DebitID, "account_number": d.AccountNumber, "holder_pid": d.HolderPID,
		"amount": money.Format(d.Amount), "currency": d.Currency, "description": d.Description,
		"description_ascii": ascii, "reference": d.Reference,
	})
	return c.call(ctx, OpDebit, http.MethodPost, "/v1/debits", d.DebitID, body, decodeAnswer(d.DebitID, false))
}

// Refund sends POST {base}/v1/refunds with the refund id as Idempotency-Key.
func (c *Client) Refund(ctx context.Context, r Refund) Result {
	body, _ := json.Marshal(map[string]string{
		"refund_id": r.RefundID, "debit_id": r.DebitID, "amount": money.Format(r.Amount), "currency": r.Currency,
	})
	return c.call(ctx, OpRefund, http.MethodPost, "/v1/refunds", r.RefundID, body, decodeAnswer(r.RefundID, false))
}

// GetDebit asks GET {base}/v1/debits/{id}. A 404 means the bank never
// received it: NotFound is set and the debit must be re-sent with its key.
func (c *Client) GetDebit(ctx context.Context, debitID string) Result {
	return c.call(ctx, OpGetDebit, http.MethodGet, "/v1/debits/"+url.PathEscape(debitID), "", nil, decodeAnswer(debitID, true))
}

// GetRefund asks GET {base}/v1/refunds/{id}, as GetDebit does.
func (c *Client) GetRefund(ctx context.Context, refundID string) Result {
	return c.call(ctx, OpGetRefund, http.MethodGet, "/v1/refunds/"+url.PathEscape(refundID), "", nil, decodeAnswer(refundID, true))
}

// Statement fetches GET {base}/v1/statements?date=YYYY-MM-DD, the bookings of
// that business day in Asia/Ho_Chi_Minh, as a CSV held whole in memory (up
// to 64 MiB). It goes through FetchStatement, so it has the statement's
// timeout and stays outside the circuit breaker; a day that is not ready is
// Unknown with a *NotReadyError (NotFound set on a 404). Reconciliation reads
// large days with FetchStatement and package statement instead.
func (c *Client) Statement(ctx context.Context, date string) Statement {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return Statement{Result: Result{Err: fmt.Errorf("statement date %q is not YYYY-MM-DD", date)}}
	}
	var body bytes.Buffer
	_, err := c.FetchStatement(ctx, date, &capWriter{w: &body, left: maxStatementBytes})
	res := Result{Attempts: 1}
	var nr *NotReadyError
	switch {
	case errors.As(err, &nr):
		res.Status, res.NotFound, res.Err = nr.Status, nr.Status == http.StatusNotFound, err
		return Statement{Result: res}
	case err != nil:
		res.Err = err
		return Statement{Result: res}
	}
	res.Status = http.StatusOK
	lines, err := parseStatement(body.Bytes())
	if err != nil {
		res.Err = fmt.Errorf("bank %s GET /v1/statements?date=%s: %w", c.code, date, err)
		return Statement{Result: res}
	}
	res.Outcome = Succeeded
	return Statement{Result: res, Lines: lines}
}

// capWriter refuses to write past left bytes.
type capWriter struct {
	w    io.Writer
	left int
}

func (c *capWriter) Write(p []byte) (int, error) {
	if len(p) > c.left {
		return 0, fmt.Errorf("the statement is over %d bytes", maxStatementBytes)
	}
	c.left -= len(p)
	return c.w.Write(p)
}

// answer is a bank's final answer or status body.
type answer struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	BankReference string `json:"bank_reference"`
	ReasonCode    string `json:"reason_code"`
	ReasonMessage string `json:"reason_message"`
}

// decodeAnswer reads a POST's answer, or with status a status GET's.
func decodeAnswer(id string, status bool) func(reply) Result {
	return func(rep reply) Result {
		switch {
		case rep.status == http.StatusAccepted && !status:
			return Result{Outcome: Pending}
		case rep.status == http.StatusNotFound && status:
			return Result{NotFound: true, Err: ErrNotReceived}
		case rep.status != http.StatusOK:
			return Result{Err: fmt.Errorf("bank answered %d", rep.status)}
		}
		var a answer
		if err := json.Unmarshal(rep.body, &a); err != nil {
			return Result{Err: errors.New("the answer is not the expected JSON")}
		}
		if a.ID != id {
			return Result{Err: errors.New("the answer names another id")}
		}
		r := Result{ID: a.ID, Currency: a.Currency, BankReference: a.BankReference, ReasonCode: a.ReasonCode,
			ReasonMessage: a.ReasonMessage}
		if a.Amount != "" {
			amt, err := money.Parse(a.Amount)
			if err != nil {
				return Result{Err: errors.New("the answer's amount is not an amount")}
			}
			r.Amount = amt
		}
		switch a.Status {
		case "succeeded":
			r.Outcome = Succeeded
		case "failed":
			r.Outcome = Failed
		case "pending":
			r.Outcome = Pending
		default:
			return Result{Err: errors.New("the answer has no known status")}
		}
		return r
	}
}

var statementHeader = []string{"bank_reference", "type", "id", "amount", "currency", "status", "booked_at"}

func parseStatement(body []byte) ([]StatementLine, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = len(statementHeader)
	head, err := r.Read()
	if err != nil || !slices.Equal(head, statementHeader) {
		return nil, errors.New("the statement does not start with its header row")
	}
	lines := []StatementLine{}
	for n := 2; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("statement row %d: %w", n, err)
		}
		l := StatementLine{BankReference: rec[0], Type: rec[1], ID: rec[2], Currency: rec[4], Status: rec[5]}
		if l.Amount, err = money.Parse(rec[3]); err != nil {
			return nil, fmt.Errorf("statement row %d: bad amount", n)
		}
		if l.BookedAt, err = wire.ParseTime(rec[6]); err != nil {
			return nil, fmt.Errorf("statement row %d: bad booked_at", n)
		}
		if (l.Type != "debit" && l.Type != "refund") || (l.Status != "succeeded" && l.Status != "reversed") {
			return nil, fmt.Errorf("statement row %d: unknown type or status", n)
		}
		lines = append(lines, l)
	}
}

// ASCII drops diacritics for banks whose cores need ASCII:
// "Lệ phí đăng ký" → "Le phi dang ky". Đ/đ become D/d; anything else outside
// printable ASCII becomes "?".
func ASCII(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	b := []rune(out)
	for i, r := range b {
		switch {
		case r == 'đ':
			b[i] = 'd'
		case r == 'Đ':
			b[i] = 'D'
		case r < 0x20 || r > 0x7e:
			b[i] = '?'
		}
	}
	return string(b)
}
