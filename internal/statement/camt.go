package statement

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/wire"
)

// camtNamespace is the namespace of every camt.053 version; the gateway
// reads 001.02 to 001.08, which carry the same elements it needs.
const camtNamespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."

// Where the camt reader stands in the document: it walks
// Document/BkToCstmrStmt/Stmt/Ntry/NtryDtls token by token, decodes the
// small elements of an entry and one TxDtls at a time, and skips the rest.
const (
	atProlog = iota
	inDocument
	inBkToCstmrStmt
	inStmt
	inNtry
	inNtryDtls
	atEnd
)

// camtAmt is an Amt element with its Ccy attribute.
type camtAmt struct {
	Value string `xml:",chardata"`
	Ccy   string `xml:"Ccy,attr"`
}

// txDtls is the part of an Ntry/NtryDtls/TxDtls the gateway reads.
type txDtls struct {
	Refs struct {
		AcctSvcrRef string `xml:"AcctSvcrRef"`
		EndToEndID  string `xml:"EndToEndId"`
	} `xml:"Refs"`
	Amt     *camtAmt `xml:"Amt"`
	AmtDtls struct {
		TxAmt struct {
			Amt *camtAmt `xml:"Amt"`
		} `xml:"TxAmt"`
	} `xml:"AmtDtls"`
	CdtDbtInd string `xml:"CdtDbtInd"`
}

// entry is what the reader knows of the Ntry it is in.
type entry struct {
	amt         *camtAmt
	cdtDbtInd   string
	rvslInd     string
	sts         string
	hasSts      bool
	bookedAt    time.Time
	bookedOK    bool
	bookedWhy   string // why BookgDt is refused, when it is
	acctSvcrRef string
	inDetails   bool // NtryDtls has begun: the entry's own elements are behind
	txs         int
	held        *txDtls // the last TxDtls, held until it is known whether it is the entry's only one
	heldN       int
}

// camtReader reads a camt.053 document.
type camtReader struct {
	b       *budgetReader
	dec     *xml.Decoder
	day     dayCheck
	level   int
	sawBk   bool // the Document holds a BkToCstmrStmt
	n       int
	e       entry
	ready   []Line // lines made and not yet returned
	readyAt int
}

func newCamt(b *budgetReader, day dayCheck) *camtReader {
	return &camtReader{b: b, dec: xml.NewDecoder(b), day: day}
}

func (c *camtReader) fail(line int, reason string) (Line, error) {
	return Line{}, &FormatError{Line: line, Reason: reason}
}

// xmlFail turns a decoder's error into a FormatError.
func (c *camtReader) xmlFail(err error) (Line, error) {
	line := 0
	if c.level >= inStmt {
		line = c.n + 1
	}
	if errors.Is(err, errStepTooLong) {
		return c.fail(line, "an element of the document is over 1 MiB")
	}
	return c.fail(line, "the document is not well-formed XML")
}

func (c *camtReader) next() (Line, error) {
	for {
		if c.readyAt < len(c.ready) {
			l := c.ready[c.readyAt]
			c.readyAt++
			return l, nil
		}
		c.ready, c.readyAt = c.ready[:0], 0
		if c.level == atEnd {
			return Line{}, io.EOF
		}
		c.b.reset()
		tok, err := c.dec.Token()
		if errors.Is(err, io.EOF) && c.level == atProlog {
			return c.fail(0, "the statement is not a camt.053 document")
		}
		if err != nil {
			return c.xmlFail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if _, err := c.start(t); err != nil {
				return Line{}, err
			}
		case xml.EndElement:
			if err := c.end(); err != nil {
				return Line{}, err
			}
		case xml.CharData:
			if c.level == atProlog && len(strings.TrimSpace(string(t))) > 0 {
				return c.fail(0, "the statement is not XML")
			}
		}
	}
}

// start enters, decodes or skips the element t begins.
func (c *camtReader) start(t xml.StartElement) (Line, error) {
	name := t.Name.Local
	switch c.level {
	case atProlog:
		if name != "Document" || (t.Name.Space != "" && !strings.HasPrefix(t.Name.Space, camtNamespace)) {
			return c.fail(0, "the statement is not a camt.053 document")
		}
		c.level = inDocument
		return Line{}, nil
	case inDocument:
		if name != "BkToCstmrStmt" {
			return c.fail(0, "the document is not a BkToCstmrStmt")
		}
		c.level, c.sawBk = inBkToCstmrStmt, true
		return Line{}, nil
	case inBkToCstmrStmt:
		if name == "Stmt" {
			c.level = inStmt
			return Line{}, nil
		}
	case inStmt:
		if name == "Ntry" {
			c.level, c.e = inNtry, entry{}
			return Line{}, nil
		}
	case inNtry:
		return c.entryElement(t)
	case inNtryDtls:
		if name == "TxDtls" {
			var tx txDtls
			c.b.reset()
			if err := c.dec.DecodeElement(&tx, &t); err != nil {
				return c.xmlFail(err)
			}
			return Line{}, c.transaction(&tx)
		}
	}
	c.b.reset()
	if err := c.dec.Skip(); err != nil {
		return c.xmlFail(err)
	}
	return Line{}, nil
}

// entryElement reads one child of an Ntry.
func (c *camtReader) entryElement(t xml.StartElement) (Line, error) {
	e := &c.e
	var err error
	name := t.Name.Local
	switch name {
	case "Amt", "CdtDbtInd", "RvslInd", "Sts", "BookgDt", "AcctSvcrRef":
		if e.inDetails {
			return c.fail(c.n+1, "an entry's "+name+" comes after its details")
		}
	}
	c.b.reset()
	switch name {
	case "NtryDtls":
		e.inDetails = true
		c.level = inNtryDtls
		return Line{}, nil
	case "Amt":
		e.amt = &camtAmt{}
		err = c.dec.DecodeElement(e.amt, &t)
	case "CdtDbtInd":
		err = c.dec.DecodeElement(&e.cdtDbtInd, &t)
	case "RvslInd":
		err = c.dec.DecodeElement(&e.rvslInd, &t)
	case "AcctSvcrRef":
		err = c.dec.DecodeElement(&e.acctSvcrRef, &t)
	case "Sts":
		// Plain text up to 001.07, <Sts><Cd>BOOK</Cd></Sts> in 001.08.
		var s struct {
			Text string `xml:",chardata"`
			Cd   string `xml:"Cd"`
		}
		err = c.dec.DecodeElement(&s, &t)
		e.sts, e.hasSts = strings.TrimSpace(s.Cd), true
		if e.sts == "" {
			e.sts = strings.TrimSpace(s.Text)
		}
	case "BookgDt":
		var d struct {
			Dt   string `xml:"Dt"`
			DtTm string `xml:"DtTm"`
		}
		err = c.dec.DecodeElement(&d, &t)
		c.booked(strings.TrimSpace(d.Dt), strings.TrimSpace(d.DtTm))
	default:
		err = c.dec.Skip()
	}
	if err != nil {
		return c.xmlFail(err)
	}
	return Line{}, nil
}

// booked reads an entry's BookgDt: a date, or a date-time with or without
// its offset (without, it is the business day's local time).
func (c *camtReader) booked(dt, dtTm string) {
	e := &c.e
	switch {
	case dt != "":
		t, err := time.ParseInLocation(time.DateOnly, dt, c.day.loc)
		if err != nil {
			e.bookedWhy = "the booking date is not a date"
			return
		}
		e.bookedAt = t
	case dtTm != "":
		t, err := wire.ParseTime(dtTm)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02T15:04:05", dtTm, c.day.loc); err != nil {
				e.bookedWhy = "the booking date is not a date-time"
				return
			}
		}
		e.bookedAt = t
	default:
		e.bookedWhy = "the booking date holds neither Dt nor DtTm"
		return
	}
	if !c.day.on(e.bookedAt) {
		e.bookedWhy = "the booking date is a date that is not the asked date"
		return
	}
	e.bookedOK = true
}

// transaction takes one TxDtls. The one before it is now known to be part
// of a batch, so it becomes a line; this one is held until the next or the
// entry's end says whether the entry holds it alone.
func (c *camtReader) transaction(tx *txDtls) error {
	e := &c.e
	e.txs++
	c.n++
	if e.held != nil {
		if err := c.emit(e.held, e.heldN, false); err != nil {
			return err
		}
	}
	e.held, e.heldN = tx, c.n
	return nil
}

// end leaves the element that ends.
func (c *camtReader) end() error {
	switch c.level {
	case inDocument:
		c.level = atEnd
		if !c.sawBk {
			return &FormatError{Reason: "the document is not a BkToCstmrStmt"}
		}
	case inBkToCstmrStmt:
		c.level = inDocument
	case inStmt:
		c.level = inBkToCstmrStmt
	case inNtryDtls:
		c.level = inNtry
	case inNtry:
		c.level = inStmt
		e := &c.e
		if e.held != nil {
			return c.emit(e.held, e.heldN, e.txs == 1)
		}
		if e.txs == 0 {
			c.n++ // an entry without details: another movement, one position
		}
	}
	return nil
}

// emit turns a transaction of the current entry into a line, or skips it
// when it is not the gateway's or not booked.
func (c *camtReader) emit(tx *txDtls, n int, alone bool) error {
	e := &c.e
	fail := func(reason string) error { return &FormatError{Line: n, Reason: reason} }
	l := Line{N: n, ID: strings.TrimSpace(tx.Refs.EndToEndID)}
	switch {
	case strings.HasPrefix(l.ID, "pa_"):
		l.Type = "debit"
	case strings.HasPrefix(l.ID, "rf_"):
		l.Type = "refund"
	default:
		return nil // the account's other movements
	}
	if !e.hasSts {
		return fail("the entry has no status")
	}
	if e.sts != "BOOK" {
		return nil
	}
	amt := tx.Amt
	if amt == nil {
		amt = tx.AmtDtls.TxAmt.Amt
	}
	if amt == nil && alone {
		amt = e.amt
	}
	if amt == nil {
		return fail("the transaction has no amount")
	}
	var err error
	if l.Amount, err = money.Parse(strings.TrimSpace(amt.Value)); err != nil {
		return fail("the amount is not an amount")
	}
	if l.Currency = strings.TrimSpace(amt.Ccy); l.Currency == "" {
		return fail("the amount has no currency")
	}
	switch strings.TrimSpace(e.rvslInd) {
	case "", "false", "0":
	case "true", "1":
		l.Reversed = true
	default:
		return fail("RvslInd is not a boolean")
	}
	ind := strings.TrimSpace(tx.CdtDbtInd)
	if ind == "" {
		ind = strings.TrimSpace(e.cdtDbtInd)
	}
	// A debit of a citizen's account credits the gateway's collection
	// account; a refund debits it; a reversal does the opposite.
	want := "DBIT"
	if (l.Type == "debit") != l.Reversed {
		want = "CRDT"
	}
	if ind != want {
		return fail("CdtDbtInd contradicts the type of the id")
	}
	if !e.bookedOK {
		why := e.bookedWhy
		if why == "" {
			why = "the entry has no booking date"
		}
		return fail(why)
	}
	l.BookedAt = e.bookedAt
	if l.BankReference = strings.TrimSpace(tx.Refs.AcctSvcrRef); l.BankReference == "" {
		l.BankReference = strings.TrimSpace(e.acctSvcrRef)
	}
	c.ready = append(c.ready, l)
	return nil
}
