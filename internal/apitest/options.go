package apitest

import (
	"net"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/testenv"
)

// Option changes how the gateway is built: its environment, its clock.
type Option func(s *settings)

// settings is what the options set.
type settings struct {
	env      map[string]string
	clock    *testenv.Clock
	listener net.Listener
	tracer   pgx.QueryTracer
}

// WithEnv sets one environment variable.
func WithEnv(k, v string) Option { return func(s *settings) { s.env[k] = v } }

// WithClock makes the gateway (and a SecondGateway) decide by c instead of
// the wall clock, and the harness sign its requests by c: the test advances
// c past an expiry, a TTL or a pause instead of sleeping through it.
func WithClock(c *testenv.Clock) Option { return func(s *settings) { s.clock = c } }

// WithListener serves the gateway's public handler on ln instead of a
// listener of httptest's choosing, so that a test that must know the
// gateway's address before it starts (GATEWAY_PUBLIC_URL, an identity
// provider's redirect URI) can listen first. The harness closes ln when the
// test ends.
func WithListener(ln net.Listener) Option { return func(s *settings) { s.listener = ln } }

// WithTracer has the gateway reach PostgreSQL through a pool of its own
// whose connections report to tr (a pgx.QueryTracer, and a
// pgx.BatchTracer if it is one): for a test that counts what a request
// sends to PostgreSQL.
func WithTracer(tr pgx.QueryTracer) Option { return func(s *settings) { s.tracer = tr } }
