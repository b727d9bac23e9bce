// Package verify checks every invariant of DOMAIN.md against a live
// database, and optionally log files and Redis, and reports what it finds.
// It is what `gatewayctl verify` runs after every fault test.
//
// Check reads the database in one read-only, repeatable-read transaction, so
// every check sees the same consistent state even while the gateway keeps
// working. It changes nothing. A violation names the object (request,
// attempt, refund, event, row) by id; no finding ever repeats a personal ID
// number or account number it found in clear.
package verify

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/citizenpay/gateway/internal/pii"
)

// DefaultRetryHorizon is how old a pending event may grow before it counts
// as lost: the PROTOCOL.md §8 retry schedule adds up to 75 h 35 min 5 s
// (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), plus margin for
// jitter and Retry-After.
const DefaultRetryHorizon = 80 * time.Hour

// DefaultMaxFindings bounds how many findings one invariant lists; the
// rest are counted in Omitted.
const DefaultMaxFindings = 1000

// Options tune Check. The zero value checks the database only.
type Options struct {
	// Now is the time events are aged against; zero means time.Now().
	Now time.Time
	// RetryHorizon: an event older than this must be delivered or failed.
	// Zero means DefaultRetryHorizon.
	RetryHorizon time.Duration
	// Schema is the schema whose tables are scanned for personal data; ""
	// means public.
	Schema string
	// KnownAccountNumbers are account numbers known to have been used (by a
	// test, say), searched for in clear everywhere. Separators are ignored.
	KnownAccountNumbers []string
	// LogFiles are scanned line by line for personal data.
	LogFiles []string
	// Redis, if not nil, is scanned for personal data: every key starting
	// with RedisPrefix, and its value.
	Redis       redis.UniversalClient
	RedisPrefix string
	// MaxFindings bounds the findings listed per invariant; zero means
	// DefaultMaxFindings.
	MaxFindings int
	// PII, if not nil, opens every sealed personal number under its own
	// binding (invariant 7: each is sealed, and sealed for its row). It
	// needs the master key; without it the check is skipped with a warning.
	PII *pii.Protector
	// OpenReceipt, if not nil, opens a receipt's sealed JWS (invariant 8:
	// each verifies with the published keys and says what its row and
	// request say). It needs the master key; without it that check is
	// skipped with a warning.
	OpenReceipt func(receiptID string, sealed []byte) (string, error)
}

// Report is the outcome of Check.
type Report struct {
	// OK is true when no invariant is violated. Warnings and open
	// incidents do not make it false.
	OK         bool      `json:"ok"`
	CheckedAt  time.Time `json:"checked_at"`
	Invariants []Result  `json:"invariants"`
	// OpenIncidents are for the operator's information: each waits for a
	// decision (`gatewayctl incidents`), and is not a violation.
	OpenIncidents []Incident `json:"open_incidents"`
}

// Result is what one invariant's checks found.
type Result struct {
	Invariant  int       `json:"invariant"`
	Name       string    `json:"name"`
	OK         bool      `json:"ok"`
	Violations []Finding `json:"violations"`
	Warnings   []Finding `json:"warnings,omitempty"`
	// Omitted counts violations and warnings past MaxFindings.
	Omitted int `json:"omitted,omitempty"`
	// Scanned counts what was looked at, where that is not obvious (rows,
	// log lines and Redis keys for invariant 7).
	Scanned map[string]int64 `json:"scanned,omitempty"`
}

// Finding is one violation or warning.
type Finding struct {
	// Check is a stable name for what is wrong: one of the Check…
	// constants.
	Check string `json:"check"`
	// ID names the object: a request, attempt, refund, event or incident
	// id, a ledger cause, "table:key" for a row, "file:line" for a log
	// line, "redis:key" for a Redis key.
	ID     string `json:"id"`
	Detail string `json:"detail"`
}

// Incident is an open incident, as listed in a Report.
type Incident struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	BankCode  string    `json:"bank_code,omitempty"`
	ObjectID  string    `json:"object_id,omitempty"`
	Summary   string    `json:"summary"`
	CreatedAt time.Time `json:"created_at"`
}

// The invariants of DOMAIN.md, numbered as there.
const (
	InvLedgerBalances = 1 + iota
	InvPaidPosted
	InvUnpaidUnposted
	InvOneLiveOneApplied
	InvRefunds
	InvEvents
	InvNoClearPII
	InvReceipts
	InvSettlements
)

var invariantNames = [...]string{
	InvLedgerBalances:    "ledger_balances",
	InvPaidPosted:        "paid_requests_posted_once",
	InvUnpaidUnposted:    "unpaid_requests_unposted",
	InvOneLiveOneApplied: "one_live_attempt_one_applied_outcome",
	InvRefunds:           "refunds_within_amount_and_posted",
	InvEvents:            "events_written_and_delivered",
	InvNoClearPII:        "no_clear_personal_data",
	InvReceipts:          "one_signed_receipt_per_paid_request",
	InvSettlements:       "settlements_equal_their_postings",
}

// The checks, by invariant. A Finding's Check is one of these.
const (
	// 1: ledger balances.
	CheckTransactionUnbalanced = "transaction_unbalanced" // debits ≠ credits, or no postings
	CheckAccountUnknown        = "account_unknown"        // a posting on no ledger account
	CheckTotalsDiffer          = "totals_differ"          // Σ bank_clearing ≠ Σ portal_payable

	// 2: paid requests.
	CheckSucceededAttempts = "succeeded_attempts" // not exactly one succeeded attempt
	CheckPaymentMismatch   = "payment_mismatch"   // the request's payment ≠ its succeeded attempt
	CheckPostingMissing    = "posting_missing"    // no ledger transaction for the succeeded attempt
	CheckPostingMismatch   = "posting_mismatch"   // wrong kind, accounts or amount

	// 3: pending, processing, canceled and expired requests.
	CheckSucceededUnpaid = "succeeded_attempt_unpaid" // a succeeded attempt on an unpaid request
	CheckPostingUnpaid   = "posting_unpaid"           // a debit posting without a paid request's succeeded attempt

	// 4: attempts and bank events.
	CheckLiveAttempts = "live_attempts"            // two live attempts for one request
	CheckAppliedTwice = "bank_event_applied_twice" // two applied callbacks for one object

	// 5: refunds.
	CheckAmountRefunded         = "amount_refunded"          // ≠ sum of succeeded refunds
	CheckRefundsExceed          = "refunds_exceed_amount"    // succeeded + pending > amount
	CheckRefundState            = "refund_state"             // status disagrees with amount_refunded
	CheckRefundAttempt          = "refund_attempt"           // not against the paying attempt and bank
	CheckRefundPostingMissing   = "refund_posting_missing"   // a succeeded refund without its posting
	CheckRefundPostingMismatch  = "refund_posting_mismatch"  // wrong kind, accounts or amount
	CheckRefundPostingUnfounded = "refund_posting_unfounded" // a posting for a refund not succeeded

	// 6: events.
	CheckEventMissing     = "event_missing"           // a change portals were not told
	CheckEventDuplicated  = "event_duplicated"        // told twice
	CheckEventContradicts = "event_contradicts_state" // told of a change that is not so
	CheckEventOverdue     = "event_overdue"           // pending past the retry horizon
	WarnEventHeld         = "event_held"              // pending past the horizon, webhook disabled (a warning)

	// 7: personal data in clear.
	CheckClearPID         = "clear_pid"            // a valid-looking pid
	CheckClearAccount     = "clear_account_number" // one of the known account numbers
	CheckAccountLikeDigit = "account_like_digits"  // a long digit run in an account field
	CheckSealedUnbound    = "sealed_unbound"       // sealed before values were bound to their row: run gatewayctl reseal
	CheckSealedUnopenable = "sealed_unopenable"    // does not open under its row's binding: moved, altered or another key
	WarnSealedNotChecked  = "sealed_not_checked"   // no master key given, sealed values not opened (a warning)

	// 8: receipts.
	CheckReceiptMissing    = "receipt_missing"      // a paid (or refunded) request without its receipt
	CheckReceiptUnfounded  = "receipt_unfounded"    // a receipt of a request never paid, or of another amount or portal
	CheckReceiptNumbering  = "receipt_numbering"    // a portal's year not numbered 1..N without gaps or repeats
	CheckReceiptSignature  = "receipt_signature"    // the JWS does not verify with the published keys
	CheckReceiptDiffers    = "receipt_differs"      // the signed receipt differs from its row or its request
	WarnReceiptsNotChecked = "receipts_not_checked" // no master key given, signatures not checked (a warning)
)

// Check runs every check against pool (and the log files and Redis opts
// names) and returns the report. The error is for a check that could not
// run; violations are in the report.
func Check(ctx context.Context, pool *pgxpool.Pool, opts Options) (Report, error) {
	opts = opts.withDefaults()
	c := &checker{opts: opts, results: make([]Result, len(invariantNames)), violated: make([]int, len(invariantNames))}
	for i := 1; i < len(invariantNames); i++ {
		c.results[i] = Result{Invariant: i, Name: invariantNames[i], Violations: []Finding{}}
	}
	c.scan = newClearScanner(opts.KnownAccountNumbers)

	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Report{}, fmt.Errorf("verify: begin snapshot: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	c.tx = tx
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"ledger", c.checkLedger},
		{"paid requests", c.checkPaid},
		{"unpaid requests", c.checkUnpaid},
		{"attempts and bank events", c.checkLiveAndApplied},
		{"refunds", c.checkRefunds},
		{"events", c.checkEvents},
		{"database personal data", c.scanDatabase},
		{"sealed personal data", c.checkSealed},
		{"receipts", c.checkReceipts},
		{"settlements", c.checkSettlements},
		{"incidents", c.listIncidents},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return Report{}, fmt.Errorf("verify %s: %w", s.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return Report{}, fmt.Errorf("verify: end snapshot: %w", err)
	}
	for _, f := range opts.LogFiles {
		if err := c.scanLogFile(f); err != nil {
			return Report{}, fmt.Errorf("verify log file %s: %w", f, err)
		}
	}
	if opts.Redis != nil {
		if err := c.scanRedis(ctx); err != nil {
			return Report{}, fmt.Errorf("verify Redis: %w", err)
		}
	}
	return c.report(), nil
}

func (o Options) withDefaults() Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.RetryHorizon <= 0 {
		o.RetryHorizon = DefaultRetryHorizon
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = DefaultMaxFindings
	}
	return o
}

// checker holds one run's state.
type checker struct {
	opts      Options
	tx        pgx.Tx
	scan      *clearScanner
	results   []Result // indexed by invariant; [0] unused
	violated  []int    // violations found per invariant, listed or omitted
	incidents []Incident
}

func (c *checker) add(inv int, warning bool, check, id, format string, args ...any) {
	if !warning {
		c.violated[inv]++
	}
	r := &c.results[inv]
	if len(r.Violations)+len(r.Warnings) >= c.opts.MaxFindings {
		r.Omitted++
		return
	}
	f := Finding{Check: check, ID: c.scan.redact(id), Detail: c.scan.redact(fmt.Sprintf(format, args...))}
	if warning {
		r.Warnings = append(r.Warnings, f)
	} else {
		r.Violations = append(r.Violations, f)
	}
}

// violation records a broken invariant.
func (c *checker) violation(inv int, check, id, format string, args ...any) {
	c.add(inv, false, check, id, format, args...)
}

// warning records something the operator should see that breaks nothing.
func (c *checker) warning(inv int, check, id, format string, args ...any) {
	c.add(inv, true, check, id, format, args...)
}

func (c *checker) count(inv int, what string, n int64) {
	r := &c.results[inv]
	if r.Scanned == nil {
		r.Scanned = map[string]int64{}
	}
	r.Scanned[what] += n
}

func (c *checker) report() Report {
	rep := Report{OK: true, CheckedAt: c.opts.Now.UTC(), OpenIncidents: c.incidents}
	if rep.OpenIncidents == nil {
		rep.OpenIncidents = []Incident{}
	}
	for i, r := range c.results[1:] {
		r.OK = c.violated[i+1] == 0
		sortFindings(r.Violations)
		sortFindings(r.Warnings)
		rep.OK = rep.OK && r.OK
		rep.Invariants = append(rep.Invariants, r)
	}
	return rep
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].ID != fs[j].ID {
			return fs[i].ID < fs[j].ID
		}
		return fs[i].Check < fs[j].Check
	})
}

func (c *checker) listIncidents(ctx context.Context) error {
	rows, err := c.tx.Query(ctx, `SELECT id, kind, coalesce(bank_code, ''), coalesce(object_id, ''), summary, created_at
		FROM incidents WHERE status = 'open' ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var in Incident
		if err := rows.Scan(&in.ID, &in.Kind, &in.BankCode, &in.ObjectID, &in.Summary, &in.CreatedAt); err != nil {
			return err
		}
		in.Summary = c.scan.redact(in.Summary)
		in.CreatedAt = in.CreatedAt.UTC()
		c.incidents = append(c.incidents, in)
	}
	return rows.Err()
}
