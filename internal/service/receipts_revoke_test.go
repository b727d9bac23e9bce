package service_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/payment"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/receipt"
	"github.com/citizenpay/gateway/internal/service"
)

// TestRevokeReceiptKeyWhileIssuing pays many requests of one portal at once
// while the current receipt key is revoked, three times over (or, in the
// second case, a new key is made and the old one revoked, three times). The
// revocations happen between payments in flight: each waits for a share of
// the payments to be done, not for a timer. And each races one payment
// held open on purpose: it has signed its receipt with the key about to be
// revoked and does not commit until the revocation is seen waiting for a
// lock (or has finished, which is the bug the share lock prevents: the
// receipt would then commit signed by a revoked key, never re-signed).
// Once everything settles every
// paid request has exactly one receipt, numbered 1..N without gaps, signed
// by no revoked key, verifying against the JWKS served, its payload byte
// for byte the one first read; and no revoked kid is in the JWKS.
func TestRevokeReceiptKeyWhileIssuing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rotate bool // make a new key first, then revoke the one that was current
	}{{"revoke current", false}, {"rotate then revoke old", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			revokeWhileIssuing(t, tc.rotate)
		})
	}
}

func revokeWhileIssuing(t *testing.T, rotate bool) {
	b := setupReceipts(t)
	ctx := context.Background()
	const n, revocations = 40, 3
	// Every payment may be in flight at once, queued behind a held one, with
	// the revocation and the wait's own query beside them.
	b.db.Widen(t, n+revocations+4)
	b.svc.DB = b.db.Store
	// The first key is made now: the payments that would find none would
	// each hold the keys' advisory lock until they commit, and a rotation
	// would queue behind them and so behind the held payment.
	if _, err := b.svc.RotateReceiptKey(ctx); err != nil {
		t.Fatal(err)
	}
	reqs, attempts := make([]string, n), make([]string, n)
	for i := range reqs {
		reqs[i], attempts[i] = b.payable(t, fmt.Sprintf("R-%d", i))
	}

	// first[i] is the receipt of reqs[i] as read right after it was paid;
	// paid hears of each payment once that read is done.
	type read struct {
		kid     string
		payload []byte
	}
	first := make([]read, n)
	errs := make([]error, n)
	paid := make(chan struct{}, n)
	start := make(chan struct{})
	// Payment held[r] starts once revocation r is due (go_[r]), says when
	// its receipt is signed (issued[r]) and commits on release[r].
	var held [revocations]int
	var go_, issued, release [revocations]chan struct{}
	isHeld := map[int]int{}
	for r := range held {
		held[r] = n - 1 - r
		isHeld[held[r]] = r
		go_[r], issued[r], release[r] = make(chan struct{}), make(chan struct{}), make(chan struct{})
	}
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if r, ok := isHeld[i]; ok {
				<-go_[r]
				defer func() { // issued, or failed: the revoker must not wait
					select {
					case <-issued[r]:
					default:
						close(issued[r])
					}
				}()
				errs[i] = b.succeedHeld(attempts[i], func(tx *postgres.Tx) error {
					st, err := postgres.GetReceiptOfRequest(ctx, tx, reqs[i])
					if err != nil {
						return err
					}
					jws, err := b.svc.Receipts.OpenJWS(st.ID, st.JWSSealed)
					if err != nil {
						return err
					}
					first[i].kid, first[i].payload, err = jwsParts(jws)
					close(issued[r])
					<-release[r]
					return err
				})
				return
			}
			defer func() { paid <- struct{}{} }()
			if errs[i] = b.succeed(attempts[i]); errs[i] != nil {
				return
			}
			_, jws, err := b.svc.Receipt(ctx, reqs[i])
			if err != nil {
				errs[i] = err
				return
			}
			first[i].kid, first[i].payload, errs[i] = jwsParts(jws)
		}()
	}

	// The revoker: before revocation r it waits for (r+1)/(revocations+1)
	// of the payments, so each one races the payments still in flight.
	var revoked []string
	resigned := 0
	var revErr error
	revDone := make(chan struct{})
	go func() {
		defer close(revDone)
		defer func() { // a revoker that gave up lets every held payment go
			for r := range revocations {
				select {
				case <-go_[r]:
				default:
					close(go_[r])
				}
				select {
				case <-release[r]:
				default:
					close(release[r])
				}
			}
		}()
		done := 0
		for r := range revocations {
			for ; done < (r+1)*(n-revocations)/(revocations+1); done++ {
				<-paid
			}
			close(go_[r])
			<-issued[r]
			var cur string
			if err := b.db.Pool.QueryRow(ctx, `SELECT kid FROM receipt_keys WHERE revoked_at IS NULL
				ORDER BY created_at DESC, kid DESC LIMIT 1`).Scan(&cur); err != nil {
				revErr = fmt.Errorf("current key: %w", err)
				return
			}
			if rotate {
				kid, err := b.svc.RotateReceiptKey(ctx)
				if err != nil || kid == cur {
					revErr = fmt.Errorf("rotate: %s, %v", kid, err)
					return
				}
			}
			var rev service.Revocation
			var err error
			revoking := make(chan struct{})
			go func() {
				defer close(revoking)
				rev, err = b.svc.RevokeReceiptKey(ctx, cur, 3)
			}()
			if werr := waitBlockedOrDone(ctx, b, revoking); werr != nil {
				revErr = werr
				return
			}
			close(release[r])
			<-revoking
			if err != nil {
				revErr = fmt.Errorf("revoke %s: %w", cur, err)
				return
			}
			if rev.KID != cur || rev.Current == cur || rev.Current == "" {
				revErr = fmt.Errorf("revoke %s: %+v", cur, rev)
				return
			}
			revoked = append(revoked, cur)
			resigned += rev.Resigned
		}
		for ; done < n-revocations; done++ {
			<-paid
		}
	}()
	close(start)
	wg.Wait()
	<-revDone
	if revErr != nil {
		t.Fatal(revErr)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pay %d: %v", i, err)
		}
	}
	if len(revoked) != revocations || resigned == 0 {
		t.Fatalf("revoked %v, %d receipts re-signed", revoked, resigned)
	}
	isRevoked := map[string]bool{}
	for _, kid := range revoked {
		isRevoked[kid] = true
	}

	jwks := b.jwks(t)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS %s: %v", jwks, err)
	}
	for _, k := range set.Keys {
		if isRevoked[k.Kid] {
			t.Fatalf("revoked key %s is in the JWKS %s", k.Kid, jwks)
		}
	}

	year := receipt.Year(b.clock.Now())
	var numbers []string
	seen := map[string]bool{}
	firstRevoked := 0 // receipts first read signed by a key revoked since
	for i, reqID := range reqs {
		rc, jws, err := b.svc.Receipt(ctx, reqID)
		if err != nil {
			t.Fatalf("receipt of %s: %v", reqID, err)
		}
		signed, kid, err := receipt.Verify(jws, jwks)
		if err != nil {
			t.Fatalf("receipt %s (kid %s): %v", rc.ID, kid, err)
		}
		if isRevoked[kid] {
			t.Fatalf("receipt %s is signed by revoked key %s", rc.ID, kid)
		}
		if signed.PaymentRequestID != reqID || signed.ID != rc.ID {
			t.Fatalf("receipt %s of %s: %+v", rc.ID, reqID, signed)
		}
		_, payload, err := jwsParts(jws)
		if err != nil {
			t.Fatal(err)
		}
		if string(payload) != string(first[i].payload) {
			t.Fatalf("receipt %s: the payload changed (first signed by %s, now by %s):\n%s\n%s",
				rc.ID, first[i].kid, kid, first[i].payload, payload)
		}
		if isRevoked[first[i].kid] {
			firstRevoked++
		}
		if seen[rc.Number] {
			t.Fatalf("number %s given twice", rc.Number)
		}
		seen[rc.Number] = true
		numbers = append(numbers, rc.Number)
	}
	for r, i := range held {
		if first[i].kid != revoked[r] {
			t.Fatalf("held payment %d signed its receipt with %s, not with %s, the key revoked while it was open", i, first[i].kid, revoked[r])
		}
	}
	if firstRevoked == 0 {
		t.Fatal("no receipt read before a revocation was signed by a key revoked since: the payloads compared were never re-signed")
	}
	sort.Strings(numbers)
	for i, got := range numbers {
		if want := receipt.Number(year, int64(i+1)); got != want {
			t.Fatalf("numbers %v: #%d is %s, want %s", numbers, i, got, want)
		}
	}
	// In the database: one receipt per request, none more, none signed by
	// a revoked key.
	if got := b.count(t, `SELECT count(*) FROM receipts WHERE portal_id = '`+b.portalID+`'`); got != n {
		t.Fatalf("%d receipts for %d paid requests", got, n)
	}
	if got := b.count(t, `SELECT count(DISTINCT payment_request_id) FROM receipts WHERE portal_id = '`+b.portalID+`'`); got != n {
		t.Fatalf("receipts of %d requests, want %d", got, n)
	}
	if got := b.count(t, `SELECT count(*) FROM receipts WHERE kid IN ('`+strings.Join(revoked, "','")+`')`); got != 0 {
		t.Fatalf("%d receipts still signed by a revoked key", got)
	}
	if got := b.count(t, `SELECT count(*) FROM receipt_keys WHERE revoked_at IS NOT NULL`); got != revocations {
		t.Fatalf("%d keys revoked, want %d", got, revocations)
	}
}

// jwsParts returns the kid of a compact JWS's header and its decoded
// payload, unverified.
func jwsParts(jws string) (string, []byte, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return "", nil, fmt.Errorf("JWS of %d parts", len(parts))
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", nil, err
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return "", nil, err
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	return h.Kid, payload, err
}

// succeedHeld applies the bank's success of attemptID in a transaction of
// its own, and runs hold in it before it commits.
func (b *receiptBundle) succeedHeld(attemptID string, hold func(*postgres.Tx) error) error {
	ctx := context.Background()
	return b.db.Store.InTx(ctx, func(tx *postgres.Tx) error {
		res, err := b.svc.ApplyDebitOutcome(ctx, tx, "SBX", attemptID, payment.BankOutcome{Succeeded: true,
			Amount: decimal.NewFromInt(75_000), Currency: "VND", BankReference: "FT-" + attemptID[len(attemptID)-6:]})
		if err == nil && res != service.ResultApplied {
			err = fmt.Errorf("result %s", res)
		}
		if err != nil {
			return err
		}
		return hold(tx)
	})
}

// waitBlockedOrDone returns once the revocation, in b's database, waits for
// a lock: mostly its UPDATE of receipt_keys, waiting for the share lock of
// the held payment; sometimes the keys' advisory lock, held by a payment
// that found no current key (its snapshot predates the key a revocation
// made) and now queues behind the held one for the portal's counter. Or
// once done is closed: the revocation did not wait. It polls the database,
// not a timer.
func waitBlockedOrDone(ctx context.Context, b *receiptBundle, done <-chan struct{}) error {
	for {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		var waiting bool
		if err := b.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND (query LIKE 'UPDATE receipt_keys SET revoked_at%'
				OR query = 'SELECT pg_advisory_xact_lock($1)'))`).Scan(&waiting); err != nil {
			return err
		}
		if waiting {
			return nil
		}
	}
}
