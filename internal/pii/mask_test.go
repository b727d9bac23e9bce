package pii

import "testing"

func TestMaskPID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"079203001234", "079******234"},
		{"001090012345", "001******345"},
		{"0792030012345", "079*******345"}, // too long: still at most the ends shown
		{"07920300123", "***********"},     // too short: nothing shown
		{"123", "***"},
		{"", ""},
		{"０７９２０３００１２３４", "０７９******２３４"}, // counted in characters, not bytes
	}
	for _, tt := range tests {
		if got := MaskPID(tt.in); got != tt.want {
			t.Errorf("MaskPID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskAccount(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"0071000123456", "******3456"},
		{"12345678", "******5678"},
		{"1234567890123456789", "******6789"},
		{"0071 000-123.456", "******3456"}, // separators never shown
		{"1234567", "******"},              // fewer than 8 digits: no digit shown
		{"123456", "******"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskAccount(tt.in); got != tt.want {
			t.Errorf("MaskAccount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
