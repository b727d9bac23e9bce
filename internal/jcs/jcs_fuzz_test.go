package jcs_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/citizenpay/gateway/internal/jcs"
)

// FuzzTransform checks RFC 8785 canonicalisation on arbitrary input: it never
// panics; what it accepts is valid JSON with the same meaning, which is
// already canonical (Transform is idempotent); and the same value written
// differently (re-marshalled by encoding/json, so other key order, escapes
// and number forms) has the same canonical form.
func FuzzTransform(f *testing.F) {
	for _, s := range []string{
		`{"b":1, "a" : [true,false,null]}`,
		`{"amount":"75000","items":[{"code":"LE_PHI","description":"Lệ phí","amount":"75000"}],"currency":"VND"}`,
		`"Lệ phí\u0041\n"`,
		`"\u001f\/\u2028<>&"`,
		`[1.0, 1e21, 1e-7, 0.000001, 123456789012345680000, -0, 3.5e2, 5e-324, 1.7976931348623157e308]`,
		`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Dalet","1":"One","\ud83d\ude00":"Grinning","\u0080":"Control","\u00f6":"o"}`,
		`{"a":1,"a":2}`,
		`"\ud800"`, `"\udc00\ud800"`, "\"\xff\xfe\"", "\"\x00\"",
		`[1e400]`, `-1e-400`, `1E+2`, `0.1e1`, `-0.0`,
		` {"a" : { "b" : [ ] , "c" : { } } } `,
		`null`, `true`, `""`, `[]`, `{}`,
		`{"a":1} x`, `{`, ``, `01`, `[1,]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := jcs.Transform(in)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Transform(%q) = %q: not JSON", in, out)
		}
		again, err := jcs.Transform(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: Transform(%q) = %q, then %q (%v)", in, out, again, err)
		}
		var vin, vout any
		if err := json.Unmarshal(in, &vin); err != nil {
			t.Fatalf("Transform accepted %q, which encoding/json refuses: %v", in, err)
		}
		if err := json.Unmarshal(out, &vout); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(vin, vout) {
			t.Fatalf("meaning changed: %q means %#v, its canonical form %q means %#v", in, vin, out, vout)
		}
		re, err := json.Marshal(vin)
		if err != nil {
			t.Fatal(err)
		}
		fromRe, err := jcs.Transform(re)
		if err != nil || !bytes.Equal(fromRe, out) {
			t.Fatalf("same value, different canonical form:\n%q → %q\n%q → %q (%v)", in, out, re, fromRe, err)
		}
	})
}
