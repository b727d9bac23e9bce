package keyring

import (
	"bytes"
	"testing"
)

func TestCheckValue(t *testing.T) {
	t.Parallel()
	a, err := New(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(bytes.Repeat([]byte{2}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	va := a.CheckValue()
	if len(va) != 32 || !bytes.Equal(va, a.CheckValue()) {
		t.Fatalf("check value %x: not 32 stable bytes", va)
	}
	if bytes.Equal(va, a.master[:]) || bytes.Contains(va, bytes.Repeat([]byte{1}, 4)) {
		t.Fatal("the check value shows the key")
	}
	for _, k := range []string{"pii/index/pid", checkLabel} {
		if bytes.Equal(va, a.Key(k)) {
			t.Fatalf("the check value is the subkey %s", k)
		}
	}
	if !a.MatchesCheck(va) || b.MatchesCheck(va) || a.MatchesCheck(b.CheckValue()) || a.MatchesCheck(nil) || a.MatchesCheck(va[:31]) {
		t.Fatal("MatchesCheck accepts another key's value or refuses its own")
	}
}
