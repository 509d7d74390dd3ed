//! HTTP: login and tokens, the document list, enrolment and revocation, health, metrics,
//! the OpenAPI description, and the `/sync` WebSocket upgrade.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State, WebSocketUpgrade};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::acl::{Access, Principal, access};
use crate::auth::{Auth, AuthError};
use crate::http::ClientAddr;
use crate::relay::Hub;
use crate::storage::{Scopes, Storage, StorageError};
use crate::vault::Accepted;
use nabo_core::model::AppRole;

/// State shared by the handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The relay.
    pub hub: Arc<Hub>,
    /// Authentication.
    pub auth: Auth,
    /// Storage.
    pub storage: Arc<dyn Storage>,
    /// Where "now" comes from (today's date on the pages, the time of an office edit).
    pub clock: nabo_core::time::Clock,
    /// Subject keys at rest (wrapping under the KEK).
    pub vault: crate::vault::Vault,
    /// The public address and trusted proxies.
    pub site: Arc<crate::http::Site>,
    /// Outgoing mail (activation and reset links).
    pub mail: Arc<crate::mail::Outbox>,
    /// The operator's credential of the admin API.
    pub operator_token: Option<Arc<crate::admin::OperatorToken>>,
    /// Sign-in with the organisations' identity providers.
    pub oidc: Arc<crate::oidc::Oidc>,
    /// The erasure journal beside the database (ADR 0032).
    pub journal: Arc<crate::erasure_journal::Journal>,
}

/// One error type for the HTTP layer: a status, a stable code and a message without
/// personal data. Internal errors are logged, never sent.
#[derive(Debug)]
pub enum AppError {
    /// 400.
    BadRequest(String),
    /// 400 naming the input field and a stable reason code (`not-a-participant`, …), like
    /// the core's validation errors. Field and message never carry personal data.
    Invalid {
        /// The input field (`keys.<subject id>`, `document`).
        field: String,
        /// Stable reason code.
        reason: &'static str,
        /// A short English explanation.
        message: String,
    },
    /// 401.
    Unauthorized(&'static str, String),
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 429.
    TooMany(String),
    /// 503: storage failed; retry.
    Unavailable,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Invalid {
            field,
            reason,
            message,
        } = self
        {
            return (
                StatusCode::BAD_REQUEST,
                Json(ErrorBody {
                    error: "bad_request",
                    message,
                    field: Some(field),
                    reason: Some(reason),
                }),
            )
                .into_response();
        }
        let (status, code, message) = match self {
            AppError::BadRequest(m) | AppError::Invalid { message: m, .. } => {
                (StatusCode::BAD_REQUEST, "bad_request", m)
            }
            AppError::Unauthorized(code, m) => (StatusCode::UNAUTHORIZED, code, m),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "not allowed for this role".into(),
            ),
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no such resource".into(),
            ),
            AppError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m),
            AppError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "storage unavailable; retry".into(),
            ),
        };
        (
            status,
            Json(ErrorBody {
                error: code,
                message,
                field: None,
                reason: None,
            }),
        )
            .into_response()
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage error");
        AppError::Unavailable
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadCredentials => AppError::Unauthorized("bad_credentials", e.to_string()),
            AuthError::BadToken => AppError::Unauthorized("invalid_token", e.to_string()),
            AuthError::Revoked => AppError::Unauthorized("revoked", e.to_string()),
            AuthError::Reused => AppError::Unauthorized("token_reused", e.to_string()),
            AuthError::RateLimited => AppError::TooMany(e.to_string()),
            AuthError::Storage(s) => s.into(),
        }
    }
}

/// The authenticated caller of a REST endpoint (`Authorization: Bearer`).
#[derive(Debug)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthorized(
            "missing_token",
            "an Authorization: Bearer token is required".into(),
        ))?;
        match state.auth.principal(&token).await {
            Ok(v) => Ok(Caller(v.principal)),
            Err(e) => {
                state
                    .hub
                    .metrics
                    .auth_failures
                    .with_label_values(&[auth_label(&e)])
                    .inc();
                Err(e.into())
            }
        }
    }
}

fn auth_label(e: &AuthError) -> &'static str {
    match e {
        AuthError::BadCredentials => "bad_credentials",
        AuthError::BadToken => "invalid_token",
        AuthError::Revoked => "revoked",
        AuthError::Reused => "token_reused",
        AuthError::RateLimited => "rate_limited",
        AuthError::Storage(_) => "storage",
    }
}

/// The token of `Authorization: Bearer …`.
pub(crate) fn bearer(parts: &Parts) -> Option<String> {
    let h = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?;
    Some(t.trim().to_owned())
}

/// The API's routes (merged with the pages' in [`crate::app`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/wiped", post(wiped))
        .route("/api/v1/auth/enrol", post(enrol))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/child-certificate", get(my_certificate))
        .route("/api/v1/me/device-policy", get(device_policy))
        .route("/api/v1/documents", get(documents))
        .route("/api/v1/documents/replaced", get(replaced_documents))
        .route(
            "/api/v1/documents/{id}/subject-keys",
            get(get_subject_keys).put(put_subject_keys),
        )
        .route("/api/v1/enrolments", post(create_enrolment))
        .route("/api/v1/users/{id}/revoke", post(revoke_user))
        .route("/api/v1/users/{id}/scopes", put(set_scopes))
        .route("/api/v1/devices/{id}/revoke", post(revoke_device))
        .route("/sync", get(sync))
        .with_state(state)
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.storage.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ok", "storage": s.storage.backend()})),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "storage unavailable"})),
        )
            .into_response(),
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.hub.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginInput {
    username: String,
    password: String,
}

async fn login(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(i): Json<LoginInput>,
) -> Result<Response, AppError> {
    if i.username.len() > 200 || i.password.len() > 1000 {
        return Err(AppError::BadRequest("username or password too long".into()));
    }
    match s.auth.login(&i.username, &i.password, &client).await {
        Ok(t) => Ok(Json(t).into_response()),
        Err(e) => {
            s.hub
                .metrics
                .auth_failures
                .with_label_values(&[auth_label(&e)])
                .inc();
            Err(e.into())
        }
    }
}

#[derive(Deserialize)]
struct RefreshInput {
    refresh_token: String,
    /// A phone's key for asking again after a lost answer ([`crate::auth::Auth::refresh`]).
    #[serde(default)]
    retry_key: Option<String>,
}

async fn refresh(
    State(s): State<AppState>,
    Json(i): Json<RefreshInput>,
) -> Result<Response, AppError> {
    if let Some(k) = &i.retry_key
        && !crate::auth::valid_retry_key(k)
    {
        return Err(AppError::Invalid {
            field: "retry_key".into(),
            reason: "invalid",
            message: format!(
                "{}–{} characters of base64url or hex",
                crate::auth::RETRY_KEY_LEN.start(),
                crate::auth::RETRY_KEY_LEN.end()
            ),
        });
    }
    match s
        .auth
        .refresh(&i.refresh_token, i.retry_key.as_deref())
        .await
    {
        Ok(t) => Ok(Json(t).into_response()),
        Err(e) => {
            s.hub
                .metrics
                .auth_failures
                .with_label_values(&[auth_label(&e)])
                .inc();
            Err(e.into())
        }
    }
}

async fn logout(
    State(s): State<AppState>,
    Json(i): Json<RefreshInput>,
) -> Result<StatusCode, AppError> {
    s.auth.logout(&i.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/auth/wiped`: a revoked phone reports, with its last refresh token, that it
/// wiped its local data; the relay records when (issue 11 item 6, ADR 0031).
async fn wiped(
    State(s): State<AppState>,
    Json(i): Json<RefreshInput>,
) -> Result<StatusCode, AppError> {
    s.auth.confirm_wipe(&i.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EnrolInput {
    code: String,
    device_name: String,
}

#[derive(Serialize)]
struct EnrolOutput {
    access_token: String,
    refresh_token: String,
    expires_in: i64,
    device_id: String,
    user_id: String,
}

async fn enrol(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(i): Json<EnrolInput>,
) -> Result<Json<EnrolOutput>, AppError> {
    match s.auth.enrol(&i.code, &i.device_name, &client).await {
        Ok((t, device_id, user_id)) => Ok(Json(EnrolOutput {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: t.expires_in,
            device_id,
            user_id,
        })),
        Err(e) => {
            s.hub
                .metrics
                .auth_failures
                .with_label_values(&[auth_label(&e)])
                .inc();
            Err(e.into())
        }
    }
}

#[derive(Serialize)]
struct MeOutput {
    user_id: String,
    tenant: String,
    role: AppRole,
    display_name: String,
    staff_id: Option<String>,
    volunteer_id: Option<String>,
    device_id: Option<String>,
    areas: Vec<String>,
    activities: Vec<String>,
}

async fn me(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<MeOutput>, AppError> {
    let u = s
        .storage
        .user(&p.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(MeOutput {
        user_id: p.user_id,
        tenant: p.tenant.to_string(),
        role: p.role,
        // A volunteer's name is sealed; their own phone may show it.
        display_name: crate::people::display_name(s.storage.as_ref(), &s.vault, &u).await?,
        staff_id: p.staff_id,
        volunteer_id: p.volunteer_id,
        device_id: p.device_id,
        areas: p.scopes.areas,
        activities: p.scopes.activities,
    }))
}

/// `GET /api/v1/me/child-certificate`: the calling volunteer's own current child certificate
/// from the volunteer directory (dates only, never contents), so the phone checks its
/// sign-ups and check-ins offline against the certificate as it is now, not a copy kept in a
/// roster (ADR 0023). A volunteer sees only their own; other callers get `null`.
async fn my_certificate(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let mine = p
        .volunteer_id
        .as_deref()
        .and_then(|v| v.parse::<nabo_core::ids::VolunteerId>().ok());
    let c = match &mine {
        Some(v) => s
            .hub
            .current_certificates(&p.tenant)
            .await?
            .0
            .get(v)
            .copied(),
        None => None,
    };
    Ok(Json(serde_json::json!({
        "child_certificate": c.map(|c| serde_json::json!({
            "obtained": c.obtained.to_string(),
            "renewal_due": c.renewal_due.to_string(),
        })),
    })))
}

/// `GET /api/v1/me/device-policy`: what the tenant asks of its phones (issue 11 item 6, ADR
/// 0031): the number of days a phone may go without reaching the relay before it hides names
/// and forgets the identity keys it can fetch again.
async fn device_policy(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<serde_json::Value>, AppError> {
    let prefs = crate::retention::settings(s.storage.as_ref(), &p.tenant).await?;
    Ok(Json(
        serde_json::json!({ "max_offline_days": prefs.max_offline_days }),
    ))
}

/// A document the caller may sync.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DocumentEntry {
    /// `automerge:<id>`.
    pub url: String,
    /// Kind.
    pub kind: String,
    /// Human title.
    pub title: String,
    /// `read` or `write`.
    pub access: String,
}

async fn documents(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Vec<DocumentEntry>>, AppError> {
    let docs = s.storage.documents(&p.tenant).await?;
    Ok(Json(
        docs.into_iter()
            .filter_map(|m| {
                let a = access(&p, &m);
                (a != Access::None).then(|| DocumentEntry {
                    url: m.id.url(),
                    kind: m.kind.code().into(),
                    title: m.title,
                    access: if a == Access::Write { "write" } else { "read" }.into(),
                })
            })
            .collect(),
    ))
}

/// The most ids one question about replaced documents may name.
pub const MAX_REPLACED_ASKED: usize = 200;

/// `?old=<id>,<id>`: only these old ids (else every replacement).
#[derive(Deserialize, Debug)]
pub struct ReplacedQuery {
    /// Comma-separated document ids, bare or `automerge:` URLs.
    pub old: Option<String>,
}

/// A document the caller may sync that was rewritten under a new id (ADR 0037).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReplacedEntry {
    /// The old id, `automerge:<id>`: never served again.
    pub old: String,
    /// The document that holds its content now, `automerge:<id>`.
    pub new: String,
    /// Why (`erasure`, `retention`).
    pub reason: String,
    /// When (ms since the epoch).
    pub replaced_at: i64,
    /// The change hashes the old document had when it was rewritten (32 bytes each,
    /// concatenated, standard base64): a phone carries over only its changes not among them.
    pub known: String,
}

/// `GET /api/v1/documents/replaced`: the tenant's rewritten documents whose new document the
/// caller may sync. A phone that still holds an old id carries its late edits over to the
/// new one and drops the old copy.
async fn replaced_documents(
    State(s): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<ReplacedQuery>,
) -> Result<Json<Vec<ReplacedEntry>>, AppError> {
    use base64::Engine as _;
    // A phone asks about the ids it holds that are no longer listed: the answer carries each
    // replaced document's hashes, so it stays as small as the question.
    let only: Option<std::collections::HashSet<nabo_core::document::DocumentId>> = match &q.old {
        None => None,
        Some(list) => {
            let ids: Vec<&str> = list.split(',').filter(|x| !x.is_empty()).collect();
            if ids.len() > MAX_REPLACED_ASKED {
                return Err(AppError::Invalid {
                    field: "old".into(),
                    reason: "too-many",
                    message: format!("at most {MAX_REPLACED_ASKED} ids"),
                });
            }
            Some(
                ids.into_iter()
                    .map(|x| {
                        nabo_core::document::DocumentId::parse(x).map_err(|_| AppError::Invalid {
                            field: "old".into(),
                            reason: "malformed",
                            message: "not a document id".into(),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
    };
    let docs: std::collections::HashMap<_, _> = s
        .storage
        .documents(&p.tenant)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    Ok(Json(
        s.storage
            .replacements(&p.tenant)
            .await?
            .into_iter()
            .filter(|r| only.as_ref().is_none_or(|o| o.contains(&r.old)))
            .filter(|r| {
                docs.get(&r.new)
                    .is_some_and(|m| access(&p, m) != Access::None)
            })
            .map(|r| ReplacedEntry {
                old: r.old.url(),
                new: r.new.url(),
                reason: r.reason,
                replaced_at: r.at,
                known: base64::engine::general_purpose::STANDARD
                    .encode(r.known.iter().flat_map(|h| h.0).collect::<Vec<u8>>()),
            })
            .collect(),
    ))
}

// Subject keys (ADR 0004, ADR 0011) ---------------------------------------------------------

/// The most keys one PUT may carry (a register's children for a term fit many times over).
pub const MAX_SUBJECT_KEYS_PER_PUT: usize = 500;

/// Subject keys by subject id, each 32 bytes in standard base64 (with padding).
#[derive(Serialize, Deserialize, Debug, Default)]
pub struct SubjectKeys {
    /// `subject id → base64 key`.
    pub keys: std::collections::BTreeMap<String, String>,
    /// Participants of the register who were erased (ADR 0019): a phone deletes their keys
    /// and confirms (`POST /api/v1/erasures/confirmations`). Only in answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased: Vec<String>,
}

/// What a PUT of subject keys did.
#[derive(Serialize, Deserialize, Debug, Default, PartialEq, Eq)]
pub struct SubjectKeysStored {
    /// Subjects whose key is now stored for this register (new, or the same key already
    /// stored for another register).
    pub stored: Vec<String>,
    /// Subjects whose key was stored for this register already (never replaced).
    pub present: Vec<String>,
    /// Subjects for which the relay holds a different key: nothing changed, and the key is
    /// not handed out for this register.
    #[serde(default)]
    pub conflicting: Vec<String>,
}

fn vault_error(e: crate::vault::VaultError) -> AppError {
    tracing::error!(error = %e, "subject keys could not be read or stored");
    AppError::Unavailable
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The document a subject-key request is about, with the caller's access to it, and the ids
/// of the people whose labels it holds (read from the stored document): a register's
/// participants, an outreach log's known persons (ADR 0011: keys go to exactly those who may
/// read the document) and its contacts that carry a note sealed with their own key. Another
/// tenant's document and one the caller may not see answer
/// exactly like a document that does not exist.
async fn document_subjects(
    s: &AppState,
    p: &Principal,
    id: &str,
    need: Access,
) -> Result<(crate::storage::DocMeta, Vec<String>), AppError> {
    let id = nabo_core::document::DocumentId::parse(id).map_err(|_| AppError::NotFound)?;
    let meta = s.storage.document(id).await?.ok_or(AppError::NotFound)?;
    let a = access(p, &meta);
    if a == Access::None {
        return Err(AppError::NotFound);
    }
    if a < need {
        return Err(AppError::Forbidden);
    }
    use nabo_core::document::DocKind;
    if !matches!(meta.kind, DocKind::Register | DocKind::Outreach) {
        return Err(AppError::Invalid {
            field: "document".into(),
            reason: "no-subjects",
            message: "subject keys are shared for registers and outreach logs only".into(),
        });
    }
    let loaded = crate::relay::doc::load(s.storage.as_ref(), id)
        .await
        .map_err(|e| {
            tracing::error!(doc = %id, error = ?e, "cannot load a register for its subject keys");
            AppError::Unavailable
        })?;
    use nabo_core::document::TypedDoc;
    let subjects = match meta.kind {
        // Known persons, and contacts whose note is sealed with a key of their own (issue
        // 11 item 2): the note's key goes to exactly those who may read the log.
        DocKind::Outreach => nabo_core::docs::outreach::OutreachDoc::from_doc(loaded.doc)
            .and_then(|o| o.subject_ids()),
        _ => nabo_core::docs::register::RegisterDoc::from_doc(loaded.doc)
            .map(|r| r.participant_ids()),
    }
    .map_err(|e| {
        tracing::error!(doc = %id, error = %e, "a stored document does not read as its kind");
        AppError::Unavailable
    })?;
    Ok((meta, subjects))
}

/// `GET /api/v1/documents/{id}/subject-keys`: the keys of the register's participants that
/// the relay holds for the register's tenant, for anyone who may read the register.
async fn get_subject_keys(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<SubjectKeys>, AppError> {
    use base64::Engine;
    let (meta, subjects) = document_subjects(&s, &p, &id, Access::Read).await?;
    let keys = s
        .vault
        .keys(s.storage.as_ref(), &meta.tenant, Some(meta.id), &subjects)
        .await
        .map_err(vault_error)?;
    let erased = s.storage.erased_among(&meta.tenant, &subjects).await?;
    // The keys open the participants' names: one entry for the register, like its sync
    // (ADR 0024); the extract lists it for everyone in the register.
    if !keys.is_empty() {
        crate::access_log::record::<String>(
            &s,
            &p,
            nabo_core::access_log::AccessKind::Read,
            nabo_core::access_log::Purpose::Activity,
            Some(meta.id),
            [],
        )
        .await?;
    }
    tracing::debug!(doc = %meta.id, keys = keys.len(), erased = erased.len(), "subject keys handed out");
    Ok(Json(SubjectKeys {
        keys: keys
            .into_iter()
            .map(|(subject, key)| (subject, b64().encode(key)))
            .collect(),
        erased,
    }))
}

/// `PUT /api/v1/documents/{id}/subject-keys`: stores keys of the register's participants,
/// for anyone who may write the register. All or nothing: a key for a subject that is not a
/// participant, a key that is not 32 bytes, or too many keys refuse the whole request. A key
/// the relay has is never replaced.
async fn put_subject_keys(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Json(i): Json<SubjectKeys>,
) -> Result<Json<SubjectKeysStored>, AppError> {
    use base64::Engine;
    if i.keys.len() > MAX_SUBJECT_KEYS_PER_PUT {
        return Err(AppError::Invalid {
            field: "keys".into(),
            reason: "too-many",
            message: format!("at most {MAX_SUBJECT_KEYS_PER_PUT} keys per request"),
        });
    }
    let (meta, subjects) = document_subjects(&s, &p, &id, Access::Write).await?;
    let subjects: std::collections::BTreeSet<String> = subjects.into_iter().collect();
    let mut keys = Vec::with_capacity(i.keys.len());
    for (subject, key) in &i.keys {
        // A subject id is a random participant id, not personal data (ADR 0004); a subject
        // that is no participant is named only if it is short enough to be an id.
        let field = if subject.len() <= 64 {
            format!("keys.{subject}")
        } else {
            "keys".to_owned()
        };
        if !subjects.contains(subject) {
            return Err(AppError::Invalid {
                field,
                reason: "not-a-participant",
                message: "the subject is not a participant of this register".into(),
            });
        }
        let bytes = b64()
            .decode(key.as_bytes())
            .map_err(|_| AppError::Invalid {
                field: field.clone(),
                reason: "malformed",
                message: "the key is not standard base64".into(),
            })?;
        let Ok(bytes) = <[u8; 32]>::try_from(bytes) else {
            return Err(AppError::Invalid {
                field,
                reason: "out-of-range",
                message: "a subject key is 32 bytes".into(),
            });
        };
        keys.push((subject, bytes));
    }
    // An erased person's key is never taken again (ADR 0019): an offline phone that still
    // holds it cannot bring the name back.
    let named: Vec<String> = keys.iter().map(|(subject, _)| (*subject).clone()).collect();
    if let Some(subject) = s
        .storage
        .erased_among(&meta.tenant, &named)
        .await?
        .into_iter()
        .next()
    {
        return Err(AppError::Invalid {
            field: format!("keys.{subject}"),
            reason: "erased",
            message: "the person was erased; their key is not taken again".into(),
        });
    }
    let mut out = SubjectKeysStored::default();
    for (subject, key) in keys {
        match s
            .vault
            .accept(s.storage.as_ref(), &meta.tenant, meta.id, subject, &key)
            .await
            .map_err(vault_error)?
        {
            Accepted::Stored => out.stored.push(subject.clone()),
            Accepted::Present => out.present.push(subject.clone()),
            Accepted::Conflicting => out.conflicting.push(subject.clone()),
        }
    }
    tracing::info!(doc = %meta.id, stored = out.stored.len(), present = out.present.len(), conflicting = out.conflicting.len(), "subject keys received");
    Ok(Json(out))
}

#[derive(Deserialize)]
struct EnrolmentInput {
    user_id: String,
}

#[derive(Serialize)]
struct EnrolmentOutput {
    code: String,
    expires_at: i64,
}

/// 403 unless the caller is central staff.
pub(crate) fn require_central(p: &Principal) -> Result<(), AppError> {
    if p.role == AppRole::Central {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// A 400 for a code that is none of `codes`, naming the field and listing the codes.
pub(crate) fn unknown_code<'a>(field: &str, codes: impl IntoIterator<Item = &'a str>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        reason: "unknown-code",
        message: format!(
            "one of {}",
            codes.into_iter().collect::<Vec<_>>().join(", ")
        ),
    }
}

async fn tenant_user(
    s: &AppState,
    p: &Principal,
    id: &str,
) -> Result<crate::storage::UserRow, AppError> {
    let u = s.storage.user(id).await?.ok_or(AppError::NotFound)?;
    if u.tenant != p.tenant {
        return Err(AppError::NotFound);
    }
    Ok(u)
}

async fn create_enrolment(
    State(s): State<AppState>,
    Caller(p): Caller,
    Json(i): Json<EnrolmentInput>,
) -> Result<Json<EnrolmentOutput>, AppError> {
    require_central(&p)?;
    let u = tenant_user(&s, &p, &i.user_id).await?;
    if u.disabled {
        return Err(AppError::BadRequest("the user is revoked".into()));
    }
    let (code, expires_at) = s.auth.create_enrolment(&u.id, &p.user_id).await?;
    Ok(Json(EnrolmentOutput { code, expires_at }))
}

async fn revoke_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    require_central(&p)?;
    let u = tenant_user(&s, &p, &id).await?;
    crate::people::close_login(&s, &p, &u).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_device(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let d = s.storage.device(&id).await?.ok_or(AppError::NotFound)?;
    let owner = tenant_user(&s, &p, &d.user_id).await?;
    if p.role != AppRole::Central && owner.id != p.user_id {
        return Err(AppError::Forbidden);
    }
    s.storage
        .revoke_device(&d.id, crate::storage::now_ms())
        .await?;
    s.hub.close_device(&d.id, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ScopesInput {
    #[serde(default)]
    areas: Vec<String>,
    #[serde(default)]
    activities: Vec<String>,
    #[serde(default)]
    programmes: Vec<String>,
}

async fn set_scopes(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Json(i): Json<ScopesInput>,
) -> Result<StatusCode, AppError> {
    require_central(&p)?;
    let u = tenant_user(&s, &p, &id).await?;
    if i.areas.len() + i.activities.len() > 10_000 {
        return Err(AppError::BadRequest("too many scopes".into()));
    }
    s.storage
        .set_scopes(
            &u.id,
            &Scopes {
                areas: i.areas,
                activities: i.activities,
                programmes: i.programmes,
            },
        )
        .await?;
    s.hub.reevaluate_user(&u.id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct SyncQuery {
    access_token: Option<String>,
}

async fn sync(
    State(s): State<AppState>,
    Query(q): Query<SyncQuery>,
    headers: axum::http::HeaderMap,
    slot: Option<axum::Extension<crate::http::ConnSlot>>,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or(q.access_token)
        .ok_or(AppError::Unauthorized(
            "missing_token",
            "a token is required (Authorization header or access_token)".into(),
        ))?;
    let verified = match s.auth.principal(&token).await {
        Ok(v) => v,
        Err(e) => {
            s.hub
                .metrics
                .auth_failures
                .with_label_values(&[auth_label(&e)])
                .inc();
            return Err(e.into());
        }
    };
    let limits = s.hub.limits.clone();
    if s.hub.connections_of(&verified.principal.user_id) >= limits.max_connections_per_user {
        s.hub
            .metrics
            .limit_violations
            .with_label_values(&["connections_per_user"])
            .inc();
        return Err(AppError::TooMany(format!(
            "too many connections for this user (limit {})",
            limits.max_connections_per_user
        )));
    }
    let hub = s.hub.clone();
    Ok(ws
        // Small buffers: memory per idle connection matters more than throughput per socket.
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(limits.max_message_bytes + 1024)
        .max_frame_size(limits.max_message_bytes + 1024)
        .on_upgrade(move |socket| async move {
            // The socket keeps its place under the connection cap while it lives.
            let _slot = slot;
            crate::relay::conn::serve(
                hub,
                socket,
                verified.principal,
                verified.expires,
                verified.family,
            )
            .await;
        }))
}
