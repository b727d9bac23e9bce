package portal

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vectors are internal/signature's test vectors (spec/vectors/signature.json):
// the client signs exactly as the gateway verifies.
type vectors struct {
	RequestSignature []struct {
		Name           string `json:"name"`
		Secret         string `json:"secret"`
		Timestamp      string `json:"timestamp"`
		Method         string `json:"method"`
		RequestTarget  string `json:"request_target"`
		IdempotencyKey string `json:"idempotency_key"`
		Body           string `json:"body"`
		Canonical      string `json:"canonical"`
		XSignature     string `json:"x_signature"`
	} `json:"request_signature"`
	WebhookSignature []struct {
		Name             string `json:"name"`
		Secret           string `json:"secret"`
		WebhookID        string `json:"webhook_id"`
		WebhookTimestamp string `json:"webhook_timestamp"`
		Body             string `json:"body"`
		WebhookSignature string `json:"webhook_signature"`
	} `json:"webhook_signature"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile("../../internal/signature/testdata/signature.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.RequestSignature) == 0 || len(v.WebhookSignature) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestSignMatchesVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).RequestSignature {
		t.Run(v.Name, func(t *testing.T) {
			c := Canonical(v.Timestamp, v.Method, v.RequestTarget, v.IdempotencyKey, []byte(v.Body))
			if c != v.Canonical {
				t.Fatalf("canonical\n got %q\nwant %q", c, v.Canonical)
			}
			if got := Sign(v.Secret, c); got != v.XSignature {
				t.Fatalf("Sign = %s, want %s", got, v.XSignature)
			}
			req, err := http.NewRequest(v.Method, "https://pay.gateway.test"+v.RequestTarget, strings.NewReader(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			if v.IdempotencyKey != "" {
				req.Header.Set(HeaderIdempotencyKey, v.IdempotencyKey)
			}
			ts, _ := strconv.ParseInt(v.Timestamp, 10, 64)
			if got := SignRequest(req, v.Secret, []byte(v.Body), time.Unix(ts, 0)); got != v.Canonical {
				t.Fatalf("SignRequest signed %q, want %q", got, v.Canonical)
			}
			if req.Header.Get(HeaderSignature) != v.XSignature || req.Header.Get(HeaderTimestamp) != v.Timestamp {
				t.Fatalf("headers %v", req.Header)
			}
		})
	}
}

func TestVerifyWebhookVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).WebhookSignature {
		t.Run(v.Name, func(t *testing.T) {
			h := http.Header{}
			h.Set(HeaderWebhookID, v.WebhookID)
			h.Set(HeaderWebhookTimestamp, v.WebhookTimestamp)
			h.Set(HeaderWebhookSignature, v.WebhookSignature)
			ts, _ := strconv.ParseInt(v.WebhookTimestamp, 10, 64)
			at := time.Unix(ts, 0)
			if err := VerifyWebhook(v.Secret, h, []byte(v.Body), at.Add(time.Minute), 0); err != nil {
				t.Fatalf("vector refused: %v", err)
			}
			if err := VerifyWebhook(v.Secret, h, []byte(v.Body+" "), at, 0); err != ErrWebhookSignature {
				t.Fatalf("changed body: %v", err)
			}
			if err := VerifyWebhook(v.Secret, h, []byte(v.Body), at.Add(6*time.Minute), 0); err != ErrWebhookStale {
				t.Fatalf("stale: %v", err)
			}
			if err := VerifyWebhook(v.Secret, h, []byte(v.Body), at.Add(-2*time.Minute), time.Minute); err != ErrWebhookStale {
				t.Fatalf("from the future: %v", err)
			}
		})
	}
}
