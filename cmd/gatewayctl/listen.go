package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/citizenpay/gateway/internal/webhook"
)

// maxWebhookBody bounds what the receiver reads of one delivery.
const maxWebhookBody = 1 << 20

// listen runs `gatewayctl listen`: like `stripe listen`, a local receiver
// at /webhooks (and, for the hosted checkout's way back, a page at
// /return that shows what it was given) that verifies each delivery's Standard Webhooks signature,
// prints the verified event as one JSON line on stdout, and answers 2xx (or,
// with --forward, passes it on and answers with the target's status). A bad
// signature gets 400 and a warning on stderr. It stops on SIGINT or SIGTERM.
func (e env) listen(args []string) error {
	fs := newFlags("listen")
	port := fs.Int("port", 8090, "port on 127.0.0.1")
	secret := fs.String("secret", "", "webhook secret (whsec_…); default: webhook_secret of --portal-file")
	file := fs.String("portal-file", ".dev/portal.json", "portal credentials file, as `portal create` prints")
	forward := fs.String("forward", "", "forward each verified webhook to this URL and answer with its status")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *port < 0 || *port > 65535 {
		return errUsage
	}
	text := *secret
	if text == "" {
		var err error
		if text, err = readWebhookSecret(*file); err != nil {
			return err
		}
	}
	sec, err := webhook.ParseSecret(text)
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	l := &listener{secrets: []webhook.Secret{sec}, out: e.stdout, warn: e.stderr}
	if *forward != "" {
		u, err := url.Parse(*forward)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--forward: not an http(s) URL")
		}
		l.forward = u.String()
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("--port: %w", err)
	}
	srv := &http.Server{Handler: l, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	to := ""
	if l.forward != "" {
		to = ", forwarding to " + l.forward
	}
	fmt.Fprintf(e.stderr, "gatewayctl listen: receiving webhooks at http://%s/webhooks%s (Ctrl-C stops)\n", ln.Addr(), to)
	select {
	case err := <-errc:
		return err
	case <-e.ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	fmt.Fprintln(e.stderr, "gatewayctl listen: stopped")
	return nil
}

// readWebhookSecret reads webhook_secret from a portal credentials file.
func readWebhookSecret(file string) (string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--portal-file: %w", err)
	}
	var cred struct {
		WebhookSecret string `json:"webhook_secret"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil || cred.WebhookSecret == "" {
		return "", fmt.Errorf("--portal-file: %s does not hold webhook_secret (or give --secret)", file)
	}
	return cred.WebhookSecret, nil
}

// listener is the receiver behind `gatewayctl listen`.
type listener struct {
	secrets []webhook.Secret
	forward string       // "" or the URL verified webhooks are passed to
	client  *http.Client // for forwarding; nil: a client with a 10 s timeout
	now     func() time.Time
	mu      sync.Mutex // one line at a time on out and warn
	out     io.Writer
	warn    io.Writer
}

// received is the line printed for each verified webhook.
type received struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Body          json.RawMessage `json:"body"`
	ForwardStatus int             `json:"forward_status,omitempty"`
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/return" {
		l.serveReturn(w, r)
		return
	}
	if r.URL.Path != "/webhooks" {
		http.Error(w, "not found: webhooks are received at /webhooks", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		l.warnf("refused a delivery: body unreadable or over %d bytes", maxWebhookBody)
		http.Error(w, "body unreadable or too large", http.StatusBadRequest)
		return
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	id := r.Header.Get(webhook.HeaderID)
	if err := webhook.Verify(r.Header, body, 0, now, l.secrets...); err != nil {
		l.warnf("refused webhook %q: %v", id, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var ev struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		// Signed, so from the gateway, but not JSON: print it as a string.
		body, _ = json.Marshal(string(body))
	}
	line := received{ID: id, Type: ev.Type, Body: body}
	status := http.StatusOK
	if l.forward != "" {
		status = l.pass(r, body)
		line.ForwardStatus = status
	}
	l.print(line)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"received":true}`+"\n")
}

// pass forwards a verified webhook, headers and body as received, and
// returns the status to answer with: the target's, or 502 if it did not
// answer.
func (l *listener) pass(r *http.Request, body []byte) int {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, l.forward, bytes.NewReader(body))
	if err != nil {
		l.warnf("forward: %v", err)
		return http.StatusBadGateway
	}
	for _, h := range []string{webhook.HeaderID, webhook.HeaderTimestamp, webhook.HeaderSignature, "Content-Type"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	c := l.client
	if c == nil {
		c = &http.Client{Timeout: webhook.AttemptTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		l.warnf("forward to %s: %v", l.forward, err)
		return http.StatusBadGateway
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookBody))
	return resp.StatusCode
}

func (l *listener) print(line received) {
	b, err := json.Marshal(line)
	if err != nil {
		l.warnf("print: %v", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.out.Write(append(b, '\n'))
}

func (l *listener) warnf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.warn, "gatewayctl listen: warning: "+format+"\n", args...)
}
