package banksim

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
)

// camt.053.001.08 as PROTOCOL §12 reads it: one statement of the gateway's
// collection account, one Ntry per booking (or per batch), and the account's
// other movements, which carry no gateway id.
const (
	camt053Namespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
	// camt052Namespace is an account report: what StatementGarbage "header"
	// answers in XML, a document that is not a statement.
	camt052Namespace = "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"
	// notProvided is the EndToEndId of a movement the gateway did not order.
	notProvided = "NOTPROVIDED"
)

// feeAmount is the daily collection fee the statement shows as the account's
// other movement.
var feeAmount = decimal.NewFromInt(11000)

type camtAmount struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type camtGroupHeader struct {
	XMLName xml.Name `xml:"GrpHdr"`
	MsgID   string   `xml:"MsgId"`
	CreDtTm string   `xml:"CreDtTm"`
}

type camtPeriod struct {
	XMLName xml.Name `xml:"FrToDt"`
	FrDtTm  string   `xml:"FrDtTm"`
	ToDtTm  string   `xml:"ToDtTm"`
}

type camtAccount struct {
	XMLName xml.Name `xml:"Acct"`
	ID      string   `xml:"Id>Othr>Id"`
	Ccy     string   `xml:"Ccy"`
}

type camtEntry struct {
	XMLName      xml.Name        `xml:"Ntry"`
	NtryRef      string          `xml:"NtryRef"`
	Amt          camtAmount      `xml:"Amt"`
	CdtDbtInd    string          `xml:"CdtDbtInd"`
	RvslInd      bool            `xml:"RvslInd,omitempty"`
	StsCd        string          `xml:"Sts>Cd"`
	BookgDtTm    string          `xml:"BookgDt>DtTm"`
	ValDt        string          `xml:"ValDt>Dt"`
	AcctSvcrRef  string          `xml:"AcctSvcrRef"`
	BkTxCd       camtBankTxCode  `xml:"BkTxCd"`
	Btch         *camtBatch      `xml:"NtryDtls>Btch,omitempty"`
	TxDtls       []camtTxDetails `xml:"NtryDtls>TxDtls"`
	AddtlNtryInf string          `xml:"AddtlNtryInf,omitempty"`
}

type camtBankTxCode struct {
	Domain    string `xml:"Domn>Cd"`
	Family    string `xml:"Domn>Fmly>Cd"`
	SubFamily string `xml:"Domn>Fmly>SubFmlyCd"`
}

type camtBatch struct {
	NbOfTxs string     `xml:"NbOfTxs"`
	TtlAmt  camtAmount `xml:"TtlAmt"`
}

type camtTxDetails struct {
	AcctSvcrRef string     `xml:"Refs>AcctSvcrRef,omitempty"`
	EndToEndID  string     `xml:"Refs>EndToEndId"`
	Amt         camtAmount `xml:"Amt"`
	CdtDbtInd   string     `xml:"CdtDbtInd"`
}

// creditDebit is the entry's indicator on the collection account: a debit
// of a citizen's account credits it, a refund debits it, and a reversal
// inverts the line it reverses.
func creditDebit(b Booking) string {
	credit := b.Type == BookingDebit
	if b.Status == BookingReversed {
		credit = !credit
	}
	if credit {
		return "CRDT"
	}
	return "DBIT"
}

func bankTxCode(b Booking) camtBankTxCode {
	switch {
	case b.Type == BookingRefund:
		return camtBankTxCode{"PMNT", "ICDT", "DMCT"}
	case b.Status == BookingReversed:
		return camtBankTxCode{"PMNT", "IDDT", "UPDD"}
	default:
		return camtBankTxCode{"PMNT", "IDDT", "ESDD"}
	}
}

// batchPair returns the indexes of the first two succeeded lines of the same
// type, or -1, -1 when there are none.
func batchPair(lines []Booking) (int, int) {
	first := map[string]int{}
	for i, b := range lines {
		if b.Status != BookingSucceeded {
			continue
		}
		if j, ok := first[b.Type]; ok {
			return j, i
		}
		first[b.Type] = i
	}
	return -1, -1
}

// writeCamt053 streams the statement of the day starting at start as
// camt.053.001.08 (as camt.052 with StatementGarbage "header"), one element
// at a time.
func (s *Server) writeCamt053(w io.Writer, start time.Time, lines []Booking, k Knobs) error {
	end := start.AddDate(0, 0, 1)
	// The creation time depends only on the day and its lines, so that a
	// re-fetch is the same document: the day's end once it has ended, else
	// its latest booking.
	created := start
	for _, b := range lines {
		if b.BookedAt.After(created) {
			created = b.BookedAt
		}
	}
	if !s.now().Before(end) {
		created = end
	}
	ns, message, statement := camt053Namespace, "BkToCstmrStmt", "Stmt"
	if k.StatementGarbage == GarbageHeader {
		ns, message, statement = camt052Namespace, "BkToCstmrAcctRpt", "Rpt"
	}
	stamp := func(t time.Time) string { return t.In(s.loc).Format(time.RFC3339) }
	compact := start.Format("20060102")

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	doc := xml.StartElement{Name: xml.Name{Local: "Document"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	msg := xml.StartElement{Name: xml.Name{Local: message}}
	stmt := xml.StartElement{Name: xml.Name{Local: statement}}
	for _, t := range []xml.Token{doc, msg} {
		if err := enc.EncodeToken(t); err != nil {
			return err
		}
	}
	if err := enc.Encode(camtGroupHeader{MsgID: s.cfg.BankCode + "-" + compact, CreDtTm: stamp(created)}); err != nil {
		return err
	}
	if err := enc.EncodeToken(stmt); err != nil {
		return err
	}
	head := []struct {
		name string
		v    any
	}{
		{"Id", "STMT-" + s.cfg.BankCode + "-" + compact},
		{"CreDtTm", stamp(created)},
		{"", camtPeriod{FrDtTm: stamp(start), ToDtTm: stamp(end.Add(-time.Second))}},
		{"", camtAccount{ID: "GATEWAY-" + s.cfg.BankCode, Ccy: "VND"}},
	}
	for _, h := range head {
		var err error
		if h.name == "" {
			err = enc.Encode(h.v)
		} else {
			err = enc.EncodeElement(h.v, xml.StartElement{Name: xml.Name{Local: h.name}})
		}
		if err != nil {
			return err
		}
	}

	i, j := -1, -1
	if k.StatementBatch {
		i, j = batchPair(lines)
	}
	ref := 0
	for n, b := range lines {
		if n == j {
			continue
		}
		ref++
		group := []Booking{b}
		if n == i {
			group = append(group, lines[j])
		}
		e := s.camtEntry(ref, group)
		if k.StatementGarbage == GarbageAmount && n == 0 {
			e.Amt.Value = notAnAmount
			e.TxDtls[0].Amt.Value = notAnAmount
		}
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	fee := Booking{BankReference: "FEE" + start.Format("060102") + s.cfg.BankCode, Amount: feeAmount, Currency: "VND", BookedAt: start}
	other := camtEntry{
		NtryRef: strconv.Itoa(ref + 1), Amt: camtAmount{"VND", money.Format(fee.Amount)}, CdtDbtInd: "DBIT",
		StsCd: "BOOK", BookgDtTm: stamp(fee.BookedAt), ValDt: fee.BookedAt.In(s.loc).Format(time.DateOnly),
		AcctSvcrRef: fee.BankReference, BkTxCd: camtBankTxCode{"ACMT", "MDOP", "CHRG"},
		TxDtls:       []camtTxDetails{{EndToEndID: notProvided, Amt: camtAmount{"VND", money.Format(fee.Amount)}, CdtDbtInd: "DBIT"}},
		AddtlNtryInf: "Phí dịch vụ thu hộ " + start.Format("02/01/2006"),
	}
	if err := enc.Encode(other); err != nil {
		return err
	}
	for _, t := range []xml.Token{stmt.End(), msg.End(), doc.End()} {
		if err := enc.EncodeToken(t); err != nil {
			return err
		}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// camtEntry is the Ntry of one line, or of a batch of lines of the same type
// and status, booked when the first was.
func (s *Server) camtEntry(ref int, group []Booking) camtEntry {
	first := group[0]
	e := camtEntry{
		NtryRef:     strconv.Itoa(ref),
		CdtDbtInd:   creditDebit(first),
		RvslInd:     first.Status == BookingReversed,
		StsCd:       "BOOK",
		BookgDtTm:   first.BookedAt.In(s.loc).Format(time.RFC3339),
		ValDt:       first.BookedAt.In(s.loc).Format(time.DateOnly),
		AcctSvcrRef: first.BankReference,
		BkTxCd:      bankTxCode(first),
	}
	total := decimal.Zero
	for _, b := range group {
		total = total.Add(b.Amount)
		e.TxDtls = append(e.TxDtls, camtTxDetails{
			AcctSvcrRef: b.BankReference, EndToEndID: b.ID,
			Amt: camtAmount{b.Currency, money.Format(b.Amount)}, CdtDbtInd: creditDebit(b),
		})
	}
	e.Amt = camtAmount{first.Currency, money.Format(total)}
	if len(group) > 1 {
		e.AcctSvcrRef = fmt.Sprintf("BT%s", first.BankReference)
		e.Btch = &camtBatch{NbOfTxs: strconv.Itoa(len(group)), TtlAmt: e.Amt}
	}
	return e
}
