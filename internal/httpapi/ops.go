package httpapi

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/citizenpay/gateway/internal/fault"
)

// NewOps builds the router of the operations listener (OPS_ADDR,
// PROTOCOL.md §9): /healthz, /readyz, /metrics and, with withPprof, the
// runtime profiles under /debug/pprof/. None of it is on the API router:
// metrics and profiles are for the operators' network only.
func NewOps(d Deps, withPprof bool) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{Deps: d}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(s.observe, s.recover)
	r.NoRoute(func(c *gin.Context) {
		s.fail(c, fault.New(fault.NotFound, "no route %s %s", s.methodLabel(c), c.Request.URL.Path))
	})
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})))
	if withPprof {
		r.GET("/debug/pprof/*profile", profiles)
	}
	s.methods = registeredMethods(r)
	return r
}

// profiles serves net/http/pprof: the index and named profiles (heap,
// goroutine, …), and the CPU profile, trace, command line and symbols.
func profiles(c *gin.Context) {
	switch c.Param("profile") {
	case "/cmdline":
		pprof.Cmdline(c.Writer, c.Request)
	case "/profile":
		pprof.Profile(c.Writer, c.Request)
	case "/symbol":
		pprof.Symbol(c.Writer, c.Request)
	case "/trace":
		pprof.Trace(c.Writer, c.Request)
	default:
		pprof.Index(c.Writer, c.Request)
	}
}
