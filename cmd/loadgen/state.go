package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// Issuer is the value of "iss" in the bench's citizen tokens; the gateway
// under test is given it as IDP_ISSUER.
const Issuer = "https://idp.bench.invalid"

// citizen is one bench citizen: a valid pid and an account at each bank.
type citizen struct {
	PID       string            `json:"pid"`
	Name      string            `json:"name"`
	Birthdate string            `json:"birthdate"`
	Accounts  map[string]string `json:"accounts"` // bank code → account number
}

// simAccount is an account in a banksim --accounts file.
type simAccount struct {
	Number     string `json:"number"`
	HolderPID  string `json:"holder_pid"`
	HolderName string `json:"holder_name"`
	Balance    string `json:"balance"`
}

func keyPath(dir string) string      { return filepath.Join(dir, "issuer-key.json") }
func citizensPath(dir string) string { return filepath.Join(dir, "citizens.json") }

// runInit writes the issuer's key and JWKS, the citizens, and each bank's
// accounts file. It keeps an existing key and citizens, so the gateway's
// data stays usable from one run to the next.
func runInit(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".bench/state", "state directory")
	n := fs.Int("citizens", 64, "how many citizens")
	banks := fs.String("banks", "SBX,SB2", "bank codes, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	iss, err := devissuer.LoadOrCreate(keyPath(*dir), Issuer)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "jwks.json"), iss.JWKS(), 0o600); err != nil {
		return err
	}
	codes := strings.Split(*banks, ",")
	cits := make([]citizen, *n)
	for i := range cits {
		c := citizen{
			// Ho Chi Minh City (079), born 2003 (2, 03): valid per PROTOCOL.md §2.
			PID: fmt.Sprintf("079203%06d", 500000+i), Name: fmt.Sprintf("Công dân %d", i),
			Birthdate: "2003-05-17", Accounts: map[string]string{},
		}
		for b, code := range codes {
			c.Accounts[code] = fmt.Sprintf("97%02d%09d", b+10, 500000+i)
		}
		cits[i] = c
	}
	if err := writeJSON(citizensPath(*dir), cits); err != nil {
		return err
	}
	for _, code := range codes {
		var accs []simAccount
		for _, c := range cits {
			accs = append(accs, simAccount{Number: c.Accounts[code], HolderPID: c.PID, HolderName: c.Name,
				Balance: "1000000000000000"})
		}
		if err := writeJSON(filepath.Join(*dir, "accounts-"+code+".json"), accs); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "loadgen: %d citizens, banks %s, issuer %s, state in %s\n", *n, *banks, Issuer, *dir)
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
