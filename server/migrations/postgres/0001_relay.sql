-- nabo-server, PostgreSQL. Times are milliseconds since the epoch (UTC).

CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY NOT NULL,
    tenant      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    scope       TEXT NOT NULL UNIQUE,
    activity_id TEXT,
    area_id     TEXT,
    worker_id   TEXT,
    network_id  TEXT,
    title       TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX documents_by_tenant ON documents(tenant, kind);

-- A document is its snapshot chunk plus incremental chunks appended since (compaction
-- replaces them in one transaction).
CREATE TABLE chunks (
    seq         BIGSERIAL PRIMARY KEY,
    doc_id      TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    snapshot    BOOLEAN NOT NULL,
    bytes       BYTEA NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks(doc_id, seq);

CREATE TABLE sync_states (
    doc_id      TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    storage_id  TEXT NOT NULL,
    state       BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (doc_id, storage_id)
);

CREATE TABLE users (
    user_id       TEXT PRIMARY KEY NOT NULL,
    tenant        TEXT NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT,
    role          TEXT NOT NULL,
    staff_id      TEXT,
    volunteer_id  TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE user_scopes (
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);

CREATE TABLE devices (
    device_id   TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    device_id   TEXT,
    family_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX refresh_by_family ON refresh_tokens(family_id);

CREATE TABLE enrolment_codes (
    code_hash   TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE subject_keys (
    subject     TEXT PRIMARY KEY NOT NULL,
    tenant      TEXT NOT NULL,
    key         BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE relay_settings (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL
);
