package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/devenv"
	"github.com/citizenpay/gateway/internal/identity/devissuer"
)

// builtinCitizens are offered after the --citizen ones (with `make run`, the
// sandbox bank's account holders), for the cases those do not cover.
var builtinCitizens = []devissuer.Citizen{
	{PID: "048302007788", Name: "Phạm Thị Dung", Birthdate: "2002-11-03", LOA: 2, Note: "No account at the sandbox bank"},
	{PID: "001195004321", Name: "Lê Thị Cúc", Birthdate: "1995-08-20", LOA: 1, Note: "Level 1: may look, may not pay"},
}

// serveOptions is what the serve command line and environment say.
type serveOptions struct {
	addr, issuer, keyFile string
	provider              devissuer.ProviderConfig
}

// parseServeOptions reads serve's flags. The gateway's client comes from
// --client-id (or IDP_CLIENT_ID), --client-secret-file, --client-secret (or
// IDP_CLIENT_SECRET) and --redirect-uri (or {GATEWAY_PUBLIC_URL}/auth/callback),
// the names the gateway reads, so that one environment configures both;
// further clients from --clients FILE.
func parseServeOptions(args []string, getenv func(string) string, stderr io.Writer) (serveOptions, error) {
	fs := flag.NewFlagSet("devidp serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o            serveOptions
		clientID     = fs.String("client-id", getenv("IDP_CLIENT_ID"), "the gateway's client id (default IDP_CLIENT_ID)")
		secret       = fs.String("client-secret", "", "its secret (or --client-secret-file, or env IDP_CLIENT_SECRET)")
		secretFile   = fs.String("client-secret-file", "", "file holding its secret")
		clientsFile  = fs.String("clients", "", `JSON file of more clients: [{"client_id","client_secret","redirect_uris":[…]}]`)
		redirectURIs listFlag
		citizens     listFlag
	)
	fs.StringVar(&o.addr, "addr", defaultAddr, "listen address (keep it on loopback)")
	fs.StringVar(&o.issuer, "issuer", "", "issuer URL put in iss (default http://<addr>)")
	fs.StringVar(&o.keyFile, "key-file", defaultKeyFile, "Ed25519 private JWK, created if missing")
	fs.StringVar(&o.provider.AccessTokenAudience, "audience", devissuer.DefaultAudience, "aud of access tokens (the gateway's IDP_AUDIENCE)")
	fs.Var(&redirectURIs, "redirect-uri", "the gateway's redirect URI, repeatable (default {GATEWAY_PUBLIC_URL}/auth/callback)")
	fs.Var(&citizens, "citizen", "a test citizen offered first, as pid:name:birthdate[:loa] (repeatable)")
	if err := fs.Parse(args); err != nil {
		return serveOptions{}, err
	}
	if fs.NArg() > 0 {
		return serveOptions{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if o.issuer == "" {
		o.issuer = "http://" + o.addr
	}

	if *clientID != "" {
		s, err := devenv.Secret{Flag: "client-secret", FileFlag: "client-secret-file", Env: "IDP_CLIENT_SECRET"}.Read(*secret, *secretFile, getenv)
		if err != nil {
			return serveOptions{}, fmt.Errorf("serve: %w", err)
		}
		uris := []string(redirectURIs)
		if len(uris) == 0 {
			base := strings.TrimSuffix(getenv("GATEWAY_PUBLIC_URL"), "/")
			if base == "" {
				return serveOptions{}, errors.New("serve: --client-id needs --redirect-uri or GATEWAY_PUBLIC_URL")
			}
			uris = []string{base + "/auth/callback"}
		}
		o.provider.Clients = append(o.provider.Clients, devissuer.Client{ID: *clientID, Secret: s, RedirectURIs: uris})
	} else if *secret != "" || *secretFile != "" || len(redirectURIs) > 0 {
		return serveOptions{}, errors.New("serve: --client-secret, --client-secret-file and --redirect-uri need --client-id (or IDP_CLIENT_ID)")
	}
	if *clientsFile != "" {
		more, err := loadClients(*clientsFile)
		if err != nil {
			return serveOptions{}, err
		}
		o.provider.Clients = append(o.provider.Clients, more...)
	}

	for n, v := range citizens {
		c, err := parseCitizen(v)
		if err != nil {
			// The value holds a pid: name the flag, never echo it.
			return serveOptions{}, fmt.Errorf("serve: --citizen #%d: %w", n+1, err)
		}
		o.provider.Citizens = append(o.provider.Citizens, c)
	}
	o.provider.Citizens = append(o.provider.Citizens, builtinCitizens...)
	return o, nil
}

// serve runs the HTTP provider until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	o, err := parseServeOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	iss, err := devissuer.LoadOrCreate(o.keyFile, o.issuer)
	if err != nil {
		return err
	}
	provider, err := devissuer.NewProvider(iss, o.provider)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if !isLoopback(o.addr) {
		log.Warn("devidp listens beyond loopback: anyone who reaches it can mint any identity", "addr", o.addr)
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.addr, err)
	}
	srv := &http.Server{
		Handler:           provider.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	ids := make([]string, 0, len(o.provider.Clients))
	for _, c := range o.provider.Clients {
		ids = append(ids, c.ID)
	}
	log.Info("devidp serving", "addr", ln.Addr().String(), "issuer", iss.Issuer(), "kid", iss.KeyID(),
		"key_file", o.keyFile, "clients", strings.Join(ids, ","), "citizens", len(o.provider.Citizens))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("devidp stopped")
	return nil
}

// clientFile is one client in a --clients file.
type clientFile struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	RedirectURIs []string `json:"redirect_uris"`
}

// loadClients reads a JSON array of clients.
func loadClients(path string) ([]devissuer.Client, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("serve: read clients: %w", err)
	}
	defer f.Close()
	var rows []clientFile
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("serve: clients file %s: %w", path, err)
	}
	out := make([]devissuer.Client, len(rows))
	for i, r := range rows {
		out[i] = devissuer.Client{ID: r.ClientID, Secret: r.ClientSecret, RedirectURIs: r.RedirectURIs}
	}
	return out, nil
}

// listFlag collects a repeatable flag's values. String shows how many,
// never which: a --citizen value holds a pid.
type listFlag []string

func (l *listFlag) String() string { return fmt.Sprintf("%d values", len(*l)) }

// Set keeps one value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// parseCitizen reads pid:name:birthdate[:loa]. The name may hold colons: the
// pid is the first field, and the birthdate (and loa) the last.
func parseCitizen(v string) (devissuer.Citizen, error) {
	errFormat := errors.New("want pid:name:birthdate[:loa]")
	pid, rest, ok := strings.Cut(v, ":")
	if !ok {
		return devissuer.Citizen{}, errFormat
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 {
		return devissuer.Citizen{}, errFormat
	}
	c := devissuer.Citizen{PID: pid, LOA: devissuer.DefaultLOA}
	last := parts[len(parts)-1]
	if loa, err := strconv.Atoi(last); err == nil && len(parts) >= 3 {
		c.LOA = loa
		parts = parts[:len(parts)-1]
	}
	c.Birthdate = parts[len(parts)-1]
	c.Name = strings.Join(parts[:len(parts)-1], ":")
	if c.Name == "" {
		return devissuer.Citizen{}, errFormat
	}
	return c, nil
}
