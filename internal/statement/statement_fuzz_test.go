package statement_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/statement"
)

// FuzzReader feeds arbitrary statements to both readers. They never panic,
// end in io.EOF or a *FormatError, and every line they give is a booking
// of the asked day with a type, an id of that type's prefix (camt.053), a
// positive whole amount and a currency, numbered in increasing order.
func FuzzReader(f *testing.F) {
	book := sts("08", "BOOK")
	for _, s := range []string{
		head,
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\nFT2,refund,rf_1,25000,VND,reversed,2026-11-26T15:02:00+07:00\r\n",
		head + "FT1,debit,pa_1,75000.0,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "\"FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		"\ufeff" + head,
		"",
		doc("08"),
		doc("08", ntry("75000", "CRDT", "", book, dtTm, "NREF", tx("pa_1", "", "FT1"))),
		doc("02", ntry("100", "CRDT", "", "<Sts>BOOK</Sts>", dt, "B", tx("pa_1", "60", "FT1"), tx("pa_2", "40", ""))),
		doc("08", ntry("75000", "DBIT", "true", book, dtTm, "", tx("pa_1", "75000", "FT1")), ntry("1", "DBIT", "", book, dt, "X")),
		doc("08", ntry("75000", "CRDT", "", book, "<Dt>2026-11-25</Dt>", "", tx("rf_1", "75000", "FT1"))),
		`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn/></Document>`,
		`<Document><BkToCstmrStmt><Stmt><Ntry><NtryDtls><TxDtls/></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><Document/>`,
	} {
		f.Add([]byte(s), strings.HasPrefix(s, "<") || strings.Contains(s, "<?xml"))
	}
	f.Fuzz(func(t *testing.T, body []byte, xml bool) {
		ct := "text/csv"
		if xml {
			ct = "application/xml"
		}
		r, err := statement.NewReader(bytes.NewReader(body), ct, day)
		if err != nil {
			t.Fatal(err)
		}
		last := 0
		for {
			l, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var fe *statement.FormatError
			if err != nil {
				if !errors.As(err, &fe) || fe.Reason == "" || fe.Line < 0 {
					t.Fatalf("error %v (%T) is not a FormatError with a reason", err, err)
				}
				if _, again := r.Next(); again != err {
					t.Fatalf("after %v, Next said %v", err, again)
				}
				return
			}
			if l.N <= last {
				t.Fatalf("line numbered %d after %d", l.N, last)
			}
			last = l.N
			if l.Type != "debit" && l.Type != "refund" {
				t.Fatalf("type %q", l.Type)
			}
			if xml && !strings.HasPrefix(l.ID, map[string]string{"debit": "pa_", "refund": "rf_"}[l.Type]) {
				t.Fatalf("%s with id %q", l.Type, l.ID)
			}
			if l.ID == "" || l.Currency == "" || !l.Amount.IsPositive() || !l.Amount.IsInteger() {
				t.Fatalf("line %+v", l)
			}
			if got := l.BookedAt.In(tz).Format("2006-01-02"); got != day {
				t.Fatalf("booked on %s", got)
			}
		}
	})
}
