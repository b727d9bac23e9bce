package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/citizenpay/gateway/internal/fault"
)

// SQLSTATE codes the store translates.
const (
	codeUniqueViolation = "23505"
)

// refusal is the domain refusal a constraint of the schema stands for.
// Its message may name the row's subject with one %s.
type refusal struct {
	code    fault.Code
	message string
}

// constraintRefusals is every constraint whose violation is a refusal the
// caller sees, not a fault of the gateway: the schema decides these, the
// table names them once.
var constraintRefusals = map[string]refusal{
	"payment_requests_live_dossier": {fault.DuplicateDossier, "dossier %s already has a live payment request"},
	"payment_attempts_live":         {fault.PaymentInProgress, "a payment of this request is already in progress"},
	"linked_accounts_active_number": {fault.AccountTaken, "this account number is already active for another citizen"},
	"banks_pkey":                    {fault.InvalidState, "bank %s is already onboarded"},
}

// errNoRows is a query's "nothing found", after interpretError.
var errNoRows = errors.New("no rows")

// interpretError is the store's one translation of a driver error: a query
// that found nothing is errNoRows, for the caller to turn into not_found or
// a nil result; a violated constraint of constraintRefusals is its refusal,
// naming subject where its message has a place for it; anything else comes
// back as it is, for the caller to wrap, and stays testable with
// IsUnavailable.
func interpretError(err error, subject string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation {
		if r, ok := constraintRefusals[pgErr.ConstraintName]; ok {
			if strings.Contains(r.message, "%s") {
				return fault.New(r.code, r.message, subject)
			}
			return fault.New(r.code, "%s", r.message)
		}
	}
	return err
}

// isRefusal reports whether err is a refusal the caller sees.
func isRefusal(err error) bool {
	_, ok := fault.As(err)
	return ok
}

// refusalOr is err when it is a refusal the caller sees, else wrapped.
func refusalOr(err, wrapped error) error {
	if _, ok := fault.As(err); ok {
		return err
	}
	return wrapped
}

// IsUnavailable reports whether err means PostgreSQL could not be reached,
// or went away, or is shutting down, as opposed to refusing a statement.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P0x: operator intervention.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, context.DeadlineExceeded)
}
