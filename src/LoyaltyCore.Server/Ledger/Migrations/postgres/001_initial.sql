CREATE TABLE members (
    member_id   text PRIMARY KEY,
    enrolled_at timestamptz NOT NULL
);

-- One row per scored purchase or redemption; the system of record that Redis is rebuilt from.
CREATE TABLE ledger_entries (
    transaction_id  text NOT NULL,
    member_id       text NOT NULL REFERENCES members (member_id),
    kind            smallint NOT NULL,
    points          bigint NOT NULL,
    spend_minor     bigint NOT NULL,
    store_id        text NOT NULL,
    channel         smallint NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    program_version text NOT NULL,
    rule_ids        text NOT NULL,
    tier_after      text NOT NULL,
    balance_after   bigint NOT NULL,
    fingerprint     bytea NOT NULL,
    response        bytea NOT NULL,
    -- Transaction ids are idempotency keys per member: a retry always names the same member.
    PRIMARY KEY (member_id, transaction_id)
);
