// Package devenv says where the development stack of `make run` lives: the
// addresses of the gateway and of its helpers (identity provider, sandbox
// bank, webhook listener) and the files the stack writes under .dev/. It is
// read from the environment once, with the same defaults, by cmd/devstack,
// which starts the stack, and by cmd/demo, which walks the story against
// it, so the two never disagree about a port.
package devenv

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Files and folders of the stack, relative to the repository root.
const (
	Dir                 = ".dev"
	LogDir              = Dir + "/log"
	MasterKeyFile       = Dir + "/master.key"
	IDPClientSecretFile = Dir + "/idp-client.secret"
	PortalFile          = Dir + "/portal.json"     // gatewayctl portal create's output
	BankFile            = Dir + "/bank.json"       // gatewayctl bank create's output
	BankSecretFile      = Dir + "/bank.secret"     // the bank's secret alone, for banksim --secret-file
	WebhooksLog         = LogDir + "/webhooks.log" // gatewayctl listen's output
	EnvFile             = Dir + "/env"             // the stack's settings as export lines, for gatewayctl and `make env`
)

// The sandbox bank of the stack.
const (
	BankCode     = "SBX"
	BankBasePath = "/api/gw"
)

// Environment variables read by Load, with their defaults.
const (
	EnvGatewayAddr = "GATEWAY_ADDR"     // the gateway's own setting
	EnvOpsAddr     = "OPS_ADDR"         // the gateway's own setting
	EnvIDPAddr     = "DEV_IDP_ADDR"     // devidp serve --addr
	EnvBankAddr    = "DEV_BANK_ADDR"    // banksim --addr
	EnvWebhookPort = "DEV_WEBHOOK_PORT" // gatewayctl listen --port, on 127.0.0.1

	DefaultGatewayAddr = ":8080"
	DefaultOpsAddr     = "127.0.0.1:9090"
	DefaultIDPAddr     = "127.0.0.1:8091"
	DefaultBankAddr    = "127.0.0.1:8092"
	DefaultWebhookPort = 8090
)

// Stack is where each program of the stack listens.
type Stack struct {
	GatewayAddr string
	OpsAddr     string
	IDPAddr     string
	BankAddr    string
	WebhookPort int
}

// Load reads the stack's addresses from getenv; an empty variable takes its
// default. An address without a port, or a port out of range, is an error
// naming the variable.
func Load(getenv func(string) string) (Stack, error) {
	or := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	s := Stack{
		GatewayAddr: or(EnvGatewayAddr, DefaultGatewayAddr),
		OpsAddr:     or(EnvOpsAddr, DefaultOpsAddr),
		IDPAddr:     or(EnvIDPAddr, DefaultIDPAddr),
		BankAddr:    or(EnvBankAddr, DefaultBankAddr),
	}
	for name, addr := range map[string]string{EnvGatewayAddr: s.GatewayAddr, EnvOpsAddr: s.OpsAddr,
		EnvIDPAddr: s.IDPAddr, EnvBankAddr: s.BankAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return Stack{}, fmt.Errorf("%s=%q: want host:port or :port", name, addr)
		}
	}
	port, err := strconv.Atoi(or(EnvWebhookPort, strconv.Itoa(DefaultWebhookPort)))
	if err != nil || port < 1 || port > 65535 {
		return Stack{}, fmt.Errorf("%s=%q: want a port number", EnvWebhookPort, getenv(EnvWebhookPort))
	}
	s.WebhookPort = port
	return s, nil
}

// URL is the http:// URL a client on this machine reaches a listener on
// addr at: an empty or wildcard host becomes 127.0.0.1.
func URL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// GatewayURL is the gateway's base URL.
func (s Stack) GatewayURL() string { return URL(s.GatewayAddr) }

// OpsURL is the base URL of the gateway's operations listener.
func (s Stack) OpsURL() string { return URL(s.OpsAddr) }

// IDPURL is devidp's base URL, which is also the issuer of its tokens.
func (s Stack) IDPURL() string { return URL(s.IDPAddr) }

// BankURL is the sandbox bank's root, where its /_sim admin routes are.
func (s Stack) BankURL() string { return URL(s.BankAddr) }

// BankAPIURL is the sandbox bank's API base URL, as the gateway knows it.
func (s Stack) BankAPIURL() string { return s.BankURL() + BankBasePath }

// WebhookURL is the development portal's webhook URL (gatewayctl listen).
func (s Stack) WebhookURL() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.WebhookPort)) + "/webhooks"
}

// CallbackURL is where the sandbox bank posts its callbacks.
func (s Stack) CallbackURL() string { return s.GatewayURL() + "/v1/bank-callbacks/" + BankCode }

// Secret names where a development program takes a secret from: a flag
// holding it, a flag naming a file that holds it, or, when neither flag is
// given, a variable of the environment.
type Secret struct {
	Flag, FileFlag, Env string
}

// Read takes the secret from exactly one of its places, given the two
// flags' values.
func (s Secret) Read(value, file string, getenv func(string) string) (string, error) {
	switch {
	case value != "" && file != "":
		return "", fmt.Errorf("give --%s or --%s, not both", s.Flag, s.FileFlag)
	case value != "":
		return value, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read --%s: %w", s.FileFlag, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("--%s %s is empty", s.FileFlag, file)
		}
		return v, nil
	case getenv(s.Env) != "":
		return getenv(s.Env), nil
	}
	return "", fmt.Errorf("a secret is required: --%s, --%s or %s", s.FileFlag, s.Flag, s.Env)
}
