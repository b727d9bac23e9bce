package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/postgres"
	"github.com/citizenpay/gateway/internal/webhook/dispatch"
)

// portalJSON is how gatewayctl prints a portal: never a secret.
func portalJSON(p postgres.PortalSummary) map[string]any {
	return map[string]any{"portal_id": p.ID, "name": p.Name, "key_id": p.KeyID, "webhook_url": p.WebhookURL,
		"webhook_disabled": p.WebhookDisabledAt != nil, "disabled": p.DisabledAt != nil,
		"return_origins": p.ReturnOrigins, "created_at": p.CreatedAt.UTC()}
}

// listPortals runs `gatewayctl portal list`. It reads no secret, so it
// needs no master key.
func (e env) listPortals() error {
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	ps, err := postgres.ListPortals(e.ctx, db)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, portalJSON(p))
	}
	return e.printJSON(out)
}

// updatePortal runs `gatewayctl portal update --portal ID [--name N]
// [--webhook-url U]`: what is given is checked as create checks it, and
// nothing changes unless all of it is good.
func (e env) updatePortal(which, name, hook string, setName, setHook bool) error {
	if which == "" {
		return errors.New("--portal is required")
	}
	if !setName && !setHook {
		return errors.New("give --name, --webhook-url or both")
	}
	db, _, op, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	var newName, newHook *string
	if setName {
		if name = strings.TrimSpace(name); name == "" {
			return errors.New("--name: must not be blank")
		}
		newName = &name
	}
	if setHook {
		if err := checkWebhookURL(hook, op.Env); err != nil {
			return err
		}
		newHook = &hook
	}
	p, err := postgres.UpdatePortal(e.ctx, db, which, newName, newHook)
	if err != nil {
		return err
	}
	return e.printJSON(portalJSON(p))
}

// setPortalDisabled runs `gatewayctl portal disable|enable --portal ID`.
// A disabled portal's signed requests are refused with 403
// portal_disabled at once (every gateway hears of the change); its
// webhooks are held, and queued again by enable.
func (e env) setPortalDisabled(which string, disable bool) error {
	if which == "" {
		return errors.New("--portal is required")
	}
	db, _, _, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	var s dispatch.PortalState
	if disable {
		s, err = dispatch.DisablePortal(e.ctx, db, which, time.Now().UTC())
	} else {
		s, err = dispatch.EnablePortal(e.ctx, db, which)
	}
	if err != nil {
		return err
	}
	out := map[string]any{"portal_id": s.PortalID, "disabled": disable, "changed": s.Changed}
	if !disable {
		events := make([]map[string]any, 0, len(s.Events))
		for _, q := range s.Events {
			events = append(events, map[string]any{"event_id": q.EventID, "generation": q.Generation})
		}
		out["queued_events"] = events
	}
	if !s.Changed {
		fmt.Fprintf(e.stderr, "gatewayctl: portal %s was %s already\n", s.PortalID, map[bool]string{true: "disabled", false: "enabled"}[disable])
	}
	return e.printJSON(out)
}
