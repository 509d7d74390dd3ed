-- ADR 0017: tenants and people, one-time links, sign-in with the organisation's identity
-- provider (OpenID Connect). Times are milliseconds since the epoch (UTC).

-- The tenants of this installation (the tenant's name and everything else about it lives in
-- its tenant document). Tenants that have users already (databases from before) are listed.
CREATE TABLE tenants (
    tenant_id   TEXT PRIMARY KEY NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO tenants (tenant_id, created_at)
    SELECT tenant, MIN(created_at) FROM users GROUP BY tenant;

-- A person's contact details (and a volunteer's name), sealed with the person's subject key
-- (nabo_core::seal; the key is wrapped under the KEK in subject_keys): never plain text.
CREATE TABLE user_profiles (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    sealed      BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- One-time links: activation of a new login, password reset. Stored hashed; used once.
CREATE TABLE user_links (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX user_links_by_user ON user_links(user_id, purpose);

-- Per tenant: the organisation's OpenID Connect provider. The client secret is wrapped
-- under the KEK like subject keys; `groups` maps the provider's groups to Nabo roles (JSON).
CREATE TABLE tenant_oidc (
    tenant          TEXT PRIMARY KEY NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    secret_kek_id   TEXT NOT NULL,
    secret_wrapped  BYTEA NOT NULL,
    scopes          TEXT NOT NULL,
    groups_claim    TEXT NOT NULL,
    groups          TEXT NOT NULL,
    label           TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- A login's identity at the provider: SHA-256 of the issuer and the subject (`sub`).
CREATE TABLE user_identities (
    identity    TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    tenant      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX user_identities_by_user ON user_identities(user_id);

-- Authorization requests on their way through the provider: state (hashed), nonce and the
-- PKCE verifier, each used once (the row is taken atomically at the callback).
CREATE TABLE oidc_requests (
    state_hash    TEXT PRIMARY KEY NOT NULL,
    tenant        TEXT NOT NULL,
    browser_hash  TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    link_hash     TEXT,
    next_path     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);

-- The programme of an activity and its registers: scopes by programme.
ALTER TABLE documents ADD COLUMN programme_id TEXT;
