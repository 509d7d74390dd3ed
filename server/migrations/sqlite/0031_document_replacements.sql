-- Issue 11 item 1 (ADR 0037): a document rewritten from its sanitised current state under a
-- new id. The old id is on this list for good: the relay never serves, creates or stores it
-- again, and a phone that still holds it is told the new id and carries its late edits over.
-- `known` is every change hash (32 bytes each) the old document had when it was rewritten:
-- a phone's changes not among them are the ones the relay never saw. Hashes only, no content.
CREATE TABLE document_replacements (
    old_id      TEXT PRIMARY KEY NOT NULL,
    tenant      TEXT NOT NULL,
    new_id      TEXT NOT NULL,
    scope       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    replaced_at INTEGER NOT NULL,
    known       BLOB NOT NULL
);
CREATE INDEX document_replacements_by_tenant ON document_replacements(tenant, replaced_at);
CREATE INDEX document_replacements_by_new ON document_replacements(new_id);
