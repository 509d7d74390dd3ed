-- ADR 0019. Erasure of a person: their subject key is destroyed and the subject goes on the
-- tenant's erased list, which key uploads are refused against from then on.
CREATE TABLE erased_subjects (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    erased_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- The erasure log: who, when, why (a reason code), and how much was erased. Never a name:
-- the subject is a random id, and the reason a code.
CREATE TABLE erasures (
    erasure_id      TEXT PRIMARY KEY NOT NULL,
    tenant          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    at              BIGINT NOT NULL,
    records         BIGINT NOT NULL,
    keys_destroyed  BIGINT NOT NULL,
    documents       BIGINT NOT NULL
);
CREATE INDEX erasures_by_tenant ON erasures(tenant, at);

-- Phones that reported deleting an erased subject's key from their store.
CREATE TABLE erasure_confirmations (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject, device_id)
);
