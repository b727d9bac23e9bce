-- Reconciliation with the banks' daily statements and each portal's daily
-- settlement (PROTOCOL.md §12, DOMAIN.md invariant 9).

-- Every ledger transaction is booked at the gateway's time of the outcome
-- that caused it (the paid_at of a debit, the success of a refund): the
-- business day a posting belongs to is read from here. Existing rows keep
-- the time they were written.
ALTER TABLE ledger_transactions ADD COLUMN booked_at timestamptz;
ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_append_only;
UPDATE ledger_transactions SET booked_at = created_at;
ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_append_only;
ALTER TABLE ledger_transactions ALTER COLUMN booked_at SET NOT NULL;
ALTER TABLE ledger_transactions ALTER COLUMN booked_at SET DEFAULT now();
CREATE INDEX ledger_transactions_booked ON ledger_transactions (booked_at);

-- A settlement's share of one bank is a third kind of transaction, named
-- stl_…:{bank}.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('debit_succeeded', 'refund_succeeded', 'settlement'));
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_check
    CHECK ((kind = 'debit_succeeded' AND cause LIKE 'pa\_%')
        OR (kind = 'refund_succeeded' AND cause LIKE 'rf\_%')
        OR (kind = 'settlement' AND cause ~ '^stl_[^:]+:[^:[:space:]]+$'));

-- One run's result per (bank, business day), rewritten by every re-run.
CREATE TABLE reconciliations (
    id                 text PRIMARY KEY CHECK (id LIKE 'rcn\_%'),
    bank_code          text NOT NULL REFERENCES banks (code),
    business_date      date NOT NULL,
    status             text NOT NULL CHECK (status IN ('matched', 'differences', 'unavailable')),
    lines              integer NOT NULL DEFAULT 0 CHECK (lines >= 0),
    matched            integer NOT NULL DEFAULT 0 CHECK (matched >= 0),
    applied            integer NOT NULL DEFAULT 0 CHECK (applied >= 0),
    differences        integer NOT NULL DEFAULT 0 CHECK (differences >= 0),
    debit_total        numeric(20, 0) NOT NULL DEFAULT 0,
    refund_total       numeric(20, 0) NOT NULL DEFAULT 0,
    -- Why the last run could not read the statement; null once it could.
    reason             text CHECK (length(reason) <= 500),
    -- When runs began to find the statement unavailable, for the incident
    -- raised after a day of trying.
    unavailable_since  timestamptz,
    runs               integer NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bank_code, business_date)
);

-- Which statement line each of the gateway's outcomes was matched to, once:
-- an outcome stays matched to that line on every re-run, and a second line
-- for it is a difference.
CREATE TABLE reconciliation_matches (
    bank_code          text NOT NULL REFERENCES banks (code),
    object_id          text NOT NULL CHECK (object_id LIKE 'pa\_%' OR object_id LIKE 'rf\_%'),
    business_date      date NOT NULL,
    bank_reference     text NOT NULL,
    -- The line applied the outcome (it was pending at the gateway).
    applied            boolean NOT NULL DEFAULT false,
    matched_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank_code, object_id)
);
CREATE INDEX reconciliation_matches_day ON reconciliation_matches (bank_code, business_date);

-- Every difference a reconciliation found, once: its incident carries the
-- line and the gateway's view. key names the difference within the day, so
-- a re-run finds it again instead of recording it twice.
CREATE TABLE reconciliation_differences (
    reconciliation_id  text NOT NULL REFERENCES reconciliations (id),
    key                text NOT NULL CHECK (length(key) <= 300),
    incident_id        text NOT NULL REFERENCES incidents (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (reconciliation_id, key)
);

-- A portal's business day: open until every bank it had outcomes with that
-- day has reconciled it matched, then closed (its figures never change),
-- then settled with the operator's transfer reference.
CREATE TABLE settlements (
    id                 text PRIMARY KEY CHECK (id LIKE 'stl\_%' AND id NOT LIKE '%:%'),
    portal_id          text NOT NULL REFERENCES portals (id),
    business_date      date NOT NULL,
    status             text NOT NULL CHECK (status IN ('open', 'closed', 'settled')),
    version            integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    count              integer NOT NULL DEFAULT 0 CHECK (count >= 0),
    refund_count       integer NOT NULL DEFAULT 0 CHECK (refund_count >= 0),
    collected          numeric(20, 0) NOT NULL DEFAULT 0 CHECK (collected >= 0),
    refunded           numeric(20, 0) NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    currency           text NOT NULL DEFAULT 'VND' CHECK (currency = 'VND'),
    -- [{bank_code, collected, refunded}], in bank code order.
    banks              jsonb NOT NULL DEFAULT '[]',
    settled_reference  text CHECK (length(settled_reference) BETWEEN 1 AND 140),
    settled_by         text CHECK (length(settled_by) <= 200),
    closed_at          timestamptz,
    settled_at         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (portal_id, business_date),
    CHECK ((status = 'settled') = (settled_reference IS NOT NULL)),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX settlements_portal ON settlements (portal_id, business_date DESC);
CREATE INDEX settlements_open ON settlements (business_date) WHERE status = 'open';

-- A portal's requests by when they were created: the date filters of the
-- portal's list (created_from, created_to) read one day of one portal here.
CREATE INDEX payment_requests_portal_created ON payment_requests (portal_id, created_at, id);
