package plaintext_test

import (
	"testing"

	"github.com/citizenpay/gateway/internal/plaintext"
)

func TestFind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s       string
		k       plaintext.Kind
		r       rune
		at      int
		refused bool
	}{
		{"Lệ phí cấp giấy phép", plaintext.OneLine, 0, 0, false},
		{"", plaintext.OneLine, 0, 0, false},
		{"a\x00b", plaintext.OneLine, 0, 2, true},
		{"\x1f", plaintext.MultiLine, 0x1f, 1, true},
		{"ab\x7f", plaintext.OneLine, 0x7f, 3, true},
		{"é\u0080", plaintext.OneLine, 0x80, 2, true},
		{"\u009f", plaintext.OneLine, 0x9f, 1, true},
		{"\u00a0", plaintext.OneLine, 0, 0, false}, // no-break space is text
		{"a\tb", plaintext.OneLine, '\t', 2, true},
		{"a\tb\r\nc", plaintext.MultiLine, 0, 0, false},
		{"a\nb", plaintext.OneLine, '\n', 2, true},
		{"Phí \u202e00005", plaintext.MultiLine, 0x202e, 5, true},
		{"\u2066x\u2069", plaintext.OneLine, 0x2066, 1, true},
		{"\u200f", plaintext.OneLine, 0x200f, 1, true},
		{"\u061c", plaintext.OneLine, 0x061c, 1, true},
		{"a\u2028b", plaintext.MultiLine, 0x2028, 2, true},
		{"a\xffb", plaintext.OneLine, '\uFFFD', 2, true},
		{"a\uFFFDb", plaintext.OneLine, 0, 0, false}, // the replacement character itself is text
	}
	for _, tc := range cases {
		r, at, refused := plaintext.Find(tc.s, tc.k)
		if refused != tc.refused || at != tc.at || (refused && r != tc.r && tc.r != 0) {
			t.Errorf("Find(%q, %d) = %U, %d, %v; want %U, %d, %v", tc.s, tc.k, r, at, refused, tc.r, tc.at, tc.refused)
		}
	}
}

func TestStrip(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"FT-1":                     "FT-1",
		"FT\x00-1":                 "FT-1",
		"\x1b[31mFT\x7f\u0085-1\n": "[31mFT-1",
		"Số dư\u202e không đủ":     "Số dư không đủ",
		"a\xffb":                   "ab",
		"\x00\x01":                 "",
	}
	for in, want := range cases {
		if got := plaintext.Strip(in); got != want {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProblem(t *testing.T) {
	t.Parallel()
	if p := plaintext.Problem("description", "Lệ phí", plaintext.OneLine); p != "" {
		t.Fatalf("clean text: %q", p)
	}
	want := "description must not hold control or bidirectional formatting characters (U+0000 at character 3)"
	if p := plaintext.Problem("description", "Lệ\x00", plaintext.OneLine); p != want {
		t.Fatalf("got %q, want %q", p, want)
	}
}
