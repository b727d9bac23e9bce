package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const (
	sharedVectors = "../../../shared/spec/vectors/signature.json"
	localVectors  = "testdata/signature.json"
)

type vector struct {
	Name             string `json:"name"`
	Secret           string `json:"secret"`
	WebhookID        string `json:"webhook_id"`
	WebhookTimestamp string `json:"webhook_timestamp"`
	Body             string `json:"body"`
	WebhookSignature string `json:"webhook_signature"`
}

// loadVectors reads the shared spec's vectors, or the copy in testdata when
// the spec is not beside the repository.
func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile(sharedVectors)
	if errors.Is(err, os.ErrNotExist) {
		raw, err = os.ReadFile(localVectors)
	}
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		WebhookSignature []vector `json:"webhook_signature"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.WebhookSignature) == 0 {
		t.Fatal("no webhook_signature vectors")
	}
	return f.WebhookSignature
}

func mustSecret(t *testing.T, s string) Secret {
	t.Helper()
	sec, err := ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func newSecret(t *testing.T) (string, Secret) {
	t.Helper()
	text, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return text, mustSecret(t, text)
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			sec := mustSecret(t, v.Secret)
			unix, err := strconv.ParseInt(v.WebhookTimestamp, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			ts := time.Unix(unix, 0)
			body := []byte(v.Body)
			if got := Sign(v.WebhookID, ts, body, sec); got != v.WebhookSignature {
				t.Fatalf("Sign = %q, want %q", got, v.WebhookSignature)
			}
			h := Headers(v.WebhookID, ts, body, sec)
			for name, want := range map[string]string{HeaderID: v.WebhookID, HeaderTimestamp: v.WebhookTimestamp, HeaderSignature: v.WebhookSignature} {
				if got := h.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
			if err := Verify(h, body, 0, ts.Add(time.Minute), sec); err != nil {
				t.Errorf("Verify of the vector: %v", err)
			}
			if err := Verify(h, append(bytes.Clone(body), ' '), 0, ts, sec); !errors.Is(err, ErrNoMatch) {
				t.Errorf("Verify of an altered body = %v, want ErrNoMatch", err)
			}
			wh, err := standardwebhooks.NewWebhook(v.Secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
				t.Errorf("standardwebhooks refuses the vector's headers: %v", err)
			}
		})
	}
}

// TestVectorCopy keeps testdata/signature.json equal to the shared spec's.
func TestVectorCopy(t *testing.T) {
	t.Parallel()
	local, err := os.ReadFile(localVectors)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(sharedVectors)
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Log("shared spec not beside the repository; the testdata copy is the reference")
	case err != nil:
		t.Fatal(err)
	case !bytes.Equal(local, shared):
		t.Error("testdata/signature.json differs from spec/vectors/signature.json: copy it again")
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	_, a := newSecret(t)
	_, b := newSecret(t)
	ts := time.Unix(1795680121, 999_000_000) // sub-second part is dropped
	body := []byte("{}")
	one := Sign("evt_1", ts, body, a)
	if !strings.HasPrefix(one, "v1,") || strings.Contains(one, " ") {
		t.Errorf("single signature %q is not one v1 entry", one)
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(one, "v1,")); err != nil || len(raw) != 32 {
		t.Errorf("signature is not base64 of 32 bytes: %v, %d bytes", err, len(raw))
	}
	if got, want := Sign("evt_1", ts, body, a, b), one+" "+Sign("evt_1", ts, body, b); got != want {
		t.Errorf("dual signature = %q, want %q", got, want)
	}
	if Sign("evt_1", ts, body, a) != Sign("evt_1", time.Unix(1795680121, 0), body, a) {
		t.Error("the sub-second part of the timestamp changed the signature")
	}
	// Each part of the signed content matters.
	for name, other := range map[string]string{
		"id":        Sign("evt_2", ts, body, a),
		"timestamp": Sign("evt_1", ts.Add(time.Second), body, a),
		"body":      Sign("evt_1", ts, []byte("{ }"), a),
		"secret":    Sign("evt_1", ts, body, b),
	} {
		if other == one {
			t.Errorf("changing the %s did not change the signature", name)
		}
	}
}

func TestSignPanicsWithoutSecret(t *testing.T) {
	t.Parallel()
	_, sec := newSecret(t)
	calls := map[string][]Secret{"none": nil, "zero": {{}}, "zero after a good one": {sec, {}}}
	for name, secrets := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("Sign did not panic")
				}
			}()
			Sign("evt_1", time.Now(), nil, secrets...)
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	_, sec := newSecret(t)
	_, old := newSecret(t)
	_, stranger := newSecret(t)
	now := time.Unix(1795680121, 0)
	body := []byte(`{"id":"evt_1"}`)
	good := Headers("evt_1", now, body, sec)
	with := func(name, value string) http.Header {
		h := good.Clone()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	sig := good.Get(HeaderSignature)
	tests := []struct {
		name      string
		headers   http.Header
		body      []byte
		tolerance time.Duration
		now       time.Time
		secrets   []Secret
		want      error
	}{
		{name: "good", headers: good, secrets: []Secret{sec}},
		{name: "good, receiver holds two secrets", headers: good, secrets: []Secret{old, sec}},
		{name: "dual-signed, receiver holds the old one", headers: Headers("evt_1", now, body, sec, old), secrets: []Secret{old}},
		{name: "4 min 59 s old", headers: good, now: now.Add(299 * time.Second), secrets: []Secret{sec}},
		{name: "exactly 5 min old", headers: good, now: now.Add(5 * time.Minute), secrets: []Secret{sec}},
		{name: "5 min 1 s old", headers: good, now: now.Add(301 * time.Second), secrets: []Secret{sec}, want: ErrTooOld},
		{name: "5 min 1 s ahead", headers: good, now: now.Add(-301 * time.Second), secrets: []Secret{sec}, want: ErrTooNew},
		{name: "custom tolerance", headers: good, tolerance: 10 * time.Second, now: now.Add(11 * time.Second), secrets: []Secret{sec}, want: ErrTooOld},
		{name: "negative tolerance means the default", headers: good, tolerance: -1, now: now.Add(4 * time.Minute), secrets: []Secret{sec}},
		{name: "a leading zero on the timestamp", headers: with(HeaderTimestamp, "0"+good.Get(HeaderTimestamp)), secrets: []Secret{sec}},
		{name: "another secret", headers: good, secrets: []Secret{stranger}, want: ErrNoMatch},
		{name: "no secret", headers: good, want: ErrNoMatch},
		{name: "zero secret", headers: good, secrets: []Secret{{}}, want: ErrNoMatch},
		{name: "altered body", headers: good, body: []byte(`{"id":"evt_2"}`), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "altered id", headers: with(HeaderID, "evt_2"), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "timestamp moved by a second", headers: with(HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10)), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "other version only", headers: with(HeaderSignature, "v1a,"+strings.TrimPrefix(sig, "v1,")), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "unknown version beside v1", headers: with(HeaderSignature, "v2,abc "+sig), secrets: []Secret{sec}},
		{name: "extra spaces", headers: with(HeaderSignature, "  v1,AAAA  "+sig+" "), secrets: []Secret{sec}},
		{name: "not base64", headers: with(HeaderSignature, "v1,!!!"), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "truncated signature", headers: with(HeaderSignature, sig[:len(sig)-4]), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "hex instead of base64", headers: with(HeaderSignature, "v1,"+fmt.Sprintf("%x", []byte(sig))), secrets: []Secret{sec}, want: ErrNoMatch},
		{name: "missing id", headers: with(HeaderID, ""), secrets: []Secret{sec}, want: ErrMissingHeaders},
		{name: "missing timestamp", headers: with(HeaderTimestamp, ""), secrets: []Secret{sec}, want: ErrMissingHeaders},
		{name: "missing signature", headers: with(HeaderSignature, ""), secrets: []Secret{sec}, want: ErrMissingHeaders},
		{name: "timestamp in milliseconds", headers: with(HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10)), secrets: []Secret{sec}, want: ErrTooNew},
		{name: "timestamp with sign", headers: with(HeaderTimestamp, "+"+good.Get(HeaderTimestamp)), secrets: []Secret{sec}, want: ErrInvalidTimestamp},
		{name: "timestamp RFC 3339", headers: with(HeaderTimestamp, now.UTC().Format(time.RFC3339)), secrets: []Secret{sec}, want: ErrInvalidTimestamp},
		{name: "timestamp overflow", headers: with(HeaderTimestamp, "99999999999999999999"), secrets: []Secret{sec}, want: ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := body
			if tt.body != nil {
				b = tt.body
			}
			at := now
			if !tt.now.IsZero() {
				at = tt.now
			}
			err := Verify(tt.headers, b, tt.tolerance, at, tt.secrets...)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, n)) }
	tests := []struct {
		name, in string
		keyLen   int    // for success
		reason   string // for failure: a substring of the error
	}{
		{name: "vector", in: "whsec_cG9ydGFsLXdlYmhvb2stc2VjcmV0LTMyLWJ5dGVzISE=", keyLen: 32},
		{name: "24 bytes", in: "whsec_" + b64(24), keyLen: 24},
		{name: "64 bytes", in: "whsec_" + b64(64), keyLen: 64},
		{name: "trailing newline", in: "whsec_" + b64(32) + "\n", keyLen: 32},
		{name: "23 bytes", in: "whsec_" + b64(23), reason: "23 bytes, want 24 to 64"},
		{name: "65 bytes", in: "whsec_" + b64(65), reason: "65 bytes"},
		{name: "no prefix", in: b64(32), reason: "does not start with"},
		{name: "other prefix", in: "psk_" + b64(32), reason: "does not start with"},
		{name: "upper-case prefix", in: "WHSEC_" + b64(32), reason: "does not start with"},
		{name: "empty", in: "", reason: "does not start with"},
		{name: "prefix only", in: "whsec_", reason: "0 bytes"},
		{name: "url alphabet", in: "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))), reason: "not standard base64"},
		{name: "missing padding", in: "whsec_" + strings.TrimRight(b64(32), "="), reason: "not standard base64"},
		{name: "garbage", in: "whsec_not base64!", reason: "not standard base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sec, err := ParseSecret(tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("ParseSecret: %v", err)
				}
				if len(sec.key) != tt.keyLen {
					t.Fatalf("key is %d bytes, want %d", len(sec.key), tt.keyLen)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("ParseSecret = %v, want ErrInvalidSecret", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if len(tt.in) > 16 && strings.Contains(err.Error(), tt.in[6:16]) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		text, sec := newSecret(t)
		if !strings.HasPrefix(text, "whsec_") {
			t.Fatalf("%q lacks the prefix", text)
		}
		if len(sec.key) != NewSecretBytes {
			t.Fatalf("key is %d bytes, want %d", len(sec.key), NewSecretBytes)
		}
		if seen[text] {
			t.Fatalf("NewSecret repeated %q", text)
		}
		seen[text] = true
		if _, err := standardwebhooks.NewWebhook(text); err != nil {
			t.Fatalf("standardwebhooks cannot read %q: %v", text, err)
		}
	}
}

func TestSecretRedacted(t *testing.T) {
	t.Parallel()
	text, sec := newSecret(t)
	key := strings.TrimPrefix(text, "whsec_")
	for _, out := range []string{fmt.Sprint(sec), fmt.Sprintf("%+v", sec), fmt.Sprintf("%#v", sec), fmt.Sprintf("%v", []Secret{sec})} {
		if strings.Contains(out, key[:10]) || !strings.Contains(out, "REDACTED") {
			t.Errorf("printed Secret %q is not redacted", out)
		}
	}
}
