-- The hosted checkout (PROTOCOL.md §10). A portal registers the origins
-- (scheme://host[:port], as payment.Origin writes them) the checkout may
-- send a citizen back to; a payment request may name a return URL on one
-- of them. The origin rule itself is the gateway's; these checks only keep
-- a row from holding something that is not an origin or a URL at all.
CREATE TABLE portal_return_origins (
    portal_id  text NOT NULL REFERENCES portals (id) ON DELETE CASCADE,
    origin     text NOT NULL CHECK (origin ~ '^https?://[a-z0-9.:\[\]_-]+$' AND length(origin) <= 300),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portal_id, origin)
);

ALTER TABLE payment_requests ADD COLUMN return_url text
    CHECK (return_url IS NULL OR (return_url ~ '^https?://' AND length(return_url) <= 2048));
