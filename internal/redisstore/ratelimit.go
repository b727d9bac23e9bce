package redisstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// rateScript is a GCRA (generic cell rate algorithm) limiter in one round
// trip: the key holds the caller's theoretical arrival time (TAT) in
// microseconds of Redis's clock, so every gateway sharing the Redis shares
// one limit and one clock.
//
// KEYS[1] the caller's TAT; ARGV: emission interval in µs (1 / rate), burst.
// Returns {1, 0} when admitted, {0, µs until a request would be} when not.
var rateScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return {0, math.ceil(allow_at - now)}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
`)

// RateLimiter is the Redis side of per-caller rate limits. Keys hold a time
// per caller id (a portal's id, or "citizen:" and a citizen's opaque id),
// never personal data: not a pid, not even its blind index.
type RateLimiter struct{ s *Store }

// RateLimiter returns the store's rate limiter.
func (s *Store) RateLimiter() *RateLimiter { return &RateLimiter{s: s} }

// Allow takes one request from caller's allowance of rate requests a second
// with bursts of up to burst. It reports whether the request is admitted
// and, when not, how long until one would be. An error (ErrUnavailable
// while Redis is down) means "not known": the caller decides whether to
// admit.
func (r *RateLimiter) Allow(ctx context.Context, caller string, rate float64, burst int) (bool, time.Duration, error) {
	if rate <= 0 {
		return true, 0, nil
	}
	interval := math.Ceil(1e6 / rate)
	var res []int64
	err := r.s.do(ctx, func(ctx context.Context) error {
		var err error
		res, err = rateScript.Run(ctx, r.s.client, []string{r.s.key("rl", caller)}, int64(interval), max(burst, 1)).Int64Slice()
		return err
	})
	if err != nil {
		return false, 0, err
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit script: bad answer %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
