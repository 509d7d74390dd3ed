-- ADR 0014. Subject keys are kept per tenant, wrapped under a key-encryption key that lives
-- outside the database, and handed out only for the documents they were uploaded for. The
-- plain keys of older databases move to subject_keys_legacy; the relay wraps them (and
-- deletes the plain copies) at its first start with a KEK.
ALTER TABLE subject_keys RENAME TO subject_keys_legacy;

CREATE TABLE subject_keys (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    kek_id      TEXT NOT NULL,
    wrapped     BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject)
);
CREATE INDEX subject_keys_by_kek ON subject_keys(kek_id);

-- The documents (registers, the volunteer directory) a key was uploaded for.
CREATE TABLE subject_key_documents (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject, doc_id),
    FOREIGN KEY (tenant, subject) REFERENCES subject_keys(tenant, subject) ON DELETE CASCADE
);
CREATE INDEX subject_key_documents_by_doc ON subject_key_documents(doc_id);

-- A refresh token's successor, sealed under a key derived from the token itself: a second
-- refresh with the same token within a few seconds (two page loads at once) gets the same
-- new pair instead of counting as reuse.
ALTER TABLE refresh_tokens ADD COLUMN successor BLOB;

-- Access tokens of a revoked refresh family (logout, reuse) are refused until they expire.
CREATE TABLE token_denylist (
    family_id   TEXT PRIMARY KEY NOT NULL,
    until       INTEGER NOT NULL
);

-- Login attempts per minute, per client address and per account (keys are salted hashes),
-- counted before the password is checked. Rows older than the longest window are deleted.
CREATE TABLE login_attempts (
    key         TEXT NOT NULL,
    minute      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    PRIMARY KEY (key, minute)
);
