package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/testenv"
	"github.com/citizenpay/gateway/internal/verify"
)

func TestNoClearPersonalDataInTheDatabase(t *testing.T) {
	t.Parallel()
	tests := []worldCase{
		{"a pid in an event's payload", func(w *world) {
			w.exec(`UPDATE events SET id = 'evt_pid', payload = replace(payload::text, '"079******234"', '"` + testPID + `"')::json
				WHERE type = 'payment_request.paid' AND payload::text LIKE '%"pr_paid"%'`)
		}, []finding{{7, verify.CheckClearPID, "events:evt_pid"}}},
		{"a pid in a job's arguments", func(w *world) {
			w.exec(`INSERT INTO river_job (id, args, kind) VALUES (900, $1, 'dispatch_debit')`, `{"holder_pid":"`+testPID+`"}`)
		}, []finding{{7, verify.CheckClearPID, "river_job:900"}}},
		{"a pid in an incident's evidence", func(w *world) {
			w.exec(`UPDATE incidents SET evidence = $1 WHERE id = 'inc_1'`, `{"body":"{\"holder_pid\":\"`+testPID+`\"}"}`)
		}, []finding{{7, verify.CheckClearPID, "incidents:inc_1"}}},
		{"a pid in a stored response body", func(w *world) {
			w.exec(`UPDATE idempotency_records SET response_body = $1`, []byte(`{"citizen_pid":"`+testPID+`"}`))
		}, []finding{{7, verify.CheckClearPID, "idempotency_records:ptl_a/key-1"}}},
		{"a pid in a bank event's body", func(w *world) {
			w.exec(`UPDATE bank_events SET body = $1 WHERE event_id = 'be_3'`, `{"data":{"note":"holder `+testPID+`"}}`)
		}, []finding{{7, verify.CheckClearPID, "bank_events:VCB/be_3"}}},
		{"a known account number in a bank event's body", func(w *world) {
			w.exec(`UPDATE bank_events SET body = $1 WHERE event_id = 'be_2'`, `{"data":{"note":"0071 000 123456"}}`)
		}, []finding{{7, verify.CheckClearAccount, "bank_events:VCB/be_2"}}},
		{"an account number unknown but in an account field", func(w *world) {
			w.exec(`INSERT INTO river_job (id, args, kind) VALUES (901, '{"account_number":"9704 1234 5678"}', 'verify_account')`)
		}, []finding{{7, verify.CheckAccountLikeDigit, "river_job:901"}}},
		{"a mask that shows the whole number", func(w *world) {
			w.exec(`UPDATE linked_accounts SET account_masked = '55501234567'`)
		}, []finding{{7, verify.CheckAccountLikeDigit, "linked_accounts:acc_1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t).clean()
			tt.build(w)
			rep := w.check(verify.Options{KnownAccountNumbers: []string{testAccount}})
			wantExactly(t, rep, tt.want...)
			if d := details(rep); strings.Contains(d, testPID) || strings.Contains(d, testAccount) {
				t.Errorf("the report repeats what it found:\n%s", d)
			}
		})
	}
}

func TestNoClearPersonalDataInLogsAndRedis(t *testing.T) {
	t.Parallel()
	w := setup(t).clean()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "gateway.log")
	lines := []string{
		`{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"paid","request":"pr_paid","amount":"75000"}`,
		`{"time":"2026-01-01T00:00:01Z","level":"INFO","msg":"debit sent","holder":"` + testPID + `"}`,
		`time=2026-01-01T00:00:02Z level=INFO msg="linking" account_number="9704 1234 5678"`,
		`time=2026-01-01T00:00:03Z level=INFO msg="sent" account_id=acc_01jf9x8q2y3z4a5b6c7d8e9f0g`,
		`time=2026-01-01T00:00:04Z level=WARN msg="bank said 0071000123456 is closed"`,
	}
	if err := os.WriteFile(logFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rdb, prefix := testenv.NewRedis(t)
	ctx := context.Background()
	rdb.Set(ctx, prefix+"idem:ptl_a:key-1", `{"status":201,"body":{"citizen_pid_masked":"079******234"}}`, time.Hour)
	rdb.Set(ctx, prefix+"idem:ptl_a:key-2", `{"status":201,"body":"{\"citizen_pid\":\"`+testPID+`\"}"}`, time.Hour)
	rdb.HSet(ctx, prefix+"dedupe:VCB", "be_1", "1")
	rdb.Set(ctx, "other:"+testPID, "not ours", time.Hour) // outside the prefix
	t.Cleanup(func() { rdb.Del(context.Background(), "other:"+testPID) })

	rep := w.check(verify.Options{
		KnownAccountNumbers: []string{testAccount},
		LogFiles:            []string{logFile},
		Redis:               rdb,
		RedisPrefix:         prefix,
	})
	wantExactly(t, rep,
		finding{7, verify.CheckClearPID, logFile + ":2"},
		finding{7, verify.CheckAccountLikeDigit, logFile + ":3"},
		finding{7, verify.CheckClearAccount, logFile + ":5"},
		finding{7, verify.CheckClearPID, "redis:" + prefix + "idem:ptl_a:key-2"},
	)
	if got := rep.Invariants[verify.InvNoClearPII-1].Scanned; got["log_lines"] != 5 || got["redis_keys"] != 3 {
		t.Errorf("scanned %v", got)
	}
	if d := details(rep); strings.Contains(d, testPID) || strings.Contains(d, testAccount) {
		t.Errorf("the report repeats what it found:\n%s", d)
	}
}

func TestAReportNeverShowsWhatItFound(t *testing.T) {
	t.Parallel()
	w := setup(t).clean()
	// An idempotency key that is itself a pid names the row it is in.
	w.exec(`INSERT INTO idempotency_records (scope, key, fingerprint) VALUES ('ptl_a', $1, '\x00')`, testPID)
	w.exec(`INSERT INTO incidents (id, kind, summary) VALUES ('inc_2', 'not_found', $1)`, "account "+testAccount+" unknown")
	rep := w.check(verify.Options{KnownAccountNumbers: []string{testAccount}})
	wantExactly(t, rep,
		finding{7, verify.CheckClearPID, "idempotency_records:ptl_a/079******234"},
		finding{7, verify.CheckClearAccount, "incidents:inc_2"},
	)
	if len(rep.OpenIncidents) != 2 || strings.Contains(rep.OpenIncidents[1].Summary, testAccount) {
		t.Errorf("open incidents = %+v", rep.OpenIncidents)
	}
	if d := dump(rep); strings.Contains(d, testPID) || strings.Contains(d, testAccount) {
		t.Errorf("the report repeats what it found:\n%s", d)
	}
}

func TestMaxFindings(t *testing.T) {
	t.Parallel()
	w := setup(t).clean()
	w.exec(`DELETE FROM events WHERE type = 'payment_request.created'`)
	rep := w.check(verify.Options{MaxFindings: 2})
	r := rep.Invariants[verify.InvEvents-1]
	if r.OK || rep.OK || len(r.Violations) != 2 || r.Omitted != 7 {
		t.Errorf("ok %v, %d listed, %d omitted; want 2 listed and 7 omitted", r.OK, len(r.Violations), r.Omitted)
	}
}
