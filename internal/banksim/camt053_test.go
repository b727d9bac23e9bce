package banksim

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestCamt053Mapping(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	day := seedDay(t, b)
	b.bank.SetKnobs(Knobs{Sync: true, StatementFormat: StatementCamt053, StatementBatch: true, StatementReverse: 1})
	status, h, body := fetchStatement(t, b, day, "text/csv")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/xml") {
		t.Fatalf("status %d %v", status, h)
	}
	d := parseCamt(t, body)
	start, _ := time.ParseInLocation(time.DateOnly, day, b.bank.loc)
	if d.MsgID == "" || d.StmtID == "" || d.Account != "GATEWAY-SBX" || d.Created == "" {
		t.Fatalf("header %+v", d)
	}
	if from, err := time.Parse(time.RFC3339, d.From); err != nil || !from.Equal(start) {
		t.Fatalf("FrDtTm %q: %v", d.From, err)
	}
	if to, err := time.Parse(time.RFC3339, d.To); err != nil || to.In(b.bank.loc).Format(time.DateOnly) != day {
		t.Fatalf("ToDtTm %q: %v", d.To, err)
	}
	// pa_a and pa_b in one batch; pa_a's reversal; rf_a; pa_c; the fee.
	if len(d.Entries) != 5 {
		t.Fatalf("%d entries: %s", len(d.Entries), body)
	}
	type tx struct{ id, amount string }
	tests := []struct {
		amount, cdtDbt string
		reversal       bool
		txs            []tx
	}{
		{"95000", "CRDT", false, []tx{{"pa_a", "75000"}, {"pa_b", "20000"}}},
		{"75000", "DBIT", true, []tx{{"pa_a", "75000"}}},
		{"5000", "DBIT", false, []tx{{"rf_a", "5000"}}},
		{"30000", "CRDT", false, []tx{{"pa_c", "30000"}}},
		{"11000", "DBIT", false, []tx{{notProvided, "11000"}}},
	}
	refs := map[string]bool{}
	for i, w := range tests {
		e := d.Entries[i]
		if e.Amt.Value != w.amount || e.Amt.Ccy != "VND" || e.CdtDbtInd != w.cdtDbt || e.RvslInd != w.reversal || e.Sts != "BOOK" || e.Ref == "" {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
		booked, err := time.Parse(time.RFC3339, e.BookedAt)
		if err != nil || booked.In(b.bank.loc).Format(time.DateOnly) != day {
			t.Errorf("entry %d BookgDt %q: %v", i, e.BookedAt, err)
		}
		if len(e.Txs) != len(w.txs) {
			t.Errorf("entry %d: %d TxDtls, want %d", i, len(e.Txs), len(w.txs))
			continue
		}
		for j, wt := range w.txs {
			got := e.Txs[j]
			if got.EndToEnd != wt.id || got.Amt.Value != wt.amount || got.CdtDbtInd != w.cdtDbt {
				t.Errorf("entry %d tx %d: %+v, want %+v", i, j, got, wt)
			}
			if wt.id != notProvided && (got.Ref == "" || refs[got.Ref]) {
				t.Errorf("entry %d tx %d: bank reference %q missing or repeated", i, j, got.Ref)
			}
			refs[got.Ref] = true
		}
	}
	// The batch's lines carry the references the bank answered with.
	booked := b.bank.Statement(day)
	for i, bk := range []Booking{booked[0], booked[2]} {
		if bk.Status != BookingSucceeded || d.Entries[0].Txs[i].Ref != bk.BankReference {
			t.Errorf("batch tx %d ref %q, booked %q", i, d.Entries[0].Txs[i].Ref, bk.BankReference)
		}
	}

	// An empty day has only the other movement, which a reader skips.
	_, _, body = fetchStatement(t, b, "2001-01-01", "")
	if d := parseCamt(t, body); len(d.Entries) != 1 || d.Entries[0].Txs[0].EndToEnd != notProvided || len(camtLines(t, body)) != 0 {
		t.Fatalf("empty day: %s", body)
	}
}

func TestStatementNegotiatesXML(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	day := seedDay(t, b)
	for _, tt := range []struct {
		accept string
		xml    bool
	}{
		{"", false}, {"text/csv", false}, {"text/csv, application/xml", false}, {"*/*", false},
		{"application/xml", true}, {"application/xml;q=0.9", true},
	} {
		_, h, body := fetchStatement(t, b, day, tt.accept)
		isXML := strings.HasPrefix(h.Get("Content-Type"), "application/xml")
		if isXML != tt.xml || (isXML && len(camtLines(t, body)) != 4) || (!isXML && len(csvLines(t, body)) != 4) {
			t.Errorf("Accept %q: %s, %s", tt.accept, h.Get("Content-Type"), body)
		}
	}
	// StatementFormat camt053 answers XML whatever the Accept.
	b.bank.SetKnobs(Knobs{Sync: true, StatementFormat: StatementCamt053})
	if _, h, _ := fetchStatement(t, b, day, "text/csv"); !strings.HasPrefix(h.Get("Content-Type"), "application/xml") {
		t.Fatalf("camt053 knob: %s", h.Get("Content-Type"))
	}
}

func TestStatementGarbage(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	day := seedDay(t, b)
	set := func(garbage, format string) {
		b.bank.SetKnobs(Knobs{Sync: true, StatementGarbage: garbage, StatementFormat: format})
	}
	for _, format := range []string{StatementCSV, StatementCamt053} {
		set(GarbageHTML, format)
		_, h, body := fetchStatement(t, b, day, "")
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !bytes.HasPrefix(body, []byte("<!DOCTYPE html>")) {
			t.Errorf("%s html: %s %s", format, h.Get("Content-Type"), body)
		}
	}

	set(GarbageHeader, StatementCSV)
	_, _, body := fetchStatement(t, b, day, "")
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 5 || slices.Equal(rows[0], csvHeader) {
		t.Errorf("csv header: %q %v", rows, err)
	}
	set(GarbageHeader, StatementCamt053)
	_, _, body = fetchStatement(t, b, day, "")
	var root struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(body, &root); err != nil || root.XMLName.Space == camt053Namespace || xml.Unmarshal(body, new(camtDoc)) == nil {
		t.Errorf("camt header: %v %s", err, body)
	}

	for _, tt := range []struct{ format, day string }{
		{StatementCSV, day}, {StatementCamt053, day}, {StatementCSV, "2001-01-01"}, {StatementCamt053, "2001-01-01"},
	} {
		set(GarbageAmount, tt.format)
		_, _, body := fetchStatement(t, b, tt.day, "")
		var lines []line
		if tt.format == StatementCSV {
			lines = csvLines(t, body)
		} else {
			lines = camtLines(t, body)
		}
		if len(lines) == 0 || lines[0].amount != notAnAmount {
			t.Errorf("%s %s amount: %+v", tt.format, tt.day, lines)
			continue
		}
		if _, err := money.Parse(lines[0].amount); err == nil {
			t.Errorf("%q parses as an amount", lines[0].amount)
		}
		for _, l := range lines[1:] {
			if _, err := money.Parse(l.amount); err != nil {
				t.Errorf("line %+v: %v", l, err)
			}
		}
	}
}

func TestStatementUnavailableAndNotReady(t *testing.T) {
	t.Parallel()
	b := setup(t, syncKnobs)
	day := seedDay(t, b)
	post := func(body string) {
		t.Helper()
		resp, err := http.Post(b.srv.URL+"/_sim/knobs", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d", body, resp.StatusCode)
		}
	}
	post(`{"statement_unavailable_for":"300ms"}`)
	for _, format := range []string{"", "application/xml"} {
		status, h, body := fetchStatement(t, b, day, format)
		if status != http.StatusServiceUnavailable || h.Get("Retry-After") != "60" || problemCode(t, body) != "unavailable" {
			t.Fatalf("unavailable: %d %v %s", status, h, body)
		}
	}
	if left := b.bank.Knobs().StatementUnavailableFor; left <= 0 || left > 300*time.Millisecond {
		t.Fatalf("time left %v", left)
	}
	// Changing another knob keeps the window; it ends by itself.
	post(`{"statement_omit":1}`)
	if status, _, _ := fetchStatement(t, b, day, ""); status != http.StatusServiceUnavailable {
		t.Fatalf("after another knob: %d", status)
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		status, _, _ := fetchStatement(t, b, day, "")
		return status == http.StatusOK
	}, "statements come back")
	if k := b.bank.Knobs(); k.StatementUnavailableFor != 0 || k.StatementOmit != 1 {
		t.Fatalf("knobs %+v", k)
	}

	post(`{"statement_not_ready":true}`)
	status, h, body := fetchStatement(t, b, day, "")
	if status != http.StatusNotFound || problemCode(t, body) != "not_found" {
		t.Fatalf("not ready: %d %v %s", status, h, body)
	}
	// Other routes are untouched.
	if status, _, _ := b.do(t, http.MethodGet, "/v1/debits/pa_a", "", ""); status != http.StatusOK {
		t.Fatalf("status GET %d", status)
	}
	post(`{"statement_not_ready":false}`)
	if status, _, _ := fetchStatement(t, b, day, ""); status != http.StatusOK {
		t.Fatalf("ready: %d", status)
	}
}
