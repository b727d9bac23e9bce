// Package plaintext is the gateway's rule for the text it takes in, stores
// and shows: a portal's codes and descriptions, a refund's reason, a bank's
// references and messages.
//
// Text may not hold control characters — C0 (U+0000–U+001F), DEL (U+007F)
// and C1 (U+0080–U+009F) — nor the characters that reorder or split what a
// reader sees: the bidirectional marks, embeddings, overrides and isolates
// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and
// paragraph separators (U+2028, U+2029). PostgreSQL refuses U+0000 in text
// outright; the others would reach receipts, checkout pages and bank
// statements, where a right-to-left override makes "Phí 00005" read as
// something else. Multi-line fields (a metadata value, a refund's reason)
// may hold tab, line feed and carriage return; one-line fields may not.
package plaintext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind says which layout characters a field may hold.
type Kind int

// The kinds of field.
const (
	// OneLine fields hold no control character at all.
	OneLine Kind = iota
	// MultiLine fields may also hold tab, line feed and carriage return.
	MultiLine
)

// Refused reports whether r may not appear in a field of kind k.
func Refused(r rune, k Kind) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return k != MultiLine
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Find returns the first character of s that a field of kind k may not
// hold, and its position in characters counted from 1; ok is false when s
// is fine. Bytes that are not UTF-8 are refused as utf8.RuneError.
func Find(s string, k Kind) (r rune, at int, ok bool) {
	at = 0
	for i, c := range s {
		at++
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return c, at, true
			}
		}
		if Refused(c, k) {
			return c, at, true
		}
	}
	return 0, 0, false
}

// Problem returns why s may not be the value of field, a field of kind k,
// as a field problem's message; "" when it may.
func Problem(field, s string, k Kind) string {
	r, at, found := Find(s, k)
	if !found {
		return ""
	}
	what := "control or bidirectional formatting characters"
	if k == MultiLine {
		what = "control characters other than tab and line breaks, nor bidirectional formatting characters"
	}
	return fmt.Sprintf("%s must not hold %s (U+%04X at character %d)", field, what, r, at)
}

// Strip returns s without the characters a one-line field may not hold
// and without bytes that are not UTF-8. It is for text the gateway must
// keep although it came malformed: a bank's word about money is applied,
// never refused for its spelling.
func Strip(s string) string {
	if _, _, found := Find(s, OneLine); !found {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, c := range s {
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				continue
			}
		}
		if !Refused(c, OneLine) {
			b.WriteRune(c)
		}
	}
	return b.String()
}
