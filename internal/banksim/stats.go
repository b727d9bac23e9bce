package banksim

import (
	"maps"
	"strconv"
	"sync"
)

// Stats are counters the sandbox bank keeps so that tests can see what it
// did, also served at GET /_sim/stats.
type Stats struct {
	// Requests counts gateway requests whose signature was valid.
	Requests int `json:"requests"`
	// Unauthorized counts gateway requests answered 401.
	Unauthorized int `json:"unauthorized"`
	// Dropped counts connections closed unanswered by Knobs.Down.
	Dropped int `json:"dropped"`
	// InjectedFailures counts 500s from Knobs.FailureRate (nothing executed).
	InjectedFailures int `json:"injected_failures"`
	// AnswersLost counts 500s from Knobs.ExecuteThenFail (work done).
	AnswersLost int `json:"answers_lost"`
	// Received counts new operations by kind: account_verification, debit,
	// refund.
	Received map[string]int `json:"received"`
	// Replays counts POSTs answered from an Idempotency-Key already known.
	Replays int `json:"replays"`
	// Executed counts, per debit or refund id, how many times it moved money.
	Executed map[string]int `json:"executed"`
	// CallbacksSent counts callback attempts, retries and duplicates included.
	CallbacksSent int `json:"callbacks_sent"`
	// CallbacksDelivered counts attempts answered 2xx.
	CallbacksDelivered int `json:"callbacks_delivered"`
	// CallbacksDropped counts callbacks Knobs.DropCallbacks never posted.
	CallbacksDropped int `json:"callbacks_dropped"`
	// CallbacksAbandoned counts deliveries stopped by a final 4xx or after
	// the last attempt.
	CallbacksAbandoned int `json:"callbacks_abandoned"`
	// CallbackStatuses counts attempts by the status they got ("200",
	// "500", …), or "error" when no answer came.
	CallbackStatuses map[string]int `json:"callback_statuses"`
}

// counters guards the Stats the server updates.
type counters struct {
	mu sync.Mutex
	s  Stats
}

func newCounters() counters {
	return counters{s: Stats{Received: map[string]int{}, CallbackStatuses: map[string]int{}}}
}

func (c *counters) update(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.s)
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Received = maps.Clone(c.s.Received)
	s.CallbackStatuses = maps.Clone(c.s.CallbackStatuses)
	return s
}

func (c *counters) callbackAttempt(status int, err error) {
	key := "error"
	if err == nil {
		key = strconv.Itoa(status)
	}
	c.update(func(s *Stats) {
		s.CallbacksSent++
		s.CallbackStatuses[key]++
		if err == nil && status/100 == 2 {
			s.CallbacksDelivered++
		}
	})
}
