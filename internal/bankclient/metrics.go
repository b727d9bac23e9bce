package bankclient

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// metrics are the bank clients' Prometheus metrics, labelled by bank.
type metrics struct {
	latency  *prometheus.HistogramVec
	outcomes *prometheus.CounterVec
}

// newMetrics registers the metrics on reg (nil: kept but not exported).
func newMetrics(reg prometheus.Registerer, cs *Clients) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_bank_request_duration_seconds",
			Help:    "Latency of each request to a bank, by bank and operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"bank", "operation"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_bank_requests_total",
			Help: "Requests to banks by bank, operation and outcome: succeeded, failed, pending, not_found, unknown, circuit_open.",
		}, []string{"bank", "operation", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.latency, m.outcomes, &breakerCollector{cs: cs, desc: prometheus.NewDesc(
			"gateway_bank_circuit_state", "Each bank's circuit breaker: 0 closed, 1 half-open, 2 open.",
			[]string{"bank"}, nil)})
	}
	return m
}

func (m *metrics) observe(bank, op string, r Result, d time.Duration) {
	m.latency.WithLabelValues(bank, op).Observe(d.Seconds())
	label := r.Outcome.String()
	if r.NotFound {
		label = "not_found"
	}
	m.outcome(bank, op, label)
}

func (m *metrics) outcome(bank, op, label string) {
	m.outcomes.WithLabelValues(bank, op, label).Inc()
}

// breakerCollector reads every breaker's state at scrape time, so the gauge
// shows an open circuit turning half-open even when nobody calls the bank.
type breakerCollector struct {
	cs   *Clients
	desc *prometheus.Desc
}

func (b *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	b.cs.each(func(c *Client) {
		v := 0.0
		switch c.breaker.State() {
		case gobreaker.StateHalfOpen:
			v = 1
		case gobreaker.StateOpen:
			v = 2
		}
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, v, c.code)
	})
}
