package devissuer

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"
)

// LoadOrCreate returns an Issuer whose key is read from path, a private JWK
// (kty OKP, crv Ed25519). When path does not exist it creates it with a new
// key (mode 0600, directories 0700). Two processes racing to create it end up
// with the same key: the file appears atomically and the loser reads it.
func LoadOrCreate(path, issuer string) (*Issuer, error) {
	key, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(path)
	}
	if err != nil {
		return nil, err
	}
	return New(key, issuer)
}

// readKey reads a private Ed25519 JWK.
func readKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devissuer: read key file: %w", err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("devissuer: parse key file %s: %w", path, err)
	}
	key, ok := jwk.Key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("devissuer: key file %s does not hold an Ed25519 private key", path)
	}
	return key, nil
}

// createKey writes a new key to a temporary file and links it into place, so
// that path is never seen half written and an existing file is never replaced.
func createKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devissuer: generate key: %w", err)
	}
	data, err := json.MarshalIndent(jose.JSONWebKey{Key: key, Algorithm: string(jose.EdDSA), Use: "sig"}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("devissuer: marshal key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devissuer: create key directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*.json")
	if err != nil {
		return nil, fmt.Errorf("devissuer: create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("devissuer: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("devissuer: write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
		return nil, fmt.Errorf("devissuer: install key file: %w", err)
	}
	return key, nil
}
