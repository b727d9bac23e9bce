// Package redisstore is the gateway's Redis adapter: the idempotency fast
// path, callback dedupe and rate limits. Redis only ever speeds the gateway
// up; PostgreSQL holds the truth, so every caller treats an error from this
// package as "ask PostgreSQL".
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is returned while Redis is considered down.
var ErrUnavailable = errors.New("redis unavailable")

// Options configure Connect.
type Options struct {
	URL   string   // redis:// URL of one server
	Addrs []string // or the seed addresses of a cluster
}

// Connect returns a client for a single Redis or a cluster. It does not
// require Redis to be up: the gateway starts and serves without it.
func Connect(o Options) (redis.UniversalClient, error) {
	uo := &redis.UniversalOptions{
		DialTimeout:  300 * time.Millisecond,
		ReadTimeout:  300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond,
		PoolTimeout:  300 * time.Millisecond,
		MaxRetries:   -1, // a failed call falls back to PostgreSQL at once
		PoolSize:     64,
		MinIdleConns: 4,
	}
	if o.URL != "" {
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		uo.Addrs = []string{opt.Addr}
		uo.DB = opt.DB
		uo.Username = opt.Username
		uo.Password = opt.Password
		uo.TLSConfig = opt.TLSConfig
	} else {
		uo.Addrs = o.Addrs
		uo.IsClusterMode = true
	}
	return redis.NewUniversalClient(uo), nil
}

// Store wraps a client with a key prefix and a short circuit: after a
// failure it reports ErrUnavailable for a moment instead of paying a
// timeout on every request, then tries Redis again by itself.
type Store struct {
	client    redis.UniversalClient
	prefix    string
	downUntil atomic.Int64 // unix nanoseconds
	pause     time.Duration
	onFailure func()
	// Now is the clock the pause is timed by; nil is time.Now. Set it
	// before the store is used.
	Now func() time.Time
}

// New returns a Store whose keys all start with prefix (tests use a
// prefix of their own). onFailure, if not nil, is called on each fallback.
func New(client redis.UniversalClient, prefix string, onFailure func()) *Store {
	return &Store{client: client, prefix: prefix, pause: time.Second, onFailure: onFailure}
}

// Client returns the underlying client.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Ping checks that Redis answers, bypassing the short circuit.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return err
	}
	s.downUntil.Store(0)
	return nil
}

// Available reports whether the store is not in its pause after a failure.
func (s *Store) Available() bool { return s.now().UnixNano() >= s.downUntil.Load() }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// key builds a prefixed key; tag is wrapped in braces so that the keys one
// script touches share a cluster hash slot.
func (s *Store) key(kind, tag string) string {
	return s.prefix + kind + ":{" + tag + "}"
}

// do runs fn unless the store is paused, and pauses it on a failure that
// says Redis is unreachable or unwell.
func (s *Store) do(ctx context.Context, fn func(context.Context) error) error {
	if !s.Available() {
		if s.onFailure != nil {
			s.onFailure()
		}
		return ErrUnavailable
	}
	err := fn(ctx)
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	if ctx.Err() == nil {
		s.downUntil.Store(s.now().Add(s.pause).UnixNano())
	}
	if s.onFailure != nil {
		s.onFailure()
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}
