package listener

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/testenv"
)

// start serves l: each connection answers the first line it reads with
// "<RemoteAddr> <line>", then holds the connection until the client closes.
func start(t *testing.T, cfg Config) *Listener {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(inner, cfg)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				addr := c.RemoteAddr()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprintf(c, "%s %s", addr, line)
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return l
}

// dial connects from a loopback address of its own (Linux routes all of
// 127.0.0.0/8 to lo), so one test has several sources.
func dial(t *testing.T, l *Listener, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// say sends pre and a line, and returns the answer, or "" when the
// connection was closed instead.
func say(t *testing.T, c net.Conn, pre []byte) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append(append([]byte{}, pre...), "hello\n"...)); err != nil {
		return ""
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		if isTimeout(err) {
			t.Fatal("neither answered nor closed")
		}
		return ""
	}
	return strings.TrimSuffix(line, "\n")
}

func host(answer string) string {
	addr, _, _ := strings.Cut(answer, " ")
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "bad:" + answer
	}
	return ap.Addr().String()
}

func TestPerSourceCapRefusesWithoutTakingAPlace(t *testing.T) {
	t.Parallel()
	refused := make(chan string, 100)
	l := start(t, Config{MaxConns: 3, MaxPerSource: 2, Refused: func(r string) { refused <- r }})
	for range 2 {
		if got := say(t, dial(t, l, "127.0.0.2"), nil); host(got) != "127.0.0.2" {
			t.Fatalf("under the cap: %q", got)
		}
	}
	// Many more from the same source are closed on arrival…
	for i := range 10 {
		if got := say(t, dial(t, l, "127.0.0.2"), nil); got != "" {
			t.Fatalf("connection %d over the per-source cap answered %q", 3+i, got)
		}
	}
	// …and none of them kept the last place: another source is served.
	if got := say(t, dial(t, l, "127.0.0.3"), nil); host(got) != "127.0.0.3" || !strings.HasSuffix(got, " hello") {
		t.Fatalf("another source: %q", got)
	}
	if n := len(refused); n != 10 {
		t.Fatalf("%d refusals reported, want 10", n)
	}
	if r := <-refused; r != "per_source" {
		t.Fatalf("reason %q", r)
	}
	if got := l.Sources()[netip.MustParsePrefix("127.0.0.2/32")]; got != 2 {
		t.Fatalf("127.0.0.2 holds %d connections, want 2", got)
	}
}

func TestClosedConnectionsGiveBackTheirPlaces(t *testing.T) {
	t.Parallel()
	l := start(t, Config{MaxConns: 2, MaxPerSource: 1})
	for i := range 5 {
		c := dial(t, l, "127.0.0.4")
		if got := say(t, c, nil); host(got) != "127.0.0.4" {
			t.Fatalf("connection %d, each after the last closed: %q", i, got)
		}
		c.Close()
		testenv.Eventually(t, 5*time.Second, func() bool { return len(l.Sources()) == 0 }, "the closed connection still counts")
	}
}

func TestTrustedProxyNamesTheClient(t *testing.T) {
	t.Parallel()
	l := start(t, Config{MaxConns: 10, MaxPerSource: 1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.5/32")}})
	if got := say(t, dial(t, l, "127.0.0.5"), []byte("PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n")); got != "203.0.113.7:51234 hello" {
		t.Fatalf("v1 from the trusted proxy: %q", got)
	}
	// The per-source cap counts the client, not the proxy: the same client
	// again is over its cap of one, another client is not.
	if got := say(t, dial(t, l, "127.0.0.5"), []byte("PROXY TCP4 203.0.113.7 10.0.0.1 51235 443\r\n")); got != "" {
		t.Fatalf("the same client over its cap through the proxy: %q", got)
	}
	if got := say(t, dial(t, l, "127.0.0.5"), v2TCP6("2001:db8::9", "2001:db8::1", 40000, 443)); got != "[2001:db8::9]:40000 hello" {
		t.Fatalf("v2 from the trusted proxy: %q", got)
	}
	// The rest of that /64 shares its cap.
	if got := say(t, dial(t, l, "127.0.0.5"), v2TCP6("2001:db8::1:2", "2001:db8::1", 40001, 443)); got != "" {
		t.Fatalf("another address of the same /64: %q", got)
	}
	// A proxy's health check (v2 LOCAL) and a connection without a header
	// are the proxy's own.
	if got := say(t, dial(t, l, "127.0.0.5"), v2(0, 0x11, make([]byte, 12))); host(got) != "127.0.0.5" {
		t.Fatalf("v2 LOCAL: %q", got)
	}
	if got := say(t, dial(t, l, "127.0.0.5"), []byte("PROXY TCP4 203.0.113.8 nonsense\r\n")); got != "" {
		t.Fatalf("a malformed header: %q", got)
	}
}

func TestHeaderFromUntrustedPeerIsRefused(t *testing.T) {
	t.Parallel()
	refused := make(chan string, 10)
	l := start(t, Config{MaxConns: 10, MaxPerSource: 10, Refused: func(r string) { refused <- r },
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, h := range [][]byte{[]byte("PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n"), v2TCP4("203.0.113.7", "10.0.0.1", 1, 443, nil)} {
		if got := say(t, dial(t, l, "127.0.0.6"), h); got != "" {
			t.Fatalf("a header from an untrusted peer: %q", got)
		}
		if r := <-refused; r != "proxy_header" {
			t.Fatalf("reason %q", r)
		}
	}
	if got := say(t, dial(t, l, "127.0.0.6"), nil); host(got) != "127.0.0.6" {
		t.Fatalf("no header: %q", got)
	}
}

func TestSilentTrustedPeerIsDroppedAfterHeaderTimeout(t *testing.T) {
	t.Parallel()
	l := start(t, Config{MaxConns: 1, MaxPerSource: 1, HeaderTimeout: 100 * time.Millisecond,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.7/32")}})
	silent := dial(t, l, "127.0.0.7")
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); isTimeout(err) || err == nil {
		t.Fatalf("a silent connection from the proxy was not closed: %v", err)
	}
	// Its one place is free again.
	if got := say(t, dial(t, l, "127.0.0.8"), nil); host(got) != "127.0.0.8" {
		t.Fatalf("after the silent one: %q", got)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
