package redisstore

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/citizenpay/gateway/internal/idempotency"
)

// acquireScript takes the in-flight lock for a key, or reports what the key
// already holds, in one round trip.
//
// KEYS[1] the record; ARGV: fingerprint, lock token, lock TTL in ms.
// Returns {"acquired"} | {"in_use"} | {"reused"} | {"done", status, body}.
var acquireScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'fp', 'state', 'status', 'body')
if not v[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'lock', 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'acquired'}
end
if v[1] ~= ARGV[1] then return {'reused'} end
if v[2] == 'lock' then return {'in_use'} end
return {'done', v[3], v[4]}
`)

// completeScript stores the finished response over the record.
// KEYS[1]; ARGV: fingerprint, status, body, TTL in ms.
var completeScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'done', 'status', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// releaseScript drops an in-flight lock if it is still ours.
// KEYS[1]; ARGV: token.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Idempotency is the Redis fast path of idempotency keys.
type Idempotency struct{ s *Store }

// Idempotency returns the store's idempotency fast path.
func (s *Store) Idempotency() *Idempotency { return &Idempotency{s: s} }

var _ idempotency.FastPath = (*Idempotency)(nil)

func (i *Idempotency) recordKey(c idempotency.Claim) string {
	return i.s.key("idem", c.Scope+":"+c.Key)
}

// Acquire implements idempotency.FastPath.
func (i *Idempotency) Acquire(ctx context.Context, c idempotency.Claim, token string, lockTTL time.Duration) (idempotency.FastState, idempotency.Response, error) {
	var res []any
	err := i.s.do(ctx, func(ctx context.Context) error {
		r, err := acquireScript.Run(ctx, i.s.client, []string{i.recordKey(c)},
			hex.EncodeToString(c.Fingerprint[:]), token, lockTTL.Milliseconds()).Slice()
		res = r
		return err
	})
	if err != nil {
		return 0, idempotency.Response{}, err
	}
	if len(res) == 0 {
		return 0, idempotency.Response{}, fmt.Errorf("idempotency script: empty answer")
	}
	switch res[0] {
	case "acquired":
		return idempotency.FastAcquired, idempotency.Response{}, nil
	case "in_use":
		return idempotency.FastInUse, idempotency.Response{}, nil
	case "reused":
		return idempotency.FastReused, idempotency.Response{}, nil
	case "done":
		if len(res) != 3 {
			return 0, idempotency.Response{}, fmt.Errorf("idempotency script: bad answer")
		}
		status, err := strconv.Atoi(fmt.Sprint(res[1]))
		if err != nil {
			return 0, idempotency.Response{}, fmt.Errorf("idempotency script: bad status")
		}
		body, _ := res[2].(string)
		return idempotency.FastDone, idempotency.Response{Status: status, Body: []byte(body)}, nil
	}
	return 0, idempotency.Response{}, fmt.Errorf("idempotency script: unknown answer %v", res[0])
}

// Complete implements idempotency.FastPath.
func (i *Idempotency) Complete(ctx context.Context, c idempotency.Claim, r idempotency.Response, ttl time.Duration) error {
	return i.s.do(ctx, func(ctx context.Context) error {
		return completeScript.Run(ctx, i.s.client, []string{i.recordKey(c)},
			hex.EncodeToString(c.Fingerprint[:]), r.Status, r.Body, ttl.Milliseconds()).Err()
	})
}

// Release implements idempotency.FastPath.
func (i *Idempotency) Release(ctx context.Context, c idempotency.Claim, token string) error {
	return i.s.do(ctx, func(ctx context.Context) error {
		return releaseScript.Run(ctx, i.s.client, []string{i.recordKey(c)}, token).Err()
	})
}
