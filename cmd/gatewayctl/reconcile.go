package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/fault"
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
// Flags are checked before anything is opened, and a refusal names the
// flag or the bank.
func (e env) reconcile(args []string) error {
	fs := newFlags("reconcile")
	bank := fs.String("bank", "", "the bank's code")
	date := fs.String("date", "", "the business day, YYYY-MM-DD in Asia/Ho_Chi_Minh")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if *bank == "" {
		return errors.New("--bank: the bank's code is required")
	}
	day, err := parseDate(*date, true)
	if err != nil {
		return err
	}
	timeout := 5 * time.Minute
	if v := strings.TrimSpace(e.getenv("BANK_STATEMENT_TIMEOUT")); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			return errors.New("BANK_STATEMENT_TIMEOUT: must be a positive Go duration such as 5m")
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
	switch {
	case fault.Is(err, fault.NotFound):
		return fmt.Errorf("--bank: %w", err)
	case fault.Is(err, fault.ValidationFailed):
		return fmt.Errorf("--date: %w", err)
	case err != nil:
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

// parseDate reads a --date flag; "" is refused when required.
func parseDate(s string, required bool) (reconcile.Day, error) {
	if s == "" && required {
		return reconcile.Day{}, errors.New("--date: the business day (YYYY-MM-DD, Asia/Ho_Chi_Minh) is required")
	}
	day, err := reconcile.ParseDay(s)
	if err != nil {
		return reconcile.Day{}, fmt.Errorf("--date: %v", err)
	}
	return day, nil
}

// settlements lets the operator read each portal's business days and
// record the transfer of a closed one to its agency:
//
//	settlements list [--portal ID] [--date YYYY-MM-DD] [--status open|closed|settled] [--limit 100]
//	settlements show --id stl_…
//	settlements mark-settled --id stl_… --reference REF --by NAME
//
// Each subcommand takes only its own flags, all checked before the
// database is opened.
func (e env) settlements(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := newFlags("settlements " + args[0])
	var list func(*service.Service) error
	var stlID, reference, by *string
	switch args[0] {
	case "list":
		portal := fs.String("portal", "", "only this portal's")
		date := fs.String("date", "", "only this business day, YYYY-MM-DD")
		status := fs.String("status", "", "open, closed or settled")
		limit := fs.Int("limit", 100, "at most this many, newest day first (1-1000)")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
			return errUsage
		}
		f := postgres.SettlementFilter{PortalID: *portal, Limit: *limit}
		if *limit < 1 || *limit > 1000 {
			return errors.New("--limit: from 1 to 1000")
		}
		if *date != "" {
			day, err := parseDate(*date, false)
			if err != nil {
				return err
			}
			f.Day = day
		}
		if *status != "" {
			if !settlement.ValidStatus(*status) {
				return errors.New("--status: open, closed or settled")
			}
			f.Status = settlement.Status(*status)
		}
		list = func(svc *service.Service) error {
			got, err := svc.ListSettlements(e.ctx, f)
			if err != nil {
				return err
			}
			out := make([]wire.Settlement, 0, len(got))
			for _, st := range got {
				out = append(out, wire.ToSettlement(st))
			}
			return e.printJSON(out)
		}
	case "show", "mark-settled":
		stlID = fs.String("id", "", "settlement id (stl_…)")
		if args[0] == "mark-settled" {
			reference = fs.String("reference", "", "the reference of the transfer to the agency")
			by = fs.String("by", "", "who recorded the transfer")
		}
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
			return errUsage
		}
		if *stlID == "" {
			return errors.New("--id: a settlement id (stl_…) is required")
		}
		if reference != nil && strings.TrimSpace(*reference) == "" {
			return errors.New("--reference: the reference of the transfer to the agency is required")
		}
		if by != nil && strings.TrimSpace(*by) == "" {
			return errors.New("--by: say who recorded the transfer")
		}
	default:
		return errUsage
	}
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &service.Service{DB: db}
	if list != nil {
		return list(svc)
	}
	var st *settlement.Settlement
	if reference == nil {
		st, err = svc.Settlement(e.ctx, "", *stlID)
	} else {
		st, err = svc.MarkSettled(e.ctx, *stlID, *reference, *by)
	}
	if err != nil {
		return err
	}
	return e.printJSON(wire.ToSettlement(st))
}
