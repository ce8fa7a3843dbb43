-- The birthday run looks members up by their birthday (month * 100 + day); only members who gave one are indexed.
ALTER TABLE members ADD COLUMN birthday SMALLINT;
CREATE INDEX members_birthday ON members (birthday, member_id) WHERE birthday IS NOT NULL;
