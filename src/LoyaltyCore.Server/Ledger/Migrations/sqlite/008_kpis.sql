-- KPI rollups, kept up from the ledger by a watermark (Kpis/KpiRollupStore). SQLite has one writer at a time, so
-- rows commit in rowid order: the rowid is the watermark's position, and every row has one.
CREATE TABLE kpi_watermark (
    id                INTEGER PRIMARY KEY,
    backfilled        INTEGER NOT NULL,
    position          INTEGER NOT NULL,
    after_member      TEXT NOT NULL,
    after_transaction TEXT NOT NULL
);
INSERT INTO kpi_watermark VALUES (1, 1, 0, '', '');

CREATE TABLE kpi_daily (
    day         INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    channel     INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    credits     INTEGER NOT NULL,
    debits      INTEGER NOT NULL,
    spend_minor INTEGER NOT NULL,
    PRIMARY KEY (day, kind, channel)
);

CREATE TABLE kpi_rules (
    day     INTEGER NOT NULL,
    kind    INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    entries INTEGER NOT NULL,
    points  INTEGER NOT NULL,
    PRIMARY KEY (day, kind, rule_id)
);

CREATE TABLE kpi_members (
    member_id         TEXT PRIMARY KEY,
    first_day         INTEGER NOT NULL,
    last_purchase_day INTEGER NOT NULL,
    purchases         INTEGER NOT NULL,
    spend_minor       INTEGER NOT NULL,
    tier              TEXT NOT NULL,
    tier_seq          INTEGER NOT NULL
);
CREATE INDEX kpi_members_last_purchase ON kpi_members (last_purchase_day);
