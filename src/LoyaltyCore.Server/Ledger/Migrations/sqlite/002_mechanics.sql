ALTER TABLE ledger_entries ADD COLUMN changes BLOB;

ALTER TABLE members ADD COLUMN referred_by TEXT;

CREATE TABLE campaign_draws (
    campaign_id    TEXT NOT NULL,
    member_id      TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    points         INTEGER NOT NULL,
    PRIMARY KEY (member_id, transaction_id, campaign_id)
);

CREATE INDEX campaign_draws_campaign ON campaign_draws (campaign_id);

CREATE TABLE programs (
    version         TEXT PRIMARY KEY,
    program_id      TEXT NOT NULL,
    document        TEXT NOT NULL,
    published_at_ms INTEGER NOT NULL
);

CREATE TABLE program_activations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    version         TEXT NOT NULL REFERENCES programs (version),
    activated_at_ms INTEGER NOT NULL
);
