-- Partners and their API keys. A key is kept as the SHA-256 of its secret, never the secret itself.
CREATE TABLE partners (
    partner_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    price_per_thousand_points_minor BIGINT NOT NULL,
    credit_limit_points BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE partner_keys (
    key_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (partner_id),
    secret_sha256 BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT,
    revoked_at_ms BIGINT
);
CREATE INDEX partner_keys_partner ON partner_keys (partner_id);
