package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/citizenpay/gateway/internal/devenv"
)

// operator is the --by of the changes devstack makes with gatewayctl.
const operator = "devstack"

// gatewayctl runs bin/gatewayctl with the stack's environment.
type gatewayctl struct {
	bin string
	env []string
}

// run returns what the command printed on stdout; its stderr is kept for
// the error.
func (g gatewayctl) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gatewayctl %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// runJSON runs the command and decodes its JSON output into v.
func (g gatewayctl) runJSON(ctx context.Context, v any, args ...string) error {
	out, err := g.run(ctx, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("gatewayctl %s printed no JSON: %w", strings.Join(args[:min(2, len(args))], " "), err)
	}
	return nil
}

// masterKey returns the development master key from file, creating it (32
// random bytes, base64) the first time.
func masterKey(file string, log func(string, ...any)) (string, error) {
	b, err := os.ReadFile(file)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), os.Chmod(file, 0o600)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	log("creating the development master key in %s", file)
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	key := base64.StdEncoding.EncodeToString(raw[:])
	return key, writeSecretFile(file, []byte(key))
}

// clientSecret reads the development OpenID Connect client's secret from
// file, or makes one there.
func clientSecret(file string, log func(string, ...any)) (string, error) {
	b, err := os.ReadFile(file)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	log("creating the development OpenID Connect client secret in %s", file)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	return secret, writeSecretFile(file, []byte(secret))
}

// writeSecretFile writes data to file, readable by its owner only, whole or
// not at all.
func writeSecretFile(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file) // CreateTemp made it 0600
}

// readJSONFile decodes file into v and reports whether it held anything.
func readJSONFile(file string, v any) (bool, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(bytes.TrimSpace(b)) == 0) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w (delete it to start over)", file, err)
	}
	return true, nil
}

// portalCreds is what gatewayctl portal create prints, kept in the portal file.
type portalCreds struct {
	PortalID      string `json:"portal_id"`
	KeyID         string `json:"key_id"`
	Secret        string `json:"secret"`
	WebhookSecret string `json:"webhook_secret"`
}

// ensurePortal keeps the portal of devenv.PortalFile when this database
// holds it with the stack's webhook URL, and creates a new one otherwise;
// either way the portal may return citizens to the receiver's return page.
func ensurePortal(ctx context.Context, ctl gatewayctl, st devenv.Stack, file string, log func(string, ...any)) error {
	var creds portalCreds
	found, err := readJSONFile(file, &creds)
	if err != nil {
		return err
	}
	if found && creds.PortalID != "" && creds.Secret != "" {
		var list []struct {
			PortalID      string   `json:"portal_id"`
			WebhookURL    string   `json:"webhook_url"`
			ReturnOrigins []string `json:"return_origins"`
		}
		if err := ctl.runJSON(ctx, &list, "portal", "list"); err != nil {
			return err
		}
		reason := "this database does not hold portal " + creds.PortalID
		for _, p := range list {
			if p.PortalID == creds.PortalID {
				if p.WebhookURL == st.WebhookURL() {
					return ensureReturnOrigin(ctx, ctl, st, p.PortalID, p.ReturnOrigins, log)
				}
				reason = "its webhook URL is " + p.WebhookURL + ", not " + st.WebhookURL()
			}
		}
		log("%s: %s, so a new development portal replaces it", file, reason)
	}
	log("creating the development portal in %s", file)
	if err := ctl.runJSON(ctx, &creds, "portal", "create", "--name", "Development portal",
		"--webhook-url", st.WebhookURL(), "--return-origin", returnOrigin(st), "--by", operator); err != nil {
		return err
	}
	if creds.PortalID == "" || creds.KeyID == "" || creds.Secret == "" || creds.WebhookSecret == "" {
		return errors.New("gatewayctl portal create printed no portal_id, key_id, secret and webhook_secret")
	}
	return writeJSONSecret(file, creds)
}

// bankCreds is what gatewayctl bank create prints, kept in the bank file.
type bankCreds struct {
	BankCode string `json:"bank_code"`
	Secret   string `json:"secret"`
}

// ensureBank onboards the sandbox bank once and writes its secret alone to
// secretFile for banksim. When the database holds the bank but the bank
// file is gone, a new secret replaces the lost one.
func ensureBank(ctx context.Context, ctl gatewayctl, st devenv.Stack, file, secretFile string, log func(string, ...any)) error {
	var creds bankCreds
	found, err := readJSONFile(file, &creds)
	if err != nil {
		return err
	}
	var list []struct {
		BankCode string `json:"bank_code"`
		BaseURL  string `json:"base_url"`
	}
	if err := ctl.runJSON(ctx, &list, "bank", "list"); err != nil {
		return err
	}
	onboarded := false
	for _, b := range list {
		if b.BankCode != devenv.BankCode {
			continue
		}
		onboarded = true
		if b.BaseURL != st.BankAPIURL() {
			return fmt.Errorf("bank %s is onboarded with base URL %s, but the sandbox bank is to listen at %s: "+
				"set %s to match, or use a fresh database", b.BankCode, b.BaseURL, st.BankAPIURL(), devenv.EnvBankAddr)
		}
	}
	switch {
	case !onboarded:
		log("onboarding the sandbox bank %s in %s", devenv.BankCode, file)
		if err := ctl.runJSON(ctx, &creds, "bank", "create", "--code", devenv.BankCode, "--name", "Sandbox bank",
			"--base-url", st.BankAPIURL(), "--by", operator); err != nil {
			return err
		}
	case !found || creds.BankCode != devenv.BankCode || creds.Secret == "":
		log("%s does not hold bank %s's secret: giving the bank a new one", file, devenv.BankCode)
		if err := ctl.runJSON(ctx, &creds, "bank", "rotate-secret", "--code", devenv.BankCode, "--revoke-old", "--by", operator); err != nil {
			return err
		}
	default:
		return writeSecretFile(secretFile, []byte(creds.Secret+"\n"))
	}
	if creds.BankCode != devenv.BankCode || !strings.HasPrefix(creds.Secret, "bsk_") {
		return fmt.Errorf("gatewayctl printed no secret of bank %s", devenv.BankCode)
	}
	if err := writeJSONSecret(file, bankCreds{BankCode: creds.BankCode, Secret: creds.Secret}); err != nil {
		return err
	}
	return writeSecretFile(secretFile, []byte(creds.Secret+"\n"))
}

func writeJSONSecret(file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeSecretFile(file, append(b, '\n'))
}

// writeEnvFile writes the stack's settings (devenv.EnvVars, as env holds
// them) to file as export lines, readable by its owner only: gatewayctl in
// a second terminal reads them, and `make env` prints them for eval.
func writeEnvFile(file string, env []string) error {
	return writeSecretFile(file, devenv.FormatEnv(lookup(env)))
}
