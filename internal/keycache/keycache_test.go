package keycache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/keycache"
	"github.com/citizenpay/gateway/internal/testenv"
)

var errNoSuch = errors.New("no such key")

type bundle struct {
	cache   *keycache.Cache[string]
	lookups atomic.Int64
	value   atomic.Value // string: what the source holds for "known"
	gate    chan struct{}
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{}
	b.value.Store("v1")
	b.cache = &keycache.Cache[string]{
		Lookup: func(_ context.Context, key string) (string, error) {
			b.lookups.Add(1)
			if b.gate != nil {
				<-b.gate
			}
			if key == "known" {
				return b.value.Load().(string), nil
			}
			if key == "broken" {
				return "", errors.New("database unavailable")
			}
			return "", errNoSuch
		},
		NotFound: func(err error) bool { return errors.Is(err, errNoSuch) },
		TTL:      30 * time.Second, MissTTL: 5 * time.Second, ReloadEvery: 5 * time.Second, Max: 100,
	}
	return b
}

func TestMissesAreCachedForMissTTL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	for i := 0; i < 50; i++ {
		if _, _, err := b.cache.Get(ctx, "nope", now.Add(time.Duration(i)*80*time.Millisecond)); !errors.Is(err, errNoSuch) {
			t.Fatalf("get %d: %v", i, err)
		}
	}
	if n := b.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups within the miss TTL, want 1", n)
	}
	if _, fresh, _ := b.cache.Get(ctx, "nope", now.Add(5*time.Second)); !fresh || b.lookups.Load() != 2 {
		t.Fatal("a miss is trusted past its TTL")
	}
	// Other errors are never cached.
	for i := 0; i < 3; i++ {
		_, _, _ = b.cache.Get(ctx, "broken", now)
	}
	if n := b.lookups.Load(); n != 5 {
		t.Fatalf("%d lookups, want the failures retried", n)
	}
}

func TestConcurrentGetsShareOneLookup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.gate = make(chan struct{})
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	var started atomic.Int64
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			if v, _, err := b.cache.Get(context.Background(), "known", now); err != nil || v != "v1" {
				t.Errorf("get: %q %v", v, err)
			}
		}()
	}
	// The first get holds the lookup at the gate while the others arrive.
	testenv.Eventually(t, 5*time.Second, func() bool { return started.Load() == 40 && b.lookups.Load() == 1 },
		"the gets did not start, or not behind one lookup")
	close(b.gate)
	wg.Wait()
	if n := b.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups for 40 concurrent gets, want 1", n)
	}
}

func TestReloadAtMostOncePerInterval(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	if _, _, err := b.cache.Get(ctx, "known", now); err != nil {
		t.Fatal(err)
	}
	b.value.Store("v2") // rotated in the database
	at := now.Add(10 * time.Second)
	v, reloaded, err := b.cache.Reload(ctx, "known", at)
	if err != nil || !reloaded || v != "v2" {
		t.Fatalf("first reload: %q %v %v", v, reloaded, err)
	}
	for i := 0; i < 30; i++ {
		if _, reloaded, _ := b.cache.Reload(ctx, "known", at.Add(time.Duration(i)*100*time.Millisecond)); reloaded {
			t.Fatalf("reload %d read again within the interval", i)
		}
	}
	if n := b.lookups.Load(); n != 2 {
		t.Fatalf("%d lookups, want 2", n)
	}
	if _, reloaded, _ := b.cache.Reload(ctx, "known", at.Add(5*time.Second)); !reloaded {
		t.Fatal("no reload after the interval")
	}
	// A cached value is served until its TTL, then read again.
	if _, fresh, _ := b.cache.Get(ctx, "known", at.Add(34*time.Second)); fresh {
		t.Fatal("read within the TTL")
	}
	if _, fresh, _ := b.cache.Get(ctx, "known", at.Add(35*time.Second)); !fresh {
		t.Fatal("trusted past the TTL")
	}
}

func TestBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	for i := 0; i < 1000; i++ {
		_, _, _ = b.cache.Get(ctx, fmt.Sprint("made-up-", i), now)
	}
	if n := b.cache.Len(); n > 100 {
		t.Fatalf("%d keys kept, want at most 100", n)
	}
}

// TestForgetRereadsAtOnce: a key forgotten (told that it changed) is read
// anew by the next Get, even within its TTL and the reload interval, and a
// lookup that was running when it was forgotten keeps nothing it read.
func TestForgetRereadsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, now := context.Background(), time.Unix(1_800_000_000, 0)
	if v, _, _ := b.cache.Get(ctx, "known", now); v != "v1" {
		t.Fatalf("first read %q", v)
	}
	b.value.Store("v2")
	if v, reloaded, _ := b.cache.Reload(ctx, "known", now.Add(time.Second)); v != "v1" || reloaded {
		t.Fatalf("within the reload interval: %q reloaded=%v, want the cached v1", v, reloaded)
	}
	b.cache.Forget("known")
	if v, fresh, _ := b.cache.Get(ctx, "known", now.Add(time.Second)); v != "v2" || !fresh {
		t.Fatalf("after Forget: %q fresh=%v, want v2 read now", v, fresh)
	}
	// A miss is forgotten too: a key created just now is found at once.
	if _, _, err := b.cache.Get(ctx, "other", now); !errors.Is(err, errNoSuch) {
		t.Fatalf("other: %v", err)
	}
	before := b.lookups.Load()
	b.cache.ForgetAll()
	_, _, _ = b.cache.Get(ctx, "other", now.Add(time.Second))
	_, _, _ = b.cache.Get(ctx, "known", now.Add(time.Second))
	if n := b.lookups.Load() - before; n != 2 {
		t.Fatalf("after ForgetAll: %d lookups, want 2", n)
	}

	// Forgotten while its lookup runs: the answer it read is not kept.
	b.gate = make(chan struct{})
	b.cache.Forget("known")
	done := make(chan string)
	go func() { v, _, _ := b.cache.Get(ctx, "known", now.Add(2*time.Second)); done <- v }()
	testenv.Eventually(t, 10*time.Second, func() bool { return b.lookups.Load() != before+2 }, "the lookup never started")
	b.cache.Forget("known")
	close(b.gate)
	<-done
	b.gate = nil
	after := b.lookups.Load()
	_, fresh, _ := b.cache.Get(ctx, "known", now.Add(2*time.Second))
	if !fresh || b.lookups.Load() != after+1 {
		t.Fatalf("a lookup forgotten while it ran was kept (fresh=%v)", fresh)
	}
}
