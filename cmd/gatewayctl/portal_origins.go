package main

import (
	"errors"
	"fmt"

	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
)

// returnOriginsArg normalises the return origins given to a command
// (portal.ReturnOrigins), or says in one line which one is bad and why.
func returnOriginsArg(what string, raw []string, env string) ([]string, error) {
	origins, err := portal.ReturnOrigins(raw, env == config.EnvDevelopment)
	if errors.Is(err, portal.ErrInvalidReturnOrigin) {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return origins, err
}

// setReturnOrigins replaces a portal's return origins with those given
// (none clears them) and prints the set now stored. A bad URL changes
// nothing.
func (e env) setReturnOrigins(store *postgres.PortalStore, which string, raw []string, env string) error {
	if which == "" {
		return fmt.Errorf("--portal is required")
	}
	origins, err := returnOriginsArg("return origin", raw, env)
	if err != nil {
		return err
	}
	id, stored, err := store.SetReturnOrigins(e.ctx, which, origins)
	if err != nil {
		return err
	}
	return e.printJSON(map[string]any{"portal_id": id, "return_origins": stored})
}
