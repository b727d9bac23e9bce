-- The gateway's schema. Every domain rule that PostgreSQL can hold is a
-- CHECK, UNIQUE or foreign key here, so that no bug above it can break one.

CREATE TABLE portals (
    id                          text PRIMARY KEY CHECK (id LIKE 'ptl\_%'),
    name                        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    key_id                      text NOT NULL UNIQUE,
    secret_sealed               bytea NOT NULL,
    previous_secret_sealed      bytea,
    previous_secret_expires_at  timestamptz,
    webhook_url                 text NOT NULL,
    webhook_secret_sealed       bytea NOT NULL,
    previous_webhook_secret_sealed     bytea,
    previous_webhook_secret_expires_at timestamptz,
    webhook_disabled_at         timestamptz,
    event_seq                   bigint NOT NULL DEFAULT 0,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE banks (
    code                        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{2,16}$'),
    name                        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    base_url                    text NOT NULL,
    secret_sealed               bytea NOT NULL,
    previous_secret_sealed      bytea,
    previous_secret_expires_at  timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- A citizen is known only by the blind index of their personal ID number.
CREATE TABLE citizens (
    id          text PRIMARY KEY CHECK (id LIKE 'ctz\_%'),
    pid_index   bytea NOT NULL UNIQUE,
    pid_sealed  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payment_requests (
    id                  text PRIMARY KEY CHECK (id LIKE 'pr\_%'),
    portal_id           text NOT NULL REFERENCES portals (id),
    status              text NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'partially_refunded', 'refunded', 'canceled', 'expired')),
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    citizen_pid_index   bytea NOT NULL,
    citizen_pid_sealed  bytea NOT NULL,
    citizen_pid_masked  text NOT NULL,
    dossier_code        text NOT NULL CHECK (length(dossier_code) BETWEEN 1 AND 64),
    service_code        text NOT NULL CHECK (length(service_code) BETWEEN 1 AND 64),
    description         text NOT NULL CHECK (length(description) BETWEEN 1 AND 140),
    items               jsonb NOT NULL,
    amount              numeric(20, 0) NOT NULL CHECK (amount > 0),
    currency            text NOT NULL CHECK (currency = 'VND'),
    amount_refunded     numeric(20, 0) NOT NULL DEFAULT 0,
    metadata            jsonb NOT NULL DEFAULT '{}',
    expires_at          timestamptz NOT NULL,
    paid_attempt_id     text,
    paid_bank_code      text,
    paid_bank_reference text,
    paid_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    CHECK ((status IN ('paid', 'partially_refunded', 'refunded')) = (paid_attempt_id IS NOT NULL))
);

-- One live request per dossier and portal (PROTOCOL.md §5).
CREATE UNIQUE INDEX payment_requests_live_dossier ON payment_requests (portal_id, dossier_code)
    WHERE status IN ('pending', 'processing');
-- Ids are time-ordered, so lists page newest first by id.
CREATE INDEX payment_requests_portal_list ON payment_requests (portal_id, id DESC);
CREATE INDEX payment_requests_portal_dossier ON payment_requests (portal_id, dossier_code, id DESC);
CREATE INDEX payment_requests_citizen_list ON payment_requests (citizen_pid_index, id DESC);
CREATE INDEX payment_requests_due ON payment_requests (expires_at) WHERE status = 'pending';

CREATE TABLE linked_accounts (
    id                  text PRIMARY KEY CHECK (id LIKE 'acc\_%'),
    citizen_id          text NOT NULL REFERENCES citizens (id),
    bank_code           text NOT NULL REFERENCES banks (code),
    account_index       bytea NOT NULL,
    account_sealed      bytea NOT NULL,
    account_masked      text NOT NULL,
    holder_name_sealed  bytea NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending_verification', 'active', 'rejected', 'unlinked')),
    is_default          boolean NOT NULL DEFAULT false,
    rejection_reason    text,
    verification_id     text NOT NULL UNIQUE CHECK (verification_id LIKE 'av\_%'),
    verification_sent_at timestamptz,
    verification_outcome text CHECK (verification_outcome IN ('succeeded', 'failed')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT is_default OR status = 'active'),
    CHECK (status <> 'active' OR verification_outcome = 'succeeded'),
    CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL))
);

-- An account number at a bank is active for one citizen only (PROTOCOL.md §6).
CREATE UNIQUE INDEX linked_accounts_active_number ON linked_accounts (bank_code, account_index) WHERE status = 'active';
CREATE UNIQUE INDEX linked_accounts_one_default ON linked_accounts (citizen_id) WHERE is_default;
CREATE INDEX linked_accounts_citizen ON linked_accounts (citizen_id, created_at DESC);

CREATE TABLE payment_attempts (
    id                  text PRIMARY KEY CHECK (id LIKE 'pa\_%'),
    payment_request_id  text NOT NULL REFERENCES payment_requests (id),
    account_id          text NOT NULL REFERENCES linked_accounts (id),
    bank_code           text NOT NULL REFERENCES banks (code),
    amount              numeric(20, 0) NOT NULL CHECK (amount > 0),
    currency            text NOT NULL CHECK (currency = 'VND'),
    status              text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    bank_reference      text,
    failure_code        text,
    failure_message     text,
    sent_at             timestamptz,
    outcome_at          timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- At most one live attempt per request (DOMAIN.md).
CREATE UNIQUE INDEX payment_attempts_live ON payment_attempts (payment_request_id) WHERE status IN ('pending', 'succeeded');
CREATE INDEX payment_attempts_account_pending ON payment_attempts (account_id) WHERE status = 'pending';

CREATE TABLE refunds (
    id                  text PRIMARY KEY CHECK (id LIKE 'rf\_%'),
    payment_request_id  text NOT NULL REFERENCES payment_requests (id),
    attempt_id          text NOT NULL REFERENCES payment_attempts (id),
    bank_code           text NOT NULL REFERENCES banks (code),
    amount              numeric(20, 0) NOT NULL CHECK (amount > 0),
    currency            text NOT NULL CHECK (currency = 'VND'),
    reason              text,
    status              text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    failure_reason      text,
    bank_reference      text,
    sent_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_request ON refunds (payment_request_id);

-- The ledger: append-only; one transaction per outcome, ever.
CREATE TABLE ledger_transactions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cause       text NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('debit_succeeded', 'refund_succeeded')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- A debit's posting is caused by an attempt, a refund's by a refund.
    CHECK ((kind = 'debit_succeeded' AND cause LIKE 'pa\_%') OR (kind = 'refund_succeeded' AND cause LIKE 'rf\_%'))
);

CREATE TABLE ledger_postings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  bigint NOT NULL REFERENCES ledger_transactions (id),
    account         text NOT NULL CHECK (account ~ '^(bank_clearing|portal_payable):[^:[:space:]]+$'),
    direction       text NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount          numeric(20, 0) NOT NULL CHECK (amount > 0),
    currency        text NOT NULL CHECK (currency = 'VND')
);
CREATE INDEX ledger_postings_transaction ON ledger_postings (transaction_id);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Every ledger transaction has postings and balances, checked at commit: on
-- each posting, and on the transaction itself so that one left without
-- postings is refused too.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txid bigint;
    n    bigint;
    net  numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_transactions' THEN
        txid := NEW.id;
    ELSE
        txid := NEW.transaction_id;
    END IF;
    SELECT count(*), coalesce(sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END), 0)
      INTO n, net FROM ledger_postings WHERE transaction_id = txid;
    IF n = 0 THEN
        RAISE EXCEPTION 'ledger transaction % has no postings', txid USING ERRCODE = 'check_violation';
    END IF;
    IF net <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (net %)', txid, net USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- Bank callbacks applied, kept as evidence; unique by (bank, event id).
CREATE TABLE bank_events (
    bank_code    text NOT NULL REFERENCES banks (code),
    event_id     text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    type         text NOT NULL,
    object_id    text,
    result       text NOT NULL,
    body         json NOT NULL, -- kept byte for byte as received
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank_code, event_id)
);
-- An outcome is applied once: of all the callbacks about one debit, refund
-- or verification, at most one is 'applied' (DOMAIN.md invariant 4).
CREATE UNIQUE INDEX bank_events_applied_once ON bank_events (object_id) WHERE result = 'applied';

-- Events for portals. seq is given after commit, in the order events become
-- visible, so that a poller's cursor never passes an event that committed late.
CREATE TABLE events (
    id                text PRIMARY KEY CHECK (id LIKE 'evt\_%'),
    portal_id         text NOT NULL REFERENCES portals (id),
    seq               bigint,
    type              text NOT NULL,
    payload           json NOT NULL, -- kept byte for byte as sent
    delivery_status   text NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'delivered', 'failed')),
    delivery_attempts integer NOT NULL DEFAULT 0 CHECK (delivery_attempts >= 0),
    -- Bumped by each redelivery: a delivery job of an older generation does nothing.
    delivery_generation integer NOT NULL DEFAULT 0 CHECK (delivery_generation >= 0),
    -- When a redelivery last put the event back in line: the retry horizon runs from here (or created_at).
    delivery_requeued_at timestamptz,
    last_attempt_at   timestamptz,
    last_error        text CHECK (length(last_error) <= 500), -- a short reason, never an answer's body
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (portal_id, seq),
    CHECK ((delivery_status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX events_unsequenced ON events (portal_id, created_at, id) WHERE seq IS NULL;
-- Redelivery of a portal's failed events, and the invariant check of undelivered ones.
CREATE INDEX events_undelivered ON events (portal_id, delivery_status, created_at) WHERE delivery_status <> 'delivered';

-- The truth behind idempotency keys (PROTOCOL.md §4): written in the same
-- transaction as the change it guards. Only the request's fingerprint is kept.
CREATE TABLE idempotency_records (
    scope            text NOT NULL,
    key              text NOT NULL,
    fingerprint      bytea NOT NULL,
    response_status  integer,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);

CREATE TABLE incidents (
    id           text PRIMARY KEY CHECK (id LIKE 'inc\_%'),
    kind         text NOT NULL,
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    bank_code    text,
    object_id    text,
    summary      text NOT NULL,
    evidence     jsonb NOT NULL DEFAULT '{}',
    resolution   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);
CREATE INDEX incidents_open ON incidents (created_at) WHERE status = 'open';
