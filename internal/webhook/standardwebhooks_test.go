package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// TestStandardWebhooksVerifiesOurs runs the official Go library's Verify,
// which checks the timestamp against time.Now, on headers made by Headers.
func TestStandardWebhooksVerifiesOurs(t *testing.T) {
	t.Parallel()
	oldText, oldSec := newSecret(t)
	newText, newSec := newSecret(t)
	strangerText, _ := newSecret(t)
	body := []byte(`{"id":"evt_1","type":"payment_request.paid","data":{"payment_request":{"id":"pr_1","version":3}}}`)
	tests := []struct {
		name       string
		signWith   []Secret
		verifyWith string
		accept     bool
	}{
		{name: "one secret", signWith: []Secret{newSec}, verifyWith: newText, accept: true},
		{name: "rotation, portal holds the new secret", signWith: []Secret{newSec, oldSec}, verifyWith: newText, accept: true},
		{name: "rotation, portal holds the old secret", signWith: []Secret{newSec, oldSec}, verifyWith: oldText, accept: true},
		{name: "rotation, other order", signWith: []Secret{oldSec, newSec}, verifyWith: newText, accept: true},
		{name: "portal holds another secret", signWith: []Secret{newSec}, verifyWith: oldText, accept: false},
		{name: "rotation, portal holds a stranger", signWith: []Secret{newSec, oldSec}, verifyWith: strangerText, accept: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := Headers("evt_1", time.Now(), body, tt.signWith...)
			if n := len(strings.Fields(h.Get(HeaderSignature))); n != len(tt.signWith) {
				t.Errorf("%d signatures, want %d", n, len(tt.signWith))
			}
			wh, err := standardwebhooks.NewWebhook(tt.verifyWith)
			if err != nil {
				t.Fatal(err)
			}
			err = wh.Verify(body, h)
			if tt.accept && err != nil {
				t.Fatalf("standardwebhooks refuses: %v", err)
			}
			if !tt.accept && !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
				t.Fatalf("standardwebhooks = %v, want ErrNoMatchingSignature", err)
			}
		})
	}
}

// TestVerifiesStandardWebhooks checks that Verify accepts what the official
// library signs: the two implementations agree in both directions.
func TestVerifiesStandardWebhooks(t *testing.T) {
	t.Parallel()
	text, sec := newSecret(t)
	wh, err := standardwebhooks.NewWebhook(text)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1795680121, 0)
	body := []byte(`{"id":"evt_2"}`)
	sig, err := wh.Sign("evt_2", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if ours := Sign("evt_2", now, body, sec); sig != ours {
		t.Errorf("standardwebhooks signs %q, we sign %q", sig, ours)
	}
	h := http.Header{}
	h.Set(HeaderID, "evt_2")
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, sig)
	if err := Verify(h, body, time.Minute, now, sec); err != nil {
		t.Fatalf("Verify refuses the library's signature: %v", err)
	}
}
