package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/devenv"
	"github.com/citizenpay/gateway/internal/signature"
)

// The hosted checkout in development: the development portal may send
// citizens back to the webhook receiver's return page, and every run
// creates a fresh fee for the first sandbox citizen and prints where to pay
// it, so a browser goes from the checkout to the return page and back.

// returnOrigin is the origin of the webhook receiver (gatewayctl listen),
// registered as the development portal's return origin.
func returnOrigin(st devenv.Stack) string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(st.WebhookPort))
}

// returnURL is the receiver's return page.
func returnURL(st devenv.Stack) string { return returnOrigin(st) + "/return" }

// ensureReturnOrigin adds the receiver's origin to the portal's return
// origins when a portal kept from an earlier run lacks it (has holds the
// portal's current set), keeping any the developer added.
func ensureReturnOrigin(ctx context.Context, ctl gatewayctl, st devenv.Stack, portalID string, has []string, log func(string, ...any)) error {
	want := returnOrigin(st)
	if slices.Contains(has, want) {
		return nil
	}
	log("registering %s as a return origin of the development portal", want)
	var set struct {
		ReturnOrigins []string `json:"return_origins"`
	}
	args := append([]string{"portal", "set-return-origins", "--portal", portalID, "--by", operator}, append(slices.Clone(has), want)...)
	if err := ctl.runJSON(ctx, &set, args...); err != nil {
		return err
	}
	if !slices.Contains(set.ReturnOrigins, want) {
		return fmt.Errorf("gatewayctl portal set-return-origins did not keep %s", want)
	}
	return nil
}

// demoFee creates fees for the development portal by signed requests, as a
// portal would.
type demoFee struct {
	client  *http.Client
	gateway string // the gateway's base URL
	creds   portalCreds
	now     func() time.Time
	// ticks paces the wait for the gateway to be ready: a channel that
	// says when to ask again, and the function that stops it.
	ticks func() (<-chan time.Time, func())
}

// every is a ticks of period d.
func every(d time.Duration) func() (<-chan time.Time, func()) {
	return func() (<-chan time.Time, func()) {
		t := time.NewTicker(d)
		return t.C, t.Stop
	}
}

// waitReady polls the gateway's /readyz until it answers 200, ctx ends or
// within passes.
func (d demoFee) waitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick, stop := d.ticks()
	defer stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.gateway+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := d.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the gateway at %s was not ready within %s", d.gateway, within)
		case <-tick:
		}
	}
}

// create creates a fresh fee for citizen pid, returning to back, and
// returns its checkout_url. Its dossier code is new at every run, so it
// never meets the live fee of an earlier one.
func (d demoFee) create(ctx context.Context, pid, back string) (string, error) {
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	now := d.now()
	body, err := json.Marshal(map[string]any{
		"citizen_pid":  pid,
		"dossier_code": "DEV-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(rnd[:]),
		"service_code": "1.001234",
		"description":  "Lệ phí cấp giấy phép xây dựng (thử nghiệm)",
		"items": []map[string]string{
			{"code": "LE_PHI", "description": "Lệ phí", "amount": "50000"},
			{"code": "PHI", "description": "Phí thẩm định", "amount": "25000"},
		},
		"amount":     "75000",
		"currency":   "VND",
		"return_url": back,
	})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.gateway+"/v1/payment-requests", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signature.HeaderIdempotencyKey, "devstack-"+hex.EncodeToString(rnd[:])+"-"+strconv.FormatInt(now.UnixNano(), 36))
	req.Header.Set(signature.HeaderPortalKey, d.creds.KeyID)
	signature.SignRequest(req, d.creds.Secret, body, now)
	resp, err := d.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("create the demo fee: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("create the demo fee: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create the demo fee: %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	var pr struct {
		CheckoutURL string `json:"checkout_url"`
	}
	if err := json.Unmarshal(out, &pr); err != nil || pr.CheckoutURL == "" {
		return "", errors.New("create the demo fee: the answer holds no checkout_url")
	}
	return pr.CheckoutURL, nil
}

// announceCheckout waits for the gateway, creates the demo fee for the
// first sandbox citizen and prints `Checkout: <checkout_url>` on w (and in
// the log). A failure is logged and leaves the stack running: the fee is a
// convenience, not part of the stack.
func announceCheckout(ctx context.Context, d demoFee, st devenv.Stack, w io.Writer, log func(string, ...any)) (string, error) {
	if err := d.waitReady(ctx, time.Minute); err != nil {
		log("no demo fee: %v", err)
		return "", err
	}
	url, err := d.create(ctx, sandboxCitizens[0].pid, returnURL(st))
	if err != nil {
		log("no demo fee: %v", err)
		return "", err
	}
	log("a demo fee for %s, who pays it at its checkout page: %s", sandboxCitizens[0].name, url)
	fmt.Fprintf(w, "Checkout: %s\n", url)
	return url, nil
}
