-- Each change's identity (ledger_entry.proto, change_id), kept so a rebuild hands the hot state the id of the member's
-- last change. The embedded ledger has a single hot state with no replica, so it does not check the chain.
ALTER TABLE ledger_entries ADD COLUMN change_id INTEGER;
