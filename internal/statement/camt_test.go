package statement_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/citizenpay/gateway/internal/statement"
)

// doc wraps entries in a camt.053 document of version v ("02" … "08").
func doc(v string, entries ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.` + v + `"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-27T00:10:00+07:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><Othr><Id>0071000999999</Id></Othr></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="VND">1000</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-26</Dt></Dt></Bal>
` + strings.Join(entries, "\n") + `
</Stmt></BkToCstmrStmt></Document>`
}

// sts is an entry's status in version v's form.
func sts(v, code string) string {
	if v == "08" {
		return "<Sts><Cd>" + code + "</Cd></Sts>"
	}
	return "<Sts>" + code + "</Sts>"
}

// ntry is one entry; amt "" leaves Ntry/Amt out, rvsl "" leaves RvslInd out.
func ntry(amt, ind, rvsl, status, booked, ref string, txs ...string) string {
	var b strings.Builder
	b.WriteString("<Ntry><NtryRef>1</NtryRef>")
	if amt != "" {
		fmt.Fprintf(&b, `<Amt Ccy="VND">%s</Amt>`, amt)
	}
	fmt.Fprintf(&b, "<CdtDbtInd>%s</CdtDbtInd>", ind)
	if rvsl != "" {
		fmt.Fprintf(&b, "<RvslInd>%s</RvslInd>", rvsl)
	}
	b.WriteString(status + "<BookgDt>" + booked + "</BookgDt>")
	if ref != "" {
		fmt.Fprintf(&b, "<AcctSvcrRef>%s</AcctSvcrRef>", ref)
	}
	b.WriteString("<BkTxCd><Domn><Cd>PMNT</Cd></Domn></BkTxCd>")
	if len(txs) > 0 {
		b.WriteString("<NtryDtls>" + strings.Join(txs, "") + "</NtryDtls>")
	}
	b.WriteString("<AddtlNtryInf>info</AddtlNtryInf></Ntry>")
	return b.String()
}

// tx is one TxDtls; amt "" leaves its Amt out, ref "" its AcctSvcrRef.
func tx(id, amt, ref string) string {
	var b strings.Builder
	b.WriteString("<TxDtls><Refs>")
	if ref != "" {
		fmt.Fprintf(&b, "<AcctSvcrRef>%s</AcctSvcrRef>", ref)
	}
	fmt.Fprintf(&b, "<EndToEndId>%s</EndToEndId></Refs>", id)
	if amt != "" {
		fmt.Fprintf(&b, `<Amt Ccy="VND">%s</Amt>`, amt)
	}
	b.WriteString("<RmtInf><Ustrd>fee</Ustrd></RmtInf></TxDtls>")
	return b.String()
}

const (
	dtTm = "<DtTm>2026-11-26T10:00:00+07:00</DtTm>"
	dt   = "<Dt>2026-11-26</Dt>"
)

func TestCamt(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"02", "04", "07", "08"} {
		book := sts(v, "BOOK")
		for _, tc := range []struct {
			name      string
			entries   []string
			want      []statement.Line
			errLine   int
			errReason string
		}{
			{name: "no entries is an empty day"},
			{name: "one debit, amount of the entry", entries: []string{
				ntry("75000", "CRDT", "", book, dtTm, "NREF", tx("pa_1", "", "FT1")),
			}, want: []statement.Line{line(1, "debit", "pa_1", 75000, false, "2026-11-26T03:00:00Z", "FT1")}},
			{name: "a refund, the entry's reference", entries: []string{
				ntry("25000", "DBIT", "false", book, dtTm, "NREF", tx("rf_1", "25000", "")),
			}, want: []statement.Line{line(1, "refund", "rf_1", 25000, false, "2026-11-26T03:00:00Z", "NREF")}},
			{name: "a batch entry holds several lines", entries: []string{
				ntry("100000", "CRDT", "", book, dt, "B1", tx("pa_1", "75000", "FT1"), tx("pa_2", "20000", "FT2"), tx("pa_3", "5000", "")),
			}, want: []statement.Line{
				line(1, "debit", "pa_1", 75000, false, "2026-11-25T17:00:00Z", "FT1"),
				line(2, "debit", "pa_2", 20000, false, "2026-11-25T17:00:00Z", "FT2"),
				line(3, "debit", "pa_3", 5000, false, "2026-11-25T17:00:00Z", "B1"),
			}},
			{name: "reversals invert the indicator", entries: []string{
				ntry("75000", "DBIT", "true", book, dtTm, "", tx("pa_1", "75000", "FT1")),
				ntry("25000", "CRDT", "1", book, dtTm, "", tx("rf_1", "25000", "FT2")),
			}, want: []statement.Line{
				line(1, "debit", "pa_1", 75000, true, "2026-11-26T03:00:00Z", "FT1"),
				line(2, "refund", "rf_1", 25000, true, "2026-11-26T03:00:00Z", "FT2"),
			}},
			{name: "other movements and entries not booked are ignored", entries: []string{
				ntry("5000000", "CRDT", "", book, dtTm, "X1"),
				ntry("10", "DBIT", "", book, dtTm, "X2", tx("NOTPROVIDED", "10", "X2")),
				ntry("75000", "CRDT", "", sts(v, "PDNG"), dtTm, "", tx("pa_9", "75000", "FT9")),
				ntry("10", "DBIT", "", book, "<Dt>2001-01-01</Dt>", "X3", tx("", "10", "")),
				ntry("75000", "CRDT", "", book, dtTm, "", tx("pa_1", "75000", "FT1"), tx("fee-1", "2", "")),
			}, want: []statement.Line{line(5, "debit", "pa_1", 75000, false, "2026-11-26T03:00:00Z", "FT1")}},
			{name: "a local date-time", entries: []string{
				ntry("1", "CRDT", "", book, "<DtTm>2026-11-26T23:59:59</DtTm>", "", tx("pa_1", "1", "FT1")),
			}, want: []statement.Line{line(1, "debit", "pa_1", 1, false, "2026-11-26T16:59:59Z", "FT1")}},
			{name: "the amount in AmtDtls/TxAmt", entries: []string{
				ntry("", "CRDT", "", book, dtTm, "", `<TxDtls><Refs><EndToEndId>pa_2</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy="VND">2</Amt></TxAmt></AmtDtls></TxDtls>`),
			}, want: []statement.Line{line(1, "debit", "pa_2", 2, false, "2026-11-26T03:00:00Z", "")}},
			{name: "a batch transaction without amount", entries: []string{
				ntry("3", "CRDT", "", book, dtTm, "", tx("pa_1", "", "FT1")+
					`<TxDtls><Refs><EndToEndId>pa_2</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy="VND">2</Amt></TxAmt></AmtDtls></TxDtls>`),
			}, errLine: 1, errReason: "no amount"},
			{name: "a decimal amount", entries: []string{
				ntry("75000.00", "CRDT", "", book, dtTm, "", tx("pa_1", "", "FT1")),
			}, errLine: 1, errReason: "the amount is not an amount"},
			{name: "an amount without currency", entries: []string{
				ntry("", "CRDT", "", book, dtTm, "", `<TxDtls><Refs><EndToEndId>pa_1</EndToEndId></Refs><Amt>5</Amt></TxDtls>`),
			}, errLine: 1, errReason: "currency"},
			{name: "an indicator that contradicts the id", entries: []string{
				ntry("75000", "CRDT", "", book, dtTm, "", tx("pa_1", "75000", "FT1")),
				ntry("75000", "CRDT", "", book, dtTm, "", tx("rf_1", "75000", "FT2")),
			}, errLine: 2, errReason: "CdtDbtInd"},
			{name: "a reversal that is not inverted", entries: []string{
				ntry("75000", "CRDT", "true", book, dtTm, "", tx("pa_1", "75000", "FT1")),
			}, errLine: 1, errReason: "CdtDbtInd"},
			{name: "a bad RvslInd", entries: []string{
				ntry("75000", "CRDT", "yes", book, dtTm, "", tx("pa_1", "75000", "FT1")),
			}, errLine: 1, errReason: "RvslInd"},
			{name: "another day", entries: []string{
				ntry("75000", "CRDT", "", book, "<Dt>2026-11-25</Dt>", "", tx("pa_1", "75000", "FT1")),
			}, errLine: 1, errReason: "a date that is not the asked date"},
			{name: "another day by the clock of Ho Chi Minh City", entries: []string{
				ntry("75000", "CRDT", "", book, "<DtTm>2026-11-26T17:00:00Z</DtTm>", "", tx("pa_1", "75000", "FT1")),
			}, errLine: 1, errReason: "not the asked date"},
			{name: "a booking date that is not a date", entries: []string{
				ntry("75000", "CRDT", "", book, "<Dt>26/11/2026</Dt>", "", tx("pa_1", "75000", "FT1")),
			}, errLine: 1, errReason: "not a date"},
			{name: "an entry without status", entries: []string{
				ntry("75000", "CRDT", "", "", dtTm, "", tx("pa_1", "75000", "FT1")),
			}, errLine: 1, errReason: "status"},
		} {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				got, err := readAll(t, doc(v, tc.entries...), "application/xml")
				if tc.errReason != "" {
					wantFormatError(t, err, tc.errLine, tc.errReason)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				sameLines(t, got, tc.want)
			})
		}
	}
}

func TestCamtRefusesOtherDocuments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, reason string }{
		{"empty", "", "not a camt.053"},
		{"CSV sent as XML", head + "FT1,debit,pa_1,1,VND,succeeded,2026-11-26T08:02:00Z\r\n", "not XML"},
		{"JSON", `{"lines":[]}`, "not XML"},
		{"another root", `<Statement><Ntry/></Statement>`, "not a camt.053"},
		{"another message", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn/></Document>`, "not a camt.053"},
		{"a Document without BkToCstmrStmt", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><Other/></Document>`, "BkToCstmrStmt"},
		{"an empty Document", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"></Document>`, "BkToCstmrStmt"},
		{"cut short", doc("08")[:300], "not well-formed"},
		{"mismatched tags", `<Document><BkToCstmrStmt><Stmt></BkToCstmrStmt></Document>`, "not well-formed"},
	} {
		_, err := readAll(t, tc.body, "text/xml; charset=utf-8")
		var line int
		if tc.name == "cut short" || tc.name == "mismatched tags" {
			line = -1
		}
		if line == -1 {
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("%s: got %v", tc.name, err)
			}
			continue
		}
		wantFormatError(t, err, 0, tc.reason)
	}
}

func TestCamtEntryElementsAfterDetails(t *testing.T) {
	t.Parallel()
	body := doc("08", `<Ntry><NtryDtls>`+tx("pa_1", "1", "FT1")+`</NtryDtls><Sts><Cd>BOOK</Cd></Sts></Ntry>`)
	_, err := readAll(t, body, "application/xml")
	wantFormatError(t, err, 2, "after its details")
}
