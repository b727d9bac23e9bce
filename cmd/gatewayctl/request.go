package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/citizenpay/gateway/pkg/portal"
)

// request signs and sends one request with a portal's credentials, like
// curl, through the portal client (pkg/portal): the body goes to stdout,
// the status line to stderr. POST and DELETE get a new Idempotency-Key
// unless one is given; 429, 503 and the like are retried as the client
// does. With --explain the canonical string of each attempt is printed to
// stderr before it is sent, to compare with the canonical_string of a
// signature_mismatch (or with one's own signer).
func (e env) request(args []string) error {
	fs := newFlags("request")
	file := fs.String("portal", ".dev/portal.json", "portal credentials file")
	base := fs.String("url", "", "gateway base URL (default $GATEWAY_URL or http://127.0.0.1:8080)")
	data := fs.String("data", "", "request body, or @FILE, or - for stdin")
	key := fs.String("idempotency-key", "", "Idempotency-Key (a new one for POST and DELETE when not given)")
	secret := fs.String("secret", "", "sign with this secret instead of the portal's (to see a 401)")
	explain := fs.Bool("explain", false, "print the canonical string signed to stderr before sending")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		return errUsage
	}
	method, target := strings.ToUpper(fs.Arg(0)), fs.Arg(1)
	if !strings.HasPrefix(target, "/") {
		return fmt.Errorf("PATH must start with /")
	}
	cred, err := portal.LoadCredentials(*file)
	if err != nil {
		return fmt.Errorf("--portal: %w", err)
	}
	if *secret != "" {
		cred.Secret = *secret
	}
	url := *base
	if url == "" {
		url = e.getenv("GATEWAY_URL")
	}
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	var body []byte
	switch {
	case strings.HasPrefix(*data, "@"):
		if body, err = os.ReadFile((*data)[1:]); err != nil {
			return fmt.Errorf("--data: %w", err)
		}
	case *data == "-":
		if body, err = io.ReadAll(e.stdin); err != nil {
			return err
		}
	default:
		body = []byte(*data)
	}
	opts := []portal.Option{portal.WithUserAgent("gatewayctl")}
	if *explain {
		opts = append(opts, portal.WithExplain(func(canonical string) {
			fmt.Fprintf(e.stderr, "--- canonical string signed with key %s (HMAC-SHA256, hex, as X-Signature: v1=…)\n%s\n---\n", cred.KeyID, canonical)
		}))
	}
	c, err := portal.New(url, cred.KeyID, cred.Secret, opts...)
	if err != nil {
		return err
	}
	var callOpts []portal.CallOption
	if *key != "" {
		callOpts = append(callOpts, portal.WithIdempotencyKey(*key))
	}
	resp, err := c.Do(e.ctx, method, target, body, callOpts...)
	var refusal *portal.Error
	if err != nil && !errors.As(err, &refusal) {
		return err
	}
	fmt.Fprintf(e.stderr, "%s %s\n", resp.Proto, resp.Status)
	if resp.IdempotencyKey != "" {
		fmt.Fprintf(e.stderr, "Idempotency-Key: %s\n", resp.IdempotencyKey)
	}
	if r := resp.Header.Get("Idempotent-Replayed"); r != "" {
		fmt.Fprintf(e.stderr, "Idempotent-Replayed: %s\n", r)
	}
	if resp.Attempts > 1 {
		fmt.Fprintf(e.stderr, "Attempts: %d\n", resp.Attempts)
	}
	out := resp.Body
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = append(pretty.Bytes(), '\n')
	}
	if _, err := e.stdout.Write(out); err != nil {
		return err
	}
	if refusal != nil {
		return errExit
	}
	return nil
}
