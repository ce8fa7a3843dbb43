-- Partners and their API keys. A key is kept as the SHA-256 of its secret, never the secret itself.
CREATE TABLE partners (
    partner_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    suspended INTEGER NOT NULL DEFAULT 0,
    price_per_thousand_points_minor INTEGER NOT NULL,
    credit_limit_points INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE partner_keys (
    key_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (partner_id),
    secret_sha256 BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER,
    revoked_at_ms INTEGER
);
CREATE INDEX partner_keys_partner ON partner_keys (partner_id);
