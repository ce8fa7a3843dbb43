-- What each transaction did to the member's counters and profile fields, to rebuild Redis by replaying it.
ALTER TABLE ledger_entries ADD COLUMN changes bytea;

-- Set at enrolment: the member who referred this one.
ALTER TABLE members ADD COLUMN referred_by text;

-- Points each transaction drew from campaign budgets: what a budget has spent, should Redis lose it.
CREATE TABLE campaign_draws (
    campaign_id    text NOT NULL,
    member_id      text NOT NULL,
    transaction_id text NOT NULL,
    points         bigint NOT NULL,
    PRIMARY KEY (member_id, transaction_id, campaign_id)
);

CREATE INDEX campaign_draws_campaign ON campaign_draws (campaign_id);

-- Every published program version, and which one is active (the latest activation).
CREATE TABLE programs (
    version      text PRIMARY KEY,
    program_id   text NOT NULL,
    document     text NOT NULL,
    published_at timestamptz NOT NULL
);

CREATE TABLE program_activations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version      text NOT NULL REFERENCES programs (version),
    activated_at timestamptz NOT NULL
);
