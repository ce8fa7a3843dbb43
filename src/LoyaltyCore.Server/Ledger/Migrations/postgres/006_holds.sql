-- What a row refers to (the hold a capture, void or expiry ends) and when an authorization's hold expires. The
-- expiry run finds holds past their expiry with no row referring to them: both indexes hold only the rows that
-- have the column.
ALTER TABLE ledger_entries ADD COLUMN refers_to TEXT;
ALTER TABLE ledger_entries ADD COLUMN hold_expires_ms BIGINT;
CREATE INDEX ledger_entries_hold_expiry ON ledger_entries (hold_expires_ms, member_id, transaction_id) WHERE hold_expires_ms IS NOT NULL;
CREATE INDEX ledger_entries_refers_to ON ledger_entries (member_id, refers_to) WHERE refers_to IS NOT NULL;
