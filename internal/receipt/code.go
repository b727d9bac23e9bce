package receipt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/citizenpay/gateway/internal/keyring"
)

// CodeKeyLabel is the keyring label of the verify-code key: like every
// other subkey of the gateway's (pii/index/pid, …) it is derived from the
// master key under a label of its own, so it serves no other purpose.
const CodeKeyLabel = "receipt/verify-code"

// codeSize is the length of a verify code before encoding: 128 bits.
const codeSize = 16

// CodeKey derives the verify-code key from the gateway's master key.
func CodeKey(k *keyring.Keyring) []byte { return k.Key(CodeKeyLabel) }

// Code is the verify code of a receipt (PROTOCOL.md §11): the first 128 bits
// of HMAC-SHA256(key, receiptID), base64url without padding (22 characters).
// It is what makes a verify URL unguessable: the page behind it shows a
// receipt only to whoever was given its URL.
func Code(key []byte, receiptID string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(receiptID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:codeSize])
}

// CheckCode reports whether code is receiptID's verify code, comparing in
// constant time. A wrong code and an unknown id must look alike (404), so
// the caller answers both the same way.
func CheckCode(key []byte, receiptID, code string) bool {
	return hmac.Equal([]byte(Code(key, receiptID)), []byte(code))
}

// VerifyURL is {GATEWAY_PUBLIC_URL}/r/{id}?c={code}. A trailing slash of
// publicURL is dropped so that the path never holds "//".
func VerifyURL(publicURL, receiptID, code string) string {
	return strings.TrimRight(publicURL, "/") + "/r/" + url.PathEscape(receiptID) + "?c=" + url.QueryEscape(code)
}
