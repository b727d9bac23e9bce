package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/jobs"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/wire"
)

// incidents lets the operator read and close what the gateway would not
// decide alone (DOMAIN.md, "Incident"):
//
//	incidents list [--status open|resolved|all] [--limit 100]
//	incidents show --id inc_…
//	incidents resolve --id inc_… --action note|apply-paid|refund --note "…" [--bank-reference R] --by NAME
//
// The rules are the service's (service.Service.ResolveIncident, and which
// actions fit which kinds in package incident); this only reads flags and
// prints what it did.
func (e env) incidents(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := newFlags("incidents " + args[0])
	status := fs.String("status", string(incident.StatusOpen), "open, resolved or all")
	limit := fs.Int("limit", 100, "at most this many, newest first (1-1000)")
	incID := fs.String("id", "", "incident id (inc_…)")
	action := fs.String("action", "", "note, apply-paid or refund")
	note := fs.String("note", "", "why: kept with the incident (never shown to the portal)")
	bankRef := fs.String("bank-reference", "", "with apply-paid: the bank's reference of the debit")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	if args[0] != "list" && *incID == "" {
		return fmt.Errorf("--id: an incident id (inc_…) is required")
	}
	switch args[0] {
	case "list":
		st := incident.Status(*status)
		if *status == "all" {
			st = ""
		} else if !incident.ValidStatus(*status) {
			return fmt.Errorf("--status: open, resolved or all")
		}
		db, _, _, err := e.open(false)
		if err != nil {
			return err
		}
		defer db.Close()
		list, err := (&service.Service{DB: db}).ListIncidents(e.ctx, st, *limit)
		if err != nil {
			return err
		}
		out := make([]incidentJSON, 0, len(list))
		for _, in := range list {
			out = append(out, toIncidentJSON(in, false))
		}
		return e.printJSON(out)
	case "show":
		db, _, _, err := e.open(false)
		if err != nil {
			return err
		}
		defer db.Close()
		in, err := (&service.Service{DB: db}).GetIncident(e.ctx, *incID)
		if err != nil {
			return err
		}
		return e.printJSON(toIncidentJSON(in, true))
	case "resolve":
		r := incident.Resolution{Action: incident.Action(*action), Note: strings.TrimSpace(*note), BankReference: strings.TrimSpace(*bankRef)}
		if err := r.Validate(); err != nil {
			return err
		}
		// The resolution names its operator until the audit log does
		// (PROTOCOL.md §13).
		if r.Note += " — by " + e.by; utf8.RuneCountInString(r.Note) > incident.MaxNote {
			return fmt.Errorf("--note: at most %d characters with \" — by %s\" appended",
				incident.MaxNote-utf8.RuneCountInString(" — by "+e.by), e.by)
		}
		db, k, op, err := e.open(true)
		if err != nil {
			return err
		}
		defer db.Close()
		// The request's snapshots name its checkout page, as the gateway's do.
		publicURL, err := op.RequirePublicURL()
		if err != nil {
			return err
		}
		svc, err := clearingService(db, k, publicURL)
		if err != nil {
			return err
		}
		svc.PublicURL = publicURL
		res, err := svc.ResolveIncident(e.ctx, *incID, r)
		if err != nil {
			return err
		}
		return e.printJSON(toResolved(r.Action, res, publicURL))
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

func toIncidentJSON(in *incident.Incident, withEvidence bool) incidentJSON {
	out := incidentJSON{ID: in.ID(), Kind: string(in.Kind()), Status: string(in.Status()), BankCode: in.BankCode(),
		ObjectID: in.ObjectID(), Summary: in.Summary(), CreatedAt: in.CreatedAt().UTC()}
	if withEvidence {
		out.Evidence = in.Evidence()
	}
	if !in.Open() {
		res := in.Resolution()
		out.Resolution = &res
	}
	if at := in.ResolvedAt(); at != nil {
		t := at.UTC()
		out.ResolvedAt = &t
	}
	return out
}

// resolved is what `incidents resolve` prints.
type resolved struct {
	Incident       incidentJSON         `json:"incident"`
	Action         string               `json:"action"`
	Result         string               `json:"result,omitempty"`
	PaymentRequest *wire.PaymentRequest `json:"payment_request,omitempty"`
	Refund         *wire.Refund         `json:"refund,omitempty"`
}

func toResolved(a incident.Action, res *service.IncidentResult, publicURL string) resolved {
	out := resolved{Incident: toIncidentJSON(res.Incident, false), Action: string(a), Result: string(res.Applied)}
	if res.Request != nil {
		w := wire.ToPaymentRequest(res.Request, publicURL)
		out.PaymentRequest = &w
	}
	if res.Refund != nil {
		w := wire.ToRefund(res.Refund)
		out.Refund = &w
	}
	return out
}

// clearingService builds the service as the gateway wires it for clearing:
// its events are written due for the gateway's webhook dispatcher, and a
// refund queues the job that sends it to the bank, each in the transaction
// that makes it. The
// River client only inserts jobs: the gateway's workers run them.
func clearingService(db *postgres.DB, k *keyring.Keyring, publicURL string) (*service.Service, error) {
	protector := pii.NewProtector(k)
	queue := &jobs.Queue{}
	svc := &service.Service{DB: db, PII: protector, Enqueue: queue.Enqueue, Receipts: service.NewReceipts(k, publicURL)}
	banks := &service.Banks{Store: postgres.NewBankStore(db, k)}
	bankClients := bankclient.New(banks, bankclient.Options{}, nil)
	client, err := jobs.NewClient(jobs.Config{
		DB: db, Service: svc, Log: slog.New(slog.DiscardHandler), Work: false,
		BankClients: bankClients, PII: protector,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	queue.Bind(client)
	return svc, nil
}
