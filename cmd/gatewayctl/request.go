package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/signature"
)

// portalCredentials is what `portal create` prints and `make run` keeps in
// .dev/portal.json.
type portalCredentials struct {
	PortalID string `json:"portal_id"`
	KeyID    string `json:"key_id"`
	Secret   string `json:"secret"`
}

// request signs and sends one request with a portal's credentials, like
// curl: the body goes to stdout, the status line to stderr.
func (e env) request(args []string) error {
	fs := newFlags("request")
	file := fs.String("portal", ".dev/portal.json", "portal credentials file")
	base := fs.String("url", "", "gateway base URL (default $GATEWAY_URL or http://127.0.0.1:8080)")
	data := fs.String("data", "", "request body, or @FILE")
	key := fs.String("idempotency-key", "", "Idempotency-Key (a new one for POST and DELETE when not given)")
	secret := fs.String("secret", "", "sign with this secret instead of the portal's (to see a 401)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		return errUsage
	}
	method, target := strings.ToUpper(fs.Arg(0)), fs.Arg(1)
	if !strings.HasPrefix(target, "/") {
		return fmt.Errorf("PATH must start with /")
	}
	raw, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("--portal: %w", err)
	}
	var cred portalCredentials
	if err := json.Unmarshal(raw, &cred); err != nil || cred.KeyID == "" || cred.Secret == "" {
		return fmt.Errorf("--portal: %s does not hold key_id and secret", *file)
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
	req, err := http.NewRequestWithContext(e.ctx, method, strings.TrimRight(url, "/")+target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if *key == "" && (method == http.MethodPost || method == http.MethodDelete) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		*key = "ctl-" + hex.EncodeToString(b[:])
	}
	if *key != "" {
		req.Header.Set(signature.HeaderIdempotencyKey, *key)
	}
	req.Header.Set(signature.HeaderPortalKey, cred.KeyID)
	signature.SignRequest(req, cred.Secret, body, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%s %s\n", resp.Proto, resp.Status)
	if *key != "" {
		fmt.Fprintf(e.stderr, "Idempotency-Key: %s\n", *key)
	}
	if r := resp.Header.Get("Idempotent-Replayed"); r != "" {
		fmt.Fprintf(e.stderr, "Idempotent-Replayed: %s\n", r)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = append(pretty.Bytes(), '\n')
	}
	if _, err := e.stdout.Write(out); err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return errExit
	}
	return nil
}
