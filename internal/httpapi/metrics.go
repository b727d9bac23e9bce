package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/citizenpay/gateway/internal/postgres"
)

// Metrics are the gateway's Prometheus metrics.
type Metrics struct {
	Registry       *prometheus.Registry
	Requests       *prometheus.CounterVec
	Latency        *prometheus.HistogramVec
	Idempotency    *prometheus.CounterVec
	RedisFallbacks prometheus.Counter
	// BankIncidentsDropped counts, per bank, refused callbacks not recorded
	// because the bank reached its incident limit. Its label is a bank code,
	// taken after the callback's signature is checked: bounded by the
	// onboarded banks.
	BankIncidentsDropped *prometheus.CounterVec
}

// NewMetrics registers the metrics, including payment requests by state read
// from PostgreSQL at scrape time.
func NewMetrics(db *postgres.DB) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		Idempotency: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_idempotency_total", Help: "Idempotency outcomes: replay_redis, replay_postgres, in_use, reused, fallback.",
		}, []string{"outcome"}),
		RedisFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_redis_fallbacks_total", Help: "Redis calls that failed or were skipped, falling back to PostgreSQL.",
		}),
		BankIncidentsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_bank_incidents_dropped_total",
			Help: "Refused bank callbacks not recorded as incidents because the bank reached its limit per minute.",
		}, []string{"bank"}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.Idempotency, m.RedisFallbacks, m.BankIncidentsDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		reg.MustRegister(&stateCollector{db: db, desc: prometheus.NewDesc("gateway_payment_requests",
			"Payment requests by state.", []string{"state"}, nil)})
	}
	return m
}

type stateCollector struct {
	db   *postgres.DB
	desc *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := postgres.CountByStatus(ctx, c.db)
	if err != nil {
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(state))
	}
}
