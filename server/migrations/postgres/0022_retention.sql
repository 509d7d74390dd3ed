-- ADR 0024. Legal holds: a person's data kept past its retention (notat- og
-- journaliseringspligt, a legal claim); the reason is a code. At most one hold in force per
-- subject; released holds stay as history. Setting and lifting one is in the access log too.
CREATE TABLE legal_holds (
    hold_id      TEXT PRIMARY KEY NOT NULL,
    tenant       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    set_by       TEXT NOT NULL,
    set_at       BIGINT NOT NULL,
    released_by  TEXT,
    released_at  BIGINT
);
CREATE UNIQUE INDEX legal_holds_in_force ON legal_holds(tenant, subject) WHERE released_at IS NULL;

-- Each run of the retention job per tenant: what it disposed of and what holds kept.
CREATE TABLE retention_runs (
    run_id       TEXT PRIMARY KEY NOT NULL,
    tenant       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    today        TEXT NOT NULL,
    anonymised   BIGINT NOT NULL,
    held         BIGINT NOT NULL,
    log_pruned   BIGINT NOT NULL
);
CREATE INDEX retention_runs_by_tenant ON retention_runs(tenant, at);
