package statement

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/wire"
)

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
