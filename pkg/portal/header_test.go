package portal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCallerAcceptWins: a call that asks for another representation (the
// CSV of a settlement's lines) is sent with its own Accept, not JSON's.
func TestCallerAcceptWins(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Accept"))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "pk_1", "psk_secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), http.MethodGet, "/v1/settlements/stl_1/lines", nil, WithHeader("Accept", "text/csv")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), http.MethodGet, "/v1/settlements", nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "text/csv" || got[1] != "application/json" {
		t.Fatalf("Accept sent: %q", got)
	}
}
