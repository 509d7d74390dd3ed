-- ADR 0024. The access log: every read, search, export, create, update, erasure and sync of a
-- person's data, with who (a login id), when, which subject (a random id), which document,
-- the kind of access and its purpose (codes). Never a name.
--
-- Tamper-evident: each tenant's entries form a hash chain (hash = SHA-256 of the previous
-- hash and the canonical entry, nabo_core::access_log). Appends are serialised per tenant by
-- the head row (locked by the appending transaction), so two relay nodes on one PostgreSQL
-- keep one linear chain; (tenant, seq) is the primary key besides.
CREATE TABLE access_log (
    tenant      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    user_id     TEXT NOT NULL,
    device_id   TEXT,
    subject     TEXT,
    doc_id      TEXT,
    kind        TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    hash        BYTEA NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE INDEX access_log_by_subject ON access_log(tenant, subject, seq);
CREATE INDEX access_log_by_document ON access_log(tenant, doc_id, seq);

-- Each tenant's chain: its last entry (seq, hash) and where the stored chain starts (the
-- anchor: 0 and zeroes, or the last entry retention pruned).
CREATE TABLE access_log_heads (
    tenant       TEXT PRIMARY KEY NOT NULL,
    seq          BIGINT NOT NULL,
    hash         BYTEA NOT NULL,
    anchor_seq   BIGINT NOT NULL,
    anchor_hash  BYTEA NOT NULL
);

-- A tenant's privacy settings (JSON of nabo_core::retention::PrivacySettings): whether
-- extracts name the employee, the retention classes.
CREATE TABLE tenant_privacy (
    tenant      TEXT PRIMARY KEY NOT NULL,
    settings    TEXT NOT NULL
);

-- Entries are never changed (retention prunes the oldest, moving the anchor).
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only';
END;
$$;
CREATE TRIGGER access_log_append_only BEFORE UPDATE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
