package config

import (
	"net/url"
	"strconv"
	"strings"
)

// The hosted checkout and the receipts (PROTOCOL.md §10, §11) need the
// gateway's public address, and the checkout's sign-in needs the identity
// provider's client credentials.
//
// Decisions:
//   - GATEWAY_PUBLIC_URL is the origin citizens reach, optionally with a path
//     prefix, without a query or a trailing slash. Production requires it
//     (https://); development defaults to http://localhost:{GATEWAY_ADDR's
//     port}, which is what a browser on the same machine reaches.
//   - The checkout's client (IDP_CLIENT_ID, IDP_CLIENT_SECRET) is optional:
//     without it, or without IDP_ISSUER, the checkout pages answer 503 and
//     start-up logs which setting is missing (CheckoutMissing). One of the
//     two client settings without the other is a mistake and stops start-up.

// loadCheckout reads GATEWAY_PUBLIC_URL, IDP_CLIENT_ID and IDP_CLIENT_SECRET.
func (c *Config) loadCheckout(getenv func(string) string) error {
	pub, err := readPublicURL(getenv, c.Development(), c.Addr)
	if err != nil {
		return err
	}
	if pub == "" {
		return errPublicURLRequired
	}
	c.PublicURL = pub
	c.IDPClientID = strings.TrimSpace(getenv("IDP_CLIENT_ID"))
	c.IDPClientSecret = strings.TrimSpace(getenv("IDP_CLIENT_SECRET"))
	switch {
	case c.IDPClientID != "" && c.IDPClientSecret == "":
		return &Error{"IDP_CLIENT_SECRET", "is required when IDP_CLIENT_ID is set"}
	case c.IDPClientID == "" && c.IDPClientSecret != "":
		return &Error{"IDP_CLIENT_ID", "is required when IDP_CLIENT_SECRET is set"}
	}
	return nil
}

var errPublicURLRequired = &Error{"GATEWAY_PUBLIC_URL", "is required: the https:// address citizens reach, such as https://pay.example.gov.vn"}

// readPublicURL reads GATEWAY_PUBLIC_URL for the gateway and gatewayctl
// alike: normalised when set; in development, unset means
// http://localhost:{addr's port}; in production, unset gives "".
func readPublicURL(getenv func(string) string, development bool, addr string) (string, error) {
	raw := strings.TrimSpace(getenv("GATEWAY_PUBLIC_URL"))
	if raw == "" {
		if !development {
			return "", nil
		}
		_, port, _ := splitAddr(addr)
		raw = "http://localhost:" + strconv.Itoa(port)
	}
	return publicURL(raw, development)
}

func publicURL(raw string, development bool) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return "", &Error{"GATEWAY_PUBLIC_URL", "must be an absolute URL such as https://pay.example.gov.vn"}
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "", &Error{"GATEWAY_PUBLIC_URL", "must have no query or fragment"}
	case u.Scheme == "https":
	case u.Scheme == "http" && development:
	default:
		return "", &Error{"GATEWAY_PUBLIC_URL", "must be https:// (http:// only with GATEWAY_ENV=development)"}
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// CheckoutMissing names the first setting the hosted checkout lacks, or
// returns "" when it can sign citizens in.
func (c Config) CheckoutMissing() string {
	switch {
	case c.IDPIssuer == "":
		return "IDP_ISSUER"
	case c.IDPClientID == "":
		return "IDP_CLIENT_ID"
	}
	return ""
}

// CheckoutRedirectURL is the sign-in's redirect URI, {GATEWAY_PUBLIC_URL}/auth/callback.
func (c Config) CheckoutRedirectURL() string { return c.PublicURL + "/auth/callback" }
