package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/settlement"
	"github.com/citizenpay/gateway/internal/wire"
)

// reconcile runs one bank's business day now, as the gateway's job does
// (PROTOCOL.md §12):
//
//	reconcile --bank C --date YYYY-MM-DD
//
// It prints the result and exits 0 whenever the run read the statement,
// whatever it found; 1 when it could not (the result then says why).
func (e env) reconcile(args []string) error {
	fs := newFlags("reconcile")
	bank := fs.String("bank", "", "the bank's code")
	date := fs.String("date", "", "the business day, YYYY-MM-DD in Asia/Ho_Chi_Minh")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if *bank == "" {
		return fmt.Errorf("--bank: the bank's code is required")
	}
	day, err := reconcile.ParseDay(*date)
	if err != nil {
		return fmt.Errorf("--date: %v", err)
	}
	timeout := 5 * time.Minute
	if v := strings.TrimSpace(e.getenv("BANK_STATEMENT_TIMEOUT")); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			return fmt.Errorf("BANK_STATEMENT_TIMEOUT: must be a positive Go duration such as 5m")
		}
	}
	db, k, op, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	publicURL, err := op.RequirePublicURL()
	if err != nil {
		return err
	}
	svc, err := clearingService(db, k, publicURL)
	if err != nil {
		return err
	}
	svc.PublicURL = publicURL
	banks := &service.Banks{Store: postgres.NewBankStore(db, k)}
	rc := &service.Reconciler{Service: svc, Log: slog.New(slog.DiscardHandler),
		Statements: bankclient.New(banks, bankclient.Options{StatementTimeout: timeout}, nil)}
	run, err := rc.Reconcile(e.ctx, *bank, day)
	if err != nil {
		return err
	}
	if err := e.printJSON(wire.ToReconciliation(run.Result)); err != nil {
		return err
	}
	if run.Result.Status == reconcile.StatusUnavailable {
		return errExit
	}
	return nil
}

// settlements lets the operator read each portal's business days and
// record the transfer of a closed one to its agency:
//
//	settlements list [--portal ID] [--date D] [--status open|closed|settled] [--limit 100]
//	settlements show --id stl_…
//	settlements mark-settled --id stl_… --reference REF --by NAME
func (e env) settlements(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := newFlags("settlements " + args[0])
	portal := fs.String("portal", "", "only this portal's")
	date := fs.String("date", "", "only this business day, YYYY-MM-DD")
	status := fs.String("status", "", "open, closed or settled")
	limit := fs.Int("limit", 100, "at most this many, newest day first (1-1000)")
	stlID := fs.String("id", "", "settlement id (stl_…)")
	reference := fs.String("reference", "", "with mark-settled: the reference of the transfer to the agency")
	by := fs.String("by", "", "with mark-settled: who recorded the transfer")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &service.Service{DB: db}
	switch args[0] {
	case "list":
		f := postgres.SettlementFilter{PortalID: *portal, Limit: *limit}
		if *limit < 1 || *limit > 1000 {
			return fmt.Errorf("--limit: from 1 to 1000")
		}
		if *date != "" {
			if f.Day, err = reconcile.ParseDay(*date); err != nil {
				return fmt.Errorf("--date: %v", err)
			}
		}
		if *status != "" {
			if !settlement.ValidStatus(*status) {
				return fmt.Errorf("--status: open, closed or settled")
			}
			f.Status = settlement.Status(*status)
		}
		list, err := svc.ListSettlements(e.ctx, f)
		if err != nil {
			return err
		}
		out := make([]wire.Settlement, 0, len(list))
		for _, st := range list {
			out = append(out, wire.ToSettlement(st))
		}
		return e.printJSON(out)
	case "show", "mark-settled":
		if *stlID == "" {
			return fmt.Errorf("--id: a settlement id (stl_…) is required")
		}
	default:
		return errUsage
	}
	if args[0] == "show" {
		st, err := svc.Settlement(e.ctx, "", *stlID)
		if err != nil {
			return err
		}
		return e.printJSON(wire.ToSettlement(st))
	}
	st, err := svc.MarkSettled(e.ctx, *stlID, *reference, *by)
	if err != nil {
		return err
	}
	return e.printJSON(wire.ToSettlement(st))
}
