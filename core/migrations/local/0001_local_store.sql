-- The phone's local store (nabo-core, feature "store").
-- Documents are a snapshot plus the incremental changes appended since; compaction replaces
-- both in one transaction. Sync state is kept per peer (automerge sync::State::encode), so a
-- reconnect sends only what changed. Subject keys (crypto-shredding) live in their own table
-- and are really deleted on erasure (secure_delete is on).

CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    snapshot    BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id      TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    bytes       BLOB NOT NULL
);
CREATE INDEX changes_by_doc ON changes(doc_id, seq);

CREATE TABLE sync_states (
    doc_id      TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    peer_id     TEXT NOT NULL,
    state       BLOB NOT NULL,
    PRIMARY KEY (doc_id, peer_id)
);

CREATE TABLE subject_keys (
    subject     TEXT PRIMARY KEY NOT NULL,
    key         BLOB NOT NULL
);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY NOT NULL,
    value       BLOB NOT NULL
);
