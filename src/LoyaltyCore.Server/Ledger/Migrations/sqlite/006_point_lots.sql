-- The day a row's points (or a lot it extended) fall due, for the expiry run to find the members to look at, and
-- each run's progress, so a run stopped half way resumes after the last member it finished.
ALTER TABLE ledger_entries ADD COLUMN lot_expires_on INTEGER;
CREATE INDEX ledger_entries_lot_expiry ON ledger_entries (lot_expires_on, member_id) WHERE lot_expires_on IS NOT NULL;
CREATE TABLE expiry_runs (
    as_of INTEGER PRIMARY KEY,
    after_day INTEGER NOT NULL DEFAULT 0,
    after_member TEXT NOT NULL DEFAULT '',
    finished INTEGER NOT NULL DEFAULT 0
);
