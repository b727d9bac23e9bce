package payment

import (
	"errors"
	"net/url"
	"strconv"
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

// MaxReturnURL is the longest return URL accepted, in bytes.
const MaxReturnURL = 2048

// Origin is the origin of raw (scheme://host[:port], lower case, the scheme's
// default port left out), or ErrInvalidReturnURL. http:// is accepted only
// when development is true. User info and fragments are refused: they have
// no place in a URL the gateway sends a citizen to. So is anything but
// printable ASCII: a URL is percent-encoded, and a host is written in its
// ASCII (punycode) form, so that one origin has one spelling.
func Origin(raw string, development bool) (string, error) {
	if len(raw) > MaxReturnURL || !printableASCII(raw) {
		return "", ErrInvalidReturnURL
	}
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
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.Contains(host, "%") { // no IPv6 zone: it names an interface of the citizen's machine

		return "", ErrInvalidReturnURL
	}
	port := ""
	if p := u.Port(); p != "" {
		// One port, one spelling: "0443" is 443, and 443 is no port at all.
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", ErrInvalidReturnURL
		}
		if !(scheme == "https" && n == 443) && !(scheme == "http" && n == 80) {
			port = strconv.Itoa(n)
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
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

// CheckoutURL is where a citizen pays request id in a browser: the page
// /pay/{id} under the gateway's public URL (without a trailing slash).
func CheckoutURL(publicURL, id string) string {
	return strings.TrimRight(publicURL, "/") + "/pay/" + url.PathEscape(id)
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
