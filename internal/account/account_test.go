package account

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
)

var now = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func acct(s Status) *Account {
	a := &Account{ID: "acc_1", Status: s}
	if s == StatusActive {
		a.VerificationOutcome = OutcomeSucceeded
	}
	return a
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from     Status
		do       func(a *Account) error
		want     Status
		wantCode fault.Code // empty: allowed
	}{
		{"activate pending", StatusPending, func(a *Account) error { return a.Activate(false, now) }, StatusActive, ""},
		{"activate active", StatusActive, func(a *Account) error { return a.Activate(false, now) }, StatusActive, fault.InvalidState},
		{"activate rejected", StatusRejected, func(a *Account) error { return a.Activate(false, now) }, StatusRejected, fault.InvalidState},
		{"activate unlinked", StatusUnlinked, func(a *Account) error { return a.Activate(false, now) }, StatusUnlinked, fault.InvalidState},
		{"reject pending", StatusPending, func(a *Account) error { return a.Reject("HOLDER_MISMATCH", now) }, StatusRejected, ""},
		{"reject active", StatusActive, func(a *Account) error { return a.Reject("HOLDER_MISMATCH", now) }, StatusActive, fault.InvalidState},
		{"reject unlinked", StatusUnlinked, func(a *Account) error { return a.Reject(ReasonBankTimeout, now) }, StatusUnlinked, fault.InvalidState},
		{"unlink pending", StatusPending, func(a *Account) error { return a.Unlink(now) }, StatusUnlinked, ""},
		{"unlink active", StatusActive, func(a *Account) error { return a.Unlink(now) }, StatusUnlinked, ""},
		{"unlink rejected", StatusRejected, func(a *Account) error { return a.Unlink(now) }, StatusRejected, fault.InvalidState},
		{"unlink unlinked", StatusUnlinked, func(a *Account) error { return a.Unlink(now) }, StatusUnlinked, fault.InvalidState},
		{"default active", StatusActive, func(a *Account) error { return a.MakeDefault(now) }, StatusActive, ""},
		{"default pending", StatusPending, func(a *Account) error { return a.MakeDefault(now) }, StatusPending, fault.AccountNotActive},
		{"default rejected", StatusRejected, func(a *Account) error { return a.MakeDefault(now) }, StatusRejected, fault.AccountNotActive},
		{"default unlinked", StatusUnlinked, func(a *Account) error { return a.MakeDefault(now) }, StatusUnlinked, fault.AccountNotActive},
		{"taken pending", StatusPending, func(a *Account) error { return a.Taken(now) }, StatusRejected, ""},
		{"taken active", StatusActive, func(a *Account) error { return a.Taken(now) }, StatusActive, fault.InvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := acct(tt.from)
			before := *a
			err := tt.do(a)
			if tt.wantCode == "" && err != nil || tt.wantCode != "" && fault.CodeOf(err) != tt.wantCode {
				t.Fatalf("err = %v, want code %q", err, tt.wantCode)
			}
			if a.Status != tt.want {
				t.Errorf("status = %s, want %s", a.Status, tt.want)
			}
			if err != nil && *a != before {
				t.Errorf("a refused change changed the account: %+v", a)
			}
		})
	}
}

func TestActivateMakesFirstDefault(t *testing.T) {
	t.Parallel()
	a := acct(StatusPending)
	if err := a.Activate(false, now); err != nil || !a.IsDefault || a.VerificationOutcome != OutcomeSucceeded {
		t.Fatalf("first active: %+v, %v", a, err)
	}
	b := acct(StatusPending)
	if err := b.Activate(true, now); err != nil || b.IsDefault {
		t.Fatalf("with a default already: %+v, %v", b, err)
	}
	if err := a.Unlink(now); err != nil || a.IsDefault {
		t.Fatalf("unlinking the default leaves none: %+v, %v", a, err)
	}
}

func TestTakenRecordsTheBanksWord(t *testing.T) {
	t.Parallel()
	a := acct(StatusPending)
	if err := a.Taken(now); err != nil {
		t.Fatal(err)
	}
	if a.RejectionReason != ReasonAccountTaken || a.VerificationOutcome != OutcomeSucceeded {
		t.Errorf("%+v", a)
	}
}

func TestSettle(t *testing.T) {
	t.Parallel()
	timedOut := func() *Account {
		a := acct(StatusPending)
		_ = a.Reject(ReasonBankTimeout, now)
		return a
	}
	tests := []struct {
		name       string
		a          *Account
		o          Outcome
		want       Decision
		wantStatus Status
		wantReason string
	}{
		{"pending, succeeded", acct(StatusPending), OutcomeSucceeded, Apply, StatusActive, ""},
		{"pending, failed", acct(StatusPending), OutcomeFailed, Apply, StatusRejected, ReasonNotVerified},
		{"active, succeeded again", acct(StatusActive), OutcomeSucceeded, Duplicate, StatusActive, ""},
		{"active, now failed", acct(StatusActive), OutcomeFailed, Conflict, StatusActive, ""},
		{"unlinked while pending, succeeded", acct(StatusUnlinked), OutcomeSucceeded, Record, StatusUnlinked, ""},
		{"timed out, failed", timedOut(), OutcomeFailed, Record, StatusRejected, ReasonBankTimeout},
		{"timed out, succeeded", timedOut(), OutcomeSucceeded, Conflict, StatusRejected, ReasonBankTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := *tt.a
			got := tt.a.Settle(tt.o, "HOLDER_MISMATCH", false, now)
			if got != tt.want || tt.a.Status != tt.wantStatus || tt.a.RejectionReason != tt.wantReason {
				t.Fatalf("Settle = %v, account %+v; want %v, %s (%s)", got, tt.a, tt.want, tt.wantStatus, tt.wantReason)
			}
			switch got {
			case Duplicate, Conflict:
				if *tt.a != before {
					t.Errorf("a %v changed the account", got)
				}
			default:
				if tt.a.VerificationOutcome != tt.o {
					t.Errorf("outcome not recorded: %+v", tt.a)
				}
				// The bank's own code is kept for the operator, whatever the
				// citizen is shown.
				wantCode := ""
				if tt.o == OutcomeFailed {
					wantCode = "HOLDER_MISMATCH"
				}
				if tt.a.BankReasonCode != wantCode {
					t.Errorf("bank reason code %q, want %q", tt.a.BankReasonCode, wantCode)
				}
			}
			// Applying the same outcome again is always a duplicate.
			if got == Apply || got == Record {
				if again := tt.a.Settle(tt.o, "", false, now); again != Duplicate {
					t.Errorf("second report: %v, want Duplicate", again)
				}
			}
		})
	}
}

func TestBankReason(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"HOLDER_MISMATCH":        "HOLDER_MISMATCH",
		" ACCOUNT_NOT_FOUND ":    "ACCOUNT_NOT_FOUND",
		"":                       "",
		"\x00\n":                 "",
		strings.Repeat("X", 100): strings.Repeat("X", 64),
		"KHÔNG_KHỚP":             "KHNG_KHP",
	} {
		if got := BankReason(in); got != want {
			t.Errorf("BankReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidStatus(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"pending_verification", "active", "rejected", "unlinked"} {
		if !ValidStatus(s) {
			t.Errorf("%s", s)
		}
	}
	if ValidStatus("pending") {
		t.Error("pending is not an account state")
	}
}

func TestLinkPause(t *testing.T) {
	t.Parallel()
	ago := func(ds ...time.Duration) []time.Time {
		var out []time.Time
		for _, d := range ds {
			out = append(out, now.Add(-d))
		}
		return out
	}
	m := time.Minute
	tests := []struct {
		name    string
		refused []time.Time
		want    time.Duration
	}{
		{"none", nil, 0},
		{"four within the hour", ago(1*m, 2*m, 3*m, 4*m), 0},
		{"five within the hour", ago(1*m, 2*m, 3*m, 4*m, 10*m), 50 * m},
		{"six: the fifth newest decides", ago(1*m, 2*m, 3*m, 4*m, 20*m, 50*m), 40 * m},
		{"the fifth just an hour old", ago(1*m, 2*m, 3*m, 4*m, 60*m), 0},
		{"the fifth older than the window", ago(1*m, 2*m, 3*m, 4*m, 90*m), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := LinkPause(tt.refused, now); got != tt.want {
				t.Fatalf("LinkPause = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCanPay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status  Status
		code    fault.Code // empty: allowed
		message string
	}{
		{StatusActive, "", ""},
		{StatusPending, fault.AccountNotActive, "the account is pending_verification"},
		{StatusRejected, fault.AccountNotActive, "the account is rejected"},
		{StatusUnlinked, fault.AccountNotActive, "the account is unlinked"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			err := acct(tt.status).CanPay()
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *fault.Error
			if !errors.As(err, &e) || e.Code != tt.code || e.Message != tt.message {
				t.Fatalf("got %v, want %s %q", err, tt.code, tt.message)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != "account_id" || e.Fields[0].Code != tt.code {
				t.Fatalf("fields %+v, want account_id %s", e.Fields, tt.code)
			}
		})
	}
}
