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
-- Offers partners make to members; the lists are comma-separated (ids and channel numbers never hold a comma).
CREATE TABLE offers (
    partner_id TEXT NOT NULL REFERENCES partners (partner_id),
    offer_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    ends_at_ms BIGINT NOT NULL,
    tiers TEXT NOT NULL,
    segments TEXT NOT NULL,
    memberships TEXT NOT NULL,
    channels TEXT NOT NULL,
    fixed_points BIGINT NOT NULL,
    points_per_unit BIGINT NOT NULL,
    per_minor BIGINT NOT NULL,
    budget_points BIGINT NOT NULL,
    per_member_limit BIGINT NOT NULL,
    state INTEGER NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (partner_id, offer_id)
);
