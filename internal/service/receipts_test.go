package service_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/webhook"
)

// receiptBundle is a service with receipts on a fresh database: one
// portal, one bank and one citizen with an active default account there.
type receiptBundle struct {
	db       *testenv.DB
	svc      *service.Service
	clock    *testenv.Clock
	portalID string
	payer    service.Payer
	pid      string
}

func setupReceipts(t *testing.T) *receiptBundle {
	t.Helper()
	ctx := context.Background()
	db := testenv.NewDB(t)
	master := make([]byte, keyring.KeySize)
	_, _ = rand.Read(master)
	keys, err := keyring.New(master)
	if err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock()
	b := &receiptBundle{db: db, clock: clock, pid: "079203001234",
		svc: &service.Service{DB: db.Store, PII: pii.NewProtector(keys), Now: clock.Now,
			Receipts: service.NewReceipts(keys, "https://pay.gateway.test")}}
	whsec, _ := webhook.NewSecret()
	p := &portal.Portal{ID: id.New(id.Portal), Name: "Cổng dịch vụ công", KeyID: portal.NewKeyID(), Secret: portal.NewSecret(),
		WebhookURL: "https://portal.example/hooks", WebhookSecret: whsec, CreatedAt: time.Now()}
	if err := postgres.NewPortalStore(db.Store, keys).Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	b.portalID = p.ID
	idx := b.svc.PII.Index(pii.KindPID, b.pid)
	citizenID, accID := id.New(id.Citizen), id.New(id.Account)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO banks (code, name, base_url, secret_sealed) VALUES ('SBX', 'Sandbox', 'https://bank.example', '\x00')`, nil},
		{`INSERT INTO citizens (id, pid_index, pid_sealed) VALUES ($1, $2, '\x00')`, []any{citizenID, idx}},
		{`INSERT INTO linked_accounts (id, citizen_id, bank_code, account_index, account_sealed, account_masked, holder_name_sealed,
			status, is_default, verification_id, verification_outcome) VALUES ($1, $2, 'SBX', '\x01', '\x00', '****1234', '\x00',
			'active', true, $3, 'succeeded')`, []any{accID, citizenID, id.New(id.AccountVerification)}},
	} {
		if _, err := db.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	b.payer = service.Payer{CitizenID: citizenID, PIDIndex: idx, Name: "Nguyễn Văn An"}
	return b
}

// payable creates a request and starts paying it; it returns the request
// and its attempt's id.
func (b *receiptBundle) payable(t *testing.T, dossier string) (string, string) {
	t.Helper()
	ctx := context.Background()
	var reqID, attemptID string
	err := b.db.Store.InTx(ctx, func(tx *postgres.Tx) error {
		amt := decimal.NewFromInt(75_000)
		r, err := b.svc.CreatePaymentRequest(ctx, tx, b.portalID, payment.Draft{CitizenPID: b.pid, DossierCode: dossier, ServiceCode: "1.001",
			Description: "Lệ phí", Items: []payment.Item{{Code: "LP", Description: "Lệ phí", Amount: amt}}, Amount: amt, Currency: "VND",
			ExpiresAt: b.clock.Now().Add(24 * time.Hour)})
		if err != nil {
			return err
		}
		if _, err := b.svc.Pay(ctx, tx, b.payer, r.ID, "", nil); err != nil {
			return err
		}
		reqID = r.ID
		return tx.Driver().QueryRow(ctx, `SELECT id FROM payment_attempts WHERE payment_request_id = $1`, r.ID).Scan(&attemptID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return reqID, attemptID
}

// succeed applies the bank's success of attemptID in a transaction of its own.
func (b *receiptBundle) succeed(attemptID string) error {
	ctx := context.Background()
	return b.db.Store.InTx(ctx, func(tx *postgres.Tx) error {
		res, err := b.svc.ApplyDebitOutcome(ctx, tx, "SBX", attemptID, payment.BankOutcome{Succeeded: true,
			Amount: decimal.NewFromInt(75_000), Currency: "VND", BankReference: "FT-" + attemptID[len(attemptID)-6:]})
		if err == nil && res != service.ResultApplied {
			err = fmt.Errorf("result %s", res)
		}
		return err
	})
}

func (b *receiptBundle) jwks(t *testing.T) []byte {
	t.Helper()
	j, err := b.svc.ReceiptJWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestReceiptNumbersUnderConcurrency pays many requests of one portal at
// once: their receipts are numbered exactly 1..N, each signed and verifying.
func TestReceiptNumbersUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setupReceipts(t)
	const n = 24
	attempts := make([]string, n)
	reqs := make([]string, n)
	for i := range attempts {
		reqs[i], attempts[i] = b.payable(t, fmt.Sprintf("D-%d", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = b.succeed(attempts[i])
		}()
	}
	close(start)
	wg.Wait()
	jwks := b.jwks(t)
	year := receipt.Year(b.clock.Now())
	var numbers []string
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pay %d: %v", i, err)
		}
		rc, jws, err := b.svc.Receipt(context.Background(), reqs[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := receipt.Verify(jws, jwks); err != nil {
			t.Fatalf("receipt %s: %v", rc.ID, err)
		}
		if rc.Payer.Name != "Nguyễn Văn An" || rc.PaymentRequestID != reqs[i] {
			t.Fatalf("receipt %+v", rc)
		}
		numbers = append(numbers, rc.Number)
	}
	sort.Strings(numbers)
	for i, got := range numbers {
		if want := receipt.Number(year, int64(i+1)); got != want {
			t.Fatalf("numbers %v: #%d is %s, want %s", numbers, i, got, want)
		}
	}
}

// TestReceiptNumbersRestartEachYear: the first receipt of a new year (in
// Asia/Ho_Chi_Minh) is number 1 again.
func TestReceiptNumbersRestartEachYear(t *testing.T) {
	t.Parallel()
	b := setupReceipts(t)
	loc := receipt.Location()
	year := receipt.Year(b.clock.Now())
	b.clock.AdvanceTo(time.Date(year, 12, 31, 23, 50, 0, 0, loc))
	var got []string
	for i, at := range []time.Time{{}, {}, time.Date(year+1, 1, 1, 0, 5, 0, 0, loc), {}} {
		if !at.IsZero() {
			b.clock.AdvanceTo(at)
		}
		reqID, attemptID := b.payable(t, fmt.Sprintf("Y-%d", i))
		if err := b.succeed(attemptID); err != nil {
			t.Fatal(err)
		}
		rc, _, err := b.svc.Receipt(context.Background(), reqID)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rc.Number)
	}
	want := []string{receipt.Number(year, 1), receipt.Number(year, 2), receipt.Number(year+1, 1), receipt.Number(year+1, 2)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("numbers %v, want %v", got, want)
	}
}

// TestReceiptNotFoundUntilPaid: Receipt is not_found for a request that is
// processing, and for an id that is no request.
func TestReceiptNotFoundUntilPaid(t *testing.T) {
	t.Parallel()
	b := setupReceipts(t)
	reqID, _ := b.payable(t, "NF")
	for _, id := range []string{reqID, "pr_unknown", "rc_x"} {
		if _, _, err := b.svc.Receipt(context.Background(), id); !fault.Is(err, fault.NotFound) {
			t.Fatalf("%s: %v", id, err)
		}
	}
}

// TestRotateThenRevokeReceiptKey: after a rotation both keys are published
// and new receipts use the new one; revoking the old one drops it from the
// JWKS and re-signs its receipts, unchanged, with the current key.
func TestRotateThenRevokeReceiptKey(t *testing.T) {
	t.Parallel()
	b := setupReceipts(t)
	ctx := context.Background()
	var old []string
	for i := range 3 {
		reqID, attemptID := b.payable(t, fmt.Sprintf("K-%d", i))
		if err := b.succeed(attemptID); err != nil {
			t.Fatal(err)
		}
		old = append(old, reqID)
	}
	before := map[string]receipt.Receipt{}
	var oldKID string
	for _, reqID := range old {
		_, jws, err := b.svc.Receipt(ctx, reqID)
		if err != nil {
			t.Fatal(err)
		}
		signed, kid, err := receipt.Verify(jws, b.jwks(t))
		if err != nil {
			t.Fatal(err)
		}
		before[reqID], oldKID = signed, kid
	}
	newKID, err := b.svc.RotateReceiptKey(ctx)
	if err != nil || newKID == oldKID {
		t.Fatalf("rotate: %s, %v", newKID, err)
	}
	reqID, attemptID := b.payable(t, "K-new")
	if err := b.succeed(attemptID); err != nil {
		t.Fatal(err)
	}
	_, jws, _ := b.svc.Receipt(ctx, reqID)
	if _, kid, err := receipt.Verify(jws, b.jwks(t)); err != nil || kid != newKID {
		t.Fatalf("after rotation: kid %s, %v", kid, err)
	}
	for _, r := range old { // still verifying with the old key, still published
		_, jws, _ := b.svc.Receipt(ctx, r)
		if _, kid, err := receipt.Verify(jws, b.jwks(t)); err != nil || kid != oldKID {
			t.Fatalf("old receipt after rotation: %s %v", kid, err)
		}
	}

	rev, err := b.svc.RevokeReceiptKey(ctx, oldKID, 2) // batches of 2 for 3 receipts
	if err != nil || rev.Resigned != 3 || rev.Current != newKID {
		t.Fatalf("revoke: %+v %v", rev, err)
	}
	jwks := b.jwks(t)
	if _, _, err := receipt.Verify(signWith(t, before[old[0]]), jwks); err == nil {
		t.Fatal("a key not in the JWKS verified")
	}
	for _, r := range old {
		_, jws, _ := b.svc.Receipt(ctx, r)
		signed, kid, err := receipt.Verify(jws, jwks)
		if err != nil || kid != newKID {
			t.Fatalf("re-signed receipt: %s %v", kid, err)
		}
		a, _ := receipt.Payload(signed)
		w, _ := receipt.Payload(before[r])
		if string(a) != string(w) {
			t.Fatalf("the payload changed:\n%s\n%s", a, w)
		}
	}
	if n := b.count(t, `SELECT count(*) FROM receipts WHERE kid = '`+oldKID+`'`); n != 0 {
		t.Fatalf("%d receipts still signed by the revoked key", n)
	}
	if _, err := b.svc.RevokeReceiptKey(ctx, "no-such-kid", 10); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown kid: %v", err)
	}
	// Revoking the current key makes a new one; nothing is left unsigned.
	rev, err = b.svc.RevokeReceiptKey(ctx, newKID, 10)
	if err != nil || rev.Resigned != 4 || rev.Current == newKID || rev.Current == "" {
		t.Fatalf("revoke current: %+v %v", rev, err)
	}
}

// signWith signs r with a fresh key that no JWKS lists.
func signWith(t *testing.T, r receipt.Receipt) string {
	t.Helper()
	k, err := receipt.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	jws, err := receipt.Sign(r, k)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func (b *receiptBundle) count(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
