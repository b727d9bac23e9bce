package incident

import "regexp"

// MaskRun is the fewest digits in a run that evidence keeps masked. A pid
// has 12 digits and an account number 6 to 19; nine catches every pid and
// most account numbers, and leaves what the operator reads an incident by:
// fees (75000 is five digits; 100 000 000 đồng, nine digits, is beyond any
// administrative fee), dates and times (2026-03-01, 08:00:00) and the
// gateway's own ids, which are never masked.
//
// Money fields are not exempt. They are whatever the bank wrote there, so
// a pid written as an "amount" would otherwise be kept in clear; a real
// amount of nine digits or more loses only its digits, and the incident's
// own records (the debit as sent) keep the amount the gateway asked for.
const MaskRun = 9

// gatewayID finds the gateway's ids (pa_…, pr_…: a prefix and a ULID in
// lower case), whose random part may hold digits by chance.
var gatewayID = regexp.MustCompile(`\b[a-z]{2,4}_[0-9a-z]{26}\b`)

// MaskText returns s with every run of MaskRun or more digits masked: each
// digit becomes '*', so the length stays visible. One space, dash or dot
// between two digits does not end a run ("079 203 001 234" is one run), as
// the bank protocol reads account numbers. The gateway's own ids are kept.
func MaskText(s string) string {
	return string(maskDigits([]byte(s), false))
}

// MaskJSON returns the JSON document b with every run of MaskRun or more
// digits masked as MaskText does, inside strings (escaped digits such as
// \u0031 count, and become '*') and in numbers, which become a string of
// '*' as long as the number. Everything else stays byte for byte, so a
// valid document stays valid; b that is not JSON is masked as text.
func MaskJSON(b []byte) []byte {
	return maskDigits(b, true)
}

// digit is one digit of the input: the bytes it spans (one, or six for
// \u003N).
type digit struct{ start, end int }

func maskDigits(b []byte, isJSON bool) []byte {
	keep := make([]bool, len(b)) // bytes inside a gateway id
	for _, loc := range gatewayID.FindAllIndex(b, -1) {
		for i := loc[0]; i < loc[1]; i++ {
			keep[i] = true
		}
	}
	out := make([]byte, 0, len(b))
	var run []digit // the current run, not yet written
	// flush writes the pending run, up to end, masked when long enough.
	flush := func(end int) {
		if len(run) == 0 {
			return
		}
		from := run[0].start
		if len(run) >= MaskRun {
			prev := from
			for _, d := range run {
				out = append(out, b[prev:d.start]...) // separators between digits
				out = append(out, '*')
				prev = d.end
			}
			out = append(out, b[prev:end]...)
		} else {
			out = append(out, b[from:end]...)
		}
		run = run[:0]
	}
	inString := !isJSON // plain text is one long string
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case isJSON && !inString && (c == '-' || c >= '0' && c <= '9'):
			// A number: masked as a whole, as a string, when it holds a run.
			j := i
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
				j++
			}
			if longestRun(b[i:j]) >= MaskRun {
				out = append(out, '"')
				for range j - i {
					out = append(out, '*')
				}
				out = append(out, '"')
			} else {
				out = append(out, b[i:j]...)
			}
			i = j
			continue
		case isJSON && !inString:
			if c == '"' {
				inString = true
			}
			out = append(out, c)
			i++
			continue
		}
		// In a string (or plain text).
		n, isDigit := 1, c >= '0' && c <= '9' && !keep[i]
		if isJSON && c == '\\' {
			n = 2
			if i+5 < len(b) && b[i+1] == 'u' && b[i+2] == '0' && b[i+3] == '0' && b[i+4] == '3' && b[i+5] >= '0' && b[i+5] <= '9' {
				n, isDigit = 6, true
			}
			n = min(n, len(b)-i)
		}
		switch {
		case isDigit:
			run = append(run, digit{i, i + n})
		case len(run) > 0 && isSeparator(c) && i == run[len(run)-1].end && nextIsDigit(b, i+1, keep):
			// A separator inside a run: written when the run is.
		default:
			flush(i)
			if isJSON && c == '"' {
				inString = false
			}
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	flush(len(b))
	return out
}

// isSeparator reports whether c may sit between two digits of one run.
func isSeparator(c byte) bool { return c == ' ' || c == '-' || c == '.' }

// nextIsDigit reports whether a digit (plain or escaped) starts at b[i].
func nextIsDigit(b []byte, i int, keep []bool) bool {
	if i >= len(b) {
		return false
	}
	if b[i] >= '0' && b[i] <= '9' {
		return !keep[i]
	}
	return i+5 < len(b) && b[i] == '\\' && b[i+1] == 'u' && b[i+2] == '0' && b[i+3] == '0' && b[i+4] == '3' && b[i+5] >= '0' && b[i+5] <= '9'
}

// longestRun counts the digits of the longest run in a JSON number.
func longestRun(num []byte) int {
	best, cur := 0, 0
	for _, c := range num {
		if c >= '0' && c <= '9' {
			cur++
			best = max(best, cur)
		} else if !isSeparator(c) {
			cur = 0
		}
	}
	return best
}
