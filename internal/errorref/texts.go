package errorref

import "github.com/citizenpay/gateway/internal/fault"

// Text is what the reference says of one code: what it means and what the
// caller should do about it. Words in `backticks` are shown as code.
type Text struct {
	Meaning string
	Fix     string
}

// texts holds the reference's words, one entry per code of fault. A code
// without an entry fails the tests of internal/httpapi (TestErrorsDoc).
var texts = map[fault.Code]Text{
	fault.InvalidRequest: {
		Meaning: "The request is malformed: the body is not one JSON object, a field has the wrong type or is unknown, or a query parameter is unknown, repeated or malformed. `errors` names the field or parameter when there is one.",
		Fix:     "Correct the request; nothing was stored, so the corrected request may reuse the same `Idempotency-Key`. Retrying it unchanged gets the same answer.",
	},
	fault.IdempotencyKeyMissing: {
		Meaning: "A POST or DELETE came without an `Idempotency-Key` header.",
		Fix:     "Send an `Idempotency-Key` (1–255 printable ASCII characters) that names this one operation, and keep it for every retry of it.",
	},
	fault.IdempotencyKeyInvalid: {
		Meaning: "The `Idempotency-Key` is empty, longer than 255 characters, or holds a character outside printable ASCII.",
		Fix:     "Use 1–255 printable ASCII characters, for example a UUID or your own operation id.",
	},
	fault.InvalidSignature: {
		Meaning: "The request's signature did not check out: the key id is unknown, `X-Signature` is missing or wrong, or `X-Timestamp` is more than 300 seconds from the gateway's clock. A bank's callback gets it for the same reasons.",
		Fix:     "Check your signer against the test vectors in `internal/signature/testdata`: the secret as issued (prefix included), the raw request target with its query, the `Idempotency-Key` (or an empty line) and the SHA-256 of the exact body bytes sent. Keep your clock synchronised (NTP).",
	},
	fault.InvalidToken: {
		Meaning: "The citizen's bearer token was refused: its signature, issuer, audience or times do not check out, or a claim the gateway needs (`pid`, `name`, `birthdate`, `loa`) is missing.",
		Fix:     "Sign the citizen in again with the national identity provider and send the fresh token.",
	},
	fault.InvalidIdentity: {
		Meaning: "The token is well signed but the personal identification number in it is not a valid one, or does not agree with the birth date.",
		Fix:     "Nothing to retry: the identity provider issued an identity the gateway cannot accept. Ask the citizen to contact the identity provider.",
	},
	fault.InsufficientAssurance: {
		Meaning: "The citizen's token has a level of assurance (`loa`) below 2, which may read but not change anything (link, unlink, choose a default, pay).",
		Fix:     "Have the citizen sign in again at level 2 or above, then retry.",
	},
	fault.NotFound: {
		Meaning: "No such object, or it is not the caller's: another portal's payment request is not found, like one that never existed. Also the answer to an unknown route, and to a bank's callback naming an id never sent to that bank.",
		Fix:     "Check the id and the route. When it answered a mutation, it is stored under the `Idempotency-Key` and replayed.",
	},
	fault.IdempotencyKeyInUse: {
		Meaning: "A request with the same `Idempotency-Key` is still running.",
		Fix:     "Wait for `Retry-After` (1 second) and send the same request again with the same key: you get its outcome.",
	},
	fault.InvalidState: {
		Meaning: "The object's current state does not allow the change: cancelling a request that is not `pending`, paying one that is not `pending`, refunding one that was never paid. Of two racing changes one wins and the other gets this.",
		Fix:     "Read the object again (`GET`) and act on its state. The refusal is stored and replayed under its key: use a new key for a new attempt.",
	},
	fault.DuplicateDossier: {
		Meaning: "The portal already has a live (`pending` or `processing`) payment request for this `dossier_code`.",
		Fix:     "Use the live request (list with `?dossier_code=`), or cancel it before creating another.",
	},
	fault.PaymentInProgress: {
		Meaning: "The payment request already has a debit in flight at a bank.",
		Fix:     "Wait for the outcome: the request becomes `paid`, or `pending` again when the debit fails.",
	},
	fault.AccountTaken: {
		Meaning: "This account number at this bank is already active for another citizen.",
		Fix:     "Nothing to retry: the citizen should link an account of their own.",
	},
	fault.AccountLimit: {
		Meaning: "The citizen already has 10 accounts active or awaiting their bank.",
		Fix:     "Unlink an account before linking another.",
	},
	fault.PortalDisabled: {
		Meaning: "The request was signed correctly, but the gateway's operator has disabled this portal: it can neither read nor change anything until it is enabled again. Its webhooks are held meanwhile, not lost.",
		Fix:     "Do not retry: ask the gateway's operator why the portal was disabled. Once it is enabled, requests work again and the held webhooks are delivered.",
	},
	fault.AccountBusy: {
		Meaning: "A debit on this account is still pending, so it cannot be unlinked now.",
		Fix:     "Retry once the payment's outcome is known.",
	},
	fault.OutcomeConflict: {
		Meaning: "A bank's callback contradicts an outcome the gateway has already applied (a failure after a success, or a success after the gateway gave up waiting). Nothing changed; the operator has an incident.",
		Fix:     "For a bank: do not retry; the operator settles it with you.",
	},
	fault.PayloadTooLarge: {
		Meaning: "The request body is over 64 KiB.",
		Fix:     "Send a smaller body: fewer items, shorter descriptions or metadata.",
	},
	fault.ValidationFailed: {
		Meaning: "Several fields are invalid; each one is listed in `errors` with its own code and message.",
		Fix:     "Correct every listed field. Nothing was stored.",
	},
	fault.InvalidAmount: {
		Meaning: "An amount is not a JSON string of whole đồng matching `^[1-9][0-9]{0,17}$`: a number, a decimal point, an exponent, a sign or a leading zero.",
		Fix:     "Send whole đồng as a string, such as `\"75000\"`.",
	},
	fault.AmountMismatch: {
		Meaning: "`amount` is not the sum of the items' amounts.",
		Fix:     "Make `amount` equal the sum of `items[].amount`.",
	},
	fault.InvalidPID: {
		Meaning: "`citizen_pid` is not a valid personal identification number: 12 digits, a province code of the 63, and a valid century-and-sex digit.",
		Fix:     "Send the citizen's 12-digit CCCD number as the portal holds it in the dossier.",
	},
	fault.InvalidExpiry: {
		Meaning: "`expires_at` is in the past or more than 30 days ahead.",
		Fix:     "Choose a time in the next 30 days, or leave it out for the default of 24 hours.",
	},
	fault.InvalidReturnURL: {
		Meaning: "`return_url` is not `https://` (or `http://` in development), or its origin is not one of the portal's registered return origins.",
		Fix:     "Use a URL on a registered return origin, or have the operator register yours (`gatewayctl portal set-return-origins`).",
	},
	fault.RefundExceedsRefundable: {
		Meaning: "The refund is more than what is left to refund: the paid amount minus every refund pending or succeeded.",
		Fix:     "Read the request's `amount_refunded` and the refunds still pending, and ask for no more than the rest.",
	},
	fault.AccountNotActive: {
		Meaning: "The chosen account is not `active`: still awaiting its bank, rejected or unlinked.",
		Fix:     "Choose an active account, or wait for the bank to confirm this one.",
	},
	fault.AccountRequired: {
		Meaning: "No `account_id` was given and the citizen has no default account.",
		Fix:     "Send an `account_id`, or link an account first.",
	},
	fault.IdempotencyKeyReused: {
		Meaning: "The `Idempotency-Key` was already used for another request: another body, path or method. The key is compared before the body's values are validated, so this is the answer whether or not the new body is valid. Nothing ran.",
		Fix:     "Use a new key for a new operation. To retry the first one, send exactly its request again.",
	},
	fault.AmountDiffers: {
		Meaning: "A bank's callback names an amount or currency other than what the gateway sent. Nothing changed; the operator has an incident.",
		Fix:     "For a bank: do not retry; the operator settles it with you.",
	},
	fault.UnknownEventType: {
		Meaning: "A bank's callback has a `type` the gateway does not know.",
		Fix:     "For a bank: send one of the types of the bank protocol; this refusal is final.",
	},
	fault.RateLimited: {
		Meaning: "The portal sent more requests than its rate limit allows. Nothing ran and nothing was stored.",
		Fix:     "Wait for `Retry-After` seconds, then send the same request with the same key.",
	},
	fault.Unavailable: {
		Meaning: "The gateway is shedding load or cannot reach its database just now. Nothing was committed.",
		Fix:     "Wait for `Retry-After` seconds, then retry with the same `Idempotency-Key`.",
	},
	fault.BankUnavailable: {
		Meaning: "The chosen account's bank is not answering (its circuit breaker is open), so no debit was attempted.",
		Fix:     "Choose an account at another bank, or retry after `Retry-After` seconds.",
	},
	fault.IdentityNotConfigured: {
		Meaning: "The gateway has no identity provider configured, so it cannot serve the citizen API.",
		Fix:     "For an operator: set `IDP_ISSUER`, `IDP_AUDIENCE` and `IDP_JWKS_URL`. For a caller: retry later.",
	},
	fault.Internal: {
		Meaning: "Something went wrong inside the gateway. The answer carries no detail; the operator finds the request by its `request_id`.",
		Fix:     "Retry with the same `Idempotency-Key`: it is safe. If it persists, give the operator the `request_id`.",
	},
}

// Of returns the reference's text of code.
func Of(code fault.Code) (Text, bool) {
	t, ok := texts[code]
	return t, ok
}

// Codes lists the codes that have a text, in no particular order.
func Codes() []fault.Code {
	out := make([]fault.Code, 0, len(texts))
	for c := range texts {
		out = append(out, c)
	}
	return out
}
