package verify

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/citizenpay/gateway/internal/pii"
)

// clearScanner finds personal data in clear in text: personal ID numbers
// (a run of exactly 12 digits that passes pii.ValidatePID), account
// numbers known to the caller, and, in fields named like an account,
// digit runs as long as an account number.
type clearScanner struct {
	known []string // normalised, longest first
}

func newClearScanner(known []string) *clearScanner {
	s := &clearScanner{}
	seen := map[string]bool{}
	for _, k := range known {
		n, err := pii.NormalizeAccount(k)
		if err != nil || seen[n] {
			continue
		}
		seen[n] = true
		s.known = append(s.known, n)
	}
	sort.Slice(s.known, func(i, j int) bool { return len(s.known[i]) > len(s.known[j]) })
	return s
}

// hit is one kind of personal data found at one place.
type hit struct {
	check string
	where string // a JSON path, a column, a field
}

// maxNesting bounds how deep JSON inside JSON strings is opened.
const maxNesting = 3

// scan looks for personal data in value, which sits at where (a column or
// field name); accountField says where names an account number.
func (s *clearScanner) scan(where, value string, accountField bool) []hit {
	return s.scanDepth(where, value, accountField, 0)
}

func (s *clearScanner) scanDepth(where, value string, accountField bool, depth int) []hit {
	if depth < maxNesting {
		if v, ok := parseJSON(value); ok {
			var hits []hit
			s.walk(where, v, accountField, depth+1, &hits)
			return hits
		}
	}
	return s.scanLeaf(where, value, accountField)
}

// walk visits a decoded JSON value; keys are scanned too, as a pid may
// serve as a key.
func (s *clearScanner) walk(path string, v any, accountField bool, depth int, hits *[]hit) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := path + "." + k
			*hits = append(*hits, s.scanLeaf(child+" (key)", k, false)...)
			s.walk(child, v[k], isAccountField(k), depth, hits)
		}
	case []any:
		for i, e := range v {
			s.walk(path+"["+strconv.Itoa(i)+"]", e, accountField, depth, hits)
		}
	case string:
		*hits = append(*hits, s.scanDepth(path, v, accountField, depth)...)
	case json.Number:
		*hits = append(*hits, s.scanLeaf(path, v.String(), accountField)...)
	}
}

// parseJSON decodes value when it is a JSON object or array.
func parseJSON(value string) (any, bool) {
	t := strings.TrimSpace(value)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	return v, true
}

func (s *clearScanner) scanLeaf(where, value string, accountField bool) []hit {
	var hits []hit
	for _, run := range digitRuns(maskHex(value)) {
		if len(run) == pii.PIDLength && pii.ValidatePID(run) == nil {
			hits = append(hits, hit{CheckClearPID, where})
			break
		}
	}
	if s.findKnown(value) != "" {
		hits = append(hits, hit{CheckClearAccount, where})
	} else if accountField && longestAccountRun(idInText.ReplaceAllString(value, "")) >= pii.MinAccountDigits {
		hits = append(hits, hit{CheckAccountLikeDigit, where})
	}
	return hits
}

// findKnown returns the first known account number in value, also when it
// is written with separators.
func (s *clearScanner) findKnown(value string) string {
	if len(s.known) == 0 {
		return ""
	}
	stripped := stripSeparators(value)
	for _, k := range s.known {
		if strings.Contains(value, k) || strings.Contains(stripped, k) {
			return k
		}
	}
	return ""
}

// redact masks every pid and known account number in s, so that a report
// that names a row by its key never shows one.
func (s *clearScanner) redact(text string) string {
	if text == "" {
		return text
	}
	for _, run := range digitRuns(text) {
		if len(run) == pii.PIDLength && pii.ValidatePID(run) == nil {
			text = strings.ReplaceAll(text, run, pii.MaskPID(run))
		}
	}
	for _, k := range s.known {
		text = strings.ReplaceAll(text, k, pii.MaskAccount(k))
	}
	return text
}

// digitRuns returns the maximal runs of ASCII digits in s.
func digitRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		digit := i < len(s) && s[i] >= '0' && s[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			runs = append(runs, s[start:i])
			start = -1
		}
	}
	return runs
}

// hexToken matches UUIDs and long hexadecimal strings (hashes, trace ids,
// random idempotency keys), in which 12 digits in a row turn up by chance:
// about once in 300 random UUIDs.
var hexToken = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}`)

// maskHex blanks the hexadecimal tokens of s that hold a letter, so that
// their digits are not taken for a pid. A pid among digits only is kept.
func maskHex(s string) string {
	return hexToken.ReplaceAllStringFunc(s, func(tok string) string {
		if strings.IndexFunc(tok, func(r rune) bool { return r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' }) < 0 {
			return tok
		}
		return strings.Repeat("x", len(tok))
	})
}

// longestAccountRun counts the digits of the longest run in s, where one
// space, dash or dot between two digits does not end a run (as
// pii.NormalizeAccount reads "0071 000-123.456").
func longestAccountRun(s string) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			cur++
			best = max(best, cur)
		case (c == ' ' || c == '-' || c == '.') && cur > 0 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
		default:
			cur = 0
		}
	}
	return best
}

func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// idInText finds the gateway's own ids (acc_…, pa_…), whose random part may
// hold digit runs, alone or inside a longer value such as the ledger account
// "portal_payable:ptl_01m8…".
var idInText = regexp.MustCompile(`\b[a-z]{2,4}_[0-9a-z]{10,40}\b`)

// isAccountField reports whether a column, JSON key or log field named name
// holds an account number by its name. Ids, blind indexes and ciphertexts
// of accounts do not.
func isAccountField(name string) bool {
	n := strings.ToLower(name)
	if !strings.Contains(n, "account") && !strings.Contains(n, "acct") {
		return false
	}
	for _, suffix := range []string{"id", "ids", "index", "sealed"} {
		if strings.HasSuffix(n, suffix) {
			return false
		}
	}
	for _, suffix := range []string{"at", "count", "status"} {
		if strings.HasSuffix(n, "_"+suffix) || strings.HasSuffix(name, strings.ToUpper(suffix[:1])+suffix[1:]) {
			return false
		}
	}
	return true
}

// scanBytes scans a bytea value: as text when it is (a stored response
// body, say); ciphertext and hashes almost never hold 12 ASCII digits in a
// row, so they are scanned as they are.
func (s *clearScanner) scanBytes(where string, b []byte, accountField bool) []hit {
	if bytes.IndexFunc(b, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return nil
	}
	return s.scan(where, string(b), accountField)
}
