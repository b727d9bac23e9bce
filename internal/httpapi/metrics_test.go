package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/incident"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestMetricsLabelsAreBounded sends requests with invented methods, to known
// and unknown paths: each would be a new series if the raw method (or path)
// became a label, and a few thousand of them grow the gateway for good.
func TestMetricsLabelsAreBounded(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	for i := range 200 {
		method := "X" + strings.Repeat("A", 1+i%50) + string(rune('A'+i%26))
		path := "/healthz"
		if i%2 == 1 {
			path = "/nowhere/" + method
		}
		req, err := http.NewRequest(method, h.Server.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s %s: %d, want 404", method[:8], path[:8], resp.StatusCode)
		}
	}
	h.Get("/v1/payment-requests")
	families, err := h.App.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods, routes := map[string]bool{}, map[string]bool{}
	series := 0
	for _, f := range families {
		if f.GetName() != "gateway_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			series++
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "method":
					methods[l.GetValue()] = true
				case "route":
					routes[l.GetValue()] = true
				}
			}
		}
	}
	for m := range methods {
		switch m {
		case http.MethodGet, http.MethodPost, http.MethodDelete, "other":
		default:
			t.Errorf("method label %.20q: only the router's methods and other may be labels", m)
		}
	}
	if !methods["other"] {
		t.Errorf("no method=\"other\" series among %d method labels", len(methods))
	}
	for r := range routes {
		if r != "unmatched" && !strings.HasPrefix(r, "/") || strings.HasPrefix(r, "/nowhere") {
			t.Errorf("route label %.40q: only registered routes and unmatched may be labels", r)
		}
	}
	if series > 10 {
		t.Errorf("%d series of gateway_http_requests_total after 200 invented methods, want a handful", series)
	}
}

// gauge returns the value of the series name{labels}, and whether the
// registry has it.
func gauge(t *testing.T, h *apitest.Harness, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, err := h.App.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func wantGauge(t *testing.T, h *apitest.Harness, want float64, name string, labels ...string) {
	t.Helper()
	if got, ok := gauge(t, h, name, labels...); !ok || got != want {
		t.Errorf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
	}
}

// TestAlertGauges: the gauges alerts watch follow the rows they count.
func TestAlertGauges(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock()
	// Noon in Ho Chi Minh City, two days on: the test does not cross midnight.
	today := reconcile.DayOf(time.Now()).Add(2)
	clock.AdvanceTo(today.Start().Add(12 * time.Hour))
	h := apitest.New(t, apitest.WithClock(clock))
	h.NewBank("SBX")
	ctx := context.Background()
	db := h.DB.Store

	// Incidents: open ones by kind; a resolved one is not counted.
	if _, ok := gauge(t, h, "gateway_incidents_open"); ok {
		t.Error("gateway_incidents_open has a series with no incident")
	}
	for range 2 {
		if err := postgres.InsertIncident(ctx, db, incident.KindUnknownObject, "SBX", "pa_x", "unknown", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := postgres.InsertIncident(ctx, db, incident.KindAmountDiffers, "SBX", "pa_y", "amount", nil); err != nil {
		t.Fatal(err)
	}
	wantGauge(t, h, 2, "gateway_incidents_open", "kind", "unknown_object")
	wantGauge(t, h, 1, "gateway_incidents_open", "kind", "amount_differs")
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE incidents SET status = 'resolved', resolution = 'dismissed', resolved_at = now()
		WHERE kind = 'amount_differs'`); err != nil {
		t.Fatal(err)
	}
	if _, ok := gauge(t, h, "gateway_incidents_open", "kind", "amount_differs"); ok {
		t.Error("a resolved incident is still counted")
	}

	// Webhooks: pending events count, delivered and failed ones do not; the
	// oldest pending one's age.
	portal := h.Portal.ID
	wantGauge(t, h, 0, "gateway_webhook_backlog", "portal", portal)
	wantGauge(t, h, 0, "gateway_webhook_oldest_undelivered_seconds", "portal", portal)
	now := h.Now()
	for i, ago := range []time.Duration{90 * time.Second, 30 * time.Second, 10 * time.Minute, time.Hour} {
		err := db.InTx(ctx, func(tx *postgres.Tx) error {
			return postgres.InsertEvent(ctx, tx, postgres.NewEvent{ID: id.New(id.Event), PortalID: portal,
				Type: "payment_request.paid", Payload: []byte(`{"n":` + strconv.Itoa(i) + `}`), At: now.Add(-ago)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE events SET delivery_status = 'delivered', delivered_at = now(), next_attempt_at = NULL
		WHERE payload::text = '{"n":2}'`); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE events SET delivery_status = 'failed', next_attempt_at = NULL
		WHERE payload::text = '{"n":3}'`); err != nil {
		t.Fatal(err)
	}
	wantGauge(t, h, 2, "gateway_webhook_backlog", "portal", portal)
	if age, _ := gauge(t, h, "gateway_webhook_oldest_undelivered_seconds", "portal", portal); age < 90 || age > 150 {
		t.Errorf("oldest undelivered: %vs, want the 90 s old event's age", age)
	}
	other := h.NewPortal("Other portal")
	wantGauge(t, h, 0, "gateway_webhook_backlog", "portal", other.ID)

	// Reconciliations: the latest day's status, and the latest matched day's age.
	if _, ok := gauge(t, h, "gateway_reconciliation_status", "bank", "SBX"); ok {
		t.Error("gateway_reconciliation_status of a bank never reconciled")
	}
	save := func(day reconcile.Day, st reconcile.Status) {
		t.Helper()
		if _, err := postgres.SaveReconciliation(ctx, db, reconcile.Result{BankCode: "SBX", Day: day, Status: st}, h.Now()); err != nil {
			t.Fatal(err)
		}
	}
	save(today.Add(-4), reconcile.StatusMatched)
	save(today.Add(-1), reconcile.StatusDifferences)
	wantGauge(t, h, 1, "gateway_reconciliation_status", "bank", "SBX", "status", "differences")
	wantGauge(t, h, 0, "gateway_reconciliation_status", "bank", "SBX", "status", "matched")
	wantGauge(t, h, 0, "gateway_reconciliation_status", "bank", "SBX", "status", "unavailable")
	wantGauge(t, h, 4, "gateway_reconciliation_last_matched_day_age_days", "bank", "SBX")
	save(today.Add(-1), reconcile.StatusMatched) // the day run again, its differences resolved
	wantGauge(t, h, 1, "gateway_reconciliation_status", "bank", "SBX", "status", "matched")
	wantGauge(t, h, 0, "gateway_reconciliation_status", "bank", "SBX", "status", "differences")
	wantGauge(t, h, 1, "gateway_reconciliation_last_matched_day_age_days", "bank", "SBX")
	save(today, reconcile.StatusUnavailable)
	wantGauge(t, h, 1, "gateway_reconciliation_status", "bank", "SBX", "status", "unavailable")
	wantGauge(t, h, 0, "gateway_reconciliation_status", "bank", "SBX", "status", "matched")
	wantGauge(t, h, 1, "gateway_reconciliation_last_matched_day_age_days", "bank", "SBX")

	// The help texts are what /metrics shows.
	metrics := h.Metrics()
	for _, want := range []string{
		"# HELP gateway_incidents_open Open incidents by kind",
		"# HELP gateway_bank_outcomes_unknown Debits and refunds sent to each bank (sent_at set) still pending",
		`gateway_webhook_backlog{portal="` + portal + `"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestBankOutcomesUnknownGauge: a debit or refund counts while it is pending
// after being sent, and no longer once its outcome is known.
func TestBankOutcomesUnknownGauge(t *testing.T) {
	t.Parallel()
	p := newPayer(t, withWorkers())
	h := p.h
	ctx := context.Background()
	attempt := p.payAndWait(t, p.prID, "pay-1", "paid")
	wantGauge(t, h, 0, "gateway_bank_outcomes_unknown", "bank", "SBX")

	// A refund not yet sent is no unknown outcome; sent, it is one.
	if _, err := h.DB.Pool.Exec(ctx, `INSERT INTO refunds (id, payment_request_id, attempt_id, bank_code, amount, currency, status)
		VALUES ('rf_gauge', $1, $2, 'SBX', 1000, 'VND', 'pending')`, p.prID, attempt); err != nil {
		t.Fatal(err)
	}
	wantGauge(t, h, 0, "gateway_bank_outcomes_unknown", "bank", "SBX")
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE refunds SET sent_at = now() WHERE id = 'rf_gauge'`); err != nil {
		t.Fatal(err)
	}
	wantGauge(t, h, 1, "gateway_bank_outcomes_unknown", "bank", "SBX")

	// A debit sent and pending counts beside it.
	pr2 := p.newRequest(t, "FEE-2")
	if _, err := h.DB.Pool.Exec(ctx, `INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency, status, sent_at)
		VALUES ('pa_gauge', $1, $2, 'SBX', 1000, 'VND', 'pending', now())`, pr2, p.accID); err != nil {
		t.Fatal(err)
	}
	wantGauge(t, h, 2, "gateway_bank_outcomes_unknown", "bank", "SBX")
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE refunds SET status = 'failed' WHERE id = 'rf_gauge'`); err != nil {
		t.Fatal(err)
	}
	wantGauge(t, h, 1, "gateway_bank_outcomes_unknown", "bank", "SBX")
}
