package statement

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
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
