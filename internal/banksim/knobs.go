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
	// DropCallbacks is how many of the next operations settle without their
	// callback ever being posted, unlike NeverCallBack, which drops all; the
	// status GET still tells their outcome. Each operation whose callback
	// would be posted uses one up; Knobs reports how many are left.
	DropCallbacks int

	// The statement knobs below change only GET /v1/statements. Each is
	// deterministic: lines are chosen in booking order, never at random, so
	// that fetching the same day again shows the same statement.

	// StatementFormat is the statement's format: "csv" (the default, also
	// "") or "camt053" for ISO 20022 camt.053.001.08 XML. With the default,
	// a request whose Accept lists only application/xml gets XML.
	StatementFormat string
	// StatementBatch puts, in camt.053, the first two succeeded lines of the
	// same type into one batch entry: one Ntry with two TxDtls, its Amt
	// their sum. CSV has no batches.
	StatementBatch bool
	// StatementUnavailableFor answers every statement 503 with
	// Retry-After: 60 for this long from when it is set (by SetKnobs, or by
	// a POST /_sim/knobs naming it). Knobs reports the time left.
	StatementUnavailableFor time.Duration
	// StatementNotReady answers every statement 404: not ready yet.
	StatementNotReady bool
	// StatementOmit leaves the first N bookings of the day out: lines the
	// gateway will miss.
	StatementOmit int
	// StatementPhantom adds N succeeded debit lines for ids the gateway never
	// sent (pa_phantom_YYYYMMDD_n), the same on every fetch of the day.
	StatementPhantom int
	// StatementAlterAmount shows the first N debit lines (after
	// StatementOmit) 1,000 higher than executed.
	StatementAlterAmount int
	// StatementReverse follows each of the first N debit lines (after
	// StatementOmit) with its reversal: CSV status "reversed", camt.053
	// RvslInd true with the credit/debit indicator inverted.
	StatementReverse int
	// StatementGarbage answers a statement a reader must refuse: "html" a
	// page that is no statement, "header" a CSV with another header (in
	// camt.053, an account report instead of a statement), "amount" a first
	// line whose amount is not in the protocol's format. "" is none.
	StatementGarbage string
}

// Values of Knobs.StatementFormat and Knobs.StatementGarbage.
const (
	StatementCSV     = "csv"
	StatementCamt053 = "camt053"

	GarbageHTML   = "html"
	GarbageHeader = "header"
	GarbageAmount = "amount"
)

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
	DropCallbacks         int     `json:"drop_callbacks"`

	StatementFormat         string `json:"statement_format"`
	StatementBatch          bool   `json:"statement_batch"`
	StatementUnavailableFor string `json:"statement_unavailable_for"`
	StatementNotReady       bool   `json:"statement_not_ready"`
	StatementOmit           int    `json:"statement_omit"`
	StatementPhantom        int    `json:"statement_phantom"`
	StatementAlterAmount    int    `json:"statement_alter_amount"`
	StatementReverse        int    `json:"statement_reverse"`
	StatementGarbage        string `json:"statement_garbage"`
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
		DropCallbacks:         k.DropCallbacks,

		StatementFormat:         k.StatementFormat,
		StatementBatch:          k.StatementBatch,
		StatementUnavailableFor: k.StatementUnavailableFor.String(),
		StatementNotReady:       k.StatementNotReady,
		StatementOmit:           k.StatementOmit,
		StatementPhantom:        k.StatementPhantom,
		StatementAlterAmount:    k.StatementAlterAmount,
		StatementReverse:        k.StatementReverse,
		StatementGarbage:        k.StatementGarbage,
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
	unavailable, err := parseDuration("statement_unavailable_for", j.StatementUnavailableFor)
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
		DropCallbacks:         j.DropCallbacks,

		StatementFormat:         j.StatementFormat,
		StatementBatch:          j.StatementBatch,
		StatementUnavailableFor: unavailable,
		StatementNotReady:       j.StatementNotReady,
		StatementOmit:           j.StatementOmit,
		StatementPhantom:        j.StatementPhantom,
		StatementAlterAmount:    j.StatementAlterAmount,
		StatementReverse:        j.StatementReverse,
		StatementGarbage:        j.StatementGarbage,
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
	if k.StatementUnavailableFor < 0 {
		errs = append(errs, errors.New("statement_unavailable_for is negative"))
	}
	counts := []struct {
		name string
		n    int
	}{
		{"drop_callbacks", k.DropCallbacks}, {"statement_omit", k.StatementOmit},
		{"statement_phantom", k.StatementPhantom}, {"statement_alter_amount", k.StatementAlterAmount},
		{"statement_reverse", k.StatementReverse},
	}
	for _, c := range counts {
		if c.n < 0 {
			errs = append(errs, fmt.Errorf("%s is negative", c.name))
		}
	}
	switch k.StatementFormat {
	case "", StatementCSV, StatementCamt053:
	default:
		errs = append(errs, fmt.Errorf("statement_format %q is not csv or camt053", k.StatementFormat))
	}
	switch k.StatementGarbage {
	case "", GarbageHTML, GarbageHeader, GarbageAmount:
	default:
		errs = append(errs, fmt.Errorf("statement_garbage %q is not html, header or amount", k.StatementGarbage))
	}
	return errors.Join(errs...)
}
