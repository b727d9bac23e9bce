// Package keycache keeps what a lookup by key found — or that it found
// nothing — for a short while, so that authenticating a signed request
// costs no database round trip, and so that requests with unknown keys or
// bad signatures cannot make every request cost one.
//
// It is an optimisation, never the truth: several stateless processes run,
// each with its own cache, and what the database says wins once an entry is
// older than its TTL. Every method takes the time, so tests move a clock
// instead of sleeping.
package keycache

import (
	"context"
	"sync"
	"time"
)

// Defaults of a Cache.
const (
	// DefaultTTL is how long a value found is trusted.
	DefaultTTL = 30 * time.Second
	// DefaultMissTTL is how long "no such key" is trusted: a key created
	// just now is usable after at most this long.
	DefaultMissTTL = 5 * time.Second
	// DefaultReloadEvery is the least time between two reads of one key
	// forced by Reload.
	DefaultReloadEvery = 5 * time.Second
	// DefaultMax is how many keys are kept.
	DefaultMax = 10000
)

// Cache caches Lookup by key. The zero value of each setting means its
// default; Lookup and NotFound must be set before use.
type Cache[V any] struct {
	// Lookup reads key from the source of truth.
	Lookup func(ctx context.Context, key string) (V, error)
	// NotFound reports whether an error of Lookup means there is no such
	// key; such answers are cached for MissTTL, other errors never.
	NotFound    func(error) bool
	TTL         time.Duration
	MissTTL     time.Duration
	ReloadEvery time.Duration
	Max         int

	mu      sync.Mutex
	entries map[string]entry[V]
	flights map[string]*flight[V]
	// gen grows at every Forget and ForgetAll: a lookup that started
	// before one stores nothing, as it may have read what was forgotten.
	gen uint64
}

type entry[V any] struct {
	v   V
	err error // a NotFound error: the key is known not to exist
	at  time.Time
}

// flight is a lookup in progress, shared by every caller of its key.
type flight[V any] struct {
	done chan struct{}
	gen  uint64
	v    V
	err  error
}

// Get returns key's value, or the not-found error, from the cache when the
// entry is recent enough at now, else read by Lookup. fresh reports that
// the answer was read just now (by this call or by one it joined).
// Concurrent calls for one key share one Lookup.
func (c *Cache[V]) Get(ctx context.Context, key string, now time.Time) (v V, fresh bool, err error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		ttl := or(c.TTL, DefaultTTL)
		if e.err != nil {
			ttl = or(c.MissTTL, DefaultMissTTL)
		}
		if now.Sub(e.at) < ttl && !now.Before(e.at) {
			return e.v, false, e.err
		}
	}
	v, err = c.load(ctx, key, now)
	return v, true, err
}

// Reload rereads key, for a caller that suspects the cached value is
// stale (a secret rotated since). It reads at most once per ReloadEvery
// per key, however many callers ask: within that interval of the last read
// it answers from the cache with reloaded false.
func (c *Cache[V]) Reload(ctx context.Context, key string, now time.Time) (v V, reloaded bool, err error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < or(c.ReloadEvery, DefaultReloadEvery) && !now.Before(e.at) {
		return e.v, false, e.err
	}
	v, err = c.load(ctx, key, now)
	return v, true, err
}

// Put records v as key's value read at now, for a caller that has just
// changed it.
func (c *Cache[V]) Put(key string, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store(key, entry[V]{v: v, at: now}, now)
}

// load runs Lookup for key, or joins the one already running. The shared
// lookup does not end with the context of the caller that started it; each
// caller stops waiting when its own context ends.
func (c *Cache[V]) load(ctx context.Context, key string, now time.Time) (V, error) {
	c.mu.Lock()
	f, running := c.flights[key]
	if !running {
		f = &flight[V]{done: make(chan struct{}), gen: c.gen}
		if c.flights == nil {
			c.flights = map[string]*flight[V]{}
		}
		c.flights[key] = f
		go c.run(context.WithoutCancel(ctx), key, now, f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func (c *Cache[V]) run(ctx context.Context, key string, now time.Time, f *flight[V]) {
	f.v, f.err = c.Lookup(ctx, key)
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	switch {
	case f.gen != c.gen:
		// Forgotten while it ran: its answer may predate the change.
	case f.err == nil:
		c.store(key, entry[V]{v: f.v, at: now}, now)
	case c.NotFound(f.err):
		c.store(key, entry[V]{err: f.err, at: now}, now)
	}
	c.mu.Unlock()
	close(f.done)
}

// store keeps e under key; at Max keys it first drops the expired ones,
// and everything if none has expired (a flood of made-up keys). c.mu is
// held.
func (c *Cache[V]) store(key string, e entry[V], now time.Time) {
	if c.entries == nil {
		c.entries = map[string]entry[V]{}
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= or(c.Max, DefaultMax) {
		keep := or(c.TTL, DefaultTTL)
		for k, old := range c.entries {
			if now.Sub(old.at) >= keep || (old.err != nil && now.Sub(old.at) >= or(c.MissTTL, DefaultMissTTL)) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= or(c.Max, DefaultMax) {
			c.entries = map[string]entry[V]{}
		}
	}
	c.entries[key] = e
}

// Forget drops what is known of key, for a caller told that it changed
// (a secret rotated or revoked, a key created): the next Get reads it. A
// lookup of key already running is not joined by later callers, and what
// it read is not kept.
func (c *Cache[V]) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
	delete(c.flights, key)
	c.gen++
}

// ForgetAll drops everything, for a caller that may have missed changes
// (its channel of changes was lost for a while).
func (c *Cache[V]) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
	c.flights = nil
	c.gen++
}

// Len returns how many keys are kept.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
