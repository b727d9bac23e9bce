package listener

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Header is what a PROXY protocol header (haproxy's send-proxy and
// send-proxy-v2) says of a connection.
type Header struct {
	// Source is the client's address as the proxy saw it. It is invalid for
	// a header that names no client (v1 UNKNOWN, v2 LOCAL — a proxy's own
	// health check — or an address family other than TCP over IPv4/IPv6):
	// the connection is then the proxy's own.
	Source netip.AddrPort
}

// ErrNoHeader means the bytes do not start with a PROXY protocol header.
// Nothing was consumed.
var ErrNoHeader = errors.New("no PROXY protocol header")

var (
	sigV1 = []byte("PROXY ")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

const (
	maxV1 = 107  // the longest v1 line, CRLF included
	maxV2 = 2048 // the most address and TLV bytes accepted after a v2 preamble
)

// ParseProxyHeader reads a PROXY protocol header, v1 (text) or v2
// (binary), from the start of r. When r does not start with either
// signature it returns ErrNoHeader and consumes nothing; it reads no more
// bytes than it needs to tell, so a client that sends "GET …" is told apart
// at its first byte. A malformed header is an error; the connection must
// then be closed, as its bytes can no longer be trusted.
func ParseProxyHeader(r *bufio.Reader) (Header, error) {
	sig, err := signature(r)
	if err != nil {
		return Header{}, err
	}
	if bytes.Equal(sig, sigV1) {
		return parseV1(r)
	}
	return parseV2(r)
}

// signature peeks one byte at a time while the bytes are a prefix of a
// signature, and returns the signature they complete.
func signature(r *bufio.Reader) ([]byte, error) {
	for n := 1; ; n++ {
		b, err := r.Peek(n)
		if err != nil {
			if len(b) > 0 && !prefixOfSignature(b) {
				return nil, ErrNoHeader
			}
			return nil, fmt.Errorf("read PROXY header: %w", err)
		}
		switch {
		case bytes.Equal(b, sigV1):
			return sigV1, nil
		case bytes.Equal(b, sigV2):
			return sigV2, nil
		case !prefixOfSignature(b):
			return nil, ErrNoHeader
		}
	}
}

func prefixOfSignature(b []byte) bool {
	return bytes.HasPrefix(sigV1, b) || bytes.HasPrefix(sigV2, b)
}

// parseV1 reads "PROXY TCP4|TCP6 src dst sport dport\r\n" or
// "PROXY UNKNOWN …\r\n".
func parseV1(r *bufio.Reader) (Header, error) {
	line := make([]byte, 0, maxV1)
	for {
		c, err := r.ReadByte()
		if err != nil {
			return Header{}, fmt.Errorf("read PROXY v1 header: %w", err)
		}
		line = append(line, c)
		if c == '\n' {
			break
		}
		if len(line) == maxV1 {
			return Header{}, errors.New("PROXY v1 header: longer than 107 bytes")
		}
	}
	text, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return Header{}, errors.New("PROXY v1 header: does not end in CRLF")
	}
	f := strings.Split(text, " ")
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		return Header{}, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return Header{}, fmt.Errorf("PROXY v1 header: want PROXY TCP4|TCP6 src dst sport dport, got %q", text)
	}
	src, err := netip.ParseAddr(f[2])
	if err != nil || src.Zone() != "" || src.Is4() != (f[1] == "TCP4") {
		return Header{}, fmt.Errorf("PROXY v1 header: bad source address %q", f[2])
	}
	if dst, err := netip.ParseAddr(f[3]); err != nil || dst.Is4() != src.Is4() {
		return Header{}, fmt.Errorf("PROXY v1 header: bad destination address %q", f[3])
	}
	sport, err := port(f[4])
	if err != nil {
		return Header{}, err
	}
	if _, err := port(f[5]); err != nil {
		return Header{}, err
	}
	return Header{Source: netip.AddrPortFrom(src.Unmap(), sport)}, nil
}

// port parses a v1 port: decimal, no sign, no leading zero.
func port(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("PROXY v1 header: bad port %q", s)
	}
	return uint16(n), nil
}

// parseV2 reads the binary header: the signature, version and command,
// family and protocol, a big-endian length, the addresses and TLVs (which
// are skipped).
func parseV2(r *bufio.Reader) (Header, error) {
	var pre [16]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Header{}, fmt.Errorf("read PROXY v2 header: %w", err)
	}
	verCmd, fam := pre[12], pre[13]
	n := int(binary.BigEndian.Uint16(pre[14:16]))
	if verCmd>>4 != 2 {
		return Header{}, fmt.Errorf("PROXY v2 header: version %d", verCmd>>4)
	}
	if n > maxV2 {
		return Header{}, fmt.Errorf("PROXY v2 header: %d bytes of addresses, over %d", n, maxV2)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return Header{}, fmt.Errorf("read PROXY v2 header: %w", err)
	}
	switch verCmd & 0x0f {
	case 0x0: // LOCAL: the proxy's own connection; the addresses are ignored
		return Header{}, nil
	case 0x1: // PROXY
	default:
		return Header{}, fmt.Errorf("PROXY v2 header: command %#x", verCmd&0x0f)
	}
	switch fam {
	case 0x11: // TCP over IPv4: src, dst, sport, dport
		if n < 12 {
			return Header{}, errors.New("PROXY v2 header: short IPv4 addresses")
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		return Header{Source: netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:10]))}, nil
	case 0x21: // TCP over IPv6
		if n < 36 {
			return Header{}, errors.New("PROXY v2 header: short IPv6 addresses")
		}
		src := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		return Header{Source: netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34]))}, nil
	case 0x00, 0x12, 0x22, 0x31, 0x32: // unspecified, UDP, unix: no client to name
		return Header{}, nil
	}
	return Header{}, fmt.Errorf("PROXY v2 header: address family %#x", fam)
}
