package config

import (
	"strings"
	"time"
)

// Reconciliation (PROTOCOL.md §12) runs every day after RECONCILE_AT, a
// time of day in Asia/Ho_Chi_Minh written HH:MM (default 02:00): by then a
// bank has published yesterday's statement. BANK_STATEMENT_TIMEOUT (a Go
// duration, default 5m) bounds one statement's fetch, which is longer
// than a debit's request and counted apart from it. RECONCILE_AT=off runs
// no daily job in this process: days are then reconciled only on demand
// (gatewayctl reconcile), as tests that set their own days do.

// ReconcileOff is ReconcileAt when RECONCILE_AT=off.
const ReconcileOff time.Duration = -1

// loadReconcile reads RECONCILE_AT and BANK_STATEMENT_TIMEOUT.
func (c *Config) loadReconcile(getenv func(string) string) error {
	raw := strings.TrimSpace(getenv("RECONCILE_AT"))
	at, err := clockTime(raw, 2*time.Hour)
	if raw == "off" {
		at, err = ReconcileOff, nil
	}
	if err != nil {
		return &Error{"RECONCILE_AT", err.Error()}
	}
	c.ReconcileAt = at
	c.BankStatementTimeout = 5 * time.Minute
	if v := strings.TrimSpace(getenv("BANK_STATEMENT_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return &Error{"BANK_STATEMENT_TIMEOUT", "must be a positive Go duration such as 5m"}
		}
		c.BankStatementTimeout = d
	}
	return nil
}

type clockError string

func (e clockError) Error() string { return string(e) }

// clockTime reads HH:MM as the time past midnight; "" is def.
func clockTime(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, clockError("must be a time of day HH:MM, such as 02:00, or off")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
