package httpapi

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/citizenpay/gateway/internal/errorref"
)

var update = flag.Bool("update", false, "write docs/errors.md from the registry and internal/errorref")

// TestErrorsDoc fails when a code of the registry has no text in
// internal/errorref (or the reverse), or when docs/errors.md is not what
// they make. go test ./internal/httpapi/ -run TestErrorsDoc -update
// writes it again.
func TestErrorsDoc(t *testing.T) {
	entries, ok := errorEntries()
	if !ok {
		for code := range codes {
			if _, found := errorref.Of(code); !found {
				t.Errorf("%s has no text in internal/errorref", code)
			}
		}
	}
	for _, code := range errorref.Codes() {
		if _, known := codes[code]; !known {
			t.Errorf("internal/errorref has a text for %s, which the registry does not know", code)
		}
	}
	want := errorref.Markdown(entries)
	path := filepath.Join("..", "..", "docs", "errors.md")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/errors.md is out of date: go test ./internal/httpapi/ -run TestErrorsDoc -update")
	}
}
