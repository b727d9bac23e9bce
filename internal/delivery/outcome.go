package delivery

import "time"

// Kind says what an attempt came to.
type Kind string

// The kinds of outcome.
const (
	KindDelivered Kind = "delivered" // the portal answered 2xx
	KindRetry     Kind = "retry"     // the attempt failed; another is due at Next
	KindFailed    Kind = "failed"    // the last attempt failed: no attempts left
	// KindDisabled: the portal answered 410 Gone; its endpoint is disabled
	// and the event waits, pending and held, until it is enabled. Not the
	// event's failure.
	KindDisabled Kind = "disabled"
)

// Outcome is the outcome of one attempt, to be recorded: what it came to,
// when it was made, when the next is due (a retry) and why it failed. Build
// it with Decide, or with Delivered, Retry, Failed or Disabled.
type Outcome struct {
	kind    Kind
	at      time.Time
	next    time.Time
	problem string
}

// Delivered is the outcome of an attempt made at at that the portal
// answered 2xx.
func Delivered(at time.Time) Outcome { return Outcome{kind: KindDelivered, at: at} }

// Retry is the outcome of an attempt made at at that failed for problem,
// with another due at next.
func Retry(at, next time.Time, problem string) Outcome {
	return Outcome{kind: KindRetry, at: at, next: next, problem: problem}
}

// Failed is the outcome of the last attempt the schedule allows, made at at,
// that failed for problem.
func Failed(at time.Time, problem string) Outcome {
	return Outcome{kind: KindFailed, at: at, problem: problem}
}

// Disabled is the outcome of an attempt made at at that the portal answered
// 410 Gone (problem): the endpoint is disabled and the event held.
func Disabled(at time.Time, problem string) Outcome {
	return Outcome{kind: KindDisabled, at: at, problem: problem}
}

// Kind says what the attempt came to.
func (o Outcome) Kind() Kind { return o.kind }

// At is when the attempt was made (and signed).
func (o Outcome) At() time.Time { return o.at }

// Status is the delivery's state after the attempt: delivered, failed, or
// pending (due again at Next, or held).
func (o Outcome) Status() Status {
	switch o.kind {
	case KindDelivered:
		return StatusDelivered
	case KindFailed:
		return StatusFailed
	}
	return StatusPending
}

// Next is when the next attempt is due; false when none is (delivered,
// failed, or held).
func (o Outcome) Next() (time.Time, bool) { return o.next, o.kind == KindRetry }

// Problem says why the attempt failed; "" when it was delivered.
func (o Outcome) Problem() string { return o.problem }

// Answer is what an attempt got from the portal's endpoint.
type Answer struct {
	Status     int           // the HTTP status; 0 when there was none (a timeout, a refused connection)
	RetryAfter time.Duration // the answer's Retry-After; 0 when it had none
	Problem    string        // why the attempt failed, short and safe to store
}

// statusGone is HTTP 410 Gone.
const statusGone = 410

// Schedule says when a failed delivery is tried again (webhook.RetryPolicy):
// the wait after the failures-th failed attempt in a row, honouring the
// answer's Retry-After; ok is false when the attempts are used up.
type Schedule interface {
	Next(failures int, retryAfter time.Duration) (wait time.Duration, ok bool)
}

// Decide returns the outcome of an attempt of d made at at that got answer
// a: delivered on a 2xx; disabled (the event held) on a 410; otherwise a
// failed attempt, due again at the schedule's next step, or failed after
// the last.
func (d Delivery) Decide(at time.Time, a Answer, s Schedule) Outcome {
	switch {
	case a.Status >= 200 && a.Status <= 299:
		return Delivered(at)
	case a.Status == statusGone:
		return Disabled(at, a.Problem+": endpoint disabled")
	}
	wait, more := s.Next(d.attempts+1, a.RetryAfter)
	if !more {
		return Failed(at, a.Problem)
	}
	return Retry(at, at.Add(wait), a.Problem)
}
