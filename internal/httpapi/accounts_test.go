package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/testenv"
)

// linked is a linked account as the citizen API shows it.
type linked struct {
	ID                  string  `json:"id"`
	Object              string  `json:"object"`
	BankCode            string  `json:"bank_code"`
	AccountNumberMasked string  `json:"account_number_masked"`
	Status              string  `json:"status"`
	IsDefault           bool    `json:"is_default"`
	RejectionReason     *string `json:"rejection_reason"`
}

type linkedList struct {
	Data       []linked `json:"data"`
	NextCursor *string  `json:"next_cursor"`
}

func linkBody(bankCode, number string) map[string]string {
	return map[string]string{"bank_code": bankCode, "account_number": number}
}

// link posts a link and expects 202 pending_verification.
func link(t *testing.T, h *apitest.Harness, c *apitest.Citizen, key, bankCode, number string) linked {
	t.Helper()
	r := h.AsCitizen(c.Token, http.MethodPost, "/v1/me/accounts", key, linkBody(bankCode, number))
	if r.Status != http.StatusAccepted {
		t.Fatalf("link: %d %s", r.Status, r.Body)
	}
	var a linked
	r.JSON(t, &a)
	if a.Status != "pending_verification" || a.BankCode != bankCode || a.Object != "linked_account" {
		t.Fatalf("link: %+v", a)
	}
	return a
}

func accounts(t *testing.T, h *apitest.Harness, c *apitest.Citizen) map[string]linked {
	t.Helper()
	r := h.AsCitizen(c.Token, http.MethodGet, "/v1/me/accounts?limit=100", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var l linkedList
	r.JSON(t, &l)
	out := map[string]linked{}
	for _, a := range l.Data {
		out[a.ID] = a
	}
	return out
}

// settled waits until the account leaves pending_verification and returns it.
func settled(t *testing.T, h *apitest.Harness, c *apitest.Citizen, id string) linked {
	t.Helper()
	var a linked
	testenv.Eventually(t, 45*time.Second, func() bool {
		a = accounts(t, h, c)[id]
		return a.Status != "pending_verification"
	}, "account "+id+" still pending")
	return a
}

func withWorkers() apitest.Option { return apitest.WithEnv("GATEWAY_WORKERS", "true") }

// noCitizenRateLimit lifts the per-citizen rate limit, for tests that make
// one citizen link or pay more than a person would (citizen_limits_test.go
// tests the limit).
func noCitizenRateLimit() apitest.Option { return apitest.WithEnv("RATE_LIMIT_CITIZEN_RPS", "0") }

// TestLinkFlowThroughSandboxBank links accounts at a sandbox bank over real
// HTTP: by callback after a 202, and by the bank's synchronous answer (with
// a later callback that must be a duplicate); then defaults and unlinks.
func TestLinkFlowThroughSandboxBank(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	cit := idp.NewCitizen(t, 2)
	first, second := apitest.AccountOf(t, cit), apitest.AccountOf(t, cit)
	b := h.NewBank("SBX", first, second)

	spaced := first.Number[:4] + " " + first.Number[4:8] + "-" + first.Number[8:]
	a := link(t, h, cit, "link-1", "SBX", spaced)
	if a.AccountNumberMasked != "******"+first.Number[len(first.Number)-4:] || a.IsDefault || a.RejectionReason != nil {
		t.Fatalf("pending account: %+v", a)
	}
	replay := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-1", linkBody("SBX", spaced))
	if replay.Status != http.StatusAccepted || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v", replay.Status, replay.Header)
	}
	got := settled(t, h, cit, a.ID)
	if got.Status != "active" || !got.IsDefault {
		t.Fatalf("after the callback: %+v", got)
	}
	if n := h.Count(`SELECT count(*) FROM bank_events WHERE bank_code = 'SBX' AND type = 'account_verification.succeeded' AND result = 'applied'`); n != 1 {
		t.Fatalf("%d applied callbacks", n)
	}

	// The same number again: the account it already is.
	again := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-again", linkBody("SBX", first.Number))
	var same linked
	again.JSON(t, &same)
	if again.Status != http.StatusAccepted || same.ID != a.ID || same.Status != "active" {
		t.Fatalf("linking an active number again: %d %s", again.Status, again.Body)
	}

	// The callback follows the synchronous answer a second later, so it is the duplicate.
	b.Sim.SetKnobs(banksim.Knobs{Sync: true, AlsoCallBackAfterSync: true, CallbackDelay: time.Second})
	a2 := link(t, h, cit, "link-2", "SBX", second.Number)
	got2 := settled(t, h, cit, a2.ID)
	if got2.Status != "active" || got2.IsDefault {
		t.Fatalf("second account: %+v", got2)
	}
	testenv.Eventually(t, 30*time.Second, func() bool {
		return h.Count(`SELECT count(*) FROM bank_events WHERE result = 'duplicate'`) == 1
	}, "the callback after the synchronous answer")

	r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts/"+a2.ID+"/default", "default-2", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"is_default":true`) {
		t.Fatalf("default: %d %s", r.Status, r.Body)
	}
	all := accounts(t, h, cit)
	if all[a.ID].IsDefault || !all[a2.ID].IsDefault {
		t.Fatalf("defaults: %+v", all)
	}
	r = h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+a2.ID, "unlink-2", nil)
	var un linked
	r.JSON(t, &un)
	if r.Status != http.StatusOK || un.Status != "unlinked" || un.IsDefault {
		t.Fatalf("unlink: %d %s", r.Status, r.Body)
	}
	all = accounts(t, h, cit)
	if all[a.ID].IsDefault || all[a2.ID].IsDefault {
		t.Fatalf("unlinking the default leaves none: %+v", all)
	}
	// Unlinking again returns it as it is; a rejected or unknown account is refused.
	if r := h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+a2.ID, "unlink-2b", nil); r.Status != http.StatusOK {
		t.Fatalf("unlink again: %d %s", r.Status, r.Body)
	}
	if r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts/"+a2.ID+"/default", "default-unlinked", nil); r.Code() != "account_not_active" {
		t.Fatalf("default of an unlinked account: %d %s", r.Status, r.Body)
	}
	if b.Sim.Stats().Received["account_verification"] != 2 {
		t.Fatalf("the bank got %v", b.Sim.Stats().Received)
	}
}

func TestHolderMismatchIsRejected(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	owner, other := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, owner)
	h.NewBank("SBX", acc)
	a := link(t, h, other, "link-1", "SBX", acc.Number)
	got := settled(t, h, other, a.ID)
	// The citizen sees not_verified, never the bank's HOLDER_MISMATCH.
	if got.Status != "rejected" || got.RejectionReason == nil || *got.RejectionReason != "not_verified" || got.IsDefault {
		t.Fatalf("someone else's account: %+v", got)
	}
	if r := h.AsCitizen(other.Token, http.MethodDelete, "/v1/me/accounts/"+a.ID, "unlink", nil); r.Code() != "invalid_state" {
		t.Fatalf("unlink a rejected account: %d %s", r.Status, r.Body)
	}
	// The owner is not hindered by the other's rejected attempt.
	mine := link(t, h, owner, "link-owner", "SBX", acc.Number)
	if got := settled(t, h, owner, mine.ID); got.Status != "active" {
		t.Fatalf("the owner's link: %+v", got)
	}
}

func TestAccountTaken(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	owner, other := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, owner)
	h.NewBank("SBX", acc)
	a := link(t, h, owner, "link-1", "SBX", acc.Number)
	if got := settled(t, h, owner, a.ID); got.Status != "active" {
		t.Fatalf("owner: %+v", got)
	}
	r := h.AsCitizen(other.Token, http.MethodPost, "/v1/me/accounts", "take", linkBody("SBX", acc.Number))
	if r.Status != http.StatusConflict || r.Code() != "account_taken" {
		t.Fatalf("another citizen: %d %s", r.Status, r.Body)
	}
	// A refusal decided on state is stored under its key and replayed.
	again := h.AsCitizen(other.Token, http.MethodPost, "/v1/me/accounts", "take", linkBody("SBX", acc.Number))
	if again.Status != http.StatusConflict || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v", again.Status, again.Header)
	}
	if n := h.Count(`SELECT count(*) FROM linked_accounts`); n != 1 {
		t.Fatalf("%d accounts", n)
	}
}

// TestAccountTakenAtActivation: two citizens link the same number while the
// bank takes its time; when the bank confirms both, the second activation
// finds the number taken and is rejected with account_taken.
func TestAccountTakenAtActivation(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	one, two := idp.NewCitizen(t, 2), idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, one)
	b := h.NewBank("SBX", acc)
	b.Sim.SetKnobs(banksim.Knobs{CallbackDelay: time.Hour})
	a1 := link(t, h, one, "link-1", "SBX", acc.Number)
	a2 := link(t, h, two, "link-2", "SBX", acc.Number)
	vid := func(accID string) string {
		var v string
		testenv.Eventually(t, 45*time.Second, func() bool {
			return h.DB.Pool.QueryRow(t.Context(), `SELECT verification_id FROM linked_accounts WHERE id = $1
				AND verification_sent_at IS NOT NULL`, accID).Scan(&v) == nil
		}, "verification of "+accID+" sent")
		return v
	}
	for i, accID := range []string{a1.ID, a2.ID} {
		r := h.Callback(b, "", time.Time{}, map[string]any{"event_id": "evt_taken_" + accID, "type": "account_verification.succeeded",
			"occurred_at": time.Now().UTC().Format(time.RFC3339), "data": map[string]string{"verification_id": vid(accID)}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "applied") {
			t.Fatalf("callback %d: %d %s", i, r.Status, r.Body)
		}
	}
	if got := accounts(t, h, one)[a1.ID]; got.Status != "active" || !got.IsDefault {
		t.Fatalf("first: %+v", got)
	}
	got := accounts(t, h, two)[a2.ID]
	if got.Status != "rejected" || got.RejectionReason == nil || *got.RejectionReason != "account_taken" {
		t.Fatalf("second: %+v", got)
	}
}

func TestAccountLimit(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers(), noCitizenRateLimit())
	cit := idp.NewCitizen(t, 2)
	var held []banksim.Account
	for range 11 {
		held = append(held, apitest.AccountOf(t, cit))
	}
	b := h.NewBank("SBX", held...)
	b.Sim.SetKnobs(banksim.Knobs{Sync: true})
	var ids []string
	for i := range 10 {
		ids = append(ids, link(t, h, cit, "link-"+held[i].Number, "SBX", held[i].Number).ID)
	}
	for _, id := range ids {
		if got := settled(t, h, cit, id); got.Status != "active" {
			t.Fatalf("%s: %+v", id, got)
		}
	}
	r := h.AsCitizen(cit.Token, http.MethodPost, "/v1/me/accounts", "link-eleventh", linkBody("SBX", held[10].Number))
	if r.Status != http.StatusConflict || r.Code() != "account_limit" {
		t.Fatalf("the eleventh: %d %s", r.Status, r.Body)
	}
	// Paging through them.
	page := h.AsCitizen(cit.Token, http.MethodGet, "/v1/me/accounts?limit=4", "", nil)
	var l linkedList
	page.JSON(t, &l)
	if len(l.Data) != 4 || l.NextCursor == nil || l.Data[0].ID != ids[9] {
		t.Fatalf("first page: %s", page.Body)
	}
	next := h.AsCitizen(cit.Token, http.MethodGet, "/v1/me/accounts?limit=100&cursor="+*l.NextCursor, "", nil)
	var rest linkedList
	next.JSON(t, &rest)
	if len(rest.Data) != 6 || rest.NextCursor != nil || rest.Data[0].ID != ids[5] {
		t.Fatalf("second page: %s", next.Body)
	}
	// Unlinking one makes room.
	if r := h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+ids[0], "unlink-0", nil); r.Status != http.StatusOK {
		t.Fatalf("unlink: %d %s", r.Status, r.Body)
	}
	link(t, h, cit, "link-eleventh-again", "SBX", held[10].Number)
}

func TestUnlinkWhileADebitIsPending(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers())
	cit := idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, cit)
	h.NewBank("SBX", acc)
	a := link(t, h, cit, "link-1", "SBX", acc.Number)
	settled(t, h, cit, a.ID)
	pr := h.Post("/v1/payment-requests", "pr-1", createBody("HCM-BUSY-1"))
	if pr.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", pr.Status, pr.Body)
	}
	prID := pr.Map(t)["id"].(string)
	if _, err := h.DB.Pool.Exec(t.Context(), `INSERT INTO payment_attempts (id, payment_request_id, account_id, bank_code, amount, currency, status)
		VALUES ('pa_busy', $1, $2, 'SBX', 75000, 'VND', 'pending')`, prID, a.ID); err != nil {
		t.Fatal(err)
	}
	r := h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+a.ID, "unlink-1", nil)
	if r.Status != http.StatusConflict || r.Code() != "account_busy" {
		t.Fatalf("unlink while busy: %d %s", r.Status, r.Body)
	}
	if _, err := h.DB.Pool.Exec(t.Context(), `UPDATE payment_attempts SET status = 'failed' WHERE id = 'pa_busy'`); err != nil {
		t.Fatal(err)
	}
	if r := h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+a.ID, "unlink-1", nil); r.Code() != "account_busy" {
		t.Fatalf("the stored refusal is replayed under its key: %d %s", r.Status, r.Body)
	}
	if r := h.AsCitizen(cit.Token, http.MethodDelete, "/v1/me/accounts/"+a.ID, "unlink-2", nil); r.Status != http.StatusOK {
		t.Fatalf("unlink once the debit ended: %d %s", r.Status, r.Body)
	}
}

func TestVerificationTimesOut(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers(), apitest.WithEnv("ACCOUNT_VERIFICATION_TIMEOUT", "1s"))
	cit := idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, cit)
	b := h.NewBank("SBX", acc)
	b.Sim.SetKnobs(banksim.Knobs{CallbackDelay: time.Hour})
	a := link(t, h, cit, "link-1", "SBX", acc.Number)
	got := settled(t, h, cit, a.ID)
	if got.Status != "rejected" || got.RejectionReason == nil || *got.RejectionReason != "bank_timeout" {
		t.Fatalf("after the timeout: %+v", got)
	}
	var vid string
	if err := h.DB.Pool.QueryRow(t.Context(), `SELECT verification_id FROM linked_accounts WHERE id = $1`, a.ID).Scan(&vid); err != nil {
		t.Fatal(err)
	}
	late := func(eventID, typ string) *apitest.Response {
		return h.Callback(b, "", time.Time{}, map[string]any{"event_id": eventID, "type": typ,
			"occurred_at": time.Now().UTC().Format(time.RFC3339), "data": map[string]string{"verification_id": vid}})
	}
	// A late success contradicts the rejection already announced.
	if r := late("evt_late_1", "account_verification.succeeded"); r.Status != http.StatusConflict || r.Code() != "outcome_conflict" {
		t.Fatalf("late success: %d %s", r.Status, r.Body)
	}
	if n := h.Count(`SELECT count(*) FROM incidents WHERE kind = 'outcome_conflict' AND object_id = $1`, vid); n != 1 {
		t.Fatalf("%d incidents", n)
	}
	// A late failure agrees with it.
	if r := late("evt_late_2", "account_verification.failed"); r.Status != http.StatusOK {
		t.Fatalf("late failure: %d %s", r.Status, r.Body)
	}
	if got := accounts(t, h, cit)[a.ID]; got.Status != "rejected" || *got.RejectionReason != "bank_timeout" {
		t.Fatalf("the late answers changed it: %+v", got)
	}
}

// TestVerificationWithoutCallback: the bank accepts (202) and never calls
// back; from BANK_CALLBACK_TIMEOUT on, the gateway asks again with the same
// key and applies the outcome the bank reports.
func TestVerificationWithoutCallback(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers(), apitest.WithEnv("BANK_CALLBACK_TIMEOUT", "500ms"))
	cit := idp.NewCitizen(t, 2)
	acc := apitest.AccountOf(t, cit)
	b := h.NewBank("SBX", acc)
	b.Sim.SetKnobs(banksim.Knobs{NeverCallBack: true})
	a := link(t, h, cit, "link-1", "SBX", acc.Number)
	if got := settled(t, h, cit, a.ID); got.Status != "active" {
		t.Fatalf("%+v", got)
	}
	st := b.Sim.Stats()
	if st.Received["account_verification"] != 1 || st.Replays < 1 || st.CallbacksSent != 0 {
		t.Fatalf("the bank saw %+v", st)
	}
	if n := h.Count(`SELECT count(*) FROM bank_events`); n != 0 {
		t.Fatalf("%d callbacks", n)
	}
}
