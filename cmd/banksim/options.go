package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/banksim"
	"github.com/citizenpay/gateway/internal/devenv"
)

// options is everything the command line says.
type options struct {
	addr     string
	logLevel slog.Level
	bank     banksim.Config
}

// parseOptions reads the flags; getenv supplies BANKSIM_SECRET when no
// secret flag is given.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("banksim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o            options
		k            banksim.Knobs
		secret       = fs.String("secret", "", "shared bsk_… secret (or --secret-file, or env BANKSIM_SECRET)")
		secretFile   = fs.String("secret-file", "", "file holding the shared secret")
		accountsFile = fs.String("accounts", "", `JSON file: [{"number","holder_pid","holder_name","balance"}]`)
		accounts     accountFlags
	)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8092", "listen address")
	fs.StringVar(&o.bank.BankCode, "code", "SBX", "bank code the gateway knows this bank by")
	fs.StringVar(&o.bank.CallbackURL, "callback-url", "", "gateway callback URL (default http://127.0.0.1:8080/v1/bank-callbacks/{code})")
	fs.StringVar(&o.bank.BasePath, "base-path", "", "path the bank API sits under, e.g. /api/gw")
	fs.Var(&accounts, "account", "an account as number:pid:name:balance (repeatable)")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")

	fs.BoolVar(&k.Sync, "sync", false, "answer a final 200 at once instead of 202 and a callback")
	fs.DurationVar(&k.Latency, "latency", 0, "wait added before every answer")
	fs.Float64Var(&k.FailureRate, "failure-rate", 0, "fraction of requests answered 500 without executing")
	fs.Float64Var(&k.ExecuteThenFail, "execute-then-fail", 0, "fraction of POSTs answered 500 after executing")
	fs.StringVar(&k.Reject, "reject", "", "fail every debit with this reason code")
	fs.DurationVar(&k.CallbackDelay, "callback-delay", 0, "how long an accepted operation stays pending")
	fs.BoolVar(&k.NeverCallBack, "never-call-back", false, "settle but never post callbacks")
	fs.IntVar(&k.DuplicateCallbacks, "duplicate-callbacks", 1, "send each callback this many times")
	fs.BoolVar(&k.OutOfOrder, "out-of-order", false, "deliver callbacks after random delays")
	fs.BoolVar(&k.Down, "down", false, "close every API connection unanswered")
	fs.BoolVar(&k.AlsoCallBackAfterSync, "also-call-back-after-sync", false, "post the callback after a final 200 as well")

	fs.DurationVar(&o.bank.Retry.Base, "callback-retry-base", banksim.DefaultRetryBase, "first wait before a callback is retried; doubles")
	fs.DurationVar(&o.bank.Retry.Max, "callback-retry-max", banksim.DefaultRetryMax, "longest wait between callback attempts")
	fs.IntVar(&o.bank.Retry.Attempts, "callback-attempts", banksim.DefaultRetryAttempts, "attempts per callback delivery")

	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.bank.Knobs = k

	var err error
	secretAt := devenv.Secret{Flag: "secret", FileFlag: "secret-file", Env: "BANKSIM_SECRET"}
	if o.bank.Secret, err = secretAt.Read(*secret, *secretFile, getenv); err != nil {
		return options{}, err
	}
	if o.bank.CallbackURL == "" {
		o.bank.CallbackURL = "http://127.0.0.1:8080/v1/bank-callbacks/" + o.bank.BankCode
	}
	if *accountsFile != "" {
		if o.bank.Accounts, err = loadAccounts(*accountsFile); err != nil {
			return options{}, err
		}
	}
	for i, v := range accounts {
		a, err := parseAccount(v)
		if err != nil {
			return options{}, fmt.Errorf("--account #%d: %w", i+1, err)
		}
		o.bank.Accounts = append(o.bank.Accounts, a)
	}
	return o, nil
}

// accountFile is one account in an --accounts file.
type accountFile struct {
	Number     string          `json:"number"`
	HolderPID  string          `json:"holder_pid"`
	HolderName string          `json:"holder_name"`
	Balance    decimal.Decimal `json:"balance"`
}

// loadAccounts reads a JSON array of accounts. Errors name the entry, never
// its number or pid.
func loadAccounts(path string) ([]banksim.Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	defer f.Close()
	var rows []accountFile
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("accounts file %s: %w", path, err)
	}
	out := make([]banksim.Account, len(rows))
	for i, r := range rows {
		out[i] = banksim.Account{Number: r.Number, HolderPID: r.HolderPID, HolderName: r.HolderName, Balance: r.Balance}
	}
	return out, nil
}

// accountFlags collects repeated --account values. They are parsed after
// the flags, so that a bad one is reported without echoing it: it holds a pid
// and an account number.
type accountFlags []string

// String shows how many accounts were given, never which.
func (a *accountFlags) String() string { return fmt.Sprintf("%d accounts", len(*a)) }

// Set keeps one --account value.
func (a *accountFlags) Set(v string) error {
	*a = append(*a, v)
	return nil
}

// parseAccount reads number:pid:name:balance. The name may hold colons: the
// number and pid are the first two fields and the balance the last.
func parseAccount(v string) (banksim.Account, error) {
	errFormat := errors.New("want number:pid:name:balance")
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return banksim.Account{}, errFormat
	}
	i := strings.LastIndex(parts[2], ":")
	if i < 0 {
		return banksim.Account{}, errFormat
	}
	name, balance := parts[2][:i], parts[2][i+1:]
	d, err := decimal.NewFromString(balance)
	if err != nil {
		return banksim.Account{}, fmt.Errorf("balance %q is not a number", balance)
	}
	return banksim.Account{Number: parts[0], HolderPID: parts[1], HolderName: name, Balance: d}, nil
}
