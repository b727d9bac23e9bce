package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/devenv"
	"github.com/citizenpay/gateway/internal/reconcile"
)

// The story's close of the day: the operator reconciles it against the
// bank's statement, and the portal reads what it is owed (PROTOCOL.md §12).

// reconciliation is the part of `gatewayctl reconcile`'s result the demo shows.
type reconciliation struct {
	ID          string  `json:"id"`
	BankCode    string  `json:"bank_code"`
	Date        string  `json:"date"`
	Status      string  `json:"status"`
	Lines       int     `json:"lines"`
	Matched     int     `json:"matched"`
	Applied     int     `json:"applied"`
	Differences int     `json:"differences"`
	DebitTotal  string  `json:"debit_total"`
	RefundTotal string  `json:"refund_total"`
	Reason      *string `json:"reason"`
}

// settlementView is the part of a settlement the demo shows.
type settlementView struct {
	ID          string `json:"id"`
	Date        string `json:"date"`
	Status      string `json:"status"`
	Count       int    `json:"count"`
	RefundCount int    `json:"refund_count"`
	Collected   string `json:"collected"`
	Refunded    string `json:"refunded"`
	Net         string `json:"net"`
	Currency    string `json:"currency"`
	Banks       []struct {
		BankCode  string `json:"bank_code"`
		Collected string `json:"collected"`
		Refunded  string `json:"refunded"`
		Net       string `json:"net"`
	} `json:"banks"`
}

// ctlEnv is the environment gatewayctl needs for the commands that open
// sealed values: the demo's own, with what `make run` gives the gateway
// when the demo's lacks it (the development master key from its file, the
// public URL).
func (s *story) ctlEnv() ([]string, error) {
	env := os.Environ()
	if os.Getenv("DATABASE_URL") == "" {
		return nil, errors.New("DATABASE_URL is not set: run the demo with `make demo`, which sets it as `make run` does")
	}
	if os.Getenv("GATEWAY_MASTER_KEY") == "" {
		key, err := os.ReadFile(devenv.MasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("GATEWAY_MASTER_KEY is not set and %s does not read (%w): give the demo the key `make run` uses", devenv.MasterKeyFile, err)
		}
		env = append(env, "GATEWAY_MASTER_KEY="+strings.TrimSpace(string(key)))
	}
	if os.Getenv("GATEWAY_ENV") == "" {
		env = append(env, "GATEWAY_ENV=development")
	}
	if os.Getenv("GATEWAY_PUBLIC_URL") == "" {
		env = append(env, "GATEWAY_PUBLIC_URL="+s.cfg.gateway)
	}
	return env, nil
}

// reconcileDay runs `gatewayctl reconcile` for the sandbox bank's today,
// which must come out matched: every line of the bank's statement is the
// gateway's, with the same amount.
func (s *story) reconcileDay(ctx context.Context) error {
	s.day = reconcile.DayOf(s.paidAt)
	s.title("The operator reconciles today with the bank's statement (`gatewayctl reconcile`)")
	env, err := s.ctlEnv()
	if err != nil {
		return err
	}
	args := []string{"reconcile", "--bank", s.bank, "--date", s.day.String()}
	s.sent("%s %s   (today in Asia/Ho_Chi_Minh; GET /v1/statements?date=%s at bank %s)",
		s.cfg.gatewayctl, strings.Join(args, " "), s.day, s.bank)
	cmd := exec.CommandContext(ctx, s.cfg.gatewayctl, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, &stderr, env
	runErr := cmd.Run()
	var rc reconciliation
	if err := json.Unmarshal(stdout.Bytes(), &rc); err != nil {
		return fmt.Errorf("gatewayctl reconcile: %v: %s", runErr, strings.TrimSpace(stderr.String()))
	}
	if rc.Status == "unavailable" {
		reason := "no reason given"
		if rc.Reason != nil {
			reason = *rc.Reason
		}
		s.got("%s: unavailable", rc.ID)
		return fmt.Errorf("bank %s's statement of %s could not be read: %s", s.bank, s.day, reason)
	}
	s.got("%s: %s, %d lines, %d matched, %d applied, %d differences (debits %s, refunds %s VND)",
		rc.ID, rc.Status, rc.Lines, rc.Matched, rc.Applied, rc.Differences, rc.DebitTotal, rc.RefundTotal)
	switch {
	case rc.Status != "matched":
		return fmt.Errorf("the day is not matched but %s: %d differences wait for the operator (`gatewayctl incidents list`)",
			rc.Status, rc.Differences)
	case runErr != nil:
		return fmt.Errorf("gatewayctl reconcile: %v: %s", runErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// settlement reads, as the portal, what today's settlement says it is
// owed and its lines as CSV; the figures must hold exactly what the demo
// paid and refunded today (with what earlier runs of the day did).
func (s *story) settlement(ctx context.Context) error {
	s.title("The portal reads today's settlement and its lines")
	s.sent("GET /v1/settlements?date=%s, signed by portal key %s", s.day, s.c.portal.KeyID)
	var list struct{ Data []settlementView }
	r, err := s.c.asPortal(ctx, http.MethodGet, "/v1/settlements?date="+s.day.String(), "", nil)
	if err := expect(r, err, http.StatusOK, &list); err != nil {
		return err
	}
	if len(list.Data) != 1 {
		return fmt.Errorf("%d settlements of %s, expected the portal's one", len(list.Data), s.day)
	}
	st := list.Data[0]
	s.got("200: %s of %s, %s: %d debits collected %s, %d refunds %s, net %s %s",
		st.ID, st.Date, st.Status, st.Count, st.Collected, st.RefundCount, st.Refunded, st.Net, st.Currency)
	for _, b := range st.Banks {
		s.say(fmt.Sprintf("bank %s: collected %s, refunded %s, net %s", b.BankCode, b.Collected, b.Refunded, b.Net))
	}
	if st.Status == "open" {
		s.say("open: the day has not ended; it closes after the next reconciliation past midnight (RECONCILE_AT, 02:00 by default)")
	}

	target := "/v1/settlements/" + st.ID + "/lines"
	s.sent("GET %s, Accept: text/csv", target)
	r, err = s.c.asPortalWith(ctx, http.MethodGet, target, http.Header{"Accept": {"text/csv"}})
	if err := expect(r, err, http.StatusOK, nil); err != nil {
		return err
	}
	recs, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("the lines are not a CSV (%v): %.200s", err, r.Body)
	}
	s.got("200 text/csv: %d lines", len(recs)-1)
	rows := strings.Split(strings.TrimRight(string(r.Body), "\r\n"), "\n")
	for i, row := range rows {
		if i == 6 {
			s.say(fmt.Sprintf("… and %d more", len(rows)-i))
			break
		}
		s.say(strings.TrimRight(row, "\r"))
	}
	return s.checkFigures(st, recs)
}

// checkFigures checks the settlement against what the demo did: this run's
// debit and refund are among its lines with their amounts, and its totals
// are those of its lines — this run's alone on a fresh stack, plus those of
// earlier runs of the same day.
func (s *story) checkFigures(st settlementView, recs [][]string) error {
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	for _, name := range []string{"type", "id", "amount"} {
		if _, ok := col[name]; !ok {
			return fmt.Errorf("the lines' CSV has no %s column: %v", name, recs[0])
		}
	}
	paid, refunded := decimal.RequireFromString(s.paidAmount), decimal.RequireFromString(s.refundAmount)
	earlierDebits, earlierRefunds := decimal.Zero, decimal.Zero
	var others int
	seenDebit, seenRefund := false, false
	for _, rec := range recs[1:] {
		amount, err := decimal.NewFromString(rec[col["amount"]])
		if err != nil {
			return fmt.Errorf("line %v: amount %q", rec, rec[col["amount"]])
		}
		typ, id := rec[col["type"]], rec[col["id"]]
		switch {
		case typ == "debit" && id == s.debit:
			if !amount.Equal(paid) {
				return fmt.Errorf("the settlement books debit %s at %s, the demo paid %s", id, amount, paid)
			}
			seenDebit = true
		case typ == "refund" && id == s.refund:
			if !amount.Equal(refunded) {
				return fmt.Errorf("the settlement books refund %s at %s, the demo refunded %s", id, amount, refunded)
			}
			seenRefund = true
		case typ == "debit":
			earlierDebits, others = earlierDebits.Add(amount), others+1
		case typ == "refund":
			earlierRefunds, others = earlierRefunds.Add(amount), others+1
		}
	}
	if !seenDebit || !seenRefund {
		return fmt.Errorf("the settlement's lines lack the demo's debit %s (%t) or refund %s (%t)", s.debit, seenDebit, s.refund, seenRefund)
	}
	wantCollected, wantRefunded := paid.Add(earlierDebits), refunded.Add(earlierRefunds)
	collected, err1 := decimal.NewFromString(st.Collected)
	gotRefunded, err2 := decimal.NewFromString(st.Refunded)
	if err1 != nil || err2 != nil || !collected.Equal(wantCollected) || !gotRefunded.Equal(wantRefunded) {
		return fmt.Errorf("the settlement says collected %s and refunded %s; the demo paid %s and refunded %s (earlier today: %s and %s)",
			st.Collected, st.Refunded, paid, refunded, earlierDebits, earlierRefunds)
	}
	if others == 0 {
		s.say(fmt.Sprintf("exactly what the demo did: collected %s (its debit %s), refunded %s (its refund %s)", paid, s.debit, refunded, s.refund))
	} else {
		s.say(fmt.Sprintf("the demo's debit %s (%s) and refund %s (%s) are in it, with %d lines of earlier runs today (%s collected, %s refunded)",
			s.debit, paid, s.refund, refunded, others, earlierDebits, earlierRefunds))
	}
	return nil
}
