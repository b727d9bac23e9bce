package keyring

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testMaster is 0x00, 0x01, …, 0x1f: a fixed key so that derived keys can be
// checked against an independent computation.
func testMaster() []byte {
	m := make([]byte, KeySize)
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

func mustNew(t *testing.T, master []byte) *Keyring {
	t.Helper()
	k, err := New(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParse(t *testing.T) {
	t.Parallel()
	master := testMaster()
	padded := base64.StdEncoding.EncodeToString(master)
	raw := base64.RawStdEncoding.EncodeToString(master)
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; empty means success
	}{
		{name: "padded", in: padded},
		{name: "unpadded", in: raw},
		{name: "trailing newline", in: padded + "\n"},
		{name: "surrounding spaces", in: "  " + padded + " "},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "blank", in: " \n", wantErr: "empty"},
		{name: "not base64", in: "this is not base64 at all!!", wantErr: "not standard base64"},
		{name: "url alphabet", in: "-_" + padded[2:], wantErr: "not standard base64"},
		{name: "31 bytes", in: base64.StdEncoding.EncodeToString(master[:31]), wantErr: "31 bytes, want 32"},
		{name: "33 bytes", in: base64.StdEncoding.EncodeToString(append(testMaster(), 7)), wantErr: "33 bytes, want 32"},
		{name: "16 bytes", in: base64.StdEncoding.EncodeToString(master[:16]), wantErr: "16 bytes, want 32"},
		{name: "all zero", in: base64.StdEncoding.EncodeToString(make([]byte, KeySize)), wantErr: "all zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !bytes.Equal(k.master[:], master) {
					t.Fatalf("master = %x, want %x", k.master, master)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse accepted a bad key")
			}
			if !errors.Is(err, ErrInvalidMasterKey) {
				t.Errorf("error %v does not wrap ErrInvalidMasterKey", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
			if s := strings.TrimSpace(tt.in); len(s) > 8 && strings.Contains(err.Error(), s[:8]) {
				t.Errorf("error %q repeats the key", err)
			}
		})
	}
}

func TestNewCopiesMaster(t *testing.T) {
	t.Parallel()
	master := testMaster()
	k := mustNew(t, master)
	before := k.Key("copy")
	for i := range master {
		master[i] = 0xee
	}
	if !bytes.Equal(k.Key("copy"), before) {
		t.Fatal("changing the caller's slice changed the keyring")
	}
}

// hkdfSHA256 is RFC 5869 written out with crypto/hmac, independent of
// crypto/hkdf, for one 32-byte block of output and an empty salt.
func hkdfSHA256(secret []byte, info string) []byte {
	ext := hmac.New(sha256.New, make([]byte, sha256.Size))
	ext.Write(secret)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)
}

func TestKeyIsHKDF(t *testing.T) {
	t.Parallel()
	k := mustNew(t, testMaster())
	tests := []struct {
		label, purpose string
		got            []byte
	}{
		{label: "pii/index/pid", purpose: "key", got: k.Key("pii/index/pid")},
		{label: "pii/index/account", purpose: "key", got: k.Key("pii/index/account")},
		{label: "secrets", purpose: "aes-256-gcm", got: k.derive(purposeSeal, "secrets")},
	}
	for _, tt := range tests {
		t.Run(tt.purpose+"/"+tt.label, func(t *testing.T) {
			t.Parallel()
			want := hkdfSHA256(testMaster(), "citizenpay/gateway/keyring/v1\x00"+tt.purpose+"\x00"+tt.label)
			if !bytes.Equal(tt.got, want) {
				t.Fatalf("key = %x, want %x", tt.got, want)
			}
			if len(tt.got) != KeySize {
				t.Fatalf("len = %d", len(tt.got))
			}
		})
	}
}

func TestKeysAreDistinct(t *testing.T) {
	t.Parallel()
	k := mustNew(t, testMaster())
	other := testMaster()
	other[0] ^= 1
	k2 := mustNew(t, other)
	keys := map[string][]byte{
		"a":              k.Key("a"),
		"b":              k.Key("b"),
		"ab":             k.Key("ab"),
		"a/b":            k.Key("a/b"),
		"seal a":         k.derive(purposeSeal, "a"),
		"other master a": k2.Key("a"),
		"master":         k.master[:],
	}
	seen := map[string]string{}
	for name, key := range keys {
		h := hex.EncodeToString(key)
		if prev, ok := seen[h]; ok {
			t.Errorf("%s and %s share a key", name, prev)
		}
		seen[h] = name
	}
	if !bytes.Equal(k.Key("a"), k.Key("a")) {
		t.Error("Key is not deterministic")
	}
}

func TestKeyRefusesBadLabel(t *testing.T) {
	t.Parallel()
	k := mustNew(t, testMaster())
	for _, label := range []string{"", "a\x00b"} {
		t.Run(fmt.Sprintf("%q", label), func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("Key(%q) did not panic", label)
				}
			}()
			k.Key(label)
		})
	}
}

func TestKeyringRedacted(t *testing.T) {
	t.Parallel()
	master := testMaster()
	k := mustNew(t, master)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("start", "keyring", k)
	outputs := map[string]string{
		"%v":     fmt.Sprintf("%v", k),
		"%+v":    fmt.Sprintf("%+v", k),
		"%#v":    fmt.Sprintf("%#v", k),
		"Sprint": fmt.Sprint(k),
		"slog":   logged.String(),
	}
	for verb, out := range outputs {
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("%s: %q is not the redacted text", verb, out)
		}
		for _, leak := range []string{base64.StdEncoding.EncodeToString(master)[:12], hex.EncodeToString(master)[:12], "[0 1 2 3"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: %q shows the key", verb, out)
			}
		}
	}
}
