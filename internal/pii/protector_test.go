package pii

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/citizenpay/gateway/internal/keyring"
)

// newKeyring returns a keyring with a fresh random master key.
func newKeyring(t *testing.T) *keyring.Keyring {
	t.Helper()
	master := make([]byte, keyring.KeySize)
	rand.Read(master)
	k, err := keyring.New(master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIndex(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	p := NewProtector(k)
	other := NewProtector(newKeyring(t))
	tests := []struct {
		kind  Kind
		value string
	}{
		{KindPID, "079203001234"},
		{KindPID, "001090012345"},
		{KindAccount, "0071000123456"},
		{KindAccount, "079203001234"}, // the same digits as a pid, indexed as an account
	}
	seen := map[string]string{}
	for _, tt := range tests {
		name := string(tt.kind) + "/" + tt.value
		got := p.Index(tt.kind, tt.value)
		if len(got) != IndexSize {
			t.Errorf("%s: len = %d, want %d", name, len(got), IndexSize)
		}
		if !bytes.Equal(got, p.Index(tt.kind, tt.value)) {
			t.Errorf("%s: not deterministic", name)
		}
		if !bytes.Equal(got, NewProtector(k).Index(tt.kind, tt.value)) {
			t.Errorf("%s: another Protector on the same keyring disagrees", name)
		}
		if bytes.Equal(got, other.Index(tt.kind, tt.value)) {
			t.Errorf("%s: same index under another master key", name)
		}
		mac := hmac.New(sha256.New, k.Key("pii/index/"+string(tt.kind)))
		mac.Write([]byte(tt.value))
		if want := mac.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("%s: index %x is not HMAC-SHA256 under the kind's key (%x)", name, got, want)
		}
		h := hex.EncodeToString(got)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s and %s share an index", name, prev)
		}
		seen[h] = name
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	other := NewProtector(newKeyring(t))
	tests := []struct {
		kind  Kind
		value string
	}{
		{KindPID, "079203001234"},
		{KindAccount, "0071000123456"},
		{KindAccount, "123456"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.value, func(t *testing.T) {
			t.Parallel()
			sealed := p.Seal(tt.kind, tt.value)
			for _, form := range []string{tt.value, hex.EncodeToString([]byte(tt.value)), base64.StdEncoding.EncodeToString([]byte(tt.value))} {
				if bytes.Contains(sealed, []byte(form)) || strings.Contains(hex.EncodeToString(sealed), form) {
					t.Errorf("sealed value %x contains %q", sealed, form)
				}
			}
			got, err := p.Open(tt.kind, sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != tt.value {
				t.Fatalf("Open = %q, want %q", got, tt.value)
			}
			if bytes.Equal(sealed, p.Seal(tt.kind, tt.value)) {
				t.Error("sealing twice gave the same bytes")
			}
			wrongKind := KindAccount
			if tt.kind == KindAccount {
				wrongKind = KindPID
			}
			if v, err := p.Open(wrongKind, sealed); !errors.Is(err, keyring.ErrOpen) {
				t.Errorf("Open as %s = %q, %v; want keyring.ErrOpen", wrongKind, v, err)
			}
			if v, err := other.Open(tt.kind, sealed); !errors.Is(err, keyring.ErrOpen) {
				t.Errorf("Open under another key = %q, %v; want keyring.ErrOpen", v, err)
			}
			if _, err := p.Open(tt.kind, sealed); err != nil && strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q shows the value", err)
			}
		})
	}
}

// TestSealNeverShowsValue seals many random pids and account numbers and
// looks for any 6-digit run of the value in the output.
func TestSealNeverShowsValue(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	for i := range 2000 {
		kind := KindPID
		if i%2 == 1 {
			kind = KindAccount
		}
		value := fmt.Sprintf("079%09d", i*7919)
		sealed := p.Seal(kind, value)
		for j := 0; j+6 <= len(value); j++ {
			if bytes.Contains(sealed, []byte(value[j:j+6])) {
				t.Fatalf("sealed %s %x contains %q", kind, sealed, value[j:j+6])
			}
		}
	}
}

func TestUnknownKindPanics(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	calls := map[string]func(){
		"Index": func() { p.Index("email", "a@b.c") },
		"Seal":  func() { p.Seal("", "x") },
		"Open":  func() { _, _ = p.Open("PID", p.Seal(KindPID, "079203001234")) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("%s with an unknown kind did not panic", name)
				}
			}()
			call()
		})
	}
}

func TestProtectorConcurrent(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	want := p.Index(KindPID, "079203001234")
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			for j := range 50 {
				if !bytes.Equal(p.Index(KindPID, "079203001234"), want) {
					errs <- errors.New("index changed under concurrency")
					return
				}
				v := fmt.Sprintf("%06d%06d", i, j)
				got, err := p.Open(KindAccount, p.Seal(KindAccount, v))
				if err != nil || got != v {
					errs <- fmt.Errorf("%s: got %q, %v", v, got, err)
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
