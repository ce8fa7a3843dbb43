-- Each change names the change it was applied after (ledger_entry.proto, previous_change_id), so the ledger refuses a
-- whole run of changes applied on a stale hot state, not only the first one: the writer checks that the row numbered
-- member_seq - 1 carries the named change_id before it inserts (through ledger_entries_member_seq). Rows written
-- before this release have none and are never named.
ALTER TABLE ledger_entries ADD COLUMN change_id BIGINT;

-- Changes the ledger refused (a stale state, a reused id). A change applied after one of them waits for it to be
-- committed; this is how it learns that it never will be, and is refused in turn. Written only when a failover or a
-- reused id makes a refusal, so it stays small.
CREATE TABLE ledger_refusals (
    member_id  TEXT NOT NULL,
    change_id  BIGINT NOT NULL,
    refused_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, change_id)
);
