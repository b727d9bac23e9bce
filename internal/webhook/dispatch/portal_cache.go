package dispatch

import (
	"context"
	"sync"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/keycache"
	"github.com/citizenpay/gateway/internal/portal"
)

// portal returns the portal with id, read at most PortalTTL ago; nil if it
// cannot be read (its events are then due again when their lease ends).
func (d *Dispatcher) portal(ctx context.Context, id string) *portal.Portal {
	d.portalsOnce.Do(func() {
		d.portals = &keycache.Cache[*portal.Portal]{
			Lookup:   d.Portals.ByID,
			NotFound: func(err error) bool { return fault.Is(err, fault.NotFound) },
			TTL:      PortalTTL, MissTTL: PortalTTL,
		}
	})
	p, _, err := d.portals.Get(ctx, id, d.now())
	if err != nil {
		d.Log.Warn("webhook dispatcher: cannot read portal", "portal_id", id, "error", err.Error())
		return nil
	}
	return p
}

// forgetPortal drops the cached portal: it is read again at its next
// delivery.
func (d *Dispatcher) forgetPortal(id string) {
	if d.portals != nil {
		d.portals.Forget(id)
	}
}

// portalLoad counts attempts in flight by portal.
type portalLoad struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *portalLoad) add(portalID string, d int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[portalID] += d; l.n[portalID] <= 0 {
		delete(l.n, portalID)
	}
}

func (l *portalLoad) of(portalID string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[portalID]
}

// atLeast lists the portals with at least max attempts in flight.
func (l *portalLoad) atLeast(max int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, n := range l.n {
		if n >= max {
			out = append(out, id)
		}
	}
	return out
}
