package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/keyring"
	"github.com/citizenpay/gateway/internal/pii"
	"github.com/citizenpay/gateway/internal/postgres"
)

// sealedWorld is a gateway whose database holds sealed personal numbers.
type sealedWorld struct {
	t   *testing.T
	h   *apitest.Harness
	ctx context.Context
	pii *pii.Protector
	k   *keyring.Keyring
	n   int
}

func newSealedWorld(t *testing.T) *sealedWorld {
	t.Helper()
	h := apitest.New(t)
	k, err := keyring.Parse(apitest.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := h.App.Banks.Store.Create(context.Background(), &bank.Bank{Code: "SBX", Name: "Sandbox", BaseURL: "https://sbx.example",
		Secret: bank.NewSecret(), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return &sealedWorld{t: t, h: h, ctx: context.Background(), pii: pii.NewProtector(k), k: k}
}

// sealLegacy seals value as the gateway did before values were bound to
// their row: the kind alone as aad.
func (w *sealedWorld) sealLegacy(kind pii.Kind, value string) []byte {
	return w.k.Sealer("pii/seal/"+string(kind)).Seal([]byte(value), []byte(kind))
}

func (w *sealedWorld) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.h.DB.Pool.Exec(w.ctx, sql, args...); err != nil {
		w.t.Fatal(err)
	}
}

// pid returns a new valid pid.
func (w *sealedWorld) pid() string {
	w.n++
	return fmt.Sprintf("0792030%05d", w.n)
}

// legacyCitizen inserts a citizen, and an account of theirs, sealed the
// old way; it returns the citizen's id.
func (w *sealedWorld) legacyCitizen() string {
	w.t.Helper()
	pid, number := w.pid(), fmt.Sprintf("9704%09d", w.n)
	ctz, acc := fmt.Sprintf("ctz_legacy%03d", w.n), fmt.Sprintf("acc_legacy%03d", w.n)
	w.exec(`INSERT INTO citizens (id, pid_index, pid_sealed) VALUES ($1, $2, $3)`,
		ctz, w.pii.Index(pii.KindPID, pid), w.sealLegacy(pii.KindPID, pid))
	w.exec(`INSERT INTO linked_accounts (id, citizen_id, bank_code, account_index, account_sealed, account_masked,
		holder_name_sealed, status, verification_id) VALUES ($1, $2, 'SBX', $3, $4, $5, '\x00', 'pending_verification', $6)`,
		acc, ctz, w.pii.Index(pii.KindAccount, number), w.sealLegacy(pii.KindAccount, number), pii.MaskAccount(number), "av_"+acc)
	return ctz
}

// request creates a payment request through the API for pid and returns
// its id.
func (w *sealedWorld) request(pid string) string {
	w.t.Helper()
	w.n++
	r := w.h.Post("/v1/payment-requests", fmt.Sprintf("k-%d", w.n), map[string]any{
		"citizen_pid": pid, "dossier_code": fmt.Sprintf("D-%d", w.n), "service_code": "1.001234",
		"description": "Lệ phí", "items": []map[string]any{{"code": "LE_PHI", "description": "Lệ phí", "amount": "50000"}},
		"amount": "50000", "currency": "VND",
	})
	if r.Status != http.StatusCreated {
		w.t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.Map(w.t)["id"].(string)
}

// makeLegacy re-seals payment request id's pid the old way.
func (w *sealedWorld) makeLegacy(id, pid string) {
	w.exec(`UPDATE payment_requests SET citizen_pid_sealed = $2 WHERE id = $1`, id, w.sealLegacy(pii.KindPID, pid))
}

func (w *sealedWorld) legacyLeft() int64 {
	w.t.Helper()
	var n int64
	for _, c := range postgres.SealedColumns() {
		m, err := postgres.CountLegacySealed(w.ctx, w.h.DB.Store, c)
		if err != nil {
			w.t.Fatal(err)
		}
		n += m
	}
	return n
}

// sealedBytes returns every sealed value by table and id.
func (w *sealedWorld) sealedBytes() map[string][]byte {
	w.t.Helper()
	out := map[string][]byte{}
	for _, c := range postgres.SealedColumns() {
		rows, err := w.h.DB.Pool.Query(w.ctx, c.SelectSealed("public"))
		if err != nil {
			w.t.Fatal(err)
		}
		for rows.Next() {
			var r postgres.SealedRow
			if err := rows.Scan(&r.ID, &r.Index, &r.Sealed); err != nil {
				w.t.Fatal(err)
			}
			out[c.Table+":"+r.ID] = r.Sealed
		}
		if rows.Err() != nil {
			w.t.Fatal(rows.Err())
		}
	}
	return out
}

// cancelOnWrite cancels a context at the first line written to it.
type cancelOnWrite struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel()
	return c.buf.Write(p)
}

type resealOutput struct {
	Columns  []resealCount `json:"columns"`
	Complete bool          `json:"complete"`
}

// runReseal runs gatewayctl reseal with ctx; stderr may be nil.
func (w *sealedWorld) runReseal(ctx context.Context, stderr *cancelOnWrite, args ...string) (resealOutput, error) {
	w.t.Helper()
	env := map[string]string{"DATABASE_URL": w.h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey}
	var stdout bytes.Buffer
	var errOut io.Writer = &bytes.Buffer{}
	if stderr != nil {
		errOut = stderr
	}
	err := run(ctx, append([]string{"reseal", "--by", "tester"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &stdout, errOut)
	var out resealOutput
	if err == nil || errors.Is(err, errExit) {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			w.t.Fatalf("reseal printed %q: %v", stdout.String(), jerr)
		}
	}
	return out, err
}

// verifySealed runs gatewayctl verify with the master key and returns the
// checks of invariant 7's violations, by id.
func (w *sealedWorld) verifySealed() map[string]string {
	w.t.Helper()
	env := map[string]string{"DATABASE_URL": w.h.DB.URL, "GATEWAY_MASTER_KEY": apitest.MasterKey}
	var stdout, stderr bytes.Buffer
	err := run(w.ctx, []string{"verify"}, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	if err != nil && !errors.Is(err, errExit) {
		w.t.Fatal(err)
	}
	var out verifyOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		w.t.Fatalf("verify printed %q: %v", stdout.String(), err)
	}
	got := map[string]string{}
	for _, inv := range out.Invariants {
		for _, v := range inv.Violations {
			if inv.Invariant != 7 {
				w.t.Errorf("invariant %d: %s %s", inv.Invariant, v.Check, v.ID)
			}
			got[v.ID] = v.Check
		}
	}
	if (err == nil) != (len(got) == 0) {
		w.t.Errorf("verify returned %v with %d violations", err, len(got))
	}
	return got
}
