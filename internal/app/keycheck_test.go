package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/app"
	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/keyring"
)

// build wires a gateway on h's database with master key key.
func build(t *testing.T, h *apitest.Harness, key string) (*app.App, error) {
	t.Helper()
	env := map[string]string{}
	for k, v := range h.Env {
		env[k] = v
	}
	env["GATEWAY_MASTER_KEY"] = key
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{Pool: h.DB.Pool, RedisPrefix: h.RedisPrefix})
	if a != nil {
		t.Cleanup(a.Close)
	}
	return a, err
}

var otherKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))

func TestBuildRefusesAnotherMasterKey(t *testing.T) {
	t.Parallel()
	h := apitest.New(t) // set up, and a portal sealed, with apitest.MasterKey

	_, err := build(t, h, otherKey)
	if !errors.Is(err, keyring.ErrMasterKeyMismatch) ||
		err.Error() != "GATEWAY_MASTER_KEY: does not match the key this database was set up with" {
		t.Fatalf("another key: %v", err)
	}
	if _, err := build(t, h, apitest.MasterKey); err != nil {
		t.Fatalf("the right key: %v", err)
	}
	var stored []byte
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT check_value FROM key_check`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, bytes.Repeat([]byte{7}, 8)) || len(stored) != 32 {
		t.Fatalf("the check value is %x", stored)
	}
}

// A database migrated before the check value existed gets it from the
// first start with a key, but not from a key that cannot open its sealed
// secrets.
func TestBuildRecordsTheKeyOfAnOlderDatabase(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	ctx := context.Background()
	if _, err := h.DB.Pool.Exec(ctx, `DELETE FROM key_check`); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, h, otherKey); !errors.Is(err, keyring.ErrMasterKeyMismatch) {
		t.Fatalf("a key that opens no portal secret: %v", err)
	}
	if n := h.Count(`SELECT count(*) FROM key_check`); n != 0 {
		t.Fatalf("a wrong key was recorded (%d rows)", n)
	}
	if _, err := build(t, h, apitest.MasterKey); err != nil {
		t.Fatalf("the key the data was sealed with: %v", err)
	}
	if n := h.Count(`SELECT count(*) FROM key_check`); n != 1 {
		t.Fatalf("key_check holds %d rows after the first start, want 1", n)
	}
	if _, err := build(t, h, otherKey); !errors.Is(err, keyring.ErrMasterKeyMismatch) {
		t.Fatalf("another key once recorded: %v", err)
	}
}
