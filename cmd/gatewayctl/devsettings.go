package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/citizenpay/gateway/internal/config"
	"github.com/citizenpay/gateway/internal/devenv"
)

// devSettings lets gatewayctl in a second terminal find `make run`'s stack:
// in development (GATEWAY_ENV=development, or no DATABASE_URL and a dir
// folder), the settings cmd/devstack wrote to file fill in the variables
// the environment leaves unset. Elsewhere, or without the file, getenv is
// returned as it is. GATEWAY_ENV set to anything else reads no file.
func devSettings(getenv func(string) string, dir, file string) (func(string) string, error) {
	env := strings.TrimSpace(getenv("GATEWAY_ENV"))
	development := env == config.EnvDevelopment
	if !development {
		if env != "" || strings.TrimSpace(getenv("DATABASE_URL")) != "" {
			return getenv, nil
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return getenv, nil
		}
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	vars, err := devenv.ParseEnv(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (run `make run` again to write it anew)", file, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, nil
}
