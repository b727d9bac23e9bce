package signature

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type vector struct {
	Name           string `json:"name"`
	Secret         string `json:"secret"`
	Timestamp      string `json:"timestamp"`
	Method         string `json:"method"`
	RequestTarget  string `json:"request_target"`
	IdempotencyKey string `json:"idempotency_key"`
	Body           string `json:"body"`
	Canonical      string `json:"canonical"`
	XSignature     string `json:"x_signature"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/signature.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		RequestSignature []vector `json:"request_signature"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.RequestSignature) == 0 {
		t.Fatal("no vectors")
	}
	return f.RequestSignature
}

func (v vector) message() Message {
	return Message{Timestamp: v.Timestamp, Method: v.Method, Target: v.RequestTarget, IdempotencyKey: v.IdempotencyKey, Body: []byte(v.Body)}
}

func (v vector) at() time.Time {
	ts, _ := strconv.ParseInt(v.Timestamp, 10, 64)
	return time.Unix(ts, 0)
}

func TestVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			m := v.message()
			if got := m.Canonical(); got != v.Canonical {
				t.Fatalf("canonical:\n got %q\nwant %q", got, v.Canonical)
			}
			if got := Sign(v.Secret, m); got != v.XSignature {
				t.Fatalf("signature: got %s want %s", got, v.XSignature)
			}
			if err := Verify(v.XSignature, []string{v.Secret}, m, v.at()); err != nil {
				t.Fatalf("verify: %v", err)
			}
			// Several values, one of them right, and an old secret beside the new one.
			multi := "v1=" + strings.Repeat("00", 32) + " " + v.XSignature
			if err := Verify(multi, []string{"psk_other", v.Secret}, m, v.at().Add(299*time.Second)); err != nil {
				t.Fatalf("verify several: %v", err)
			}
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)[0]
	base := v.message()
	tests := []struct {
		name    string
		header  string
		secrets []string
		mutate  func(*Message)
		now     time.Time
		want    error
	}{
		{name: "wrong secret", header: v.XSignature, secrets: []string{"psk_wrong"}, want: ErrMismatch},
		{name: "tampered body", header: v.XSignature, mutate: func(m *Message) { m.Body = append([]byte(nil), append(m.Body, ' ')...) }, want: ErrMismatch},
		{name: "tampered query", header: v.XSignature, mutate: func(m *Message) { m.Target += "?x=1" }, want: ErrMismatch},
		{name: "tampered method", header: v.XSignature, mutate: func(m *Message) { m.Method = "PUT" }, want: ErrMismatch},
		{name: "tampered idempotency key", header: v.XSignature, mutate: func(m *Message) { m.IdempotencyKey += "x" }, want: ErrMismatch},
		{name: "skew past", header: v.XSignature, now: v.at().Add(301 * time.Second), want: ErrSkew},
		{name: "skew future", header: v.XSignature, now: v.at().Add(-301 * time.Second), want: ErrSkew},
		{name: "missing signature", header: "", want: ErrMissing},
		{name: "missing timestamp", header: v.XSignature, mutate: func(m *Message) { m.Timestamp = "" }, want: ErrMissing},
		{name: "bad timestamp", header: v.XSignature, mutate: func(m *Message) { m.Timestamp = "12a" }, want: ErrTimestamp},
		{name: "wrong scheme", header: strings.Replace(v.XSignature, "v1=", "v2=", 1), want: ErrMalformed},
		{name: "not hex", header: "v1=zz", want: ErrMalformed},
		{name: "uppercase is another value", header: strings.ToUpper(v.XSignature), want: ErrMalformed},
		{name: "no secrets", header: v.XSignature, secrets: []string{}, want: ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			m.Body = append([]byte(nil), base.Body...)
			if tt.mutate != nil {
				tt.mutate(&m)
			}
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{v.Secret}
			}
			now := tt.now
			if now.IsZero() {
				now = v.at()
			}
			err := Verify(tt.header, secrets, m, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			// Precheck refuses everything that needs no secret, and only that.
			pre := Precheck(tt.header, m.Timestamp, now)
			if tt.want == ErrMismatch && pre != nil || tt.want != ErrMismatch && !errors.Is(pre, tt.want) {
				t.Fatalf("precheck: got %v for a request Verify refuses with %v", pre, tt.want)
			}
		})
	}
}

func TestSignRequestRoundTrip(t *testing.T) {
	t.Parallel()
	secret := "bsk_test_roundtrip"
	body := []byte(`{"a":1}`)
	var got error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, len(body))
		_, _ = r.Body.Read(b)
		got = Verify(r.Header.Get(HeaderSignature), []string{secret}, FromRequest(r, b), time.Now())
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/gw/v1/debits?x=a%2Fb", strings.NewReader(string(body)))
	req.Header.Set(HeaderIdempotencyKey, "pa_1")
	SignRequest(req, secret, body, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got != nil {
		t.Fatalf("server could not verify: %v", got)
	}
}
