package banksim

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStatement(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	_, _, out := b.debit(t, "pa_s1", testAccount, testPID, "75000")
	debit := decodeAnswer(t, out)
	b.debit(t, "pa_s2", testAccount, poorPID, "75000") // fails: not booked
	_, _, out = b.do(t, http.MethodPost, "/v1/refunds", "rf_s1", `{"refund_id":"rf_s1","debit_id":"pa_s1","amount":"5000","currency":"VND"}`)
	refund := decodeAnswer(t, out)
	today := time.Now().In(b.bank.loc).Format(time.DateOnly)

	status, h, out := b.do(t, http.MethodGet, "/v1/statements?date="+today, "", "")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d %v %s", status, h, out)
	}
	if !strings.Contains(string(out), "\r\n") {
		t.Fatal("rows do not end in CRLF (RFC 4180)")
	}
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !slices.Equal(rows[0], []string{"bank_reference", "type", "id", "amount", "currency", "status", "booked_at"}) {
		t.Fatalf("rows %q", rows)
	}
	want := [][]string{
		{debit.BankReference, "debit", "pa_s1", "75000", "VND", "succeeded"},
		{refund.BankReference, "refund", "rf_s1", "5000", "VND", "succeeded"},
	}
	for i, w := range want {
		row := rows[i+1]
		if !slices.Equal(row[:6], w) {
			t.Errorf("row %d: %q, want %q", i+1, row, w)
		}
		booked, err := time.Parse(time.RFC3339, row[6])
		if err != nil || !strings.HasSuffix(row[6], "Z") || time.Since(booked) > time.Minute {
			t.Errorf("row %d booked_at %q: %v", i+1, row[6], err)
		}
	}

	// Another day has the header only; a bad date is refused.
	_, _, out = b.do(t, http.MethodGet, "/v1/statements?date=2001-01-01", "", "")
	if rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll(); err != nil || len(rows) != 1 {
		t.Fatalf("another day: %q %v", rows, err)
	}
	for _, q := range []string{"", "?date=2024-13-01", "?date=01/02/2024"} {
		if status, _, _ := b.do(t, http.MethodGet, "/v1/statements"+q, "", ""); status != http.StatusBadRequest {
			t.Errorf("%q: %d", q, status)
		}
	}
}

func TestStatementFollowsTheBusinessDay(t *testing.T) {
	t.Parallel()
	loc := businessLocation()
	l, err := newLedger(nil, loc)
	if err != nil {
		t.Fatal(err)
	}
	// 17:30 UTC on 1 March is 00:30 on 2 March in Hồ Chí Minh City.
	late := time.Date(2024, 3, 1, 17, 30, 0, 0, time.UTC)
	l.booked = append(l.booked, &operation{id: "pa_late", settledAt: late})
	if got := l.statement("2024-03-01"); len(got) != 0 {
		t.Fatalf("1 March: %d rows", len(got))
	}
	if got := l.statement("2024-03-02"); len(got) != 1 {
		t.Fatalf("2 March: %d rows", len(got))
	}
}
