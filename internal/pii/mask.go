package pii

import "strings"

// MaskPID returns pid with all but its first three and last three characters
// replaced by stars: "079203001234" → "079******234". The first three are the
// province code and the last three too few to identify anyone. A value shorter
// than 12 characters is not a pid and is masked entirely, so that a malformed
// input never shows more than half of itself.
func MaskPID(pid string) string {
	r := []rune(pid)
	if len(r) < 12 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-6) + string(r[len(r)-3:])
}

// MaskAccount returns six stars and the last four digits of an account number:
// "0071000123456" → "******3456". Only the digits of n count, so separators in
// an unnormalised number do not show up. Six stars whatever the length, so the
// mask does not tell the length either. A number of fewer than eight digits
// gets only the six stars: showing four of them would show most of it.
func MaskAccount(n string) string {
	if n == "" {
		return ""
	}
	digits := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if c := n[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) < 8 {
		return "******"
	}
	return "******" + string(digits[len(digits)-4:])
}
