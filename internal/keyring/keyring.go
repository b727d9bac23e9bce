// Package keyring derives the gateway's working keys from its one master key
// (GATEWAY_MASTER_KEY, PROTOCOL.md §9).
//
// Every use of a key gets its own subkey, derived with HKDF-SHA256 under a
// distinct label, so that a key never serves two purposes: the blind index of
// personal numbers, their encryption and the encryption of secrets at rest
// each hold an independent key, and none of them is the master key itself.
package keyring

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length in bytes of the master key and of every derived key.
const KeySize = 32

// infoPrefix starts the HKDF info of every derived key. It names this scheme
// and its version so that the same master key used elsewhere (it should not
// be) would still yield unrelated keys.
const infoPrefix = "citizenpay/gateway/keyring/v1"

// Purposes of a derived key; each is part of the HKDF info, so a label used
// with Key and the same label used with Sealer yield different keys.
const (
	purposeKey  = "key"
	purposeSeal = "aes-256-gcm"
)

// ErrInvalidMasterKey is returned by Parse and New when the master key is
// unusable. The wrapped message says why; it never contains the key.
var ErrInvalidMasterKey = errors.New("invalid master key")

// Keyring holds a master key and derives subkeys from it. It is safe for
// concurrent use. Its String, GoString and LogValue methods never reveal the key.
type Keyring struct {
	master [KeySize]byte
}

// Parse builds a Keyring from the base64 text of a 32-byte master key, the
// form of GATEWAY_MASTER_KEY. Standard base64, padded or not, is accepted;
// surrounding white space (a trailing newline from a file) is ignored.
func Parse(b64 string) (*Keyring, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidMasterKey)
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") {
		enc = base64.RawStdEncoding
	}
	master, err := enc.DecodeString(s)
	if err != nil {
		// The error names only an offset, never the key's characters.
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w: not standard base64 (bad input at offset %d)", ErrInvalidMasterKey, int64(ce))
		}
		return nil, fmt.Errorf("%w: not standard base64", ErrInvalidMasterKey)
	}
	return New(master)
}

// New builds a Keyring from a raw 32-byte master key. It copies master, so the
// caller may wipe its slice afterwards. An all-zero key is refused: it is what
// an unset or placeholder key decodes to.
func New(master []byte) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidMasterKey, len(master), KeySize)
	}
	if subtle.ConstantTimeCompare(master, make([]byte, KeySize)) == 1 {
		return nil, fmt.Errorf("%w: all zero bytes", ErrInvalidMasterKey)
	}
	k := &Keyring{}
	copy(k.master[:], master)
	return k, nil
}

// Key returns the 32-byte subkey for label. The same label always yields the
// same key; distinct labels yield independent keys. Labels are constants of
// the code that uses them, such as "pii/index/pid"; an empty label or one
// holding a NUL byte is a programming error and panics.
func (k *Keyring) Key(label string) []byte {
	return k.derive(purposeKey, label)
}

// derive returns the subkey for purpose and label. The info string joins
// prefix, purpose and label with NUL bytes, which labels may not contain, so
// distinct (purpose, label) pairs never share an info string.
func (k *Keyring) derive(purpose, label string) []byte {
	if label == "" || strings.IndexByte(label, 0) >= 0 {
		panic(fmt.Sprintf("keyring: invalid label %q", label))
	}
	info := infoPrefix + "\x00" + purpose + "\x00" + label
	key, err := hkdf.Key(sha256.New, k.master[:], nil, info, KeySize)
	if err != nil {
		// Only an output length beyond 255 hash blocks fails; 32 bytes cannot.
		panic("keyring: hkdf: " + err.Error())
	}
	return key
}

// String returns a fixed text, so that a Keyring printed by mistake shows no key.
func (k *Keyring) String() string { return "keyring.Keyring{REDACTED}" }

// GoString returns the same fixed text as String, for %#v.
func (k *Keyring) GoString() string { return k.String() }

// LogValue returns the same fixed text as String, for log/slog.
func (k *Keyring) LogValue() slog.Value { return slog.StringValue(k.String()) }

// checkLabel is the label of the subkey under which CheckValue is computed;
// checkText is the fixed text it authenticates.
const (
	checkLabel = "master-key-check"
	checkText  = "citizenpay/gateway: the master key this database was set up with"
)

// ErrMasterKeyMismatch is returned when a master key is not the one a
// database was set up with (its check value differs). The message names the
// setting; it never contains either key.
var ErrMasterKeyMismatch = errors.New("GATEWAY_MASTER_KEY: does not match the key this database was set up with")

// CheckValue returns 32 bytes that identify the master key without revealing
// it: an HMAC-SHA256 of a fixed text under a subkey derived for this use
// alone. A database keeps it to refuse a wrong key by name, before anything
// sealed with the right one fails to open.
func (k *Keyring) CheckValue() []byte {
	m := hmac.New(sha256.New, k.derive(purposeKey, checkLabel))
	m.Write([]byte(checkText))
	return m.Sum(nil)
}

// MatchesCheck reports whether v is this key's CheckValue, in constant time.
func (k *Keyring) MatchesCheck(v []byte) bool {
	return hmac.Equal(v, k.CheckValue())
}
