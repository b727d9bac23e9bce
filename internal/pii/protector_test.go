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
			b := p.bindingFor(tt.kind, tt.value, "r_1")
			sealed := p.Seal(tt.kind, tt.value, b)
			for _, form := range []string{tt.value, hex.EncodeToString([]byte(tt.value)), base64.StdEncoding.EncodeToString([]byte(tt.value))} {
				if bytes.Contains(sealed, []byte(form)) || strings.Contains(hex.EncodeToString(sealed), form) {
					t.Errorf("sealed value %x contains %q", sealed, form)
				}
			}
			got, err := p.Open(tt.kind, sealed, b)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != tt.value {
				t.Fatalf("Open = %q, want %q", got, tt.value)
			}
			if bytes.Equal(sealed, p.Seal(tt.kind, tt.value, b)) {
				t.Error("sealing twice gave the same bytes")
			}
			wrongKind := KindAccount
			if tt.kind == KindAccount {
				wrongKind = KindPID
			}
			if v, err := p.Open(wrongKind, sealed, b); !errors.Is(err, keyring.ErrOpen) {
				t.Errorf("Open as %s = %q, %v; want keyring.ErrOpen", wrongKind, v, err)
			}
			if v, err := other.Open(tt.kind, sealed, b); !errors.Is(err, keyring.ErrOpen) {
				t.Errorf("Open under another key = %q, %v; want keyring.ErrOpen", v, err)
			}
			if _, err := p.Open(tt.kind, sealed, b); err != nil && strings.Contains(err.Error(), tt.value) {
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
		sealed := p.Seal(kind, value, p.bindingFor(kind, value, "r_1"))
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
		"Seal":  func() { p.Seal("", "x", Binding{Column: "t.c", RowID: "r_1"}) },
		"Open": func() {
			b := p.bindingFor(KindPID, "079203001234", "r_1")
			_, _ = p.Open("PID", p.Seal(KindPID, "079203001234", b), b)
		},
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
				b := p.bindingFor(KindAccount, v, fmt.Sprintf("r_%d", i))
				got, err := p.Open(KindAccount, p.Seal(KindAccount, v, b), b)
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

// bindingFor binds value of kind to row id of a test column.
func (p *Protector) bindingFor(kind Kind, value, id string) Binding {
	return Binding{Column: "test." + string(kind), RowID: id, Index: p.Index(kind, value)}
}

// sealLegacy seals value as values were sealed before they were bound to
// their row: the kind alone as aad, keyring.SealVersion first.
func (p *Protector) sealLegacy(kind Kind, value string) []byte {
	return p.sealer(kind).Seal([]byte(value), []byte(kind))
}

// TestSealBoundToRow moves a bound value to every other place it could be
// copied to: it opens only where it was sealed.
func TestSealBoundToRow(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	const pid, otherPID = "079203001234", "001099012345"
	b := Binding{Column: "payment_requests.citizen_pid", RowID: "pr_1", Index: p.Index(KindPID, pid)}
	sealed := p.Seal(KindPID, pid, b)
	if sealed[0] != BoundVersion {
		t.Fatalf("version 0x%02x, want 0x%02x", sealed[0], BoundVersion)
	}
	if v, legacy, err := p.Inspect(KindPID, sealed, b); err != nil || legacy || v != pid {
		t.Fatalf("Inspect under its own binding = %q, legacy %v, %v", v, legacy, err)
	}
	elsewhere := map[string]Binding{
		"another row":          {Column: b.Column, RowID: "pr_2", Index: b.Index},
		"another column":       {Column: "citizens.pid", RowID: b.RowID, Index: b.Index},
		"another index":        {Column: b.Column, RowID: b.RowID, Index: p.Index(KindPID, otherPID)},
		"no index":             {Column: b.Column, RowID: b.RowID},
		"row id shifted":       {Column: b.Column + "p", RowID: "r_1", Index: b.Index},
		"column and row glued": {Column: b.Column + "pr_1", RowID: "", Index: b.Index},
	}
	for name, other := range elsewhere {
		if v, err := p.Open(KindPID, sealed, other); !errors.Is(err, keyring.ErrOpen) || v != "" {
			t.Errorf("%s: Open = %q, %v; want keyring.ErrOpen", name, v, err)
		}
	}
	stripped := sealed[1:] // the bound value passed off as a legacy one
	if _, err := p.Open(KindPID, stripped, b); !errors.Is(err, keyring.ErrOpen) {
		t.Errorf("a bound value without its version byte: %v, want keyring.ErrOpen", err)
	}
}

// TestOpenLegacy reads values sealed before binding, only where the row's
// index is the value's, and says they are legacy.
func TestOpenLegacy(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	const account = "0071000123456"
	b := Binding{Column: "linked_accounts.account", RowID: "acc_1", Index: p.Index(KindAccount, account)}
	old := p.sealLegacy(KindAccount, account)
	if v, legacy, err := p.Inspect(KindAccount, old, b); err != nil || !legacy || v != account {
		t.Fatalf("Inspect legacy = %q, legacy %v, %v", v, legacy, err)
	}
	if v, err := p.Open(KindAccount, old, b); err != nil || v != account {
		t.Fatalf("Open legacy = %q, %v", v, err)
	}
	// Copied to the row of another account number: refused.
	other := Binding{Column: b.Column, RowID: "acc_2", Index: p.Index(KindAccount, "9704000000001")}
	if _, legacy, err := p.Inspect(KindAccount, old, other); !errors.Is(err, keyring.ErrOpen) || !legacy {
		t.Errorf("a legacy value under another row's index: legacy %v, %v; want keyring.ErrOpen", legacy, err)
	}
}

func TestSealRefusesABadBinding(t *testing.T) {
	t.Parallel()
	p := NewProtector(newKeyring(t))
	const pid = "079203001234"
	for name, b := range map[string]Binding{
		"no column":       {RowID: "pr_1", Index: p.Index(KindPID, pid)},
		"no row":          {Column: "payment_requests.citizen_pid", Index: p.Index(KindPID, pid)},
		"another's index": {Column: "payment_requests.citizen_pid", RowID: "pr_1", Index: p.Index(KindPID, "001099012345")},
		"the wrong kind":  {Column: "payment_requests.citizen_pid", RowID: "pr_1", Index: p.Index(KindAccount, pid)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Seal did not panic", name)
				}
			}()
			p.Seal(KindPID, pid, b)
		}()
	}
}
