package receipt

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/citizenpay/gateway/internal/money"
)

// ErrAmount is AmountInWords' refusal of an amount that is not a wire
// amount (PROTOCOL.md §1): a whole number of đồng from 1 to 18 digits.
var ErrAmount = errors.New("receipt: amount must be a whole number of đồng from 1 to 999999999999999999")

var digitWords = [10]string{"không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"}

// groupNames name the groups of three digits below a tỷ, from the highest.
var groupNames = [3]string{"triệu", "nghìn", ""}

// AmountInWords reads amount in Vietnamese as accounting does
// (PROTOCOL.md §11, spec/vectors/amount_in_words.json): "75000" →
// "Bảy mươi lăm nghìn đồng". Groups of three digits are named nghìn, triệu,
// tỷ; above tỷ the count of tỷ is read the same way (một nghìn tỷ). A group
// that is not the leading one always reads its hundreds (không trăm), an
// all-zero group is skipped, a zero ten before a unit is linh, the unit 1
// after mươi is mốt, 5 after mười or mươi is lăm, and 4 is always bốn.
//
// The amount is checked against the wire rule first, so an amount the
// gateway would not accept is never read; it is done on the decimal digits,
// never through a float.
func AmountInWords(amount decimal.Decimal) (string, error) {
	if !amount.IsInteger() {
		return "", ErrAmount
	}
	digits := money.Format(amount)
	if _, err := money.Parse(digits); err != nil {
		return "", ErrAmount
	}
	// Split into the count of tỷ (at most nine digits, since the amount has
	// at most eighteen) and what is below a tỷ.
	var words []string
	tyCount, below := "", digits
	if len(digits) > 9 {
		tyCount, below = digits[:len(digits)-9], digits[len(digits)-9:]
	}
	leading := true
	if tyCount != "" {
		words = appendBelowTy(words, tyCount, &leading)
		words = append(words, "tỷ")
	}
	words = appendBelowTy(words, below, &leading)
	words = append(words, "đồng")
	return capitalise(strings.Join(words, " ")), nil
}

// appendBelowTy reads s, at most nine digits, as triệu, nghìn and units
// groups. *leading is true until a group has been read: only the first group
// of the whole amount may leave out its hundreds.
func appendBelowTy(words []string, s string, leading *bool) []string {
	s = strings.Repeat("0", 9-len(s)) + s
	for g := 0; g < 3; g++ {
		h, t, u := int(s[3*g]-'0'), int(s[3*g+1]-'0'), int(s[3*g+2]-'0')
		if h == 0 && t == 0 && u == 0 {
			continue
		}
		words = appendGroup(words, h, t, u, !*leading)
		*leading = false
		if groupNames[g] != "" {
			words = append(words, groupNames[g])
		}
	}
	return words
}

// appendGroup reads one group of three digits, not all zero. full says the
// hundreds are read even when zero (a group after the leading one).
func appendGroup(words []string, h, t, u int, full bool) []string {
	hundreds := full || h > 0
	if hundreds {
		words = append(words, digitWords[h], "trăm")
	}
	switch {
	case t == 0:
		if u == 0 {
			return words
		}
		if hundreds {
			words = append(words, "linh")
		}
		return append(words, digitWords[u])
	case t == 1:
		words = append(words, "mười")
	default:
		words = append(words, digitWords[t], "mươi")
	}
	switch {
	case u == 0:
		return words
	case u == 1 && t > 1:
		return append(words, "mốt")
	case u == 5:
		return append(words, "lăm")
	}
	return append(words, digitWords[u])
}

// capitalise upper-cases the first letter of s.
func capitalise(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}
