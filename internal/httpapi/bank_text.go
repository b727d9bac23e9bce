package httpapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/citizenpay/gateway/internal/plaintext"
)

// A bank's callback is the bank's word about money: it is applied even when
// its text is malformed. Its strings lose what the gateway's text rule
// refuses (plaintext.Strip), and the body kept as evidence is made storable.

// stripBankData returns data, a JSON object, with every string in it (keys
// included, at any depth) stripped of control and bidirectional formatting
// characters. Data that needs no stripping is returned as sent.
func stripBankData(data json.RawMessage) (json.RawMessage, error) {
	// Valid JSON holds a control character only as an escape, so data
	// without one, and without a bidirectional mark, needs no decoding: the
	// callback's hot path stays one byte scan.
	if !bytes.Contains(data, []byte(`\u`)) {
		if _, _, found := plaintext.Find(string(data), plaintext.MultiLine); !found {
			return data, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v, changed := stripStrings(v)
	if !changed {
		return data, nil
	}
	return json.Marshal(v)
}

func stripStrings(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		s := plaintext.Strip(x)
		return s, s != x
	case []any:
		changed := false
		for i, e := range x {
			var c bool
			x[i], c = stripStrings(e)
			changed = changed || c
		}
		return x, changed
	case map[string]any:
		changed := false
		out := make(map[string]any, len(x))
		for k, e := range x {
			s, c := stripStrings(e)
			ks := plaintext.Strip(k)
			out[ks] = s
			changed = changed || c || ks != k
		}
		return out, changed
	}
	return v, false
}

// storableEvidence returns body, a valid JSON text, with the escapes that
// PostgreSQL's jsonb cannot hold — \u0000 and an unpaired surrogate such as
// \ud800 — turned into the literal text they spell (\\u0000), so that the
// evidence of a callback keeps showing them. Any other body is returned
// byte for byte.
func storableEvidence(body []byte) []byte {
	if !bytes.Contains(body, []byte(`\u`)) {
		return body
	}
	out := make([]byte, 0, len(body)+16)
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case !inString:
			inString = c == '"'
			out = append(out, c)
		case c == '"':
			inString = false
			out = append(out, c)
		case c != '\\' || i+1 >= len(body):
			out = append(out, c)
		case body[i+1] != 'u':
			out = append(out, c, body[i+1])
			i++
		default:
			v, ok := escapeAt(body, i)
			switch {
			case !ok:
				out = append(out, c)
			case v >= 0xd800 && v <= 0xdbff:
				if low, ok := escapeAt(body, i+6); ok && low >= 0xdc00 && low <= 0xdfff {
					out = append(out, body[i:i+12]...)
					i += 11
					continue
				}
				out = append(out, '\\', '\\')
				out = append(out, body[i+1:i+6]...)
				i += 5
			case v == 0 || (v >= 0xdc00 && v <= 0xdfff):
				out = append(out, '\\', '\\')
				out = append(out, body[i+1:i+6]...)
				i += 5
			default:
				out = append(out, body[i:i+6]...)
				i += 5
			}
		}
	}
	return out
}

// escapeAt reads the \uXXXX escape at body[i:], if there is one.
func escapeAt(body []byte, i int) (uint64, bool) {
	if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 32)
	return v, err == nil
}
