package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/citizenpay/gateway/internal/portal"
)

// portal returns the portal with id, read at most PortalTTL ago; nil if it
// cannot be read (its events are then due again when their lease ends).
func (d *Dispatcher) portal(ctx context.Context, id string) *portal.Portal {
	if p, ok := d.portals.get(id, d.now()); ok {
		return p
	}
	p, err := d.Portals.ByID(ctx, id)
	if err != nil {
		d.Log.Warn("webhook dispatcher: cannot read portal", "portal_id", id, "error", err.Error())
		return nil
	}
	d.portals.put(id, p, d.now())
	return p
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

// portalCache keeps portals read for deliveries for PortalTTL.
type portalCache struct {
	mu sync.Mutex
	m  map[string]cachedPortal
}

type cachedPortal struct {
	p  *portal.Portal
	at time.Time
}

func (c *portalCache) get(id string, now time.Time) (*portal.Portal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.at) > PortalTTL || now.Before(e.at) {
		return nil, false
	}
	return e.p, true
}

func (c *portalCache) put(id string, p *portal.Portal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedPortal{}
	}
	c.m[id] = cachedPortal{p, now}
}

func (c *portalCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
