package app

import (
	"github.com/citizenpay/gateway/internal/checkout"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/httpapi"
	"github.com/citizenpay/gateway/internal/idempotency"
)

// checkout wires the hosted checkout (PROTOCOL.md §10). Without its
// settings it is built off, answering 503, and start-up says once which
// setting is missing.
func (a *App) checkout(cfg config.Config, opts Options, guard *idempotency.Guard, fingerprintKey []byte, admit *httpapi.Admission) (*checkout.Pages, error) {
	d := checkout.Deps{
		Config: checkout.Config{
			Missing: cfg.CheckoutMissing(),
			Issuer:  cfg.IDPIssuer, ClientID: cfg.IDPClientID, ClientSecret: cfg.IDPClientSecret,
			RedirectURL: cfg.CheckoutRedirectURL(), Development: cfg.Development(),
			UnknownAfter: cfg.BankCallbackTimeout,
		},
		Redis: a.Redis, RedisPrefix: opts.RedisPrefix, Keys: a.Keys,
		Service: a.Service, Citizens: a.Citizens, Banks: a.Banks, Portals: a.Portals,
		Guard: guard, FingerprintKey: fingerprintKey, BankOpen: a.BankClients.Open,
		Stored: httpapi.DecidedOnState, Now: a.now, Receipts: a.Service,
		CitizenLimit: admit.AllowCitizen,
	}
	p, err := checkout.New(d)
	if err != nil {
		return nil, err
	}
	if off := p.Off(); off != "" {
		a.Log.Warn("the hosted checkout is off: its pages answer 503", "reason", off, "setting", cfg.CheckoutMissing())
	}
	return p, nil
}
