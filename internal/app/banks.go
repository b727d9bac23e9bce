package app

import (
	"github.com/citizenpay/gateway/internal/bankclient"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/jobargs"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// wireBanks builds the bank directory, the clients that call banks, the
// citizen service and the callback dispatcher. It runs before the River
// client is built, whose workers need them; the citizen service inserts
// its jobs with enqueue.
func (a *App) wireBanks(cfg config.Config, enqueue jobargs.Enqueue) {
	a.Banks = &service.Banks{Store: postgres.NewBankStore(a.DB, a.Keys), Now: a.now}
	a.BankClients = bankclient.New(a.Banks, bankclient.Options{
		Timeout: cfg.BankRequestTimeout, BreakerCooldown: cfg.BankBreakerCooldown, Now: a.now,
		StatementTimeout: cfg.BankStatementTimeout,
	}, a.Metrics.Registry)
	a.Reconciler = &service.Reconciler{Service: a.Service, Statements: a.BankClients, Log: a.Log.With("component", "reconcile")}
	a.Citizens = &service.Citizens{
		DB: a.DB, PII: a.PII, Names: a.Keys.Sealer("account-holder-names"), Banks: a.Banks,
		VerificationTimeout: cfg.AccountVerificationTimeout, Enqueue: enqueue, Now: a.now,
	}
	a.Callbacks = &service.Callbacks{DB: a.DB, Dedupe: a.Store.Dedupe(),
		Dropped: func(bank string) { a.Metrics.BankIncidentsDropped.WithLabelValues(bank).Inc() }}
	a.Callbacks.Handle("account_verification", a.Citizens.VerificationCallback)
	a.Callbacks.Handle("debit", a.Service.DebitCallback)
	a.Callbacks.Handle("refund", a.Service.RefundCallback)
}
