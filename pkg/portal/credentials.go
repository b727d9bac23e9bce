package portal

import (
	"encoding/json"
	"fmt"
	"os"
)

// Credentials are what a portal is issued at onboarding, as
// `gatewayctl portal create` prints them and `make run` keeps them in
// .dev/portal.json. WebhookSecret is present when the file holds it.
type Credentials struct {
	PortalID      string `json:"portal_id"`
	KeyID         string `json:"key_id"`
	Secret        string `json:"secret"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// LoadCredentials reads Credentials from a JSON file.
func LoadCredentials(path string) (Credentials, error) {
	var c Credentials
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("portal: read credentials: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.KeyID == "" || c.Secret == "" {
		return c, fmt.Errorf("portal: %s does not hold key_id and secret", path)
	}
	return c, nil
}
