package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/jobs"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/wire"
)

// Incident statuses and the operator's resolutions.
const (
	incidentOpen     = "open"
	incidentResolved = "resolved"

	actionNote      = "note"
	actionApplyPaid = "apply-paid"
	actionRefund    = "refund"
)

// maxIncidentNote bounds the operator's note; with --action refund it is
// also the refund's reason, which the portal API bounds the same way.
const maxIncidentNote = 500

// incidents lets the operator read and close what the gateway would not
// decide alone (DOMAIN.md, "Incident"):
//
//	incidents list [--status open|resolved|all] [--limit 100]
//	incidents show --id inc_…
//	incidents resolve --id inc_… --action note|apply-paid|refund --note "…" [--bank-reference R]
//
// A resolution and the change it makes are one transaction, taken under the
// incident's row lock: an incident is resolved once, and a second attempt is
// refused without changing anything.
func (e env) incidents(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := newFlags("incidents " + args[0])
	status := fs.String("status", incidentOpen, "open, resolved or all")
	limit := fs.Int("limit", 100, "at most this many, newest first (1-1000)")
	incID := fs.String("id", "", "incident id (inc_…)")
	action := fs.String("action", "", "note, apply-paid or refund")
	note := fs.String("note", "", "why: kept as the resolution (and the refund's reason)")
	bankRef := fs.String("bank-reference", "", "with apply-paid: the bank's reference of the debit")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	switch args[0] {
	case "list":
		if *status != incidentOpen && *status != incidentResolved && *status != "all" {
			return fmt.Errorf("--status: open, resolved or all")
		}
		if *limit < 1 || *limit > 1000 {
			return fmt.Errorf("--limit: between 1 and 1000")
		}
		pool, _, _, err := e.open(false)
		if err != nil {
			return err
		}
		defer pool.Close()
		list, err := postgres.ListIncidents(e.ctx, pool, *status, *limit)
		if err != nil {
			return err
		}
		out := make([]incidentJSON, 0, len(list))
		for _, in := range list {
			out = append(out, toIncidentJSON(in, false))
		}
		return e.printJSON(out)
	case "show":
		if !id.HasPrefix(*incID, id.Incident) {
			return fmt.Errorf("--id: an incident id (inc_…) is required")
		}
		pool, _, _, err := e.open(false)
		if err != nil {
			return err
		}
		defer pool.Close()
		in, err := postgres.GetIncident(e.ctx, pool, *incID, false)
		if err != nil {
			return err
		}
		return e.printJSON(toIncidentJSON(in, true))
	case "resolve":
		r := resolution{IncidentID: *incID, Action: *action, Note: strings.TrimSpace(*note), BankReference: strings.TrimSpace(*bankRef)}
		if err := r.check(); err != nil {
			return err
		}
		pool, k, _, err := e.open(true)
		if err != nil {
			return err
		}
		defer pool.Close()
		svc, err := clearingService(pool, k)
		if err != nil {
			return err
		}
		out, err := r.apply(e.ctx, pool, svc)
		if err != nil {
			return err
		}
		return e.printJSON(out)
	}
	return errUsage
}

// incidentJSON is how gatewayctl prints an incident.
type incidentJSON struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	BankCode   string          `json:"bank_code,omitempty"`
	ObjectID   string          `json:"object_id,omitempty"`
	Summary    string          `json:"summary"`
	Evidence   json.RawMessage `json:"evidence,omitempty"`
	Resolution *string         `json:"resolution"`
	CreatedAt  time.Time       `json:"created_at"`
	ResolvedAt *time.Time      `json:"resolved_at"`
}

func toIncidentJSON(in *postgres.Incident, withEvidence bool) incidentJSON {
	out := incidentJSON{ID: in.ID, Kind: in.Kind, Status: in.Status, BankCode: in.BankCode, ObjectID: in.ObjectID,
		Summary: in.Summary, CreatedAt: in.CreatedAt.UTC()}
	if withEvidence {
		out.Evidence = in.Evidence
	}
	if in.Status == incidentResolved {
		res := in.Resolution
		out.Resolution = &res
	}
	if in.ResolvedAt != nil {
		t := in.ResolvedAt.UTC()
		out.ResolvedAt = &t
	}
	return out
}

// clearingService builds the service as the gateway wires it for clearing:
// its events are written due for the gateway's webhook dispatcher, and a
// refund queues the job that sends it to the bank, each in the transaction
// that makes it. The
// River client only inserts jobs: the gateway's workers run them.
func clearingService(pool *pgxpool.Pool, k *keyring.Keyring) (*service.Service, error) {
	protector := pii.NewProtector(k)
	svc := &service.Service{Pool: pool, PII: protector}
	banks := &service.Banks{Store: postgres.NewBankStore(pool, k)}
	bankClients := bankclient.New(banks, bankclient.Options{}, nil)
	client, err := jobs.NewClient(jobs.Config{
		Pool: pool, Service: svc, Log: slog.New(slog.DiscardHandler), Work: false,
		Portals: postgres.NewPortalStore(pool, k), BankClients: bankClients, PII: protector,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	svc.Enqueue = jobs.Enqueue(client)
	return svc, nil
}

// resolution is what the operator decided about one incident.
type resolution struct {
	IncidentID    string
	Action        string
	Note          string
	BankReference string
}

func (r resolution) check() error {
	if !id.HasPrefix(r.IncidentID, id.Incident) {
		return fmt.Errorf("--id: an incident id (inc_…) is required")
	}
	switch r.Action {
	case actionNote, actionRefund:
		if r.BankReference != "" {
			return fmt.Errorf("--bank-reference goes with --action apply-paid only")
		}
	case actionApplyPaid:
		if r.BankReference == "" {
			return fmt.Errorf("--action apply-paid needs --bank-reference: the bank's reference of the debit")
		}
		if utf8.RuneCountInString(r.BankReference) > 128 {
			return fmt.Errorf("--bank-reference: at most 128 characters")
		}
	case "":
		return fmt.Errorf("--action: note, apply-paid or refund")
	default:
		return fmt.Errorf("--action %q: note, apply-paid or refund", r.Action)
	}
	if r.Note == "" {
		return fmt.Errorf("--note: say why (it is kept with the incident)")
	}
	if utf8.RuneCountInString(r.Note) > maxIncidentNote {
		return fmt.Errorf("--note: at most %d characters", maxIncidentNote)
	}
	return nil
}

// resolved is what `incidents resolve` prints.
type resolved struct {
	Incident       incidentJSON         `json:"incident"`
	Action         string               `json:"action"`
	Result         string               `json:"result,omitempty"`
	PaymentRequest *wire.PaymentRequest `json:"payment_request,omitempty"`
	Refund         *wire.Refund         `json:"refund,omitempty"`
}

// apply carries out the resolution and closes the incident in one
// transaction; a refused action leaves the incident open.
func (r resolution) apply(ctx context.Context, pool *pgxpool.Pool, svc *service.Service) (*resolved, error) {
	var out *resolved
	err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		in, err := postgres.GetIncident(ctx, tx, r.IncidentID, true)
		if err != nil {
			return err
		}
		if in.Status != incidentOpen {
			at := ""
			if in.ResolvedAt != nil {
				at = " at " + in.ResolvedAt.UTC().Format(time.RFC3339)
			}
			return fmt.Errorf("incident %s is already resolved%s (%s): nothing changed", in.ID, at, in.Resolution)
		}
		out = &resolved{Action: r.Action}
		text := "note: " + r.Note
		switch r.Action {
		case actionApplyPaid:
			req, err := r.applyPaid(ctx, tx, svc, in)
			if err != nil {
				return err
			}
			w := wire.ToPaymentRequest(req)
			out.PaymentRequest, out.Result = &w, string(service.ResultApplied)
			text = fmt.Sprintf("apply-paid: debit %s applied as succeeded, bank reference %s: %s",
				in.ObjectID, r.BankReference, r.Note)
		case actionRefund:
			rf, req, err := r.refund(ctx, tx, svc, in)
			if err != nil {
				return err
			}
			w, wr := wire.ToPaymentRequest(req), wire.ToRefund(rf)
			out.PaymentRequest, out.Refund = &w, &wr
			text = fmt.Sprintf("refund: %s of %s %s for %s: %s", rf.ID, money.Format(rf.Amount), rf.Currency, req.ID, r.Note)
		}
		if err := postgres.ResolveIncident(ctx, tx, in, text); err != nil {
			return err
		}
		out.Incident = toIncidentJSON(in, false)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", r.IncidentID, err)
	}
	return out, nil
}

// applyPaid applies the incident's debit as succeeded, with the amount and
// currency that were sent and the bank reference the operator gives,
// through the path a bank's success takes: the attempt, the request, the
// ledger posting and the payment_request.paid event together, once.
func (r resolution) applyPaid(ctx context.Context, tx pgx.Tx, svc *service.Service, in *postgres.Incident) (*payment.Request, error) {
	if !id.HasPrefix(in.ObjectID, id.PaymentAttempt) {
		return nil, fmt.Errorf("--action apply-paid: incident %s names no debit (pa_…) but %q", in.ID, in.ObjectID)
	}
	a, err := postgres.GetAttempt(ctx, tx, in.ObjectID, false)
	if err != nil {
		return nil, err
	}
	if in.BankCode != "" && in.BankCode != a.BankCode {
		return nil, fmt.Errorf("--action apply-paid: incident %s came from bank %s, but debit %s was sent to bank %s",
			in.ID, in.BankCode, a.ID, a.BankCode)
	}
	o := payment.BankOutcome{Succeeded: true, Amount: a.Amount, Currency: a.Currency, BankReference: r.BankReference}
	res, err := svc.ApplyDebitOutcome(ctx, tx, a.BankCode, a.ID, o)
	if err != nil {
		return nil, fmt.Errorf("apply debit %s as succeeded: %w", a.ID, err)
	}
	if res != service.ResultApplied {
		return nil, fmt.Errorf("debit %s is already applied as succeeded: nothing to apply (use --action note)", a.ID)
	}
	// Read under the lock ApplyDebitOutcome holds: as it stands after the change.
	return postgres.LockPaymentRequestUnscoped(ctx, tx, a.RequestID)
}

// refund asks the bank for everything still refundable of the request the
// incident names, through the portal's refund path (which queues the send).
// A debit other than the one that paid the request is refused: a refund can
// only return the request's own payment, and refunding that would mark a
// paid fee refunded.
func (r resolution) refund(ctx context.Context, tx pgx.Tx, svc *service.Service, in *postgres.Incident) (*payment.Refund, *payment.Request, error) {
	reqID, attemptID := "", ""
	switch {
	case id.HasPrefix(in.ObjectID, id.PaymentRequest):
		reqID = in.ObjectID
	case id.HasPrefix(in.ObjectID, id.PaymentAttempt):
		a, err := postgres.GetAttempt(ctx, tx, in.ObjectID, false)
		if err != nil {
			return nil, nil, err
		}
		reqID, attemptID = a.RequestID, a.ID
	case id.HasPrefix(in.ObjectID, id.Refund):
		rf, err := postgres.GetRefund(ctx, tx, in.ObjectID, false)
		if err != nil {
			return nil, nil, err
		}
		reqID = rf.RequestID
	default:
		return nil, nil, fmt.Errorf("--action refund: incident %s names no payment request, debit or refund but %q", in.ID, in.ObjectID)
	}
	// The request's lock first, as every payment change takes it; CreateRefund
	// takes it again in this transaction.
	req, err := postgres.LockPaymentRequestUnscoped(ctx, tx, reqID)
	if err != nil {
		return nil, nil, err
	}
	if attemptID != "" && (req.Payment == nil || req.Payment.AttemptID != attemptID) {
		paidBy := "is not paid"
		if req.Payment != nil {
			paidBy = "was paid by debit " + req.Payment.AttemptID
		}
		return nil, nil, fmt.Errorf("--action refund: request %s %s, not by %s; a refund returns the request's own payment "+
			"(return that debit's money at the bank, then --action note)", req.ID, paidBy, attemptID)
	}
	if req.Status != payment.StatusPaid && req.Status != payment.StatusPartiallyRefunded {
		return nil, nil, fmt.Errorf("--action refund: request %s is %s: only a paid request can be refunded", req.ID, req.Status)
	}
	reserved, err := postgres.ReservedRefunds(ctx, tx, req.ID)
	if err != nil {
		return nil, nil, err
	}
	amount := req.Refundable(reserved)
	if !amount.IsPositive() {
		return nil, nil, fmt.Errorf("--action refund: request %s has nothing left to refund (refunds pending or done cover it)", req.ID)
	}
	rf, err := svc.CreateRefund(ctx, tx, req.PortalID, req.ID, amount, r.Note)
	if err != nil {
		return nil, nil, fmt.Errorf("refund %s: %w", req.ID, err)
	}
	return rf, req, nil
}
