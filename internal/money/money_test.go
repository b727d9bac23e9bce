package money

import "testing"

func TestParse(t *testing.T) {
	t.Parallel()
	good := map[string]string{"1": "1", "75000": "75000", "999999999999999999": "999999999999999999"}
	for in, want := range good {
		d, err := Parse(in)
		if err != nil || Format(d) != want {
			t.Errorf("Parse(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"", "0", "075000", "75000.0", "7.5e4", "-1", "+1", " 1", "1 ", "1000000000000000000", "１２", "0x10"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}
