-- The master key's check value (keyring.Keyring.CheckValue): an HMAC of a
-- fixed text under a key derived from the master key, never the key nor
-- anything that reveals it. The gateway and gatewayctl refuse a master key
-- whose check value is not this one, by name, before they open anything
-- sealed. One row; a database set up before this migration gets it from the
-- first start with a key, since its data was sealed with that key.
CREATE TABLE key_check (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    check_value bytea NOT NULL CHECK (octet_length(check_value) = 32),
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- A portal the operator disabled (gatewayctl portal disable): its signed
-- requests are refused with 403 portal_disabled and its webhooks are held
-- until it is enabled again.
ALTER TABLE portals ADD COLUMN disabled_at timestamptz;
