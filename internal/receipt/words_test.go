package receipt

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/shopspring/decimal"
)

// TestAmountInWordsVectors reads every case of the spec's vectors (a copy
// in testdata/, so the package is self-contained).
func TestAmountInWordsVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/amount_in_words.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct {
		Cases []struct {
			Amount string `json:"amount"`
			Words  string `json:"words"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors.Cases) < 40 {
		t.Fatalf("only %d vectors read", len(vectors.Cases))
	}
	for _, tc := range vectors.Cases {
		got, err := AmountInWords(decimal.RequireFromString(tc.Amount))
		if err != nil {
			t.Errorf("AmountInWords(%s): %v", tc.Amount, err)
			continue
		}
		if got != tc.Words {
			t.Errorf("AmountInWords(%s)\n got %q\nwant %q", tc.Amount, got, tc.Words)
		}
	}
}

func TestAmountInWordsMore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ amount, words string }{
		{"4", "Bốn đồng"},
		{"104", "Một trăm linh bốn đồng"},
		{"1001", "Một nghìn không trăm linh một đồng"},
		{"1000001000", "Một tỷ không trăm linh một nghìn đồng"},
		{"1001000000000", "Một nghìn không trăm linh một tỷ đồng"},
		{"5000000005", "Năm tỷ không trăm linh năm đồng"},
	} {
		got, err := AmountInWords(decimal.RequireFromString(tc.amount))
		if err != nil || got != tc.words {
			t.Errorf("AmountInWords(%s) = %q, %v; want %q", tc.amount, got, err, tc.words)
		}
	}
}

func TestAmountInWordsRefuses(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-1", "1.5", "1000000000000000000", "-75000"} {
		if got, err := AmountInWords(decimal.RequireFromString(s)); !errors.Is(err, ErrAmount) {
			t.Errorf("AmountInWords(%s) = %q, %v; want ErrAmount", s, got, err)
		}
	}
}
