package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/httpapi"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// TestCallbackIncidentLimit: a bank floods the gateway with callbacks it
// must refuse. Each is answered the same, but only the bank's limit per
// minute is recorded (incident and bank event); the rest are counted in
// gateway_bank_incidents_dropped_total. Another bank keeps its own room.
func TestCallbackIncidentLimit(t *testing.T) {
	t.Parallel()
	b := setupCallbacks(t)
	ctx := context.Background()
	if _, err := b.db.Pool.Exec(ctx, `INSERT INTO banks (code, name, base_url, secret_sealed)
		VALUES ('OTB', 'Other', 'https://other.example', '\x00')`); err != nil {
		t.Fatal(err)
	}
	m := httpapi.NewMetrics(nil, nil)
	const limit, flood = 5, 24
	b.callbacks.IncidentLimit = limit
	b.callbacks.Dropped = func(bank string) { m.BankIncidentsDropped.WithLabelValues(bank).Inc() }
	// No debit handler: every debit callback names nothing sent (not_found).
	var wg sync.WaitGroup
	errs := make([]error, flood)
	for i := range flood {
		wg.Go(func() {
			_, errs[i] = b.callbacks.Apply(ctx, debitCallback(fmt.Sprintf("evt_flood_%d", i), "debit.succeeded"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if fault.CodeOf(err) != fault.NotFound {
			t.Errorf("callback %d: %v, want not_found like every refusal", i, err)
		}
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM incidents WHERE bank_code = 'SBX'`:                            limit,
		`SELECT count(*) FROM bank_events WHERE bank_code = 'SBX' AND result = 'not_found'`: limit,
		`SELECT count(*) FROM bank_events`:                                                  limit,
	} {
		if n := b.count(t, q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	if n := testutil.ToFloat64(m.BankIncidentsDropped.WithLabelValues("SBX")); n != flood-limit {
		t.Errorf("dropped: %v, want %d", n, flood-limit)
	}
	// A dropped refusal's repeat is refused again, and still not recorded.
	var dropped string
	for i := range flood {
		if b.count(t, `SELECT count(*) FROM bank_events WHERE event_id = 'evt_flood_`+fmt.Sprint(i)+`'`) == 0 {
			dropped = fmt.Sprintf("evt_flood_%d", i)
			break
		}
	}
	if _, err := b.callbacks.Apply(ctx, debitCallback(dropped, "debit.succeeded")); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("repeat of %s: %v", dropped, err)
	}
	if n := b.count(t, `SELECT count(*) FROM incidents`); n != limit {
		t.Fatalf("%d incidents after the repeat", n)
	}
	// Another bank is not held back by SBX's flood.
	cb := debitCallback("evt_other", "debit.succeeded")
	cb.BankCode = "OTB"
	if _, err := b.callbacks.Apply(ctx, cb); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("other bank: %v", err)
	}
	if n := b.count(t, `SELECT count(*) FROM incidents WHERE bank_code = 'OTB'`); n != 1 {
		t.Fatalf("%d incidents of the other bank", n)
	}
	if n := testutil.ToFloat64(m.BankIncidentsDropped.WithLabelValues("OTB")); n != 0 {
		t.Fatalf("other bank dropped %v", n)
	}
	// A minute later the bank has room again (its incidents age out of the window).
	if _, err := b.db.Pool.Exec(ctx, `UPDATE incidents SET created_at = created_at - interval '61 seconds'`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.callbacks.Apply(ctx, debitCallback(dropped, "debit.succeeded")); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("after a minute: %v", err)
	}
	if n := b.count(t, `SELECT count(*) FROM bank_events WHERE event_id = '`+dropped+`' AND result = 'not_found'`); n != 1 {
		t.Fatalf("the refusal was not recorded once the bank had room: %d", n)
	}
}

// TestCallbackEvidenceMasked: digits a bank puts in a callback (here a pid,
// 12 digits, and an account number) are stored masked, in the incident and
// in the bank event, while a fee's amount stays readable.
func TestCallbackEvidenceMasked(t *testing.T) {
	t.Parallel()
	b := setupCallbacks(t)
	ctx := context.Background()
	const pid, account = "079203001234", "9704000123456"
	data := `{"debit_id":"pa_1","amount":"75000","currency":"VND","reason_message":"holder ` + pid + ` account ` + account + `"}`
	body := `{"event_id":"evt_pii","type":"debit.failed","occurred_at":"2026-03-01T08:00:00Z","data":` + data + `}`
	refused := service.Callback{BankCode: "SBX", EventID: "evt_pii", Type: "debit.failed", OccurredAt: time.Now(),
		Data: []byte(data), Body: []byte(body)}
	if _, err := b.callbacks.Apply(ctx, refused); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("refusal: %v", err)
	}
	var evidence, stored string
	if err := b.db.Pool.QueryRow(ctx, `SELECT evidence::text FROM incidents WHERE bank_code = 'SBX'`).Scan(&evidence); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Pool.QueryRow(ctx, `SELECT body::text FROM bank_events WHERE event_id = 'evt_pii'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"incident evidence": evidence, "bank event": stored} {
		if strings.Contains(text, pid) || strings.Contains(text, account) || !strings.Contains(text, "holder ************ account *************") ||
			!strings.Contains(text, `"75000"`) || !strings.Contains(text, `"pa_1"`) {
			t.Errorf("%s: %s", what, text)
		}
	}
	// An applied callback's body is kept masked too.
	b.callbacks.Handle("debit", func(context.Context, *postgres.Tx, service.Callback) (service.Applied, error) {
		return service.ResultApplied, nil
	})
	applied := refused
	applied.EventID, applied.Body = "evt_pii_2", []byte(strings.Replace(body, "evt_pii", "evt_pii_2", 1))
	if res, err := b.callbacks.Apply(ctx, applied); res != service.ResultApplied || err != nil {
		t.Fatalf("applied: %v %v", res, err)
	}
	if n := b.count(t, `SELECT count(*) FROM bank_events WHERE event_id = 'evt_pii_2' AND body::text LIKE '%holder ************ account%'
		AND body::text NOT LIKE '%`+pid+`%'`); n != 1 {
		t.Fatal("the applied callback's body is not masked")
	}
}
