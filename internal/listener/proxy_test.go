package listener

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

// v2 builds a binary header: command, family, then body bytes.
func v2(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, sigV2...)
	b = append(b, 0x20|cmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func v2TCP4(src, dst string, sport, dport uint16, tlvs []byte) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	body := append(append(s[:], d[:]...), 0, 0, 0, 0)
	binary.BigEndian.PutUint16(body[8:], sport)
	binary.BigEndian.PutUint16(body[10:], dport)
	return v2(1, 0x11, append(body, tlvs...))
}

func v2TCP6(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	body := append(append(s[:], d[:]...), 0, 0, 0, 0)
	binary.BigEndian.PutUint16(body[32:], sport)
	binary.BigEndian.PutUint16(body[34:], dport)
	return v2(1, 0x21, body)
}

func TestParseProxyHeader(t *testing.T) {
	t.Parallel()
	const rest = "GET / HTTP/1.1\r\n"
	tests := []struct {
		name   string
		in     []byte
		source string // "": no client named
		err    string // "": none; "none": ErrNoHeader
	}{
		{"v1 tcp4", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n"), "203.0.113.7:51234", ""},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 51234 443\r\n"), "[2001:db8::7]:51234", ""},
		{"v1 unknown", []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), "", ""},
		{"v1 unknown bare", []byte("PROXY UNKNOWN\r\n"), "", ""},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::7 2001:db8::1 1 2\r\n"), "", "bad source"},
		{"v1 bad port", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 65536 443\r\n"), "", "bad port"},
		{"v1 leading zero", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 080 443\r\n"), "", "bad port"},
		{"v1 missing field", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 80\r\n"), "", "want PROXY"},
		{"v1 bare LF", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 80 443\n"), "", "CRLF"},
		{"v1 too long", []byte("PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n"), "", "longer than 107"},
		{"v1 truncated", []byte("PROXY TCP4 203.0.113.7"), "", "EOF"},
		{"v2 tcp4 with tlvs", v2TCP4("198.51.100.9", "10.0.0.1", 40000, 443, []byte{0x04, 0, 1, 'x'}), "198.51.100.9:40000", ""},
		{"v2 tcp6", v2TCP6("2001:db8::9", "2001:db8::1", 40000, 443), "[2001:db8::9]:40000", ""},
		{"v2 tcp6 mapped", v2TCP6("::ffff:198.51.100.9", "::ffff:10.0.0.1", 1, 443), "198.51.100.9:1", ""},
		{"v2 local", v2(0, 0x11, make([]byte, 12)), "", ""},
		{"v2 unspec", v2(1, 0x00, nil), "", ""},
		{"v2 short ipv4", v2(1, 0x11, make([]byte, 8)), "", "short IPv4"},
		{"v2 short ipv6", v2(1, 0x21, make([]byte, 12)), "", "short IPv6"},
		{"v2 bad family", v2(1, 0x41, nil), "", "address family"},
		{"v2 bad command", v2(2, 0x11, make([]byte, 12)), "", "command"},
		{"v2 bad version", append(append([]byte{}, sigV2...), 0x11, 0x11, 0, 0), "", "version"},
		{"v2 too long", append(append([]byte{}, sigV2...), 0x21, 0x11, 0xff, 0xff), "", "over 2048"},
		{"v2 truncated", v2TCP4("198.51.100.9", "10.0.0.1", 1, 2, nil)[:20], "", "EOF"},
		{"http", nil, "", "none"},
		{"propfind", []byte("PROPFIND "), "", "none"},
		{"almost v2", []byte("\r\n\r\nX"), "", "none"},
		{"signature prefix then EOF", []byte("PROX"), "", "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append(append([]byte{}, tt.in...), rest...)
			if strings.Contains(tt.err, "EOF") {
				in = tt.in
			}
			r := bufio.NewReader(bytes.NewReader(in))
			h, err := ParseProxyHeader(r)
			switch {
			case tt.err == "none":
				if !errors.Is(err, ErrNoHeader) {
					t.Fatalf("err = %v, want ErrNoHeader", err)
				}
				if all, _ := io.ReadAll(r); !bytes.Equal(all, in) {
					t.Fatalf("consumed bytes: left %q", all)
				}
				return
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := ""
			if h.Source.IsValid() {
				got = h.Source.String()
			}
			if got != tt.source {
				t.Fatalf("source %q, want %q", got, tt.source)
			}
			if all, _ := io.ReadAll(r); string(all) != rest {
				t.Fatalf("after the header: %q, want the request untouched", all)
			}
		})
	}
}

func FuzzParseProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(v2TCP4("198.51.100.9", "10.0.0.1", 40000, 443, []byte{4, 0, 1, 'x'}))
	f.Add(v2TCP6("2001:db8::9", "2001:db8::1", 40000, 443))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		h, err := ParseProxyHeader(r)
		if errors.Is(err, ErrNoHeader) {
			if all, _ := io.ReadAll(r); !bytes.Equal(all, in) {
				t.Fatalf("ErrNoHeader consumed bytes")
			}
			return
		}
		if err == nil && h.Source.IsValid() && (h.Source.Addr().Is4In6() || h.Source.Addr().Zone() != "") {
			t.Fatalf("source %s is not a plain address", h.Source)
		}
	})
}
