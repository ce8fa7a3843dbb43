-- As on PostgreSQL: a second row under a member's change number was applied on a stale state, and is refused.
CREATE UNIQUE INDEX ledger_entries_member_seq ON ledger_entries (member_id, member_seq) WHERE member_seq IS NOT NULL;
