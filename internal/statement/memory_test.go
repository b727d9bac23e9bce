package statement_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
	"github.com/citizenpay/gateway/internal/statement"
)

// generated is the i-th line (0-based) of a generated statement of day.
func generated(i int) statement.Line {
	l := statement.Line{
		Type: "debit", ID: fmt.Sprintf("pa_01JDEMX%019d", i), Amount: decimal.NewFromInt(int64(10000 + i%90000)),
		Currency: money.Currency, BookedAt: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC).Add(time.Duration(i%86400) * time.Second),
		BankReference: fmt.Sprintf("FT26330%08d", i),
	}
	if i%10 == 9 {
		l.Type, l.ID = "refund", fmt.Sprintf("rf_01JDEMX%019d", i)
	}
	l.Reversed = i%1000 == 999
	return l
}

// stream generates a statement of n lines in the given content type on
// the fly, through a pipe: the whole statement never exists at once.
func stream(contentType string, n int) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		var err error
		if strings.HasPrefix(contentType, "text/csv") {
			w := statement.NewCSVWriter(pw)
			for i := 0; i < n && err == nil; i++ {
				err = w.Write(generated(i))
			}
			if err == nil {
				err = w.Flush()
			}
		} else {
			w := statement.NewCamtWriter(pw, "0071000999999", day)
			for i := 0; i < n && err == nil; i++ {
				err = w.Write(generated(i))
			}
			if err == nil {
				err = w.Close()
			}
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// batch generates a camt.053 document of one batch entry of n debits, on
// the fly: the reader must not hold an entry's transactions either.
func batch(n int) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriter(pw)
		fmt.Fprint(w, `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Ntry>`+
			`<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-26</Dt></BookgDt><AcctSvcrRef>B1</AcctSvcrRef><NtryDtls>`)
		for i := range n {
			l := generated(i)
			fmt.Fprintf(w, `<TxDtls><Refs><AcctSvcrRef>%s</AcctSvcrRef><EndToEndId>pa_%d</EndToEndId></Refs><Amt Ccy="VND">%s</Amt>`+
				`<RmtInf><Ustrd>Le phi cap giay phep</Ustrd></RmtInf></TxDtls>`+"\n", l.BankReference, i, l.Amount)
		}
		fmt.Fprint(w, `</NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>`)
		pw.CloseWithError(w.Flush())
	}()
	return pr
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestBoundedMemory reads a generated statement of a million CSV lines, one
// of 200,000 camt.053 entries and one batch entry of 400,000 transactions, sampling the heap as it goes: the
// heap in use must stay far below the size of the statement, so a reader
// that held the whole input, or every line, would fail it. Not parallel, so
// that no other test's allocations are counted.
func TestBoundedMemory(t *testing.T) {
	const limit = 32 << 20
	for _, tc := range []struct {
		name, contentType string
		n                 int
		gen               func() io.ReadCloser
	}{
		{"csv", "text/csv", 1_000_000, func() io.ReadCloser { return stream("text/csv", 1_000_000) }},
		{"camt", "application/xml", 200_000, func() io.ReadCloser { return stream("application/xml", 200_000) }},
		{"camt batch", "application/xml", 400_000, func() io.ReadCloser { return batch(400_000) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			src := tc.gen()
			defer src.Close()
			in := &countingReader{r: src}
			r, err := statement.NewReader(in, tc.contentType, day)
			if err != nil {
				t.Fatal(err)
			}
			var peak uint64
			var total decimal.Decimal
			n := 0
			for {
				l, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("after %d lines: %v", n, err)
				}
				n++
				if l.N != n {
					t.Fatalf("line %d numbered %d", n, l.N)
				}
				total = total.Add(l.Amount)
				if n%5000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
			if n != tc.n {
				t.Fatalf("read %d lines, want %d", n, tc.n)
			}
			if in.n < 2*limit {
				t.Fatalf("the statement was only %d bytes: too small to show that memory is bounded", in.n)
			}
			growth := int64(peak) - int64(base)
			t.Logf("%d lines, %d MB of statement, heap in use grew by at most %.1f MB, total %s", n, in.n>>20, float64(growth)/(1<<20), total)
			if growth > limit {
				t.Fatalf("heap in use grew by %d bytes reading %d bytes of statement; limit %d", growth, in.n, limit)
			}
		})
	}
}

// benchBody is a generated statement of n lines.
func benchBody(b *testing.B, contentType string, n int) []byte {
	b.Helper()
	body, err := io.ReadAll(stream(contentType, n))
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func benchRead(b *testing.B, contentType string) {
	const n = 100_000
	body := benchBody(b, contentType, n)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := statement.NewReader(bytes.NewReader(body), contentType, day)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("read %d lines", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
}

// BenchmarkReadCSV reads a statement of 100,000 CSV lines.
func BenchmarkReadCSV(b *testing.B) { benchRead(b, "text/csv") }

// BenchmarkReadCamt reads a camt.053 statement of 100,000 transactions.
func BenchmarkReadCamt(b *testing.B) { benchRead(b, "application/xml") }
