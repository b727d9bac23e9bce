package payment

import (
	"errors"
	"net/url"
	"strings"
)

// The hosted checkout's way back to the portal (PROTOCOL.md §10). A portal
// registers the origins it may be returned to; a request's return URL must
// be on one of them. The gateway adds only the request's id and status to
// it, so a portal learns nothing from the return it could not read from the
// API, and acts on the webhook or a GET, never on the return itself.

// ErrInvalidReturnURL means a return URL is not an absolute http(s) URL on
// one of the portal's return origins.
var ErrInvalidReturnURL = errors.New("invalid return URL")

// Origin is the origin of raw (scheme://host[:port], lower case, the scheme's
// default port left out), or ErrInvalidReturnURL. http:// is accepted only
// when development is true. User info and fragments are refused: they have
// no place in a URL the gateway sends a citizen to.
func Origin(raw string, development bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") || u.Opaque != "" {
		return "", ErrInvalidReturnURL
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https":
	case scheme == "http" && development:
	default:
		return "", ErrInvalidReturnURL
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// CheckReturnURL accepts raw when its origin is one of origins (each as
// Origin gives it).
func CheckReturnURL(raw string, origins []string, development bool) error {
	o, err := Origin(raw, development)
	if err != nil {
		return err
	}
	for _, allowed := range origins {
		if allowed == o {
			return nil
		}
	}
	return ErrInvalidReturnURL
}

// ReturnTo is returnURL with payment_request_id and status set in its query,
// replacing any of those names the portal put there; the rest of the
// portal's own query is kept in its order.
func ReturnTo(returnURL, id string, status Status) string {
	u, err := url.Parse(returnURL)
	if err != nil {
		return ""
	}
	var kept []string
	for _, part := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); part == "" || (err == nil && (n == "payment_request_id" || n == "status")) {
			continue
		}
		kept = append(kept, part)
	}
	kept = append(kept, "payment_request_id="+url.QueryEscape(id), "status="+url.QueryEscape(string(status)))
	u.RawQuery = strings.Join(kept, "&")
	return u.String()
}
