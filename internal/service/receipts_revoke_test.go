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

	"github.com/citizenpay/gateway/internal/receipt"
)

// TestRevokeReceiptKeyWhileIssuing pays many requests of one portal at once
// while the current receipt key is revoked, three times over (or, in the
// second case, a new key is made and the old one revoked, three times). The
// revocations happen between payments in flight: each waits for a share of
// the payments to be done, not for a timer. Once everything settles every
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
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { paid <- struct{}{} }()
			<-start
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
		done := 0
		for r := range revocations {
			for ; done < (r+1)*n/(revocations+1); done++ {
				<-paid
			}
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
			rev, err := b.svc.RevokeReceiptKey(ctx, cur, 3)
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
		for ; done < n; done++ {
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
