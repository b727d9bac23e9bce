package config

import (
	"encoding/base64"
	"strings"
)

// Operator is what gatewayctl needs: the database, and the master key for
// commands that read or write secrets.
type Operator struct {
	DatabaseURL string
	MasterKey   []byte
	Env         string
	// PublicURL is GATEWAY_PUBLIC_URL, read as the gateway reads it (in
	// development, unset is http://localhost:{GATEWAY_ADDR's port}); ""
	// in production when unset: RequirePublicURL says so for the commands
	// that name the gateway's pages.
	PublicURL string
}

// RequirePublicURL returns the public URL, or the error naming the setting
// when it is not set.
func (o Operator) RequirePublicURL() (string, error) {
	if o.PublicURL == "" {
		return "", errPublicURLRequired
	}
	return o.PublicURL, nil
}

// LoadOperator reads DATABASE_URL and, when needKey, GATEWAY_MASTER_KEY.
func LoadOperator(getenv func(string) string, needKey bool) (Operator, error) {
	o := Operator{DatabaseURL: strings.TrimSpace(getenv("DATABASE_URL")), Env: strings.TrimSpace(getenv("GATEWAY_ENV"))}
	if o.Env == "" {
		o.Env = EnvProduction
	}
	if o.DatabaseURL == "" {
		return o, &Error{"DATABASE_URL", "is required"}
	}
	if err := checkURL("DATABASE_URL", o.DatabaseURL, "postgres", "postgresql"); err != nil {
		return o, err
	}
	addr := strings.TrimSpace(getenv("GATEWAY_ADDR"))
	if addr == "" {
		addr = ":8080"
	}
	pub, err := readPublicURL(getenv, o.Env == EnvDevelopment, addr)
	if err != nil {
		return o, err
	}
	o.PublicURL = pub
	if needKey {
		k, err := masterKey(getenv)
		if err != nil {
			return o, err
		}
		o.MasterKey = k
	}
	return o, nil
}

func masterKey(getenv func(string) string) ([]byte, error) {
	key := strings.TrimSpace(getenv("GATEWAY_MASTER_KEY"))
	if key == "" {
		return nil, &Error{"GATEWAY_MASTER_KEY", "is required (base64 of 32 random bytes)"}
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return nil, &Error{"GATEWAY_MASTER_KEY", "must be base64 of exactly 32 bytes"}
	}
	return raw, nil
}
