package jcs

import "testing"

func TestTransform(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"b":1, "a" : [true,false,null]}`, `{"a":[true,false,null],"b":1}`},
		{`{"amount":"75000","items":[{"code":"X","amount":"1"}]}`, `{"amount":"75000","items":[{"amount":"1","code":"X"}]}`},
		{`"Lệ phí\u0041\n"`, `"Lệ phíA\n"`},
		{`"\u001f\/"`, `"\u001f/"`},
		{`[1.0, 1e21, 1e-7, 0.000001, 123456789012345680000, -0, 3.5e2]`, `[1,1e+21,1e-7,0.000001,123456789012345680000,0,350]`},
		// RFC 8785 §3.2.3 sort example: by UTF-16 code units.
		{`{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
	}
	for _, tt := range tests {
		got, err := Transform([]byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if string(got) != tt.want {
			t.Errorf("Transform(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestTransformRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"a":1} x`, `[1e400]`} {
		if _, err := Transform([]byte(in)); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
}
