package devenv

import (
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	st, err := Load(env())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"gateway", st.GatewayURL(), "http://127.0.0.1:8080"},
		{"ops", st.OpsURL(), "http://127.0.0.1:9090"},
		{"idp", st.IDPURL(), "http://127.0.0.1:8091"},
		{"bank API", st.BankAPIURL(), "http://127.0.0.1:8092/api/gw"},
		{"webhook", st.WebhookURL(), "http://127.0.0.1:8090/webhooks"},
		{"callback", st.CallbackURL(), "http://127.0.0.1:8080/v1/bank-callbacks/SBX"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestLoadFromTheEnvironment(t *testing.T) {
	t.Parallel()
	st, err := Load(env(EnvGatewayAddr, "0.0.0.0:18080", EnvOpsAddr, "127.0.0.1:19090", EnvIDPAddr, "127.0.0.1:18091",
		EnvBankAddr, "[::]:18092", EnvWebhookPort, "18090"))
	if err != nil {
		t.Fatal(err)
	}
	if st.GatewayURL() != "http://127.0.0.1:18080" || st.OpsURL() != "http://127.0.0.1:19090" ||
		st.IDPURL() != "http://127.0.0.1:18091" || st.BankURL() != "http://127.0.0.1:18092" ||
		st.WebhookURL() != "http://127.0.0.1:18090/webhooks" || st.CallbackURL() != "http://127.0.0.1:18080/v1/bank-callbacks/SBX" {
		t.Errorf("stack %+v: gateway %s, ops %s, idp %s, bank %s, webhook %s", st, st.GatewayURL(), st.OpsURL(),
			st.IDPURL(), st.BankURL(), st.WebhookURL())
	}
	if st.GatewayAddr != "0.0.0.0:18080" || st.BankAddr != "[::]:18092" {
		t.Errorf("listen addresses changed: %+v", st)
	}
}

func TestLoadRefusesBadValues(t *testing.T) {
	t.Parallel()
	for _, kv := range [][2]string{
		{EnvGatewayAddr, "8080"}, {EnvIDPAddr, "127.0.0.1"}, {EnvBankAddr, "127.0.0.1:"},
		{EnvWebhookPort, "http"}, {EnvWebhookPort, "70000"},
	} {
		_, err := Load(env(kv[0], kv[1]))
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: error %v, want one naming %s", kv[0], kv[1], err, kv[0])
		}
	}
}

func TestURLOfIPv6Host(t *testing.T) {
	t.Parallel()
	if got := URL("[::1]:8080"); got != "http://[::1]:8080" {
		t.Errorf("URL = %q", got)
	}
}
