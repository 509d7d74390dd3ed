//! The relay's storage in the simulation: the real `SqliteStorage` behind a decorator that
//! runs each call to its end before anything else on the host runs ([`crate::inline`]) and
//! injects faults when the run
//! asks for them: a call that fails before it reaches the database, or one whose work is
//! committed and whose answer is lost (the caller sees an error; the data is stored).
//!
//! With two relay nodes on one database, [`Bus`] stands in for PostgreSQL's `LISTEN/NOTIFY`
//! (ADR 0025): a committed `append` tells the other node `Notice::Doc`, a committed
//! `replace_document` `Notice::Replaced`, and `announce` passes its notice on, exactly where
//! `PgStorage` sends them. The driver can make a node deaf for a while, as when its listening
//! connection is lost: notices to it are dropped, and when it hears again it is told
//! [`Heard::Lost`].
//!
//! The delegating methods below are written out from the two storage traits' text by
//! `sim/gen-storage.py`; when a trait gains a method, the compiler points here. `append`,
//! `replace_document`, `announce` and `listen` were then edited by hand to use the bus.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nabo_core::access_log::{Access, Entry};
use nabo_core::document::DocumentId;
use nabo_core::ids::TenantId;
use nabo_core::model::AppRole;
use nabo_server::storage::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Which storage faults are on, and how many were injected.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    /// Probability that a call fails before it reaches the database.
    before: f64,
    /// Probability that a call's answer is lost after its work was done.
    after: f64,
    rng: Option<StdRng>,
    /// Injected so far: (before, after).
    injected: (u64, u64),
}

/// Calls never failed on purpose: the cluster bus (its loss is a fault of its own,
/// [`Bus::deafen`]).
const SPARED: &[&str] = &["listen", "announce"];

impl Faults {
    /// Turns faults on with these probabilities, drawing from `seed`.
    pub fn set(&self, before: f64, after: f64, seed: u64) {
        let mut s = self.lock();
        s.before = before;
        s.after = after;
        s.rng = Some(StdRng::seed_from_u64(seed));
    }

    /// Turns faults off.
    pub fn off(&self) {
        let mut s = self.lock();
        s.before = 0.0;
        s.after = 0.0;
    }

    /// Faults injected so far: (before the call, after it).
    pub fn injected(&self) -> (u64, u64) {
        self.lock().injected
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn draw(&self, call: &str, after: bool) -> bool {
        if SPARED.contains(&call) {
            return false;
        }
        let mut s = self.lock();
        let p = if after { s.after } else { s.before };
        if p <= 0.0 {
            return false;
        }
        let hit = s.rng.as_mut().is_some_and(|r| r.random_bool(p));
        if hit {
            if after {
                s.injected.1 += 1;
            } else {
                s.injected.0 += 1;
            }
        }
        hit
    }
}

fn injected(call: &str, when: &str) -> StorageError {
    StorageError::Db(sqlx::Error::Io(std::io::Error::other(format!(
        "simulated storage fault {when} {call}"
    ))))
}

/// Connections of the relay's pool in the simulation: calls run one at a time, and a used
/// connection goes back to the pool in a task, so a call must find a spare one.
pub const CONNECTIONS: u32 = 32;

/// The notices between relay nodes on one database (PostgreSQL's `LISTEN/NOTIFY` in
/// production).
#[derive(Debug, Default)]
pub struct Bus {
    state: Mutex<BusState>,
}

#[derive(Debug, Default)]
struct BusState {
    /// Each listening node's queue; a restarted node listens anew (the old queue is closed).
    listeners: std::collections::BTreeMap<usize, tokio::sync::mpsc::Sender<Heard>>,
    /// Nodes that hear nothing now (their listening connection is lost).
    deaf: std::collections::BTreeSet<usize>,
    /// Nodes that missed notices: told [`Heard::Lost`] once they hear again.
    missed: std::collections::BTreeSet<usize>,
    /// Notices delivered, and dropped on deaf nodes.
    delivered: u64,
    dropped: u64,
}

/// A listener's queue, as `PgStorage`'s.
const BUS_QUEUE: usize = 1024;

impl Bus {
    fn lock(&self) -> std::sync::MutexGuard<'_, BusState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn listen(&self, node: usize) -> tokio::sync::mpsc::Receiver<Heard> {
        let (tx, rx) = tokio::sync::mpsc::channel(BUS_QUEUE);
        let mut s = self.lock();
        s.listeners.insert(node, tx);
        // A node that starts loads everything from the database: nothing missed before.
        s.missed.remove(&node);
        rx
    }

    /// Tells every node but `from` (a node that is down or deaf misses it).
    fn publish(&self, from: usize, notice: &Notice) {
        let mut s = self.lock();
        let nodes: Vec<usize> = s.listeners.keys().copied().filter(|n| *n != from).collect();
        for n in nodes {
            if s.deaf.contains(&n) {
                s.dropped += 1;
                s.missed.insert(n);
                continue;
            }
            let sent = s.listeners[&n].try_send(Heard::Notice(notice.clone()));
            match sent {
                Ok(()) => s.delivered += 1,
                // Down (its runtime dropped the queue): it reads everything when it starts.
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => {
                    s.listeners.remove(&n);
                }
                // PgStorage's listener would wait; here the node is told it missed some.
                Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                    s.dropped += 1;
                    s.missed.insert(n);
                }
            }
        }
        Self::tell_missed(&mut s);
    }

    /// Tells each node that hears and missed notices that it did ([`Heard::Lost`]).
    fn tell_missed(s: &mut BusState) {
        let missed: Vec<usize> = s.missed.difference(&s.deaf).copied().collect();
        for n in missed {
            if s.listeners
                .get(&n)
                .is_some_and(|tx| tx.try_send(Heard::Lost).is_ok())
            {
                s.missed.remove(&n);
            }
        }
    }

    /// Node `node` hears nothing until [`Bus::hear_again`].
    pub fn deafen(&self, node: usize) {
        self.lock().deaf.insert(node);
    }

    /// Node `node` hears again and, as `PgStorage`'s listener after a lost connection, is
    /// told that it may have missed notices.
    pub fn hear_again(&self, node: usize) {
        let mut s = self.lock();
        if s.deaf.remove(&node) {
            s.missed.insert(node);
        }
        Self::tell_missed(&mut s);
    }

    /// Notices (delivered, dropped on deaf nodes).
    pub fn counts(&self) -> (u64, u64) {
        let s = self.lock();
        (s.delivered, s.dropped)
    }
}

/// The relay's storage under the simulation.
#[derive(Debug)]
pub struct SimStorage {
    inner: Arc<dyn Storage>,
    faults: Arc<Faults>,
    /// This node's number and the bus to the other node (None with one node).
    bus: Option<(usize, Arc<Bus>)>,
}

impl SimStorage {
    /// Wraps `inner` for node `node` of a run; `bus` joins the nodes of a run with two.
    pub fn new(
        inner: Arc<dyn Storage>,
        faults: Arc<Faults>,
        bus: Option<(usize, Arc<Bus>)>,
    ) -> Self {
        SimStorage { inner, faults, bus }
    }

    /// Tells the other node, after a committed change (as PostgreSQL delivers a `NOTIFY` sent
    /// in a transaction when it commits, even if the answer to the caller is lost).
    fn publish<T>(&self, r: &Result<T>, notice: impl FnOnce() -> Notice) {
        if let (Ok(_), Some((node, bus))) = (r, &self.bus) {
            bus.publish(*node, &notice());
        }
    }

    fn enter(&self, call: &'static str) -> Result<()> {
        if self.faults.draw(call, false) {
            return Err(injected(call, "before"));
        }
        Ok(())
    }

    /// After a call: lets the used connection go back to the pool (sqlx does that in a task
    /// of its own), then maybe loses the answer.
    async fn after<T>(&self, call: &'static str, r: Result<T>) -> Result<T> {
        tokio::task::yield_now().await;
        if r.is_ok() && self.faults.draw(call, true) {
            return Err(injected(call, "after"));
        }
        r
    }
}

#[async_trait]
impl PrivacyStorage for SimStorage {
    async fn append_access(
        &self,
        tenant: &TenantId,
        at: i64,
        user_id: &str,
        device_id: Option<&str>,
        accesses: &[Access],
    ) -> Result<()> {
        self.enter("append_access")?;
        let r = crate::inline::block(
            self.inner
                .append_access(tenant, at, user_id, device_id, accesses),
        );
        self.after("append_access", r).await
    }

    async fn access_head(&self, tenant: &TenantId) -> Result<Option<ChainHead>> {
        self.enter("access_head")?;
        let r = crate::inline::block(self.inner.access_head(tenant));
        self.after("access_head", r).await
    }

    async fn access_entries(
        &self,
        tenant: &TenantId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(Entry, Vec<u8>)>> {
        self.enter("access_entries")?;
        let r = crate::inline::block(self.inner.access_entries(tenant, after, limit));
        self.after("access_entries", r).await
    }

    async fn access_of_subject(
        &self,
        tenant: &TenantId,
        subject: &str,
        documents: &[String],
    ) -> Result<Vec<Entry>> {
        self.enter("access_of_subject")?;
        let r = crate::inline::block(self.inner.access_of_subject(tenant, subject, documents));
        self.after("access_of_subject", r).await
    }

    async fn prune_access_log(&self, tenant: &TenantId, before: i64) -> Result<i64> {
        self.enter("prune_access_log")?;
        let r = crate::inline::block(self.inner.prune_access_log(tenant, before));
        self.after("prune_access_log", r).await
    }

    async fn privacy_settings(&self, tenant: &TenantId) -> Result<Option<String>> {
        self.enter("privacy_settings")?;
        let r = crate::inline::block(self.inner.privacy_settings(tenant));
        self.after("privacy_settings", r).await
    }

    async fn put_privacy_settings(&self, tenant: &TenantId, json: &str) -> Result<()> {
        self.enter("put_privacy_settings")?;
        let r = crate::inline::block(self.inner.put_privacy_settings(tenant, json));
        self.after("put_privacy_settings", r).await
    }

    async fn insert_hold(&self, hold: &HoldRow) -> Result<()> {
        self.enter("insert_hold")?;
        let r = crate::inline::block(self.inner.insert_hold(hold));
        self.after("insert_hold", r).await
    }

    async fn release_hold(
        &self,
        tenant: &TenantId,
        subject: &str,
        by: &str,
        at: i64,
    ) -> Result<Option<HoldRow>> {
        self.enter("release_hold")?;
        let r = crate::inline::block(self.inner.release_hold(tenant, subject, by, at));
        self.after("release_hold", r).await
    }

    async fn holds(&self, tenant: &TenantId) -> Result<Vec<HoldRow>> {
        self.enter("holds")?;
        let r = crate::inline::block(self.inner.holds(tenant));
        self.after("holds", r).await
    }

    async fn insert_retention_run(&self, run: &RetentionRunRow) -> Result<()> {
        self.enter("insert_retention_run")?;
        let r = crate::inline::block(self.inner.insert_retention_run(run));
        self.after("insert_retention_run", r).await
    }

    async fn retention_runs(&self, tenant: &TenantId, limit: i64) -> Result<Vec<RetentionRunRow>> {
        self.enter("retention_runs")?;
        let r = crate::inline::block(self.inner.retention_runs(tenant, limit));
        self.after("retention_runs", r).await
    }
}

#[async_trait]
impl Storage for SimStorage {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn document(&self, id: DocumentId) -> Result<Option<DocMeta>> {
        self.enter("document")?;
        let r = crate::inline::block(self.inner.document(id));
        self.after("document", r).await
    }

    async fn document_by_scope(&self, scope: &str) -> Result<Option<DocMeta>> {
        self.enter("document_by_scope")?;
        let r = crate::inline::block(self.inner.document_by_scope(scope));
        self.after("document_by_scope", r).await
    }

    async fn documents(&self, tenant: &TenantId) -> Result<Vec<DocMeta>> {
        self.enter("documents")?;
        let r = crate::inline::block(self.inner.documents(tenant));
        self.after("documents", r).await
    }

    async fn documents_versioned(&self, tenant: &TenantId) -> Result<Vec<(DocMeta, DocVersion)>> {
        self.enter("documents_versioned")?;
        let r = crate::inline::block(self.inner.documents_versioned(tenant));
        self.after("documents_versioned", r).await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        self.enter("setting")?;
        let r = crate::inline::block(self.inner.setting(key));
        self.after("setting", r).await
    }

    async fn init_setting(&self, key: &str, value: &str) -> Result<String> {
        self.enter("init_setting")?;
        let r = crate::inline::block(self.inner.init_setting(key, value));
        self.after("init_setting", r).await
    }

    async fn create_document(&self, meta: &DocMeta, snapshot: &[u8]) -> Result<()> {
        self.enter("create_document")?;
        let r = crate::inline::block(self.inner.create_document(meta, snapshot));
        self.after("create_document", r).await
    }

    async fn update_document(&self, meta: &DocMeta) -> Result<()> {
        self.enter("update_document")?;
        let r = crate::inline::block(self.inner.update_document(meta));
        self.after("update_document", r).await
    }

    async fn document_version(&self, id: DocumentId) -> Result<Option<i64>> {
        self.enter("document_version")?;
        let r = crate::inline::block(self.inner.document_version(id));
        self.after("document_version", r).await
    }

    async fn replace_document(
        &self,
        old: &DocMeta,
        version: i64,
        new: &DocMeta,
        snapshot: &[u8],
        replacement: &Replacement,
    ) -> Result<()> {
        self.enter("replace_document")?;
        let r = crate::inline::block(self.inner.replace_document(
            old,
            version,
            new,
            snapshot,
            replacement,
        ));
        self.publish(&r, || Notice::Replaced(old.id));
        self.after("replace_document", r).await
    }

    async fn replacement(&self, old: DocumentId) -> Result<Option<Replacement>> {
        self.enter("replacement")?;
        let r = crate::inline::block(self.inner.replacement(old));
        self.after("replacement", r).await
    }

    async fn replacements(&self, tenant: &TenantId) -> Result<Vec<Replacement>> {
        self.enter("replacements")?;
        let r = crate::inline::block(self.inner.replacements(tenant));
        self.after("replacements", r).await
    }

    async fn chunks(&self, id: DocumentId) -> Result<Vec<Vec<u8>>> {
        self.enter("chunks")?;
        let r = crate::inline::block(self.inner.chunks(id));
        self.after("chunks", r).await
    }

    async fn append(&self, id: DocumentId, bytes: &[u8]) -> Result<i64> {
        self.enter("append")?;
        let r = crate::inline::block(self.inner.append(id, bytes));
        self.publish(&r, || Notice::Doc(id));
        self.after("append", r).await
    }

    async fn compact(&self, id: DocumentId) -> Result<usize> {
        self.enter("compact")?;
        let r = crate::inline::block(self.inner.compact(id));
        self.after("compact", r).await
    }

    async fn sync_state(&self, id: DocumentId, storage_id: &str) -> Result<Option<Vec<u8>>> {
        self.enter("sync_state")?;
        let r = crate::inline::block(self.inner.sync_state(id, storage_id));
        self.after("sync_state", r).await
    }

    async fn put_sync_state(&self, id: DocumentId, storage_id: &str, state: &[u8]) -> Result<()> {
        self.enter("put_sync_state")?;
        let r = crate::inline::block(self.inner.put_sync_state(id, storage_id, state));
        self.after("put_sync_state", r).await
    }

    async fn insert_user(&self, user: &UserRow, scopes: &Scopes) -> Result<()> {
        self.enter("insert_user")?;
        let r = crate::inline::block(self.inner.insert_user(user, scopes));
        self.after("insert_user", r).await
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
        self.enter("user_by_username")?;
        let r = crate::inline::block(self.inner.user_by_username(username));
        self.after("user_by_username", r).await
    }

    async fn user(&self, id: &str) -> Result<Option<UserRow>> {
        self.enter("user")?;
        let r = crate::inline::block(self.inner.user(id));
        self.after("user", r).await
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRow>> {
        self.enter("users")?;
        let r = crate::inline::block(self.inner.users(tenant));
        self.after("users", r).await
    }

    async fn scopes(&self, user_id: &str) -> Result<Scopes> {
        self.enter("scopes")?;
        let r = crate::inline::block(self.inner.scopes(user_id));
        self.after("scopes", r).await
    }

    async fn set_scopes(&self, user_id: &str, scopes: &Scopes) -> Result<()> {
        self.enter("set_scopes")?;
        let r = crate::inline::block(self.inner.set_scopes(user_id, scopes));
        self.after("set_scopes", r).await
    }

    async fn disable_user(&self, user_id: &str) -> Result<bool> {
        self.enter("disable_user")?;
        let r = crate::inline::block(self.inner.disable_user(user_id));
        self.after("disable_user", r).await
    }

    async fn set_password(&self, user_id: &str, hash: &str) -> Result<()> {
        self.enter("set_password")?;
        let r = crate::inline::block(self.inner.set_password(user_id, hash));
        self.after("set_password", r).await
    }

    async fn insert_refresh(&self, hash: &str, row: &RefreshRow) -> Result<()> {
        self.enter("insert_refresh")?;
        let r = crate::inline::block(self.inner.insert_refresh(hash, row));
        self.after("insert_refresh", r).await
    }

    async fn refresh_token(&self, hash: &str) -> Result<Option<RefreshRow>> {
        self.enter("refresh_token")?;
        let r = crate::inline::block(self.inner.refresh_token(hash));
        self.after("refresh_token", r).await
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        now: i64,
        successor: &[u8],
        new_hash: &str,
        new_row: &RefreshRow,
    ) -> Result<bool> {
        self.enter("rotate_refresh")?;
        let r = crate::inline::block(
            self.inner
                .rotate_refresh(old_hash, now, successor, new_hash, new_row),
        );
        self.after("rotate_refresh", r).await
    }

    async fn revoke_family(&self, family_id: &str, now: i64, deny_until: i64) -> Result<()> {
        self.enter("revoke_family")?;
        let r = crate::inline::block(self.inner.revoke_family(family_id, now, deny_until));
        self.after("revoke_family", r).await
    }

    async fn family_denied(&self, family_id: &str, now: i64) -> Result<bool> {
        self.enter("family_denied")?;
        let r = crate::inline::block(self.inner.family_denied(family_id, now));
        self.after("family_denied", r).await
    }

    async fn count_login_attempt(
        &self,
        key: &str,
        minute: i64,
        since: i64,
        forget_before: i64,
    ) -> Result<i64> {
        self.enter("count_login_attempt")?;
        let r =
            crate::inline::block(
                self.inner
                    .count_login_attempt(key, minute, since, forget_before),
            );
        self.after("count_login_attempt", r).await
    }

    async fn uncount_login_attempt(&self, key: &str, minute: i64) -> Result<()> {
        self.enter("uncount_login_attempt")?;
        let r = crate::inline::block(self.inner.uncount_login_attempt(key, minute));
        self.after("uncount_login_attempt", r).await
    }

    async fn insert_device(&self, device: &DeviceRow) -> Result<()> {
        self.enter("insert_device")?;
        let r = crate::inline::block(self.inner.insert_device(device));
        self.after("insert_device", r).await
    }

    async fn device(&self, id: &str) -> Result<Option<DeviceRow>> {
        self.enter("device")?;
        let r = crate::inline::block(self.inner.device(id));
        self.after("device", r).await
    }

    async fn devices(&self, user_id: &str) -> Result<Vec<DeviceRow>> {
        self.enter("devices")?;
        let r = crate::inline::block(self.inner.devices(user_id));
        self.after("devices", r).await
    }

    async fn revoke_device(&self, id: &str, now: i64) -> Result<bool> {
        self.enter("revoke_device")?;
        let r = crate::inline::block(self.inner.revoke_device(id, now));
        self.after("revoke_device", r).await
    }

    async fn device_seen(&self, id: &str, now: i64) -> Result<()> {
        self.enter("device_seen")?;
        let r = crate::inline::block(self.inner.device_seen(id, now));
        self.after("device_seen", r).await
    }

    async fn device_wiped(&self, id: &str, now: i64) -> Result<bool> {
        self.enter("device_wiped")?;
        let r = crate::inline::block(self.inner.device_wiped(id, now));
        self.after("device_wiped", r).await
    }

    async fn insert_enrolment(
        &self,
        code_hash: &str,
        user_id: &str,
        created_by: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.enter("insert_enrolment")?;
        let r = crate::inline::block(
            self.inner
                .insert_enrolment(code_hash, user_id, created_by, expires_at),
        );
        self.after("insert_enrolment", r).await
    }

    async fn redeem_enrolment(&self, code_hash: &str, now: i64) -> Result<Option<String>> {
        self.enter("redeem_enrolment")?;
        let r = crate::inline::block(self.inner.redeem_enrolment(code_hash, now));
        self.after("redeem_enrolment", r).await
    }

    async fn set_role(&self, user_id: &str, role: AppRole) -> Result<()> {
        self.enter("set_role")?;
        let r = crate::inline::block(self.inner.set_role(user_id, role));
        self.after("set_role", r).await
    }

    async fn enable_user(&self, user_id: &str) -> Result<bool> {
        self.enter("enable_user")?;
        let r = crate::inline::block(self.inner.enable_user(user_id));
        self.after("enable_user", r).await
    }

    async fn anonymise_user(
        &self,
        user_id: &str,
        username: &str,
        display_name: &str,
    ) -> Result<()> {
        self.enter("anonymise_user")?;
        let r = crate::inline::block(self.inner.anonymise_user(user_id, username, display_name));
        self.after("anonymise_user", r).await
    }

    async fn insert_tenant(&self, tenant: &TenantId) -> Result<()> {
        self.enter("insert_tenant")?;
        let r = crate::inline::block(self.inner.insert_tenant(tenant));
        self.after("insert_tenant", r).await
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool> {
        self.enter("tenant_exists")?;
        let r = crate::inline::block(self.inner.tenant_exists(tenant));
        self.after("tenant_exists", r).await
    }

    async fn tenants(&self) -> Result<Vec<TenantId>> {
        self.enter("tenants")?;
        let r = crate::inline::block(self.inner.tenants());
        self.after("tenants", r).await
    }

    async fn put_profile(&self, user_id: &str, profile: &ProfileRow) -> Result<()> {
        self.enter("put_profile")?;
        let r = crate::inline::block(self.inner.put_profile(user_id, profile));
        self.after("put_profile", r).await
    }

    async fn profile(&self, user_id: &str) -> Result<Option<ProfileRow>> {
        self.enter("profile")?;
        let r = crate::inline::block(self.inner.profile(user_id));
        self.after("profile", r).await
    }

    async fn insert_link(
        &self,
        token_hash: &str,
        user_id: &str,
        purpose: LinkPurpose,
        created_by: Option<&str>,
        expires_at: i64,
    ) -> Result<()> {
        self.enter("insert_link")?;
        let r = crate::inline::block(
            self.inner
                .insert_link(token_hash, user_id, purpose, created_by, expires_at),
        );
        self.after("insert_link", r).await
    }

    async fn link(&self, token_hash: &str, purpose: LinkPurpose) -> Result<Option<LinkRow>> {
        self.enter("link")?;
        let r = crate::inline::block(self.inner.link(token_hash, purpose));
        self.after("link", r).await
    }

    async fn redeem_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        now: i64,
    ) -> Result<Option<String>> {
        self.enter("redeem_link")?;
        let r = crate::inline::block(self.inner.redeem_link(token_hash, purpose, now));
        self.after("redeem_link", r).await
    }

    async fn end_sessions(&self, user_id: &str, now: i64) -> Result<Vec<String>> {
        self.enter("end_sessions")?;
        let r = crate::inline::block(self.inner.end_sessions(user_id, now));
        self.after("end_sessions", r).await
    }

    async fn put_oidc_config(&self, config: &OidcConfigRow) -> Result<()> {
        self.enter("put_oidc_config")?;
        let r = crate::inline::block(self.inner.put_oidc_config(config));
        self.after("put_oidc_config", r).await
    }

    async fn oidc_config(&self, tenant: &TenantId) -> Result<Option<OidcConfigRow>> {
        self.enter("oidc_config")?;
        let r = crate::inline::block(self.inner.oidc_config(tenant));
        self.after("oidc_config", r).await
    }

    async fn link_identity(&self, identity: &str, user_id: &str, tenant: &TenantId) -> Result<()> {
        self.enter("link_identity")?;
        let r = crate::inline::block(self.inner.link_identity(identity, user_id, tenant));
        self.after("link_identity", r).await
    }

    async fn identity_user(&self, identity: &str) -> Result<Option<String>> {
        self.enter("identity_user")?;
        let r = crate::inline::block(self.inner.identity_user(identity));
        self.after("identity_user", r).await
    }

    async fn insert_oidc_request(&self, state_hash: &str, request: &OidcRequestRow) -> Result<()> {
        self.enter("insert_oidc_request")?;
        let r = crate::inline::block(self.inner.insert_oidc_request(state_hash, request));
        self.after("insert_oidc_request", r).await
    }

    async fn take_oidc_request(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<OidcRequestRow>> {
        self.enter("take_oidc_request")?;
        let r = crate::inline::block(self.inner.take_oidc_request(state_hash, now));
        self.after("take_oidc_request", r).await
    }

    async fn insert_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        key: &WrappedKey,
        doc: DocumentId,
    ) -> Result<bool> {
        self.enter("insert_subject_key")?;
        let r = crate::inline::block(self.inner.insert_subject_key(tenant, subject, key, doc));
        self.after("insert_subject_key", r).await
    }

    async fn link_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        doc: DocumentId,
    ) -> Result<bool> {
        self.enter("link_subject_key")?;
        let r = crate::inline::block(self.inner.link_subject_key(tenant, subject, doc));
        self.after("link_subject_key", r).await
    }

    async fn subject_key(&self, tenant: &TenantId, subject: &str) -> Result<Option<WrappedKey>> {
        self.enter("subject_key")?;
        let r = crate::inline::block(self.inner.subject_key(tenant, subject));
        self.after("subject_key", r).await
    }

    async fn subject_keys(
        &self,
        tenant: &TenantId,
        doc: Option<DocumentId>,
        subjects: &[String],
    ) -> Result<Vec<(String, WrappedKey)>> {
        self.enter("subject_keys")?;
        let r = crate::inline::block(self.inner.subject_keys(tenant, doc, subjects));
        self.after("subject_keys", r).await
    }

    async fn subject_keys_not_under(
        &self,
        kek_id: &str,
        limit: i64,
    ) -> Result<Vec<(TenantId, String, WrappedKey)>> {
        self.enter("subject_keys_not_under")?;
        let r = crate::inline::block(self.inner.subject_keys_not_under(kek_id, limit));
        self.after("subject_keys_not_under", r).await
    }

    async fn rewrap_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool> {
        self.enter("rewrap_subject_key")?;
        let r = crate::inline::block(self.inner.rewrap_subject_key(tenant, subject, old, new));
        self.after("rewrap_subject_key", r).await
    }

    async fn subject_key_keks(&self) -> Result<Vec<String>> {
        self.enter("subject_key_keks")?;
        let r = crate::inline::block(self.inner.subject_key_keks());
        self.after("subject_key_keks", r).await
    }

    async fn legacy_subject_keys(&self, limit: i64) -> Result<Vec<(TenantId, String, Vec<u8>)>> {
        self.enter("legacy_subject_keys")?;
        let r = crate::inline::block(self.inner.legacy_subject_keys(limit));
        self.after("legacy_subject_keys", r).await
    }

    async fn adopt_legacy_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        key: &WrappedKey,
        docs: &[DocumentId],
    ) -> Result<()> {
        self.enter("adopt_legacy_subject_key")?;
        let r = crate::inline::block(
            self.inner
                .adopt_legacy_subject_key(tenant, subject, key, docs),
        );
        self.after("adopt_legacy_subject_key", r).await
    }

    async fn drop_legacy_subject_key(&self, tenant: &TenantId, subject: &str) -> Result<()> {
        self.enter("drop_legacy_subject_key")?;
        let r = crate::inline::block(self.inner.drop_legacy_subject_key(tenant, subject));
        self.after("drop_legacy_subject_key", r).await
    }

    async fn erase_subjects(&self, subjects: &[String], log: &ErasureRow) -> Result<i64> {
        self.enter("erase_subjects")?;
        let r = crate::inline::block(self.inner.erase_subjects(subjects, log));
        self.after("erase_subjects", r).await
    }

    async fn erased_among(&self, tenant: &TenantId, subjects: &[String]) -> Result<Vec<String>> {
        self.enter("erased_among")?;
        let r = crate::inline::block(self.inner.erased_among(tenant, subjects));
        self.after("erased_among", r).await
    }

    async fn erasures(&self, tenant: &TenantId) -> Result<Vec<ErasureRow>> {
        self.enter("erasures")?;
        let r = crate::inline::block(self.inner.erasures(tenant));
        self.after("erasures", r).await
    }

    async fn confirm_erasure(
        &self,
        tenant: &TenantId,
        subject: &str,
        device_id: &str,
        at: i64,
    ) -> Result<bool> {
        self.enter("confirm_erasure")?;
        let r = crate::inline::block(self.inner.confirm_erasure(tenant, subject, device_id, at));
        self.after("confirm_erasure", r).await
    }

    async fn erasure_confirmations(
        &self,
        tenant: &TenantId,
    ) -> Result<std::collections::HashMap<String, i64>> {
        self.enter("erasure_confirmations")?;
        let r = crate::inline::block(self.inner.erasure_confirmations(tenant));
        self.after("erasure_confirmations", r).await
    }

    async fn reclaim_erased(&self) -> Result<()> {
        self.enter("reclaim_erased")?;
        let r = crate::inline::block(self.inner.reclaim_erased());
        self.after("reclaim_erased", r).await
    }

    async fn reclaim_documents(&self) -> Result<()> {
        self.enter("reclaim_documents")?;
        let r = crate::inline::block(self.inner.reclaim_documents());
        self.after("reclaim_documents", r).await
    }

    async fn put_review(&self, review: &ReviewRow) -> Result<()> {
        self.enter("put_review")?;
        let r = crate::inline::block(self.inner.put_review(review));
        self.after("put_review", r).await
    }

    async fn reviews(&self, tenant: &TenantId) -> Result<Vec<ReviewRow>> {
        self.enter("reviews")?;
        let r = crate::inline::block(self.inner.reviews(tenant));
        self.after("reviews", r).await
    }

    async fn review_log(&self, doc_id: DocumentId, record: &str) -> Result<Vec<ReviewRow>> {
        self.enter("review_log")?;
        let r = crate::inline::block(self.inner.review_log(doc_id, record));
        self.after("review_log", r).await
    }

    async fn bind_actor(
        &self,
        tenant: &TenantId,
        actor: &str,
        user_id: &str,
        device_id: Option<&str>,
    ) -> Result<(String, Option<String>)> {
        self.enter("bind_actor")?;
        let r = crate::inline::block(self.inner.bind_actor(tenant, actor, user_id, device_id));
        self.after("bind_actor", r).await
    }

    async fn actors(
        &self,
        tenant: &TenantId,
    ) -> Result<std::collections::HashMap<String, (String, Option<String>)>> {
        self.enter("actors")?;
        let r = crate::inline::block(self.inner.actors(tenant));
        self.after("actors", r).await
    }

    async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        self.enter("backup_to")?;
        let r = crate::inline::block(self.inner.backup_to(path));
        self.after("backup_to", r).await
    }

    async fn ping(&self) -> Result<()> {
        self.enter("ping")?;
        let r = crate::inline::block(self.inner.ping());
        self.after("ping", r).await
    }

    fn node(&self) -> &str {
        self.inner.node()
    }

    async fn announce(&self, notice: Notice) -> Result<()> {
        self.enter("announce")?;
        let r = crate::inline::block(self.inner.announce(notice.clone()));
        self.publish(&r, || notice);
        self.after("announce", r).await
    }

    async fn listen(&self) -> Result<Option<tokio::sync::mpsc::Receiver<Heard>>> {
        self.enter("listen")?;
        let r = match &self.bus {
            Some((node, bus)) => Ok(Some(bus.listen(*node))),
            None => crate::inline::block(self.inner.listen()),
        };
        self.after("listen", r).await
    }

    async fn close(&self) {
        crate::inline::block(self.inner.close())
    }
}
