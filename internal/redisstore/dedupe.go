package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Dedupe is the Redis fast path of bank callbacks: a marker per
// (bank code, event id) holding what the callback came to, so that a bank
// retrying a callback is answered without a database transaction. It is only
// an optimisation: the truth is the bank_events row written with the change.
// Markers hold ids and results only, never personal data.
type Dedupe struct{ s *Store }

// Dedupe returns the store's callback dedupe markers.
func (s *Store) Dedupe() *Dedupe { return &Dedupe{s: s} }

// Prefix returns the prefix of every key the store writes.
func (s *Store) Prefix() string { return s.prefix }

func (d *Dedupe) key(bankCode, eventID string) string {
	return d.s.key("bankevt", bankCode+":"+eventID)
}

// Seen returns the result recorded for (bankCode, eventID), and false when
// there is no marker. An error means "not known here": ask PostgreSQL.
func (d *Dedupe) Seen(ctx context.Context, bankCode, eventID string) (string, bool, error) {
	var v string
	err := d.s.do(ctx, func(ctx context.Context) error {
		var err error
		v, err = d.s.client.Get(ctx, d.key(bankCode, eventID)).Result()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// Mark records the result of (bankCode, eventID) for ttl. SET NX: the first
// marker stands, as the first committed result does in PostgreSQL.
func (d *Dedupe) Mark(ctx context.Context, bankCode, eventID, result string, ttl time.Duration) error {
	err := d.s.do(ctx, func(ctx context.Context) error {
		return d.s.client.SetArgs(ctx, d.key(bankCode, eventID), result, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	})
	if errors.Is(err, redis.Nil) {
		return nil // a marker was there already
	}
	return err
}
