-- The stored version of each document (ADR 0028): raised by every append in the transaction
-- that stores the changes, never by compaction (which keeps the content). The review pages
-- reuse what they decoded from a document while its version is unchanged; every node reads
-- the same version, so a change stored through another node is seen on the next page load.
ALTER TABLE documents ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
