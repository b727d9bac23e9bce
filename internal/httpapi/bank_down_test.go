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

// TestBankDown: while one bank is down, a link there stays pending and is
// retried, the bank's circuit opens, and a link at another bank and the
// portal API keep working; when the bank comes back, the link completes.
func TestBankDown(t *testing.T) {
	t.Parallel()
	h, idp := apitest.NewWithIdentity(t, withWorkers(), apitest.WithEnv("BANK_BREAKER_COOLDOWN", "1s"),
		apitest.WithEnv("BANK_REQUEST_TIMEOUT", "2s"))
	cit := idp.NewCitizen(t, 2)
	atDown, atUp := apitest.AccountOf(t, cit), apitest.AccountOf(t, cit)
	down := h.NewBank("DOWN", atDown)
	up := h.NewBank("UP", atUp)
	down.Sim.SetKnobs(banksim.Knobs{Down: true})

	pending := link(t, h, cit, "link-down", "DOWN", atDown.Number)
	testenv.Eventually(t, 45*time.Second, func() bool {
		return h.App.BankClients.Open("DOWN")
	}, "the down bank's circuit to open")
	// More attempts than one run of the job makes: it was retried.
	if n := down.Sim.Stats().Dropped; n <= 3 {
		t.Fatalf("the down bank saw %d attempts", n)
	}
	if got := accounts(t, h, cit)[pending.ID]; got.Status != "pending_verification" {
		t.Fatalf("at the down bank: %+v", got)
	}

	// Meanwhile the other bank and the portal API are unaffected.
	other := link(t, h, cit, "link-up", "UP", atUp.Number)
	if got := settled(t, h, cit, other.ID); got.Status != "active" || !got.IsDefault {
		t.Fatalf("at the other bank: %+v", got)
	}
	if h.App.BankClients.Open("UP") {
		t.Fatal("the healthy bank's circuit is open")
	}
	for i := range 5 {
		dossier := "HCM-DOWN-" + string(rune('A'+i))
		if r := h.Post("/v1/payment-requests", "pr-"+dossier, createBody(dossier)); r.Status != http.StatusCreated {
			t.Fatalf("portal API: %d %s", r.Status, r.Body)
		}
	}
	if r := h.Get("/v1/payment-requests?limit=5"); r.Status != http.StatusOK {
		t.Fatalf("portal list: %d %s", r.Status, r.Body)
	}
	// The down bank's circuit half-opens after each cooldown (a wall-clock
	// timer inside the breaker) until its job's next probe fails and opens it
	// again: a scrape may fall between the two, so look until one shows it open.
	const downOpen = `gateway_bank_circuit_state{bank="DOWN"} 2`
	var metrics string
	testenv.Eventually(t, 15*time.Second, func() bool {
		metrics = h.Metrics()
		return strings.Contains(metrics, downOpen)
	}, "/metrics never showed the down bank's circuit open")
	for _, want := range []string{downOpen, `gateway_bank_circuit_state{bank="UP"} 0`,
		`gateway_bank_requests_total{bank="UP",operation="verify_account",outcome="pending"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if got := accounts(t, h, cit)[pending.ID]; got.Status != "pending_verification" {
		t.Fatalf("at the down bank, later: %+v", got)
	}

	down.Sim.SetKnobs(banksim.Knobs{})
	if got := settled(t, h, cit, pending.ID); got.Status != "active" || got.IsDefault {
		t.Fatalf("once the bank is back: %+v", got)
	}
	if up.Sim.Stats().Dropped != 0 {
		t.Fatal("the healthy bank dropped requests")
	}
}
