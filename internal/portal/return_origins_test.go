package portal

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestReturnOrigins(t *testing.T) {
	t.Parallel()
	got, err := ReturnOrigins([]string{"https://DVC.example.vn/ho-so?x=1", "https://dvc.example.vn:443", "https://a.example.vn:8443/"}, false)
	if err != nil || !slices.Equal(got, []string{"https://a.example.vn:8443", "https://dvc.example.vn"}) {
		t.Fatalf("ReturnOrigins = %q, %v", got, err)
	}
	if got, err := ReturnOrigins(nil, false); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ReturnOrigins(nil) = %#v, %v; want an empty set", got, err)
	}
	if got, err := ReturnOrigins([]string{"http://localhost:8099/return"}, true); err != nil || !slices.Equal(got, []string{"http://localhost:8099"}) {
		t.Fatalf("development http: %q, %v", got, err)
	}
	for _, bad := range [][]string{{"http://dvc.example.vn"}, {"https://dvc.example.vn", "dvc.example.vn"}, {"https://u@dvc.example.vn"}} {
		if _, err := ReturnOrigins(bad, false); !errors.Is(err, ErrInvalidReturnOrigin) || !strings.Contains(err.Error(), "https://") {
			t.Errorf("ReturnOrigins(%q) = %v, want a refusal that says https://", bad, err)
		}
	}
	many := make([]string, MaxReturnOrigins+1)
	for i := range many {
		many[i] = "https://p" + string(rune('a'+i)) + ".example.vn"
	}
	if _, err := ReturnOrigins(many, false); !errors.Is(err, ErrInvalidReturnOrigin) {
		t.Errorf("%d origins accepted", len(many))
	}
}
