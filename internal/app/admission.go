package app

import (
	"time"

	"github.com/citizenpay/gateway/internal/admission"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/httpapi"
)

// admission wires peak-hour admission control: shedding by class within
// ADMISSION_MAX_IN_FLIGHT, reads shed first while PostgreSQL connections are
// scarce, and the per-portal and per-citizen rate limits in Redis.
func (a *App) admission(cfg config.Config) *httpapi.Admission {
	var pressure func() bool
	if cfg.AdmissionDBWait > 0 {
		pool := a.Pool
		watch := admission.NewPoolWatch(func() admission.PoolStat {
			st := pool.Stat()
			return admission.PoolStat{Waits: st.EmptyAcquireCount(), WaitTime: st.EmptyAcquireWaitTime()}
		}, cfg.AdmissionDBWait, 250*time.Millisecond, a.now)
		pressure = watch.Pressure
	}
	a.Shedder = admission.New(admission.Config{
		MaxInFlight: cfg.AdmissionMaxInFlight, MaxWait: cfg.AdmissionMaxWait, Pressure: pressure,
	})
	return httpapi.NewAdmission(httpapi.AdmissionConfig{
		Shedder: a.Shedder, Limiter: a.Store.RateLimiter(),
		PortalRate: cfg.RateLimitPortalRPS, PortalBurst: cfg.RateLimitPortalBurst,
		CitizenRate: cfg.RateLimitCitizenRPS, CitizenBurst: cfg.RateLimitCitizenBurst,
		Registry: a.Metrics.Registry,
	})
}
