package config

import (
	"strings"
	"testing"
	"time"
)

func TestBankSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.BankRequestTimeout != 10*time.Second || c.BankBreakerCooldown != 30*time.Second || c.AccountVerificationTimeout != 24*time.Hour {
		t.Fatalf("defaults: %s %s %s", c.BankRequestTimeout, c.BankBreakerCooldown, c.AccountVerificationTimeout)
	}
	c, err = Load(env(map[string]string{"BANK_REQUEST_TIMEOUT": "3s", "BANK_BREAKER_COOLDOWN": "1m", "ACCOUNT_VERIFICATION_TIMEOUT": "2h"}))
	if err != nil || c.BankRequestTimeout != 3*time.Second || c.BankBreakerCooldown != time.Minute || c.AccountVerificationTimeout != 2*time.Hour {
		t.Fatalf("set: %+v, %v", c, err)
	}
	for _, name := range []string{"BANK_REQUEST_TIMEOUT", "BANK_BREAKER_COOLDOWN", "ACCOUNT_VERIFICATION_TIMEOUT"} {
		for _, bad := range []string{"0s", "-1s", "soon"} {
			_, err := Load(env(map[string]string{name: bad}))
			if err == nil || !strings.HasPrefix(err.Error(), name+":") {
				t.Errorf("%s=%s: %v", name, bad, err)
			}
		}
	}
}
