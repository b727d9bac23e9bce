package statement

import (
	"bufio"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/citizenpay/gateway/internal/money"
)

// CSVWriter writes a statement as the CSV of PROTOCOL.md §7, line by line:
// the header row first (also for an empty day), CRLF row ends.
type CSVWriter struct {
	w      *csv.Writer
	header bool
	rec    []string
}

// NewCSVWriter writes a statement to w. Call Flush at the end.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVWriter{w: cw, rec: make([]string, len(csvHeader))}
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	return c.w.Write(csvHeader)
}

// Write writes one line; N is not written (it is the row's position).
func (c *CSVWriter) Write(l Line) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	status := "succeeded"
	if l.Reversed {
		status = "reversed"
	}
	c.rec[0], c.rec[1], c.rec[2], c.rec[3] = l.BankReference, l.Type, l.ID, money.Format(l.Amount)
	c.rec[4], c.rec[5], c.rec[6] = l.Currency, status, l.BookedAt.UTC().Format(time.RFC3339Nano)
	return c.w.Write(c.rec)
}

// Flush writes the header if no line was written, and everything buffered.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// WriteCSV writes lines as one CSV statement.
func WriteCSV(w io.Writer, lines []Line) error {
	cw := NewCSVWriter(w)
	for _, l := range lines {
		if err := cw.Write(l); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// CamtWriter writes a statement as an ISO 20022 camt.053.001.08
// BkToCstmrStmt of one account and business day, one Ntry per line, each
// with its TxDtls.
type CamtWriter struct {
	w       *bufio.Writer
	account string
	date    string
	started bool
	err     error
}

// NewCamtWriter writes the statement of account for business day date
// (YYYY-MM-DD) to w. Call Close at the end.
func NewCamtWriter(w io.Writer, account, date string) *CamtWriter {
	return &CamtWriter{w: bufio.NewWriterSize(w, 32<<10), account: account, date: date}
}

func (c *CamtWriter) text(s string) {
	if c.err == nil {
		c.err = xml.EscapeText(c.w, []byte(s))
	}
}

func (c *CamtWriter) raw(s string) {
	if c.err == nil {
		_, c.err = c.w.WriteString(s)
	}
}

func (c *CamtWriter) start() {
	if c.started {
		return
	}
	c.started = true
	id := "STMT-" + c.account + "-" + c.date
	c.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	c.raw(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>`)
	c.text(id)
	c.raw(`</MsgId><CreDtTm>`)
	c.text(c.date + "T23:59:59+07:00")
	c.raw("</CreDtTm></GrpHdr>\n<Stmt><Id>")
	c.text(id)
	c.raw(`</Id><CreDtTm>`)
	c.text(c.date + "T23:59:59+07:00")
	c.raw(`</CreDtTm><FrToDt><FrDtTm>`)
	c.text(c.date + "T00:00:00+07:00")
	c.raw(`</FrDtTm><ToDtTm>`)
	c.text(c.date + "T23:59:59+07:00")
	c.raw(`</ToDtTm></FrToDt><Acct><Id><Othr><Id>`)
	c.text(c.account)
	c.raw("</Id></Othr></Id></Acct>\n")
}

// Write writes one line as a booked Ntry: CRDT for a debit, DBIT for a
// refund, the opposite with RvslInd when the line is a reversal.
func (c *CamtWriter) Write(l Line) error {
	c.start()
	ind := "DBIT"
	if (l.Type == "debit") != l.Reversed {
		ind = "CRDT"
	}
	amt := money.Format(l.Amount)
	c.raw(`<Ntry><Amt Ccy="`)
	c.text(l.Currency)
	c.raw(`">` + amt + `</Amt><CdtDbtInd>` + ind + `</CdtDbtInd>`)
	if l.Reversed {
		c.raw(`<RvslInd>true</RvslInd>`)
	}
	c.raw(`<Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>`)
	c.text(l.BookedAt.UTC().Format(time.RFC3339Nano))
	c.raw(`</DtTm></BookgDt><AcctSvcrRef>`)
	c.text(l.BankReference)
	c.raw(`</AcctSvcrRef><BkTxCd><Prtry><Cd>`)
	c.text(l.Type)
	c.raw(`</Cd></Prtry></BkTxCd><NtryDtls><TxDtls><Refs><AcctSvcrRef>`)
	c.text(l.BankReference)
	c.raw(`</AcctSvcrRef><EndToEndId>`)
	c.text(l.ID)
	c.raw(`</EndToEndId></Refs><Amt Ccy="`)
	c.text(l.Currency)
	c.raw(`">` + amt + `</Amt><CdtDbtInd>` + ind + "</CdtDbtInd></TxDtls></NtryDtls></Ntry>\n")
	if c.err != nil {
		return fmt.Errorf("write camt.053 entry: %w", c.err)
	}
	return nil
}

// Close ends the document (also an empty day's) and flushes it; it does not
// close the underlying writer.
func (c *CamtWriter) Close() error {
	c.start()
	c.raw("</Stmt></BkToCstmrStmt></Document>\n")
	if c.err == nil {
		c.err = c.w.Flush()
	}
	if c.err != nil {
		return fmt.Errorf("write camt.053 statement: %w", c.err)
	}
	return nil
}

// WriteCamt writes lines as one camt.053.001.08 statement of account for
// business day date.
func WriteCamt(w io.Writer, account string, date string, lines []Line) error {
	cw := NewCamtWriter(w, account, date)
	for _, l := range lines {
		if err := cw.Write(l); err != nil {
			return err
		}
	}
	return cw.Close()
}
