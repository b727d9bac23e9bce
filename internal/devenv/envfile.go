package devenv

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// EnvVars are the settings of the stack that EnvFile holds: what a second
// terminal needs to run gatewayctl against `make run`'s gateway.
var EnvVars = []string{"DATABASE_URL", "REDIS_URL", "GATEWAY_MASTER_KEY", "GATEWAY_ENV", "GATEWAY_PUBLIC_URL"}

// FormatEnv writes the variables of EnvVars that getenv sets as POSIX shell
// export lines, each value single-quoted, so that `eval "$(cat .dev/env)"`
// sets them and ParseEnv reads them back.
func FormatEnv(getenv func(string) string) []byte {
	var b bytes.Buffer
	b.WriteString("# The settings of `make run`'s stack (cmd/devstack writes this file): eval \"$(make env)\"\n")
	for _, name := range EnvVars {
		if v := getenv(name); v != "" {
			fmt.Fprintf(&b, "export %s='%s'\n", name, strings.ReplaceAll(v, "'", `'\''`))
		}
	}
	return b.Bytes()
}

// ParseEnv reads what FormatEnv writes: `export NAME='value'` or
// `NAME=value` lines; blank lines and # comments are skipped. A line of any
// other form is an error naming it.
func ParseEnv(data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, raw, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t'\"") {
			return nil, fmt.Errorf("line %d: not NAME=value", n)
		}
		v, err := unquote(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, name, err)
		}
		out[name] = v
	}
	return out, sc.Err()
}

// unquote reads a value written unquoted or in single quotes, with '\”
// standing for a quote.
func unquote(raw string) (string, error) {
	if !strings.HasPrefix(raw, "'") {
		if strings.ContainsAny(raw, "'\"$`\\ ") {
			return "", fmt.Errorf("an unquoted value with quotes, spaces or expansions")
		}
		return raw, nil
	}
	var b strings.Builder
	for rest := raw; rest != ""; {
		if !strings.HasPrefix(rest, "'") {
			return "", fmt.Errorf("not a single-quoted value")
		}
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return "", fmt.Errorf("an unterminated quote")
		}
		b.WriteString(rest[1 : 1+end])
		rest = rest[2+end:]
		if strings.HasPrefix(rest, `\'`) {
			b.WriteByte('\'')
			rest = rest[2:]
		}
	}
	return b.String(), nil
}
