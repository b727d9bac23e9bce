package main

import (
	"fmt"
	"io"
	"net/url"

	"github.com/citizenpay/gateway/internal/devenv"
)

// banner prints where everything is and what to try next. getenv reads the
// stack's environment.
func banner(w io.Writer, st devenv.Stack, getenv func(string) string) {
	var request, token, demo string
	if st.GatewayURL() != devenv.URL(devenv.DefaultGatewayAddr) {
		request = " --url " + st.GatewayURL()
	}
	if issuer := getenv("IDP_ISSUER"); issuer != devenv.URL(devenv.DefaultIDPAddr) {
		token = " --issuer " + issuer
	}
	// make demo finds the stack by the same variables (and DATABASE_URL).
	for _, kv := range [][3]string{
		{devenv.EnvGatewayAddr, st.GatewayAddr, devenv.DefaultGatewayAddr},
		{devenv.EnvIDPAddr, st.IDPAddr, devenv.DefaultIDPAddr},
		{devenv.EnvBankAddr, st.BankAddr, devenv.DefaultBankAddr},
		{devenv.EnvWebhookPort, fmt.Sprint(st.WebhookPort), fmt.Sprint(devenv.DefaultWebhookPort)},
	} {
		if kv[1] != kv[2] {
			demo += kv[0] + "=" + kv[1] + " "
		}
	}
	fmt.Fprintf(w, `
  Gateway      %[1]s  (GATEWAY_ADDR=%[2]s)
  Operations   %[3]s/metrics and /debug/pprof/  (OPS_ADDR=%[4]s)
  Portal       %[5]s  (key id, secret and webhook secret)
  Webhooks     gatewayctl listen on 127.0.0.1:%[6]d, verified events in %[7]s
  Sandbox bank %[8]s on %[9]s (%[10]s), log in %[11]s/banksim.log
  Identity     devidp on %[12]s, log in %[11]s/devidp.log
  PostgreSQL   %[13]s
  Redis        %[14]s

  A first signed request, from another terminal:
    bin/gatewayctl request --portal %[5]s%[15]s GET /v1/payment-requests

  A citizen's token (the sandbox bank holds an account of this pid):
    bin/devidp token --pid 079203001234 --name "Nguyen Van An" --birthdate 2003-05-17%[16]s

  The whole story against this stack (fee, link, pay, clearing, webhook, refund, verify):
    %[17]smake demo

  Ctrl-C stops everything this run started.

`, st.GatewayURL(), st.GatewayAddr, st.OpsURL(), st.OpsAddr, devenv.PortalFile, st.WebhookPort, devenv.WebhooksLog,
		devenv.BankCode, st.BankAPIURL(), devenv.BankFile, devenv.LogDir, st.IDPURL(),
		redact(getenv("DATABASE_URL")), redact(getenv("REDIS_URL")), request, token, demo)
}

// redact hides a URL's password: the banner goes to terminals and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
