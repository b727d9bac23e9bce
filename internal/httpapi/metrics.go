package httpapi

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/reconcile"
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

// NewMetrics registers the metrics, including those read from PostgreSQL at
// scrape time (payment requests by state, and the gauges alerts watch: see
// storeCollector). now is the gateway's clock, which ages are measured by;
// nil is time.Now.
func NewMetrics(db *postgres.DB, now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
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
		reg.MustRegister(newStoreCollector(db, now))
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

// storeCollector reads, at each scrape, the gauges that alerts watch: each
// is one cheap query of internal/postgres, and one that fails leaves its
// gauge out of that scrape. Their labels are portal ids, bank codes and
// incident kinds: few, each onboarded by an operator or defined in code.
type storeCollector struct {
	db  *postgres.DB
	now func() time.Time

	incidentsOpen, webhookBacklog, webhookOldest  *prometheus.Desc
	outcomesUnknown, reconStatus, reconMatchedAge *prometheus.Desc
}

// reconciliationStatuses are the values of gateway_reconciliation_status's
// status label: each bank has one series of each, 1 for its latest day's.
var reconciliationStatuses = []reconcile.Status{reconcile.StatusMatched, reconcile.StatusDifferences, reconcile.StatusUnavailable}

func newStoreCollector(db *postgres.DB, now func() time.Time) *storeCollector {
	return &storeCollector{db: db, now: now,
		incidentsOpen: prometheus.NewDesc("gateway_incidents_open",
			"Open incidents by kind, waiting for an operator's decision (gatewayctl incidents); kinds with none are absent.",
			[]string{"kind"}, nil),
		webhookBacklog: prometheus.NewDesc("gateway_webhook_backlog",
			"Events of each portal neither delivered nor failed yet, those held for a disabled endpoint included.",
			[]string{"portal"}, nil),
		webhookOldest: prometheus.NewDesc("gateway_webhook_oldest_undelivered_seconds",
			"Age of each portal's oldest event neither delivered nor failed, 0 when there is none.",
			[]string{"portal"}, nil),
		outcomesUnknown: prometheus.NewDesc("gateway_bank_outcomes_unknown",
			"Debits and refunds sent to each bank (sent_at set) still pending: asked, and the bank's answer not known yet.",
			[]string{"bank"}, nil),
		reconStatus: prometheus.NewDesc("gateway_reconciliation_status",
			"Status of the latest business day each bank has a reconciliation for: 1 for its status, 0 for the others.",
			[]string{"bank", "status"}, nil),
		reconMatchedAge: prometheus.NewDesc("gateway_reconciliation_last_matched_day_age_days",
			"Days from today's business day (Asia/Ho_Chi_Minh) back to each bank's latest matched one; absent for a bank never matched.",
			[]string{"bank"}, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.incidentsOpen, c.webhookBacklog, c.webhookOldest,
		c.outcomesUnknown, c.reconStatus, c.reconMatchedAge} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := c.now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if open, err := postgres.OpenIncidentsByKind(ctx, c.db); err == nil {
		for kind, n := range open {
			gauge(c.incidentsOpen, float64(n), kind)
		}
	}
	if backlogs, err := postgres.WebhookBacklogs(ctx, c.db); err == nil {
		for _, b := range backlogs {
			gauge(c.webhookBacklog, float64(b.Pending), b.PortalID)
			age := 0.0
			if !b.Oldest.IsZero() {
				age = max(now.Sub(b.Oldest).Seconds(), 0)
			}
			gauge(c.webhookOldest, age, b.PortalID)
		}
	}
	if unknown, err := postgres.OutcomesUnknownByBank(ctx, c.db); err == nil {
		for bank, n := range unknown {
			gauge(c.outcomesUnknown, float64(n), bank)
		}
	}
	if latest, err := postgres.LatestReconciliations(ctx, c.db); err == nil {
		today := reconcile.DayOf(now)
		for _, l := range latest {
			for _, st := range reconciliationStatuses {
				v := 0.0
				if l.Status == st {
					v = 1
				}
				gauge(c.reconStatus, v, l.BankCode, string(st))
			}
			if !l.LastMatched.IsZero() {
				// Business days have 24 hours: Vietnam keeps no daylight saving time.
				gauge(c.reconMatchedAge, math.Round(today.Start().Sub(l.LastMatched.Start()).Hours()/24), l.BankCode)
			}
		}
	}
}
