package portal

import (
	"errors"
	"fmt"
	"slices"

	"github.com/citizenpay/gateway/internal/payment"
)

// MaxReturnOrigins bounds the origins one portal registers: a portal has a
// handful of sites, not a list to search.
const MaxReturnOrigins = 20

// ErrInvalidReturnOrigin means a return origin is not an absolute https://
// URL (also http:// in development) without user info or fragment.
var ErrInvalidReturnOrigin = errors.New("invalid return origin")

// ReturnOrigins normalises the URLs a portal registers as its return
// origins (PROTOCOL.md §10): each one's origin as payment.Origin writes it,
// duplicates dropped, sorted. A path or query given with an origin is not
// kept: only scheme, host and port decide where a citizen may be sent back.
// It refuses the whole set if any one is bad, naming it.
func ReturnOrigins(raw []string, development bool) ([]string, error) {
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		o, err := payment.Origin(r, development)
		if err != nil {
			scheme := "https://"
			if development {
				scheme = "http:// or https://"
			}
			return nil, fmt.Errorf("%w %q: must be an absolute %s URL without user info or fragment", ErrInvalidReturnOrigin, r, scheme)
		}
		out = append(out, o)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxReturnOrigins {
		return nil, fmt.Errorf("%w: at most %d return origins", ErrInvalidReturnOrigin, MaxReturnOrigins)
	}
	return out, nil
}
