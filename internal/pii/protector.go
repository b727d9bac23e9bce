// Package pii protects the personal numbers the gateway handles — a citizen's
// personal identification number (pid) and bank account numbers — as
// PROTOCOL.md §2 requires: never stored in clear, found again through a keyed
// blind index, encrypted where a value must be shown or sent to a bank, and
// masked in responses. It also checks a pid's structure wherever one enters.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/citizenpay/gateway/internal/keyring"
)

// Kind names the sort of personal number being protected. Each kind has its
// own index and encryption keys and is part of the aad, so a value of one
// kind can neither be matched against nor opened as another kind.
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

// BoundVersion is the first byte of a value sealed by Seal: a keyring
// sealed value follows it, whose aad binds it to its row (see Binding). A
// value that starts with keyring.SealVersion instead is a legacy one, sealed
// before values were bound, with the kind alone as aad; Open still reads it
// until `gatewayctl reseal` has bound it.
const BoundVersion byte = 0x02

// aadScheme starts the aad of every bound value, naming this scheme.
const aadScheme = "citizenpay/pii/bound/v2"

// Binding names the one place a sealed value belongs: the column that holds
// it (a fixed label such as "payment_requests.citizen_pid", which stays the
// same if the column is renamed), the id of its row, and the blind index
// stored beside it. A value sealed under one binding does not open under
// another, so a ciphertext copied to another row or column, or a row whose
// index was changed, is found out.
type Binding struct {
	Column string
	RowID  string
	Index  []byte
}

// aad encodes kind and b with each field length-prefixed, so that no two
// distinct bindings share an aad.
func (b Binding) aad(kind Kind) []byte {
	out := make([]byte, 0, len(aadScheme)+len(kind)+len(b.Column)+len(b.RowID)+len(b.Index)+5)
	for _, f := range [][]byte{[]byte(aadScheme), []byte(kind), []byte(b.Column), []byte(b.RowID), b.Index} {
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	return out
}

// Seal encrypts value with AES-256-GCM under the kind's key, bound to b, and
// returns BoundVersion || the sealed value. The result is for storage and
// holds nothing of value in clear. b must name a column and a row, and its
// Index must be Index(kind, value), the index stored beside it: anything
// else is a bug of the caller, and panics rather than storing a value that
// would never open.
func (p *Protector) Seal(kind Kind, value string, b Binding) []byte {
	if b.Column == "" || b.RowID == "" {
		panic(fmt.Sprintf("pii: sealing a %s without its column and row", string(kind)))
	}
	if !hmac.Equal(b.Index, p.Index(kind, value)) {
		panic(fmt.Sprintf("pii: sealing a %s for %s %s under another value's index", string(kind), b.Column, b.RowID))
	}
	sealed := p.sealer(kind).Seal([]byte(value), b.aad(kind))
	return append([]byte{BoundVersion}, sealed...)
}

// Open decrypts a value sealed by Seal with the same kind and binding. A
// legacy value (sealed before values were bound) is opened with the kind as
// aad and accepted only if its clear value has b's index. Any other value —
// sealed as another kind, under another binding or master key, or altered —
// fails with an error wrapping keyring.ErrOpen.
func (p *Protector) Open(kind Kind, sealed []byte, b Binding) (string, error) {
	v, _, err := p.Inspect(kind, sealed, b)
	return v, err
}

// Inspect is Open that also says whether the value is a legacy one, not yet
// bound to its row: what `gatewayctl reseal` re-seals and `gatewayctl
// verify` reports.
func (p *Protector) Inspect(kind Kind, sealed []byte, b Binding) (value string, legacy bool, err error) {
	if len(sealed) > 0 && sealed[0] == BoundVersion {
		plain, err := p.sealer(kind).Open(sealed[1:], b.aad(kind))
		if err != nil {
			return "", false, fmt.Errorf("open sealed %s of %s %s: %w", kind, b.Column, b.RowID, err)
		}
		return string(plain), false, nil
	}
	plain, err := p.sealer(kind).Open(sealed, []byte(kind))
	if err != nil {
		return "", true, fmt.Errorf("open legacy sealed %s of %s %s: %w", kind, b.Column, b.RowID, err)
	}
	if !hmac.Equal(b.Index, p.Index(kind, string(plain))) {
		return "", true, fmt.Errorf("open legacy sealed %s of %s %s: %w: not the value of the row's index", kind, b.Column, b.RowID, keyring.ErrOpen)
	}
	return string(plain), true, nil
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
