// Package browsertest runs the hosted checkout (PROTOCOL.md §10) the way a
// citizen meets it: a real gateway on a real listener, the development
// identity provider (devidp) as its OpenID Connect provider, the sandbox bank
// holding the citizens' accounts, a portal that sends the citizen and takes
// them back, and headless Chromium driven by chromedp in between.
//
// Stack builds the servers, Browser the browser. Nothing here is a mock: the
// gateway is the one apitest builds (real PostgreSQL, real Redis, its
// workers running so that debits go out and callbacks come back), devidp and
// the sandbox bank are the project's own, in-process.
//
// Decisions:
//   - The gateway listens before it is built (apitest.WithListener), since its
//     public URL, GATEWAY_PUBLIC_URL, is also the base of devidp's redirect URI
//     and of checkout_url; the browser goes to exactly that URL.
//   - Every server listens on 127.0.0.1, a distinct port each: a browser keeps
//     cookies per host, not per port, so the gateway's cookie names are what
//     keeps them apart, as they would on one machine in development.
//   - devidp offers the payer first, someone else second, and the payer
//     again at level of assurance 1 third (Citizen* constants); the fees a
//     test creates are addressed to the payer.
//   - One clock for the gateway and devidp (a testenv.Clock): a test moves it
//     past an expiry instead of waiting, and the provider's tokens stay in
//     step with the gateway's idea of now.
package browsertest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/citizenpay/gateway/internal/apitest"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/id"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
	"github.com/citizenpay/gateway/internal/portal"
	"github.com/citizenpay/gateway/internal/testenv"
)

// The citizens devidp offers, by their place on its sign-in page.
const (
	CitizenPayer     = 0 // the fees' citizen, level of assurance 2
	CitizenOther     = 1 // someone else, level 2
	CitizenPayerLOA1 = 2 // the fees' citizen signed in at level 1
)

// The checkout's client at devidp, and the sandbox bank's code.
const (
	ClientID     = "citizenpay-checkout"
	clientSecret = "browsertest-client-secret-0123456789"
	BankCode     = "SBX"
)

// Stack is a running checkout for one test.
type Stack struct {
	T testing.TB
	// H is the gateway, built by apitest on the listener of URL.
	H *apitest.Harness
	// URL is the gateway's public URL (GATEWAY_PUBLIC_URL): the browser goes
	// there, and checkout_url starts with it.
	URL string
	// Clock is the gateway's and devidp's clock.
	Clock *testenv.Clock
	// IDP is devidp, the checkout's OpenID Connect provider.
	IDP *IDP
	// Bank is the sandbox bank; its knobs fail or delay what it does.
	Bank *apitest.Bank
	// Portal is the portal's web site: the return URL points there.
	Portal *PortalSite
	// Payer is devidp's first citizen, to whom fees are addressed; the bank
	// holds PayerAccounts for them.
	Payer         *apitest.Citizen
	PayerAccounts []banksim.Account
	// Other is devidp's second citizen, who owes nothing here; the bank holds
	// OtherAccount for them.
	Other        *apitest.Citizen
	OtherAccount banksim.Account
}

// Option changes how the stack's gateway is built.
type Option = apitest.Option

// New starts the stack: devidp, the portal's site, the gateway with its
// workers, and the sandbox bank onboarded into it.
func New(t testing.TB, opts ...Option) *Stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	s := &Stack{T: t, URL: "http://" + ln.Addr().String(), Clock: testenv.NewClock()}
	s.Payer = newCitizen(t, "079203", "2003-05-17", "Nguyễn Văn An")
	s.Other = newCitizen(t, "001303", "2003-09-02", "Trần Thị Bình")
	s.IDP = startIDP(t, s.URL+"/auth/callback", s.Clock.Now,
		devissuer.Citizen{PID: s.Payer.PID, Name: s.Payer.Name, Birthdate: s.Payer.Birthdate, LOA: 2,
			Note: "holds accounts at " + BankCode},
		devissuer.Citizen{PID: s.Other.PID, Name: s.Other.Name, Birthdate: s.Other.Birthdate, LOA: 2,
			Note: "owes nothing here"},
		devissuer.Citizen{PID: s.Payer.PID, Name: s.Payer.Name, Birthdate: s.Payer.Birthdate, LOA: 1,
			Note: "the payer, at level of assurance 1"},
	)
	for _, c := range []*apitest.Citizen{s.Payer, s.Other} {
		c.Token, err = s.IDP.Issuer.Mint(devissuer.Claims{PID: c.PID, Name: c.Name, Birthdate: c.Birthdate, LOA: c.LOA})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Portal = startPortalSite(t)

	base := []Option{
		apitest.WithListener(ln),
		apitest.WithClock(s.Clock),
		apitest.WithEnv("GATEWAY_PUBLIC_URL", s.URL),
		apitest.WithEnv("GATEWAY_WORKERS", "true"),
		apitest.WithEnv("IDP_ISSUER", s.IDP.Issuer.Issuer()),
		apitest.WithEnv("IDP_AUDIENCE", devissuer.DefaultAudience),
		apitest.WithEnv("IDP_JWKS_URL", s.IDP.Server.URL+"/.well-known/jwks.json"),
		apitest.WithEnv("IDP_CLIENT_ID", ClientID),
		apitest.WithEnv("IDP_CLIENT_SECRET", clientSecret),
	}
	s.H = apitest.New(t, append(base, opts...)...)
	s.allowReturnTo(s.Portal.URL())

	s.PayerAccounts = []banksim.Account{apitest.AccountOf(t, s.Payer), apitest.AccountOf(t, s.Payer)}
	s.OtherAccount = apitest.AccountOf(t, s.Other)
	s.Bank = s.H.NewBank(BankCode, append(append([]banksim.Account(nil), s.PayerAccounts...), s.OtherAccount)...)
	return s
}

// newCitizen is a citizen with a random valid pid: prefix is the province,
// century-and-sex digit and year digits, matching birthdate.
func newCitizen(t testing.TB, prefix, birthdate, name string) *apitest.Citizen {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return &apitest.Citizen{PID: fmt.Sprintf("%s%06d", prefix, n.Int64()), Name: name, Birthdate: birthdate, LOA: 2}
}

// IDP is devidp serving the checkout's client in-process.
type IDP struct {
	Issuer   *devissuer.Issuer
	Provider *devissuer.Provider
	Server   *httptest.Server
}

// startIDP starts devidp with the checkout's client, redirect URI
// redirectURI, offering citizens in order.
func startIDP(t testing.TB, redirectURI string, now func() time.Time, citizens ...devissuer.Citizen) *IDP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	iss, err := devissuer.Generate("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := devissuer.NewProvider(iss, devissuer.ProviderConfig{
		Clients:  []devissuer.Client{{ID: ClientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}}},
		Citizens: citizens,
		Now:      now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = p.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &IDP{Issuer: iss, Provider: p, Server: srv}
}

// PortalSite is the portal's web site: where the checkout sends the citizen
// back. It shows a page of its own and records each visit.
type PortalSite struct {
	Server *httptest.Server
	mu     sync.Mutex
	visits []url.URL
}

// portalReturnPath is the page of the portal the return URL names, with a
// query of the portal's own that the way back must keep.
const portalReturnPath = "/ho-so/tra-cuu?tab=le-phi&ref=a%2Fb"

func startPortalSite(t testing.TB) *PortalSite {
	t.Helper()
	p := &PortalSite{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		p.mu.Lock()
		p.visits = append(p.visits, *r.URL)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		_, _ = fmt.Fprintf(w, `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng dịch vụ công</title></head>`+
			`<body><main id="main" data-page="portal"><h1>Cổng dịch vụ công (thử nghiệm)</h1><p id="query">%s</p></main></body></html>`,
			html.EscapeString(r.URL.RawQuery))
	}))
	t.Cleanup(p.Server.Close)
	return p
}

// URL is the site's origin.
func (p *PortalSite) URL() string { return p.Server.URL }

// ReturnURL is the return URL a fee names: a page of the site with a query
// of its own.
func (p *PortalSite) ReturnURL() string { return p.Server.URL + portalReturnPath }

// Visits returns the URLs the site was asked for, in order.
func (p *PortalSite) Visits() []url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.URL(nil), p.visits...)
}

// Fee is a payment request the portal created.
type Fee struct {
	ID          string
	CheckoutURL string
	ReturnURL   string
	Amount      string
	// AmountInWords is how the receipt reads Amount (PROTOCOL.md §11).
	AmountInWords string
	DossierCode   string
}

// FeeOption changes the body of a fee before it is created.
type FeeOption func(body map[string]any)

// ExpiresAt makes the fee expire at t.
func ExpiresAt(t time.Time) FeeOption {
	return func(b map[string]any) { b["expires_at"] = t.UTC().Format(time.RFC3339) }
}

// NewFee has the portal create a fee of 125 000 đồng addressed to the payer,
// with the portal site's return URL, and returns it.
func (s *Stack) NewFee(opts ...FeeOption) Fee {
	s.T.Helper()
	tail := id.New("x")
	dossier := "HS-" + tail[len(tail)-10:]
	body := map[string]any{
		"citizen_pid":  s.Payer.PID,
		"dossier_code": dossier,
		"service_code": "2.000528",
		"description":  "Lệ phí cấp bản sao trích lục khai sinh",
		"items": []map[string]any{
			{"code": "LE_PHI", "description": "Lệ phí cấp bản sao", "amount": "100000"},
			{"code": "PHI_GUI", "description": "Phí gửi kết quả qua bưu điện", "amount": "25000"},
		},
		"amount":     "125000",
		"currency":   "VND",
		"return_url": s.Portal.ReturnURL(),
	}
	for _, o := range opts {
		o(body)
	}
	res := s.H.Post("/v1/payment-requests", "fee-"+dossier, body)
	if res.Status != http.StatusCreated {
		s.T.Fatalf("create fee: %d %s", res.Status, res.Body)
	}
	var pr struct {
		ID          string `json:"id"`
		CheckoutURL string `json:"checkout_url"`
	}
	res.JSON(s.T, &pr)
	return Fee{ID: pr.ID, CheckoutURL: pr.CheckoutURL, ReturnURL: s.Portal.ReturnURL(), Amount: "125000",
		AmountInWords: "Một trăm hai mươi lăm nghìn đồng", DossierCode: dossier}
}

// Status is the fee's status as the portal reads it from the API.
func (s *Stack) Status(f Fee) string {
	s.T.Helper()
	res := s.H.Get("/v1/payment-requests/" + f.ID)
	if res.Status != http.StatusOK {
		s.T.Fatalf("get fee %s: %d %s", f.ID, res.Status, res.Body)
	}
	var pr struct {
		Status string `json:"status"`
	}
	res.JSON(s.T, &pr)
	return pr.Status
}

// LinkActive links account a for citizen c through the citizen API and waits
// until the bank has confirmed it; it returns the account's id. Tests that
// are not about linking start from there.
func (s *Stack) LinkActive(c *apitest.Citizen, a banksim.Account) string {
	s.T.Helper()
	res := s.H.AsCitizen(c.Token, http.MethodPost, "/v1/me/accounts", "link-"+a.Number,
		map[string]string{"bank_code": BankCode, "account_number": a.Number})
	if res.Status != http.StatusAccepted {
		s.T.Fatalf("link account: %d %s", res.Status, res.Body)
	}
	var acct struct {
		ID string `json:"id"`
	}
	res.JSON(s.T, &acct)
	testenv.Eventually(s.T, 20*time.Second, func() bool { return s.AccountStatus(c, acct.ID) == "active" },
		"the sandbox bank did not confirm account "+acct.ID)
	return acct.ID
}

// AccountStatus is the status of citizen c's account accountID, or "" when
// the citizen has no such account.
func (s *Stack) AccountStatus(c *apitest.Citizen, accountID string) string {
	s.T.Helper()
	res := s.H.AsCitizen(c.Token, http.MethodGet, "/v1/me/accounts", "", nil)
	if res.Status != http.StatusOK {
		s.T.Fatalf("list accounts: %d %s", res.Status, res.Body)
	}
	var list struct {
		Data []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"data"`
	}
	res.JSON(s.T, &list)
	for _, a := range list.Data {
		if a.ID == accountID {
			return a.Status
		}
	}
	return ""
}

// Debits is how many debits the sandbox bank received.
func (s *Stack) Debits() int { return s.Bank.Sim.Stats().Received["debit"] }

// allowReturnTo registers origin as the return origin of the harness's
// portal, as `gatewayctl portal set-return-origins` does.
func (s *Stack) allowReturnTo(origin string) {
	s.T.Helper()
	origins, err := portal.ReturnOrigins([]string{origin}, true)
	if err != nil {
		s.T.Fatal(err)
	}
	if _, _, err := s.H.App.Portals.SetReturnOrigins(context.Background(), s.H.Portal.ID, origins); err != nil {
		s.T.Fatal(err)
	}
}

// Requests counts the requests the gateway logged with method and a route
// ending in routeSuffix (its router's pattern, such as /pay/:id/pay).
func (s *Stack) Requests(method, routeSuffix string) int {
	n := 0
	for _, line := range strings.Split(s.H.Logs.String(), "\n") {
		var rec struct {
			Msg    string `json:"msg"`
			Method string `json:"method"`
			Route  string `json:"route"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "request" && rec.Method == method &&
			strings.HasSuffix(rec.Route, routeSuffix) {
			n++
		}
	}
	return n
}
