//! What the relay stores for the access log, retention and legal holds (ADR 0024): a trait of
//! its own that every [`super::Storage`] implements (in `sql/privacy.rs`).

use async_trait::async_trait;
use nabo_core::access_log::{Access, Anchor, Entry};
use nabo_core::ids::TenantId;

use super::Result;

/// A legal hold as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRow {
    /// Random id.
    pub id: String,
    /// Tenant.
    pub tenant: TenantId,
    /// The person (a random id).
    pub subject: String,
    /// `nabo_core::retention::HoldReason` code.
    pub reason: String,
    /// The login that set it.
    pub set_by: String,
    /// When (ms).
    pub set_at: i64,
    /// The login that lifted it.
    pub released_by: Option<String>,
    /// When it was lifted (ms).
    pub released_at: Option<i64>,
}

/// One run of the retention job for a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRunRow {
    /// Random id.
    pub id: String,
    /// Tenant.
    pub tenant: TenantId,
    /// When (ms).
    pub at: i64,
    /// The day it judged by (`YYYY-MM-DD`).
    pub today: String,
    /// Persons anonymised (names erased).
    pub anonymised: i64,
    /// Due persons and reports a legal hold kept.
    pub held: i64,
    /// Access-log entries pruned.
    pub log_pruned: i64,
    /// Goal-fulfilment reports anonymised (text blanked) or deleted.
    pub reports: i64,
}

/// A tenant's access-log chain: where the stored entries start, and the last entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The position before the oldest stored entry, with its hash.
    pub anchor: Anchor,
    /// The last entry appended, with its hash.
    pub head: Anchor,
}

/// The access log, retention and legal holds.
#[async_trait]
pub trait PrivacyStorage {
    /// Appends `accesses` to `tenant`'s chain at `at`, as `user_id` (and `device_id`), in one
    /// transaction that holds the tenant's head row: appends from several relay nodes are
    /// serialised, so the chain stays linear. Nothing is acknowledged before it is durable.
    async fn append_access(
        &self,
        tenant: &TenantId,
        at: i64,
        user_id: &str,
        device_id: Option<&str>,
        accesses: &[Access],
    ) -> Result<()>;
    /// The tenant's chain head, `None` before its first entry.
    async fn access_head(&self, tenant: &TenantId) -> Result<Option<ChainHead>>;
    /// Up to `limit` stored entries after position `after`, in order, with their stored
    /// hashes.
    async fn access_entries(
        &self,
        tenant: &TenantId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(Entry, Vec<u8>)>>;
    /// The entries about `subject`, and the whole-document entries (syncs) of `documents`,
    /// oldest first.
    async fn access_of_subject(
        &self,
        tenant: &TenantId,
        subject: &str,
        documents: &[String],
    ) -> Result<Vec<Entry>>;
    /// Deletes the tenant's entries made before `before` (ms) and moves the anchor to the last
    /// one deleted, atomically; returns how many went.
    async fn prune_access_log(&self, tenant: &TenantId, before: i64) -> Result<i64>;
    /// The tenant's privacy settings (JSON), if set.
    async fn privacy_settings(&self, tenant: &TenantId) -> Result<Option<String>>;
    /// Replaces the tenant's privacy settings (JSON).
    async fn put_privacy_settings(&self, tenant: &TenantId, json: &str) -> Result<()>;
    /// Puts a hold in force. `Conflict` if one is in force on the subject already.
    async fn insert_hold(&self, hold: &HoldRow) -> Result<()>;
    /// Lifts the hold in force on a subject; returns it, or `None` if there was none.
    async fn release_hold(
        &self,
        tenant: &TenantId,
        subject: &str,
        by: &str,
        at: i64,
    ) -> Result<Option<HoldRow>>;
    /// The tenant's holds, in force first, newest first.
    async fn holds(&self, tenant: &TenantId) -> Result<Vec<HoldRow>>;
    /// Records a retention run.
    async fn insert_retention_run(&self, run: &RetentionRunRow) -> Result<()>;
    /// The tenant's retention runs, newest first (at most `limit`).
    async fn retention_runs(&self, tenant: &TenantId, limit: i64) -> Result<Vec<RetentionRunRow>>;
}
