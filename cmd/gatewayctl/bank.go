package main

import (
	"fmt"
	"time"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/service"
)

// bank onboards and lists banks, and rotates their secrets (PROTOCOL.md §9):
//
//	bank create --code C --name N --base-url U   → {"bank_code","secret"}
//	bank list
//	bank rotate-secret --code C [--revoke-old]   → the old secret keeps verifying callbacks for 24 h,
//	                                               or stops at once with --revoke-old
func (e env) bank(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := newFlags("bank " + args[0])
	code := fs.String("code", "", "bank code (2-16 of A-Z, 0-9)")
	name := fs.String("name", "", "bank name")
	baseURL := fs.String("base-url", "", "the bank's API base URL; a path is allowed")
	revokeOld := fs.Bool("revoke-old", false, "rotate-secret: the old secret stops working at once, without the 24 h grace")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errUsage
	}
	switch args[0] {
	case "list":
		return e.listBanks()
	case "create", "rotate-secret":
	default:
		return errUsage
	}
	db, k, op, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	banks := &service.Banks{Store: postgres.NewBankStore(db, k)}
	switch args[0] {
	case "create":
		b, err := banks.Onboard(e.ctx, *code, *name, *baseURL, op.Env == config.EnvDevelopment)
		if err != nil {
			return fmt.Errorf("bank create: %w", err)
		}
		return e.printJSON(map[string]string{"bank_code": b.Code, "secret": b.Secret})
	case "rotate-secret":
		if *code == "" {
			return fmt.Errorf("--code is required")
		}
		if !*revokeOld {
			b, err := banks.RotateSecret(e.ctx, *code)
			if err != nil {
				return err
			}
			return e.printJSON(map[string]any{"bank_code": b.Code, "secret": b.Secret, "previous_secret_revoked": false,
				"previous_secret_valid_until": b.PreviousSecretExpires.UTC()})
		}
		// A zero grace: the store keeps no previous secret.
		if err := banks.Store.RotateSecret(e.ctx, *code, bank.NewSecret(), bank.GraceUntil(time.Now(), true)); err != nil {
			return fmt.Errorf("rotate secret of bank %s: %w", *code, err)
		}
		b, err := banks.Fresh(e.ctx, *code)
		if err != nil {
			return err
		}
		return e.printJSON(map[string]any{"bank_code": b.Code, "secret": b.Secret, "previous_secret_revoked": true})
	}
	return errUsage
}

// listBanks runs `gatewayctl bank list`. It reads no secret, so it needs
// no master key.
func (e env) listBanks() error {
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	bs, err := postgres.ListBanks(e.ctx, db)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		row := map[string]any{"bank_code": b.Code, "name": b.Name, "base_url": b.BaseURL, "created_at": b.CreatedAt.UTC()}
		if b.PreviousSecretExpires != nil && now.Before(*b.PreviousSecretExpires) {
			row["previous_secret_valid_until"] = b.PreviousSecretExpires.UTC()
		}
		out = append(out, row)
	}
	return e.printJSON(out)
}
