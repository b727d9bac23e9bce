package signature_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/signature"
)

// fuzzVector is one request_signature entry of spec/vectors/signature.json.
type fuzzVector struct {
	Secret         string `json:"secret"`
	Timestamp      string `json:"timestamp"`
	Method         string `json:"method"`
	RequestTarget  string `json:"request_target"`
	IdempotencyKey string `json:"idempotency_key"`
	Body           string `json:"body"`
	XSignature     string `json:"x_signature"`
}

func fuzzVectors(f *testing.F) []fuzzVector {
	f.Helper()
	raw, err := os.ReadFile("testdata/signature.json")
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		RequestSignature []fuzzVector `json:"request_signature"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		f.Fatal(err)
	}
	if len(file.RequestSignature) == 0 {
		f.Fatal("no request_signature vectors")
	}
	return file.RequestSignature
}

func (v fuzzVector) message() signature.Message {
	return signature.Message{Timestamp: v.Timestamp, Method: v.Method, Target: v.RequestTarget, IdempotencyKey: v.IdempotencyKey, Body: []byte(v.Body)}
}

// FuzzVerifyHeader feeds arbitrary X-Signature values for the first vector's
// request. Parsing is total: every header gives nil or a refusal of the
// header (ErrMissing when empty, ErrMismatch when it holds a well-formed
// value), never a panic. A header is accepted exactly when one of its
// space-separated entries is the right "v1=<hex>"; the right entry among any
// junk is always accepted.
func FuzzVerifyHeader(f *testing.F) {
	vs := fuzzVectors(f)
	v := vs[0]
	m := v.message()
	ts, err := strconv.ParseInt(v.Timestamp, 10, 64)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(ts, 0)
	good := v.XSignature
	zeros := "v1=" + strings.Repeat("00", sha256.Size)
	for _, s := range []string{
		good,
		zeros + " " + good,
		good + " " + zeros,
		"  " + good + "  ",
		"\t" + good + "\n",
		strings.ToUpper(good[:3]) + good[3:], // "V1=" is not the scheme
		"v1=" + strings.ToUpper(good[3:]),
		good[:len(good)-1],
		good + "0",
		good + "00",
		"v1=" + good[3:len(good)-2] + "zz",
		"v2=" + good[3:],
		"v1=",
		"v1",
		"=",
		"",
		" ",
		"v1=" + good,
		good + "," + zeros,
		good + "\x00",
		"\x00" + good,
		"v1=\xff\xfe",
		"\u00a0" + good + "\u3000" + zeros, // Unicode white space
		"\u2028" + good,
		"v1=" + strings.Repeat("ab", 100),
		strings.Repeat(zeros+" ", 5) + good,
	} {
		f.Add(s)
	}
	for _, other := range vs[1:] {
		f.Add(other.XSignature) // right format, wrong request
	}

	f.Fuzz(func(t *testing.T, header string) {
		err := signature.Verify(header, []string{v.Secret}, m, now)
		carries, wellFormed := false, false
		for _, part := range strings.Fields(header) {
			hexSig, ok := strings.CutPrefix(part, "v1=")
			if sig, err := hex.DecodeString(hexSig); ok && err == nil && len(sig) == sha256.Size {
				wellFormed = true
				carries = carries || strings.EqualFold(part, good)
			}
		}
		switch {
		case err == nil:
		case header == "":
			if !errors.Is(err, signature.ErrMissing) {
				t.Fatalf("Verify(%q) = %v, want ErrMissing", header, err)
			}
		case wellFormed:
			if !errors.Is(err, signature.ErrMismatch) {
				t.Fatalf("Verify(%q) = %v, want ErrMismatch", header, err)
			}
		case errors.Is(err, signature.ErrTimestamp), errors.Is(err, signature.ErrSkew), !strings.HasPrefix(err.Error(), "signature: "):
			// With no well-formed value the refusal may be ErrMismatch or a
			// more precise sentinel of the package, never a timestamp error.
			t.Fatalf("Verify(%q) = %v: not a refusal of the header", header, err)
		}
		if (err == nil) != carries {
			t.Fatalf("Verify(%q) = %v, but the header carries the right signature: %v", header, err, carries)
		}
		if err := signature.Verify(header+" "+good, []string{v.Secret}, m, now); err != nil {
			t.Fatalf("right signature after %q refused: %v", header, err)
		}
		if err := signature.Verify(good+" "+header, []string{v.Secret}, m, now); err != nil {
			t.Fatalf("right signature before %q refused: %v", header, err)
		}
		if err := signature.Verify(header, []string{"psk_not_the_secret"}, m, now); err == nil {
			t.Fatalf("Verify(%q) accepted under a secret that did not sign", header)
		}
	})
}

// FuzzSignVerify signs arbitrary requests. The canonical string has the shape
// of PROTOCOL.md §3; a request signed with a secret verifies under it (alone,
// or beside an old secret); changing one byte of any field (timestamp, method,
// target, idempotency key, body, secret) makes the signature fail.
func FuzzSignVerify(f *testing.F) {
	for i, v := range fuzzVectors(f) {
		f.Add(v.Timestamp, v.Method, v.RequestTarget, v.IdempotencyKey, []byte(v.Body), v.Secret, uint8(i), uint16(i*7), byte(1))
	}
	// Fields holding the separator, so a byte could slide from one field
	// into the next, and empty fields.
	f.Add("1795680000", "POST", "/v1/a\n", "", []byte("x"), "psk_a", uint8(2), uint16(5), byte('\n'))
	f.Add("1795680000", "POST\n/v1/a", "", "", []byte{}, "psk_a", uint8(1), uint16(4), byte('\n'))
	f.Add("1795680000", "", "", "", []byte(nil), "k", uint8(5), uint16(0), byte(0xff))
	f.Add("+1795680000", "GET", "/", "k\x00", []byte{0}, "\x00", uint8(3), uint16(1), byte(0x80))
	f.Add("01795680000", "GET", "/%2F?a=%C3%A9", "é", []byte("\xff\xfe"), "bsk_é", uint8(0), uint16(0), byte(0x7f))

	f.Fuzz(func(t *testing.T, ts, method, target, key string, body []byte, secret string, field uint8, pos uint16, flip byte) {
		m := signature.Message{Timestamp: ts, Method: method, Target: target, IdempotencyKey: key, Body: body}
		sum := sha256.Sum256(body)
		want := "v1\n" + ts + "\n" + method + "\n" + target + "\n" + key + "\n" + hex.EncodeToString(sum[:])
		if got := m.Canonical(); got != want {
			t.Fatalf("canonical:\n got %q\nwant %q", got, want)
		}
		header := signature.Sign(secret, m)
		if !strings.HasPrefix(header, "v1=") || len(header) != 3+2*sha256.Size || strings.ToLower(header) != header {
			t.Fatalf("Sign gave %q, want v1= and 64 lowercase hex digits", header)
		}

		n, perr := strconv.ParseInt(ts, 10, 64)
		now := time.Unix(n, 0)
		err := signature.Verify(header, []string{secret}, m, now)
		switch {
		case ts == "":
			if !errors.Is(err, signature.ErrMissing) {
				t.Fatalf("empty timestamp: %v, want ErrMissing", err)
			}
			return
		case perr != nil:
			if !errors.Is(err, signature.ErrTimestamp) {
				t.Fatalf("timestamp %q: %v, want ErrTimestamp", ts, err)
			}
			return
		case secret == "":
			if err == nil {
				t.Fatal("an empty secret verified a request")
			}
			return
		case err != nil:
			t.Fatalf("signed request refused: %v", err)
		}
		if err := signature.Verify(header, []string{"psk_old", secret}, m, now.Add(signature.MaxSkew)); err != nil {
			t.Fatalf("signed request refused beside an old secret, at the edge of the window: %v", err)
		}
		if err := signature.Verify(header, []string{secret}, m, now.Add(signature.MaxSkew+time.Second)); !errors.Is(err, signature.ErrSkew) {
			t.Fatalf("one second outside the window: %v, want ErrSkew", err)
		}

		// One byte of one field changes; the signature must no longer match.
		mut := func(s []byte) []byte {
			c := bytes.Clone(s)
			if len(c) == 0 {
				return append(c, flip)
			}
			b := flip
			if b == 0 {
				b = 1
			}
			c[int(pos)%len(c)] ^= b
			return c
		}
		m2, secret2 := m, secret
		switch field % 6 {
		case 0:
			m2.Timestamp = string(mut([]byte(ts)))
		case 1:
			m2.Method = string(mut([]byte(method)))
		case 2:
			m2.Target = string(mut([]byte(target)))
		case 3:
			m2.IdempotencyKey = string(mut([]byte(key)))
		case 4:
			m2.Body = mut(body)
		case 5:
			secret2 = string(mut([]byte(secret)))
		}
		if field%6 != 5 && m2.Canonical() == m.Canonical() {
			t.Fatalf("field %d changed but the canonical string did not: %q", field%6, m.Canonical())
		}
		if err := signature.Verify(header, []string{secret2}, m2, now); err == nil {
			t.Fatalf("field %d changed by one byte and the old signature still verifies", field%6)
		}
	})
}
