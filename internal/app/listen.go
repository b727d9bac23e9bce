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
	return listener.New(ln, listener.Config{
		MaxConns: a.Config.MaxConnections, MaxPerSource: a.Config.MaxConnectionsPerSource,
		TrustedProxies: a.Config.TrustedProxies, HeaderTimeout: 5 * time.Second,
		Refused: a.refusedConnections("api"),
	})
}

// ListenBanks wraps the banks' listener (BANK_CALLBACK_ADDR): a budget of
// BANK_MAX_CONNECTIONS of its own, which no client of the public listener
// can take. A bank opens many connections from few addresses, so there is
// no cap per source here; TRUSTED_PROXIES apply as on the API listener.
func (a *App) ListenBanks(ln net.Listener) *listener.Listener {
	return listener.New(ln, listener.Config{
		MaxConns: a.Config.BankMaxConnections, MaxPerSource: a.Config.BankMaxConnections,
		TrustedProxies: a.Config.TrustedProxies, HeaderTimeout: 5 * time.Second,
		Refused: a.refusedConnections("banks"),
	})
}

// refusedConnections counts a listener's refusals in
// gateway_connections_refused_total{listener, reason}.
func (a *App) refusedConnections(name string) func(reason string) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_connections_refused_total", Help: "Connections closed on arrival, by listener (api, banks) and reason: per_source (over GATEWAY_MAX_CONNECTIONS_PER_IP), proxy_header (a bad PROXY header, or one from an untrusted peer).",
	}, []string{"listener", "reason"})
	if err := a.Metrics.Registry.Register(refused); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			refused = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return func(reason string) { refused.WithLabelValues(name, reason).Inc() }
}
