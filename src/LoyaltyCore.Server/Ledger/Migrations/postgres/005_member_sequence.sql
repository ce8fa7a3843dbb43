-- A member's changes in the order Redis applied them (1, 2, ...): a rebuild replays them in this order. Rows written
-- before it have none and come first, in recorded order.
ALTER TABLE ledger_entries ADD COLUMN member_seq BIGINT;
