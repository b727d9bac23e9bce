package redisstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/redisstore"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestRateLimiterAdmitsTheBurstThenRefuses(t *testing.T) {
	t.Parallel()
	client, prefix := testenv.NewRedis(t)
	rl := redisstore.New(client, prefix, nil).RateLimiter()
	ctx := context.Background()
	// One request per 1000 s: only the burst gets through during the test.
	const rate, burst = 0.001, 3
	for i := range burst {
		ok, _, err := rl.Allow(ctx, "ptl_a", rate, burst)
		if err != nil || !ok {
			t.Fatalf("request %d of the burst: %v, %v", i+1, ok, err)
		}
	}
	ok, wait, err := rl.Allow(ctx, "ptl_a", rate, burst)
	if err != nil || ok {
		t.Fatalf("over the burst: %v, %v", ok, err)
	}
	if wait <= 0 || wait > 1000*time.Second {
		t.Fatalf("retry after %s, want within (0, 1000s]", wait)
	}
	// Another caller has an allowance of its own.
	if ok, _, err := rl.Allow(ctx, "ptl_b", rate, burst); err != nil || !ok {
		t.Fatalf("another caller: %v, %v", ok, err)
	}
	// The state is one key per caller, with an expiry.
	if ttl := client.PTTL(ctx, prefix+"rl:{ptl_a}").Val(); ttl <= 0 {
		t.Fatalf("rate key ttl %s", ttl)
	}
}

func TestRateLimiterUnderConcurrencyAdmitsExactlyTheBurst(t *testing.T) {
	t.Parallel()
	client, prefix := testenv.NewRedis(t)
	rl := redisstore.New(client, prefix, nil).RateLimiter()
	const burst = 25
	var admitted atomic.Int64
	var wg sync.WaitGroup
	// At most 32 at once: fewer than the client's 64 connections, so that
	// under a loaded machine no request waits past the pool's 300 ms for one.
	slots := make(chan struct{}, 32)
	for range 100 {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			ok, _, err := rl.Allow(context.Background(), "ptl_c", 0.001, burst)
			if err != nil {
				t.Error(err)
			}
			if ok {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != burst {
		t.Fatalf("admitted %d of 100 concurrent requests, want the burst %d", n, burst)
	}
}

func TestRateLimiterZeroRateLimitsNothing(t *testing.T) {
	t.Parallel()
	client, prefix := testenv.NewRedis(t)
	rl := redisstore.New(client, prefix, nil).RateLimiter()
	for range 10 {
		if ok, _, err := rl.Allow(context.Background(), "ptl_d", 0, 1); !ok || err != nil {
			t.Fatalf("rate 0: %v, %v", ok, err)
		}
	}
}

func TestRateLimiterWithoutRedis(t *testing.T) {
	t.Parallel()
	client, err := redisstore.Connect(redisstore.Options{URL: "redis://127.0.0.1:1/0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	failures := 0
	rl := redisstore.New(client, "x:", func() { failures++ }).RateLimiter()
	if _, _, err := rl.Allow(context.Background(), "ptl_e", 10, 10); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Allow without Redis: %v", err)
	}
	if failures != 1 {
		t.Fatalf("%d failures counted, want 1", failures)
	}
}
