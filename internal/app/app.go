// Package app wires the gateway from its configuration: pools, Redis, the
// service, background workers and the HTTP handler. cmd/gateway runs it;
// tests build it the same way against their own database and Redis.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/citizenpay/gateway/api"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"github.com/citizenpay/gateway/internal/admission"
	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/httpapi"
	"github.com/citizenpay/gateway/internal/idempotency"
	"github.com/citizenpay/gateway/internal/identity"
	"github.com/citizenpay/gateway/internal/jobs"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/redisstore"
	"github.com/citizenpay/gateway/internal/service"
	"github.com/citizenpay/gateway/internal/webhook/dispatch"
)

// App is a wired gateway.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	Pool    *pgxpool.Pool
	DB      *postgres.DB
	Redis   redis.UniversalClient
	Store   *redisstore.Store
	Keys    *keyring.Keyring
	PII     *pii.Protector
	Portals *postgres.PortalStore
	Service *service.Service
	River   *river.Client[pgx.Tx]
	// Dispatcher delivers webhooks from the events table (with the workers).
	Dispatcher   *dispatch.Dispatcher
	stopDispatch context.CancelFunc
	dispatching  chan struct{}
	Metrics      *httpapi.Metrics
	Handler      http.Handler // the API listener's (GATEWAY_ADDR)
	Ops          http.Handler // the operations listener's (OPS_ADDR): /metrics, health, pprof
	ownsPool     bool
	// stopListening ends the listener of key changes; listened is closed
	// once it has.
	stopListening context.CancelFunc
	listened      chan struct{}
	listening     chan struct{} // closed once key changes are first listened to
	listenOnce    sync.Once

	// Banks, their clients, citizens and the banks' callbacks (wired in banks.go).
	Banks       *service.Banks
	BankClients *bankclient.Clients
	Citizens    *service.Citizens
	Callbacks   *service.Callbacks
	// Reconciler checks each bank's day against its statement (banks.go).
	Reconciler *service.Reconciler

	// Shedder is the load shedder in front of the API (wired in admission.go).
	Shedder *admission.Shedder

	now func() time.Time // Options.Now
}

// Options adjust Build for tests.
type Options struct {
	Pool        *pgxpool.Pool // use this pool instead of opening DATABASE_URL
	RedisPrefix string        // prefix of every Redis key
	// Now is the clock the gateway's decisions by time read: expiries,
	// signature windows, caches' lifetimes, the Redis pause, webhook and
	// status schedules. Nil is time.Now; tests pass a clock they move
	// (testenv.Clock) instead of sleeping. River, PostgreSQL's now() and
	// the banks' circuit breaker keep the wall clock.
	Now func() time.Time
}

// Build wires the gateway. It checks the schema version and refuses an older
// (or newer) one, and refuses a master key the database was not set up with
// (keyring.ErrMasterKeyMismatch).
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	a := &App{Config: cfg, Log: log, now: opts.Now}
	if a.now == nil {
		a.now = time.Now
	}
	var err error
	if a.Keys, err = keyring.New(cfg.MasterKey); err != nil {
		return nil, fmt.Errorf("GATEWAY_MASTER_KEY: %w", err)
	}
	a.PII = pii.NewProtector(a.Keys)
	a.Pool = opts.Pool
	if a.Pool == nil {
		if a.Pool, err = postgres.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns); err != nil {
			return nil, err
		}
		a.ownsPool = true
	}
	if err := postgres.CheckSchema(ctx, a.Pool); err != nil {
		a.Close()
		return nil, err
	}
	if a.Redis, err = redisstore.Connect(redisstore.Options{URL: cfg.RedisURL, Addrs: cfg.RedisAddrs}); err != nil {
		a.Close()
		return nil, err
	}
	a.DB = postgres.NewDB(a.Pool)
	// A wrong master key is refused by name before anything sealed fails
	// to open with it.
	if err := postgres.CheckMasterKey(ctx, a.DB, a.Keys); err != nil {
		a.Close()
		return nil, err
	}
	a.Metrics = httpapi.NewMetrics(a.DB, a.now)
	a.Store = redisstore.New(a.Redis, opts.RedisPrefix, a.Metrics.RedisFallbacks.Inc)
	a.Store.Now = a.now
	a.Portals = postgres.NewPortalStore(a.DB, a.Keys)
	jobsConfig := jobs.Config{
		DB: a.DB, Log: log, ExpiryInterval: cfg.ExpiryInterval,
		IdempotencyTTL: cfg.IdempotencyTTL, Work: cfg.Workers,
		BankCallbackTimeout: cfg.BankCallbackTimeout, BankBreakerCooldown: cfg.BankBreakerCooldown,
		PII: a.PII, StatusScheduleScale: cfg.StatusScheduleScale,
		Now: a.now,
	}
	// The services insert their jobs through queue, bound to River's client
	// once it exists: its workers need the services first.
	queue := &jobs.Queue{}
	a.Dispatcher = dispatch.New(dispatch.Config{DB: a.DB, Portals: a.Portals, Log: log, Development: cfg.Development(),
		WebhookRetryFactor: cfg.WebhookRetryFactor, Registry: a.Metrics.Registry, Now: a.now})
	a.Service = &service.Service{DB: a.DB, PII: a.PII, Enqueue: queue.Enqueue, Now: a.now,
		PublicURL: cfg.PublicURL, Development: cfg.Development(),
		Receipts: service.NewReceipts(a.Keys, cfg.PublicURL)}
	if cfg.Workers {
		// Events go to this process's dispatcher as their transaction commits.
		a.Service.Handoff, a.Service.HandoffLease = a.Dispatcher.Offer, dispatch.Lease
	}
	a.wireBanks(cfg, queue.Enqueue)
	jobsConfig.Service, jobsConfig.Citizens, jobsConfig.BankClients = a.Service, a.Citizens, a.BankClients
	jobsConfig.Reconciler, jobsConfig.ReconcileAt = a.Reconciler, cfg.ReconcileAt
	a.River, err = jobs.NewClient(jobsConfig)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("background jobs: %w", err)
	}
	queue.Bind(a.River)
	var verifier *identity.Verifier
	if cfg.IdentityConfigured() {
		verifier, err = identity.NewVerifier(identity.Config{
			Issuer: cfg.IDPIssuer, Audience: cfg.IDPAudience, JWKSURL: cfg.IDPJWKSURL, Development: cfg.Development(),
			Now: a.now,
		})
		if err != nil {
			a.Close()
			return nil, err
		}
	}
	guard := &idempotency.Guard{
		Records: a.DB, Fast: a.Store.Idempotency(), TTL: cfg.IdempotencyTTL, LockTTL: 60 * time.Second,
		Observe: func(o string) { a.Metrics.Idempotency.WithLabelValues(o).Inc() },
	}
	admit := a.admission(cfg)
	deps := httpapi.Deps{
		Log: log, DB: a.DB, Redis: a.Store, Service: a.Service, Guard: guard, Portals: a.Portals,
		Metrics: a.Metrics, Identity: verifier, OpenAPI: api.OpenAPI,
		Banks: a.Banks, Citizens: a.Citizens, Callbacks: a.Callbacks, BankOpen: a.BankClients.Open,
		FingerprintKey: a.Keys.Key("idempotency-fingerprint"),
		Admission:      admit, BodyReadTimeout: cfg.BodyReadTimeout, Now: a.now,
	}
	if deps.Checkout, err = a.checkout(cfg, opts, guard, deps.FingerprintKey, admit); err != nil {
		a.Close()
		return nil, err
	}
	deps.PortalKeys = httpapi.NewPortalCache(a.Portals)
	a.listenKeyChanges(ctx, deps.PortalKeys.Forget, deps.PortalKeys.ForgetAll)
	a.Handler = httpapi.New(deps)
	a.Ops = httpapi.NewOps(deps, cfg.OpsPprof)
	return a, nil
}

// listenKeyChanges keeps the caches of portals and banks told of every key
// created, rotated or revoked by any process (postgres.KeyChangesChannel):
// a revoked secret stops working here as soon as its change commits, and
// the caches' TTLs are only the fallback while the listening connection
// is lost (everything is forgotten when it comes back).
func (a *App) listenKeyChanges(ctx context.Context, forgetPortal func(string), forgetPortals func()) {
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopListening, a.listened, a.listening = stop, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.listened)
		postgres.ListenKeyChanges(lctx, a.Pool, postgres.KeyChanges{
			Changed: func(kind, key string) {
				switch kind {
				case postgres.KeyPortal:
					forgetPortal(key)
				case postgres.KeyBank:
					a.Banks.Forget(key)
				}
			},
			Lost: func() {
				forgetPortals()
				a.Banks.ForgetAll()
				a.listenOnce.Do(func() { close(a.listening) })
			},
		})
	}()
}

// ListeningForKeyChanges is closed once the process listens to key
// changes, for tests that must know a change will be heard.
func (a *App) ListeningForKeyChanges() <-chan struct{} { return a.listening }

// StartWorkers starts the background workers, if this process runs them.
func (a *App) StartWorkers(ctx context.Context) error {
	if !a.Config.Workers {
		return nil
	}
	if err := a.River.Start(ctx); err != nil {
		return err
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopDispatch, a.dispatching = cancel, make(chan struct{})
	go func() {
		defer close(a.dispatching)
		a.Dispatcher.Run(dctx)
	}()
	return nil
}

// StopWorkers lets running jobs finish, up to ctx's deadline.
func (a *App) StopWorkers(ctx context.Context) error {
	if !a.Config.Workers {
		return nil
	}
	if a.stopDispatch != nil {
		a.stopDispatch()
		select { // attempts in flight finish and are recorded
		case <-a.dispatching:
		case <-ctx.Done():
		}
	}
	return a.River.Stop(ctx)
}

// Close releases the pools.
func (a *App) Close() {
	if a.stopListening != nil {
		a.stopListening()
		<-a.listened
	}
	if a.BankClients != nil {
		a.BankClients.Close()
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	if a.ownsPool && a.Pool != nil {
		a.Pool.Close()
	}
}
