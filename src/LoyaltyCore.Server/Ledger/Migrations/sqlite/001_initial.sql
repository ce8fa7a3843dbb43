-- Timestamps are Unix milliseconds: SQLite has no timestamp type.
CREATE TABLE members (
    member_id      TEXT PRIMARY KEY,
    enrolled_at_ms INTEGER NOT NULL
);

CREATE TABLE ledger_entries (
    transaction_id  TEXT NOT NULL,
    member_id       TEXT NOT NULL REFERENCES members (member_id),
    kind            INTEGER NOT NULL,
    points          INTEGER NOT NULL,
    spend_minor     INTEGER NOT NULL,
    store_id        TEXT NOT NULL,
    channel         INTEGER NOT NULL,
    occurred_at_ms  INTEGER NOT NULL,
    recorded_at_ms  INTEGER NOT NULL,
    program_version TEXT NOT NULL,
    rule_ids        TEXT NOT NULL,
    tier_after      TEXT NOT NULL,
    balance_after   INTEGER NOT NULL,
    fingerprint     BLOB NOT NULL,
    response        BLOB NOT NULL,
    PRIMARY KEY (member_id, transaction_id)
);
