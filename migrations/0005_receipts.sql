-- Receipts (PROTOCOL.md §11, DOMAIN.md invariant 8): the signed biên lai of
-- every paid request, its signing keys, and the per-portal, per-year counter
-- that numbers receipts without gaps.

-- The name in the identity token of the citizen who started the attempt,
-- sealed and bound to the attempt's id; cleared once the receipt that shows
-- it is issued (the receipt keeps it, sealed).
ALTER TABLE payment_attempts ADD COLUMN payer_name_sealed bytea;

-- Receipt signing keys (Ed25519). The seed is sealed with the keyring and
-- bound to the kid; the public half is kept clear for the JWKS. The current
-- key is the newest not revoked; a revoked key leaves the JWKS and its
-- receipts are signed again with the current one.
CREATE TABLE receipt_keys (
    kid         text PRIMARY KEY CHECK (length(kid) = 43),
    seed_sealed bytea NOT NULL,
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at  timestamptz,
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
CREATE INDEX receipt_keys_current ON receipt_keys (created_at DESC) WHERE revoked_at IS NULL;

-- The last sequence number given to a portal's receipts in a calendar year
-- (Asia/Ho_Chi_Minh). The paid transaction takes this row's lock last, so it
-- is held for the shortest time; a rolled-back payment rolls its number back
-- with it, so numbers have no gaps.
CREATE TABLE receipt_counters (
    portal_id text NOT NULL REFERENCES portals (id),
    year      integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last_seq  bigint NOT NULL CHECK (last_seq >= 1),
    PRIMARY KEY (portal_id, year)
);

-- One receipt per paid request, never changed but for its signature when
-- the key that signed it is revoked. The JWS carries the receipt (the payer's
-- name among its fields), so it is sealed, bound to the receipt's id.
CREATE TABLE receipts (
    id                 text PRIMARY KEY CHECK (id LIKE 'rc\_%'),
    payment_request_id text NOT NULL UNIQUE REFERENCES payment_requests (id),
    portal_id          text NOT NULL REFERENCES portals (id),
    number             text NOT NULL,
    year               integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    seq                bigint NOT NULL CHECK (seq >= 1),
    amount             numeric(20, 0) NOT NULL CHECK (amount > 0),
    jws_sealed         bytea NOT NULL,
    kid                text NOT NULL REFERENCES receipt_keys (kid),
    issued_at          timestamptz NOT NULL,
    signed_at          timestamptz NOT NULL,
    UNIQUE (portal_id, year, seq),
    CHECK (number = year::text || '/' || lpad(seq::text, greatest(6, length(seq::text)), '0'))
);
CREATE INDEX receipts_kid ON receipts (kid, id);
