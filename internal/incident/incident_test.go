package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/fault"
	"github.com/citizenpay/gateway/internal/incident"
)

func open(t *testing.T, kind incident.Kind, bank, object string) *incident.Incident {
	t.Helper()
	in, err := incident.Restore("inc_1", kind, incident.StatusOpen, bank, object, "s", []byte(`{}`), "", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestFits: which actions fit which kinds and objects, including every
// refusal.
func TestFits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind    incident.Kind
		object  string
		action  incident.Action
		wantErr string // "" when it fits
	}{
		{incident.KindUnknownEventType, "", incident.ActionNote, ""},
		{"some_future_kind", "pa_1", incident.ActionNote, ""},
		{incident.KindOutcomeConflict, "pa_1", incident.ActionRefund, ""},
		{incident.KindOutcomeConflict, "rf_1", incident.ActionRefund, ""},
		{incident.KindUnknownObject, "pa_1", incident.ActionRefund, ""},
		{incident.KindReconciliation, "pr_1", incident.ActionRefund, ""},
		{incident.KindAmountDiffers, "pa_1", incident.ActionRefund, "not the remedy"},
		{incident.KindOutcomeUnknown, "pa_1", incident.ActionRefund, "not the remedy"},
		{incident.KindUnknownEventType, "pa_1", incident.ActionRefund, "not the remedy"},
		{"some_future_kind", "pa_1", incident.ActionRefund, "not the remedy"},
		{incident.KindUnknownEventType, "", incident.ActionRefund, "names no payment request"},
		{incident.KindOutcomeConflict, "av_1", incident.ActionRefund, "names no payment request"},
		{incident.KindAmountDiffers, "pa_1", incident.ActionApplyPaid, ""},
		{incident.KindUnknownObject, "pa_1", incident.ActionApplyPaid, ""},
		{incident.KindOutcomeUnknown, "pa_1", incident.ActionApplyPaid, ""},
		{incident.KindOutcomeConflict, "pa_1", incident.ActionApplyPaid, "not the remedy"},
		{incident.KindOutcomeConflict, "rf_1", incident.ActionApplyPaid, "names no debit"},
		{incident.KindAmountDiffers, "pr_1", incident.ActionApplyPaid, "names no debit"},
	}
	for _, tc := range tests {
		err := open(t, tc.kind, "SBX", tc.object).Fits(tc.action)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s on %s %s: %v", tc.action, tc.kind, tc.object, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || fault.CodeOf(err) != fault.InvalidState):
			t.Errorf("%s on %s %s: %v, want invalid_state %q", tc.action, tc.kind, tc.object, err, tc.wantErr)
		}
	}
}

func TestCheckBank(t *testing.T) {
	t.Parallel()
	if err := open(t, incident.KindUnknownObject, "EVL", "pa_1").CheckBank("debit pa_1", "SBX"); fault.CodeOf(err) != fault.InvalidState ||
		!strings.Contains(err.Error(), "bank EVL") {
		t.Errorf("another bank's debit: %v", err)
	}
	if err := open(t, incident.KindUnknownObject, "SBX", "pa_1").CheckBank("debit pa_1", "SBX"); err != nil {
		t.Errorf("the same bank: %v", err)
	}
	if err := open(t, incident.KindReconciliation, "", "pr_1").CheckBank("request pr_1", "SBX"); err != nil {
		t.Errorf("raised by the gateway: %v", err)
	}
}

// TestResolve: an open incident resolves once; the second time is refused
// and changes nothing.
func TestResolve(t *testing.T) {
	t.Parallel()
	in := open(t, incident.KindOutcomeConflict, "SBX", "pa_1")
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if err := in.Resolve(incident.Resolution{Action: incident.ActionRefund, Note: "disputed"}, "rf_1 of 75000 VND for pr_1", now); err != nil {
		t.Fatal(err)
	}
	if in.Open() || in.Status() != incident.StatusResolved || in.Resolution() != "refund: rf_1 of 75000 VND for pr_1: disputed" ||
		in.ResolvedAt() == nil || !in.ResolvedAt().Equal(now) {
		t.Fatalf("resolved: %+v", in)
	}
	err := in.Resolve(incident.Resolution{Action: incident.ActionNote, Note: "again"}, "", now.Add(time.Hour))
	if fault.CodeOf(err) != fault.InvalidState || !strings.Contains(err.Error(), "already resolved at 2026-03-01T08:00:00Z") {
		t.Fatalf("second resolve: %v", err)
	}
	if in.Resolution() != "refund: rf_1 of 75000 VND for pr_1: disputed" || !in.ResolvedAt().Equal(now) {
		t.Fatalf("the second resolve changed it: %+v", in)
	}
	// A refused action leaves it open.
	in = open(t, incident.KindAmountDiffers, "SBX", "pa_1")
	if err := in.Resolve(incident.Resolution{Action: incident.ActionRefund, Note: "n"}, "x", now); err == nil || !in.Open() {
		t.Fatalf("refund of amount_differs: %v, open %v", err, in.Open())
	}
	if _, err := incident.Restore("inc_2", incident.KindAmountDiffers, "closed", "", "", "s", nil, "", now, nil); err == nil {
		t.Fatal("a stored status that is no state was restored")
	}
}

func TestResolutionValidate(t *testing.T) {
	t.Parallel()
	for _, r := range []incident.Resolution{
		{Action: incident.ActionApplyPaid, Note: "checked"},
		{Action: incident.ActionApplyPaid, BankReference: "R1"},
		{Action: incident.ActionNote, BankReference: "R1", Note: "checked"},
		{Action: "cancel", Note: "checked"},
		{Action: incident.ActionRefund, Note: strings.Repeat("x", incident.MaxNote+1)},
		{Action: incident.ActionApplyPaid, BankReference: strings.Repeat("r", 129), Note: "n"},
	} {
		if err := r.Validate(); fault.CodeOf(err) != fault.ValidationFailed {
			t.Errorf("%+v: %v", r, err)
		}
	}
	if err := (incident.Resolution{Action: incident.ActionRefund, Note: strings.Repeat("é", incident.MaxNote)}).Validate(); err != nil {
		t.Errorf("a note of 500 characters: %v", err)
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code fault.Code
		kind incident.Kind
		ok   bool
	}{
		{fault.NotFound, incident.KindUnknownObject, true},
		{fault.OutcomeConflict, incident.KindOutcomeConflict, true},
		{fault.AmountDiffers, incident.KindAmountDiffers, true},
		{fault.UnknownEventType, incident.KindUnknownEventType, true},
		{fault.InvalidState, "", false},
		{fault.BankUnavailable, "", false},
		{fault.Internal, "", false},
	} {
		kind, ok := incident.KindOf(tc.code)
		if kind != tc.kind || ok != tc.ok {
			t.Errorf("KindOf(%s) = %q, %v; want %q, %v", tc.code, kind, ok, tc.kind, tc.ok)
		}
	}
}
