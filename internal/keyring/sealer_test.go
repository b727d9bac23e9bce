package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestSealRoundTrip(t *testing.T) {
	t.Parallel()
	s := mustNew(t, testMaster()).Sealer("test")
	tests := []struct {
		name           string
		plaintext, aad []byte
	}{
		{name: "empty", plaintext: []byte{}, aad: nil},
		{name: "pid", plaintext: []byte("079203001234"), aad: []byte("pid")},
		{name: "binary", plaintext: []byte{0, 1, 2, 0xff}, aad: []byte{0}},
		{name: "long", plaintext: bytes.Repeat([]byte("x"), 10_000), aad: []byte("secret")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed := s.Seal(tt.plaintext, tt.aad)
			if len(sealed) != len(tt.plaintext)+SealOverhead {
				t.Errorf("len = %d, want %d", len(sealed), len(tt.plaintext)+SealOverhead)
			}
			if sealed[0] != SealVersion {
				t.Errorf("version = 0x%02x, want 0x01", sealed[0])
			}
			if len(tt.plaintext) >= 4 && bytes.Contains(sealed, tt.plaintext) {
				t.Error("sealed value holds the plaintext")
			}
			got, err := s.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("Open = %q, want %q", got, tt.plaintext)
			}
			if again := s.Seal(tt.plaintext, tt.aad); bytes.Equal(again, sealed) {
				t.Error("two seals of one value are equal: the nonce is not random")
			}
		})
	}
}

// TestSealLayout opens a sealed value with a plain AES-GCM built here, which
// proves the layout version || 12-byte nonce || ciphertext || tag.
func TestSealLayout(t *testing.T) {
	t.Parallel()
	k := mustNew(t, testMaster())
	sealed := k.Sealer("layout").Seal([]byte("hello"), []byte("aad"))
	block, err := aes.NewCipher(k.derive(purposeSeal, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gcm.Open(nil, sealed[1:1+NonceSize], sealed[1+NonceSize:], []byte("aad"))
	if err != nil {
		t.Fatalf("plain GCM cannot open: %v", err)
	}
	if string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	k := mustNew(t, testMaster())
	s := k.Sealer("one")
	sealed := s.Seal([]byte("0071000123456"), []byte("account"))
	other := testMaster()
	other[31] ^= 0x80
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	version2 := bytes.Clone(sealed)
	version2[0] = 0x02
	tests := []struct {
		name   string
		sealer *Sealer
		sealed []byte
		aad    []byte
		reason string
	}{
		{name: "other aad", sealer: s, sealed: sealed, aad: []byte("pid"), reason: "authentication"},
		{name: "no aad", sealer: s, sealed: sealed, aad: nil, reason: "authentication"},
		{name: "other label", sealer: k.Sealer("two"), sealed: sealed, aad: []byte("account"), reason: "authentication"},
		{name: "other master key", sealer: mustNew(t, other).Sealer("one"), sealed: sealed, aad: []byte("account"), reason: "authentication"},
		{name: "nonce flipped", sealer: s, sealed: flip(1), aad: []byte("account"), reason: "authentication"},
		{name: "ciphertext flipped", sealer: s, sealed: flip(1 + NonceSize), aad: []byte("account"), reason: "authentication"},
		{name: "tag flipped", sealer: s, sealed: flip(len(sealed) - 1), aad: []byte("account"), reason: "authentication"},
		{name: "unknown version", sealer: s, sealed: version2, aad: []byte("account"), reason: "unknown version 0x02"},
		{name: "truncated", sealer: s, sealed: sealed[:len(sealed)-1], aad: []byte("account"), reason: "authentication"},
		{name: "too short", sealer: s, sealed: sealed[:SealOverhead-1], aad: []byte("account"), reason: "shorter"},
		{name: "empty", sealer: s, sealed: nil, aad: []byte("account"), reason: "shorter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.sealer.Open(tt.sealed, tt.aad)
			if err == nil {
				t.Fatalf("Open succeeded with %q", got)
			}
			if !errors.Is(err, ErrOpen) {
				t.Errorf("error %v does not wrap ErrOpen", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tt.reason)) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

func TestSealerConcurrent(t *testing.T) {
	t.Parallel()
	s := mustNew(t, testMaster()).Sealer("concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			for j := range 50 {
				msg := fmt.Appendf(nil, "%d-%d", i, j)
				got, err := s.Open(s.Seal(msg, msg), msg)
				if err != nil || !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("%s: got %q, %v", msg, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
