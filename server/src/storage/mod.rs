//! Storage behind one trait ([`Storage`]) with two implementations: SQLite (default,
//! embedded) and PostgreSQL (several relay nodes), each with its own migrations
//! (`server/migrations/{sqlite,postgres}`).
//!
//! Every method returns a `Result`: a failing database is an error the caller must answer
//! (the relay closes the peer's connection so it retries), never "not found".

pub mod privacy;
mod sql;

use async_trait::async_trait;
use nabo_core::document::{DocKind, DocumentId};
use nabo_core::ids::TenantId;
use nabo_core::model::AppRole;

pub use privacy::{ChainHead, HoldRow, PrivacyStorage, RetentionRunRow};
pub use sql::{PgStorage, SqliteStorage};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database failed (down, full, constraint, …).
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row that must be unique exists (e.g. a document created concurrently).
    #[error("already exists")]
    Conflict,
    /// Stored bytes do not load.
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    /// The database could not finish the work now; trying again later will (e.g. reclaiming
    /// the space of an erasure while an older transaction runs).
    #[error("database busy: {0}")]
    Busy(String),
}

/// Result of storage calls.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// What the relay knows about a document without loading it: enough to decide access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMeta {
    /// Id.
    pub id: DocumentId,
    /// Tenant.
    pub tenant: TenantId,
    /// Kind.
    pub kind: DocKind,
    /// Scope string (unique).
    pub scope: String,
    /// Activity (activity, register).
    pub activity: Option<String>,
    /// Area (register, outreach, activity).
    pub area: Option<String>,
    /// Worker (outreach).
    pub worker: Option<String>,
    /// Network (network).
    pub network: Option<String>,
    /// Programme (activity, register): scopes by programme.
    pub programme: Option<String>,
    /// Human title (Danish).
    pub title: String,
}

/// Where a document's stored content stands (ADR 0028): `version` is raised by every append,
/// in the transaction that stores the changes, and by nothing else (compaction keeps the
/// content and the version). Equal versions mean equal stored content, on every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocVersion {
    /// Appends so far.
    pub version: i64,
    /// Stored bytes (snapshot and chunks).
    pub size: i64,
}

/// A document rewritten under a new id (ADR 0037). The old id stays on the tenant's list of
/// replaced documents for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The id no longer served, created or stored.
    pub old: DocumentId,
    /// The document that holds its content now (the latest, when rewritten again).
    pub new: DocumentId,
    /// Tenant.
    pub tenant: TenantId,
    /// The scope both ids stand for.
    pub scope: String,
    /// Why (a code: `erasure`, `retention`), never free text.
    pub reason: String,
    /// When (ms).
    pub at: i64,
    /// Every change hash the old document had when it was rewritten: a phone's changes not
    /// among them are the ones the relay never saw, to be carried over.
    pub known: Vec<automerge::ChangeHash>,
}

/// A user of the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant: TenantId,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// argon2id PHC string; `None` for volunteers who enrol with a code.
    pub password_hash: Option<String>,
    /// Application role.
    pub role: AppRole,
    /// The staff member this user is.
    pub staff_id: Option<String>,
    /// The volunteer this user is.
    pub volunteer_id: Option<String>,
    /// Disabled (revoked).
    pub disabled: bool,
}

/// A user's scope: programmes, areas and activities they work in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    /// Areas.
    pub areas: Vec<String>,
    /// Activities.
    pub activities: Vec<String>,
    /// Programmes (every activity of the programme, as an area scope gives its area's).
    pub programmes: Vec<String>,
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// A new login chooses its password (or links the organisation's sign-in).
    Activate,
    /// A forgotten password is replaced.
    Reset,
}

impl LinkPurpose {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            LinkPurpose::Activate => "activate",
            LinkPurpose::Reset => "reset",
        }
    }
}

/// A one-time link as stored (the token only as its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    /// The login it is for.
    pub user_id: String,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// When it was used, if it was.
    pub used_at: Option<i64>,
}

/// A person's sealed profile (contact details; a volunteer's name): ciphertext under the
/// subject key of `subject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRow {
    /// Whose key seals it (the staff member, the volunteer, or the login).
    pub subject: String,
    /// `nabo_core::seal` output.
    pub sealed: Vec<u8>,
}

/// A tenant's OpenID Connect provider as stored (the client secret wrapped under the KEK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfigRow {
    /// Tenant.
    pub tenant: TenantId,
    /// The provider's issuer URL (exactly as its discovery document names it).
    pub issuer: String,
    /// Nabo's client id at the provider.
    pub client_id: String,
    /// The client secret, wrapped.
    pub secret: WrappedKey,
    /// Scopes asked for besides `openid` (space-separated).
    pub scopes: String,
    /// The ID token claim holding the user's groups.
    pub groups_claim: String,
    /// Group → role (JSON object).
    pub groups: String,
    /// The button's text: "Log ind med <label>".
    pub label: String,
}

/// An authorization request on its way through the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcRequestRow {
    /// Tenant.
    pub tenant: TenantId,
    /// Hash of the value in the browser's binding cookie.
    pub browser_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// An activation link being redeemed by signing in (links the identity to its login).
    pub link_hash: Option<String>,
    /// Where to go afterwards.
    pub next_path: String,
    /// Expiry (ms).
    pub expires_at: i64,
}

/// A refresh token as stored (hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRow {
    /// User.
    pub user_id: String,
    /// Device, for enrolled phones.
    pub device_id: Option<String>,
    /// Rotation family.
    pub family_id: String,
    /// Expiry (ms).
    pub expires_at: i64,
    /// When it was used (rotated), if it was.
    pub used_at: Option<i64>,
    /// Revoked.
    pub revoked: bool,
    /// The pair it was rotated into, sealed under a key derived from this token (for the
    /// short grace window of concurrent refreshes, ADR 0014).
    pub successor: Option<Vec<u8>>,
}

/// A subject key wrapped under a key-encryption key (ADR 0014): never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The KEK's id.
    pub kek_id: String,
    /// Nonce and ciphertext.
    pub bytes: Vec<u8>,
}

/// One erasure in the erasure log (ADR 0019): who, when, why, how much. No names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRow {
    /// Random id of the erasure.
    pub id: String,
    /// The tenant.
    pub tenant: TenantId,
    /// The subject staff named (a random participant or volunteer id).
    pub subject: String,
    /// The login that erased.
    pub user_id: String,
    /// Reason code (`nabo_core::erasure::ErasureReason`).
    pub reason: String,
    /// When (ms since the epoch).
    pub at: i64,
    /// Participant records marked erased (the person's merge group in every register).
    pub records: i64,
    /// Subject keys destroyed.
    pub keys_destroyed: i64,
    /// Documents changed.
    pub documents: i64,
}

/// Central staff's review of one record (a session's roll call, an outreach contact, a
/// referral, a participant) in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    /// Document.
    pub doc_id: DocumentId,
    /// Record key inside the document (e.g. `session:<id>`).
    pub record: String,
    /// Tenant.
    pub tenant: TenantId,
    /// `reviewed` or `flagged`.
    pub state: String,
    /// The reviewer's comment (flagged records).
    pub comment: String,
    /// What the record looked like when reviewed: a change since shows it again in the queue.
    pub fingerprint: String,
    /// Reviewer (user id).
    pub user_id: String,
    /// When (ms).
    pub at: i64,
}

/// A device (an enrolled phone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Id.
    pub id: String,
    /// User.
    pub user_id: String,
    /// Name given at enrolment.
    pub name: String,
    /// Revoked.
    pub revoked: bool,
    /// When it last reached the relay (a refreshed session, ms); `None` before migration 0028
    /// or if it never has.
    pub last_seen: Option<i64>,
    /// When the phone reported that it wiped its data after a revocation (ms).
    pub wiped: Option<i64>,
}

/// What one relay node tells the others on the same database (ADR 0025). It carries ids
/// only, never content: a node that hears of a document reads the changes from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The document has new stored changes (sent by the transaction that stored them).
    Doc(DocumentId),
    /// The document was rewritten under a new id (ADR 0037): drop it, close its connections.
    Replaced(DocumentId),
    /// Close every connection of this login (disabled).
    CloseUser(String),
    /// Close every connection of this phone (revoked).
    CloseDevice(String),
    /// Close every connection opened with a token of this refresh family (logout, reuse).
    CloseFamily(String),
    /// This login's access changed: re-read it on every connection.
    Reevaluate(String),
}

impl Notice {
    /// The notice as sent by `node`: `<node> <kind> <id>` (a `NOTIFY` payload, far below
    /// PostgreSQL's 8000 bytes: the ids are the relay's own, checked where they were made).
    pub fn encode(&self, node: &str) -> String {
        let (kind, id) = match self {
            Notice::Doc(d) => ("doc", d.to_string()),
            Notice::Replaced(d) => ("replaced", d.to_string()),
            Notice::CloseUser(u) => ("user", u.clone()),
            Notice::CloseDevice(d) => ("device", d.clone()),
            Notice::CloseFamily(f) => ("family", f.clone()),
            Notice::Reevaluate(u) => ("access", u.clone()),
        };
        format!("{node} {kind} {id}")
    }

    /// The sending node and the notice (None for anything else).
    pub fn decode(payload: &str) -> Option<(&str, Notice)> {
        let mut parts = payload.splitn(3, ' ');
        let (node, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
        let notice = match kind {
            "doc" => Notice::Doc(DocumentId::parse(id).ok()?),
            "replaced" => Notice::Replaced(DocumentId::parse(id).ok()?),
            "user" => Notice::CloseUser(id.to_owned()),
            "device" => Notice::CloseDevice(id.to_owned()),
            "family" => Notice::CloseFamily(id.to_owned()),
            "access" => Notice::Reevaluate(id.to_owned()),
            _ => return None,
        };
        Some((node, notice))
    }
}

/// What a node hears from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Another node's notice.
    Notice(Notice),
    /// The connection that listens was lost and is back: notices may have been missed, so
    /// everything loaded must be read again.
    Lost,
}

/// Everything the relay stores.
#[async_trait]
pub trait Storage: PrivacyStorage + Send + Sync + std::fmt::Debug {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    // Documents --------------------------------------------------------------------------

    /// A document's metadata.
    async fn document(&self, id: DocumentId) -> Result<Option<DocMeta>>;
    /// A document by its scope string.
    async fn document_by_scope(&self, scope: &str) -> Result<Option<DocMeta>>;
    /// A tenant's documents.
    async fn documents(&self, tenant: &TenantId) -> Result<Vec<DocMeta>>;
    /// A tenant's documents, each with its stored version (ADR 0028).
    async fn documents_versioned(&self, tenant: &TenantId) -> Result<Vec<(DocMeta, DocVersion)>>;
    /// A relay-wide setting.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Sets a relay-wide setting if it is not set; returns the value that is set.
    async fn init_setting(&self, key: &str, value: &str) -> Result<String>;
    /// Creates a document with its first snapshot, atomically. `Conflict` if the id or the
    /// scope exists.
    async fn create_document(&self, meta: &DocMeta, snapshot: &[u8]) -> Result<()>;
    /// Updates title, area and worker (after a change to the document).
    async fn update_document(&self, meta: &DocMeta) -> Result<()>;
    /// The stored version of a document (None if there is no such document).
    async fn document_version(&self, id: DocumentId) -> Result<Option<i64>>;
    /// Replaces document `old` by `new` (its rewritten content as one snapshot) in one
    /// transaction (ADR 0037): the old document, its chunks and sync states are deleted, its
    /// key links and reviews move to the new id, earlier replacements that led to `old` lead
    /// to `new`, and `replacement` goes on the list. `Conflict` when the old document's
    /// version is no longer `version` (changes were stored meanwhile: rewrite again).
    async fn replace_document(
        &self,
        old: &DocMeta,
        version: i64,
        new: &DocMeta,
        snapshot: &[u8],
        replacement: &Replacement,
    ) -> Result<()>;
    /// The replacement of a document id, if it was replaced.
    async fn replacement(&self, old: DocumentId) -> Result<Option<Replacement>>;
    /// A tenant's replaced documents, oldest first.
    async fn replacements(&self, tenant: &TenantId) -> Result<Vec<Replacement>>;
    /// All stored chunks of a document, snapshot first, in order (concatenated they load).
    async fn chunks(&self, id: DocumentId) -> Result<Vec<Vec<u8>>>;
    /// Appends changes; returns the number of incremental chunks now stored. The other nodes
    /// on the database hear of it when it commits ([`Notice::Doc`]).
    async fn append(&self, id: DocumentId, bytes: &[u8]) -> Result<i64>;
    /// Rewrites the snapshot from the stored chunks and deletes the chunks it contains.
    /// Returns the bytes now stored for the document.
    async fn compact(&self, id: DocumentId) -> Result<usize>;
    /// The saved sync state with a peer's storage.
    async fn sync_state(&self, id: DocumentId, storage_id: &str) -> Result<Option<Vec<u8>>>;
    /// Saves the sync state with a peer's storage.
    async fn put_sync_state(&self, id: DocumentId, storage_id: &str, state: &[u8]) -> Result<()>;

    // Users, devices, tokens ---------------------------------------------------------------

    /// Creates a user.
    async fn insert_user(&self, user: &UserRow, scopes: &Scopes) -> Result<()>;
    /// A user by login name.
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>>;
    /// A user by id.
    async fn user(&self, id: &str) -> Result<Option<UserRow>>;
    /// A tenant's users.
    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRow>>;
    /// A user's scopes.
    async fn scopes(&self, user_id: &str) -> Result<Scopes>;
    /// Replaces a user's scopes.
    async fn set_scopes(&self, user_id: &str, scopes: &Scopes) -> Result<()>;
    /// Disables a user: their refresh tokens are revoked, their live refresh families denied
    /// (access tokens stop at once), their devices revoked.
    async fn disable_user(&self, user_id: &str) -> Result<bool>;
    /// Sets a password hash.
    async fn set_password(&self, user_id: &str, hash: &str) -> Result<()>;
    /// Stores a refresh token (hashed).
    async fn insert_refresh(&self, hash: &str, row: &RefreshRow) -> Result<()>;
    /// A refresh token by hash.
    async fn refresh_token(&self, hash: &str) -> Result<Option<RefreshRow>>;
    /// Rotates a refresh token atomically: marks `old_hash` used (only if it is unused and
    /// not revoked) with its sealed successor, and stores the successor `new_hash`, in one
    /// transaction. Returns false (and changes nothing) if another rotation won.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        now: i64,
        successor: &[u8],
        new_hash: &str,
        new_row: &RefreshRow,
    ) -> Result<bool>;
    /// Revokes a refresh-token family (reuse detected, logout) and refuses its access tokens
    /// until `deny_until` (ms); forgets deny-list entries that have run out.
    async fn revoke_family(&self, family_id: &str, now: i64, deny_until: i64) -> Result<()>;
    /// Whether a family's access tokens are refused at `now`.
    async fn family_denied(&self, family_id: &str, now: i64) -> Result<bool>;
    /// Counts a login attempt for `key` in `minute` (before the password is checked) and
    /// returns the attempts counted for `key` since `since` (inclusive), this one included.
    /// Forgets minutes before `forget_before`.
    async fn count_login_attempt(
        &self,
        key: &str,
        minute: i64,
        since: i64,
        forget_before: i64,
    ) -> Result<i64>;
    /// Takes back an attempt counted in `minute` (the password was right).
    async fn uncount_login_attempt(&self, key: &str, minute: i64) -> Result<()>;
    /// Registers a device.
    async fn insert_device(&self, device: &DeviceRow) -> Result<()>;
    /// A device.
    async fn device(&self, id: &str) -> Result<Option<DeviceRow>>;
    /// A user's devices.
    async fn devices(&self, user_id: &str) -> Result<Vec<DeviceRow>>;
    /// Revokes a device and its tokens.
    async fn revoke_device(&self, id: &str, now: i64) -> Result<bool>;
    /// Records that a device reached the relay at `now` (its session was refreshed).
    async fn device_seen(&self, id: &str, now: i64) -> Result<()>;
    /// Records that a revoked device reported at `now` that it wiped its local data (the
    /// first report counts); false when the device is unknown or not revoked.
    async fn device_wiped(&self, id: &str, now: i64) -> Result<bool>;
    /// Stores an enrolment code (hashed).
    async fn insert_enrolment(
        &self,
        code_hash: &str,
        user_id: &str,
        created_by: &str,
        expires_at: i64,
    ) -> Result<()>;
    /// Redeems an enrolment code once; returns the user.
    async fn redeem_enrolment(&self, code_hash: &str, now: i64) -> Result<Option<String>>;

    /// Changes a user's role (the organisation's identity provider's groups decide it).
    async fn set_role(&self, user_id: &str, role: AppRole) -> Result<()>;
    /// Enables a disabled user (their revoked phones stay revoked: they are invited again).
    async fn enable_user(&self, user_id: &str) -> Result<bool>;
    /// Takes what identifies a person off an erased person's login (issue 11 item 4): the
    /// login name and display name become `username` and `display_name` (no names), the
    /// password goes, and the sealed profile, identity-provider links and one-time links are
    /// deleted. The row stays, so logs that name the login id still resolve to a login.
    async fn anonymise_user(&self, user_id: &str, username: &str, display_name: &str)
    -> Result<()>;

    // Tenants and people (ADR 0017) -------------------------------------------------------

    /// Registers a tenant. `Conflict` if it exists.
    async fn insert_tenant(&self, tenant: &TenantId) -> Result<()>;
    /// Whether a tenant exists.
    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool>;
    /// The tenants, by id.
    async fn tenants(&self) -> Result<Vec<TenantId>>;
    /// Stores a user's sealed profile (replacing it).
    async fn put_profile(&self, user_id: &str, profile: &ProfileRow) -> Result<()>;
    /// A user's sealed profile.
    async fn profile(&self, user_id: &str) -> Result<Option<ProfileRow>>;
    /// Stores a one-time link (hashed); earlier unused links of the same purpose for the
    /// user stop working.
    async fn insert_link(
        &self,
        token_hash: &str,
        user_id: &str,
        purpose: LinkPurpose,
        created_by: Option<&str>,
        expires_at: i64,
    ) -> Result<()>;
    /// A link as stored, used or not (to say why it does not work).
    async fn link(&self, token_hash: &str, purpose: LinkPurpose) -> Result<Option<LinkRow>>;
    /// Uses a link once: returns its user if it was unused and not expired at `now`.
    async fn redeem_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        now: i64,
    ) -> Result<Option<String>>;
    /// Ends a user's sessions without a device (the pages, the API after a password login):
    /// their refresh tokens are revoked and their families denied until their access tokens
    /// have expired. Enrolled phones keep working. Returns the families ended.
    async fn end_sessions(&self, user_id: &str, now: i64) -> Result<Vec<String>>;
    /// Sets (or replaces) a tenant's OpenID Connect provider.
    async fn put_oidc_config(&self, config: &OidcConfigRow) -> Result<()>;
    /// A tenant's OpenID Connect provider.
    async fn oidc_config(&self, tenant: &TenantId) -> Result<Option<OidcConfigRow>>;
    /// Links an identity at a provider to a login. `Conflict` if it is linked already.
    async fn link_identity(&self, identity: &str, user_id: &str, tenant: &TenantId) -> Result<()>;
    /// The login an identity is linked to.
    async fn identity_user(&self, identity: &str) -> Result<Option<String>>;
    /// Stores an authorization request under its state's hash; forgets expired ones.
    async fn insert_oidc_request(&self, state_hash: &str, request: &OidcRequestRow) -> Result<()>;
    /// Takes an authorization request once: returns it if it was unused and not expired.
    async fn take_oidc_request(&self, state_hash: &str, now: i64)
    -> Result<Option<OidcRequestRow>>;

    // Subject keys (ADR 0004, 0011, 0014) ------------------------------------------------------

    /// Stores a wrapped subject key for `doc` unless the subject has a key in `tenant` (a key
    /// is never replaced: that would make everything sealed under the old one unreadable).
    /// Returns whether it was stored.
    async fn insert_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        key: &WrappedKey,
        doc: DocumentId,
    ) -> Result<bool>;
    /// Hands an existing key out for one more document; returns whether that is new.
    async fn link_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        doc: DocumentId,
    ) -> Result<bool>;
    /// A subject's wrapped key in a tenant.
    async fn subject_key(&self, tenant: &TenantId, subject: &str) -> Result<Option<WrappedKey>>;
    /// The wrapped keys of `subjects` stored for `tenant`, as `(subject, key)` in no order;
    /// with `doc`, only the keys uploaded for that document.
    async fn subject_keys(
        &self,
        tenant: &TenantId,
        doc: Option<DocumentId>,
        subjects: &[String],
    ) -> Result<Vec<(String, WrappedKey)>>;
    /// Up to `limit` keys not wrapped under `kek_id` (rotation).
    async fn subject_keys_not_under(
        &self,
        kek_id: &str,
        limit: i64,
    ) -> Result<Vec<(TenantId, String, WrappedKey)>>;
    /// Replaces `old` by `new` if the row still holds `old`; returns whether it did.
    async fn rewrap_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        old: &WrappedKey,
        new: &WrappedKey,
    ) -> Result<bool>;
    /// The KEK ids stored keys are wrapped under.
    async fn subject_key_keks(&self) -> Result<Vec<String>>;
    /// Up to `limit` plain keys of a database from before ADR 0014.
    async fn legacy_subject_keys(&self, limit: i64) -> Result<Vec<(TenantId, String, Vec<u8>)>>;
    /// Stores a legacy key wrapped, for `docs`, and deletes the plain copy, atomically.
    async fn adopt_legacy_subject_key(
        &self,
        tenant: &TenantId,
        subject: &str,
        key: &WrappedKey,
        docs: &[DocumentId],
    ) -> Result<()>;
    /// Deletes a legacy key that cannot be a key (not 32 bytes).
    async fn drop_legacy_subject_key(&self, tenant: &TenantId, subject: &str) -> Result<()>;

    // Erasure (ADR 0019) ------------------------------------------------------------------------

    /// Erases `subjects` of `tenant` in one transaction: deletes their keys (and where they
    /// were handed out), puts them on the erased list, and appends `log` (whose
    /// `keys_destroyed` is filled in). Returns how many keys were destroyed.
    async fn erase_subjects(&self, subjects: &[String], log: &ErasureRow) -> Result<i64>;
    /// Which of `subjects` are on `tenant`'s erased list.
    async fn erased_among(&self, tenant: &TenantId, subjects: &[String]) -> Result<Vec<String>>;
    /// The erasure log of a tenant, newest first.
    async fn erasures(&self, tenant: &TenantId) -> Result<Vec<ErasureRow>>;
    /// Records that `device_id` deleted an erased subject's key; returns whether that is new.
    async fn confirm_erasure(
        &self,
        tenant: &TenantId,
        subject: &str,
        device_id: &str,
        at: i64,
    ) -> Result<bool>;
    /// How many devices confirmed each erased subject of a tenant.
    async fn erasure_confirmations(
        &self,
        tenant: &TenantId,
    ) -> Result<std::collections::HashMap<String, i64>>;
    /// Makes deleted rows unrecoverable from the database files: SQLite checkpoints and
    /// truncates its WAL (deleted cells are zeroed by `secure_delete`); PostgreSQL rewrites the
    /// key tables (`VACUUM FULL`), so the dead rows leave the table files.
    async fn reclaim_erased(&self) -> Result<()>;
    /// Makes the rows of replaced documents unrecoverable from the database files, as
    /// [`Storage::reclaim_erased`] does for keys: SQLite checkpoints and truncates its WAL,
    /// PostgreSQL rewrites the document tables (`VACUUM FULL`) and closes the WAL segment.
    async fn reclaim_documents(&self) -> Result<()>;

    // Review (web pages) ----------------------------------------------------------------------

    /// Sets a record's review state and appends it to the record's review log, atomically.
    async fn put_review(&self, review: &ReviewRow) -> Result<()>;
    /// The current review state of every reviewed record of a tenant.
    async fn reviews(&self, tenant: &TenantId) -> Result<Vec<ReviewRow>>;
    /// A record's review log, oldest first.
    async fn review_log(&self, doc_id: DocumentId, record: &str) -> Result<Vec<ReviewRow>>;

    /// Binds an actor of a tenant to the login (and phone) delivering its first changes,
    /// unless it is bound already; returns the login and phone it is bound to.
    async fn bind_actor(
        &self,
        tenant: &TenantId,
        actor: &str,
        user_id: &str,
        device_id: Option<&str>,
    ) -> Result<(String, Option<String>)>;
    /// A tenant's known actors: actor (hex) → (user, device).
    async fn actors(
        &self,
        tenant: &TenantId,
    ) -> Result<std::collections::HashMap<String, (String, Option<String>)>>;

    // Operations -----------------------------------------------------------------------------

    /// Writes a consistent copy of the database to `path` (SQLite only).
    async fn backup_to(&self, path: &std::path::Path) -> Result<()>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;

    // Several relay nodes on one database (ADR 0025) -------------------------------------------

    /// This process's name in notices (random per start).
    fn node(&self) -> &str;
    /// Tells the other nodes on the database (PostgreSQL `NOTIFY`; SQLite serves one node,
    /// so there is no one to tell). A document's changes are announced by [`Storage::append`]
    /// itself, in the transaction that stores them.
    async fn announce(&self, notice: Notice) -> Result<()>;
    /// The other nodes' notices (None where the database serves one node). The stream says
    /// [`Heard::Lost`] after its connection was lost and came back.
    async fn listen(&self) -> Result<Option<tokio::sync::mpsc::Receiver<Heard>>>;
    /// Closes the pool (graceful shutdown).
    async fn close(&self);
}

/// The current time in milliseconds (`Timestamp::now`: the system clock, or the simulation's).
pub fn now_ms() -> i64 {
    nabo_core::time::Timestamp::now().0
}

/// Opens storage for a database URL: `sqlite://…` or `postgres://…`.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Storage>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(PgStorage::connect(url).await?))
    } else {
        Ok(std::sync::Arc::new(SqliteStorage::connect(url).await?))
    }
}
