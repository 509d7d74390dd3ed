//! [`PrivacyStorage`] for SQLite and PostgreSQL: the same SQL for both, stamped out by a
//! macro like the rest of the storage (ADR 0024).

use async_trait::async_trait;
use nabo_core::access_log::{self, Access, Anchor, Entry, Hash};
use nabo_core::ids::TenantId;
use sqlx::Row;

use super::{Dialect, PgStorage, SqliteStorage, damaged, map_unique};
use crate::storage::Result;
use crate::storage::privacy::{ChainHead, HoldRow, PrivacyStorage, RetentionRunRow};

/// Rows per multi-row insert (10 values each, far below either database's bind limit).
const INSERT_BATCH: usize = 200;

fn hash_of(bytes: Vec<u8>) -> Result<Hash> {
    bytes.try_into().map_err(|_| damaged("access_log hash"))
}

macro_rules! privacy_storage {
    ($name:ident, $db:ty) => {
        impl $name {
            fn access_entry(r: &<$db as sqlx::Database>::Row) -> Result<(Entry, Vec<u8>)> {
                Ok((
                    Entry {
                        tenant: r.try_get("tenant")?,
                        seq: r.try_get("seq")?,
                        at: r.try_get("at")?,
                        user_id: r.try_get("user_id")?,
                        device_id: r.try_get("device_id")?,
                        subject: r.try_get("subject")?,
                        document: r.try_get("doc_id")?,
                        kind: r.try_get("kind")?,
                        purpose: r.try_get("purpose")?,
                    },
                    r.try_get("hash")?,
                ))
            }

            fn hold(r: &<$db as sqlx::Database>::Row) -> Result<HoldRow> {
                let tenant: String = r.try_get("tenant")?;
                Ok(HoldRow {
                    id: r.try_get("hold_id")?,
                    tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                    subject: r.try_get("subject")?,
                    reason: r.try_get("reason")?,
                    set_by: r.try_get("set_by")?,
                    set_at: r.try_get("set_at")?,
                    released_by: r.try_get("released_by")?,
                    released_at: r.try_get("released_at")?,
                })
            }

            /// Takes the tenant's head row for this transaction (created at the genesis if
            /// missing). The no-op `UPDATE` locks the row in PostgreSQL until commit, so a
            /// second node's append waits; SQLite's `BEGIN IMMEDIATE` holds the database's
            /// write lock already.
            async fn lock_head(tx: &mut sqlx::Transaction<'_, $db>, tenant: &TenantId) -> Result<ChainHead> {
                let zero = access_log::GENESIS.to_vec();
                sqlx::query("INSERT INTO access_log_heads (tenant, seq, hash, anchor_seq, anchor_hash) VALUES ($1, 0, $2, 0, $3) ON CONFLICT (tenant) DO NOTHING")
                    .bind(tenant.as_str())
                    .bind(&zero)
                    .bind(&zero)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("UPDATE access_log_heads SET seq = seq WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .execute(&mut **tx)
                    .await?;
                let r = sqlx::query("SELECT seq, hash, anchor_seq, anchor_hash FROM access_log_heads WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .fetch_one(&mut **tx)
                    .await?;
                Ok(ChainHead {
                    anchor: Anchor { seq: r.try_get("anchor_seq")?, hash: hash_of(r.try_get("anchor_hash")?)? },
                    head: Anchor { seq: r.try_get("seq")?, hash: hash_of(r.try_get("hash")?)? },
                })
            }
        }

        #[async_trait]
        impl PrivacyStorage for $name {
            async fn append_access(&self, tenant: &TenantId, at: i64, user_id: &str, device_id: Option<&str>, accesses: &[Access]) -> Result<()> {
                if accesses.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let chain = Self::lock_head(&mut tx, tenant).await?;
                let (entries, head) = access_log::append(tenant.as_str(), chain.head, at, user_id, device_id, accesses);
                for part in entries.chunks(INSERT_BATCH) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO access_log (tenant, seq, at, user_id, device_id, subject, doc_id, kind, purpose, hash) ");
                    q.push_values(part, |mut b, (e, h)| {
                        b.push_bind(e.tenant.clone())
                            .push_bind(e.seq)
                            .push_bind(e.at)
                            .push_bind(e.user_id.clone())
                            .push_bind(e.device_id.clone())
                            .push_bind(e.subject.clone())
                            .push_bind(e.document.clone())
                            .push_bind(e.kind.clone())
                            .push_bind(e.purpose.clone())
                            .push_bind(h.to_vec());
                    });
                    q.build().execute(&mut *tx).await.map_err(map_unique)?;
                }
                sqlx::query("UPDATE access_log_heads SET seq = $1, hash = $2 WHERE tenant = $3")
                    .bind(head.seq)
                    .bind(head.hash.to_vec())
                    .bind(tenant.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn access_head(&self, tenant: &TenantId) -> Result<Option<ChainHead>> {
                let Some(r) = sqlx::query("SELECT seq, hash, anchor_seq, anchor_hash FROM access_log_heads WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                Ok(Some(ChainHead {
                    anchor: Anchor { seq: r.try_get("anchor_seq")?, hash: hash_of(r.try_get("anchor_hash")?)? },
                    head: Anchor { seq: r.try_get("seq")?, hash: hash_of(r.try_get("hash")?)? },
                }))
            }

            async fn access_entries(&self, tenant: &TenantId, after: i64, limit: i64) -> Result<Vec<(Entry, Vec<u8>)>> {
                let rows = sqlx::query("SELECT * FROM access_log WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                    .bind(tenant.as_str())
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::access_entry).collect()
            }

            async fn access_of_subject(&self, tenant: &TenantId, subject: &str, documents: &[String]) -> Result<Vec<Entry>> {
                let mut out: Vec<Entry> = Vec::new();
                let rows = sqlx::query("SELECT * FROM access_log WHERE tenant = $1 AND subject = $2 ORDER BY seq")
                    .bind(tenant.as_str())
                    .bind(subject)
                    .fetch_all(&self.pool)
                    .await?;
                for r in &rows {
                    out.push(Self::access_entry(r)?.0);
                }
                for doc in documents {
                    let rows = sqlx::query("SELECT * FROM access_log WHERE tenant = $1 AND doc_id = $2 AND subject IS NULL ORDER BY seq")
                        .bind(tenant.as_str())
                        .bind(doc)
                        .fetch_all(&self.pool)
                        .await?;
                    for r in &rows {
                        out.push(Self::access_entry(r)?.0);
                    }
                }
                out.sort_by_key(|e| e.seq);
                Ok(out)
            }

            async fn prune_access_log(&self, tenant: &TenantId, before: i64) -> Result<i64> {
                let mut tx = self.pool.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let chain = Self::lock_head(&mut tx, tenant).await?;
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM access_log WHERE tenant = $1 AND at < $2 AND seq <= $3")
                    .bind(tenant.as_str())
                    .bind(before)
                    .bind(chain.head.seq)
                    .fetch_one(&mut *tx)
                    .await?;
                let Some(last) = last else {
                    return Ok(0);
                };
                let hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM access_log WHERE tenant = $1 AND seq = $2")
                    .bind(tenant.as_str())
                    .bind(last)
                    .fetch_one(&mut *tx)
                    .await?;
                let gone = sqlx::query("DELETE FROM access_log WHERE tenant = $1 AND seq <= $2")
                    .bind(tenant.as_str())
                    .bind(last)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected() as i64;
                sqlx::query("UPDATE access_log_heads SET anchor_seq = $1, anchor_hash = $2 WHERE tenant = $3")
                    .bind(last)
                    .bind(hash)
                    .bind(tenant.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(gone)
            }

            async fn privacy_settings(&self, tenant: &TenantId) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT settings FROM tenant_privacy WHERE tenant = $1")
                    .bind(tenant.as_str())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn put_privacy_settings(&self, tenant: &TenantId, json: &str) -> Result<()> {
                sqlx::query("INSERT INTO tenant_privacy (tenant, settings) VALUES ($1, $2) ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings")
                    .bind(tenant.as_str())
                    .bind(json)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn insert_hold(&self, hold: &HoldRow) -> Result<()> {
                sqlx::query("INSERT INTO legal_holds (hold_id, tenant, subject, reason, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&hold.id)
                    .bind(hold.tenant.as_str())
                    .bind(&hold.subject)
                    .bind(&hold.reason)
                    .bind(&hold.set_by)
                    .bind(hold.set_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_unique)?;
                Ok(())
            }

            async fn release_hold(&self, tenant: &TenantId, subject: &str, by: &str, at: i64) -> Result<Option<HoldRow>> {
                let row = sqlx::query("UPDATE legal_holds SET released_by = $1, released_at = $2 WHERE tenant = $3 AND subject = $4 AND released_at IS NULL RETURNING *")
                    .bind(by)
                    .bind(at)
                    .bind(tenant.as_str())
                    .bind(subject)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::hold).transpose()
            }

            async fn holds(&self, tenant: &TenantId) -> Result<Vec<HoldRow>> {
                let rows = sqlx::query("SELECT * FROM legal_holds WHERE tenant = $1 ORDER BY (released_at IS NULL) DESC, set_at DESC, hold_id")
                    .bind(tenant.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::hold).collect()
            }

            async fn insert_retention_run(&self, run: &RetentionRunRow) -> Result<()> {
                sqlx::query("INSERT INTO retention_runs (run_id, tenant, at, today, anonymised, held, log_pruned, reports) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(&run.id)
                    .bind(run.tenant.as_str())
                    .bind(run.at)
                    .bind(&run.today)
                    .bind(run.anonymised)
                    .bind(run.held)
                    .bind(run.log_pruned)
                    .bind(run.reports)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn retention_runs(&self, tenant: &TenantId, limit: i64) -> Result<Vec<RetentionRunRow>> {
                let rows = sqlx::query("SELECT * FROM retention_runs WHERE tenant = $1 ORDER BY at DESC, run_id LIMIT $2")
                    .bind(tenant.as_str())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let tenant: String = r.try_get("tenant")?;
                        Ok(RetentionRunRow {
                            id: r.try_get("run_id")?,
                            tenant: tenant.parse().map_err(|_| damaged("tenant"))?,
                            at: r.try_get("at")?,
                            today: r.try_get("today")?,
                            anonymised: r.try_get("anonymised")?,
                            held: r.try_get("held")?,
                            log_pruned: r.try_get("log_pruned")?,
                            reports: r.try_get("reports")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

privacy_storage!(SqliteStorage, sqlx::Sqlite);
privacy_storage!(PgStorage, sqlx::Postgres);
