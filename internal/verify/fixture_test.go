package verify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/ledger"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/verify"
)

// testPID passes pii.ValidatePID (079: Hồ Chí Minh City; 2: born in the
// 2000s) and testAccount is an account number; neither may appear in clear.
const (
	testPID     = "079203001234"
	testAccount = "0071000123456"
	portalID    = "ptl_a"
	bankCode    = "VCB"
)

// world is a database holding one of everything in a consistent state, as
// the gateway would leave it, built by direct SQL.
type world struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	now  time.Time
	ev   int
	// key signs the receipts of paid requests; seq numbers them.
	key *receipt.Key
	seq int64
}

func setup(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), pool: testenv.NewDB(t).Pool, now: time.Now().UTC().Truncate(time.Second)}
	w.exec(`INSERT INTO portals (id, name, key_id, secret_sealed, webhook_url, webhook_secret_sealed)
		VALUES ($1, 'Cổng dịch vụ công', 'pk_a', '\x01', 'https://portal.example/hooks', '\x02')`, portalID)
	w.exec(`INSERT INTO banks (code, name, base_url, secret_sealed) VALUES ($1, 'Vietcombank', 'https://bank.example', '\x03'),
		('TCB', 'Techcombank', 'https://tcb.example', '\x04')`, bankCode)
	w.exec(`INSERT INTO citizens (id, pid_index, pid_sealed) VALUES ('ctz_1', '\x0a0b', '\x0c0d')`)
	key, err := receipt.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	w.key = key
	w.exec(`INSERT INTO receipt_keys (kid, seed_sealed, public_key) VALUES ($1, '\x11', $2)`, key.KID(), key.Public().Bytes())
	w.exec(`INSERT INTO linked_accounts (id, citizen_id, bank_code, account_index, account_sealed, account_masked,
		holder_name_sealed, status, verification_id) VALUES ('acc_1', 'ctz_1', $1, '\x0e', '\x0f', '******3456', '\x10',
		'pending_verification', 'av_1')`, bankCode)
	return w
}

// clean builds requests in every state, with their attempts, refunds,
// postings, events, bank events and an open incident.
func (w *world) clean() *world {
	w.request("pr_pending", "pending")
	w.request("pr_canceled", "canceled")
	w.request("pr_expired", "expired")
	w.request("pr_processing", "processing")
	w.attempt("pa_processing", "pr_processing", "pending")
	w.request("pr_retry", "pending")
	w.attempt("pa_retry_failed", "pr_retry", "failed")
	w.event("payment_request.payment_failed", "pr_retry", "pending", "")
	w.request("pr_late", "processing") // its debit failed after expires_at
	w.attempt("pa_late_failed", "pr_late", "failed")
	w.exec(`UPDATE payment_requests SET status = 'expired', version = version + 2 WHERE id = 'pr_late'`)
	w.event("payment_request.payment_failed", "pr_late", "expired", "")
	w.paid("pr_paid", "pa_paid", true)
	w.paid("pr_partial", "pa_partial", true)
	w.refund("rf_partial_ok", "pr_partial", "pa_partial", 25000, "succeeded", true)
	w.refund("rf_partial_pending", "pr_partial", "pa_partial", 10000, "pending", false)
	w.refund("rf_partial_failed", "pr_partial", "pa_partial", 5000, "failed", false)
	w.paid("pr_refunded", "pa_refunded", true)
	w.refund("rf_full", "pr_refunded", "pa_refunded", 75000, "succeeded", true)
	w.exec(`INSERT INTO bank_events (bank_code, event_id, type, object_id, result, body) VALUES
		($1, 'be_1', 'debit.succeeded', 'pa_paid', 'applied', '{"event_id":"be_1","data":{"debit_id":"pa_paid","amount":"75000"}}'),
		($1, 'be_2', 'debit.succeeded', 'pa_paid', 'duplicate', '{"event_id":"be_2","data":{"debit_id":"pa_paid","amount":"75000"}}'),
		($1, 'be_3', 'debit.failed', 'pa_paid', 'conflict', '{"event_id":"be_3","data":{"debit_id":"pa_paid"}}')`, bankCode)
	w.exec(`INSERT INTO incidents (id, kind, bank_code, object_id, summary, evidence)
		VALUES ('inc_1', 'outcome_conflict', $1, 'pa_paid', 'debit.failed after debit.succeeded', '{"event_id":"be_3"}')`, bankCode)
	w.exec(`INSERT INTO idempotency_records (scope, key, fingerprint, response_status, response_body)
		VALUES ('ptl_a', 'key-1', '\xdeadbeef', 201, $1)`, []byte(`{"id":"pr_pending","citizen_pid_masked":"079******234"}`))
	w.exec(`INSERT INTO river_job (args, kind) VALUES ('{"attempt_id":"pa_processing","account_id":"acc_1"}', 'dispatch_debit')`)
	return w
}

func (w *world) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(w.ctx, sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
}

// request inserts a request of 75 000 đồng in status (paid states are made
// by paid) with the events that tell its state.
func (w *world) request(id, status string) {
	w.t.Helper()
	w.exec(`INSERT INTO payment_requests (id, portal_id, status, citizen_pid_index, citizen_pid_sealed, citizen_pid_masked,
		dossier_code, service_code, description, items, amount, currency, expires_at)
		VALUES ($1, $2, $3, '\x0a0b', '\x0c0d', '079******234', $1, 'svc', 'Lệ phí', '[{"code":"fee","amount":"75000"}]',
		75000, 'VND', $4)`, id, portalID, status, w.now.Add(24*time.Hour))
	w.event("payment_request.created", id, "pending", "")
	switch status {
	case "canceled", "expired":
		w.event("payment_request."+status, id, status, "")
	}
}

func (w *world) attempt(id, reqID, status string) {
	w.t.Helper()
	w.exec(`INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency, status)
		VALUES ($1, $2, 'acc_1', $3, 75000, 'VND', $4)`, id, reqID, bankCode, status)
}

// paid makes a paid request with its succeeded attempt, its event and,
// when post, its ledger posting.
func (w *world) paid(reqID, attemptID string, post bool) {
	w.t.Helper()
	w.request(reqID, "processing")
	w.attempt(attemptID, reqID, "succeeded")
	w.exec(`UPDATE payment_requests SET status = 'paid', version = version + 2, paid_attempt_id = $2, paid_bank_code = $3,
		paid_bank_reference = 'FT1', paid_at = $4 WHERE id = $1`, reqID, attemptID, bankCode, w.now)
	w.event("payment_request.paid", reqID, "paid", "")
	w.receipt(reqID)
	if post {
		w.post(mustTx(ledger.DebitSucceeded(attemptID, bankCode, portalID, decimal.NewFromInt(75000))))
	}
}

// receipt issues the receipt of paid request reqID, signed with w.key;
// its "sealed" JWS is the JWS itself, which check opens as it is.
func (w *world) receipt(reqID string) {
	w.t.Helper()
	amt := decimal.NewFromInt(75000)
	req := &payment.Request{ID: reqID, PortalID: portalID, Status: payment.StatusPaid, CitizenPIDMasked: "079******234",
		DossierCode: reqID, ServiceCode: "svc", Description: "Lệ phí", Items: []payment.Item{{Code: "fee", Amount: amt}},
		Amount: amt, Currency: "VND", Payment: &payment.Payment{BankCode: bankCode, BankReference: "FT1", PaidAt: w.now}}
	w.seq++
	rc, err := receipt.New(req, receipt.Issue{ID: "rc_" + reqID[3:], Seq: w.seq, PortalName: "Cổng dịch vụ công",
		PayerName: "Nguyễn Văn An", IssuedAt: w.now, PublicURL: "https://pay.example", CodeKey: []byte("k")})
	if err != nil {
		w.t.Fatal(err)
	}
	jws, err := receipt.Sign(rc, w.key)
	if err != nil {
		w.t.Fatal(err)
	}
	year := receipt.Year(w.now)
	w.exec(`INSERT INTO receipts (id, payment_request_id, portal_id, number, year, seq, amount, jws_sealed, kid, issued_at, signed_at)
		VALUES ($1, $2, $3, $4, $5, $6, 75000, $7, $8, $9, $9)`, rc.ID, reqID, portalID, rc.Number, year, w.seq, []byte(jws), w.key.KID(), w.now)
	w.exec(`INSERT INTO receipt_counters (portal_id, year, last_seq) VALUES ($1, $2, $3)
		ON CONFLICT (portal_id, year) DO UPDATE SET last_seq = excluded.last_seq`, portalID, year, w.seq)
}

// refund adds a refund in status; a succeeded one moves the request and,
// when post, is posted.
func (w *world) refund(id, reqID, attemptID string, amount int64, status string, post bool) {
	w.t.Helper()
	w.exec(`INSERT INTO refunds (id, payment_request_id, attempt_id, bank_code, amount, currency, status)
		VALUES ($1, $2, $3, $4, $5, 'VND', $6)`, id, reqID, attemptID, bankCode, amount, status)
	switch status {
	case "succeeded":
		w.exec(`UPDATE payment_requests SET amount_refunded = amount_refunded + $2, version = version + 1,
			status = CASE WHEN amount_refunded + $2 = amount THEN 'refunded' ELSE 'partially_refunded' END WHERE id = $1`, reqID, amount)
		var st string
		if err := w.pool.QueryRow(w.ctx, `SELECT status FROM payment_requests WHERE id = $1`, reqID).Scan(&st); err != nil {
			w.t.Fatal(err)
		}
		w.event("payment_request.refunded", reqID, st, "")
		w.event("refund.succeeded", reqID, st, id)
		if post {
			w.post(mustTx(ledger.RefundSucceeded(id, bankCode, portalID, decimal.NewFromInt(amount))))
		}
	case "failed":
		w.event("refund.failed", reqID, "", id)
	}
}

func mustTx(t ledger.Transaction, err error) ledger.Transaction {
	if err != nil {
		panic(err)
	}
	return t
}

func (w *world) post(t ledger.Transaction) {
	w.t.Helper()
	if err := postgres.NewDB(w.pool).InTx(w.ctx, func(tx *postgres.Tx) error { return postgres.PostLedger(w.ctx, tx, t) }); err != nil {
		w.t.Fatal(err)
	}
}

// event writes a delivered event shaped as the gateway writes it (its
// snapshot holds only what the checks read, and a masked pid).
func (w *world) event(typ, reqID, status, refundID string) string {
	w.t.Helper()
	w.ev++
	id := fmt.Sprintf("evt_%04d", w.ev)
	data := map[string]any{}
	if status != "" {
		data["payment_request"] = map[string]any{"id": reqID, "status": status, "citizen_pid_masked": "079******234", "amount": "75000"}
	}
	if refundID != "" {
		data["refund"] = map[string]any{"id": refundID, "payment_request_id": reqID}
	}
	body, err := json.Marshal(map[string]any{"id": id, "type": typ, "created_at": w.now.Format(time.RFC3339), "data": data})
	if err != nil {
		w.t.Fatal(err)
	}
	w.exec(`INSERT INTO events (id, portal_id, type, payload, delivery_status, delivery_attempts, delivered_at, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, 'delivered', 1, $5, $5, NULL)`, id, portalID, typ, string(body), w.now)
	return id
}

func (w *world) check(opts verify.Options) verify.Report {
	w.t.Helper()
	if opts.Now.IsZero() {
		opts.Now = w.now
	}
	if opts.OpenReceipt == nil {
		opts.OpenReceipt = func(_ string, sealed []byte) (string, error) { return string(sealed), nil }
	}
	rep, err := verify.Check(w.ctx, w.pool, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	return rep
}

// finding is a violation expected of one invariant.
type finding struct {
	inv   int
	check string
	id    string
}

// violations lists every violation in rep, sorted.
func violations(rep verify.Report) []finding {
	var out []finding
	for _, r := range rep.Invariants {
		for _, v := range r.Violations {
			out = append(out, finding{r.Invariant, v.Check, v.ID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// wantExactly fails unless rep reports exactly want, and says OK only when
// want is empty, for the report as a whole and invariant by invariant.
func wantExactly(t *testing.T, rep verify.Report, want ...finding) {
	t.Helper()
	sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
	got := violations(rep)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("violations:\n got  %v\n want %v\nreport: %s", got, want, dump(rep))
	}
	if rep.OK != (len(want) == 0) {
		t.Errorf("report OK = %v with %d violations expected", rep.OK, len(want))
	}
	bad := map[int]bool{}
	for _, f := range want {
		bad[f.inv] = true
	}
	if len(rep.Invariants) != verify.InvSettlements {
		t.Fatalf("%d invariants reported, want %d", len(rep.Invariants), verify.InvSettlements)
	}
	for i, r := range rep.Invariants {
		if r.Invariant != i+1 || r.Name == "" {
			t.Errorf("invariant %d reported as %d %q", i+1, r.Invariant, r.Name)
		}
		if r.OK == bad[r.Invariant] {
			t.Errorf("invariant %d OK = %v", r.Invariant, r.OK)
		}
	}
}

func dump(rep verify.Report) string {
	b, _ := json.MarshalIndent(rep, "", "  ")
	return string(b)
}

// details joins every finding's id and detail, to look for leaks.
func details(rep verify.Report) string {
	var b strings.Builder
	for _, r := range rep.Invariants {
		for _, f := range append(r.Violations, r.Warnings...) {
			b.WriteString(f.ID + " " + f.Detail + "\n")
		}
	}
	return b.String()
}

// worldCase breaks a clean world one way and names exactly the findings
// that must follow.
type worldCase struct {
	name  string
	build func(w *world)
	want  []finding
}

// runWorldCases runs each case on a fresh clean world of its own, in
// parallel.
func runWorldCases(t *testing.T, cases []worldCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t).clean()
			tt.build(w)
			wantExactly(t, w.check(verify.Options{}), tt.want...)
		})
	}
}
