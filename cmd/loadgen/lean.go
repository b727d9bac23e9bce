package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// leanClient speaks HTTP/1.1 to the gateway over at most maxConns kept-alive
// connections, with none of net/http's client machinery: on two cores the
// load generator shares the machine with what it measures, and every
// microsecond it spends is one the gateway does not get. A request waits for
// a free connection when all are busy; that wait counts in its latency, as
// the schedule it was due at does not move.
type leanClient struct {
	addr  string // host:port
	idle  chan *leanConn
	slots chan struct{} // one per connection open or being opened
}

type leanConn struct {
	c  net.Conn
	br *bufio.Reader
	tp *textproto.Reader
	bw *bufio.Writer
}

func newLeanClient(addr string, conns int) *leanClient {
	return &leanClient{addr: addr, idle: make(chan *leanConn, conns), slots: make(chan struct{}, conns)}
}

// get returns an idle connection, or dials one while fewer than maxConns
// are open, or waits for one until ctx ends.
func (l *leanClient) get(ctx context.Context) (*leanConn, error) {
	select {
	case lc := <-l.idle:
		return lc, nil
	default:
	}
	select {
	case lc := <-l.idle:
		return lc, nil
	case l.slots <- struct{}{}:
		d := net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
		c, err := d.DialContext(ctx, "tcp", l.addr)
		if err != nil {
			<-l.slots
			return nil, err
		}
		br := bufio.NewReaderSize(c, 16<<10)
		return &leanConn{c: c, br: br, tp: textproto.NewReader(br), bw: bufio.NewWriterSize(c, 8<<10)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *leanClient) put(lc *leanConn, reuse bool) {
	if reuse {
		l.idle <- lc
		return
	}
	_ = lc.c.Close()
	<-l.slots
}

// do sends one request and reads its whole answer. The deadline is ctx's,
// or requestTimeout from now.
func (l *leanClient) do(ctx context.Context, method, target string, header http.Header, body []byte) result {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	lc, err := l.get(ctx)
	if err != nil {
		return result{Err: err}
	}
	deadline, _ := ctx.Deadline()
	_ = lc.c.SetDeadline(deadline)
	res, reuse := lc.exchange(method, target, l.addr, header, body)
	l.put(lc, reuse)
	return res
}

func (lc *leanConn) exchange(method, target, host string, header http.Header, body []byte) (result, bool) {
	w := lc.bw
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	for k, vs := range header {
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if len(body) > 0 || method == http.MethodPost {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return result{Err: err}, false
	}
	return lc.readAnswer()
}

// doRaw sends one request already encoded on the wire, as encodeRequest
// writes it, and reads its whole answer, as do does.
func (l *leanClient) doRaw(ctx context.Context, raw []byte) result {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	lc, err := l.get(ctx)
	if err != nil {
		return result{Err: err}
	}
	deadline, _ := ctx.Deadline()
	_ = lc.c.SetDeadline(deadline)
	res, reuse := lc.exchangeRaw(raw)
	l.put(lc, reuse)
	return res
}

func (lc *leanConn) exchangeRaw(raw []byte) (result, bool) {
	// Past the buffer's size, Write sends raw as it is, with no copy.
	lc.bw.Write(raw)
	if err := lc.bw.Flush(); err != nil {
		return result{Err: err}, false
	}
	return lc.readAnswer()
}

// encodeRequest is the request exchange would write for these arguments.
func encodeRequest(method, target, host string, header http.Header, body []byte) []byte {
	n := len(method) + len(target) + len(host) + len(body) + 64
	for k, vs := range header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	b := make([]byte, 0, n)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	for k, vs := range header {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	if len(body) > 0 || method == http.MethodPost {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// readAnswer reads one whole answer; reuse is whether the connection may
// carry another request.
func (lc *leanConn) readAnswer() (res result, reuse bool) {
	line, err := lc.tp.ReadLine()
	if err != nil {
		return result{Err: err}, false
	}
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") || len(rest) < 3 {
		return result{Err: fmt.Errorf("malformed status line %q", line)}, false
	}
	status, err := strconv.Atoi(rest[:3])
	if err != nil {
		return result{Err: fmt.Errorf("malformed status line %q", line)}, false
	}
	mh, err := lc.tp.ReadMIMEHeader()
	if err != nil {
		return result{Status: status, Err: err}, false
	}
	h := http.Header(mh)
	var rd io.Reader
	switch {
	case h.Get("Transfer-Encoding") == "chunked":
		rd = httputil.NewChunkedReader(lc.br)
	case h.Get("Content-Length") != "":
		n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return result{Status: status, Err: errors.New("malformed Content-Length")}, false
		}
		rd = io.LimitReader(lc.br, n)
	default:
		return result{Status: status, Err: errors.New("an answer without a length")}, false
	}
	out, err := io.ReadAll(rd)
	if err != nil {
		return result{Status: status, Err: err}, false
	}
	if h.Get("Transfer-Encoding") == "chunked" {
		// The trailer section ends with an empty line.
		if _, err := lc.tp.ReadMIMEHeader(); err != nil {
			return result{Status: status, Err: err}, false
		}
	}
	return result{Status: status, Header: h, Body: out}, !strings.EqualFold(h.Get("Connection"), "close")
}
