package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadListenerDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.OpsAddr != "127.0.0.1:9090" || c.OpsPprof || c.MaxConnectionsPerSource != 128 ||
		len(c.TrustedProxies) != 0 || c.BodyReadTimeout != 5*time.Second {
		t.Fatalf("defaults: ops %q pprof %v per source %d proxies %v body %s",
			c.OpsAddr, c.OpsPprof, c.MaxConnectionsPerSource, c.TrustedProxies, c.BodyReadTimeout)
	}
}

func TestLoadTrustedProxies(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,::ffff:172.16.0.1, 2001:db8::/32,10.1.2.3/8"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("172.16.0.1/32"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.0.0.0/8")}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Fatalf("TRUSTED_PROXIES = %v, want %v", c.TrustedProxies, want)
	}
}

func TestLoadRefusesBadListenerSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		setting string
	}{
		{"ops addr without port", map[string]string{"OPS_ADDR": "127.0.0.1"}, "OPS_ADDR"},
		{"ops addr without host", map[string]string{"OPS_ADDR": ":9090"}, "OPS_ADDR"},
		{"ops addr bad port", map[string]string{"OPS_ADDR": "127.0.0.1:http"}, "OPS_ADDR"},
		{"pprof not a bool", map[string]string{"OPS_PPROF": "yes please"}, "OPS_PPROF"},
		{"pprof off loopback", map[string]string{"OPS_PPROF": "true", "OPS_ADDR": "0.0.0.0:9090"}, "OPS_PPROF"},
		{"pprof on a name", map[string]string{"OPS_PPROF": "true", "OPS_ADDR": "ops.internal:9090"}, "OPS_PPROF"},
		{"old pprof setting", map[string]string{"GATEWAY_PPROF_ADDR": "127.0.0.1:6060"}, "GATEWAY_PPROF_ADDR"},
		{"per ip zero", map[string]string{"GATEWAY_MAX_CONNECTIONS_PER_IP": "0"}, "GATEWAY_MAX_CONNECTIONS_PER_IP"},
		{"per ip over the cap", map[string]string{"GATEWAY_MAX_CONNECTIONS": "100", "GATEWAY_MAX_CONNECTIONS_PER_IP": "101"}, "GATEWAY_MAX_CONNECTIONS_PER_IP"},
		{"proxy not an ip", map[string]string{"TRUSTED_PROXIES": "10.0.0.1,lb.internal"}, "TRUSTED_PROXIES"},
		{"proxy bad cidr", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"},
		{"body timeout zero", map[string]string{"BODY_READ_TIMEOUT": "0s"}, "BODY_READ_TIMEOUT"},
		{"body timeout not a duration", map[string]string{"BODY_READ_TIMEOUT": "5"}, "BODY_READ_TIMEOUT"},
		{"bank addr without port", map[string]string{"BANK_CALLBACK_ADDR": "10.0.0.5"}, "BANK_CALLBACK_ADDR"},
		{"bank addr is the api's", map[string]string{"BANK_CALLBACK_ADDR": ":8080"}, "BANK_CALLBACK_ADDR"},
		{"bank connections zero", map[string]string{"BANK_MAX_CONNECTIONS": "0"}, "BANK_MAX_CONNECTIONS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.setting+":") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line naming %s", err, tt.setting)
			}
		})
	}
	if c, err := Load(env(map[string]string{"OPS_PPROF": "true", "OPS_ADDR": "[::1]:9090"})); err != nil || !c.OpsPprof {
		t.Fatalf("pprof on [::1]: %v", err)
	}
}
