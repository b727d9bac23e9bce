// Package config reads the gateway's settings from the environment
// (PROTOCOL.md §9). A bad or missing required value is an error whose text
// names the setting, so start-up can stop with one clear line.
package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environments the gateway knows.
const (
	EnvProduction  = "production"
	EnvDevelopment = "development"
)

// Config is every setting of the gateway process and of gatewayctl.
type Config struct {
	DatabaseURL string
	RedisURL    string   // one Redis, or
	RedisAddrs  []string // a Redis Cluster
	MasterKey   []byte   // 32 bytes

	IDPIssuer   string
	IDPAudience string
	IDPJWKSURL  string

	Addr                string
	Env                 string
	IdempotencyTTL      time.Duration
	BankCallbackTimeout time.Duration

	// Settings beyond §9, all with defaults; they let tests and operators
	// tune timers without touching code.
	ExpiryInterval      time.Duration // how often overdue pending requests are expired
	ShutdownTimeout     time.Duration // how long in-flight requests get on SIGTERM
	DatabaseMaxConns    int32
	Workers             bool // run background workers in this process
	LogLevel            string
	MaxConnections      int     // client connections served at once; more wait to be accepted
	WebhookRetryFactor  float64 // scales the webhook retry schedule (1 in production)
	StatusScheduleScale float64 // scales the bank status-query schedule after its first step (1 in production)

	// The listeners (cmd/gateway, internal/listener). OPS_ADDR serves
	// /metrics, /healthz, /readyz and, with OPS_PPROF=true, net/http/pprof
	// under /debug/pprof/ (OPS_ADDR must then be loopback); the API listener
	// never serves them. TRUSTED_PROXIES (IPs and CIDRs, comma-separated)
	// may send a PROXY protocol header (v1 or v2) naming the client; the
	// per-source cap applies to that client.
	OpsAddr                 string
	OpsPprof                bool
	MaxConnectionsPerSource int            // GATEWAY_MAX_CONNECTIONS_PER_IP: connections one client address (an IPv6 /64) holds at once
	TrustedProxies          []netip.Prefix // empty: trust nobody
	BodyReadTimeout         time.Duration  // BODY_READ_TIMEOUT: how long a request body may take to arrive
	// BANK_CALLBACK_ADDR, when set, is a listener of its own for the banks'
	// callbacks (and health), with BANK_MAX_CONNECTIONS connections of its
	// own: however many sources flood the public listener, the banks' word
	// about money keeps being heard. Banks usually reach it over a private
	// link or an allow-listed address of the load balancer.
	BankCallbackAddr   string
	BankMaxConnections int

	BankRequestTimeout         time.Duration // bounds one request to a bank
	BankBreakerCooldown        time.Duration // how long a bank's open circuit refuses calls
	AccountVerificationTimeout time.Duration // a link without the bank's answer is then rejected (bank_timeout)

	// Admission control at peak hours (internal/admission).
	RateLimitPortalRPS   float64       // requests a second per portal (0: no limit)
	RateLimitPortalBurst int           // requests a portal may send at once
	AdmissionMaxInFlight int           // requests in flight before shedding (0: never shed)
	AdmissionMaxWait     time.Duration // how long a request waits for room before 503
	AdmissionDBWait      time.Duration // average PostgreSQL connection wait above which reads are shed (0: never)

	// Per citizen, on mutations only (POST/DELETE under /v1/me), next to
	// the per-portal limit: a burst a real citizen never uses up (link, pay
	// a few fees, set a default), then one every 5 s, so a script probing
	// account numbers is slowed to 12 a minute. Reads are not limited.
	RateLimitCitizenRPS   float64 // RATE_LIMIT_CITIZEN_RPS, default 0.2 (0: no limit)
	RateLimitCitizenBurst int     // RATE_LIMIT_CITIZEN_BURST, default 10

	// The hosted checkout and the receipts (checkout.go).
	PublicURL       string // GATEWAY_PUBLIC_URL, without a trailing slash
	IDPClientID     string // IDP_CLIENT_ID: the checkout's OpenID Connect client
	IDPClientSecret string // IDP_CLIENT_SECRET

	// Reconciliation (reconcile.go).
	ReconcileAt          time.Duration // RECONCILE_AT: time of day, past midnight, after which yesterday is reconciled
	BankStatementTimeout time.Duration // BANK_STATEMENT_TIMEOUT: bounds one statement fetch
}

// IdentityConfigured reports whether the citizen API can verify tokens.
func (c Config) IdentityConfigured() bool {
	return c.IDPIssuer != "" && c.IDPAudience != "" && c.IDPJWKSURL != ""
}

// Development reports whether GATEWAY_ENV is development.
func (c Config) Development() bool { return c.Env == EnvDevelopment }

// Error names the setting that stopped start-up.
type Error struct {
	Setting string
	Problem string
}

func (e *Error) Error() string { return e.Setting + ": " + e.Problem }

// Load reads the configuration from getenv (os.Getenv in production, a map in
// tests). It returns the first problem found.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		DatabaseURL:         r.required("DATABASE_URL"),
		Addr:                r.str("GATEWAY_ADDR", ":8080"),
		Env:                 r.str("GATEWAY_ENV", EnvProduction),
		IdempotencyTTL:      r.duration("IDEMPOTENCY_TTL", 24*time.Hour),
		BankCallbackTimeout: r.duration("BANK_CALLBACK_TIMEOUT", 90*time.Second),
		ExpiryInterval:      r.duration("EXPIRY_INTERVAL", 30*time.Second),
		ShutdownTimeout:     r.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		DatabaseMaxConns:    int32(r.integer("DATABASE_MAX_CONNS", 32, 2, 1000)),
		Workers:             r.boolean("GATEWAY_WORKERS", true),
		LogLevel:            r.str("LOG_LEVEL", "info"),
		MaxConnections:      r.integer("GATEWAY_MAX_CONNECTIONS", 4096, 16, 1_000_000),
		WebhookRetryFactor:  r.float("WEBHOOK_RETRY_FACTOR", 1, 0.0001, 1),
		StatusScheduleScale: r.float("BANK_STATUS_SCHEDULE_SCALE", 1, 0.00001, 1),

		BankRequestTimeout:         r.duration("BANK_REQUEST_TIMEOUT", 10*time.Second),
		BankBreakerCooldown:        r.duration("BANK_BREAKER_COOLDOWN", 30*time.Second),
		AccountVerificationTimeout: r.duration("ACCOUNT_VERIFICATION_TIMEOUT", 24*time.Hour),

		OpsAddr:                 r.str("OPS_ADDR", "127.0.0.1:9090"),
		OpsPprof:                r.boolean("OPS_PPROF", false),
		MaxConnectionsPerSource: r.integer("GATEWAY_MAX_CONNECTIONS_PER_IP", 128, 1, 1_000_000),
		TrustedProxies:          r.prefixes("TRUSTED_PROXIES"),
		BodyReadTimeout:         r.duration("BODY_READ_TIMEOUT", 5*time.Second),
		BankCallbackAddr:        r.str("BANK_CALLBACK_ADDR", ""),
		BankMaxConnections:      r.integer("BANK_MAX_CONNECTIONS", 512, 1, 1_000_000),

		RateLimitPortalRPS:   r.float("RATE_LIMIT_PORTAL_RPS", 1000, 0, 1e6),
		RateLimitPortalBurst: r.integer("RATE_LIMIT_PORTAL_BURST", 0, 0, 10_000_000),
		AdmissionMaxInFlight: r.integer("ADMISSION_MAX_IN_FLIGHT", -1, 0, 1_000_000),
		AdmissionMaxWait:     r.duration("ADMISSION_MAX_WAIT", 20*time.Millisecond),
		AdmissionDBWait:      r.duration("ADMISSION_DB_WAIT", 50*time.Millisecond),

		RateLimitCitizenRPS:   r.float("RATE_LIMIT_CITIZEN_RPS", 0.2, 0, 1e6),
		RateLimitCitizenBurst: r.integer("RATE_LIMIT_CITIZEN_BURST", 10, 1, 10_000_000),
	}
	if r.err != nil {
		return Config{}, r.err
	}
	if c.RateLimitPortalBurst == 0 { // default: two seconds' worth
		c.RateLimitPortalBurst = max(1, int(2*c.RateLimitPortalRPS))
	}
	if c.AdmissionMaxInFlight < 0 { // default: twice the pool
		c.AdmissionMaxInFlight = 2 * int(c.DatabaseMaxConns)
	}
	if c.AdmissionMaxWait < 0 {
		return Config{}, &Error{"ADMISSION_MAX_WAIT", "must not be negative"}
	}
	if c.AdmissionDBWait < 0 {
		return Config{}, &Error{"ADMISSION_DB_WAIT", "must not be negative"}
	}
	if c.Env != EnvProduction && c.Env != EnvDevelopment {
		return Config{}, &Error{"GATEWAY_ENV", "must be production or development"}
	}
	if err := checkURL("DATABASE_URL", c.DatabaseURL, "postgres", "postgresql"); err != nil {
		return Config{}, err
	}
	c.RedisURL = strings.TrimSpace(getenv("REDIS_URL"))
	if addrs := strings.TrimSpace(getenv("REDIS_ADDRS")); addrs != "" {
		for _, a := range strings.Split(addrs, ",") {
			a = strings.TrimSpace(a)
			if a == "" || !strings.Contains(a, ":") {
				return Config{}, &Error{"REDIS_ADDRS", "must be comma-separated host:port pairs"}
			}
			c.RedisAddrs = append(c.RedisAddrs, a)
		}
	}
	switch {
	case c.RedisURL == "" && len(c.RedisAddrs) == 0:
		return Config{}, &Error{"REDIS_URL", "is required (or REDIS_ADDRS for a cluster)"}
	case c.RedisURL != "" && len(c.RedisAddrs) > 0:
		return Config{}, &Error{"REDIS_URL", "set REDIS_URL or REDIS_ADDRS, not both"}
	case c.RedisURL != "":
		if err := checkURL("REDIS_URL", c.RedisURL, "redis", "rediss"); err != nil {
			return Config{}, err
		}
	}
	raw, err := masterKey(getenv)
	if err != nil {
		return Config{}, err
	}
	c.MasterKey = raw
	if c.IdempotencyTTL < 24*time.Hour {
		return Config{}, &Error{"IDEMPOTENCY_TTL", "must be at least 24h"}
	}
	if c.BankCallbackTimeout <= 0 {
		return Config{}, &Error{"BANK_CALLBACK_TIMEOUT", "must be positive"}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"BANK_REQUEST_TIMEOUT", c.BankRequestTimeout}, {"BANK_BREAKER_COOLDOWN", c.BankBreakerCooldown},
		{"ACCOUNT_VERIFICATION_TIMEOUT", c.AccountVerificationTimeout}} {
		if d.v <= 0 {
			return Config{}, &Error{d.name, "must be positive"}
		}
	}
	if c.ExpiryInterval <= 0 {
		return Config{}, &Error{"EXPIRY_INTERVAL", "must be positive"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return Config{}, &Error{"LOG_LEVEL", "must be debug, info, warn or error"}
	}
	if _, _, err := splitAddr(c.Addr); err != nil {
		return Config{}, &Error{"GATEWAY_ADDR", "must be host:port or :port"}
	}
	if err := c.checkListeners(getenv); err != nil {
		return Config{}, err
	}
	if err := c.loadCheckout(getenv); err != nil {
		return Config{}, err
	}
	if err := c.loadReconcile(getenv); err != nil {
		return Config{}, err
	}

	c.IDPIssuer = strings.TrimSpace(getenv("IDP_ISSUER"))
	c.IDPAudience = strings.TrimSpace(getenv("IDP_AUDIENCE"))
	c.IDPJWKSURL = strings.TrimSpace(getenv("IDP_JWKS_URL"))
	set := 0
	for _, v := range []string{c.IDPIssuer, c.IDPAudience, c.IDPJWKSURL} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		for _, s := range []struct{ name, v string }{{"IDP_ISSUER", c.IDPIssuer}, {"IDP_AUDIENCE", c.IDPAudience}, {"IDP_JWKS_URL", c.IDPJWKSURL}} {
			if s.v == "" {
				return Config{}, &Error{s.name, "is required when any IDP_ setting is given"}
			}
		}
	}
	if c.IDPJWKSURL != "" {
		u, err := url.Parse(c.IDPJWKSURL)
		switch {
		case err != nil:
			return Config{}, &Error{"IDP_JWKS_URL", "is not a URL"}
		case u.Scheme == "https" || u.Scheme == "file":
		case u.Scheme == "http" && c.Development():
		case u.Scheme == "http":
			return Config{}, &Error{"IDP_JWKS_URL", "must be https:// or file:// (http:// only with GATEWAY_ENV=development)"}
		default:
			return Config{}, &Error{"IDP_JWKS_URL", "must be https:// or file://"}
		}
	}
	return c, nil
}

// checkListeners checks the settings of the operations listener and of the
// connection limits.
func (c Config) checkListeners(getenv func(string) string) error {
	if strings.TrimSpace(getenv("GATEWAY_PPROF_ADDR")) != "" {
		return &Error{"GATEWAY_PPROF_ADDR", "is gone: set OPS_PPROF=true to serve pprof on OPS_ADDR"}
	}
	host, _, err := splitAddr(c.OpsAddr)
	if err != nil || host == "" {
		return &Error{"OPS_ADDR", "must be host:port, such as 127.0.0.1:9090"}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); c.OpsPprof && (err != nil || !ip.IsLoopback()) {
		return &Error{"OPS_PPROF", "needs a loopback OPS_ADDR, such as 127.0.0.1:9090"}
	}
	if c.MaxConnectionsPerSource > c.MaxConnections {
		return &Error{"GATEWAY_MAX_CONNECTIONS_PER_IP", "must not exceed GATEWAY_MAX_CONNECTIONS"}
	}
	if c.BodyReadTimeout <= 0 {
		return &Error{"BODY_READ_TIMEOUT", "must be positive"}
	}
	if c.BankCallbackAddr != "" {
		_, port, err := splitAddr(c.BankCallbackAddr)
		if err != nil {
			return &Error{"BANK_CALLBACK_ADDR", "must be host:port or :port"}
		}
		if port != 0 && (c.BankCallbackAddr == c.Addr || c.BankCallbackAddr == c.OpsAddr) {
			return &Error{"BANK_CALLBACK_ADDR", "must differ from GATEWAY_ADDR and OPS_ADDR"}
		}
	}
	return nil
}

func checkURL(name, raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &Error{name, "is not a URL"}
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return &Error{name, fmt.Sprintf("must be a %s:// URL", schemes[0])}
}

func splitAddr(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("no port")
	}
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("bad port")
	}
	return addr[:i], p, nil
}
