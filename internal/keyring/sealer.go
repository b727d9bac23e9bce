package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
)

// SealVersion is the first byte of every sealed value: AES-256-GCM with a
// random 12-byte nonce. A later scheme takes a new version byte, so that old
// values stay readable while they are re-sealed.
const SealVersion byte = 0x01

// Sizes of the parts of a sealed value: version || nonce || ciphertext || tag.
const (
	// NonceSize is the length of the random GCM nonce that follows the version byte.
	NonceSize = 12
	// TagSize is the length of the GCM authentication tag that ends a sealed value.
	TagSize = 16
	// SealOverhead is how many bytes Seal adds to the plaintext.
	SealOverhead = 1 + NonceSize + TagSize
)

// ErrOpen is returned by Sealer.Open for any value it cannot open: too short,
// an unknown version, or one that fails authentication (tampered, sealed under
// another label or with another aad). The wrapped message says which.
var ErrOpen = errors.New("cannot open sealed value")

// Sealer encrypts and authenticates small values (personal numbers, secrets)
// with AES-256-GCM under one derived key. It is safe for concurrent use.
//
// Nonces are random, so one key must not seal more than 2^32 values; the
// gateway's volumes are orders of magnitude below that.
type Sealer struct {
	aead cipher.AEAD // prepends and strips its random nonce itself
}

// Sealer returns the Sealer for label. Its key is derived from label and is
// distinct from Key(label). Labels follow the rules of Key.
func (k *Keyring) Sealer(label string) *Sealer {
	block, err := aes.NewCipher(k.derive(purposeSeal, label))
	if err != nil {
		panic("keyring: aes: " + err.Error()) // the key is always 32 bytes
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("keyring: gcm: " + err.Error()) // block always comes from crypto/aes
	}
	return &Sealer{aead: aead}
}

// Seal encrypts plaintext bound to aad and returns
// SealVersion || nonce || ciphertext || tag. Sealing the same plaintext twice
// gives different outputs. aad is not stored: Open needs the same aad.
func (s *Sealer) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, 1, SealOverhead+len(plaintext))
	out[0] = SealVersion
	return s.aead.Seal(out, nil, plaintext, aad)
}

// Open decrypts a value made by Seal with the same label and aad. Any other
// value fails with an error wrapping ErrOpen.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < SealOverhead {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte minimum", ErrOpen, len(sealed), SealOverhead)
	}
	if sealed[0] != SealVersion {
		return nil, fmt.Errorf("%w: unknown version 0x%02x", ErrOpen, sealed[0])
	}
	plaintext, err := s.aead.Open(nil, nil, sealed[1:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	return plaintext, nil
}
