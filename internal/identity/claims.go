package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/citizenpay/gateway/internal/pii"
)

// maxNumericDate is 9999-12-31T23:59:59Z; later "dates" are garbage.
const maxNumericDate = 253402300799

// ClaimRules are PROTOCOL.md §2's rules on the claims of a token whose
// signature has already been checked: the issuer, the audience, exp/nbf/iat
// with the leeway, and the citizen's pid, name, birthdate and loa. The
// Verifier applies them to bearer tokens; the sign-in of the hosted checkout
// (§10) applies them to ID tokens, with the client id as the audience, so that
// both accept exactly the same identities.
type ClaimRules struct {
	Issuer   string        // exact value required in "iss"
	Audience string        // value "aud" must contain
	Leeway   time.Duration // clock skew tolerated; zero means DefaultLeeway
}

// Citizen checks payload, the JSON claims of a verified token, at now and
// returns the citizen it identifies. Errors wrap ErrInvalidToken or, for a pid
// that breaks the CCCD rules, ErrInvalidIdentity; their reasons never carry
// personal data.
func (r ClaimRules) Citizen(payload []byte, now time.Time) (Citizen, error) {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return Citizen{}, invalid("claims are not a JSON object")
	}
	leeway := r.Leeway
	if leeway <= 0 {
		leeway = DefaultLeeway
	}

	iss, ok := stringClaim(claims, "iss")
	if r.Issuer == "" || !ok || iss != r.Issuer {
		return Citizen{}, invalid("wrong issuer")
	}
	if r.Audience == "" || !audienceContains(claims["aud"], r.Audience) {
		return Citizen{}, invalid("wrong audience")
	}
	exp, present, valid := dateClaim(claims, "exp")
	if !present || !valid {
		return Citizen{}, invalid("exp missing or malformed")
	}
	if !now.Before(exp.Add(leeway)) {
		return Citizen{}, invalid("token expired")
	}
	nbf, present, valid := dateClaim(claims, "nbf")
	if !valid {
		return Citizen{}, invalid("nbf malformed")
	}
	if present && now.Add(leeway).Before(nbf) {
		return Citizen{}, invalid("token not yet valid")
	}
	iat, present, valid := dateClaim(claims, "iat")
	if !valid {
		return Citizen{}, invalid("iat malformed")
	}
	if present && now.Add(leeway).Before(iat) {
		return Citizen{}, invalid("token issued in the future")
	}
	sub := ""
	if _, present := claims["sub"]; present {
		if sub, ok = stringClaim(claims, "sub"); !ok {
			return Citizen{}, invalid("sub is not a string")
		}
	}

	pid, ok := stringClaim(claims, "pid")
	if !ok || !isDigits(pid, 12) {
		return Citizen{}, invalid("pid missing or not 12 digits")
	}
	name, ok := stringClaim(claims, "name")
	if !ok || strings.TrimSpace(name) == "" {
		return Citizen{}, invalid("name missing or empty")
	}
	birthdate, ok := stringClaim(claims, "birthdate")
	if !ok || !isDate(birthdate) {
		return Citizen{}, invalid("birthdate missing or not YYYY-MM-DD")
	}
	loa, ok := intClaim(claims, "loa")
	if !ok || loa < 0 {
		return Citizen{}, invalid("loa missing or not a non-negative JSON integer")
	}
	if err := pii.ValidatePIDBirthdate(pid, birthdate); err != nil {
		// pii's messages say which rule failed and never quote the pid; the
		// tests hold both packages to that.
		return Citizen{}, fmt.Errorf("%w: %w", ErrInvalidIdentity, err)
	}
	return Citizen{
		PID:       pid,
		Name:      name,
		Birthdate: birthdate,
		LOA:       loa,
		Issuer:    iss,
		Subject:   sub,
		ExpiresAt: exp,
	}, nil
}

// stringClaim returns a claim that must be a JSON string.
func stringClaim(claims map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := claims[name]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// intClaim returns a claim that must be a JSON integer literal: "2", 2.0,
// 2e0 and 2.5 are all refused.
func intClaim(claims map[string]json.RawMessage, name string) (int, bool) {
	raw, ok := claims[name]
	if !ok {
		return 0, false
	}
	s := string(raw)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || !isDigits(digits, len(digits)) || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// dateClaim returns a NumericDate claim (RFC 7519 §2: seconds since the
// epoch, fractions allowed). present is false when the claim is absent; valid
// is false when it is there but not a usable number.
func dateClaim(claims map[string]json.RawMessage, name string) (t time.Time, present, valid bool) {
	raw, present := claims[name]
	if !present {
		return time.Time{}, false, true
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var n any
	if err := d.Decode(&n); err != nil {
		return time.Time{}, true, false
	}
	num, isNum := n.(json.Number)
	if !isNum {
		return time.Time{}, true, false
	}
	f, err := num.Float64()
	if err != nil || f < 0 || f > maxNumericDate {
		return time.Time{}, true, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, true
}

// audienceContains reports whether "aud", a string or an array of strings,
// contains want.
func audienceContains(raw json.RawMessage, want string) bool {
	if len(raw) == 0 {
		return false
	}
	switch raw[0] {
	case '"':
		var s string
		return json.Unmarshal(raw, &s) == nil && s == want
	case '[':
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			return false
		}
		for _, s := range list {
			if s == want {
				return true
			}
		}
	}
	return false
}

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDate reports whether s is a real calendar date written YYYY-MM-DD.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
