package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
)

// TestWritersSealWithBinding creates a citizen, a linked account and a
// payment request through the API, and finds each personal number sealed
// for its own row only.
func TestWritersSealWithBinding(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t)
	k, err := keyring.Parse(apitest.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	p := pii.NewProtector(k)
	c := idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, c)
	h.NewBank("SBX", acc)
	r := h.AsCitizen(c.Token, http.MethodPost, "/v1/me/accounts", "link", map[string]string{"bank_code": "SBX", "account_number": acc.Number})
	if r.Status != http.StatusAccepted {
		t.Fatalf("link: %d %s", r.Status, r.Body)
	}
	w := &sealedWorld{t: t, h: h, ctx: context.Background(), pii: p, k: k}
	reqID := w.request(c.PID)
	w.request(c.PID) // a second request of the same citizen, to swap with

	want := map[string]struct{ where, value string }{
		"citizens":         {"", c.PID},
		"payment_requests": {" WHERE id = '" + reqID + "'", c.PID},
		"linked_accounts":  {"", acc.Number},
	}
	cols := postgres.SealedColumns()
	if len(cols) != len(want) {
		t.Fatalf("%d sealed columns known, want %d", len(cols), len(want))
	}
	for _, col := range cols {
		tc := want[col.Table]
		var row postgres.SealedRow
		query := fmt.Sprintf(`SELECT id, %s, %s FROM %s%s`, col.Index, col.Sealed, col.Table, tc.where)
		if err := h.DB.Pool.QueryRow(w.ctx, query).Scan(&row.ID, &row.Index, &row.Sealed); err != nil {
			t.Fatalf("%s: %v", col.Label, err)
		}
		v, legacy, err := p.Inspect(col.Kind, row.Sealed, col.Binding(row.ID, row.Index))
		if err != nil || legacy || v != tc.value || row.Sealed[0] != pii.BoundVersion {
			t.Errorf("%s: Inspect under its binding = legacy %v, %v, version 0x%02x", col.Label, legacy, err, row.Sealed[0])
		}
		if _, err := p.Open(col.Kind, row.Sealed, col.Binding(row.ID+"x", row.Index)); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("%s: opens under another row's binding: %v", col.Label, err)
		}
		if _, err := p.Open(col.Kind, row.Sealed[1:], col.Binding(row.ID, row.Index)); err == nil {
			t.Errorf("%s: opens with the version byte stripped, as a legacy value", col.Label)
		}
	}

	// The same citizen's other request: its pid is the same, but a
	// ciphertext copied from the first request's row does not open there.
	w.exec(`UPDATE payment_requests SET citizen_pid_sealed = (SELECT citizen_pid_sealed FROM payment_requests WHERE id = $1)
		WHERE id <> $1`, reqID)
	var other postgres.SealedRow
	if err := h.DB.Pool.QueryRow(w.ctx, `SELECT id, citizen_pid_index, citizen_pid_sealed FROM payment_requests WHERE id <> $1`, reqID).
		Scan(&other.ID, &other.Index, &other.Sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Open(pii.KindPID, other.Sealed, postgres.RequestPIDBinding(other.ID, other.Index)); !errors.Is(err, keyring.ErrOpen) {
		t.Errorf("a pid copied from another request's row opens: %v", err)
	}
	if got := w.verifySealed(); len(got) != 1 || got["payment_requests:"+other.ID] != "sealed_unopenable" {
		t.Errorf("verify after a copied ciphertext: %v, want payment_requests:%s sealed_unopenable", got, other.ID)
	}
}

// TestResealBindsLegacyValues seals values the old way, checks that verify
// reports them, stops a reseal after its first batch, runs it again to the
// end and once more, and finds every value bound and verify clean.
func TestResealBindsLegacyValues(t *testing.T) {
	t.Parallel()
	w := newSealedWorld(t)
	for range 3 {
		w.legacyCitizen()
	}
	requests := map[string]string{}
	for range 4 {
		pid := w.pid()
		id := w.request(pid)
		w.makeLegacy(id, pid)
		requests[id] = pid
	}
	const legacy = 3 + 3 + 4
	if n := w.legacyLeft(); n != legacy {
		t.Fatalf("%d legacy values, want %d", n, legacy)
	}
	// The gateway still reads a legacy value (through its row's binding).
	for id, pid := range requests {
		var idx, sealed []byte
		if err := w.h.DB.Pool.QueryRow(w.ctx, `SELECT citizen_pid_index, citizen_pid_sealed FROM payment_requests WHERE id = $1`, id).
			Scan(&idx, &sealed); err != nil {
			t.Fatal(err)
		}
		if v, err := w.pii.Open(pii.KindPID, sealed, postgres.RequestPIDBinding(id, idx)); err != nil || v != pid {
			t.Fatalf("a legacy value: %v", err)
		}
	}
	got := w.verifySealed()
	if len(got) != legacy {
		t.Fatalf("verify: %d violations, want %d: %v", len(got), legacy, got)
	}
	for id, check := range got {
		if check != "sealed_unbound" {
			t.Errorf("verify: %s %s, want sealed_unbound", id, check)
		}
	}

	// Stopped after its first batch of 2: that batch is committed.
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	if _, err := w.runReseal(ctx, &cancelOnWrite{cancel: cancel}, "--batch", "2"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped reseal: %v", err)
	}
	if n := w.legacyLeft(); n != legacy-2 {
		t.Fatalf("after one batch: %d legacy values left, want %d", n, legacy-2)
	}

	out, err := w.runReseal(w.ctx, nil, "--batch", "2")
	if err != nil || !out.Complete || len(out.Columns) != 3 {
		t.Fatalf("reseal: %v, %+v", err, out)
	}
	total := 0
	for _, c := range out.Columns {
		total += c.Resealed
		if c.Unopenable != 0 || c.Remaining != 0 {
			t.Errorf("reseal %s: %+v", c.Column, c)
		}
	}
	if total != legacy-2 {
		t.Errorf("the resumed reseal bound %d values, want %d", total, legacy-2)
	}
	if n := w.legacyLeft(); n != 0 {
		t.Fatalf("%d legacy values left", n)
	}
	if got := w.verifySealed(); len(got) != 0 {
		t.Fatalf("verify after reseal: %v", got)
	}
	for id, pid := range requests {
		var idx, sealed []byte
		if err := w.h.DB.Pool.QueryRow(w.ctx, `SELECT citizen_pid_index, citizen_pid_sealed FROM payment_requests WHERE id = $1`, id).
			Scan(&idx, &sealed); err != nil {
			t.Fatal(err)
		}
		if v, legacy, err := w.pii.Inspect(pii.KindPID, sealed, postgres.RequestPIDBinding(id, idx)); err != nil || legacy || v != pid {
			t.Errorf("request %s after reseal: legacy %v, %v", id, legacy, err)
		}
	}

	// Once more: nothing to do, nothing changed.
	before := w.sealedBytes()
	out, err = w.runReseal(w.ctx, nil)
	if err != nil || !out.Complete {
		t.Fatalf("reseal again: %v, %+v", err, out)
	}
	for _, c := range out.Columns {
		if c.Resealed != 0 {
			t.Errorf("reseal again re-sealed %d values of %s", c.Resealed, c.Column)
		}
	}
	after := w.sealedBytes()
	if len(after) != len(before) || len(after) != legacy {
		t.Fatalf("%d sealed values, then %d, want %d", len(before), len(after), legacy)
	}
	for k, v := range before {
		if !bytes.Equal(after[k], v) {
			t.Errorf("%s changed on a second reseal", k)
		}
	}
}

// TestResealRefusesAMovedLegacyValue copies a legacy value to another
// citizen's row before reseal: reseal does not bind it there, and verify
// still reports it.
func TestResealRefusesAMovedLegacyValue(t *testing.T) {
	t.Parallel()
	w := newSealedWorld(t)
	from, to := w.legacyCitizen(), w.legacyCitizen()
	w.exec(`UPDATE citizens SET pid_sealed = (SELECT pid_sealed FROM citizens WHERE id = $1) WHERE id = $2`, from, to)

	out, err := w.runReseal(w.ctx, nil)
	if !errors.Is(err, errExit) || out.Complete {
		t.Fatalf("reseal with a moved value: %v, %+v", err, out)
	}
	want := map[string]resealCount{
		"citizens.pid":                 {Column: "citizens.pid", Resealed: 1, Unopenable: 1, Remaining: 1},
		"payment_requests.citizen_pid": {Column: "payment_requests.citizen_pid"},
		"linked_accounts.account":      {Column: "linked_accounts.account", Resealed: 2},
	}
	for _, c := range out.Columns {
		if c != want[c.Column] {
			t.Errorf("reseal: %+v, want %+v", c, want[c.Column])
		}
	}
	if got := w.verifySealed(); len(got) != 1 || got["citizens:"+to] != "sealed_unopenable" {
		t.Errorf("verify: %v, want citizens:%s sealed_unopenable", got, to)
	}
}
