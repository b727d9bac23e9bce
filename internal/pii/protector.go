// Package pii protects the personal numbers the gateway handles — a citizen's
// personal identification number (pid) and bank account numbers — as
// PROTOCOL.md §2 requires: never stored in clear, found again through a keyed
// blind index, encrypted where a value must be shown or sent to a bank, and
// masked in responses. It also checks a pid's structure wherever one enters.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"github.com/citizenpay/gateway/internal/keyring"
)

// Kind names the sort of personal number being protected. Each kind has its
// own index and encryption keys and its own aad, so a value of one kind can
// neither be matched against nor opened as another kind.
type Kind string

// The kinds of personal number the gateway holds.
const (
	// KindPID is a citizen's 12-digit personal identification number.
	KindPID Kind = "pid"
	// KindAccount is a bank account number, normalised by NormalizeAccount.
	KindAccount Kind = "account"
)

// IndexSize is the length in bytes of a blind index.
const IndexSize = sha256.Size

// Protector computes blind indexes of personal numbers and seals and opens
// them. It is safe for concurrent use. Methods given a Kind other than KindPID
// or KindAccount panic: kinds are constants of the code, so that is a bug.
type Protector struct {
	indexKeys map[Kind][]byte
	sealers   map[Kind]*keyring.Sealer
}

// NewProtector derives the Protector's keys from k, one index key and one
// encryption key per kind (labels "pii/index/<kind>" and "pii/seal/<kind>").
func NewProtector(k *keyring.Keyring) *Protector {
	p := &Protector{
		indexKeys: make(map[Kind][]byte, 2),
		sealers:   make(map[Kind]*keyring.Sealer, 2),
	}
	for _, kind := range []Kind{KindPID, KindAccount} {
		p.indexKeys[kind] = k.Key("pii/index/" + string(kind))
		p.sealers[kind] = k.Sealer("pii/seal/" + string(kind))
	}
	return p
}

// Index returns the blind index of value: HMAC-SHA256 under the kind's key,
// IndexSize bytes. It is deterministic, so equal values have equal indexes and
// a table can look a value up or hold it unique without storing it. value must
// already be in canonical form (a validated pid, a NormalizeAccount result):
// "0071 000" and "0071000" have different indexes.
func (p *Protector) Index(kind Kind, value string) []byte {
	mac := hmac.New(sha256.New, p.indexKey(kind))
	mac.Write([]byte(value))
	return mac.Sum(nil)
}

// Seal encrypts value with AES-256-GCM under the kind's key, with the kind as
// aad. The result is for storage and holds nothing of value in clear.
func (p *Protector) Seal(kind Kind, value string) []byte {
	return p.sealer(kind).Seal([]byte(value), []byte(kind))
}

// Open decrypts a value sealed by Seal with the same kind. A value sealed as
// another kind or under another master key, or altered, fails with an error
// wrapping keyring.ErrOpen.
func (p *Protector) Open(kind Kind, sealed []byte) (string, error) {
	plain, err := p.sealer(kind).Open(sealed, []byte(kind))
	if err != nil {
		return "", fmt.Errorf("open sealed %s: %w", kind, err)
	}
	return string(plain), nil
}

func (p *Protector) indexKey(kind Kind) []byte {
	key, ok := p.indexKeys[kind]
	if !ok {
		panic(fmt.Sprintf("pii: unknown kind %q", string(kind)))
	}
	return key
}

func (p *Protector) sealer(kind Kind) *keyring.Sealer {
	s, ok := p.sealers[kind]
	if !ok {
		panic(fmt.Sprintf("pii: unknown kind %q", string(kind)))
	}
	return s
}
