-- KPI rollups, kept up from the ledger by a watermark (Kpis/KpiRollupStore): correct across any number of servers
-- and restarts, because they are the ledger's own rows summed once.

-- The commit order of rows: the id of the transaction that wrote them. Every transaction below the oldest one still
-- running (pg_snapshot_xmin) has ended, so a watermark that stops there never skips a row committed late. Rows
-- written before this column existed stay NULL and are summed once, by primary key, before the first position.
ALTER TABLE ledger_entries ADD COLUMN ingest_xid BIGINT;
ALTER TABLE ledger_entries ALTER COLUMN ingest_xid SET DEFAULT (pg_current_xact_id()::text::bigint);
-- Append order follows transaction order closely: a BRIN index costs next to nothing on each insert.
CREATE INDEX ledger_entries_ingest ON ledger_entries USING brin (ingest_xid);

CREATE TABLE kpi_watermark (
    id                INTEGER PRIMARY KEY,
    backfilled        BOOLEAN NOT NULL,
    position          BIGINT NOT NULL,
    after_member      TEXT NOT NULL,
    after_transaction TEXT NOT NULL
);
INSERT INTO kpi_watermark VALUES (1, FALSE, 0, '', '');

CREATE TABLE kpi_daily (
    day         INTEGER NOT NULL,
    kind        SMALLINT NOT NULL,
    channel     SMALLINT NOT NULL,
    entries     BIGINT NOT NULL,
    credits     BIGINT NOT NULL,
    debits      BIGINT NOT NULL,
    spend_minor BIGINT NOT NULL,
    PRIMARY KEY (day, kind, channel)
);

CREATE TABLE kpi_rules (
    day     INTEGER NOT NULL,
    kind    SMALLINT NOT NULL,
    rule_id TEXT NOT NULL,
    entries BIGINT NOT NULL,
    points  BIGINT NOT NULL,
    PRIMARY KEY (day, kind, rule_id)
);

CREATE TABLE kpi_members (
    member_id         TEXT PRIMARY KEY,
    first_day         INTEGER NOT NULL,
    last_purchase_day INTEGER NOT NULL,
    purchases         BIGINT NOT NULL,
    spend_minor       BIGINT NOT NULL,
    tier              TEXT NOT NULL,
    tier_seq          BIGINT NOT NULL
) WITH (fillfactor = 70);
-- Room on each page, so that the day's repeated updates of a member stay heap-only (HOT): no index is touched until
-- their last purchase day changes.
CREATE INDEX kpi_members_last_purchase ON kpi_members (last_purchase_day);
