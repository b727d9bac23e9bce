package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/redisstore"
	"github.com/citizenpay/gateway/internal/testenv"
)

func TestDedupe(t *testing.T) {
	t.Parallel()
	client, prefix := testenv.NewRedis(t)
	s := redisstore.New(client, prefix, nil)
	d := s.Dedupe()
	ctx := context.Background()
	if _, ok, err := d.Seen(ctx, "SBX", "evt_1"); ok || err != nil {
		t.Fatalf("unseen: %v, %v", ok, err)
	}
	if err := d.Mark(ctx, "SBX", "evt_1", "applied", time.Minute); err != nil {
		t.Fatal(err)
	}
	// The first marker stands.
	if err := d.Mark(ctx, "SBX", "evt_1", "not_found", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := d.Seen(ctx, "SBX", "evt_1"); v != "applied" || !ok || err != nil {
		t.Fatalf("seen: %q, %v, %v", v, ok, err)
	}
	// Event ids are per bank.
	if _, ok, _ := d.Seen(ctx, "OTHER", "evt_1"); ok {
		t.Fatal("another bank's event id matched")
	}
	if s.Prefix() != prefix || client.Exists(ctx, prefix+"bankevt:{SBX:evt_1}").Val() != 1 {
		t.Fatal("the marker is not under the store's prefix")
	}
	if ttl := client.TTL(ctx, prefix+"bankevt:{SBX:evt_1}").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ttl %s", ttl)
	}
}

func TestDedupeWithoutRedis(t *testing.T) {
	t.Parallel()
	client, err := redisstore.Connect(redisstore.Options{URL: "redis://127.0.0.1:1/0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	d := redisstore.New(client, "x:", nil).Dedupe()
	if _, ok, err := d.Seen(context.Background(), "SBX", "evt_1"); ok || !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Seen without Redis: %v, %v", ok, err)
	}
	if err := d.Mark(context.Background(), "SBX", "evt_1", "applied", time.Minute); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("Mark without Redis: %v", err)
	}
}
