// Package listener holds the gateway's TCP listener: a cap on connections
// served at once, a cap per client address, and the client's address taken
// from a PROXY protocol header when the connection comes from a trusted
// proxy (a load balancer's send-proxy).
package listener

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Config configures a Listener.
type Config struct {
	// MaxConns is the number of connections served at once; more wait in
	// the kernel's accept queue, costing the gateway nothing.
	MaxConns int
	// MaxPerSource is the number of connections one client address (an
	// IPv6 /64, which one host or home is given) holds at once. One more is
	// closed on arrival and does not keep a place of MaxConns.
	MaxPerSource int
	// TrustedProxies may send a PROXY protocol header naming the client;
	// the per-source cap then applies to that client. A connection from
	// any other address that starts with a PROXY header is closed.
	TrustedProxies []netip.Prefix
	// HeaderTimeout bounds the wait for a trusted proxy's header (or, from
	// anyone, for the first byte that tells a request from a header).
	HeaderTimeout time.Duration
	// Refused, if set, is told of each connection closed on arrival:
	// "per_source" (over MaxPerSource), "proxy_header" (a bad header, or a
	// header from an untrusted peer).
	Refused func(reason string)
}

// Listener wraps a net.Listener with Config's caps. Its connections'
// RemoteAddr is the client's, from the PROXY header when there is one.
type Listener struct {
	net.Listener
	cfg   Config
	slots chan struct{}
	done  chan struct{}
	close sync.Once

	mu       sync.Mutex
	bySource map[netip.Prefix]int
}

// New wraps inner.
func New(inner net.Listener, cfg Config) *Listener {
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 5 * time.Second
	}
	return &Listener{Listener: inner, cfg: cfg, slots: make(chan struct{}, cfg.MaxConns),
		done: make(chan struct{}), bySource: map[netip.Prefix]int{}}
}

// Accept waits for a place among MaxConns, then for a connection; a
// connection from an address already at MaxPerSource is closed at once, and
// Accept goes on to the next.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		peer := addrOf(c.RemoteAddr())
		wc := &conn{Conn: c, l: l, remote: c.RemoteAddr(), trusted: l.trusted(peer)}
		if !wc.trusted {
			if !l.take(peer) {
				_ = c.Close()
				<-l.slots
				l.refused("per_source")
				continue
			}
			wc.source, wc.counted = sourceOf(peer), true
		}
		return wc, nil
	}
}

// Close stops accepting; connections already accepted stay open.
func (l *Listener) Close() error {
	l.close.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Sources returns how many connections each client address holds (for
// tests and metrics).
func (l *Listener) Sources() map[netip.Prefix]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[netip.Prefix]int, len(l.bySource))
	for k, v := range l.bySource {
		out[k] = v
	}
	return out
}

func (l *Listener) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// take counts one more connection of a's source, if it is under the cap.
func (l *Listener) take(a netip.Addr) bool {
	s := sourceOf(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bySource[s] >= l.cfg.MaxPerSource {
		return false
	}
	l.bySource[s]++
	return true
}

func (l *Listener) release(s netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bySource[s]--; l.bySource[s] <= 0 {
		delete(l.bySource, s)
	}
}

func (l *Listener) refused(reason string) {
	if l.cfg.Refused != nil {
		l.cfg.Refused(reason)
	}
}

// sourceOf is the unit of the per-source cap: an IPv4 address, or an IPv6
// /64.
func sourceOf(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(t.IP)
		return ip.Unmap()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

// conn is an accepted connection. Its handshake — reading a trusted
// proxy's header, or making sure an untrusted peer sent none — runs once,
// on the first RemoteAddr or Read (http.Server calls RemoteAddr first, in
// the connection's own goroutine, before it sets deadlines of its own), and
// leaves no read deadline behind.
type conn struct {
	net.Conn
	l       *Listener
	trusted bool

	once   sync.Once
	err    error
	br     *bufio.Reader // what the handshake peeked and the client's bytes after
	remote net.Addr

	source  netip.Prefix
	counted bool
	closed  sync.Once
}

var errUntrustedHeader = errors.New("a PROXY protocol header from a peer not in TRUSTED_PROXIES")

func (c *conn) handshake() error {
	c.once.Do(func() {
		c.err = c.shake()
		var ne net.Error
		switch {
		case c.err == nil:
			return
		case errors.Is(c.err, errOverCap):
			c.l.refused("per_source")
		case errors.Is(c.err, io.EOF), errors.Is(c.err, io.ErrUnexpectedEOF), errors.As(c.err, &ne):
			// The peer went away or sent nothing in time: not a refusal.
		default:
			c.l.refused("proxy_header")
		}
		_ = c.Conn.Close()
	})
	return c.err
}

var errOverCap = errors.New("the client is at its connection cap")

func (c *conn) shake() error {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.l.cfg.HeaderTimeout)); err != nil {
		return err
	}
	c.br = bufio.NewReaderSize(c.Conn, 256)
	h, err := ParseProxyHeader(c.br)
	switch {
	case errors.Is(err, ErrNoHeader):
	case err != nil:
		return err
	case !c.trusted:
		return errUntrustedHeader
	case h.Source.IsValid():
		c.remote = net.TCPAddrFromAddrPort(h.Source)
	}
	if c.trusted {
		a := addrOf(c.remote)
		if !c.l.take(a) {
			return fmt.Errorf("%s: %w", a, errOverCap)
		}
		c.source, c.counted = sourceOf(a), true
	}
	return c.Conn.SetReadDeadline(time.Time{})
}

// RemoteAddr is the client's address: the PROXY header's source, or the
// peer's.
func (c *conn) RemoteAddr() net.Addr {
	_ = c.handshake()
	return c.remote
}

func (c *conn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	if c.br != nil && c.br.Buffered() > 0 {
		return c.br.Read(p)
	}
	return c.Conn.Read(p)
}

// Close closes the connection and gives back its places.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.closed.Do(func() {
		if c.counted {
			c.l.release(c.source)
		}
		<-c.l.slots
	})
	return err
}
