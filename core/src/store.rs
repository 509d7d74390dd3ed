//! The phone's local store: documents, per-peer sync state and subject keys in SQLite (sqlx).
//!
//! Durability: an edit is reported as saved only after its change is committed to SQLite
//! with `synchronous = FULL` in WAL mode, so a process killed at any point afterwards loses
//! nothing ([`Handle::edit`]; tested by killing a child process with SIGKILL in
//! `core/tests/store.rs`). Each edit appends the new change (a few hundred bytes); every
//! [`COMPACT_AFTER`] appends the document is compacted — the snapshot is rewritten and the
//! appended changes deleted — in one transaction.
//!
//! If storing fails, the in-memory document is reloaded from the store, so the app never shows
//! an edit that is not on disk, and the error is returned as [`StoreError::Storage`].
//!
//! Encryption at rest ([`Store::open_encrypted`]): with a key from the app (Android Keystore,
//! iOS Keychain), every blob — snapshots, changes, sync states, subject keys, settings — is
//! sealed with XChaCha20-Poly1305, bound to its table and row as associated data, so a blob
//! copied to another row does not open. Document ids, kinds and scopes (area and activity
//! ids, no personal data) stay readable so the store can be listed and queried. A wrong key
//! is refused at open with [`StoreError::WrongKey`].

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use automerge::{ActorId, ChangeHash};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::document::{DocKind, DocumentId, NaboDoc, Scope, TypedDoc};
use crate::seal::SubjectKey;

/// Appended changes after which a document is compacted.
pub const COMPACT_AFTER: i64 = 64;

/// Errors of the local store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The domain refused the edit (nothing was written).
    #[error(transparent)]
    Domain(#[from] crate::Error),
    /// SQLite failed; the edit was not saved.
    #[error("local storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    /// Migrating the store's own schema failed.
    #[error("local storage migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored document does not load (corruption on disk).
    #[error("stored document {0} is damaged")]
    Damaged(DocumentId),
    /// A document with this id exists already.
    #[error("document {0} exists already")]
    Exists(DocumentId),
    /// The key does not open this store (or an encrypted store was opened without one).
    #[error("the local store's key does not match")]
    WrongKey,
}

/// Result of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The local store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    sealer: Option<Sealer>,
}

/// Seals the store's blobs (encryption at rest).
#[derive(Clone)]
struct Sealer(std::sync::Arc<XChaCha20Poly1305>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(…)")
    }
}

const SEALED_BLOB: u8 = 2;
const NONCE: usize = 24;
/// A known value sealed into `settings` so a wrong key is found at open.
const CHECK_KEY: &str = "nabo.store-check";
const CHECK_VALUE: &[u8] = b"nabo local store v1";

/// A `doc_id` column read back as a document id.
fn stored_id(id: &str) -> Result<DocumentId> {
    DocumentId::parse(id).map_err(|_| StoreError::Storage(sqlx::Error::Decode("doc_id".into())))
}

impl Sealer {
    fn seal(&self, aad: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let nonce = XNonce::from(crate::entropy::bytes::<24>());
        let ct = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::WrongKey)?;
        let mut out = Vec::with_capacity(1 + NONCE + ct.len());
        out.push(SEALED_BLOB);
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn open(&self, aad: &str, blob: &[u8]) -> Result<Vec<u8>> {
        if blob.len() < 1 + NONCE || blob[0] != SEALED_BLOB {
            return Err(StoreError::WrongKey);
        }
        let nonce = XNonce::try_from(&blob[1..1 + NONCE]).map_err(|_| StoreError::WrongKey)?;
        self.0
            .decrypt(
                &nonce,
                Payload {
                    msg: &blob[1 + NONCE..],
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::WrongKey)
    }
}

/// A stored document's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// Id.
    pub id: DocumentId,
    /// Kind.
    pub kind: DocKind,
    /// Scope.
    pub scope: Scope,
}

/// A durable store file: WAL, full fsync, deleted data overwritten.
fn file_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .pragma("secure_delete", "ON")
        .busy_timeout(Duration::from_secs(10))
}

/// A hook around every call of every store used on this thread: the deterministic
/// simulation (ADR 0036) runs each call to its end before anything else on its thread runs
/// (SQLite answers from a thread of its own, and the order in which its answers arrive must
/// not decide what happens), and injects storage faults.
pub trait StoreHook {
    /// Called first: an `Err` fails the call as [`StoreError::Storage`] before it touches
    /// the file.
    fn enter(&self, call: &'static str) -> std::io::Result<()>;
    /// Drives `call` to its end.
    fn drive(&self, call: std::pin::Pin<&mut dyn std::future::Future<Output = ()>>);
}

/// Connections of a store under a hook (see `with_options`).
const HOOKED_CONNECTIONS: u32 = 32;

thread_local! {
    static HOOK: std::cell::RefCell<Option<std::rc::Rc<dyn StoreHook>>> =
        const { std::cell::RefCell::new(None) };
}

/// Sets (or with `None` clears) this thread's store hook. Simulation only (feature `sim`).
#[cfg(feature = "sim")]
pub fn set_thread_hook(hook: Option<std::rc::Rc<dyn StoreHook>>) {
    HOOK.with(|h| *h.borrow_mut() = hook);
}

/// Runs one store call: as it is without a hook (production), else through the hook.
async fn hooked<T>(
    call: &'static str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    if HOOK.with(|h| h.borrow().is_none()) {
        return work.await;
    }
    let done = HOOK
        .with(|h| h.borrow().clone())
        .map(|hook| through(hook.as_ref(), call, work));
    // Let the connection go back to the pool (sqlx does that in a task of its own).
    tokio::task::yield_now().await;
    done.unwrap_or_else(|| {
        Err(StoreError::Storage(sqlx::Error::Io(std::io::Error::other(
            "the store hook went away during the call",
        ))))
    })
}

fn through<T>(
    hook: &dyn StoreHook,
    call: &'static str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    hook.enter(call)
        .map_err(|e| StoreError::Storage(sqlx::Error::Io(e)))?;
    let mut out = None;
    {
        let mut driven = std::pin::pin!(async {
            out = Some(work.await);
        });
        hook.drive(driven.as_mut());
    }
    out.unwrap_or_else(|| {
        Err(StoreError::Storage(sqlx::Error::Io(std::io::Error::other(
            "the store hook did not finish the call",
        ))))
    })
}

fn now_ms() -> i64 {
    crate::time::Timestamp::now().0
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::with_options(file_options(path), 4, None).await
    }

    /// Opens (creating if needed) the store at `path`, encrypted at rest with `key` (32 bytes
    /// the app keeps in the platform's key store). A store made with another key, or without
    /// one, is refused with [`StoreError::WrongKey`].
    pub async fn open_encrypted(path: &Path, key: &[u8; 32]) -> Result<Self> {
        let sealer = Sealer(std::sync::Arc::new(XChaCha20Poly1305::new(&(*key).into())));
        Self::with_options(file_options(path), 4, Some(sealer)).await
    }

    /// An in-memory store (tests).
    pub async fn memory() -> Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to :memory: is its own database.
        Self::with_options(opts, 1, None).await
    }

    async fn with_options(
        opts: SqliteConnectOptions,
        max: u32,
        sealer: Option<Sealer>,
    ) -> Result<Self> {
        // Under the simulation's hook each call runs to its end before anything else on the
        // thread does, while connections go back to the pool in tasks of their own: enough
        // connections that a call never waits for one.
        let max = if HOOK.with(|h| h.borrow().is_some()) {
            HOOKED_CONNECTIONS
        } else {
            max
        };
        hooked("open", async move {
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/local").run(&pool).await?;
            let store = Store { pool, sealer };
            store.check_key().await?;
            Ok(store)
        })
        .await
    }

    /// Refuses a key that does not open the store, and a plain store opened with a key (or
    /// the other way round).
    async fn check_key(&self) -> Result<()> {
        let check: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(CHECK_KEY)
            .fetch_optional(&self.pool)
            .await?;
        match (&self.sealer, check) {
            (Some(s), Some(c)) => {
                if s.open(CHECK_KEY, &c)? != CHECK_VALUE {
                    return Err(StoreError::WrongKey);
                }
            }
            (None, Some(_)) => return Err(StoreError::WrongKey),
            (Some(s), None) => {
                let used: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM documents) + (SELECT COUNT(*) FROM settings)",
                )
                .fetch_one(&self.pool)
                .await?;
                if used > 0 {
                    return Err(StoreError::WrongKey);
                }
                sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?)")
                    .bind(CHECK_KEY)
                    .bind(s.seal(CHECK_KEY, CHECK_VALUE)?)
                    .execute(&self.pool)
                    .await?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    fn seal(&self, aad: &str, plain: Vec<u8>) -> Result<Vec<u8>> {
        match &self.sealer {
            Some(s) => s.seal(aad, &plain),
            None => Ok(plain),
        }
    }

    fn unseal(&self, aad: &str, blob: Vec<u8>) -> Result<Vec<u8>> {
        match &self.sealer {
            Some(s) => s.open(aad, &blob),
            None => Ok(blob),
        }
    }

    /// Deletes everything in the store (a revoked device wipes itself). The file is
    /// overwritten (secure_delete) and vacuumed.
    pub async fn wipe(&self) -> Result<()> {
        hooked("wipe", async move {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            for q in [
                "DELETE FROM changes",
                "DELETE FROM sync_states",
                "DELETE FROM documents",
                "DELETE FROM subject_keys",
                "DELETE FROM settings",
            ] {
                sqlx::query(q).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            sqlx::query("VACUUM").execute(&self.pool).await?;
            self.check_key().await
        })
        .await
    }

    /// Closes the pool (further calls fail with a storage error).
    pub async fn close(&self) {
        let _ = hooked("close", async move {
            self.pool.close().await;
            Ok(())
        })
        .await;
    }

    /// Stores a new document.
    pub async fn insert(&self, doc: &NaboDoc) -> Result<()> {
        hooked("insert", async move {
            let id = doc.id();
            let res = sqlx::query("INSERT INTO documents (doc_id, kind, scope, snapshot, updated_at) VALUES (?, ?, ?, ?, ?)")
                .bind(id.to_string())
                .bind(doc.kind().code())
                .bind(doc.scope().to_string())
                .bind(self.seal(&format!("doc:{id}"), doc.save())?)
                .bind(now_ms())
                .execute(&self.pool)
                .await;
            match res {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Exists(id)),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Appends changes (incremental bytes) to a stored document. Returns the number of
    /// changes appended since the last compaction.
    pub async fn append(&self, id: DocumentId, bytes: &[u8]) -> Result<i64> {
        hooked("append", async move {
            let sealed = self.seal(&format!("chg:{id}"), bytes.to_vec())?;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("INSERT INTO changes (doc_id, bytes) VALUES (?, ?)")
                .bind(id.to_string())
                .bind(sealed)
                .execute(&mut *tx)
                .await?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE doc_id = ?")
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    /// Loads a document: the snapshot and every appended change.
    pub async fn load(&self, id: DocumentId, actor: ActorId) -> Result<Option<NaboDoc>> {
        hooked("load", async move {
            let Some(row) = sqlx::query("SELECT snapshot FROM documents WHERE doc_id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
            else {
                return Ok(None);
            };
            let mut bytes = self.unseal(&format!("doc:{id}"), row.try_get("snapshot")?)?;
            let changes: Vec<Vec<u8>> =
                sqlx::query_scalar("SELECT bytes FROM changes WHERE doc_id = ? ORDER BY seq")
                    .bind(id.to_string())
                    .fetch_all(&self.pool)
                    .await?;
            for c in changes {
                bytes.extend_from_slice(&self.unseal(&format!("chg:{id}"), c)?);
            }
            NaboDoc::load(&bytes, actor)
                .map(|d| Some(d.with_id(id)))
                .map_err(|_| StoreError::Damaged(id))
        })
        .await
    }

    /// Compacts a document: the snapshot is rebuilt from the stored snapshot and changes, and
    /// the changes it now contains are deleted, in one transaction. It works from what is
    /// stored, never from a copy in memory, so a change appended by another handle meanwhile
    /// (a higher sequence number) is kept.
    pub async fn compact(&self, id: DocumentId) -> Result<()> {
        hooked("compact", async move {
            let key = id.to_string();
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let Some(snapshot) =
                sqlx::query_scalar::<_, Vec<u8>>("SELECT snapshot FROM documents WHERE doc_id = ?")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await?
            else {
                return Ok(());
            };
            let mut bytes = self.unseal(&format!("doc:{id}"), snapshot)?;
            let rows = sqlx::query("SELECT seq, bytes FROM changes WHERE doc_id = ? ORDER BY seq")
                .bind(&key)
                .fetch_all(&mut *tx)
                .await?;
            let mut max_seq = None;
            for r in rows {
                let b: Vec<u8> = r.try_get("bytes")?;
                bytes.extend_from_slice(&self.unseal(&format!("chg:{id}"), b)?);
                max_seq = Some(r.try_get::<i64, _>("seq")?);
            }
            let Some(max_seq) = max_seq else {
                return Ok(());
            };
            let doc =
                crate::document::load_automerge(&bytes).map_err(|_| StoreError::Damaged(id))?;
            sqlx::query("UPDATE documents SET snapshot = ?, updated_at = ? WHERE doc_id = ?")
                .bind(self.seal(&format!("doc:{id}"), doc.save())?)
                .bind(now_ms())
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM changes WHERE doc_id = ? AND seq <= ?")
                .bind(&key)
                .bind(max_seq)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Replaces a stored document by `doc` in one transaction: its snapshot becomes `doc`,
    /// its appended changes and its sync states go (the history they describe is no longer
    /// this document's). For a phone starting again from the relay's copy after a refusal
    /// (`rules::rebase`). Returns whether the document was stored.
    pub async fn replace(&self, doc: &NaboDoc) -> Result<bool> {
        hooked("replace", async move {
            let id = doc.id();
            let key = id.to_string();
            let snapshot = self.seal(&format!("doc:{id}"), doc.save())?;
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let r =
                sqlx::query("UPDATE documents SET snapshot = ?, updated_at = ? WHERE doc_id = ?")
                    .bind(snapshot)
                    .bind(now_ms())
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            for delete in [
                "DELETE FROM changes WHERE doc_id = ?",
                "DELETE FROM sync_states WHERE doc_id = ?",
            ] {
                sqlx::query(delete).bind(&key).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Every stored document.
    pub async fn list(&self) -> Result<Vec<StoredDoc>> {
        hooked("list", async move {
            let rows = sqlx::query("SELECT doc_id, kind, scope FROM documents ORDER BY doc_id")
                .fetch_all(&self.pool)
                .await?;
            let mut out = Vec::new();
            for r in rows {
                let id: String = r.try_get("doc_id")?;
                let id = stored_id(&id)?;
                let kind: String = r.try_get("kind")?;
                let scope: String = r.try_get("scope")?;
                out.push(StoredDoc {
                    id,
                    kind: kind.parse().map_err(|_| StoreError::Damaged(id))?,
                    scope: scope.parse().map_err(|_| StoreError::Damaged(id))?,
                });
            }
            Ok(out)
        })
        .await
    }

    /// The id of the stored document for `scope`: the one under the scope's derived id if
    /// there is one, else another with that scope (a document the relay rewrote under a new
    /// id, ADR 0037), else None. One query, on the scope index.
    pub async fn id_for_scope(&self, scope: &Scope) -> Result<Option<DocumentId>> {
        hooked("id_for_scope", async move {
            let derived = scope.document_id().to_string();
            let id: Option<String> = sqlx::query_scalar(
                "SELECT doc_id FROM documents WHERE scope = ? ORDER BY doc_id = ? DESC, doc_id LIMIT 1",
            )
            .bind(scope.to_string())
            .bind(&derived)
            .fetch_optional(&self.pool)
            .await?;
            id.as_deref().map(stored_id).transpose()
        })
        .await
    }

    /// Deletes a document with its changes and sync states (revocation, erasure).
    pub async fn delete(&self, id: DocumentId) -> Result<bool> {
        hooked("delete", async move {
            let r = sqlx::query("DELETE FROM documents WHERE doc_id = ?")
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() > 0)
        })
        .await
    }

    /// Saves the sync state with a peer (automerge `sync::State::encode`).
    pub async fn put_sync_state(&self, id: DocumentId, peer: &str, state: &[u8]) -> Result<()> {
        hooked("put_sync_state", async move {
            sqlx::query(
                "INSERT INTO sync_states (doc_id, peer_id, state) VALUES (?, ?, ?) \
                 ON CONFLICT (doc_id, peer_id) DO UPDATE SET state = excluded.state",
            )
            .bind(id.to_string())
            .bind(peer)
            .bind(self.seal(&format!("sync:{id}/{peer}"), state.to_vec())?)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
        .await
    }

    /// The sync state with a peer, if any.
    pub async fn sync_state(&self, id: DocumentId, peer: &str) -> Result<Option<Vec<u8>>> {
        hooked("sync_state", async move {
            let state: Option<Vec<u8>> = sqlx::query_scalar(
                "SELECT state FROM sync_states WHERE doc_id = ? AND peer_id = ?",
            )
            .bind(id.to_string())
            .bind(peer)
            .fetch_optional(&self.pool)
            .await?;
            state
                .map(|s| self.unseal(&format!("sync:{id}/{peer}"), s))
                .transpose()
        })
        .await
    }

    /// Stores a subject key.
    pub async fn put_key(&self, subject: &str, key: &SubjectKey) -> Result<()> {
        hooked("put_key", async move {
            sqlx::query("INSERT INTO subject_keys (subject, key) VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET key = excluded.key")
                .bind(subject)
                .bind(self.seal(&format!("key:{subject}"), key.as_bytes().to_vec())?)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    /// Deletes a subject key: the sealed data of that subject can no longer be read here.
    pub async fn erase_key(&self, subject: &str) -> Result<bool> {
        hooked("erase_key", async move {
            let r = sqlx::query("DELETE FROM subject_keys WHERE subject = ?")
                .bind(subject)
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected() > 0)
        })
        .await
    }

    /// Makes deleted rows unrecoverable from the store's files: deleted cells are zeroed
    /// (`secure_delete`), and the write-ahead log, which still holds the pages as they were,
    /// is copied back and truncated (ADR 0019).
    pub async fn reclaim(&self) -> Result<()> {
        hooked("reclaim", async move {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    /// All subject keys, as a key ring for views.
    pub async fn key_ring(&self) -> Result<crate::seal::MemoryKeyRing> {
        hooked("key_ring", async move {
            let rows = sqlx::query("SELECT subject, key FROM subject_keys")
                .fetch_all(&self.pool)
                .await?;
            let mut ring = crate::seal::MemoryKeyRing::default();
            for r in rows {
                let subject: String = r.try_get("subject")?;
                let key = self.unseal(&format!("key:{subject}"), r.try_get("key")?)?;
                if let Some(k) = SubjectKey::from_bytes(&key) {
                    ring.0.insert(subject, k);
                }
            }
            Ok(ring)
        })
        .await
    }

    /// A setting.
    pub async fn setting(&self, key: &str) -> Result<Option<Vec<u8>>> {
        hooked("setting", async move {
            let value: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
            value
                .map(|v| self.unseal(&format!("set:{key}"), v))
                .transpose()
        })
        .await
    }

    /// Sets a setting.
    pub async fn set_setting(&self, key: &str, value: &[u8]) -> Result<()> {
        hooked("set_setting", async move {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(self.seal(&format!("set:{key}"), value.to_vec())?)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }
}

/// A document kept in the store: every edit is durable before it is reported.
#[derive(Debug)]
pub struct Handle<T: TypedDoc> {
    store: Store,
    doc: T,
    saved: Vec<ChangeHash>,
    actor: ActorId,
}

impl<T: TypedDoc> Handle<T> {
    /// Stores a new document and returns its handle.
    pub async fn create(store: &Store, doc: T) -> Result<Self> {
        store.insert(doc.doc()).await?;
        let actor = doc.doc().automerge().get_actor().clone();
        let saved = doc.doc().heads();
        Ok(Handle {
            store: store.clone(),
            doc,
            saved,
            actor,
        })
    }

    /// Opens a stored document.
    pub async fn open(store: &Store, id: DocumentId, actor: ActorId) -> Result<Option<Self>> {
        let Some(doc) = store.load(id, actor.clone()).await? else {
            return Ok(None);
        };
        let doc = T::from_doc(doc)?;
        let mut h = Handle {
            store: store.clone(),
            saved: doc.doc().heads(),
            doc,
            actor,
        };
        // A migration on load made a change: store it.
        h.persist().await?;
        Ok(Some(h))
    }

    /// The document.
    pub fn get(&self) -> &T {
        &self.doc
    }

    /// Runs an edit and stores its change before returning. On a domain refusal nothing is
    /// written; on a storage failure the in-memory document is put back to what is stored.
    pub async fn edit<R>(&mut self, f: impl FnOnce(&mut T) -> crate::Result<R>) -> Result<R> {
        let r = f(&mut self.doc)?;
        self.persist().await?;
        Ok(r)
    }

    /// Stores whatever changed since the last save (an edit, or changes that arrived by
    /// sync and were merged in with [`Handle::get_mut_for_sync`]).
    pub async fn persist(&mut self) -> Result<()> {
        let heads = self.doc.doc().heads();
        if heads == self.saved {
            return Ok(());
        }
        let bytes = self.doc.doc().save_after(&self.saved);
        match self.store.append(self.doc.doc().id(), &bytes).await {
            Ok(n) => {
                self.saved = heads;
                if n >= COMPACT_AFTER {
                    // The change is already durable; a failed compaction loses nothing and is
                    // tried again after the next append.
                    self.store.compact(self.doc.doc().id()).await.ok();
                }
                Ok(())
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    async fn rollback(&mut self) {
        if let Ok(Some(doc)) = self
            .store
            .load(self.doc.doc().id(), self.actor.clone())
            .await
            && let Ok(doc) = T::from_doc(doc)
        {
            self.saved = doc.doc().heads();
            self.doc = doc;
            return;
        }
        // The store is unreachable: forget the unsaved change by reloading the saved heads.
        if let Ok(doc) = self.doc.doc().automerge().fork_at(&self.saved) {
            let mut doc = doc;
            doc.set_actor(self.actor.clone());
            if let Ok(nd) = NaboDoc::from_automerge(doc, self.actor.clone())
                && let Ok(t) = T::from_doc(nd)
            {
                self.doc = t;
            }
        }
    }

    /// The document for the sync loop to merge incoming changes into; call
    /// [`Handle::persist`] before acknowledging them.
    pub fn get_mut_for_sync(&mut self) -> &mut T {
        &mut self.doc
    }
}
