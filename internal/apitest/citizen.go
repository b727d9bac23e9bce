package apitest

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/bank"
	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// Identity is a development identity provider for one test: a devissuer
// whose JWKS is served by an httptest server.
type Identity struct {
	Issuer *devissuer.Issuer
	Server *httptest.Server
}

// NewIdentity starts an identity provider; it stops when t ends.
func NewIdentity(t testing.TB) *Identity {
	t.Helper()
	id := &Identity{}
	id.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id.Issuer.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(id.Server.Close)
	iss, err := devissuer.Generate(id.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	id.Issuer = iss
	return id
}

// Option makes a gateway trust the provider (IDP_ISSUER, IDP_AUDIENCE,
// IDP_JWKS_URL).
func (id *Identity) Option() Option {
	return func(s *settings) {
		s.env["IDP_ISSUER"] = id.Issuer.Issuer()
		s.env["IDP_AUDIENCE"] = devissuer.DefaultAudience
		s.env["IDP_JWKS_URL"] = id.Server.URL + "/.well-known/jwks.json"
	}
}

// Citizen is a test citizen with a valid pid and a token.
type Citizen struct {
	PID       string
	Name      string
	Birthdate string
	LOA       int
	Token     string
}

// NewCitizen mints a token at loa for a new citizen with a random valid pid
// (Ho Chi Minh City, born 2003).
func (id *Identity) NewCitizen(t testing.TB, loa int) *Citizen {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	c := &Citizen{PID: fmt.Sprintf("079203%06d", n.Int64()), Name: "Nguyễn Văn An", Birthdate: "2003-05-17", LOA: loa}
	c.Token, err = id.Issuer.Mint(devissuer.Claims{PID: c.PID, Name: c.Name, Birthdate: c.Birthdate, LOA: loa})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Renew gives c a new token minted at the gateway's time (h.Now), for a
// test that has moved the gateway's clock past the old token's expiry.
func (id *Identity) Renew(t testing.TB, h *Harness, c *Citizen) {
	t.Helper()
	tok, err := id.Issuer.MintAt(devissuer.Claims{PID: c.PID, Name: c.Name, Birthdate: c.Birthdate, LOA: c.LOA}, h.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.Token = tok
}

// NewWithIdentity starts a gateway that trusts a new identity provider.
func NewWithIdentity(t testing.TB, opts ...Option) (*Harness, *Identity) {
	t.Helper()
	id := NewIdentity(t)
	return New(t, append([]Option{id.Option()}, opts...)...), id
}

// AsCitizen sends a request with a bearer token (no portal signature), with
// an Idempotency-Key when key is not empty, and validates the exchange.
func (h *Harness) AsCitizen(token, method, path, key string, body any) *Response {
	h.T.Helper()
	hdr := http.Header{}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	return h.Do(Request{Method: method, Path: path, Body: Marshal(h.T, body), IdempotencyKey: key, Header: hdr, Unsigned: true})
}

// Bank is a sandbox bank onboarded into the harness's gateway: its API sits
// under a path of its base URL, and its callbacks go to the gateway.
type Bank struct {
	Code   string
	Secret string
	Sim    *banksim.Server
	Server *httptest.Server
}

// BankBasePath is the path the harness's sandbox banks sit under.
const BankBasePath = "/api/gw"

// NewBank starts a sandbox bank holding accounts and onboards it into the
// gateway with the bank's secret and base URL. It stops when the test ends.
func (h *Harness) NewBank(code string, accounts ...banksim.Account) *Bank {
	h.T.Helper()
	b := &Bank{Code: code, Secret: bank.NewSecret()}
	sim, err := banksim.New(banksim.Config{
		BankCode: code, Secret: b.Secret, BasePath: BankBasePath, Accounts: accounts,
		CallbackURL: h.Server.URL + "/v1/bank-callbacks/" + code,
		Retry:       banksim.CallbackRetry{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond, Attempts: 40},
		Now:         h.clockFunc(),
	})
	if err != nil {
		h.T.Fatal(err)
	}
	b.Sim = sim
	b.Server = httptest.NewServer(sim.Handler())
	h.T.Cleanup(func() {
		sim.Close()
		b.Server.Close()
	})
	now := h.Now().UTC()
	err = h.App.Banks.Store.Create(context.Background(), &bank.Bank{
		Code: code, Name: "Sandbox bank " + code, BaseURL: b.Server.URL + BankBasePath, Secret: b.Secret,
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		h.T.Fatal(err)
	}
	return b
}

// AccountOf returns a sandbox account held by c with a random 13-digit
// number and a balance of 10 million đồng.
func AccountOf(t testing.TB, c *Citizen) banksim.Account {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	return banksim.Account{Number: fmt.Sprintf("9704%09d", n.Int64()), HolderPID: c.PID, HolderName: c.Name,
		Balance: decimal.NewFromInt(10_000_000)}
}

// Callback posts a callback to the gateway as bank b, signed with secret
// (b's when empty) at ts (the harness's Now when zero), and validates the
// exchange.
func (h *Harness) Callback(b *Bank, secret string, ts time.Time, body any) *Response {
	h.T.Helper()
	if secret == "" {
		secret = b.Secret
	}
	if ts.IsZero() {
		ts = h.Now()
	}
	raw := Marshal(h.T, body)
	req, err := banksim.SignedCallbackRequest(context.Background(), h.Server.URL+"/v1/bank-callbacks/"+b.Code, secret, raw, ts)
	if err != nil {
		h.T.Fatal(err)
	}
	return h.Send(req, raw)
}
