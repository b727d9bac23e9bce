package httpapi_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// TestNoPersonalDataInClear runs the citizen flows — links by callback and
// by synchronous answer, a rejected link, a refused one, a payment request
// addressed to the citizen, the callbacks — then looks for the clear pid and
// account numbers, as text and as hex, in every table (job arguments and
// evidence included), every Redis key and value under the gateway's prefix,
// and every log line.
func TestNoPersonalDataInClear(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	cit, other := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	byCallback, bySync, othersAcc := apitest.AccountOf(t, cit), apitest.AccountOf(t, cit), apitest.AccountOf(t, other)
	b := h.NewBank("SBX", byCallback, bySync, othersAcc)
	secrets := []string{cit.PID, other.PID, byCallback.Number, bySync.Number, othersAcc.Number}

	a1 := link(t, h, cit, "link-1", "SBX", byCallback.Number)
	settled(t, h, cit, a1.ID)
	b.Sim.SetKnobs(banksim.Knobs{Sync: true, AlsoCallBackAfterSync: true})
	a2 := link(t, h, cit, "link-2", "SBX", bySync.Number)
	settled(t, h, cit, a2.ID)
	rejected := link(t, h, cit, "link-3", "SBX", othersAcc.Number)
	if got := settled(t, h, cit, rejected.ID); got.Status != "rejected" {
		t.Fatalf("someone else's account: %+v", got)
	}
	mine := link(t, h, other, "link-4", "SBX", othersAcc.Number)
	settled(t, h, other, mine.ID)
	if r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-5", linkBody("SBX", othersAcc.Number)); r.Code() != "account_taken" {
		t.Fatalf("taken: %d %s", r.Status, r.Body)
	}
	if r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-6", linkBody("NOPE", othersAcc.Number)); r.Code() != "validation_failed" {
		t.Fatalf("unknown bank: %d %s", r.Status, r.Body)
	}
	body := createBody("HCM-PII-1")
	body["citizen_pid"] = cit.PID
	if r := h.Post("/v1/payment-requests", "pr-1", body); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/v1/me", "/v1/me/accounts", "/v1/me/payment-requests"} {
		if r := h.AsCitizen(cit.Token, http.MethodGet, path, "", nil); r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
	}
	if r := h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+a2.ID, "unlink", nil); r.Status != http.StatusOK {
		t.Fatalf("unlink: %d", r.Status)
	}
	var vid string
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT verification_id FROM linked_accounts WHERE id = $1`, a1.ID).Scan(&vid); err != nil {
		t.Fatal(err)
	}
	conflict := h.Callback(b, "", time.Time{}, event("evt_pii_conflict", "account_verification.failed",
		map[string]any{"verification_id": vid, "reason_code": "HOLDER_MISMATCH"}))
	if conflict.Code() != "outcome_conflict" {
		t.Fatalf("conflict: %d %s", conflict.Status, conflict.Body)
	}
	testenv.Eventually(t, 45*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM bank_events WHERE result = 'duplicate'`) >= 1
	}, "the callback after the synchronous answer")

	holds := func(text string) bool {
		for _, s := range secrets {
			if strings.Contains(text, s) || strings.Contains(strings.ToLower(text), hex.EncodeToString([]byte(s))) {
				return true
			}
		}
		return false
	}
	if !holds(`{"x":"`+cit.PID+`"}`) || !holds(`\x`+strings.ToUpper(hex.EncodeToString([]byte(othersAcc.Number)))) {
		t.Fatal("the scan would miss a clear value")
	}
	find := func(where, text string) {
		t.Helper()
		if holds(text) {
			t.Errorf("%s holds a pid or account number in clear", where)
		}
	}
	ctx := context.Background()
	rows, err := h.DB.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	scanned := map[string]int{}
	for _, table := range tables {
		texts, err := pgx.CollectRows(must(h.DB.Pool.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)), pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		scanned[table] = len(texts)
		for _, text := range texts {
			find("table "+table, text)
		}
	}
	for _, table := range []string{"citizens", "linked_accounts", "bank_events", "river_job", "idempotency_records", "payment_requests", "incidents"} {
		if scanned[table] == 0 {
			t.Errorf("table %s was empty: the scan proves nothing there", table)
		}
	}

	keys, err := h.App.Redis.Keys(ctx, h.App.Store.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no Redis keys under the gateway's prefix")
	}
	for _, k := range keys {
		find("Redis key", k)
		switch typ := h.App.Redis.Type(ctx, k).Val(); typ {
		case "string":
			find("Redis value of "+k, h.App.Redis.Get(ctx, k).Val())
		case "hash":
			for f, v := range h.App.Redis.HGetAll(ctx, k).Val() {
				find("Redis hash "+k, f+"="+v)
			}
		default:
			t.Errorf("Redis key %s of unexpected type %s", k, typ)
		}
	}

	logs := h.Logs.String()
	if !strings.Contains(logs, "/v1/me/accounts") {
		t.Fatal("the logs are not captured")
	}
	find("the logs", logs)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
