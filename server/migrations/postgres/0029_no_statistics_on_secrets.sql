-- ADR 0033. ANALYZE (autovacuum runs it on its own) copies sample column values into
-- pg_statistic: histogram bounds of a BYTEA column are whole stored values. For the wrapped
-- subject keys that is a copy of a key outside subject_keys, which an erasure's DELETE and
-- VACUUM FULL never reach. Columns holding key material or sealed personal data are never
-- sampled; changing a column's type to itself drops the statistics already taken.
ALTER TABLE subject_keys ALTER COLUMN wrapped TYPE BYTEA, ALTER COLUMN wrapped SET STATISTICS 0;
ALTER TABLE user_profiles ALTER COLUMN sealed TYPE BYTEA, ALTER COLUMN sealed SET STATISTICS 0;
ALTER TABLE tenant_oidc ALTER COLUMN secret_wrapped TYPE BYTEA, ALTER COLUMN secret_wrapped SET STATISTICS 0;
ALTER TABLE refresh_tokens ALTER COLUMN successor TYPE BYTEA, ALTER COLUMN successor SET STATISTICS 0;
ALTER TABLE chunks ALTER COLUMN bytes TYPE BYTEA, ALTER COLUMN bytes SET STATISTICS 0;
ALTER TABLE sync_states ALTER COLUMN state TYPE BYTEA, ALTER COLUMN state SET STATISTICS 0;
