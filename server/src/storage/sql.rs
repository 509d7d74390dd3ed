//! The SQLite and PostgreSQL implementations. Both run the same SQL (`$n` placeholders, in
//! increasing order, `ON CONFLICT`, `RETURNING` work in both); the macro below stamps out one
//! implementation per database, so the two cannot drift apart. Each has its own migrations.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use nabo_core::document::DocumentId;
use nabo_core::ids::TenantId;
use sqlx::Row;

mod privacy;

use super::{
    DeviceRow, DocMeta, ErasureRow, LinkPurpose, LinkRow, OidcConfigRow, OidcRequestRow,
    ProfileRow, RefreshRow, Result, ReviewRow, Scopes, Storage, StorageError, UserRow, WrappedKey,
    now_ms,
};

/// How each database starts a transaction that will write. SQLite must take the write lock
/// at the start (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails
/// with "database is locked" when another connection wrote in between.
trait Dialect {
    const BEGIN_WRITE: &'static str;
    /// Tells the other relay nodes on the database that a document has new stored changes,
    /// inside the transaction that stores them: PostgreSQL delivers a `NOTIFY` when the
    /// transaction commits and never before, so no node hears of changes that are not
    /// durable (ADR 0025). `$1` is the notice. SQLite has one node: nothing to tell.
    const NOTIFY_IN_TX: Option<&'static str>;
}

impl Dialect for sqlx::Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const NOTIFY_IN_TX: Option<&'static str> = None;
}

impl Dialect for sqlx::Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const NOTIFY_IN_TX: Option<&'static str> = Some("SELECT pg_notify('nabo_relay', $1)");
}

fn map_unique(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StorageError::Conflict,
        _ => StorageError::Db(e),
    }
}

fn damaged(what: &str) -> StorageError {
    StorageError::Damaged(what.to_owned())
}

/// A user's scopes as stored: (kind, values).
fn scope_kinds(s: &Scopes) -> [(&'static str, &Vec<String>); 3] {
    [
        ("area", &s.areas),
        ("activity", &s.activities),
        ("programme", &s.programmes),
    ]
}

macro_rules! sql_storage {
    ($name:ident, $db:ty, $backend:literal) => {
        /// Storage in
        #[doc = $backend]
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: sqlx::Pool<$db>,
            /// This process's name in notices to the other nodes (random per start).
            node: String,
        }

        impl $name {
            fn review(r: &<$db as sqlx::Database>::Row) -> Result<ReviewRow> {
                let id: String = r.try_get("doc_id")?;
                let tenant: String = r.try_get("tenant")?;
                Ok(ReviewRow {
                    doc_id: DocumentId::parse(&id).map_err(|_| damaged("doc_id"))?,
                    record: r.try_get("record")?,
                    tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                    state: r.try_get("state")?,
                    comment: r.try_get("comment")?,
                    fingerprint: r.try_get("fingerprint")?,
                    user_id: r.try_get("user_id")?,
                    at: r.try_get("at")?,
                })
            }

            fn meta(r: &<$db as sqlx::Database>::Row) -> Result<DocMeta> {
                let id: String = r.try_get("doc_id")?;
                let tenant: String = r.try_get("tenant")?;
                let kind: String = r.try_get("kind")?;
                Ok(DocMeta {
                    id: DocumentId::parse(&id).map_err(|_| damaged("doc_id"))?,
                    tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                    kind: kind.parse().map_err(|_| damaged("kind"))?,
                    scope: r.try_get("scope")?,
                    activity: r.try_get("activity_id")?,
                    area: r.try_get("area_id")?,
                    worker: r.try_get("worker_id")?,
                    network: r.try_get("network_id")?,
                    programme: r.try_get("programme_id")?,
                    title: r.try_get("title")?,
                })
            }

            fn replacement_row(r: &<$db as sqlx::Database>::Row) -> Result<super::Replacement> {
                let id = |col: &str| -> Result<DocumentId> {
                    let s: String = r.try_get(col)?;
                    DocumentId::parse(&s).map_err(|_| damaged("document_replacements"))
                };
                let tenant: String = r.try_get("tenant")?;
                let known: Vec<u8> = r.try_get("known")?;
                if known.len() % 32 != 0 {
                    return Err(damaged("document_replacements.known"));
                }
                Ok(super::Replacement {
                    old: id("old_id")?,
                    new: id("new_id")?,
                    tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                    scope: r.try_get("scope")?,
                    reason: r.try_get("reason")?,
                    at: r.try_get("replaced_at")?,
                    known: known
                        .chunks_exact(32)
                        .map(|c| automerge::ChangeHash(c.try_into().expect("32 bytes")))
                        .collect(),
                })
            }

            fn user_row(r: &<$db as sqlx::Database>::Row) -> Result<UserRow> {
                let tenant: String = r.try_get("tenant")?;
                let role: String = r.try_get("role")?;
                Ok(UserRow {
                    id: r.try_get("user_id")?,
                    tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                    username: r.try_get("username")?,
                    display_name: r.try_get("display_name")?,
                    password_hash: r.try_get("password_hash")?,
                    role: role.parse().map_err(|_| damaged("role"))?,
                    staff_id: r.try_get("staff_id")?,
                    volunteer_id: r.try_get("volunteer_id")?,
                    disabled: r.try_get("disabled")?,
                })
            }

            fn wrapped(r: &<$db as sqlx::Database>::Row) -> Result<WrappedKey> {
                Ok(WrappedKey { kek_id: r.try_get("kek_id")?, bytes: r.try_get("wrapped")? })
            }

            /// Inserts a document's row and its first snapshot (inside the caller's transaction).
            /// `Conflict` if the id or the scope is taken.
            async fn insert_document(tx: &mut sqlx::Transaction<'_, $db>, meta: &DocMeta, snapshot: &[u8], now: i64) -> Result<()> {
                sqlx::query(
                    "INSERT INTO documents (doc_id, tenant, kind, scope, activity_id, area_id, worker_id, network_id, title, size_bytes, created_at, updated_at, programme_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(meta.id.to_string())
                .bind(meta.tenant.as_str())
                .bind(meta.kind.code())
                .bind(&meta.scope)
                .bind(&meta.activity)
                .bind(&meta.area)
                .bind(&meta.worker)
                .bind(&meta.network)
                .bind(&meta.title)
                .bind(snapshot.len() as i64)
                .bind(now)
                .bind(now)
                .bind(&meta.programme)
                .execute(&mut **tx)
                .await
                .map_err(map_unique)?;
                sqlx::query("INSERT INTO chunks (doc_id, snapshot, bytes) VALUES ($1, $2, $3)")
                    .bind(meta.id.to_string())
                    .bind(true)
                    .bind(snapshot)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// Hands a key out for a document (inside the caller's transaction).
            async fn link(tx: &mut sqlx::Transaction<'_, $db>, tenant: &TenantId, subject: &str, doc: DocumentId, now: i64) -> Result<bool> {
                let r = sqlx::query("INSERT INTO subject_key_documents (tenant, subject, doc_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, subject, doc_id) DO NOTHING")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .bind(doc.to_string())
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            /// Revokes a user's refresh tokens and puts their live families on the deny-list, so
            /// their access tokens stop working at once (inside the caller's transaction).
            async fn deny_sessions(tx: &mut sqlx::Transaction<'_, $db>, user_id: &str, now: i64, with_devices: bool) -> Result<Vec<String>> {
                let until = now + (crate::auth::ACCESS_TTL_SECS + crate::auth::LEEWAY_SECS as i64) * 1000;
                // Only constant SQL fragments are chosen here, never values.
                let devices = if with_devices { "" } else { " AND device_id IS NULL" };
                let families: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2{devices}")))
                    .bind(user_id)
                    .bind(now)
                    .fetch_all(&mut **tx)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL{devices}"))).bind(now).bind(user_id).execute(&mut **tx).await?;
                for f in &families {
                    sqlx::query("INSERT INTO token_denylist (family_id, until) VALUES ($1, $2) ON CONFLICT (family_id) DO UPDATE SET until = excluded.until")
                        .bind(f)
                        .bind(until)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(families)
            }

            fn device_row(r: &<$db as sqlx::Database>::Row) -> Result<DeviceRow> {
                let revoked: Option<i64> = r.try_get("revoked_at")?;
                Ok(DeviceRow {
                    id: r.try_get("device_id")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("name")?,
                    revoked: revoked.is_some(),
                    last_seen: r.try_get("last_seen_at")?,
                    wiped: r.try_get("wiped_at")?,
                })
            }
        }

        #[async_trait]
        impl Storage for $name {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn document(&self, id: DocumentId) -> Result<Option<DocMeta>> {
                let row = sqlx::query("SELECT * FROM documents WHERE doc_id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::meta).transpose()
            }

            async fn document_by_scope(&self, scope: &str) -> Result<Option<DocMeta>> {
                let row = sqlx::query("SELECT * FROM documents WHERE scope = $1").bind(scope).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::meta).transpose()
            }

            async fn setting(&self, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM relay_settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
            }

            async fn init_setting(&self, key: &str, value: &str) -> Result<String> {
                sqlx::query("INSERT INTO relay_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                Ok(sqlx::query_scalar("SELECT value FROM relay_settings WHERE key = $1").bind(key).fetch_one(&self.pool).await?)
            }

            async fn documents(&self, tenant: &TenantId) -> Result<Vec<DocMeta>> {
                let rows = sqlx::query("SELECT * FROM documents WHERE tenant = $1 ORDER BY kind, title")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::meta).collect()
            }

            async fn documents_versioned(&self, tenant: &TenantId) -> Result<Vec<(DocMeta, super::DocVersion)>> {
                let rows = sqlx::query("SELECT * FROM documents WHERE tenant = $1 ORDER BY kind, title")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let version = super::DocVersion { version: r.try_get("version")?, size: r.try_get("size_bytes")? };
                        Ok((Self::meta(r)?, version))
                    })
                    .collect()
            }

            async fn create_document(&self, meta: &DocMeta, snapshot: &[u8]) -> Result<()> {
                let now = now_ms();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                Self::insert_document(&mut tx, meta, snapshot, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_document(&self, meta: &DocMeta) -> Result<()> {
                sqlx::query("UPDATE documents SET title = $1, area_id = $2, worker_id = $3, updated_at = $4, programme_id = $5 WHERE doc_id = $6")
                    .bind(&meta.title)
                    .bind(&meta.area)
                    .bind(&meta.worker)
                    .bind(now_ms())
                    .bind(&meta.programme)
                    .bind(meta.id.to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn document_version(&self, id: DocumentId) -> Result<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT version FROM documents WHERE doc_id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn replace_document(&self, old: &DocMeta, version: i64, new: &DocMeta, snapshot: &[u8], r: &super::Replacement) -> Result<()> {
                let now = now_ms();
                let (old_id, new_id) = (old.id.to_string(), new.id.to_string());
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                // The old document goes only as stored when it was read: a change stored since
                // (on any node) makes this a conflict, and the caller rewrites again.
                let gone = sqlx::query("DELETE FROM documents WHERE doc_id = $1 AND version = $2")
                    .bind(&old_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                if gone.rows_affected() == 0 {
                    return Err(StorageError::Conflict);
                }
                for t in ["chunks", "sync_states"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t} WHERE doc_id = $1")))
                        .bind(&old_id)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::insert_document(&mut tx, new, snapshot, now).await?;
                // What belongs to the document rather than to its bytes moves with it.
                for t in ["subject_key_documents", "reviews", "review_events"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {t} SET doc_id = $1 WHERE doc_id = $2")))
                        .bind(&new_id)
                        .bind(&old_id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("UPDATE document_replacements SET new_id = $1 WHERE new_id = $2")
                    .bind(&new_id)
                    .bind(&old_id)
                    .execute(&mut *tx)
                    .await?;
                let known: Vec<u8> = r.known.iter().flat_map(|h| h.0).collect();
                sqlx::query("INSERT INTO document_replacements (old_id, tenant, new_id, scope, reason, replaced_at, known) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&old_id)
                    .bind(r.tenant.as_str())
                    .bind(&new_id)
                    .bind(&r.scope)
                    .bind(&r.reason)
                    .bind(r.at)
                    .bind(known)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                if let Some(notify) = <$db as Dialect>::NOTIFY_IN_TX {
                    let notice = super::Notice::Replaced(old.id).encode(&self.node);
                    sqlx::query(notify).bind(notice).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn replacement(&self, old: DocumentId) -> Result<Option<super::Replacement>> {
                let row = sqlx::query("SELECT * FROM document_replacements WHERE old_id = $1")
                    .bind(old.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::replacement_row).transpose()
            }

            async fn replacements(&self, tenant: &TenantId) -> Result<Vec<super::Replacement>> {
                let rows = sqlx::query("SELECT * FROM document_replacements WHERE tenant = $1 ORDER BY replaced_at, old_id")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::replacement_row).collect()
            }

            async fn chunks(&self, id: DocumentId) -> Result<Vec<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT bytes FROM chunks WHERE doc_id = $1 ORDER BY snapshot DESC, seq")
                    .bind(id.to_string())
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn append(&self, id: DocumentId, bytes: &[u8]) -> Result<i64> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("INSERT INTO chunks (doc_id, snapshot, bytes) VALUES ($1, $2, $3)")
                    .bind(id.to_string())
                    .bind(false)
                    .bind(bytes)
                    .execute(&mut *tx)
                    .await?;
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chunks WHERE doc_id = $1 AND snapshot = $2")
                    .bind(id.to_string())
                    .bind(false)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query("UPDATE documents SET size_bytes = size_bytes + $1, updated_at = $2, version = version + 1 WHERE doc_id = $3")
                    .bind(bytes.len() as i64)
                    .bind(now_ms())
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                if let Some(notify) = <$db as Dialect>::NOTIFY_IN_TX {
                    let notice = super::Notice::Doc(id).encode(&self.node);
                    sqlx::query(notify).bind(notice).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(n)
            }

            async fn compact(&self, id: DocumentId) -> Result<usize> {
                let key = id.to_string();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                // Take the document row's write lock first (both databases), so two compactions
                // of the same document cannot interleave.
                sqlx::query("UPDATE documents SET updated_at = updated_at WHERE doc_id = $1").bind(&key).execute(&mut *tx).await?;
                let rows = sqlx::query("SELECT seq, bytes FROM chunks WHERE doc_id = $1 ORDER BY snapshot DESC, seq")
                    .bind(&key)
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.len() < 2 {
                    return Ok(rows.iter().map(|r| r.try_get::<Vec<u8>, _>("bytes").map(|b| b.len())).sum::<std::result::Result<usize, _>>()?);
                }
                let mut all = Vec::new();
                let mut max_seq = 0i64;
                for r in &rows {
                    let b: Vec<u8> = r.try_get("bytes")?;
                    all.extend_from_slice(&b);
                    max_seq = max_seq.max(r.try_get::<i64, _>("seq")?);
                }
                let doc = nabo_core::document::load_automerge(&all).map_err(|e| StorageError::Damaged(e.to_string()))?;
                let snapshot = doc.save();
                sqlx::query("DELETE FROM chunks WHERE doc_id = $1 AND seq <= $2").bind(&key).bind(max_seq).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO chunks (doc_id, snapshot, bytes) VALUES ($1, $2, $3)")
                    .bind(&key)
                    .bind(true)
                    .bind(&snapshot)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE documents SET size_bytes = $1 WHERE doc_id = $2")
                    .bind(snapshot.len() as i64)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(snapshot.len())
            }

            async fn sync_state(&self, id: DocumentId, storage_id: &str) -> Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar("SELECT state FROM sync_states WHERE doc_id = $1 AND storage_id = $2")
                    .bind(id.to_string())
                    .bind(storage_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn put_sync_state(&self, id: DocumentId, storage_id: &str, state: &[u8]) -> Result<()> {
                sqlx::query(
                    "INSERT INTO sync_states (doc_id, storage_id, state, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (doc_id, storage_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(id.to_string())
                .bind(storage_id)
                .bind(state)
                .bind(now_ms())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn insert_user(&self, u: &UserRow, scopes: &Scopes) -> Result<()> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query(
                    "INSERT INTO users (user_id, tenant, username, display_name, password_hash, role, staff_id, volunteer_id, disabled, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&u.id)
                .bind(u.tenant.as_str())
                .bind(&u.username)
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(u.role.code())
                .bind(&u.staff_id)
                .bind(&u.volunteer_id)
                .bind(u.disabled)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(map_unique)?;
                for (kind, values) in scope_kinds(scopes) {
                    for v in values {
                        sqlx::query("INSERT INTO user_scopes (user_id, kind, value) VALUES ($1, $2, $3)")
                            .bind(&u.id)
                            .bind(kind)
                            .bind(v)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
                let row = sqlx::query("SELECT * FROM users WHERE username = $1").bind(username).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::user_row).transpose()
            }

            async fn user(&self, id: &str) -> Result<Option<UserRow>> {
                let row = sqlx::query("SELECT * FROM users WHERE user_id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::user_row).transpose()
            }

            async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRow>> {
                let rows = sqlx::query("SELECT * FROM users WHERE tenant = $1 ORDER BY username").bind(tenant.as_str()).fetch_all(&self.pool).await?;
                rows.iter().map(Self::user_row).collect()
            }

            async fn scopes(&self, user_id: &str) -> Result<Scopes> {
                let rows = sqlx::query("SELECT kind, value FROM user_scopes WHERE user_id = $1 ORDER BY kind, value")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                let mut s = Scopes::default();
                for r in rows {
                    let kind: String = r.try_get("kind")?;
                    let value: String = r.try_get("value")?;
                    match kind.as_str() {
                        "area" => s.areas.push(value),
                        "activity" => s.activities.push(value),
                        "programme" => s.programmes.push(value),
                        _ => return Err(damaged("scope kind")),
                    }
                }
                Ok(s)
            }

            async fn set_scopes(&self, user_id: &str, scopes: &Scopes) -> Result<()> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("DELETE FROM user_scopes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for (kind, values) in scope_kinds(scopes) {
                    for v in values {
                        sqlx::query("INSERT INTO user_scopes (user_id, kind, value) VALUES ($1, $2, $3)")
                            .bind(user_id)
                            .bind(kind)
                            .bind(v)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            async fn disable_user(&self, user_id: &str) -> Result<bool> {
                let now = now_ms();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let n = sqlx::query("UPDATE users SET disabled = $1 WHERE user_id = $2").bind(true).bind(user_id).execute(&mut *tx).await?.rows_affected();
                Self::deny_sessions(&mut tx, user_id, now, true).await?;
                sqlx::query("UPDATE devices SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL").bind(now).bind(user_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n > 0)
            }

            async fn set_role(&self, user_id: &str, role: nabo_core::model::AppRole) -> Result<()> {
                sqlx::query("UPDATE users SET role = $1 WHERE user_id = $2").bind(role.code()).bind(user_id).execute(&self.pool).await?;
                Ok(())
            }

            async fn enable_user(&self, user_id: &str) -> Result<bool> {
                let n = sqlx::query("UPDATE users SET disabled = $1 WHERE user_id = $2 AND disabled = $3")
                    .bind(false)
                    .bind(user_id)
                    .bind(true)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            async fn anonymise_user(&self, user_id: &str, username: &str, display_name: &str) -> Result<()> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("UPDATE users SET username = $1, display_name = $2, password_hash = NULL WHERE user_id = $3")
                    .bind(username)
                    .bind(display_name)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                for t in ["user_profiles", "user_identities", "user_links"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t} WHERE user_id = $1")))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn end_sessions(&self, user_id: &str, now: i64) -> Result<Vec<String>> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let families = Self::deny_sessions(&mut tx, user_id, now, false).await?;
                tx.commit().await?;
                Ok(families)
            }

            async fn insert_tenant(&self, tenant: &TenantId) -> Result<()> {
                sqlx::query("INSERT INTO tenants (tenant_id, created_at) VALUES ($1, $2)")
                    .bind(tenant.as_str())
                    .bind(now_ms())
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                Ok(())
            }

            async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool> {
                let n: Option<String> = sqlx::query_scalar("SELECT tenant_id FROM tenants WHERE tenant_id = $1")
                    .bind(tenant.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(n.is_some())
            }

            async fn tenants(&self) -> Result<Vec<TenantId>> {
                let ids: Vec<String> = sqlx::query_scalar("SELECT tenant_id FROM tenants ORDER BY tenant_id").fetch_all(&self.pool).await?;
                ids.iter().map(|t| t.parse().map_err(|_| damaged("tenant"))).collect()
            }

            async fn put_profile(&self, user_id: &str, p: &ProfileRow) -> Result<()> {
                sqlx::query(
                    "INSERT INTO user_profiles (user_id, subject, sealed, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET subject = excluded.subject, sealed = excluded.sealed, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(&p.subject)
                .bind(&p.sealed)
                .bind(now_ms())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn profile(&self, user_id: &str) -> Result<Option<ProfileRow>> {
                let row = sqlx::query("SELECT subject, sealed FROM user_profiles WHERE user_id = $1").bind(user_id).fetch_optional(&self.pool).await?;
                row.map(|r| Ok(ProfileRow { subject: r.try_get("subject")?, sealed: r.try_get("sealed")? })).transpose()
            }

            async fn insert_link(&self, token_hash: &str, user_id: &str, purpose: LinkPurpose, created_by: Option<&str>, expires_at: i64) -> Result<()> {
                let now = now_ms();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                // A new link replaces the ones sent before: only the newest works.
                sqlx::query("UPDATE user_links SET expires_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $4")
                    .bind(now)
                    .bind(user_id)
                    .bind(purpose.code())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO user_links (token_hash, user_id, purpose, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(purpose.code())
                    .bind(created_by)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                tx.commit().await?;
                Ok(())
            }

            async fn link(&self, token_hash: &str, purpose: LinkPurpose) -> Result<Option<LinkRow>> {
                let row = sqlx::query("SELECT user_id, expires_at, used_at FROM user_links WHERE token_hash = $1 AND purpose = $2")
                    .bind(token_hash)
                    .bind(purpose.code())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| Ok(LinkRow { user_id: r.try_get("user_id")?, expires_at: r.try_get("expires_at")?, used_at: r.try_get("used_at")? })).transpose()
            }

            async fn redeem_link(&self, token_hash: &str, purpose: LinkPurpose, now: i64) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "UPDATE user_links SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $4 RETURNING user_id",
                )
                .bind(now)
                .bind(token_hash)
                .bind(purpose.code())
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn put_oidc_config(&self, c: &OidcConfigRow) -> Result<()> {
                sqlx::query(
                    "INSERT INTO tenant_oidc (tenant, issuer, client_id, secret_kek_id, secret_wrapped, scopes, groups_claim, groups, label, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (tenant) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, secret_kek_id = excluded.secret_kek_id, \
                     secret_wrapped = excluded.secret_wrapped, scopes = excluded.scopes, groups_claim = excluded.groups_claim, groups = excluded.groups, \
                     label = excluded.label, updated_at = excluded.updated_at",
                )
                .bind(c.tenant.as_str())
                .bind(&c.issuer)
                .bind(&c.client_id)
                .bind(&c.secret.kek_id)
                .bind(&c.secret.bytes)
                .bind(&c.scopes)
                .bind(&c.groups_claim)
                .bind(&c.groups)
                .bind(&c.label)
                .bind(now_ms())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn oidc_config(&self, tenant: &TenantId) -> Result<Option<OidcConfigRow>> {
                let row = sqlx::query("SELECT * FROM tenant_oidc WHERE tenant = $1").bind(tenant.as_str()).fetch_optional(&self.pool).await?;
                row.map(|r| {
                    Ok(OidcConfigRow {
                        tenant: tenant.clone(),
                        issuer: r.try_get("issuer")?,
                        client_id: r.try_get("client_id")?,
                        secret: WrappedKey { kek_id: r.try_get("secret_kek_id")?, bytes: r.try_get("secret_wrapped")? },
                        scopes: r.try_get("scopes")?,
                        groups_claim: r.try_get("groups_claim")?,
                        groups: r.try_get("groups")?,
                        label: r.try_get("label")?,
                    })
                })
                .transpose()
            }

            async fn link_identity(&self, identity: &str, user_id: &str, tenant: &TenantId) -> Result<()> {
                sqlx::query("INSERT INTO user_identities (identity, user_id, tenant, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(identity)
                    .bind(user_id)
                    .bind(tenant.as_str())
                    .bind(now_ms())
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                Ok(())
            }

            async fn identity_user(&self, identity: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM user_identities WHERE identity = $1").bind(identity).fetch_optional(&self.pool).await?)
            }

            async fn insert_oidc_request(&self, state_hash: &str, r: &OidcRequestRow) -> Result<()> {
                let now = now_ms();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("DELETE FROM oidc_requests WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO oidc_requests (state_hash, tenant, browser_hash, nonce, pkce_verifier, link_hash, next_path, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(state_hash)
                .bind(r.tenant.as_str())
                .bind(&r.browser_hash)
                .bind(&r.nonce)
                .bind(&r.pkce_verifier)
                .bind(&r.link_hash)
                .bind(&r.next_path)
                .bind(now)
                .bind(r.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(map_unique)?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_oidc_request(&self, state_hash: &str, now: i64) -> Result<Option<OidcRequestRow>> {
                let row = sqlx::query(
                    "UPDATE oidc_requests SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL AND expires_at > $3 \
                     RETURNING tenant, browser_hash, nonce, pkce_verifier, link_hash, next_path, expires_at",
                )
                .bind(now)
                .bind(state_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    let t: String = r.try_get("tenant")?;
                    Ok(OidcRequestRow {
                        tenant: t.parse().map_err(|_| damaged("tenant"))?,
                        browser_hash: r.try_get("browser_hash")?,
                        nonce: r.try_get("nonce")?,
                        pkce_verifier: r.try_get("pkce_verifier")?,
                        link_hash: r.try_get("link_hash")?,
                        next_path: r.try_get("next_path")?,
                        expires_at: r.try_get("expires_at")?,
                    })
                })
                .transpose()
            }

            async fn set_password(&self, user_id: &str, hash: &str) -> Result<()> {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE user_id = $2").bind(hash).bind(user_id).execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_refresh(&self, hash: &str, r: &RefreshRow) -> Result<()> {
                sqlx::query("INSERT INTO refresh_tokens (token_hash, user_id, device_id, family_id, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(hash)
                    .bind(&r.user_id)
                    .bind(&r.device_id)
                    .bind(&r.family_id)
                    .bind(r.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                Ok(())
            }

            async fn refresh_token(&self, hash: &str) -> Result<Option<RefreshRow>> {
                let row = sqlx::query("SELECT user_id, device_id, family_id, expires_at, used_at, revoked_at, successor FROM refresh_tokens WHERE token_hash = $1")
                    .bind(hash)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(r) = row else {
                    return Ok(None);
                };
                let revoked: Option<i64> = r.try_get("revoked_at")?;
                Ok(Some(RefreshRow {
                    user_id: r.try_get("user_id")?,
                    device_id: r.try_get("device_id")?,
                    family_id: r.try_get("family_id")?,
                    expires_at: r.try_get("expires_at")?,
                    used_at: r.try_get("used_at")?,
                    revoked: revoked.is_some(),
                    successor: r.try_get("successor")?,
                }))
            }

            async fn rotate_refresh(&self, old_hash: &str, now: i64, successor: &[u8], new_hash: &str, n: &RefreshRow) -> Result<bool> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                // One statement decides the winner: on PostgreSQL a concurrent rotation waits
                // for this row's lock and then finds used_at set.
                let won: Option<String> = sqlx::query_scalar(
                    "UPDATE refresh_tokens SET used_at = $1, successor = $2 WHERE token_hash = $3 AND used_at IS NULL AND revoked_at IS NULL RETURNING family_id",
                )
                .bind(now)
                .bind(successor)
                .bind(old_hash)
                .fetch_optional(&mut *tx)
                .await?;
                if won.is_none() {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query("INSERT INTO refresh_tokens (token_hash, user_id, device_id, family_id, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(new_hash)
                    .bind(&n.user_id)
                    .bind(&n.device_id)
                    .bind(&n.family_id)
                    .bind(n.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                tx.commit().await?;
                Ok(true)
            }

            async fn revoke_family(&self, family_id: &str, now: i64, deny_until: i64) -> Result<()> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(family_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO token_denylist (family_id, until) VALUES ($1, $2) ON CONFLICT (family_id) DO UPDATE SET until = excluded.until")
                    .bind(family_id)
                    .bind(deny_until)
                    .execute(&mut *tx)
                    .await?;
                // The list holds only what can still be presented: it stays small.
                sqlx::query("DELETE FROM token_denylist WHERE until < $1").bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn family_denied(&self, family_id: &str, now: i64) -> Result<bool> {
                let n: Option<i64> = sqlx::query_scalar("SELECT until FROM token_denylist WHERE family_id = $1 AND until >= $2")
                    .bind(family_id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(n.is_some())
            }

            async fn count_login_attempt(&self, key: &str, minute: i64, since: i64, forget_before: i64) -> Result<i64> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("INSERT INTO login_attempts (key, minute, attempts) VALUES ($1, $2, 1) ON CONFLICT (key, minute) DO UPDATE SET attempts = login_attempts.attempts + 1")
                    .bind(key)
                    .bind(minute)
                    .execute(&mut *tx)
                    .await?;
                let n: Option<i64> = sqlx::query_scalar("SELECT CAST(SUM(attempts) AS BIGINT) FROM login_attempts WHERE key = $1 AND minute >= $2")
                    .bind(key)
                    .bind(since)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM login_attempts WHERE minute < $1").bind(forget_before).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n.unwrap_or(0))
            }

            async fn uncount_login_attempt(&self, key: &str, minute: i64) -> Result<()> {
                sqlx::query("UPDATE login_attempts SET attempts = attempts - 1 WHERE key = $1 AND minute = $2 AND attempts > 0")
                    .bind(key)
                    .bind(minute)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_device(&self, d: &DeviceRow) -> Result<()> {
                sqlx::query("INSERT INTO devices (device_id, user_id, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&d.id)
                    .bind(&d.user_id)
                    .bind(&d.name)
                    .bind(now_ms())
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                Ok(())
            }

            async fn device(&self, id: &str) -> Result<Option<DeviceRow>> {
                let row = sqlx::query("SELECT * FROM devices WHERE device_id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::device_row).transpose()
            }

            async fn devices(&self, user_id: &str) -> Result<Vec<DeviceRow>> {
                let rows = sqlx::query("SELECT * FROM devices WHERE user_id = $1 ORDER BY created_at").bind(user_id).fetch_all(&self.pool).await?;
                rows.iter().map(Self::device_row).collect()
            }

            async fn revoke_device(&self, id: &str, now: i64) -> Result<bool> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let n = sqlx::query("UPDATE devices SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL").bind(now).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n > 0)
            }

            async fn device_seen(&self, id: &str, now: i64) -> Result<()> {
                sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE device_id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn device_wiped(&self, id: &str, now: i64) -> Result<bool> {
                let n = sqlx::query("UPDATE devices SET wiped_at = COALESCE(wiped_at, $1) WHERE device_id = $2 AND revoked_at IS NOT NULL")
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(n > 0)
            }

            async fn insert_enrolment(&self, code_hash: &str, user_id: &str, created_by: &str, expires_at: i64) -> Result<()> {
                sqlx::query("INSERT INTO enrolment_codes (code_hash, user_id, created_by, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(code_hash)
                    .bind(user_id)
                    .bind(created_by)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                Ok(())
            }

            async fn redeem_enrolment(&self, code_hash: &str, now: i64) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "UPDATE enrolment_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
                )
                .bind(now)
                .bind(code_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn insert_subject_key(&self, tenant: &TenantId, subject: &str, key: &WrappedKey, doc: DocumentId) -> Result<bool> {
                let now = now_ms();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                // Never for an erased subject (ADR 0019), even when the erasure commits between
                // the caller's check and this statement.
                let r = sqlx::query("INSERT INTO subject_keys (tenant, subject, kek_id, wrapped, created_at) SELECT $1, $2, $3, $4, $5 \
                                     WHERE NOT EXISTS (SELECT 1 FROM erased_subjects e WHERE e.tenant = $1 AND e.subject = $2) ON CONFLICT (tenant, subject) DO NOTHING")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .bind(&key.kek_id)
                    .bind(&key.bytes)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Self::link(&mut tx, tenant, subject, doc, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn link_subject_key(&self, tenant: &TenantId, subject: &str, doc: DocumentId) -> Result<bool> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let new = Self::link(&mut tx, tenant, subject, doc, now_ms()).await?;
                tx.commit().await?;
                Ok(new)
            }

            async fn subject_key(&self, tenant: &TenantId, subject: &str) -> Result<Option<WrappedKey>> {
                let row = sqlx::query("SELECT kek_id, wrapped FROM subject_keys WHERE tenant = $1 AND subject = $2")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::wrapped).transpose()
            }

            async fn subject_keys(&self, tenant: &TenantId, doc: Option<DocumentId>, subjects: &[String]) -> Result<Vec<(String, WrappedKey)>> {
                let mut out = Vec::new();
                // A bounded number of placeholders per statement (SQLite's limit is far above).
                for part in subjects.chunks(500) {
                    let first = if doc.is_some() { 3 } else { 2 };
                    let placeholders = (first..part.len() + first).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                    // Only placeholders are formatted into the statement, never values.
                    let sql = match doc {
                        Some(_) => format!(
                            "SELECT k.subject, k.kek_id, k.wrapped FROM subject_keys k JOIN subject_key_documents d ON d.tenant = k.tenant AND d.subject = k.subject \
                             WHERE k.tenant = $1 AND d.doc_id = $2 AND k.subject IN ({placeholders}) {NOT_ERASED}"
                        ),
                        None => format!("SELECT k.subject, k.kek_id, k.wrapped FROM subject_keys k WHERE k.tenant = $1 AND k.subject IN ({placeholders}) {NOT_ERASED}"),
                    };
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
                    if let Some(d) = doc {
                        q = q.bind(d.to_string());
                    }
                    for subject in part {
                        q = q.bind(subject);
                    }
                    for r in q.fetch_all(&self.pool).await? {
                        out.push((r.try_get("subject")?, Self::wrapped(&r)?));
                    }
                }
                Ok(out)
            }

            async fn erase_subjects(&self, subjects: &[String], log: &ErasureRow) -> Result<i64> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let mut destroyed = 0;
                for subject in subjects {
                    sqlx::query("INSERT INTO erased_subjects (tenant, subject, erased_at) VALUES ($1, $2, $3) ON CONFLICT (tenant, subject) DO NOTHING")
                        .bind(log.tenant.as_str())
                        .bind(subject)
                        .bind(log.at)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM subject_key_documents WHERE tenant = $1 AND subject = $2")
                        .bind(log.tenant.as_str())
                        .bind(subject)
                        .execute(&mut *tx)
                        .await?;
                    let r = sqlx::query("DELETE FROM subject_keys WHERE tenant = $1 AND subject = $2")
                        .bind(log.tenant.as_str())
                        .bind(subject)
                        .execute(&mut *tx)
                        .await?;
                    destroyed += r.rows_affected() as i64;
                }
                sqlx::query("INSERT INTO erasures (erasure_id, tenant, subject, user_id, reason, at, records, keys_destroyed, documents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(&log.id)
                    .bind(log.tenant.as_str())
                    .bind(&log.subject)
                    .bind(&log.user_id)
                    .bind(&log.reason)
                    .bind(log.at)
                    .bind(log.records)
                    .bind(destroyed)
                    .bind(log.documents)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(destroyed)
            }

            async fn erased_among(&self, tenant: &TenantId, subjects: &[String]) -> Result<Vec<String>> {
                let mut out = Vec::new();
                for part in subjects.chunks(500) {
                    let placeholders = (2..part.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                    // Only placeholders are formatted into the statement, never values.
                    let sql = format!("SELECT subject FROM erased_subjects WHERE tenant = $1 AND subject IN ({placeholders})");
                    let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
                    for subject in part {
                        q = q.bind(subject);
                    }
                    out.extend(q.fetch_all(&self.pool).await?);
                }
                out.sort();
                Ok(out)
            }

            async fn erasures(&self, tenant: &TenantId) -> Result<Vec<ErasureRow>> {
                let rows = sqlx::query("SELECT erasure_id, tenant, subject, user_id, reason, at, records, keys_destroyed, documents FROM erasures WHERE tenant = $1 ORDER BY at DESC, erasure_id")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let tenant: String = r.try_get("tenant")?;
                        Ok(ErasureRow {
                            id: r.try_get("erasure_id")?,
                            tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                            subject: r.try_get("subject")?,
                            user_id: r.try_get("user_id")?,
                            reason: r.try_get("reason")?,
                            at: r.try_get("at")?,
                            records: r.try_get("records")?,
                            keys_destroyed: r.try_get("keys_destroyed")?,
                            documents: r.try_get("documents")?,
                        })
                    })
                    .collect()
            }

            async fn confirm_erasure(&self, tenant: &TenantId, subject: &str, device_id: &str, at: i64) -> Result<bool> {
                let r = sqlx::query("INSERT INTO erasure_confirmations (tenant, subject, device_id, at) SELECT $1, $2, $3, $4 \
                                     WHERE EXISTS (SELECT 1 FROM erased_subjects e WHERE e.tenant = $1 AND e.subject = $2) ON CONFLICT (tenant, subject, device_id) DO NOTHING")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .bind(device_id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn erasure_confirmations(&self, tenant: &TenantId) -> Result<std::collections::HashMap<String, i64>> {
                let rows = sqlx::query("SELECT subject, COUNT(*) AS n FROM erasure_confirmations WHERE tenant = $1 GROUP BY subject")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("subject")?, r.try_get("n")?)))
                    .collect()
            }

            async fn reclaim_erased(&self) -> Result<()> {
                // A key stored by an upload that raced an erasure goes too.
                sqlx::query("DELETE FROM subject_keys WHERE EXISTS (SELECT 1 FROM erased_subjects e WHERE e.tenant = subject_keys.tenant AND e.subject = subject_keys.subject)")
                    .execute(&self.pool)
                    .await?;
                self.pool.reclaim(KEY_TABLES).await
            }

            async fn reclaim_documents(&self) -> Result<()> {
                self.pool.reclaim(DOCUMENT_TABLES).await
            }

            async fn subject_keys_not_under(&self, kek_id: &str, limit: i64) -> Result<Vec<(TenantId, String, WrappedKey)>> {
                let rows = sqlx::query("SELECT tenant, subject, kek_id, wrapped FROM subject_keys WHERE kek_id <> $1 ORDER BY tenant, subject LIMIT $2")
                    .bind(kek_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let t: String = r.try_get("tenant")?;
                        Ok((t.parse().map_err(|_| damaged("tenant"))?, r.try_get("subject")?, Self::wrapped(r)?))
                    })
                    .collect()
            }

            async fn rewrap_subject_key(&self, tenant: &TenantId, subject: &str, old: &WrappedKey, new: &WrappedKey) -> Result<bool> {
                let r = sqlx::query("UPDATE subject_keys SET kek_id = $1, wrapped = $2 WHERE tenant = $3 AND subject = $4 AND kek_id = $5 AND wrapped = $6")
                    .bind(&new.kek_id)
                    .bind(&new.bytes)
                    .bind(tenant.as_str())
                    .bind(subject)
                    .bind(&old.kek_id)
                    .bind(&old.bytes)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn subject_key_keks(&self) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT DISTINCT kek_id FROM subject_keys").fetch_all(&self.pool).await?)
            }

            async fn legacy_subject_keys(&self, limit: i64) -> Result<Vec<(TenantId, String, Vec<u8>)>> {
                let rows = sqlx::query("SELECT tenant, subject, key FROM subject_keys_legacy ORDER BY subject LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let t: String = r.try_get("tenant")?;
                        Ok((t.parse().map_err(|_| damaged("tenant"))?, r.try_get("subject")?, r.try_get("key")?))
                    })
                    .collect()
            }

            async fn adopt_legacy_subject_key(&self, tenant: &TenantId, subject: &str, key: &WrappedKey, docs: &[DocumentId]) -> Result<()> {
                let now = now_ms();
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                sqlx::query("INSERT INTO subject_keys (tenant, subject, kek_id, wrapped, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, subject) DO NOTHING")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .bind(&key.kek_id)
                    .bind(&key.bytes)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                for d in docs {
                    Self::link(&mut tx, tenant, subject, *d, now).await?;
                }
                sqlx::query("DELETE FROM subject_keys_legacy WHERE tenant = $1 AND subject = $2")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn drop_legacy_subject_key(&self, tenant: &TenantId, subject: &str) -> Result<()> {
                sqlx::query("DELETE FROM subject_keys_legacy WHERE tenant = $1 AND subject = $2")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn put_review(&self, r: &ReviewRow) -> Result<()> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                // The current state, and the same row appended to the record's log.
                for sql in [
                    "INSERT INTO reviews (doc_id, record, tenant, state, comment, fingerprint, user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (doc_id, record) DO UPDATE SET state = excluded.state, comment = excluded.comment, fingerprint = excluded.fingerprint, user_id = excluded.user_id, at = excluded.at",
                    "INSERT INTO review_events (doc_id, record, tenant, state, comment, fingerprint, user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                ] {
                    sqlx::query(sql)
                        .bind(r.doc_id.to_string())
                        .bind(&r.record)
                        .bind(r.tenant.as_str())
                        .bind(&r.state)
                        .bind(&r.comment)
                        .bind(&r.fingerprint)
                        .bind(&r.user_id)
                        .bind(r.at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn reviews(&self, tenant: &TenantId) -> Result<Vec<ReviewRow>> {
                let rows = sqlx::query("SELECT doc_id, record, tenant, state, comment, fingerprint, user_id, at FROM reviews WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::review).collect()
            }

            async fn review_log(&self, doc_id: DocumentId, record: &str) -> Result<Vec<ReviewRow>> {
                let rows = sqlx::query("SELECT doc_id, record, tenant, state, comment, fingerprint, user_id, at FROM review_events WHERE doc_id = $1 AND record = $2 ORDER BY seq")
                    .bind(doc_id.to_string())
                    .bind(record)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::review).collect()
            }

            async fn bind_actor(&self, tenant: &TenantId, actor: &str, user_id: &str, device_id: Option<&str>) -> Result<(String, Option<String>)> {
                sqlx::query("INSERT INTO actors (tenant, actor, user_id, device_id, first_seen) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, actor) DO NOTHING")
                    .bind(tenant.as_str())
                    .bind(actor)
                    .bind(user_id)
                    .bind(device_id)
                    .bind(now_ms())
                    .execute(&self.pool)
                    .await?;
                let r = sqlx::query("SELECT user_id, device_id FROM actors WHERE tenant = $1 AND actor = $2")
                    .bind(tenant.as_str())
                    .bind(actor)
                    .fetch_one(&self.pool)
                    .await?;
                Ok((r.try_get("user_id")?, r.try_get("device_id")?))
            }

            async fn actors(&self, tenant: &TenantId) -> Result<std::collections::HashMap<String, (String, Option<String>)>> {
                let rows = sqlx::query("SELECT actor, user_id, device_id FROM actors WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("actor")?, (r.try_get("user_id")?, r.try_get("device_id")?))))
                    .collect()
            }

            async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
                self.pool.backup(path).await
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn node(&self) -> &str {
                &self.node
            }

            async fn announce(&self, notice: super::Notice) -> Result<()> {
                match <$db as Dialect>::NOTIFY_IN_TX {
                    Some(notify) => {
                        sqlx::query(notify).bind(notice.encode(&self.node)).execute(&self.pool).await?;
                        Ok(())
                    }
                    None => Ok(()),
                }
            }

            async fn listen(&self) -> Result<Option<tokio::sync::mpsc::Receiver<super::Heard>>> {
                self.pool.listen(&self.node).await
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }
    };
}

sql_storage!(SqliteStorage, sqlx::Sqlite, "sqlite");
sql_storage!(PgStorage, sqlx::Postgres, "postgres");

/// Keys of erased subjects are never handed out, even one stored by an upload that raced the
/// erasure (and is deleted by the next [`Storage::reclaim_erased`]).
const NOT_ERASED: &str = "AND NOT EXISTS (SELECT 1 FROM erased_subjects e WHERE e.tenant = k.tenant AND e.subject = k.subject)";

/// The tables an erasure's reclaim rewrites on PostgreSQL: the keys, and the login tables (an
/// erased staff member's login name and display name were overwritten there by
/// `anonymise_user`, and the old row versions must go with them).
const KEY_TABLES: &[&str] = &[
    "subject_keys",
    "subject_key_documents",
    "users",
    "user_profiles",
];

/// The tables a document rewrite's reclaim rewrites on PostgreSQL (ADR 0037): the old
/// document's chunks and sync states, and the rows that moved to the new id.
const DOCUMENT_TABLES: &[&str] = &[
    "chunks",
    "sync_states",
    "documents",
    "subject_key_documents",
    "reviews",
    "review_events",
];

/// What differs between the two databases beyond SQL.
#[async_trait]
trait PoolExt {
    async fn backup(&self, path: &std::path::Path) -> Result<()>;
    /// Makes deleted rows unrecoverable; PostgreSQL rewrites `tables`.
    async fn reclaim(&self, tables: &[&str]) -> Result<()>;
    /// Notices from the other nodes, or None where there is one node.
    async fn listen(&self, node: &str)
    -> Result<Option<tokio::sync::mpsc::Receiver<super::Heard>>>;
}

#[async_trait]
impl PoolExt for sqlx::Pool<sqlx::Sqlite> {
    async fn backup(&self, path: &std::path::Path) -> Result<()> {
        // VACUUM INTO writes a consistent copy while the relay keeps running.
        let target = path
            .to_str()
            .ok_or_else(|| damaged("backup path is not UTF-8"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(self)
            .await?;
        Ok(())
    }

    async fn reclaim(&self, _: &[&str]) -> Result<()> {
        // secure_delete zeroed the deleted cells; the WAL still holds the pages as they were
        // until it is copied back and truncated.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(self)
            .await?;
        Ok(())
    }

    async fn listen(&self, _: &str) -> Result<Option<tokio::sync::mpsc::Receiver<super::Heard>>> {
        Ok(None)
    }
}

/// How long [`older_transactions_done`] waits.
const OLDER_TRANSACTIONS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits (at most [`OLDER_TRANSACTIONS_WAIT`]) until every transaction that was running when
/// this is called has ended, in the whole cluster, and no session of this database holds a
/// snapshot from before it. Then a row deleted before the call is dead to every snapshot,
/// and VACUUM FULL leaves it behind. False if the wait ran out.
async fn older_transactions_done(pool: &sqlx::Pool<sqlx::Postgres>) -> Result<bool> {
    // The first transaction id not yet handed out: everything below it started before now.
    let horizon: String =
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
            .fetch_one(pool)
            .await?;
    let started = std::time::Instant::now();
    loop {
        // `pg_snapshot_xmin` of a fresh snapshot is the oldest transaction still running
        // anywhere; `backend_xmin` the oldest snapshot a session of this database holds
        // (xid is 32 bits, compared by age).
        let done: bool = sqlx::query_scalar(
            "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 \
             AND NOT EXISTS (SELECT 1 FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                 AND backend_xmin IS NOT NULL \
                 AND age(backend_xmin) > age((($1::numeric) % 4294967296)::text::xid))",
        )
        .bind(&horizon)
        .fetch_one(pool)
        .await?;
        if done {
            return Ok(true);
        }
        if started.elapsed() >= OLDER_TRANSACTIONS_WAIT {
            return Ok(false);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[async_trait]
impl PoolExt for sqlx::Pool<sqlx::Postgres> {
    async fn backup(&self, _: &std::path::Path) -> Result<()> {
        Err(StorageError::Db(sqlx::Error::Configuration(
            "backup is for the SQLite store; use pg_dump for PostgreSQL".into(),
        )))
    }

    async fn reclaim(&self, tables: &[&str]) -> Result<()> {
        // VACUUM FULL copies a deleted row into the new file while any transaction may still
        // see it: one in this database holding an older snapshot, or one anywhere in the
        // cluster still running from before the erasure (VACUUM FULL's own snapshot then
        // starts below the erasure). Such transactions are short on a relay; wait for them.
        let settled = older_transactions_done(self).await?;
        // A plain VACUUM only marks dead rows reusable; VACUUM FULL writes the tables anew and
        // removes the old files. The key and login tables are small, so the short lock is
        // fine.
        for t in tables {
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM FULL {t}")))
                .execute(self)
                .await?;
        }
        // The write-ahead log still holds the key from its insert. Closing the current WAL
        // segment and checkpointing lets PostgreSQL remove every segment before the
        // checkpoint; with `wal_recycle = off` it deletes them instead of renaming them for
        // reuse with the old bytes inside (ADR 0033, docs/operations.md §3). It needs the
        // `pg_checkpoint` role and EXECUTE on `pg_switch_wal()`; a role without them leaves
        // the segments to be recycled and overwritten in PostgreSQL's own time, which the
        // log says once.
        for sql in ["SELECT pg_switch_wal()::text", "CHECKPOINT"] {
            match sqlx::query(sql).execute(self).await {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| {
                        tracing::warn!(
                            "erasure: no right to switch the WAL and checkpoint; erased keys stay in pg_wal until PostgreSQL recycles it (docs/operations.md)"
                        );
                    });
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if !settled {
            // The caller tries again (erasure::erase); VACUUM FULL above took what it could.
            return Err(StorageError::Busy(
                "a transaction older than the erasure is still running; erased rows may remain until the next reclaim".into(),
            ));
        }
        Ok(())
    }

    async fn listen(
        &self,
        node: &str,
    ) -> Result<Option<tokio::sync::mpsc::Receiver<super::Heard>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(self).await?;
        listener.listen(CHANNEL).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(pg_listen(self.clone(), node.to_owned(), tx, listener));
        Ok(Some(rx))
    }
}

/// The channel the relay nodes on one PostgreSQL database talk on.
const CHANNEL: &str = "nabo_relay";

/// Listens for the other nodes' notices until the pool closes. A lost connection is
/// re-established (retrying every half second while the database is down) and then reported
/// as [`super::Heard::Lost`]: notices sent meanwhile are gone, so the hub reads everything
/// loaded again.
async fn pg_listen(
    pool: sqlx::Pool<sqlx::Postgres>,
    node: String,
    tx: tokio::sync::mpsc::Sender<super::Heard>,
    mut listener: sqlx::postgres::PgListener,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                let Some((from, notice)) = super::Notice::decode(n.payload()) else {
                    continue;
                };
                if from != node && tx.send(super::Heard::Notice(notice)).await.is_err() {
                    return;
                }
            }
            // Lost and already connected again (sqlx reconnects at once).
            Ok(None) => {
                if tx.send(super::Heard::Lost).await.is_err() {
                    return;
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "lost the database connection that listens to the other nodes; reconnecting");
                listener = loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if pool.is_closed() || tx.is_closed() {
                        return;
                    }
                    let Ok(mut l) = sqlx::postgres::PgListener::connect_with(&pool).await else {
                        continue;
                    };
                    if l.listen(CHANNEL).await.is_ok() {
                        break l;
                    }
                };
                if tx.send(super::Heard::Lost).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl SqliteStorage {
    /// Opens (creating if needed) a SQLite database: `sqlite://path` or a plain path.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, 8).await
    }

    /// Like [`SqliteStorage::connect`], with at most `max_connections` connections (the
    /// deterministic simulation runs on one, so SQL calls finish in a fixed order).
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self> {
        let opts = if url.starts_with("sqlite:") {
            sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        } else {
            sqlx::sqlite::SqliteConnectOptions::new().filename(url)
        }
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .foreign_keys(true)
        .pragma("secure_delete", "ON")
        .busy_timeout(Duration::from_secs(10));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStorage {
            pool,
            node: nabo_core::entropy::uuid().simple().to_string(),
        })
    }
}

impl PgStorage {
    /// Connects to PostgreSQL and runs its migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStorage {
            pool,
            node: nabo_core::entropy::uuid().simple().to_string(),
        })
    }
}
