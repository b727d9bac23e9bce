package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/pkg/portal"
)

func TestPresignedRequestsArriveSignedAndWhole(t *testing.T) {
	t.Parallel()
	const secret, bankSecret = "psk_test", "bsk_test"
	type seen struct {
		path, key, portalKey, contentType string
		body                              string
		err                               error
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{path: r.URL.Path, key: r.Header.Get(portal.HeaderIdempotencyKey), portalKey: r.Header.Get(portal.HeaderPortalKey),
			contentType: r.Header.Get("Content-Type"), body: string(body)}
		sec := bankSecret
		if strings.HasPrefix(r.URL.Path, "/v1/payment-requests") {
			sec = secret
			want := portal.Sign(secret, portal.Canonical(r.Header.Get(portal.HeaderTimestamp), r.Method, r.URL.RequestURI(), s.key, body))
			if r.Header.Get(portal.HeaderSignature) != want {
				s.err = io.ErrUnexpectedEOF
			}
		}
		if err := signature.Verify(r.Header.Get(signature.HeaderSignature), []string{sec}, signature.FromRequest(r, body), time.Now()); err != nil {
			s.err = err
		}
		got <- s
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c := newClient(srv.URL, portalCreds{KeyID: "pk_1", Secret: secret}, map[string]bankCreds{"SBX": {Code: "SBX", Secret: bankSecret}})
	ctx := context.Background()

	body := createBody("079203001234", "D-1")
	if r := c.lean.doRaw(ctx, c.portalWire(http.MethodPost, "/v1/payment-requests", body, "k-1", time.Now())); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %v", r.Status, r.Err)
	}
	s := <-got
	if s.err != nil || s.key != "k-1" || s.portalKey != "pk_1" || s.contentType != "application/json" || s.body != string(body) {
		t.Fatalf("create arrived as %+v", s)
	}
	cb := clearBody(attempt{ID: "att_1", Amount: "75000"})
	if r := c.lean.doRaw(ctx, c.callbackWire("SBX", cb, time.Now())); r.Status != http.StatusCreated {
		t.Fatalf("callback: %d %v", r.Status, r.Err)
	}
	if s := <-got; s.err != nil || s.path != "/v1/bank-callbacks/SBX" || s.body != string(cb) {
		t.Fatalf("callback arrived as %+v", s)
	}
}

func TestPresignBuildsAheadOfTheSchedule(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	build := func(i int, _ time.Time) []byte { return []byte(strconv.Itoa(i)) }
	// 30 s at 100/s: everything before the clock starts.
	p := presign(ctx, scheduled(100, 30*time.Second), 100, build)
	if len(p.reqs) != 3000 {
		t.Fatalf("%d requests", len(p.reqs))
	}
	for _, i := range []int{0, 1234, 2999} {
		if raw, waited := p.get(i); waited || string(raw) != strconv.Itoa(i) {
			t.Fatalf("request %d: %q, waited %v", i, raw, waited)
		}
	}
	// 200 s at 1/s: the first presignAhead (and the chunk due at it) now,
	// the rest later; a cancelled context releases whoever waits for them.
	p = presign(ctx, 200, 1, build)
	if raw, waited := p.get(200); raw != nil || waited {
		t.Fatalf("past the last: %q", raw)
	}
	if raw, _ := p.get(59); string(raw) != "59" {
		t.Fatalf("request 59: %q", raw)
	}
	if p.reqs[199] != nil {
		t.Fatal("the last request was built before it was due")
	}
	cancel()
	if raw, _ := p.get(199); raw != nil {
		t.Fatalf("after cancel: %q", raw)
	}
}

func TestScheduledCountsPacesCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rate float64
		d    time.Duration
	}{{100, time.Second}, {3, time.Second}, {1702.4, 6 * time.Second}, {0.5, 5 * time.Second}} {
		var n int
		interval := paceInterval(tc.rate)
		for i := 0; time.Duration(i)*interval < tc.d; i++ {
			n++
		}
		if got := scheduled(tc.rate, tc.d); got != n {
			t.Errorf("rate %v for %s: %d, pace makes %d", tc.rate, tc.d, got, n)
		}
	}
}

// What building, signing and encoding a request costs the generator, now
// paid before the clock starts.
func BenchmarkBuildCreate(b *testing.B) {
	c := newClient("http://127.0.0.1:18080", portalCreds{KeyID: "pk_1", Secret: "psk_test"}, nil)
	for b.Loop() {
		body := createBody("079203001234", "BENCH-"+newID())
		c.portalWire(http.MethodPost, "/v1/payment-requests", body, "c-"+newID(), time.Now())
	}
}

func BenchmarkBuildClear(b *testing.B) {
	c := newClient("http://127.0.0.1:18080", portalCreds{}, map[string]bankCreds{"SBX": {Code: "SBX", Secret: "bsk_test"}})
	for b.Loop() {
		c.callbackWire("SBX", clearBody(attempt{ID: "att_1", Amount: "75000"}), time.Now())
	}
}
