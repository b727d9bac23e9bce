// Command demo walks the gateway's whole story against the services `make
// run` started: a portal issues a fee, a citizen signs in, links the account
// the sandbox bank holds for them and pays, the bank clears the debit, the
// webhook reaches `gatewayctl listen`, the portal refunds part of the fee,
// `gatewayctl verify` finds every invariant holding, `gatewayctl reconcile`
// matches the day with the bank's statement, and the portal reads the
// day's settlement, which must hold what the story paid and refunded. It
// prints each step with what was sent and received; personal data only
// masked.
//
// Run it from the repository root with `make demo`.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/citizenpay/gateway/internal/devenv"
	"github.com/citizenpay/gateway/internal/reconcile"
)

// The citizen of the story: the sandbox bank holds account demoAccount for
// this pid (cmd/devstack, sandboxAccounts), and devidp mints their token.
const (
	demoPID       = "079203001234"
	demoName      = "Nguyen Van An"
	demoBirthdate = "2003-05-17"
	demoAccount   = "0071000123456"
	// otherAccount belongs to someone else at the same bank; it is only
	// given to `gatewayctl verify` to look for in clear.
	otherAccount = "0071000999999"
)

// config says where `make run` put everything.
type config struct {
	gateway     string // the gateway's base URL
	idp         string // devidp
	bank        string // banksim's root (its admin routes)
	webhookPort int    // gatewayctl listen's, on 127.0.0.1
	portalFile  string
	bankFile    string
	webhooksLog string // gatewayctl listen's output
	gatewayctl  string
	timeout     time.Duration // for each wait
}

// defaults finds the stack as `make run` set it up, from the variables it
// reads too (internal/devenv); GATEWAY_URL, if set, is the gateway's URL.
func defaults(getenv func(string) string) (config, error) {
	st, err := devenv.Load(getenv)
	if err != nil {
		return config{}, err
	}
	c := config{
		gateway: st.GatewayURL(), idp: st.IDPURL(), bank: st.BankURL(), webhookPort: st.WebhookPort,
		portalFile: devenv.PortalFile, bankFile: devenv.BankFile, webhooksLog: devenv.WebhooksLog,
		gatewayctl: "bin/gatewayctl", timeout: 2 * time.Minute,
	}
	if u := getenv("GATEWAY_URL"); u != "" {
		c.gateway = strings.TrimRight(u, "/")
	}
	return c, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cfg, err := defaults(os.Getenv)
	if err == nil {
		err = run(ctx, cfg, os.Stdout)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo: "+err.Error())
		os.Exit(1)
	}
}

// story is one run of the demo.
type story struct {
	cfg    config
	out    io.Writer
	c      *caller
	step   int
	bank   string // the sandbox bank's code
	prID   string
	accID  string
	refund string
	// What this run paid and refunded, for the day's settlement to show.
	debit        string // the debit's id (pa_…)
	paidAt       time.Time
	paidAmount   string
	refundAmount string
	day          reconcile.Day   // the business day of the payment
	balance      string          // the account's balance before paying
	shown        map[string]bool // webhooks already printed, by id
}

func (s *story) title(text string) {
	s.step++
	fmt.Fprintf(s.out, "\n%d. %s\n", s.step, text)
}
func (s *story) sent(format string, args ...any) {
	fmt.Fprintf(s.out, "   → "+format+"\n", args...)
}
func (s *story) got(format string, args ...any) {
	fmt.Fprintf(s.out, "   ← "+format+"\n", args...)
}
func (s *story) say(text string) { fmt.Fprintf(s.out, "     %s\n", text) }

func run(ctx context.Context, cfg config, out io.Writer) error {
	s := &story{cfg: cfg, out: out}
	if err := s.ready(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{
		s.issueFee, s.signIn, s.linkAccount, s.listRequests, s.pay, s.cleared, s.receipt, s.webhook,
		s.partialRefund, s.refunded, s.verify, s.reconcileDay, s.settlement,
	} {
		if err := step(ctx); err != nil {
			return fmt.Errorf("step %d: %w", s.step, err)
		}
	}
	fmt.Fprintf(out, "\nThe whole story held: fee %s was issued, paid, cleared by bank %s, reported to the portal, "+
		"refunded in part, every invariant holds, and the day reconciles to the settlement of %s.\n", s.prID, s.bank, s.day)
	return nil
}

// ready checks that `make run` is up and reads the credentials it wrote.
func (s *story) ready(ctx context.Context) error {
	probe := &http.Client{Timeout: 3 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.gateway+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := probe.Do(req)
	if err != nil {
		return fmt.Errorf("no gateway answers at %s/readyz: start `make run` first (in another terminal), "+
			"and give `make demo` the same GATEWAY_ADDR, DEV_IDP_ADDR, DEV_BANK_ADDR and DEV_WEBHOOK_PORT", s.cfg.gateway)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the gateway at %s is not ready (%d %s): start `make run` first, or wait for it",
			s.cfg.gateway, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var portal portalCredentials
	if err := readJSONFile(s.cfg.portalFile, &portal); err != nil {
		return err
	}
	if portal.KeyID == "" || portal.Secret == "" {
		return fmt.Errorf("%s holds no key_id and secret", s.cfg.portalFile)
	}
	var bank struct {
		BankCode string `json:"bank_code"`
	}
	if err := readJSONFile(s.cfg.bankFile, &bank); err != nil {
		return err
	}
	if bank.BankCode == "" {
		return fmt.Errorf("%s holds no bank_code", s.cfg.bankFile)
	}
	if _, err := os.Stat(s.cfg.gatewayctl); err != nil {
		return fmt.Errorf("%s is missing: `make run` builds it", s.cfg.gatewayctl)
	}
	s.bank = bank.BankCode
	s.c = newCaller(s.cfg.gateway, portal)
	fmt.Fprintf(s.out, "The gateway at %s is ready: %s\n", s.cfg.gateway, strings.TrimSpace(string(body)))
	fmt.Fprintf(s.out, "Portal %s (key %s, %s), sandbox bank %s (%s), identity provider %s.\n",
		portal.PortalID, portal.KeyID, s.cfg.portalFile, s.bank, s.cfg.bank, s.cfg.idp)
	s.warnKnobs(ctx)
	return nil
}

// warnKnobs says when the sandbox bank was left playing faults, which would
// slow the story down or stop it.
func (s *story) warnKnobs(ctx context.Context) {
	var k struct {
		Down          bool    `json:"down"`
		Reject        string  `json:"reject"`
		NeverCallBack bool    `json:"never_call_back"`
		FailureRate   float64 `json:"failure_rate"`
		Latency       string  `json:"latency"`
	}
	r, err := s.c.plain(ctx, http.MethodGet, s.cfg.bank+"/_sim/knobs", nil)
	if expect(r, err, http.StatusOK, &k) != nil {
		fmt.Fprintf(s.out, "Warning: the sandbox bank's knobs at %s/_sim/knobs do not answer.\n", s.cfg.bank)
		return
	}
	if k.Down || k.Reject != "" || k.NeverCallBack || k.FailureRate > 0 {
		fmt.Fprintf(s.out, "Warning: the sandbox bank plays faults (%s): reset them with\n"+
			"  curl -d '{\"down\":false,\"reject\":\"\",\"never_call_back\":false,\"failure_rate\":0}' %s/_sim/knobs\n",
			strings.TrimSpace(string(r.Body)), s.cfg.bank)
	}
}

// paymentRequest is the part of a payment request the demo shows.
