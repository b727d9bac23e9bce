package bankclient

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/money"
)

// isRFC3339 checks RFC 3339 §5.6 date-time syntax and ranges by hand:
// YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM), a real calendar day, hours 00–23,
// minutes and seconds 00–59 (a leap second is not something a booking has).
// Lower-case "t" and "z", which RFC 3339 allows, are refused by Go; the
// check is only ever asked about what the parser accepted.
func isRFC3339(s string) bool {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, s != ""
	}
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return false
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	h, ok4 := num(s[11:13])
	mi, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 {
		return false
	}
	if d < 1 || d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return false
	}
	rest := s[19:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	if rest == "Z" || rest == "z" {
		return true
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return false
	}
	oh, ok1 := num(rest[1:3])
	om, ok2 := num(rest[4:6])
	return ok1 && ok2 && oh <= 23 && om <= 59
}

// FuzzParseStatement feeds arbitrary bodies to the statement reader of
// PROTOCOL.md §7. It never panics; when it accepts a statement, the header
// row was exactly bank_reference,type,id,amount,currency,status,booked_at and
// every row became one line with type debit|refund, status
// succeeded|reversed, an amount of ^[1-9][0-9]{0,17}$ read exactly, and an
// RFC 3339 booked_at.
func FuzzParseStatement(f *testing.F) {
	const head = "bank_reference,type,id,amount,currency,status,booked_at\r\n"
	for _, s := range []string{
		head,
		head + "FT26330000001,debit,pa_01JDEMX0000000000000000000,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\nFT2,refund,rf_1,25000,VND,reversed,2026-11-26T15:02:00+07:00\r\n",
		head + "FT1,debit,pa_1,999999999999999999,VND,succeeded,2026-11-26T08:02:00.123456789Z",
		head + "\"FT,1\",debit,\"pa_\"\"1\",1,VND,succeeded,2026-11-26T08:02:00-00:00\n",
		"bank_reference,type,id,amount,currency,status,booked_at\n\n\nFT1,refund,rf_1,1,VND,reversed,2024-02-29T23:59:59Z\n",
		head + "FT1,debit,pa_1,75000.0,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "FT1,debit,pa_1,075000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "FT1,debit,pa_1,-1,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "FT1,debit,pa_1,1000000000000000000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "FT1,Debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "FT1,debit,pa_1,75000,VND,pending,2026-11-26T08:02:00Z\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26 08:02:00Z\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z,extra\r\n",
		"\ufeff" + head,
		"type,bank_reference,id,amount,currency,status,booked_at\r\n",
		head + "FT1,debit,pa_\x00,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "\xff\xfe,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		head + "\"FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00Z\r\n",
		"",
		"\r\n",
		// Taken by time.Parse(time.RFC3339, …), not RFC 3339 (go.dev/issue/54580).
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T8:02:00Z\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00,5Z\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00+24:00\r\n",
		head + "FT1,debit,pa_1,75000,VND,succeeded,2026-11-26T08:02:00+00:60\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, err := parseStatement(body)
		if err != nil {
			if lines != nil {
				t.Fatalf("parseStatement refused %q (%v) yet returned %d lines", body, err, len(lines))
			}
			return
		}
		if lines == nil {
			t.Fatalf("parseStatement(%q) accepted with nil lines, want an empty list", body)
		}
		// Read the same body as plain CSV to see what each line was made from.
		r := csv.NewReader(bytes.NewReader(body))
		recs, rerr := r.ReadAll()
		if rerr != nil || len(recs) != len(lines)+1 {
			t.Fatalf("parseStatement(%q) gave %d lines; as CSV it is %d records (%v)", body, len(lines), len(recs), rerr)
		}
		if strings.Join(recs[0], ",") != "bank_reference,type,id,amount,currency,status,booked_at" {
			t.Fatalf("accepted a statement whose header is %q", recs[0])
		}
		for i, l := range lines {
			rec := recs[i+1]
			if l.Type != "debit" && l.Type != "refund" {
				t.Fatalf("line %d: type %q", i, l.Type)
			}
			if l.Status != "succeeded" && l.Status != "reversed" {
				t.Fatalf("line %d: status %q", i, l.Status)
			}
			if got := money.Format(l.Amount); got != rec[3] || !l.Amount.IsPositive() || !l.Amount.IsInteger() {
				t.Fatalf("line %d: amount text %q read as %s", i, rec[3], l.Amount)
			}
			if _, err := money.Parse(rec[3]); err != nil {
				t.Fatalf("line %d: amount %q is not ^[1-9][0-9]{0,17}$", i, rec[3])
			}
			if !isRFC3339(rec[6]) {
				t.Fatalf("line %d: booked_at %q accepted, but it is not RFC 3339", i, rec[6])
			}
			if l.BookedAt.IsZero() {
				t.Fatalf("line %d: booked_at %q read as the zero time", i, rec[6])
			}
			if l.BankReference != rec[0] || l.ID != rec[2] || l.Currency != rec[4] {
				t.Fatalf("line %d: %+v does not hold the fields of %q", i, l, rec)
			}
		}
	})
}
