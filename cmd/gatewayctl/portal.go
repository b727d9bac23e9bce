package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/webhook"
)

// open connects to the database and, when needKey, reads the master key
// and refuses one the database was not set up with (a database without a
// check value yet records this key's: postgres.CheckMasterKey).
func (e env) open(needKey bool) (*postgres.DB, *keyring.Keyring, config.Operator, error) {
	op, err := config.LoadOperator(e.getenv, needKey)
	if err != nil {
		return nil, nil, op, err
	}
	var k *keyring.Keyring
	if needKey {
		if k, err = keyring.New(op.MasterKey); err != nil {
			return nil, nil, op, fmt.Errorf("GATEWAY_MASTER_KEY: %w", err)
		}
	}
	pool, err := postgres.Open(e.ctx, op.DatabaseURL, 4)
	if err != nil {
		return nil, nil, op, err
	}
	db := postgres.NewDB(pool)
	if needKey {
		if err := postgres.CheckMasterKey(e.ctx, db, k); err != nil {
			db.Close()
			return nil, nil, op, err
		}
	}
	return db, k, op, nil
}

// migrate brings the schema up to date. With GATEWAY_MASTER_KEY set it
// then records the key's check value in a database that has none, or
// refuses a key the database was not set up with.
func (e env) migrate(args []string) error {
	if len(args) != 0 {
		return errUsage
	}
	withKey := strings.TrimSpace(e.getenv("GATEWAY_MASTER_KEY")) != ""
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := postgres.Migrate(e.ctx, db.Pool())
	if err != nil {
		return err
	}
	if withKey {
		keyed, _, _, err := e.open(true)
		if err != nil {
			return err
		}
		keyed.Close()
	}
	if applied == nil {
		applied = []int{}
	}
	return e.printJSON(map[string]any{"applied": applied, "version": postgres.LatestVersion()})
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// checkWebhookURL applies PROTOCOL.md §8: https and a public address in
// production; development also allows http and loopback.
func checkWebhookURL(raw, env string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--webhook-url: not an absolute URL")
	}
	if env == config.EnvDevelopment {
		if u.Scheme != "https" && u.Scheme != "http" {
			return fmt.Errorf("--webhook-url: must be http:// or https://")
		}
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("--webhook-url: must be https:// in production")
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("--webhook-url: must not be a private address in production")
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()) {
		return fmt.Errorf("--webhook-url: must not be a private address in production")
	}
	return nil
}

func (e env) portal(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := newFlags("portal " + args[0])
	name := fs.String("name", "", "portal name")
	hook := fs.String("webhook-url", "", "webhook URL")
	which := fs.String("portal", "", "portal id or key id")
	revokeOld := fs.Bool("revoke-old", false, "rotate: the old secret stops working at once, without the 24 h grace")
	var returnOrigins stringList
	fs.Var(&returnOrigins, "return-origin", "create: an origin the hosted checkout may return to (may be repeated)")
	if err := fs.Parse(args[1:]); err != nil || (fs.NArg() != 0 && args[0] != "set-return-origins") {
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch args[0] {
	case "list":
		return e.listPortals()
	case "update":
		return e.updatePortal(*which, *name, *hook, set["name"], set["webhook-url"])
	case "disable", "enable":
		return e.setPortalDisabled(*which, args[0] == "disable")
	case "enable-webhook":
		if *which == "" {
			return fmt.Errorf("--portal is required")
		}
		db, _, _, err := e.open(false)
		if err != nil {
			return err
		}
		defer db.Close()
		return e.enableWebhook(db, *which)
	case "create", "rotate-secret", "rotate-webhook-secret", "set-return-origins":
	default:
		return errUsage
	}
	db, k, op, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	store := postgres.NewPortalStore(db, k)
	now := time.Now().UTC()
	switch args[0] {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return fmt.Errorf("--name is required")
		}
		if err := checkWebhookURL(*hook, op.Env); err != nil {
			return err
		}
		origins, err := returnOriginsArg("--return-origin", returnOrigins, op.Env)
		if err != nil {
			return err
		}
		whsec, err := webhook.NewSecret()
		if err != nil {
			return err
		}
		p := &portal.Portal{ID: id.New(id.Portal), Name: *name, KeyID: portal.NewKeyID(), Secret: portal.NewSecret(),
			WebhookURL: *hook, WebhookSecret: whsec, ReturnOrigins: origins, CreatedAt: now}
		if err := store.Create(e.ctx, p); err != nil {
			return err
		}
		return e.printJSON(map[string]any{"portal_id": p.ID, "key_id": p.KeyID, "secret": p.Secret, "webhook_secret": p.WebhookSecret,
			"return_origins": p.ReturnOrigins})
	case "rotate-secret":
		if *which == "" {
			return fmt.Errorf("--portal is required")
		}
		secret := portal.NewSecret()
		grace := portal.GraceUntil(now, *revokeOld)
		if err := store.RotateSecret(e.ctx, *which, secret, grace); err != nil {
			return err
		}
		out := map[string]any{"portal_id": *which, "secret": secret, "previous_secret_revoked": *revokeOld}
		if !*revokeOld {
			out["previous_secret_valid_until"] = grace
		}
		return e.printJSON(out)
	case "rotate-webhook-secret":
		if *which == "" {
			return fmt.Errorf("--portal is required")
		}
		secret, err := webhook.NewSecret()
		if err != nil {
			return err
		}
		grace := portal.GraceUntil(now, *revokeOld)
		if err := store.RotateWebhookSecret(e.ctx, *which, secret, grace); err != nil {
			return err
		}
		out := map[string]any{"portal_id": *which, "webhook_secret": secret, "previous_webhook_secret_revoked": *revokeOld}
		if !*revokeOld {
			out["dual_signing_until"] = grace
		}
		return e.printJSON(out)
	case "set-return-origins":
		return e.setReturnOrigins(store, *which, fs.Args(), op.Env)
	}
	return errUsage
}
