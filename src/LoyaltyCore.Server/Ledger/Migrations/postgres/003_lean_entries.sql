-- The foreign key to members cost 0.005-0.011 ms of PostgreSQL CPU per ledger row (a lookup of the member's key on
-- every insert), a third of a row's cost at large batches. It guards nothing the server does not already ensure: a
-- transaction is applied only to a member whose state was loaded from their members row, and members are never
-- deleted. The primary key (member_id, transaction_id) stays: it is the last guard of exactly-once.
ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_member_id_fkey;
