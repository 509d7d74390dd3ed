-- Central staff's review of merged records (the web pages). One current state per record;
-- every review action is also kept in review_events (who reviewed or flagged what, when).

CREATE TABLE reviews (
    doc_id      TEXT NOT NULL,
    record      TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    state       TEXT NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (doc_id, record)
);
CREATE INDEX reviews_by_tenant ON reviews(tenant);

CREATE TABLE review_events (
    seq         BIGSERIAL PRIMARY KEY,
    doc_id      TEXT NOT NULL,
    record      TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    state       TEXT NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX review_events_by_record ON review_events(doc_id, record, seq);

-- Which login and phone first sent each Automerge actor's changes: the review pages show
-- "from which device" with the device's name instead of an actor id.
CREATE TABLE actors (
    actor       TEXT PRIMARY KEY NOT NULL,
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    device_id   TEXT,
    first_seen  BIGINT NOT NULL
);
CREATE INDEX actors_by_tenant ON actors(tenant);
