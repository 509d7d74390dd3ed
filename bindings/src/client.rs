//! The client object apps hold: local store, account, domain operations, sync.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::ActorId;
use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::prelude::*;
use nabo_core::seal::{KeyRing, SubjectKey, seal};
use nabo_core::store::{Handle, Store, StoreError};
use nabo_core::time::Clock;
use serde::{Deserialize, Serialize};

use crate::api::{self, conv};
use crate::error::{NaboError, Result};
use crate::runtime::run;

/// Name of the local database inside the data directory.
const DB_FILE: &str = "nabo.sqlite";
const ACCOUNT: &str = "account";
const ACTOR: &str = "actor";
const STORAGE_ID: &str = "storage-id";
/// The relay as a sync peer in the local store's sync states.
pub(crate) const RELAY_PEER: &str = "relay";

/// What the device keeps about its user (sealed in the local store).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Account {
    pub user_id: String,
    pub tenant: String,
    pub role: String,
    pub display_name: String,
    pub staff_id: Option<String>,
    pub volunteer_id: Option<String>,
    pub device_id: Option<String>,
    pub areas: Vec<String>,
    pub refresh_token: String,
    /// The key sent with a refresh whose answer has not come yet, kept until it does: asking
    /// again with it gets the pair a lost answer carried (ADR 0038).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_retry: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Status {
    pub last_sync_ms: Option<i64>,
    pub last_error: Option<String>,
    pub syncing: bool,
}

pub(crate) struct Inner {
    pub relay: String,
    pub store: Store,
    pub actor: ActorId,
    pub storage_id: String,
    pub http: crate::http::Http,
    /// Serialises local edits (one device actor, one writer at a time).
    pub edit: tokio::sync::Mutex<()>,
    /// Serialises syncs.
    pub sync: tokio::sync::Mutex<()>,
    pub account: Mutex<Option<Account>>,
    /// Access token and when it expires (ms).
    pub access: Mutex<Option<(String, i64)>>,
    pub status: Mutex<Status>,
    pub events: tokio::sync::broadcast::Sender<api::ChangeEvent>,
    pub wake: tokio::sync::Notify,
    pub auto: Mutex<Option<tokio::task::AbortHandle>>,
    pub wiped: AtomicBool,
    /// Where "now" comes from: the phone's clock, or a test's.
    pub clock: Clock,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NaboClient({})", self.relay)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A Nabo client on a phone: a local, encrypted store that works offline and syncs with the
/// relay when it can.
#[derive(Debug, uniffi::Object)]
pub struct NaboClient {
    pub(crate) inner: Arc<Inner>,
}

impl Drop for NaboClient {
    fn drop(&mut self) {
        if let Some(h) = lock(&self.inner.auto).take() {
            h.abort();
        }
    }
}

/// A subscription to change notifications; dropping it (or `cancel`) stops them.
#[derive(Debug, uniffi::Object)]
pub struct Subscription {
    task: tokio::task::AbortHandle,
}

#[uniffi::export]
impl Subscription {
    /// Stops the notifications.
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn parse<T: std::str::FromStr>(field: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| NaboError::invalid(field, "malformed", "not in the expected format"))
}

/// `<document>/<record>` references handed to the app.
pub(crate) fn split_ref(field: &str, r: &str) -> Result<(DocumentId, String)> {
    let (d, id) = r
        .split_once('/')
        .ok_or_else(|| NaboError::invalid(field, "malformed", "expected document/record"))?;
    let d = DocumentId::parse(d)
        .map_err(|_| NaboError::invalid(field, "malformed", "bad document id"))?;
    Ok((d, id.to_owned()))
}

impl Inner {
    pub(crate) fn emit(&self, kind: api::ChangeKind, doc: Option<DocumentId>) {
        self.emit_detail(kind, doc, None);
    }

    pub(crate) fn emit_detail(
        &self,
        kind: api::ChangeKind,
        doc: Option<DocumentId>,
        detail: Option<String>,
    ) {
        let _ = self.events.send(api::ChangeEvent {
            kind,
            document_id: doc.map(|d| d.to_string()),
            detail,
        });
    }

    pub(crate) fn account(&self) -> Result<Account> {
        if self.wiped.load(Ordering::SeqCst) {
            return Err(NaboError::Revoked);
        }
        lock(&self.account)
            .clone()
            .ok_or_else(|| NaboError::Unauthorized {
                detail: "not logged in on this device".into(),
            })
    }

    pub(crate) async fn save_account(&self, a: Account) -> Result<()> {
        let bytes = serde_json::to_vec(&a).map_err(NaboError::internal)?;
        self.store.set_setting(ACCOUNT, &bytes).await?;
        *lock(&self.account) = Some(a);
        Ok(())
    }

    pub(crate) fn author(&self, a: &Account) -> Result<Author> {
        let by = if let Some(v) = &a.volunteer_id {
            By::Volunteer(parse("volunteer", v)?)
        } else if let Some(s) = &a.staff_id {
            By::Staff(parse("staff", s)?)
        } else {
            return Err(NaboError::Forbidden {
                detail: "this user cannot record".into(),
            });
        };
        Ok(Author::now(by, &self.clock))
    }

    /// The catalogue with the tenant's local additions.
    pub(crate) async fn catalogue(&self, tenant: &TenantId) -> Result<Catalogue> {
        Ok(self.tenant_settings(tenant).await?.0)
    }

    /// The catalogue with the tenant's local additions, and whether the tenant allows free-text
    /// notes: one read of the tenant document (the built-in catalogue before the first sync).
    pub(crate) async fn tenant_settings(&self, tenant: &TenantId) -> Result<(Catalogue, bool)> {
        let base = Catalogue::builtin()?;
        let id = self
            .doc_id(&Scope::Tenant {
                tenant: tenant.clone(),
            })
            .await?;
        match self.store.load(id, nabo_core::entropy::actor()).await? {
            Some(doc) => {
                let t = TenantDoc::from_doc(doc)?;
                Ok((t.catalogue(base)?, t.settings()?.free_text_notes))
            }
            None => Ok((base.clone(), false)),
        }
    }

    /// Seals a person's label (a first name or pseudonym) with a key of the person's own,
    /// kept on this device, so erasing the key erases the name from every copy and from
    /// history. A blank label is none.
    pub(crate) async fn seal_label(
        &self,
        pid: &ParticipantId,
        label: Option<&str>,
    ) -> Result<Option<nabo_core::model::Sealed>> {
        match label.map(str::trim) {
            Some(l) if !l.is_empty() => {
                let key = SubjectKey::generate();
                let s = seal(&key, pid.as_str(), l)?;
                self.store.put_key(pid.as_str(), &key).await?;
                self.key_made(pid.as_str()).await?;
                Ok(Some(s))
            }
            _ => Ok(None),
        }
    }

    /// Seals a contact's note (issue 11 item 2, ADR 0011 amended): with the known person's
    /// key when the contact names one, so erasing the person makes the note unreadable;
    /// otherwise with a new key of the contact's own, subject the contact id, stored here
    /// (returned, so a contact that is not written takes it back). Refused naming `note`
    /// when this phone does not hold the person's key (not shared to it yet, or names are
    /// hidden after too long out of contact): a new key for the person would never match
    /// the one the relay keeps.
    pub(crate) async fn seal_note(
        &self,
        contact: &ContactId,
        person: Option<&ParticipantId>,
        text: &str,
    ) -> Result<(nabo_core::model::Sealed, Option<String>)> {
        if let Some(pid) = person {
            let (ring, _) = self.identity_ring().await?;
            let key = ring.key(pid.as_str()).ok_or_else(|| {
                NaboError::invalid(
                    "note",
                    "unavailable",
                    "this phone does not hold the person's key; sync first",
                )
            })?;
            return Ok((seal(&key, pid.as_str(), text)?, None));
        }
        let key = SubjectKey::generate();
        let sealed = seal(&key, contact.as_str(), text)?;
        self.store.put_key(contact.as_str(), &key).await?;
        Ok((sealed, Some(contact.to_string())))
    }

    /// A local edit was saved: tell listeners and let automatic sync pick it up.
    pub(crate) fn edited(&self, doc: DocumentId) {
        self.emit(api::ChangeKind::LocalEdit, Some(doc));
        self.wake.notify_one();
    }

    pub(crate) async fn activity(
        &self,
        tenant: &TenantId,
        activity: &ActivityId,
    ) -> Result<ActivityDoc> {
        let id = self
            .doc_id(&Scope::Activity {
                tenant: tenant.clone(),
                activity: activity.clone(),
            })
            .await?;
        let doc = self
            .store
            .load(id, nabo_core::entropy::actor())
            .await?
            .ok_or_else(|| NaboError::not_found("activity"))?;
        Ok(ActivityDoc::from_doc(doc)?)
    }

    /// The id of the document for `scope` on this phone: the stored one (a document the relay
    /// rewrote has a new id, ADR 0037), else the id derived from the scope (what every phone
    /// creates offline).
    pub(crate) async fn doc_id(&self, scope: &Scope) -> Result<DocumentId> {
        Ok(self
            .store
            .id_for_scope(scope)
            .await?
            .unwrap_or_else(|| scope.document_id()))
    }

    pub(crate) async fn docs_of(&self, kind: DocKind) -> Result<Vec<(DocumentId, Scope)>> {
        Ok(self
            .store
            .list()
            .await?
            .into_iter()
            .filter(|d| d.kind == kind)
            .map(|d| (d.id, d.scope))
            .collect())
    }

    pub(crate) async fn register(&self, id: DocumentId) -> Result<Handle<RegisterDoc>> {
        Handle::open(&self.store, id, self.actor.clone())
            .await?
            .ok_or_else(|| NaboError::not_found("session"))
    }

    /// Runs a register edit under the edit lock, durably, and tells listeners.
    pub(crate) async fn edit_register<R>(
        &self,
        session_ref: &str,
        f: impl FnOnce(
            &mut RegisterDoc,
            RegisterContext<'_>,
            &SessionId,
            &Author,
        ) -> nabo_core::Result<R>,
    ) -> Result<R> {
        let a = self.account()?;
        let tenant: TenantId = parse("tenant", &a.tenant)?;
        let (doc, sid) = split_ref("session", session_ref)?;
        let sid: SessionId = parse("session", &sid)?;
        let author = self.author(&a)?;
        let cat = self.catalogue(&tenant).await?;
        let _g = self.edit.lock().await;
        let mut h = self.register(doc).await?;
        let act = self.activity(&tenant, h.get().activity_id()).await?;
        let snap = act.snapshot()?;
        let certificates = self.own_certificates(&a).await?;
        let ctx = RegisterContext {
            catalogue: &cat,
            activity: &snap,
            certificates: &certificates,
        };
        let r = h.edit(|reg| f(reg, ctx, &sid, &author)).await?;
        self.edited(doc);
        Ok(r)
    }

    pub(crate) fn session_info(
        reg_id: DocumentId,
        activity: &ActivityId,
        activity_name: &str,
        sid: &SessionId,
        s: &nabo_core::model::register::Session,
    ) -> api::SessionInfo {
        api::SessionInfo {
            id: format!("{reg_id}/{sid}"),
            activity_id: activity.to_string(),
            activity_name: activity_name.to_owned(),
            date: s.date.to_string(),
            start: s.start.to_string(),
            end: s.end.to_string(),
            title: s.title.clone(),
            cancelled: s.cancelled,
        }
    }

    pub(crate) async fn activity_names(&self) -> Result<BTreeMap<ActivityId, String>> {
        let mut out = BTreeMap::new();
        for (id, _) in self.docs_of(DocKind::Activity).await? {
            if let Some(doc) = self.store.load(id, nabo_core::entropy::actor()).await? {
                let a = ActivityDoc::from_doc(doc)?;
                out.insert(a.id().clone(), a.activity()?.current.name);
            }
        }
        Ok(out)
    }

    /// The user's outreach log for `area` in the quarter of `date`, created on this device if
    /// it is the first contact of the quarter (every phone creates the same skeleton).
    pub(crate) async fn outreach_log(
        &self,
        a: &Account,
        area: &AreaId,
        date: Date,
    ) -> Result<Handle<OutreachDoc>> {
        let tenant: TenantId = parse("tenant", &a.tenant)?;
        let worker: StaffId = match &a.staff_id {
            Some(s) => parse("staff", s)?,
            None => {
                return Err(NaboError::Forbidden {
                    detail: "only staff keep an outreach log".into(),
                });
            }
        };
        let quarter = Quarter::of(date);
        let id = self
            .doc_id(&Scope::Outreach {
                tenant: tenant.clone(),
                worker: worker.clone(),
                area: area.clone(),
                quarter,
            })
            .await?;
        if let Some(h) = Handle::open(&self.store, id, self.actor.clone()).await? {
            return Ok(h);
        }
        let doc = OutreachDoc::create(tenant, worker, area.clone(), quarter, self.actor.clone())?;
        Ok(Handle::create(&self.store, doc).await?)
    }

    pub(crate) async fn wipe(&self) -> Result<()> {
        self.wiped.store(true, Ordering::SeqCst);
        let token = lock(&self.account).take().map(|a| a.refresh_token);
        *lock(&self.access) = None;
        if let Some(h) = lock(&self.auto).take() {
            h.abort();
        }
        self.store.wipe().await?;
        self.emit(api::ChangeKind::Wiped, None);
        // The relay records that this phone did (issue 11 item 6).
        self.receipt_after_wipe(token).await
    }
}

/// Runs a future on the bindings' runtime and awaits it from any executor.
macro_rules! on_runtime {
    ($self:ident, |$inner:ident| $body:expr) => {{
        let $inner = $self.inner.clone();
        run(async move { $body }).await
    }};
}
pub(crate) use on_runtime;

impl NaboClient {
    async fn open_inner(
        data_dir: String,
        relay_url: String,
        store_key: Vec<u8>,
        trusted_roots_pem: Option<String>,
        clock: Clock,
        net: Option<Arc<dyn crate::http::Net>>,
    ) -> Result<Arc<Self>> {
        run(async move {
            let target = crate::http::Target::of(&relay_url)?;
            let key: [u8; 32] = store_key.as_slice().try_into().map_err(|_| {
                NaboError::invalid("store_key", "out-of-range", "the key must be 32 bytes")
            })?;
            let dir = PathBuf::from(&data_dir);
            std::fs::create_dir_all(&dir).map_err(NaboError::internal)?;
            let store = Store::open_encrypted(&dir.join(DB_FILE), &key).await?;
            let actor = match store.setting(ACTOR).await? {
                Some(b) => ActorId::from(b),
                None => {
                    let a = nabo_core::entropy::actor();
                    store.set_setting(ACTOR, a.to_bytes()).await?;
                    a
                }
            };
            let storage_id = match store.setting(STORAGE_ID).await? {
                Some(b) => String::from_utf8(b).map_err(NaboError::internal)?,
                None => {
                    let s = nabo_core::entropy::uuid().to_string();
                    store.set_setting(STORAGE_ID, s.as_bytes()).await?;
                    s
                }
            };
            let account = match store.setting(ACCOUNT).await? {
                Some(b) => serde_json::from_slice(&b).ok(),
                None => None,
            };
            let tls = {
                let roots = match &trusted_roots_pem {
                    Some(pem) => crate::http::parse_roots(pem)?,
                    None => Vec::new(),
                };
                Arc::new(crate::http::tls_config(&roots)?)
            };
            let net = net.unwrap_or_else(|| Arc::new(crate::http::Tcp));
            let http = crate::http::Http::new(net, target, tls);
            let (events, _) = tokio::sync::broadcast::channel(256);
            let client = Arc::new(NaboClient {
                inner: Arc::new(Inner {
                    relay: relay_url.trim_end_matches('/').to_owned(),
                    store,
                    actor,
                    storage_id,
                    http,
                    edit: tokio::sync::Mutex::new(()),
                    sync: tokio::sync::Mutex::new(()),
                    account: Mutex::new(account),
                    access: Mutex::new(None),
                    status: Mutex::new(Status::default()),
                    events,
                    wake: tokio::sync::Notify::new(),
                    auto: Mutex::new(None),
                    wiped: AtomicBool::new(false),
                    clock,
                }),
            });
            // A wipe not reported yet is reported in the background (ADR 0031).
            let weak = Arc::downgrade(&client.inner);
            tokio::spawn(async move {
                if let Some(inner) = weak.upgrade()
                    && let Err(e) = inner.send_wipe_receipt().await
                {
                    tracing::info!(error = %e, "the wipe is reported later");
                }
            });
            Ok(client)
        })
        .await
    }
}

impl NaboClient {
    /// Like `open`, on `clock` instead of the phone's clock: for Rust tests that run a phone
    /// and a relay at a chosen moment (00:30 after a café day, a summer-time switch). Not
    /// exported to the apps, which always run on the phone's clock.
    pub async fn open_with_clock(
        data_dir: String,
        relay_url: String,
        store_key: Vec<u8>,
        clock: Clock,
    ) -> Result<Arc<Self>> {
        Self::open_inner(data_dir, relay_url, store_key, None, clock, None).await
    }

    /// Like [`NaboClient::open_with_clock`], reaching the relay only through streams `net`
    /// opens instead of TCP (TLS over them for an `https://` relay URL), with HTTP/1.1 and
    /// the sync WebSocket as in the apps. For the deterministic simulation
    /// (docs/plans/simulation.md) and tests; not exported to the apps.
    pub async fn open_with_net(
        data_dir: String,
        relay_url: String,
        store_key: Vec<u8>,
        clock: Clock,
        net: Arc<dyn crate::http::Net>,
    ) -> Result<Arc<Self>> {
        Self::open_inner(data_dir, relay_url, store_key, None, clock, Some(net)).await
    }

    /// The phone's local store, for the simulation's checks (what is stored, with which
    /// heads). Rust only (feature `sim`).
    #[cfg(feature = "sim")]
    pub fn local_store(&self) -> &nabo_core::store::Store {
        &self.inner.store
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl NaboClient {
    /// Opens the client on `data_dir` (created if missing) with the relay at `relay_url`
    /// (`https://…`). `store_key` is 32 bytes the app keeps in the platform key store
    /// (Android Keystore, iOS Keychain); the local store is encrypted with it.
    #[uniffi::constructor]
    pub async fn open(
        data_dir: String,
        relay_url: String,
        store_key: Vec<u8>,
    ) -> Result<Arc<Self>> {
        Self::open_inner(data_dir, relay_url, store_key, None, Clock::system(), None).await
    }

    /// Like `open`, and also trusts the root certificates in `trusted_roots_pem` (one or more
    /// `-----BEGIN CERTIFICATE-----` blocks) for the relay's https/wss, in addition to the
    /// public roots: for a relay whose certificate comes from an organisation's internal CA
    /// (a municipality's). The app ships or provisions the PEM (e.g. from MDM configuration);
    /// it is not stored. A bundle without a certificate, or a damaged one, is `Invalid` with
    /// field `trusted_roots_pem`.
    #[uniffi::constructor]
    pub async fn open_with_trusted_roots(
        data_dir: String,
        relay_url: String,
        store_key: Vec<u8>,
        trusted_roots_pem: String,
    ) -> Result<Arc<Self>> {
        Self::open_inner(
            data_dir,
            relay_url,
            store_key,
            Some(trusted_roots_pem),
            Clock::system(),
            None,
        )
        .await
    }

    /// Logs a staff member in (username and password).
    pub async fn login(&self, username: String, password: String) -> Result<api::UserInfo> {
        on_runtime!(self, |inner| inner.login(&username, &password).await)
    }

    /// Enrols this phone for a volunteer with the one-time code central staff gave them.
    pub async fn enrol(&self, code: String, device_name: String) -> Result<api::UserInfo> {
        on_runtime!(self, |inner| inner.enrol(&code, &device_name).await)
    }

    /// Ends the session on this device (the records stay until the next login).
    pub async fn logout(&self) -> Result<()> {
        on_runtime!(self, |inner| inner.logout().await)
    }

    /// The signed-in user, if any.
    pub fn me(&self) -> Option<api::UserInfo> {
        lock(&self.inner.account).as_ref().map(|a| a.info())
    }

    /// The activities this user works in (as synced to this device).
    pub async fn my_activities(&self) -> Result<Vec<api::ActivityInfo>> {
        on_runtime!(self, |inner| {
            let mut out = Vec::new();
            for (id, _) in inner.docs_of(DocKind::Activity).await? {
                let Some(doc) = inner.store.load(id, nabo_core::entropy::actor()).await? else {
                    continue;
                };
                let a = ActivityDoc::from_doc(doc)?;
                let cur = a.activity()?.current;
                // Archived activities leave the phone's list too (ADR 0022, ADR 0026).
                if cur.archived {
                    continue;
                }
                out.push(api::ActivityInfo {
                    id: a.id().to_string(),
                    name: cur.name,
                    area_id: cur.area.to_string(),
                    activity_type: cur.primary_type.to_string(),
                    attendance_mode: conv::mode(cur.attendance_mode),
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    /// Sessions on `date` (ISO) in every register on this device, by start time.
    pub async fn sessions_on(&self, date: String) -> Result<Vec<api::SessionInfo>> {
        on_runtime!(self, |inner| {
            let day: Date = parse("date", &date)?;
            let names = inner.activity_names().await?;
            let mut out = Vec::new();
            for (id, _) in inner.docs_of(DocKind::Register).await? {
                let Some(doc) = inner.store.load(id, nabo_core::entropy::actor()).await? else {
                    continue;
                };
                let reg = RegisterDoc::from_doc(doc)?;
                if !reg.term().contains(day) {
                    continue;
                }
                let act = reg.activity_id().clone();
                let name = names.get(&act).cloned().unwrap_or_default();
                for (sid, s) in reg.view()?.sessions {
                    if s.current.date == day {
                        out.push(Inner::session_info(id, &act, &name, &sid, &s.current));
                    }
                }
            }
            out.sort_by(|a, b| (&a.start, &a.activity_name).cmp(&(&b.start, &b.activity_name)));
            Ok(out)
        })
    }

    /// Today's sessions (today in Denmark: see `today`).
    pub async fn todays_sessions(&self) -> Result<Vec<api::SessionInfo>> {
        self.sessions_on(self.today()).await
    }

    /// Today's date in Denmark (ISO `YYYY-MM-DD`), the day every screen means by "today":
    /// a new session "today" goes on this date whatever time zone the phone is set to.
    pub fn today(&self) -> String {
        self.inner.clock.today_dk().to_string()
    }

    /// Adds a one-off session (an extra homework evening, a trip) to an activity. Creates the
    /// term's register on this device if it is not here yet.
    pub async fn add_session(
        &self,
        activity_id: String,
        date: String,
        start: String,
        end: String,
        title: Option<String>,
    ) -> Result<api::SessionInfo> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let activity: ActivityId = parse("activity_id", &activity_id)?;
            let input = NewSession {
                date: parse("date", &date)?,
                start: parse("start", &start)?,
                end: parse("end", &end)?,
                venue: None,
                title,
            };
            let term = Term::of(input.date);
            let author = inner.author(&a)?;
            let cat = inner.catalogue(&tenant).await?;
            let act = inner.activity(&tenant, &activity).await?;
            let snap = act.snapshot()?;
            let ctx = RegisterContext {
                catalogue: &cat,
                activity: &snap,
                certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
            };
            let id = inner
                .doc_id(&Scope::Register {
                    tenant: tenant.clone(),
                    activity: activity.clone(),
                    term,
                })
                .await?;
            let _g = inner.edit.lock().await;
            let mut h = match Handle::open(&inner.store, id, inner.actor.clone()).await? {
                Some(h) => h,
                None => {
                    let doc = RegisterDoc::create(
                        tenant,
                        activity.clone(),
                        term,
                        inner.actor.clone(),
                        &author,
                        ctx,
                    )?;
                    match Handle::create(&inner.store, doc).await {
                        Ok(h) => h,
                        Err(StoreError::Exists(_)) => inner.register(id).await?,
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let sid = h.edit(|r| r.add_session(&author, input)).await?;
            let s = h.get().session(&sid)?;
            inner.edited(id);
            let name = act.activity()?.current.name;
            Ok(Inner::session_info(id, &activity, &name, &sid, &s))
        })
    }

    /// The roll call of a session as merged on this device.
    pub async fn roll_call(&self, session_id: String) -> Result<api::RollCall> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let (doc, sid) = split_ref("session", &session_id)?;
            let sid: SessionId = parse("session", &sid)?;
            let h = inner.register(doc).await?;
            let reg = h.get();
            let act = inner.activity(&tenant, reg.activity_id()).await?;
            let cur = act.activity()?.current;
            let view = reg.view()?;
            let session = view
                .sessions
                .get(&sid)
                .ok_or_else(|| NaboError::not_found("session"))?;
            let (ring, names_hidden) = inner.identity_ring().await?;
            let mut entries = Vec::new();
            let mut present = 0;
            if cur.attendance_mode != nabo_core::model::AttendanceMode::Headcount {
                for (pid, p) in &view.participants {
                    if p.current.merged_into.is_some() || p.current.added_on > session.current.date
                    {
                        continue;
                    }
                    let mark = view.attendance.get(&(sid.clone(), pid.clone()));
                    if mark
                        .is_some_and(|m| m.current == nabo_core::model::AttendanceStatus::Present)
                    {
                        present += 1;
                    }
                    // An erased person is listed nowhere; their mark still counts, without a
                    // name, as on the review pages (ADR 0019).
                    if nabo_core::erasure::is_erased(p) {
                        continue;
                    }
                    let may_be_named = nabo_core::consent::may_be_named(
                        cur.attendance_mode,
                        cur.legal_basis,
                        p.current.consent.as_ref(),
                        session.current.date,
                    );
                    // In a named roll call the label is a first name: shown only while a basis
                    // covers naming (a withdrawn consent stops it from that day, ADR 0027).
                    let shown = may_be_named
                        || cur.attendance_mode != nabo_core::model::AttendanceMode::Named;
                    entries.push(api::RollCallEntry {
                        participant_id: pid.to_string(),
                        label: p
                            .current
                            .label
                            .as_ref()
                            .filter(|_| shown)
                            .and_then(|l| ring.open_label(pid.as_str(), l)),
                        age_band: p.current.age_band.to_string(),
                        mark: mark.map(|m| conv::mark(m.current)),
                        conflict: mark.is_some_and(|m| m.conflicts.iter().any(|c| *c != m.current)),
                        may_be_named,
                    });
                }
            }
            entries.sort_by(|a, b| {
                (a.label.is_none(), &a.label, &a.participant_id).cmp(&(
                    b.label.is_none(),
                    &b.label,
                    &b.participant_id,
                ))
            });
            let counted = view.headcounts.keys().any(|(s, _)| *s == sid);
            let headcount = counted.then(|| view.headcount(&sid));
            let split = view.headcount_split(&sid);
            let headcount_split = (split.total() > 0).then(|| conv::split(&split));
            Ok(api::RollCall {
                session: Inner::session_info(
                    doc,
                    reg.activity_id(),
                    &cur.name,
                    &sid,
                    &session.current,
                ),
                mode: conv::mode(cur.attendance_mode),
                entries,
                headcount,
                headcount_split,
                present,
                names_hidden,
                my_shift: match &a.volunteer_id {
                    Some(v) => {
                        let v: VolunteerId = parse("volunteer", v)?;
                        Some(crate::volunteer::shift_info(
                            view.shifts.get(&(sid.clone(), v)).map(|s| &s.current),
                        ))
                    }
                    None => None,
                },
            })
        })
    }

    /// Marks a participant present, absent or excused.
    pub async fn mark(
        &self,
        session_id: String,
        participant_id: String,
        mark: api::Mark,
    ) -> Result<()> {
        on_runtime!(self, |inner| {
            let pid: ParticipantId = parse("participant", &participant_id)?;
            inner
                .edit_register(&session_id, |reg, ctx, sid, author| {
                    reg.mark(author, ctx, sid, &pid, conv::status(mark))
                })
                .await
        })
    }

    /// Adds a new child to the register and marks them present. `label` (a first name or a
    /// pseudonym) is sealed with a key of the child's own, kept on this device, so erasing the
    /// key later erases the name from every copy and from history. In a named roll call a name
    /// needs a basis covering naming (ADR 0027): see `add_child_with_consent`.
    pub async fn add_child(
        &self,
        session_id: String,
        label: Option<String>,
        age_band: String,
    ) -> Result<String> {
        on_runtime!(self, |inner| {
            inner.add_child(session_id, label, age_band, None).await
        })
    }

    /// Sets the headcount of a session (headcount mode), without groups.
    pub async fn set_headcount(&self, session_id: String, count: u32) -> Result<()> {
        on_runtime!(self, |inner| {
            inner
                .edit_register(&session_id, |reg, ctx, sid, author| {
                    reg.set_headcount_total(author, ctx, sid, count)
                })
                .await
        })
    }

    /// Sets the headcount of a session by group (children and adults, residents and
    /// outsiders) with how many came for the first time (headcount mode).
    pub async fn set_headcounts(
        &self,
        session_id: String,
        counts: api::HeadcountSplit,
    ) -> Result<()> {
        on_runtime!(self, |inner| {
            let split = conv::core_split(&counts);
            inner
                .edit_register(&session_id, |reg, ctx, sid, author| {
                    reg.set_headcounts(author, ctx, sid, &split)
                })
                .await
        })
    }

    /// Checks the signed-in volunteer in to a session now.
    pub async fn check_in(&self, session_id: String) -> Result<()> {
        on_runtime!(self, |inner| {
            let vid = inner.volunteer()?;
            inner
                .edit_register(&session_id, |reg, ctx, sid, author| {
                    reg.check_in(author, ctx, sid, &vid, author.at)
                })
                .await
        })
    }

    /// Checks the signed-in volunteer out of a session now.
    pub async fn check_out(&self, session_id: String) -> Result<()> {
        on_runtime!(self, |inner| {
            let vid = inner.volunteer()?;
            inner
                .edit_register(&session_id, |reg, _ctx, sid, author| {
                    reg.check_out(author, sid, &vid, author.at)
                })
                .await
        })
    }

    /// Logs an outreach contact now (anonymous: counts, age band and codes).
    pub async fn log_contact(&self, input: api::ContactInput) -> Result<String> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let area: AreaId = parse("area_id", &input.area_id)?;
            let author = inner.author(&a)?;
            let (cat, notes) = inner.tenant_settings(&tenant).await?;
            let mut c = NewContact::anonymous(
                author.at,
                &input.location,
                &input.kind,
                input.count,
                &input.age_band,
            );
            c.topics = input.topics;
            c.outcomes = input.outcomes;
            c.participant = input
                .participant_id
                .as_deref()
                .map(|p| parse("participant_id", p))
                .transpose()?;
            c.followup = input
                .followup
                .as_deref()
                .map(|d| parse("followup", d))
                .transpose()?;
            c.concern = match (&input.concern_reported_on, &input.concern_to) {
                (None, None) => None,
                (Some(on), Some(to)) => Some(nabo_core::model::outreach::ConcernReport {
                    reported_on: parse("concern_reported_on", on)?,
                    to: parse("concern_to", to)?,
                }),
                (None, Some(_)) => {
                    return Err(NaboError::invalid(
                        "concern_reported_on",
                        "missing",
                        "a concern records the day it was reported",
                    ));
                }
                (Some(_), None) => {
                    return Err(NaboError::invalid(
                        "concern_to",
                        "missing",
                        "a concern records the authority it was reported to",
                    ));
                }
            };
            let note = input
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty());
            let id = ContactId::random();
            // A note made a key of the contact's own: kept only if the contact is written.
            let mut made = None;
            if let Some(text) = note {
                nabo_core::docs::outreach::check_note_text(notes, text)?;
                let (sealed, new_key) = inner.seal_note(&id, c.participant.as_ref(), text).await?;
                c.note = Some(sealed);
                made = new_key;
            }
            let _g = inner.edit.lock().await;
            let mut h = inner.outreach_log(&a, &area, author.at.date_dk()).await?;
            let logged = h
                .edit(|log| log.log_contact_as(&author, &cat, notes, id, c))
                .await;
            let id = match logged {
                Ok(id) => id,
                Err(e) => {
                    if let Some(subject) = &made {
                        inner.store.erase_key(subject).await?;
                    }
                    return Err(e.into());
                }
            };
            if let Some(subject) = &made {
                inner.key_made(subject).await?;
            }
            let doc = h.get().doc().id();
            inner.edited(doc);
            Ok(format!("{doc}/{id}"))
        })
    }

    /// Records a referral (brobygning), optionally from a logged contact.
    pub async fn refer(&self, input: api::ReferralInput) -> Result<String> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let tenant: TenantId = parse("tenant", &a.tenant)?;
            let area: AreaId = parse("area_id", &input.area_id)?;
            let author = inner.author(&a)?;
            let cat = inner.catalogue(&tenant).await?;
            let _g = inner.edit.lock().await;
            let mut h = inner.outreach_log(&a, &area, author.at.date_dk()).await?;
            let from_contact: Option<ContactId> = match &input.contact_id {
                None => None,
                Some(r) => {
                    let (doc, c) = split_ref("contact_id", r)?;
                    if doc != h.get().doc().id() {
                        return Err(NaboError::invalid(
                            "contact_id",
                            "not-found",
                            "the contact is not in this quarter's log for the area",
                        ));
                    }
                    Some(parse("contact_id", &c)?)
                }
            };
            // The person referred: the one named, else the contact's known person.
            let participant: Option<ParticipantId> = match &input.participant_id {
                Some(p) => Some(parse("participant_id", p)?),
                None => match &from_contact {
                    Some(c) => h
                        .get()
                        .contacts()?
                        .get(c)
                        .and_then(|c| c.participant.clone()),
                    None => None,
                },
            };
            let to_activity: Option<ActivityId> = match &input.to_activity_id {
                None => None,
                Some(x) => {
                    let id = parse("to_activity_id", x)?;
                    match inner.activity(&tenant, &id).await {
                        Ok(_) => Some(id),
                        Err(NaboError::NotFound { .. }) => {
                            return Err(NaboError::invalid(
                                "to_activity_id",
                                "not-found",
                                "no such activity on this device",
                            ));
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            let r = NewReferral {
                at: author.at,
                from_contact,
                from_activity: None,
                participant,
                to: input.to,
                to_org: None,
                to_activity,
                kind: conv::kind_in(input.kind),
                consent_to_share: input.consent_to_share,
            };
            let id = h.edit(|log| log.refer(&author, &cat, r)).await?;
            let doc = h.get().doc().id();
            inner.edited(doc);
            Ok(format!("{doc}/{id}"))
        })
    }

    /// Moves a referral to a new status.
    pub async fn set_referral_status(
        &self,
        referral_id: String,
        status: api::ReferralStatus,
    ) -> Result<()> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let author = inner.author(&a)?;
            let (doc, rid) = split_ref("referral", &referral_id)?;
            let rid: ReferralId = parse("referral", &rid)?;
            let _g = inner.edit.lock().await;
            let mut h: Handle<OutreachDoc> = Handle::open(&inner.store, doc, inner.actor.clone())
                .await?
                .ok_or_else(|| NaboError::not_found("referral"))?;
            h.edit(|log| log.set_referral_status(&author, &rid, conv::status_in(status)))
                .await?;
            inner.edited(doc);
            Ok(())
        })
    }

    /// The signed-in worker's own outreach log on this device, newest first.
    pub async fn my_outreach_log(&self) -> Result<api::OutreachLog> {
        on_runtime!(self, |inner| {
            let a = inner.account()?;
            let mut contacts = Vec::new();
            let mut referrals = Vec::new();
            let (ring, _) = inner.identity_ring().await?;
            for (id, scope) in inner.docs_of(DocKind::Outreach).await? {
                let Scope::Outreach { worker, area, .. } = scope else {
                    continue;
                };
                if Some(worker.to_string()) != a.staff_id {
                    continue;
                }
                let Some(doc) = inner.store.load(id, nabo_core::entropy::actor()).await? else {
                    continue;
                };
                let log = OutreachDoc::from_doc(doc)?;
                for (cid, c) in log.contacts()? {
                    let note = c.note.as_ref().and_then(|n| {
                        ring.open_label(&nabo_core::docs::outreach::note_subject(&cid, &c), n)
                    });
                    contacts.push(api::ContactInfo {
                        note,
                        has_note: c.note.is_some(),
                        id: format!("{id}/{cid}"),
                        area_id: area.to_string(),
                        at_ms: c.at.0,
                        location: c.location.to_string(),
                        kind: c.kind.to_string(),
                        count: c.count,
                        age_band: c.age_band.map(|b| b.to_string()),
                        topics: c.topics.0.iter().map(ToString::to_string).collect(),
                        outcomes: c.outcomes.0.iter().map(ToString::to_string).collect(),
                        participant_id: c.participant.as_ref().map(ToString::to_string),
                    });
                }
                let people = log.people()?;
                for (rid, r) in log.referrals()? {
                    let r = r.current;
                    let label = r.participant.as_ref().and_then(|p| {
                        let sealed = people.get(p)?.label.as_ref()?;
                        ring.open_label(p.as_str(), sealed)
                    });
                    referrals.push(api::ReferralInfo {
                        id: format!("{id}/{rid}"),
                        area_id: area.to_string(),
                        at_ms: r.at.0,
                        to: r.to.to_string(),
                        kind: conv::kind_out(r.kind),
                        status: conv::status_out(r.status),
                        changes: u32::try_from(r.history.0.len()).unwrap_or(u32::MAX),
                        contact_id: r.from_contact.as_ref().map(|c| format!("{id}/{c}")),
                        participant_id: r.participant.as_ref().map(ToString::to_string),
                        participant_label: label,
                        to_activity_id: r.to_activity.as_ref().map(ToString::to_string),
                        consent_to_share: r.consent_to_share,
                        history: nabo_core::docs::outreach::status_history(&r)
                            .into_iter()
                            .map(|c| api::ReferralChange {
                                at_ms: c.at.0,
                                status: conv::status_out(c.status),
                            })
                            .collect(),
                    });
                }
            }
            contacts.sort_by_key(|c| std::cmp::Reverse(c.at_ms));
            referrals.sort_by_key(|r| std::cmp::Reverse(r.at_ms));
            Ok(api::OutreachLog {
                contacts,
                referrals,
            })
        })
    }

    /// A vocabulary of the catalogue with Danish labels: `age-bands`, `outreach-topics`,
    /// `outreach-outcomes`, `contact-kinds`, `location-hints`, `referral-targets`.
    pub fn vocabulary(&self, name: String) -> Result<Vec<api::CodeLabel>> {
        let v = Vocabulary::ALL
            .iter()
            .find(|(_, k)| k.replace('_', "-") == name.replace('_', "-"))
            .map(|(v, _)| *v)
            .ok_or_else(|| NaboError::invalid("name", "unknown-code", "no such vocabulary"))?;
        Ok(Catalogue::builtin()?
            .vocabulary(v)
            .iter()
            .map(|t| api::CodeLabel {
                code: t.code.clone(),
                label: t.name_da.clone(),
            })
            .collect())
    }

    /// Syncs every document the user may see with the relay now.
    pub async fn sync_now(&self) -> Result<api::SyncReport> {
        on_runtime!(self, |inner| crate::sync::sync_now(&inner).await)
    }

    /// Where syncing stands.
    pub async fn sync_status(&self) -> Result<api::SyncStatus> {
        on_runtime!(self, |inner| crate::sync::status(&inner).await)
    }

    /// Syncs automatically: soon after each local edit, and every `interval_seconds` while
    /// the relay is reachable. Stops on `stop_auto_sync`, on revocation, or when the client
    /// is dropped.
    pub fn start_auto_sync(&self, interval_seconds: u32) {
        crate::sync::start_auto(
            &self.inner,
            Duration::from_secs(u64::from(interval_seconds.max(1))),
        );
    }

    /// Stops automatic sync.
    pub fn stop_auto_sync(&self) {
        if let Some(h) = lock(&self.inner.auto).take() {
            h.abort();
        }
        self.inner.emit(api::ChangeKind::SyncStatus, None);
    }

    /// Subscribes to change notifications.
    pub fn subscribe(&self, listener: Arc<dyn api::ChangeListener>) -> Arc<Subscription> {
        let mut rx = self.inner.events.subscribe();
        let task = crate::runtime::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        if let Err(e) = listener.on_change(ev) {
                            tracing::warn!(error = %e, "change listener failed");
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let ev = api::ChangeEvent {
                            kind: api::ChangeKind::Synced,
                            document_id: None,
                            detail: None,
                        };
                        let _ = listener.on_change(ev);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Arc::new(Subscription {
            task: task.abort_handle(),
        })
    }
}

impl Account {
    pub(crate) fn info(&self) -> api::UserInfo {
        api::UserInfo {
            user_id: self.user_id.clone(),
            role: self.role.clone(),
            display_name: self.display_name.clone(),
            staff_id: self.staff_id.clone(),
            volunteer_id: self.volunteer_id.clone(),
            device_id: self.device_id.clone(),
            areas: self.areas.clone(),
        }
    }
}

impl Inner {
    pub(crate) fn volunteer(&self) -> Result<VolunteerId> {
        match self.account()?.volunteer_id {
            Some(v) => parse("volunteer", &v),
            None => Err(NaboError::Forbidden {
                detail: "only volunteers check in".into(),
            }),
        }
    }
}
