package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/postgres"
)

// loop is one Run of a dispatcher: its bounds, the attempts in flight, and
// the events waiting for room.
type loop struct {
	d         *Dispatcher
	workers   int
	poll      time.Duration
	perPortal int
	// attemptCtx: attempts run to their own timeout even as Run's ctx ends:
	// an attempt cut short would be sent again after its lease.
	attemptCtx context.Context
	results    chan postgres.Attempt // attempts to record
	inFlight   sync.WaitGroup
	slots      chan struct{} // one per attempt in flight
	busy       portalLoad
	backoff    time.Duration // before the next claim, after a failed one
	// deferred: events of a portal at its bound, handed off or claimed,
	// wait here for room (a tick at most after it frees); handoffs past
	// handoffQueue of them wait for their lease.
	deferred []postgres.Due
}

func (d *Dispatcher) newLoop(ctx context.Context) *loop {
	l := &loop{d: d, workers: d.Workers, poll: d.Poll, perPortal: d.PerPortal,
		attemptCtx: context.WithoutCancel(ctx), busy: portalLoad{n: map[string]int{}}}
	if l.workers <= 0 {
		l.workers = DispatchWorkers
	}
	if l.poll <= 0 {
		l.poll = DispatchPoll
	}
	if l.perPortal <= 0 {
		l.perPortal = DispatchPerPortal
	}
	l.results = make(chan postgres.Attempt, l.workers)
	l.slots = make(chan struct{}, l.workers)
	return l
}

// run takes handoffs and claims due events on each tick until ctx ends.
func (l *loop) run(ctx context.Context) {
	ticker := time.NewTicker(l.poll)
	defer ticker.Stop()
	for ctx.Err() == nil {
		select {
		case e := <-l.d.handoff:
			l.takeHandoff(ctx, e)
		case <-ticker.C:
			if l.backoff > 0 {
				sleep(ctx, l.backoff)
			}
			l.startDeferred(ctx)
			l.claimWhileRoom(ctx)
		case <-ctx.Done():
		}
	}
}

// start makes an attempt of e in its own goroutine, in a slot the caller
// took, and sends the outcome to record to results.
func (l *loop) start(e postgres.Due, p *portal.Portal) {
	l.busy.add(e.PortalID, 1)
	l.inFlight.Go(func() {
		defer func() { <-l.slots }()
		defer l.busy.add(e.PortalID, -1)
		if a, ok := l.d.attempt(l.attemptCtx, e, p); ok {
			l.results <- a
		}
	})
}

// takeHandoff starts the attempt of an event handed off, once a slot is
// free, or defers it while its portal is at its bound.
func (l *loop) takeHandoff(ctx context.Context, e postgres.Due) {
	if l.busy.of(e.PortalID) >= l.perPortal {
		if len(l.deferred) < handoffQueue {
			l.deferred = append(l.deferred, e)
		}
		return
	}
	select { // a slot, or stop
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	l.start(e, l.d.portal(ctx, e.PortalID))
}

// startDeferred starts the deferred events that now have room.
func (l *loop) startDeferred(ctx context.Context) {
	kept := l.deferred[:0]
	for _, e := range l.deferred {
		if ctx.Err() != nil || len(l.slots) == l.workers || l.busy.of(e.PortalID) >= l.perPortal {
			kept = append(kept, e)
			continue
		}
		l.slots <- struct{}{}
		l.start(e, l.d.portal(ctx, e.PortalID))
	}
	l.deferred = kept
}

// claimWhileRoom claims what is due, as long as whole batches come back and
// there is room, and starts the claimed events' attempts. A failed claim
// backs off, up to 5 s.
func (l *loop) claimWhileRoom(ctx context.Context) {
	for ctx.Err() == nil {
		free := l.workers - len(l.slots)
		if free == 0 {
			return
		}
		batch, err := l.d.claim(ctx, postgres.Claim{Limit: min(free, maxBatch), PerPortal: l.perPortal, Skip: l.busy.atLeast(l.perPortal)})
		if err != nil {
			l.backoff = min(max(2*l.backoff, l.poll), 5*time.Second)
			if ctx.Err() == nil {
				l.d.Log.Warn("webhook dispatcher: claim failed", "error", err.Error(), "retry_in", l.backoff.String())
			}
			return
		}
		l.backoff = 0
		for _, e := range batch {
			if l.busy.of(e.due.PortalID) >= l.perPortal {
				l.deferred = append(l.deferred, e.due) // claimed beyond the portal's room
				continue
			}
			l.slots <- struct{}{}
			l.start(e.due, e.portal)
		}
		if len(batch) < min(free, maxBatch) {
			return
		}
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
