-- A member's changes are numbered (member_seq) by the hot state that applied them. Two rows with one number mean the
-- second was applied on a state that missed the first: a Redis failover promoted a replica that had not received the
-- member's last writes. The index refuses that row, so no transaction is ever recorded on a stale balance.
CREATE UNIQUE INDEX ledger_entries_member_seq ON ledger_entries (member_id, member_seq) WHERE member_seq IS NOT NULL;
