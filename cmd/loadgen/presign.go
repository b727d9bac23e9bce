package main

import (
	"context"
	"net/http"
	"time"

	"github.com/citizenpay/gateway/internal/signature"
	"github.com/citizenpay/gateway/pkg/portal"
)

// The create, replay and clear scenarios send requests built, signed and
// encoded before their clock starts: what the generator spends on a request
// while measured is then a write of bytes and the read of the answer, not
// JSON, SHA-256, HMAC and header maps as well.
//
// What a request costs the generator, before (signed and encoded as it is
// sent) and after (pre-built), on the 2-core bench machine shared with the
// gateway, PostgreSQL and Redis (`make bench SHORT=1
// SCENARIOS=create,replay,clear`, loadgen's own CPU-ms/op, the "gen"
// column; one run each, noisy to a few hundredths):
//
//	create  0.121 → 0.093 ms/op
//	replay  0.081 → 0.082 ms/op
//	clear   0.438 → 0.436 ms/op (165-210/s: mostly the generator's fixed
//	        costs, the webhook receiver and the memory sampler, over few ops)
//
// BenchmarkBuildCreate and BenchmarkBuildClear put the work taken off the
// send path at about 0.014 ms for a create (body, keys, SHA-256, HMAC,
// encoding) and 0.009 ms for a callback; what remains per request is the
// exchange itself, its goroutine and timer, and recording it.
//
// A signature holds its timestamp, which the gateway accepts within
// portal.MaxSkew (signature.MaxSkew for a bank's) of its clock, 300 s. The
// requests due in the schedule's first presignAhead are built before it
// starts; a longer scenario's later ones are built by one goroutine, chunk
// by chunk, each presignAhead before it is due, so that none is older than
// presignAhead+presignChunk when sent.
const (
	presignAhead = 60 * time.Second
	presignChunk = 10 * time.Second
)

// presigned is a scenario's requests, ready to send, by their index in the
// schedule.
type presigned struct {
	reqs  [][]byte
	ready []chan struct{} // per chunk: closed once built
	per   int             // requests a chunk
}

// presign builds the n requests of a schedule at rate a second with build,
// which is given a request's index and the time to sign it at.
func presign(ctx context.Context, n int, rate float64, build func(i int, now time.Time) []byte) *presigned {
	per := max(1, int(rate*presignChunk.Seconds()))
	p := &presigned{reqs: make([][]byte, n), per: per}
	chunks := (n + per - 1) / per
	for range chunks {
		p.ready = append(p.ready, make(chan struct{}))
	}
	buildChunk := func(c int) {
		now := time.Now()
		for i := c * per; i < min(n, (c+1)*per); i++ {
			p.reqs[i] = build(i, now)
		}
		close(p.ready[c])
	}
	ahead := int(presignAhead / presignChunk)
	c := 0
	for ; c < min(chunks, ahead); c++ {
		buildChunk(c)
	}
	if c == chunks {
		return p
	}
	start := time.Now()
	go func() {
		for ; c < chunks; c++ {
			// Chunk c is due at c×presignChunk from the start.
			wait := time.Until(start.Add(time.Duration(c)*presignChunk - presignAhead))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				for ; c < chunks; c++ {
					close(p.ready[c])
				}
				return
			}
			buildChunk(c)
		}
	}()
	return p
}

// get returns request i (nil past the last), and whether it had to wait
// for its chunk.
func (p *presigned) get(i int) ([]byte, bool) {
	if i >= len(p.reqs) {
		return nil, false
	}
	ch := p.ready[i/p.per]
	select {
	case <-ch:
		return p.reqs[i], false
	default:
	}
	<-ch
	return p.reqs[i], true
}

// send sends request i of p with the lean client, timed by rec; a request
// whose chunk was not yet built (the builder fell behind) is counted.
func (b *bench) send(ctx context.Context, rec *recorder, p *presigned, i int) result {
	raw, waited := p.get(i)
	if waited {
		rec.count("presign_waited")
	}
	if raw == nil {
		rec.count("not_built")
		return result{}
	}
	return rec.record(func() result { return b.c.lean.doRaw(ctx, raw) })
}

// portalWire is portalDo's request, signed at now and encoded for the wire.
func (c *client) portalWire(method, target string, body []byte, key string, now time.Time) []byte {
	req, err := http.NewRequest(method, c.base+target, nil)
	if err != nil {
		panic(err) // the bench's own targets
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(portal.HeaderIdempotencyKey, key)
	}
	req.Header.Set(portal.HeaderPortalKey, c.portal.KeyID)
	portal.SignRequest(req, c.portal.Secret, body, now)
	return encodeRequest(method, req.URL.RequestURI(), c.lean.addr, req.Header, body)
}

// callbackWire is callback's request, signed at now and encoded for the wire.
func (c *client) callbackWire(bank string, body []byte, now time.Time) []byte {
	req, err := http.NewRequest(http.MethodPost, c.base+"/v1/bank-callbacks/"+bank, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	signature.SignRequest(req, c.banks[bank].Secret, body, now)
	return encodeRequest(http.MethodPost, req.URL.RequestURI(), c.lean.addr, req.Header, body)
}
