package main

import (
	"fmt"
	"strings"
)

// command is one gatewayctl command, or one subcommand of a group: how it
// is called and what its flags mean, for the help, and whether it changes
// anything (then it names its operator with --by).
type command struct {
	name    string   // "create"; "" for a group that is a command itself (migrate)
	args    string   // its synopsis after the name
	about   string   // what it does, in a line
	flags   []string // "--flag V   what it is", one a line
	mutates bool
}

// group is a top-level word of gatewayctl: a command (subs nil) or a
// group of subcommands.
type group struct {
	name  string
	run   func(e env, args []string) error
	self  *command // the command, when the group has no subcommands
	subs  []command
	about string
}

// byFlag is the --by line of every mutating command's help.
const byFlag = "--by NAME    required: who makes this change (non-blank, at most 200 characters); logged to stderr, " +
	"and kept in the audit log once PROTOCOL.md §13 lands"

func groups() []group {
	return []group{
		{name: "migrate", run: env.migrate, self: &command{about: "brings the schema up to date; safe to repeat " +
			"(with GATEWAY_MASTER_KEY set, it also records or checks the key's check value)"}},
		{name: "portal", run: env.portal, about: "onboard and operate portals", subs: []command{
			{name: "create", args: "--name N --webhook-url U [--return-origin URL]... --by NAME", mutates: true,
				about: `a new portal; prints {"portal_id","key_id","secret","webhook_secret","return_origins"}`,
				flags: []string{"--name N           the portal's name", "--webhook-url U    where its webhooks go " +
					"(https and a public address in production)", "--return-origin URL  an origin the hosted checkout " +
					"may return to (may be repeated)"}},
			{name: "update", args: "--portal ID [--name N] [--webhook-url U] --by NAME", mutates: true,
				about: "renames the portal or moves its webhook endpoint (validated as create does)",
				flags: []string{"--portal ID        portal id or key id", "--name N           the new name",
					"--webhook-url U    the new webhook URL"}},
			{name: "disable", args: "--portal ID --by NAME", mutates: true,
				about: "its signed requests are refused (403 portal_disabled) and its webhooks held",
				flags: []string{"--portal ID        portal id or key id"}},
			{name: "enable", args: "--portal ID --by NAME", mutates: true,
				about: "undoes disable; the webhooks held meanwhile are queued (unless the endpoint itself is disabled)",
				flags: []string{"--portal ID        portal id or key id"}},
			{name: "list", about: "every portal, without secrets (needs no master key)"},
			{name: "rotate-secret", args: "--portal ID [--revoke-old] --by NAME", mutates: true,
				about: "a new signing secret; the old one keeps working for 24 h",
				flags: []string{"--portal ID        portal id or key id", "--revoke-old       the old secret stops at once"}},
			{name: "rotate-webhook-secret", args: "--portal ID [--revoke-old] --by NAME", mutates: true,
				about: "a new webhook secret; webhooks are signed with both for 24 h",
				flags: []string{"--portal ID        portal id or key id", "--revoke-old       sign with the new one only, at once"}},
			{name: "set-return-origins", args: "--portal ID --by NAME [URL...]", mutates: true,
				about: "replaces the portal's return origins (none clears them)",
				flags: []string{"--portal ID        portal id or key id"}},
			{name: "enable-webhook", args: "--portal ID --by NAME", mutates: true,
				about: "after a 410: the endpoint is enabled again and the events held meanwhile are queued",
				flags: []string{"--portal ID        portal id or key id"}},
		}},
		{name: "bank", run: env.bank, about: "onboard and operate banks", subs: []command{
			{name: "create", args: "--code C --name N --base-url U --by NAME", mutates: true,
				about: `a new bank; prints {"bank_code","secret"}`,
				flags: []string{"--code C           2-16 of A-Z, 0-9", "--name N           the bank's name",
					"--base-url U       the bank's API base URL; a path is allowed"}},
			{name: "list", about: "every bank, without secrets (needs no master key)"},
			{name: "rotate-secret", args: "--code C [--revoke-old] --by NAME", mutates: true,
				about: "a new secret; the old one keeps verifying callbacks for 24 h",
				flags: []string{"--code C           the bank's code", "--revoke-old       the old secret stops at once"}},
		}},
		{name: "events", run: env.events, about: "a portal's events and their webhook deliveries", subs: []command{
			{name: "list", args: "--portal ID [--status pending|delivered|failed] [--limit 100]",
				about: "the portal's events, newest first: id, type, created_at, delivery status, attempts, last error",
				flags: []string{"--portal ID        portal id or key id", "--status S         only pending, delivered or failed ones",
					"--limit N          at most this many (1-1000)"}},
			{name: "redeliver", args: "--event EVT_ID | --portal ID --failed --by NAME", mutates: true,
				about: "puts the event (or every failed event of the portal) back in line",
				flags: []string{"--event EVT_ID     one event", "--portal ID        portal id or key id, with --failed",
					"--failed           every failed event of the portal"}},
		}},
		{name: "incidents", run: env.incidents, about: "what the gateway would not decide alone", subs: []command{
			{name: "list", args: "[--status open|resolved|all] [--limit 100]", about: "incidents, newest first",
				flags: []string{"--status S         open (default), resolved or all", "--limit N          at most this many (1-1000)"}},
			{name: "show", args: "--id INC_ID", about: "one incident with its evidence"},
			{name: "resolve", args: "--id INC_ID --action note|apply-paid|refund --note TEXT [--bank-reference R] --by NAME",
				mutates: true, about: `closes the incident; the note is kept with " — by NAME" appended`,
				flags: []string{"--id INC_ID        the incident", "--action A         note, apply-paid or refund",
					"--note TEXT        why (never shown to the portal)", "--bank-reference R with apply-paid: the bank's reference of the debit"}},
		}},
		{name: "listen", run: env.listen, self: &command{
			args:  "[--port 8090] [--secret whsec_…|--portal-file .dev/portal.json] [--forward URL]",
			about: "receives and verifies webhooks on 127.0.0.1"}},
		{name: "reseal", run: env.reseal, self: &command{args: "[--batch 500] --by NAME", mutates: true,
			about: "binds sealed pids and account numbers to their rows; resumable"}},
		{name: "receipts", run: env.receipts, about: "receipts and their signing keys", subs: []command{
			{name: "verify", args: "--jws FILE [--jwks FILE|URL]",
				about: "checks a receipt offline (the JWKS defaults to GATEWAY_PUBLIC_URL's)"},
			{name: "rotate-key", args: "--by NAME", mutates: true, about: "a new current signing key; the old ones stay published"},
			{name: "revoke-key", args: "--kid K [--batch 200] --by NAME", mutates: true,
				about: "K leaves the JWKS; its receipts are signed again"},
		}},
		{name: "reconcile", run: env.reconcile, self: &command{args: "--bank C --date YYYY-MM-DD",
			about: "runs that day now; exit 1 only if the statement could not be read"}},
		{name: "settlements", run: env.settlements, about: "each portal's business days", subs: []command{
			{name: "list", args: "[--portal ID] [--date D] [--status open|closed|settled] [--limit 100]", about: "settlements"},
			{name: "show", args: "--id STL_ID", about: "one settlement"},
			{name: "mark-settled", args: "--id STL_ID --reference REF --by NAME", about: "a closed one only; posts each bank's share, once"},
		}},
		{name: "verify", run: env.verify, self: &command{
			args:  "[--logs FILE]... [--redis-url URL [--redis-prefix P]] [--accounts FILE] [--horizon 80h] [--fail-on-incidents]",
			about: "checks every invariant; opens sealed values only when GATEWAY_MASTER_KEY is set; with --fail-on-incidents exits 1 while incidents are open"}},
		{name: "request", run: env.request, self: &command{
			args:  "[--portal FILE] [--url URL] [--data JSON|@FILE] [--idempotency-key K] [--explain] METHOD PATH",
			about: "sends a signed request as a portal (pkg/portal); --explain prints the canonical string it signed to stderr"}},
	}
}

// environmentHelp lists what gatewayctl reads from its environment.
const environmentHelp = `Environment (as the gateway reads it):
  DATABASE_URL          the gateway's PostgreSQL (required)
  GATEWAY_MASTER_KEY    base64 of 32 bytes; only commands that open or seal secrets need it, and a key
                        the database was not set up with is refused by name
  GATEWAY_ENV           production (default) or development (allows http:// and loopback URLs)
  GATEWAY_PUBLIC_URL    the base of checkout and receipt links (required in production where used)
  GATEWAY_ADDR          its port gives the default GATEWAY_PUBLIC_URL in development
  BANK_STATEMENT_TIMEOUT  reconcile: how long a statement may take (5m)
  GATEWAY_URL           request: the gateway's base URL (http://127.0.0.1:8080)
In development (GATEWAY_ENV=development, or no DATABASE_URL and a ./.dev/ folder) the settings
` + "`make run`" + ` wrote to .dev/env fill in what the environment does not set: gatewayctl works in a
second terminal as it is, or after eval "$(make env)".
`

func (c command) synopsis(prefix string) string {
	s := "gatewayctl " + prefix
	if c.name != "" {
		s += " " + c.name
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// help is the command's own help: its synopsis, what it does, its flags.
func (c command) help(prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n  %s\n", c.synopsis(prefix), c.about)
	flags := c.flags
	if c.mutates {
		flags = append(flags[:len(flags):len(flags)], byFlag)
	}
	if len(flags) > 0 {
		b.WriteString("\nFlags:\n")
		for _, f := range flags {
			fmt.Fprintf(&b, "  %s\n", f)
		}
	}
	return b.String()
}

// help is the group's help: each subcommand with its flags.
func (g group) help() string {
	if g.self != nil {
		return g.self.help(g.name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gatewayctl %s: %s\n\n", g.name, g.about)
	for _, c := range g.subs {
		fmt.Fprintf(&b, "  %s\n      %s\n", c.synopsis(g.name), c.about)
		for _, f := range c.flags {
			fmt.Fprintf(&b, "      %s\n", f)
		}
	}
	b.WriteString("\nEvery command that changes something needs " + byFlag + ".\n")
	fmt.Fprintf(&b, "`gatewayctl %s SUBCOMMAND --help` shows one of them.\n", g.name)
	return b.String()
}

func (g group) sub(name string) (command, bool) {
	for _, c := range g.subs {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is gatewayctl's help: every command, then the environment.
func usage() string {
	var b strings.Builder
	b.WriteString("gatewayctl: operate the payment gateway (prints JSON)\n\n")
	for _, g := range groups() {
		if g.self != nil {
			fmt.Fprintf(&b, "  %s\n", g.self.synopsis(g.name))
			continue
		}
		for _, c := range g.subs {
			fmt.Fprintf(&b, "  %s\n", c.synopsis(g.name))
		}
	}
	b.WriteString("\n`gatewayctl COMMAND --help` shows a command's subcommands and flags. Every command that changes\n" +
		"something names its operator with --by NAME (kept in the audit log once PROTOCOL.md §13 lands).\n\n")
	b.WriteString(environmentHelp)
	return b.String()
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help"
}

func hasHelpFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}
