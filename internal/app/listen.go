package app

import (
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citizenpay/gateway/internal/listener"
)

// Listen wraps the API listener's socket with the connection caps:
// GATEWAY_MAX_CONNECTIONS in all, GATEWAY_MAX_CONNECTIONS_PER_IP per client
// address (the PROXY header's, from TRUSTED_PROXIES). One source flooding
// slow connections holds its own share only, and everyone else — bank
// callbacks included — keeps being served. Refusals are counted in
// gateway_connections_refused_total.
func (a *App) Listen(ln net.Listener) *listener.Listener {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_connections_refused_total", Help: "API connections closed on arrival, by reason: per_source (over GATEWAY_MAX_CONNECTIONS_PER_IP), proxy_header (a bad PROXY header, or one from an untrusted peer).",
	}, []string{"reason"})
	if err := a.Metrics.Registry.Register(refused); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			refused = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return listener.New(ln, listener.Config{
		MaxConns: a.Config.MaxConnections, MaxPerSource: a.Config.MaxConnectionsPerSource,
		TrustedProxies: a.Config.TrustedProxies, HeaderTimeout: 5 * time.Second,
		Refused: func(reason string) { refused.WithLabelValues(reason).Inc() },
	})
}
