package banksim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/signature"
)

// line is a statement line as a reader sees it, in either format.
type line struct {
	ref, typ, id, amount, status string
}

// seedDay books debits pa_a 75000, pa_b 20000, a refund rf_a of 5000 on
// pa_a and a debit pa_c 30000, in that order, and returns the day.
func seedDay(t *testing.T, b *bundle) string {
	t.Helper()
	for _, d := range []struct{ id, amount string }{{"pa_a", "75000"}, {"pa_b", "20000"}} {
		if status, _, out := b.debit(t, d.id, testAccount, testPID, d.amount); status != http.StatusOK {
			t.Fatalf("debit %s: %d %s", d.id, status, out)
		}
	}
	if status, _, out := b.do(t, http.MethodPost, "/v1/refunds", "rf_a", `{"refund_id":"rf_a","debit_id":"pa_a","amount":"5000","currency":"VND"}`); status != http.StatusOK {
		t.Fatalf("refund: %d %s", status, out)
	}
	if status, _, out := b.debit(t, "pa_c", testAccount, testPID, "30000"); status != http.StatusOK {
		t.Fatalf("debit pa_c: %d %s", status, out)
	}
	return time.Now().In(b.bank.loc).Format(time.DateOnly)
}

// fetchStatement GETs the statement of day, signed, with the Accept given.
func fetchStatement(t *testing.T, b *bundle, day, accept string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+"/v1/statements?date="+day, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	signature.SignRequest(req, testSecret, nil, time.Now())
	return send(t, req)
}

func csvLines(t *testing.T, body []byte) []line {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) == 0 || !slices.Equal(rows[0], csvHeader) {
		t.Fatalf("CSV %q: %v", body, err)
	}
	var out []line
	for _, r := range rows[1:] {
		if r[4] != "VND" {
			t.Errorf("currency %q", r[4])
		}
		out = append(out, line{r[0], r[1], r[2], r[3], r[5]})
	}
	return out
}

// camtDoc is the part of camt.053.001.08 the tests read.
type camtDoc struct {
	XMLName xml.Name      `xml:"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08 Document"`
	MsgID   string        `xml:"BkToCstmrStmt>GrpHdr>MsgId"`
	Created string        `xml:"BkToCstmrStmt>GrpHdr>CreDtTm"`
	StmtID  string        `xml:"BkToCstmrStmt>Stmt>Id"`
	Account string        `xml:"BkToCstmrStmt>Stmt>Acct>Id>Othr>Id"`
	From    string        `xml:"BkToCstmrStmt>Stmt>FrToDt>FrDtTm"`
	To      string        `xml:"BkToCstmrStmt>Stmt>FrToDt>ToDtTm"`
	Entries []camtDocNtry `xml:"BkToCstmrStmt>Stmt>Ntry"`
}

type camtDocAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type camtDocNtry struct {
	Amt       camtDocAmt `xml:"Amt"`
	CdtDbtInd string     `xml:"CdtDbtInd"`
	RvslInd   bool       `xml:"RvslInd"`
	Sts       string     `xml:"Sts>Cd"`
	BookedAt  string     `xml:"BookgDt>DtTm"`
	Ref       string     `xml:"AcctSvcrRef"`
	Txs       []struct {
		Ref       string     `xml:"Refs>AcctSvcrRef"`
		EndToEnd  string     `xml:"Refs>EndToEndId"`
		Amt       camtDocAmt `xml:"Amt"`
		CdtDbtInd string     `xml:"CdtDbtInd"`
	} `xml:"NtryDtls>TxDtls"`
}

func parseCamt(t *testing.T, body []byte) camtDoc {
	t.Helper()
	var d camtDoc
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Fatalf("camt.053 %s: %v", body, err)
	}
	return d
}

// camtLines reads the gateway's lines out of a camt.053 as §12 says,
// skipping the other movements and checking each entry's indicators.
func camtLines(t *testing.T, body []byte) []line {
	t.Helper()
	var out []line
	for _, e := range parseCamt(t, body).Entries {
		if e.Sts != "BOOK" || e.Amt.Ccy != "VND" {
			t.Errorf("entry %+v: status or currency", e)
		}
		for _, tx := range e.Txs {
			typ := ""
			switch {
			case strings.HasPrefix(tx.EndToEnd, "pa_"):
				typ = BookingDebit
			case strings.HasPrefix(tx.EndToEnd, "rf_"):
				typ = BookingRefund
			default:
				continue
			}
			want := map[bool]string{true: "CRDT", false: "DBIT"}[(typ == BookingDebit) != e.RvslInd]
			if e.CdtDbtInd != want || tx.CdtDbtInd != want {
				t.Errorf("%s: CdtDbtInd %s/%s, want %s", tx.EndToEnd, e.CdtDbtInd, tx.CdtDbtInd, want)
			}
			status := BookingSucceeded
			if e.RvslInd {
				status = BookingReversed
			}
			out = append(out, line{tx.Ref, typ, tx.EndToEnd, tx.Amt.Value, status})
		}
	}
	return out
}

// expected is a line a test expects, its reference aside.
type expected struct{ id, amount, status string }

func TestStatementFaults(t *testing.T) {
	t.Parallel()
	type want = expected
	ok := func(id, amount string) want { return want{id, amount, BookingSucceeded} }
	tests := []struct {
		name  string
		knobs Knobs
		want  func(day string) []want
	}{
		{"honest", Knobs{}, func(string) []want {
			return []want{ok("pa_a", "75000"), ok("pa_b", "20000"), ok("rf_a", "5000"), ok("pa_c", "30000")}
		}},
		{"omit", Knobs{StatementOmit: 1}, func(string) []want {
			return []want{ok("pa_b", "20000"), ok("rf_a", "5000"), ok("pa_c", "30000")}
		}},
		{"phantom", Knobs{StatementPhantom: 2}, func(day string) []want {
			d := strings.ReplaceAll(day, "-", "")
			return []want{ok("pa_a", "75000"), ok("pa_b", "20000"), ok("rf_a", "5000"), ok("pa_c", "30000"),
				ok("pa_phantom_"+d+"_1", "50000"), ok("pa_phantom_"+d+"_2", "50000")}
		}},
		{"alter amount", Knobs{StatementAlterAmount: 2}, func(string) []want {
			return []want{ok("pa_a", "76000"), ok("pa_b", "21000"), ok("rf_a", "5000"), ok("pa_c", "30000")}
		}},
		{"reverse", Knobs{StatementReverse: 1}, func(string) []want {
			return []want{ok("pa_a", "75000"), {"pa_a", "75000", BookingReversed}, ok("pa_b", "20000"), ok("rf_a", "5000"), ok("pa_c", "30000")}
		}},
		{"combined", Knobs{StatementOmit: 1, StatementAlterAmount: 1, StatementReverse: 1, StatementPhantom: 1}, func(day string) []want {
			return []want{ok("pa_b", "21000"), {"pa_b", "21000", BookingReversed}, ok("rf_a", "5000"), ok("pa_c", "30000"),
				ok("pa_phantom_"+strings.ReplaceAll(day, "-", "")+"_1", "50000")}
		}},
	}
	formats := []struct {
		name   string
		knobs  func(*Knobs)
		accept string
		read   func(*testing.T, []byte) []line
	}{
		{"csv", func(*Knobs) {}, "text/csv, application/xml", csvLines},
		{"camt053", func(k *Knobs) { k.StatementFormat = StatementCamt053 }, "", camtLines},
		{"camt053 batch", func(k *Knobs) { k.StatementFormat = StatementCamt053; k.StatementBatch = true }, "", camtLines},
		{"accept xml", func(*Knobs) {}, "application/xml", camtLines},
	}
	for _, tt := range tests {
		for _, f := range formats {
			t.Run(tt.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, syncKnobs)
				day := seedDay(t, b)
				k := tt.knobs
				k.Sync = true
				f.knobs(&k)
				b.bank.SetKnobs(k)

				status, h, first := fetchStatement(t, b, day, f.accept)
				if status != http.StatusOK {
					t.Fatalf("status %d %s", status, first)
				}
				if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "text/csv") != (f.name == "csv") {
					t.Fatalf("Content-Type %q", ct)
				}
				got := f.read(t, first)
				want := tt.want(day)
				if k.StatementBatch {
					// A batch entry takes its second line to where its
					// first is: the order differs, the lines do not.
					slices.SortStableFunc(got, func(a, b line) int { return strings.Compare(a.id+a.status, b.id+b.status) })
					slices.SortStableFunc(want, func(a, b expected) int { return strings.Compare(a.id+a.status, b.id+b.status) })
				}
				if len(got) != len(want) {
					t.Fatalf("lines %+v, want %+v", got, want)
				}
				for i, w := range want {
					g := got[i]
					if g.id != w.id || g.amount != w.amount || g.status != w.status || g.ref == "" ||
						g.typ != map[bool]string{true: BookingRefund, false: BookingDebit}[strings.HasPrefix(w.id, "rf_")] {
						t.Errorf("line %d: %+v, want %+v", i, g, w)
					}
				}
				// The Go helper agrees with what was served.
				if f.name == "csv" {
					for i, bk := range b.bank.Statement(day) {
						if g := got[i]; bk.ID != g.id || money.Format(bk.Amount) != g.amount || bk.Status != g.status || bk.BankReference != g.ref {
							t.Errorf("Statement()[%d] %+v, served %+v", i, bk, g)
						}
					}
				}
				// A re-fetch is the same statement, byte for byte.
				if _, _, again := fetchStatement(t, b, day, f.accept); !bytes.Equal(first, again) {
					t.Fatalf("re-fetch differs:\n%s\n---\n%s", first, again)
				}
			})
		}
	}
}

func TestStatementKnobsValidated(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, body := range []string{
		`{"statement_format":"mt940"}`, `{"statement_garbage":"pdf"}`, `{"statement_omit":-1}`,
		`{"statement_phantom":-1}`, `{"statement_alter_amount":-1}`, `{"statement_reverse":-1}`,
		`{"drop_callbacks":-1}`, `{"statement_unavailable_for":"-1s"}`, `{"statement_unavailable_for":"soon"}`,
	} {
		resp, err := http.Post(b.srv.URL+"/_sim/knobs", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", body, resp.StatusCode)
		}
	}
	if b.bank.Knobs() != (Knobs{}) {
		t.Fatalf("refused POSTs changed the knobs: %+v", b.bank.Knobs())
	}
}

func TestStatementKnobsJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	body := `{"statement_format":"camt053","statement_batch":true,"statement_not_ready":true,"statement_omit":1,` +
		`"statement_phantom":2,"statement_alter_amount":3,"statement_reverse":4,"statement_garbage":"amount","drop_callbacks":5}`
	resp, err := http.Post(b.srv.URL+"/_sim/knobs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := Knobs{StatementFormat: StatementCamt053, StatementBatch: true, StatementNotReady: true, StatementOmit: 1,
		StatementPhantom: 2, StatementAlterAmount: 3, StatementReverse: 4, StatementGarbage: GarbageAmount, DropCallbacks: 5}
	if resp.StatusCode != http.StatusOK || b.bank.Knobs() != want {
		t.Fatalf("%d: %+v", resp.StatusCode, b.bank.Knobs())
	}
	var got Knobs
	resp, err = http.Get(b.srv.URL + "/_sim/knobs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got != want {
		t.Fatalf("GET %+v: %v", got, err)
	}
}
