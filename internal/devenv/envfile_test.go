package devenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestEnvFileRoundTrip(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"DATABASE_URL":       "postgres://gw:it's@127.0.0.1:5432/gw?sslmode=disable",
		"GATEWAY_MASTER_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"GATEWAY_ENV":        "development",
		"OTHER":              "not written",
	}
	data := FormatEnv(func(k string) string { return vars[k] })
	got, err := ParseEnv(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"DATABASE_URL", "GATEWAY_MASTER_KEY", "GATEWAY_ENV"} {
		if got[k] != vars[k] {
			t.Errorf("%s: %q, want %q", k, got[k], vars[k])
		}
	}
	if _, ok := got["OTHER"]; ok {
		t.Error("OTHER was written: only EnvVars belong in the file")
	}
	if _, ok := got["REDIS_URL"]; ok {
		t.Error("an unset REDIS_URL was written")
	}
	// The shell reads it the same way.
	file := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", "-c", `. "$1" && printf %s "$DATABASE_URL"`, "sh", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != vars["DATABASE_URL"] {
		t.Errorf("sh reads DATABASE_URL as %q", out)
	}
}

func TestParseEnvRefusesOtherLines(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"just words\n", "export A='open\n", "A=$(rm -rf /)\n", "A=x y\n"} {
		if _, err := ParseEnv([]byte(bad)); err == nil {
			t.Errorf("%q: parsed", bad)
		}
	}
	got, err := ParseEnv([]byte("# comment\n\nA=plain\nexport B=''\n"))
	if err != nil || got["A"] != "plain" || got["B"] != "" {
		t.Errorf("got %v, %v", got, err)
	}
}
