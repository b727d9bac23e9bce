package banksim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Knobs are the faults the sandbox bank injects. The zero value is a prompt,
// honest bank that answers 202 and calls back at once.
//
// In JSON (GET and POST /_sim/knobs) the fields are snake_case and durations
// are Go duration strings ("250ms"); a POST changes only the fields it names.
type Knobs struct {
	// Latency is waited before every answer to the gateway, after the work is
	// done: with a client timeout shorter than it, the operation executes
	// and its answer is lost.
	Latency time.Duration
	// FailureRate is the fraction of signed gateway requests answered 500
	// without executing anything.
	FailureRate float64
	// ExecuteThenFail is the fraction of POSTs answered 500 after the
	// operation was accepted (and, with Sync, executed): the bank did it
	// but its answer was lost. A status GET tells the truth.
	ExecuteThenFail float64
	// Reject, when set, is the reason code every debit fails with.
	Reject string
	// Sync answers a final 200 at once instead of 202 and a callback.
	Sync bool
	// CallbackDelay is how long an accepted operation stays pending before it
	// is settled and called back (with Sync and AlsoCallBackAfterSync, how
	// long before the extra callback).
	CallbackDelay time.Duration
	// NeverCallBack settles operations but never posts their callbacks; the
	// status GET still reports the outcome once it is decided.
	NeverCallBack bool
	// DuplicateCallbacks sends each callback this many times: all but one at
	// once, then the last after those ended. 0 and 1 mean once.
	DuplicateCallbacks int
	// OutOfOrder delays each callback delivery by a random time up to
	// OutOfOrderSpread, so that callbacks arrive shuffled.
	OutOfOrder bool
	// Down accepts every connection to the bank's API and closes it without
	// an answer. The admin routes keep working.
	Down bool
	// AlsoCallBackAfterSync also posts the callback after a final 200, which
	// the gateway must answer "duplicate".
	AlsoCallBackAfterSync bool
}

// OutOfOrderSpread bounds the random delay Knobs.OutOfOrder puts before each
// callback delivery.
const OutOfOrderSpread = 300 * time.Millisecond

// knobsJSON is the wire form of Knobs.
type knobsJSON struct {
	Latency               string  `json:"latency"`
	FailureRate           float64 `json:"failure_rate"`
	ExecuteThenFail       float64 `json:"execute_then_fail"`
	Reject                string  `json:"reject"`
	Sync                  bool    `json:"sync"`
	CallbackDelay         string  `json:"callback_delay"`
	NeverCallBack         bool    `json:"never_call_back"`
	DuplicateCallbacks    int     `json:"duplicate_callbacks"`
	OutOfOrder            bool    `json:"out_of_order"`
	Down                  bool    `json:"down"`
	AlsoCallBackAfterSync bool    `json:"also_call_back_after_sync"`
}

func toKnobsJSON(k Knobs) knobsJSON {
	return knobsJSON{
		Latency:               k.Latency.String(),
		FailureRate:           k.FailureRate,
		ExecuteThenFail:       k.ExecuteThenFail,
		Reject:                k.Reject,
		Sync:                  k.Sync,
		CallbackDelay:         k.CallbackDelay.String(),
		NeverCallBack:         k.NeverCallBack,
		DuplicateCallbacks:    k.DuplicateCallbacks,
		OutOfOrder:            k.OutOfOrder,
		Down:                  k.Down,
		AlsoCallBackAfterSync: k.AlsoCallBackAfterSync,
	}
}

func (j knobsJSON) toKnobs() (Knobs, error) {
	latency, err := parseDuration("latency", j.Latency)
	if err != nil {
		return Knobs{}, err
	}
	delay, err := parseDuration("callback_delay", j.CallbackDelay)
	if err != nil {
		return Knobs{}, err
	}
	return Knobs{
		Latency:               latency,
		FailureRate:           j.FailureRate,
		ExecuteThenFail:       j.ExecuteThenFail,
		Reject:                j.Reject,
		Sync:                  j.Sync,
		CallbackDelay:         delay,
		NeverCallBack:         j.NeverCallBack,
		DuplicateCallbacks:    j.DuplicateCallbacks,
		OutOfOrder:            j.OutOfOrder,
		Down:                  j.Down,
		AlsoCallBackAfterSync: j.AlsoCallBackAfterSync,
	}, nil
}

func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return d, nil
}

// MarshalJSON writes k in its wire form.
func (k Knobs) MarshalJSON() ([]byte, error) { return json.Marshal(toKnobsJSON(k)) }

// UnmarshalJSON changes the fields of k that b names, refusing unknown
// fields and malformed durations.
func (k *Knobs) UnmarshalJSON(b []byte) error {
	j := toKnobsJSON(*k)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	nk, err := j.toKnobs()
	if err != nil {
		return err
	}
	*k = nk
	return nil
}

// validate refuses values that are surely mistakes, for flags and the admin
// route; SetKnobs itself takes anything.
func (k Knobs) validate() error {
	var errs []error
	if k.FailureRate < 0 || k.FailureRate > 1 {
		errs = append(errs, fmt.Errorf("failure_rate %v is not within [0, 1]", k.FailureRate))
	}
	if k.ExecuteThenFail < 0 || k.ExecuteThenFail > 1 {
		errs = append(errs, fmt.Errorf("execute_then_fail %v is not within [0, 1]", k.ExecuteThenFail))
	}
	if k.Latency < 0 {
		errs = append(errs, errors.New("latency is negative"))
	}
	if k.CallbackDelay < 0 {
		errs = append(errs, errors.New("callback_delay is negative"))
	}
	if k.DuplicateCallbacks < 0 {
		errs = append(errs, errors.New("duplicate_callbacks is negative"))
	}
	return errors.Join(errs...)
}
