// Package receipt makes the biên lai thu tiền of a paid request
// (PROTOCOL.md §11, DOMAIN.md invariant 8): the document, its signature, its
// verify code and URL, and its PDF. It keeps no state and touches no
// database: the store numbers, signs and keeps receipts in the transaction
// that makes a request paid, and the API and pages serve them.
//
// # The document
//
// Receipt has exactly §11's fields and JSON names. Amounts, items and times
// are in the wire form of package wire (amounts as strings of whole đồng,
// times RFC 3339 in UTC), so a receipt reads exactly like its payment
// request. The payer's pid is only ever the masked form the request already
// holds (pii.MaskPID). Number is {YYYY}/{NNNNNN}; the year is that of
// issued_at in Asia/Ho_Chi_Minh (Year), the sequence the store's.
// AmountInWords reads the amount as spec/vectors/amount_in_words.json does.
// Initials shortens the payer's name for the public verify page.
//
// # Signature
//
// A compact JWS with protected header {"alg":"EdDSA","kid":…} over Payload:
// the RFC 8785 canonical JSON (package jcs) of the receipt without
// verify_url. It is built on crypto/ed25519 directly, a few lines that leave
// no option unchosen; the tests check it against RFC 8037's vector and
// go-jose in both directions. The kid is the key's RFC 7638 thumbprint
// (SHA-256, base64url): it names the key by its contents, needs no counter
// and cannot collide. A Key's Bytes are its 32-byte Ed25519 seed, which the
// caller seals at rest (keyring.Sealer) and reads back with ParseKey. JWKS
// writes the document of /.well-known/receipt-keys from the public halves
// of every key in use, current and retired; a revoked key leaves it.
// Verify needs only that document: it checks the alg, finds the kid, checks
// the signature, then that the payload is canonical, and returns the
// receipt (without verify_url) and the kid.
//
// # Verify code
//
// Code is the first 128 bits of HMAC-SHA256 of the receipt id under the key
// CodeKey derives from the master key (keyring label CodeKeyLabel,
// "receipt/verify-code", beside pii's "pii/index/pid" and the others),
// base64url without padding; CheckCode compares in constant time, and
// VerifyURL is {GATEWAY_PUBLIC_URL}/r/{id}?c={code}. The code is not in the
// signed payload, so the key can be rotated without re-signing.
//
// # PDF
//
// PDF lays a receipt on A5 portrait in DejaVu Sans (embedded, with its
// licence in fonts/LICENSE), regular and bold, in black and grey with thin
// rules: the gateway's name, the title, the number, then label and value
// rows (portal, service, dossier, description, payer and masked pid, paid
// at in Asia/Ho_Chi_Minh, bank, reference), the items with their amounts,
// the total and the amount in words, and at the foot the QR code of
// verify_url with the URL printed under it, the receipt id and issue time.
// lang "en" changes only the labels, the gateway's name, the title
// ("PAYMENT RECEIPT"), the amount format (75,000 VND instead of
// 75.000 đồng) and the date order (2006-01-02 15:04:05 instead of
// 15:04:05 ngày 02/01/2006); the data stay the receipt's, so
// amount_in_words stays the Vietnamese reading the receipt signs.
package receipt
