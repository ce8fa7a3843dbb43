-- migrate: no-transaction
-- A member's changes are numbered (member_seq) by the hot state that applied them. Two rows with one number mean the
-- second was applied on a state that missed the first: a Redis failover promoted a replica that had not received the
-- member's last writes. The index refuses that row (the writer then has the member rebuilt from the ledger).
-- Only rows written from this release on (ingest_xid set, 009): older ledgers may hold duplicates from rare races of
-- earlier versions, and must not keep the server from starting. (The embedded SQLite ledger has no failover.)
-- Built CONCURRENTLY, so a large ledger keeps taking writes while it builds; an attempt that failed leaves an invalid
-- index behind, dropped first.
DROP INDEX CONCURRENTLY IF EXISTS ledger_entries_member_seq;
CREATE UNIQUE INDEX CONCURRENTLY ledger_entries_member_seq ON ledger_entries (member_id, member_seq)
    WHERE member_seq IS NOT NULL AND ingest_xid IS NOT NULL;
