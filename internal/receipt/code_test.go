package receipt

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/citizenpay/gateway/internal/keyring"
)

// TestCodeVector: the code of a fixed key and id, computed independently
// (Python's hmac module).
func TestCodeVector(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	if got, want := Code(key, testReceiptID), "kjZxrK2wPUVnZQfD-nWrgw"; got != want {
		t.Errorf("Code = %q, want %q", got, want)
	}
}

func TestCheckCode(t *testing.T) {
	t.Parallel()
	code := Code(testCodeKey, testReceiptID)
	if raw, err := base64.RawURLEncoding.DecodeString(code); err != nil || len(raw) != 16 {
		t.Fatalf("code %q: %d bytes, %v; want 16", code, len(raw), err)
	}
	if !CheckCode(testCodeKey, testReceiptID, code) {
		t.Error("CheckCode refused the right code")
	}
	flipped := []byte(code)
	flipped[3] ^= 1
	for name, c := range map[string]string{"one character changed": string(flipped), "empty": "",
		"padded": code + "==", "another id's": Code(testCodeKey, "rc_other")} {
		if CheckCode(testCodeKey, testReceiptID, c) {
			t.Errorf("CheckCode took %s code %q", name, c)
		}
	}
	if CheckCode([]byte("another key of thirty-two bytes!"), testReceiptID, code) {
		t.Error("CheckCode took a code made under another key")
	}
}

func TestVerifyURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://pay.example.test", "https://pay.example.test/"} {
		if got, want := VerifyURL(base, "rc_01j", "kjZxrK2wPUVnZQfD-nWrgw"), "https://pay.example.test/r/rc_01j?c=kjZxrK2wPUVnZQfD-nWrgw"; got != want {
			t.Errorf("VerifyURL(%q) = %q, want %q", base, got, want)
		}
	}
}

// TestCodeKey: the key is the keyring's under its own label, not another
// purpose's and not the master key.
func TestCodeKey(t *testing.T) {
	t.Parallel()
	master := bytes.Repeat([]byte{7}, keyring.KeySize)
	k, err := keyring.New(master)
	if err != nil {
		t.Fatal(err)
	}
	key := CodeKey(k)
	if !bytes.Equal(key, k.Key("receipt/verify-code")) {
		t.Error("CodeKey is not the keyring's key for receipt/verify-code")
	}
	if len(key) != keyring.KeySize || bytes.Equal(key, master) || bytes.Equal(key, k.Key("pii/index/pid")) {
		t.Errorf("CodeKey = %x: not an independent 32-byte subkey", key)
	}
}
