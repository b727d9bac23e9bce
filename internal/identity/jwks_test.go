package identity

import (
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestVerifyPicksUpNewKeyAfterOneRefresh(t *testing.T) {
	t.Parallel()
	old := newEdKey(t, "old")
	next := newECKey(t, "next", elliptic.P256())
	srv := newJWKSServer(t, old)
	v, clk := newVerifier(t, srv, 30*time.Second)
	ctx := context.Background()

	if _, err := v.Verify(ctx, sign(t, old, old.kid, claimsAt(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("fetches after first Verify = %d, want 1", got)
	}

	srv.set(old, next)
	// Within the interval the new kid stays unknown and nothing is fetched.
	if _, err := v.Verify(ctx, sign(t, next, next.kid, claimsAt(clk.Now()))); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify within interval = %v, want ErrInvalidToken", err)
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("fetches within interval = %d, want 1", got)
	}

	clk.Advance(31 * time.Second)
	if _, err := v.Verify(ctx, sign(t, next, next.kid, claimsAt(clk.Now()))); err != nil {
		t.Fatalf("Verify after interval: %v", err)
	}
	if got := srv.fetches.Load(); got != 2 {
		t.Fatalf("fetches after refresh = %d, want 2", got)
	}
	// Known kids never trigger a fetch.
	for range 10 {
		if _, err := v.Verify(ctx, sign(t, old, old.kid, claimsAt(clk.Now()))); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.fetches.Load(); got != 2 {
		t.Fatalf("fetches after known kids = %d, want 2", got)
	}
}

func TestVerifyUnknownKidFloodFetchesOncePerInterval(t *testing.T) {
	t.Parallel()
	key := newEdKey(t, "k")
	srv := newJWKSServer(t, key)
	v, clk := newVerifier(t, srv, 30*time.Second)
	ctx := context.Background()

	flood := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Go(func() {
				tok := sign(t, key, fmt.Sprintf("forged-%d-%d", round, i), claimsAt(clk.Now()))
				if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
					errs <- fmt.Errorf("round %d token %d: %v", round, i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}

	// A cold verifier: 200 concurrent callers share the first fetch.
	flood(0)
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("fetches after cold flood = %d, want 1", got)
	}
	flood(1)
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("fetches after flood within interval = %d, want 1", got)
	}
	clk.Advance(30 * time.Second)
	flood(2)
	if got := srv.fetches.Load(); got != 2 {
		t.Fatalf("fetches after flood in next interval = %d, want 2", got)
	}
	flood(3)
	if got := srv.fetches.Load(); got != 2 {
		t.Fatalf("fetches after second flood in that interval = %d, want 2", got)
	}
}

func TestVerifyConcurrentColdStartSharesOneFetch(t *testing.T) {
	t.Parallel()
	key := newEdKey(t, "k")
	srv := newJWKSServer(t, key)
	v, clk := newVerifier(t, srv, 30*time.Second)
	tok := sign(t, key, key.kid, claimsAt(clk.Now()))

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
}

func TestVerifyDropsWithdrawnKeyAfterMaxAge(t *testing.T) {
	t.Parallel()
	withdrawn := newEdKey(t, "withdrawn")
	kept := newEdKey(t, "kept")
	srv := newJWKSServer(t, withdrawn, kept)
	v, clk := newVerifier(t, srv, 30*time.Second)
	ctx := context.Background()

	if _, err := v.Verify(ctx, sign(t, withdrawn, withdrawn.kid, claimsAt(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	srv.set(kept)
	clk.Advance(maxKeyAge - time.Minute)
	if _, err := v.Verify(ctx, sign(t, withdrawn, withdrawn.kid, claimsAt(clk.Now()))); err != nil {
		t.Fatalf("cached key before max age: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, sign(t, withdrawn, withdrawn.kid, claimsAt(clk.Now()))); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("withdrawn key after max age = %v, want ErrInvalidToken", err)
	}
	if _, err := v.Verify(ctx, sign(t, kept, kept.kid, claimsAt(clk.Now()))); err != nil {
		t.Fatalf("kept key: %v", err)
	}
}

func TestVerifyKeysUnavailable(t *testing.T) {
	t.Parallel()
	key := newEdKey(t, "k")
	srv := newJWKSServer(t, key)
	srv.status.Store(http.StatusServiceUnavailable)
	v, clk := newVerifier(t, srv, 30*time.Second)
	ctx := context.Background()
	tok := sign(t, key, key.kid, claimsAt(clk.Now()))

	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Verify with provider down = %v, want ErrKeysUnavailable", err)
	}
	// Retried no more than once per interval.
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("second Verify = %v, want ErrKeysUnavailable", err)
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Fatalf("fetches = %d, want 1", got)
	}
	srv.status.Store(0)
	clk.Advance(30 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify after recovery: %v", err)
	}

	// A later failure keeps the good set.
	srv.status.Store(http.StatusInternalServerError)
	clk.Advance(maxKeyAge)
	if _, err := v.Verify(ctx, sign(t, key, key.kid, claimsAt(clk.Now()))); err != nil {
		t.Fatalf("Verify with stale set and provider down: %v", err)
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	ed := newEdKey(t, "ed")
	rsaKey := newRSAKey(t, "rsa", 2048)
	tests := []struct {
		name    string
		body    string
		wantErr bool
		want    map[string]jose.SignatureAlgorithm // kid → alg ("" unusable)
	}{
		{"not JSON", "nope", true, nil},
		{"no keys", `{"keys":[]}`, true, nil},
		{"only a symmetric key", `{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`, true, nil},
		{
			"symmetric key kept as unusable, garbage skipped",
			`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"},{"kty":"XYZ","kid":"x"},` + mustJSON(t, ed.pub) + `]}`,
			false,
			map[string]jose.SignatureAlgorithm{"h": "", "ed": jose.EdDSA},
		},
		{
			"encryption key and wrong declared alg unusable",
			`{"keys":[` + mustJSON(t, jose.JSONWebKey{Key: ed.pub.Key, KeyID: "enc", Use: "enc"}) + `,` +
				mustJSON(t, jose.JSONWebKey{Key: rsaKey.pub.Key, KeyID: "ps", Algorithm: "PS256"}) + `,` +
				mustJSON(t, rsaKey.pub) + `]}`,
			false,
			map[string]jose.SignatureAlgorithm{"enc": "", "ps": "", "rsa": jose.RS256},
		},
		{
			"private key unusable",
			`{"keys":[` + mustJSON(t, jose.JSONWebKey{Key: ed.priv, KeyID: "priv"}) + `,` + mustJSON(t, ed.pub) + `]}`,
			false,
			map[string]jose.SignatureAlgorithm{"priv": "", "ed": jose.EdDSA},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, err := parseJWKS([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatal("parseJWKS accepted it")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]jose.SignatureAlgorithm{}
			for _, k := range keys {
				got[k.kid] = k.alg
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("keys = %v, want %v", got, tt.want)
			}
		})
	}
}

func mustJSON(t *testing.T, k jose.JSONWebKey) string {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
