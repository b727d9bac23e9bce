// Command portal is a small portal written with the gateway's Go client,
// pkg/portal, for a portal team to copy: it charges a fee, prints where the
// citizen pays, waits until the fee is paid, fetches the receipt, and
// verifies the gateway's webhooks in an HTTP handler meanwhile.
//
//	go run ./examples/portal [-portal .dev/portal.json] [-url http://127.0.0.1:8080] [-listen 127.0.0.1:8093]
//
// It reads the portal's credentials (key_id, secret, webhook_secret) from
// the file `make run` writes. See examples/portal/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/citizenpay/gateway/pkg/portal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	credFile := fs.String("portal", ".dev/portal.json", "the portal's credentials, as `gatewayctl portal create` prints them")
	baseURL := fs.String("url", envOr("GATEWAY_URL", "http://127.0.0.1:8080"), "the gateway's base URL")
	listen := fs.String("listen", "127.0.0.1:8093", "where the webhook handler listens (POST /webhooks)")
	pid := fs.String("pid", "079203001234", "the citizen's personal identification number (the dev stack's citizen)")
	dossier := fs.String("dossier", "EX-"+time.Now().Format("20060102-150405"), "the portal's case number")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cred, err := portal.LoadCredentials(*credFile)
	if err != nil {
		return err
	}
	client, err := portal.New(*baseURL, cred.KeyID, cred.Secret)
	if err != nil {
		return err
	}

	// Webhooks: verify every delivery before trusting it. Deliveries reach
	// this handler when the portal's webhook URL points at it.
	if cred.WebhookSecret != "" {
		srv := &http.Server{Addr: *listen, Handler: webhookHandler(cred.WebhookSecret, log), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("webhook handler", "err", err)
			}
		}()
		defer srv.Close()
		log.Info("verifying webhooks", "url", "http://"+*listen+"/webhooks")
	}

	// Charge the fee. The idempotency key names this one operation: after a
	// crash, the same key gives back the same request instead of a second.
	pr, err := client.CreatePaymentRequest(ctx, portal.CreatePaymentRequestParams{
		CitizenPID:  *pid,
		DossierCode: *dossier,
		ServiceCode: "1.001234",
		Description: "Lệ phí cấp giấy phép xây dựng",
		Items: []portal.Item{
			{Code: "LE_PHI", Description: "Lệ phí", Amount: "50000"},
			{Code: "PHI", Description: "Phí thẩm định", Amount: "25000"},
		},
		Amount: "75000",
	}, portal.WithIdempotencyKey("create-"+*dossier))
	var refusal *portal.Error
	switch {
	case errors.As(err, &refusal) && refusal.Code == portal.CodeDuplicateDossier:
		// The dossier already has a live request: carry on with that one.
		if pr, err = client.GetPaymentRequest(ctx, refusal.PaymentRequestID); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	fmt.Printf("payment request %s for dossier %s: %s %s\n", pr.ID, pr.DossierCode, pr.Amount, pr.Currency)
	fmt.Printf("the citizen pays at %s\n", pr.CheckoutURL)

	// Poll until it is paid (a portal that receives webhooks may wait for
	// payment_request.paid instead; polling is the fallback that never
	// misses).
	for pr.Status != portal.StatusPaid {
		if !pr.Live() {
			return fmt.Errorf("payment request %s is %s", pr.ID, pr.Status)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
		if pr, err = client.GetPaymentRequest(ctx, pr.ID); err != nil {
			return err
		}
		log.Info("status", "id", pr.ID, "status", pr.Status, "version", pr.Version)
	}
	fmt.Printf("paid at %s through %s (reference %s)\n", pr.Payment.PaidAt.Format(time.RFC3339), pr.Payment.BankCode, pr.Payment.BankReference)

	// The receipt is issued just after the payment.
	var rc *portal.Receipt
	for {
		rc, err = client.GetReceipt(ctx, pr.ID)
		if !portal.IsCode(err, portal.CodeNotFound) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return err
	}
	fmt.Printf("receipt %s: %s (%s), verify at %s\n", rc.Receipt.Number, rc.Receipt.Amount, rc.Receipt.AmountInWords, rc.Receipt.VerifyURL)
	return nil
}

// webhookHandler verifies each delivery's Standard Webhooks signature,
// refuses stale or forged ones, and applies an event's snapshot only when it
// is newer than what the portal holds (delivery order is not guaranteed).
func webhookHandler(secret string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := portal.VerifyWebhook(secret, r.Header, body, time.Now(), portal.DefaultWebhookTolerance); err != nil {
			log.Warn("webhook refused", "err", err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var ev portal.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		// A real portal stores ev.ID to skip redeliveries, and compares
		// the snapshot's version with the one it holds.
		attrs := []any{"id", ev.ID, "type", ev.Type}
		if pr := ev.Data.PaymentRequest; pr != nil {
			attrs = append(attrs, "payment_request", pr.ID, "status", pr.Status, "version", pr.Version)
		}
		log.Info("webhook", attrs...)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
