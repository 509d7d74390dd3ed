//! Login, token refresh, revocation, and the sync loop with the relay.
//!
//! A sync asks the relay which documents the user may see (`GET /api/v1/documents`), opens one
//! WebSocket, and runs automerge's sync protocol per document with the sync state kept in the
//! local store, so a reconnect costs what changed. Changes received are appended to the store
//! before the new sync state is saved. Documents the user may no longer see are deleted from
//! the phone; documents created offline are offered to the relay, which decides.
//!
//! After a register syncs, its participants' subject keys are shared through the relay
//! (ADR 0011): the phone fetches the keys it lacks (`GET …/subject-keys`) into its encrypted
//! key table and uploads the keys it holds that the relay lacks (`PUT`), e.g. of a child
//! added offline. Stateless: both sides are compared at every sync. A register that is no
//! longer visible is deleted together with its participants' keys.

use crate::http::{Answer, Request};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use automerge::ChangeHash;
use automerge::sync::State;
use nabo_core::client::{Client, SyncEnd};
use nabo_core::prelude::*;
use nabo_core::seal::SubjectKey;
use serde::Deserialize;

use crate::api;
use crate::client::{Account, Inner, RELAY_PEER, lock, parse};
use crate::error::{NaboError, Result};

/// Keys per upload (the relay's limit is 500).
const KEYS_PER_PUT: usize = 200;

#[derive(Deserialize)]
struct TokenOut {
    access_token: String,
    refresh_token: String,
    expires_in: i64,
}

#[derive(Deserialize)]
struct MeOut {
    user_id: String,
    tenant: String,
    role: String,
    display_name: String,
    staff_id: Option<String>,
    volunteer_id: Option<String>,
    device_id: Option<String>,
    areas: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorOut {
    error: String,
    /// A refusal's field and reason (400), with the relay's explanation.
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct DocOut {
    url: String,
}

/// A document the relay rewrote under a new id (ADR 0037).
#[derive(Deserialize)]
struct ReplacedOut {
    old: String,
    new: String,
    /// The old document's change hashes the relay held, 32 bytes each, base64.
    known: String,
}

/// What the rules check this user's edits with on the phone (see `Inner::checks`).
struct Checks {
    editor: nabo_core::rules::Editor,
    catalogue: Catalogue,
    free_text_notes: bool,
    certificates: nabo_core::docs::volunteers::Certificates,
    children: Option<bool>,
}

impl Checks {
    fn ctx(&self) -> nabo_core::rules::Context<'_> {
        nabo_core::rules::Context {
            catalogue: &self.catalogue,
            free_text_notes: self.free_text_notes,
            shifts: self.children.map(|c| nabo_core::rules::ShiftFacts {
                certificates: &self.certificates,
                children_under_15: c,
            }),
        }
    }
}

/// Subject keys as the relay sends and takes them: subject id → base64 (standard) key.
#[derive(Deserialize, serde::Serialize, Default)]
struct KeysOut {
    keys: std::collections::BTreeMap<String, String>,
    /// Participants the relay says were erased (ADR 0019); only in answers.
    #[serde(default, skip_serializing)]
    erased: Vec<String>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn now_ms() -> i64 {
    Timestamp::now().0
}

/// How long opening the sync WebSocket may take: connection, upgrade and join.
const SOCKET_DEADLINE: Duration = Duration::from_secs(20);

/// Maps an HTTP error answer to an error the app can act on. `revoked` tells the caller to
/// wipe.
fn answer_error(r: &Answer) -> NaboError {
    let out = r.json::<ErrorOut>().ok();
    // The relay names the field and the reason of a refusal: the app shows them as they are.
    if let Some(ErrorOut {
        field: Some(field),
        reason: Some(reason),
        message,
        ..
    }) = &out
        && matches!(r.status, 400 | 422)
    {
        return NaboError::invalid(field, reason, message.as_deref().unwrap_or_default());
    }
    let code = out.map(|e| e.error).unwrap_or_default();
    match r.status {
        401 if code == "revoked" || code == "token_reused" => NaboError::Revoked,
        401 => NaboError::Unauthorized {
            detail: match code.as_str() {
                "bad_credentials" => "wrong username or password".into(),
                "" => "not authorised".into(),
                c => c.replace('_', " "),
            },
        },
        403 => NaboError::Forbidden {
            detail: "not allowed for this role".into(),
        },
        404 => NaboError::not_found("resource"),
        400 | 422 => NaboError::invalid("request", "refused", &code),
        429 => NaboError::Offline {
            detail: "too many attempts; try again later".into(),
        },
        _ => NaboError::Offline {
            detail: format!("the relay answered {}", r.status),
        },
    }
}

impl Inner {
    async fn sign_in(&self, t: TokenOut) -> Result<api::UserInfo> {
        // A wipe this phone has not reported yet is reported before a new account starts.
        self.send_wipe_receipt().await?;
        let r = self
            .send(Request::get("/api/v1/me").bearer(&t.access_token))
            .await?;
        if !r.is_success() {
            return Err(answer_error(&r));
        }
        let me: MeOut = r.json()?;
        let previous = lock(&self.account).clone();
        if let Some(old) = previous
            && (old.user_id != me.user_id || old.tenant != me.tenant)
        {
            // Another user on this phone: they must not see the previous user's records.
            self.store.wipe().await?;
        }
        self.wiped.store(false, Ordering::SeqCst);
        let a = Account {
            user_id: me.user_id,
            tenant: me.tenant,
            role: me.role,
            display_name: me.display_name,
            staff_id: me.staff_id,
            volunteer_id: me.volunteer_id,
            device_id: me.device_id,
            areas: me.areas,
            refresh_token: t.refresh_token,
            refresh_retry: None,
        };
        let info = a.info();
        self.save_account(a).await?;
        *lock(&self.access) = Some((t.access_token, now_ms() + t.expires_in * 1000));
        self.reached_relay().await?;
        Ok(info)
    }

    pub(crate) async fn login(&self, username: &str, password: &str) -> Result<api::UserInfo> {
        let r = self
            .send(
                Request::post("/api/v1/auth/login")
                    .json(&serde_json::json!({"username": username, "password": password})),
            )
            .await?;
        if !r.is_success() {
            return Err(answer_error(&r));
        }
        self.sign_in(r.json()?).await
    }

    pub(crate) async fn enrol(&self, code: &str, device_name: &str) -> Result<api::UserInfo> {
        let r = self
            .send(
                Request::post("/api/v1/auth/enrol")
                    .json(&serde_json::json!({"code": code, "device_name": device_name})),
            )
            .await?;
        if !r.is_success() {
            return Err(match answer_error(&r) {
                // An unknown or used code is not a revocation of this device.
                NaboError::Revoked => NaboError::Unauthorized {
                    detail: "the enrolment code is not valid".into(),
                },
                e => e,
            });
        }
        self.sign_in(r.json()?).await
    }

    pub(crate) async fn logout(&self) -> Result<()> {
        let a = self.account()?;
        // Best effort at the relay; locally the session ends either way.
        let _ = self
            .send(
                Request::post("/api/v1/auth/logout")
                    .json(&serde_json::json!({"refresh_token": a.refresh_token})),
            )
            .await;
        *lock(&self.access) = None;
        *lock(&self.account) = None;
        self.store.set_setting("account", b"null").await?;
        Ok(())
    }

    /// A valid access token, refreshing (and rotating the refresh token) when needed. A
    /// revoked device wipes itself.
    async fn access_token(&self, force: bool) -> Result<String> {
        let cached = lock(&self.access).clone();
        if !force
            && let Some((t, exp)) = cached
            && exp > now_ms() + 30_000
        {
            return Ok(t);
        }
        let mut a = self.account()?;
        // The answer may be lost after the relay spent the token (the link drops, the phone is
        // killed): a key stored before asking lets the phone ask again, however much later,
        // and get the new pair instead of being taken for a thief reusing the token.
        let retry_key = match &a.refresh_retry {
            Some(k) => k.clone(),
            None => {
                let k = {
                    use base64::Engine;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(nabo_core::entropy::bytes::<32>())
                };
                a.refresh_retry = Some(k.clone());
                self.save_account(a.clone()).await?;
                k
            }
        };
        let r = self
            .send(
                Request::post("/api/v1/auth/refresh").json(&serde_json::json!({
                    "refresh_token": a.refresh_token,
                    "retry_key": retry_key,
                })),
            )
            .await?;
        if !r.is_success() {
            let e = answer_error(&r);
            if e == NaboError::Revoked {
                self.wipe().await?;
            }
            return Err(e);
        }
        let t: TokenOut = r.json()?;
        // The rotated refresh token is durable before it is used.
        a.refresh_token = t.refresh_token;
        a.refresh_retry = None;
        self.save_account(a).await?;
        *lock(&self.access) = Some((t.access_token.clone(), now_ms() + t.expires_in * 1000));
        self.reached_relay().await?;
        Ok(t.access_token)
    }

    async fn visible_documents(&self) -> Result<Vec<DocumentId>> {
        for attempt in 0..2 {
            let token = self.access_token(attempt > 0).await?;
            let r = self
                .send(Request::get("/api/v1/documents").bearer(&token))
                .await?;
            if r.status == 401 && attempt == 0 {
                continue;
            }
            if !r.is_success() {
                let e = answer_error(&r);
                if e == NaboError::Revoked {
                    self.wipe().await?;
                }
                return Err(e);
            }
            let docs: Vec<DocOut> = r.json()?;
            return Ok(docs
                .iter()
                .filter_map(|d| DocumentId::parse(&d.url).ok())
                .collect());
        }
        Err(NaboError::Unauthorized {
            detail: "the relay refused the session".into(),
        })
    }

    /// A request to the relay (`crate::http`).
    pub(crate) async fn send(&self, req: Request) -> Result<Answer> {
        self.http.send(req).await
    }

    /// An authorised request to the relay, retried once with a refreshed token when the
    /// access token was refused. The caller reads the status.
    pub(crate) async fn authorised(&self, build: impl Fn() -> Request) -> Result<Answer> {
        let mut attempt = 0;
        loop {
            let token = self.access_token(attempt > 0).await?;
            let r = self.send(build().bearer(&token)).await?;
            if r.status == 401 && attempt == 0 {
                attempt += 1;
                continue;
            }
            return Ok(r);
        }
    }

    /// Fetches `GET {relay}{path}` and keeps the answer, read as `T` (so only a well-formed
    /// one), in the store's setting `setting`. A relay without the endpoint (404) leaves what
    /// the phone holds.
    pub(crate) async fn fetch_setting<T>(&self, path: &str, setting: &str) -> Result<()>
    where
        T: serde::de::DeserializeOwned + serde::Serialize,
    {
        let r = self.authorised(|| Request::get(path)).await?;
        match r.status {
            200 => {}
            404 => return Ok(()),
            _ => return Err(self.refused(&r).await?),
        }
        let answer: T = r.json()?;
        let bytes = serde_json::to_vec(&answer).map_err(NaboError::internal)?;
        self.store.set_setting(setting, &bytes).await?;
        Ok(())
    }

    /// Shares the subject keys of the people a document holds labels of (a register's
    /// participants, an outreach log's known persons) with the relay: fetches those this
    /// phone lacks, uploads those the relay lacks. A document the relay does not show this
    /// user (404), or will not take keys for (403), is left alone.
    async fn share_keys(&self, id: DocumentId) -> Result<()> {
        use base64::Engine;
        let Some(doc) = self.store.load(id, nabo_core::entropy::actor()).await? else {
            return Ok(());
        };
        let participants: BTreeSet<String> = subjects_of(doc)?.into_iter().collect();
        if participants.is_empty() {
            return Ok(());
        }
        let path = format!("/api/v1/documents/{id}/subject-keys");
        let r = self.authorised(|| Request::get(path.as_str())).await?;
        match r.status {
            200 => {}
            403 | 404 => return Ok(()),
            _ => return Err(self.refused(&r).await?),
        }
        let remote: KeysOut = r.json()?;
        self.forget_erased(&remote.erased, &participants).await?;
        let mut ring = self.store.key_ring().await?.0;
        let mut fetched = 0;
        for (subject, key) in &remote.keys {
            // Only participants of this register, only well-formed keys, and a key this phone
            // holds is kept (it sealed the label here).
            if !participants.contains(subject) || ring.contains_key(subject) {
                continue;
            }
            let Some(key) = b64()
                .decode(key.as_bytes())
                .ok()
                .and_then(|k| SubjectKey::from_bytes(&k))
            else {
                continue;
            };
            self.store.put_key(subject, &key).await?;
            ring.insert(subject.clone(), key);
            fetched += 1;
        }
        let upload: std::collections::BTreeMap<String, String> = participants
            .iter()
            .filter(|p| !remote.keys.contains_key(*p))
            .filter_map(|p| ring.get(p).map(|k| (p.clone(), b64().encode(k.as_bytes()))))
            .collect();
        let uploaded = upload.len();
        // The relay takes a bounded number per request.
        let batches: Vec<Vec<(String, String)>> = upload
            .into_iter()
            .collect::<Vec<_>>()
            .chunks(KEYS_PER_PUT)
            .map(<[_]>::to_vec)
            .collect();
        for mut batch in batches {
            while !batch.is_empty() {
                let body = KeysOut {
                    keys: batch.iter().cloned().collect(),
                    ..KeysOut::default()
                };
                let r = self
                    .authorised(|| Request::put(path.as_str()).json(&body))
                    .await?;
                match r.status {
                    200 => break,
                    403 | 404 => return Ok(()),
                    _ => {}
                }
                // Someone erased since the keys were read above (found by the simulation,
                // seed 736): the refusal names them. Forget their key as the erased list would
                // have had this phone do, and send the rest.
                let erased = match answer_error(&r) {
                    NaboError::Invalid { field, reason, .. } if reason == "erased" => field
                        .strip_prefix("keys.")
                        .filter(|s| batch.iter().any(|(b, _)| b == s))
                        .map(str::to_owned),
                    _ => None,
                };
                let Some(subject) = erased else {
                    return Err(self.refused(&r).await?);
                };
                self.forget_erased(std::slice::from_ref(&subject), &participants)
                    .await?;
                ring.remove(&subject);
                batch.retain(|(b, _)| *b != subject);
            }
        }
        // The relay holds every participant's key it listed or took (ADR 0031).
        self.keys_held_by_relay(participants.iter().filter(|p| ring.contains_key(*p)))
            .await?;
        if fetched > 0 || uploaded > 0 {
            tracing::info!(doc = %id, fetched, uploaded, "subject keys shared");
        }
        Ok(())
    }

    /// Deletes the keys of erased participants of a register from the store (with the space
    /// they took) and reports to the relay which ones this phone deleted (ADR 0019).
    async fn forget_erased(
        &self,
        erased: &[String],
        participants: &BTreeSet<String>,
    ) -> Result<()> {
        let mut deleted = Vec::new();
        for subject in erased.iter().filter(|s| participants.contains(*s)) {
            if self.store.erase_key(subject).await? {
                deleted.push(subject.clone());
            }
        }
        if deleted.is_empty() {
            return Ok(());
        }
        self.store.reclaim().await?;
        tracing::info!(keys = deleted.len(), "keys of erased people deleted");
        // The relay counts confirmations per enrolled phone; one signed in with a password
        // has no device to confirm for, and its report would only be refused.
        if self.account()?.device_id.is_none() {
            return Ok(());
        }
        let body = serde_json::json!({ "subjects": deleted });
        let r = self
            .authorised(|| Request::post("/api/v1/erasures/confirmations").json(&body))
            .await?;
        if !r.is_success() {
            return Err(self.refused(&r).await?);
        }
        Ok(())
    }

    /// The error of a refused request; a revocation wipes the phone first.
    pub(crate) async fn refused(&self, r: &Answer) -> Result<NaboError> {
        let e = answer_error(r);
        if e == NaboError::Revoked {
            self.wipe().await?;
        }
        Ok(e)
    }

    /// Deletes the keys of the people of document `id` (about to be deleted because the user
    /// may no longer see it), except keys another document kept on the phone needs.
    async fn forget_keys(&self, id: DocumentId, kept: &[DocumentId]) -> Result<usize> {
        let participants = |doc: Option<NaboDoc>| -> Result<Vec<String>> {
            doc.map_or_else(|| Ok(Vec::new()), subjects_of)
        };
        let gone = participants(self.store.load(id, nabo_core::entropy::actor()).await?)?;
        if gone.is_empty() {
            return Ok(0);
        }
        let mut needed = BTreeSet::new();
        for k in kept {
            needed.extend(participants(
                self.store.load(*k, nabo_core::entropy::actor()).await?,
            )?);
        }
        let mut n = 0;
        for subject in gone.iter().filter(|s| !needed.contains(*s)) {
            if self.store.erase_key(subject).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Opens the sync WebSocket and joins, within [`SOCKET_DEADLINE`]: a link that dies
    /// during the upgrade (or a relay that accepts and never answers it) leaves the phone
    /// offline instead of waiting for ever (found by the simulation, seed 52).
    async fn connect(&self, token: &str) -> Result<Client> {
        tokio::time::timeout(SOCKET_DEADLINE, self.open_socket(token))
            .await
            .map_err(|_| NaboError::timed_out())?
    }

    /// Opens the sync WebSocket and joins. With TLS, `wss://` uses the client's own TLS
    /// configuration (its extra roots), and an untrusted certificate is `Untrusted`.
    async fn open_socket(&self, token: &str) -> Result<Client> {
        let url = self.ws_url().await;
        let io = self.http.dial().await?;
        let req = Client::request(&url, token)?;
        let (ws, _) = tokio_tungstenite::client_async(req, io)
            .await
            .map_err(|e| NaboError::Offline {
                detail: format!("websocket: {e}"),
            })?;
        Ok(Client::join(ws, Some(&self.storage_id)).await?)
    }

    async fn ws_url(&self) -> String {
        let base = if let Some(rest) = self.relay.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.relay.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.relay.clone()
        };
        format!("{base}/sync")
    }

    /// Syncs one document. Returns whether the relay sent changes, or `None` when the relay
    /// does not have it (or does not let this user see it).
    async fn sync_doc(&self, c: &mut Client, id: DocumentId) -> Result<Option<bool>> {
        let local = self.store.load(id, nabo_core::entropy::actor()).await?;
        let mut state = match self.store.sync_state(id, RELAY_PEER).await? {
            Some(b) => State::decode(&b).unwrap_or_else(|_| State::new()),
            None => State::new(),
        };
        match local {
            None => {
                let mut am = automerge::Automerge::new();
                match c.sync(id, &mut am, &mut state, true).await? {
                    SyncEnd::Synced => {}
                    SyncEnd::Unavailable => return Ok(None),
                    // Rewritten under a new id (ADR 0037): carried over at the next sync.
                    SyncEnd::Error(e) if nabo_core::wire::replaced_by(&e).is_some() => {
                        return Ok(None);
                    }
                    SyncEnd::Error(e) => return Err(sync_error(e)),
                }
                let doc = NaboDoc::from_automerge(am, nabo_core::entropy::actor())?.with_id(id);
                match self.store.insert(&doc).await {
                    Ok(()) | Err(nabo_core::store::StoreError::Exists(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                self.store
                    .put_sync_state(id, RELAY_PEER, &state.encode())
                    .await?;
                Ok(Some(true))
            }
            Some(mut doc) => {
                let before = doc.heads();
                let end = c.sync(id, doc.automerge_mut(), &mut state, false).await?;
                let after = doc.heads();
                let changed = after != before;
                if changed {
                    // Received changes are durable before the sync state says we have them.
                    self.store.append(id, &doc.save_after(&before)).await?;
                }
                match end {
                    SyncEnd::Synced => {}
                    SyncEnd::Unavailable => return Ok(None),
                    SyncEnd::Error(e) if nabo_core::wire::replaced_by(&e).is_some() => {
                        return Ok(None);
                    }
                    SyncEnd::Error(e) if e.starts_with(REFUSED) => {
                        return self.start_again(id, &e).await.map(Some);
                    }
                    SyncEnd::Error(e) => return Err(sync_error(e)),
                }
                self.store
                    .put_sync_state(id, RELAY_PEER, &state.encode())
                    .await?;
                Ok(Some(changed))
            }
        }
    }

    /// What the rules check this user's edits to document `id` with, as the relay would.
    async fn checks(&self, id: DocumentId) -> Result<Checks> {
        let account = self.account()?;
        let editor = nabo_core::rules::Editor::new(
            parse("role", &account.role)?,
            account.staff_id.as_deref(),
            account.volunteer_id.as_deref(),
        );
        let tenant: TenantId = parse("tenant", &account.tenant)?;
        let (catalogue, free_text_notes) = self.tenant_settings(&tenant).await?;
        let certificates = self.own_certificates(&account).await?;
        let children = self.register_children(&account, &tenant, id).await?;
        Ok(Checks {
            editor,
            catalogue,
            free_text_notes,
            certificates,
            children,
        })
    }

    /// The tenant's documents the relay rewrote under a new id (ADR 0037) that this user may
    /// sync: old id → (new id, the old document's change hashes the relay held).
    async fn replaced_documents(
        &self,
        asked: &[DocumentId],
    ) -> Result<std::collections::BTreeMap<DocumentId, (DocumentId, HashSet<ChangeHash>)>> {
        let mut out = std::collections::BTreeMap::new();
        // The relay takes up to 200 ids a question.
        for part in asked.chunks(200) {
            let list = part
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            out.extend(self.replaced_among(&list).await?);
        }
        Ok(out)
    }

    /// One question about the ids in `list` (comma-separated).
    async fn replaced_among(
        &self,
        list: &str,
    ) -> Result<std::collections::BTreeMap<DocumentId, (DocumentId, HashSet<ChangeHash>)>> {
        let r = self
            .authorised(|| Request::get(format!("/api/v1/documents/replaced?old={list}")))
            .await?;
        if !r.is_success() {
            return Err(self.refused(&r).await?);
        }
        let list: Vec<ReplacedOut> = r.json()?;
        let mut out = std::collections::BTreeMap::new();
        for e in list {
            let (Ok(old), Ok(new)) = (DocumentId::parse(&e.old), DocumentId::parse(&e.new)) else {
                continue;
            };
            let bytes =
                base64::Engine::decode(&b64(), &e.known).map_err(|_| NaboError::Internal {
                    detail: "the relay's list of replaced documents does not decode".into(),
                })?;
            let known = bytes
                .chunks_exact(32)
                .filter_map(|c| <[u8; 32]>::try_from(c).ok().map(ChangeHash))
                .collect();
            out.insert(old, (new, known));
        }
        Ok(out)
    }

    /// Document `old` on this phone was rewritten by the relay as `new` (ADR 0037): fetch the
    /// new document if needed, re-make on it every edit of this phone the relay never saw
    /// (its changes not in `known`), each checked by the rules as this user, and delete the
    /// old copy (its history goes from the store's files: `secure_delete` and a WAL
    /// checkpoint). The carried-over edits go to the relay with the new document's sync.
    /// Returns how many edits were carried over and how many dropped.
    async fn carry_over(
        &self,
        old: DocumentId,
        new: DocumentId,
        known: &HashSet<ChangeHash>,
    ) -> Result<(usize, usize)> {
        if self
            .store
            .load(new, nabo_core::entropy::actor())
            .await?
            .is_none()
        {
            // Fetched on a connection of its own: the sync's connection then syncs the new
            // document once, from the state stored here.
            let token = self.access_token(false).await?;
            let mut c = self.connect(&token).await?;
            c.settle = Duration::from_millis(150);
            if self.sync_doc(&mut c, new).await?.is_none() {
                // Not offered (access withdrawn meanwhile): keep the old copy for now.
                return Ok((0, 0));
            }
        }
        let checks = self.checks(new).await?;
        let _g = self.edit.lock().await;
        let (Some(local), Some(fresh)) = (
            self.store.load(old, nabo_core::entropy::actor()).await?,
            self.store.load(new, nabo_core::entropy::actor()).await?,
        ) else {
            return Ok((0, 0));
        };
        let r = nabo_core::rules::carry_over(
            local.automerge(),
            fresh.automerge().clone(),
            known,
            self.actor.clone(),
            &checks.editor,
            &checks.ctx(),
        );
        if r.replayed > 0 {
            let doc = NaboDoc::from_automerge(r.doc, self.actor.clone())?.with_id(new);
            self.store.replace(&doc).await?;
        }
        self.store.delete(old).await?;
        self.store.reclaim().await?;
        Ok((r.replayed, r.refused.len()))
    }

    /// The relay refused this device's changes to `id` (ADR 0013) and will not take any
    /// change built on them: start again from the relay's copy, re-make on it every pending
    /// edit that passes the rules as this user (`rules::rebase`), replace the stored
    /// document in one transaction, and send what survived. Should the relay refuse again
    /// (access withdrawn meanwhile: its rules are more than the document's), keep the
    /// relay's copy alone. Tells listeners (`ChangeKind::Refused`) either way. The refused
    /// document is closed on the running connection, so this uses one of its own.
    async fn start_again(&self, id: DocumentId, refusal: &str) -> Result<bool> {
        tracing::warn!(doc = %id, refusal, "the relay refused changes of this device; starting again from its copy");
        let token = self.access_token(false).await?;
        let mut c = self.connect(&token).await?;
        c.settle = Duration::from_millis(150);
        let mut remote = automerge::Automerge::new();
        let mut state = State::new();
        match c.sync(id, &mut remote, &mut state, true).await? {
            SyncEnd::Synced => {}
            SyncEnd::Unavailable => {
                return Err(NaboError::Forbidden {
                    detail: format!("{refusal}; the relay no longer offers the document"),
                });
            }
            SyncEnd::Error(e) => return Err(sync_error(e)),
        }
        let checks = self.checks(id).await?;
        let (editor, ctx) = (&checks.editor, checks.ctx());
        let (mut doc, replayed, dropped) = {
            // No local edit may land between reading the pending edits and the replace.
            let _g = self.edit.lock().await;
            let local = self
                .store
                .load(id, nabo_core::entropy::actor())
                .await?
                .ok_or_else(|| NaboError::not_found("document"))?;
            let r = nabo_core::rules::rebase(
                local.automerge(),
                remote.clone(),
                self.actor.clone(),
                editor,
                &ctx,
            );
            let doc = NaboDoc::from_automerge(r.doc, self.actor.clone())?.with_id(id);
            self.store.replace(&doc).await?;
            (doc, r.replayed, r.refused.len())
        };
        let before = doc.heads();
        let detail = match c.sync(id, doc.automerge_mut(), &mut state, false).await? {
            SyncEnd::Synced => {
                if doc.heads() != before {
                    self.store.append(id, &doc.save_after(&before)).await?;
                }
                self.store
                    .put_sync_state(id, RELAY_PEER, &state.encode())
                    .await?;
                format!("{refusal}; {replayed} edits kept, {dropped} dropped")
            }
            SyncEnd::Unavailable => return Ok(true),
            SyncEnd::Error(e) if e.starts_with(REFUSED) => {
                // The relay's copy alone, nothing of ours.
                let _g = self.edit.lock().await;
                let doc = NaboDoc::from_automerge(remote, self.actor.clone())?.with_id(id);
                self.store.replace(&doc).await?;
                format!("{refusal}; then {e}; every pending edit dropped")
            }
            SyncEnd::Error(e) => return Err(sync_error(e)),
        };
        self.emit_detail(api::ChangeKind::Refused, Some(id), Some(detail));
        Ok(true)
    }
}

/// How the relay's answer to a refused change starts (`refused: <record>: <reason> (…)`).
const REFUSED: &str = "refused: ";

fn sync_error(e: String) -> NaboError {
    if e.contains("revoked") {
        NaboError::Revoked
    } else if e.contains("storage unavailable") || e == "no answer" {
        NaboError::Offline { detail: e }
    } else {
        NaboError::Internal { detail: e }
    }
}

pub(crate) async fn sync_now(inner: &Arc<Inner>) -> Result<api::SyncReport> {
    let _g = inner.sync.lock().await;
    lock(&inner.status).syncing = true;
    inner.emit(api::ChangeKind::SyncStatus, None);
    let r = sync_inner(inner).await;
    let r = match r {
        Err(NaboError::Revoked) if !inner.wiped.load(Ordering::SeqCst) => {
            inner.wipe().await?;
            Err(NaboError::Revoked)
        }
        r => r,
    };
    {
        let mut s = lock(&inner.status);
        s.syncing = false;
        match &r {
            Ok(_) => {
                s.last_sync_ms = Some(now_ms());
                s.last_error = None;
            }
            Err(e) => s.last_error = Some(e.to_string()),
        }
    }
    if r.is_ok() {
        inner.reached_relay().await?;
    }
    inner.emit(api::ChangeKind::SyncStatus, None);
    r
}

async fn sync_inner(inner: &Arc<Inner>) -> Result<api::SyncReport> {
    let visible = inner.visible_documents().await?;
    // The volunteer's own certificate as the directory holds it now (ADR 0023).
    inner.fetch_certificate(&inner.account()?).await?;
    // The tenant's device policy (ADR 0031).
    inner.fetch_device_policy().await?;
    let token = inner.access_token(false).await?;
    let mut c = inner.connect(&token).await?;
    c.settle = Duration::from_millis(150);
    let visible_set: BTreeSet<DocumentId> = visible.iter().copied().collect();
    let mut local = inner.store.list().await?;
    let mut carried = 0;
    // Documents the relay rewrote under a new id (ADR 0037): late edits move to the new one.
    let unlisted: Vec<DocumentId> = local
        .iter()
        .map(|d| d.id)
        .filter(|id| !visible_set.contains(id))
        .collect();
    if !unlisted.is_empty() {
        let replaced = inner.replaced_documents(&unlisted).await?;
        for d in &local {
            if let Some((new, known)) = replaced.get(&d.id) {
                let (kept, dropped) = inner.carry_over(d.id, *new, known).await?;
                tracing::info!(old = %d.id, new = %new, kept, dropped, "document rewritten by the relay; edits carried over");
                carried += 1;
                inner.emit_detail(
                    api::ChangeKind::Synced,
                    Some(*new),
                    Some(format!(
                        "rewritten by the relay; {kept} edits carried over, {dropped} dropped"
                    )),
                );
            }
        }
        if carried > 0 {
            local = inner.store.list().await?;
        }
    }
    let mut report = api::SyncReport {
        documents: 0,
        updated: 0,
        removed: carried,
        bytes_sent: 0,
        bytes_received: 0,
    };
    // Everything the user may see, then what this device made offline that the relay does
    // not list yet (a new term's register, a new quarter's outreach log).
    let mut order = visible.clone();
    for d in &local {
        if !visible_set.contains(&d.id) {
            if inner.store.sync_state(d.id, RELAY_PEER).await?.is_some() {
                // Synced before and no longer visible: access was withdrawn. The keys of its
                // participants go with it (unless a register still here needs them).
                let kept: Vec<DocumentId> = local
                    .iter()
                    .filter(|o| o.id != d.id && holds_subjects(o.kind))
                    .filter(|o| visible_set.contains(&o.id))
                    .map(|o| o.id)
                    .collect();
                let erased = inner.forget_keys(d.id, &kept).await?;
                if erased > 0 {
                    tracing::info!(doc = %d.id, erased, "subject keys deleted with the document");
                }
                inner.store.delete(d.id).await?;
                report.removed += 1;
                inner.emit(api::ChangeKind::Synced, Some(d.id));
            } else {
                order.push(d.id);
            }
        }
    }
    let kinds: std::collections::BTreeMap<DocumentId, DocKind> =
        local.iter().map(|d| (d.id, d.kind)).collect();
    for id in order {
        match inner.sync_doc(&mut c, id).await? {
            Some(changed) => {
                // Documents with people's labels; one new to this phone is looked at once.
                if kinds.get(&id).is_none_or(|k| holds_subjects(*k)) {
                    inner.share_keys(id).await?;
                }
                report.documents += 1;
                if changed {
                    report.updated += 1;
                    inner.emit(api::ChangeKind::Synced, Some(id));
                }
            }
            None => {
                tracing::info!(doc = %id, "the relay does not offer this document");
            }
        }
    }
    report.bytes_sent = c.traffic.sent as u64;
    report.bytes_received = c.traffic.received as u64;
    Ok(report)
}

/// Local changes the relay has not confirmed: per document, the changes after the heads
/// both sides last agreed on.
pub(crate) async fn status(inner: &Arc<Inner>) -> Result<api::SyncStatus> {
    let mut pending = 0u64;
    for d in inner.store.list().await? {
        let Some(doc) = inner.store.load(d.id, nabo_core::entropy::actor()).await? else {
            continue;
        };
        let shared = match inner.store.sync_state(d.id, RELAY_PEER).await? {
            Some(b) => State::decode(&b)
                .map(|s| s.shared_heads)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        pending += doc.automerge().get_changes(&shared).len() as u64;
    }
    let names_hidden = inner.names_hidden().await?;
    let s = lock(&inner.status);
    Ok(api::SyncStatus {
        pending_changes: pending,
        last_sync_ms: s.last_sync_ms,
        last_error: s.last_error.clone(),
        syncing: s.syncing,
        auto_sync: lock(&inner.auto).is_some(),
        names_hidden,
    })
}

pub(crate) fn start_auto(inner: &Arc<Inner>, every: Duration) {
    let mut slot = lock(&inner.auto);
    if slot.is_some() {
        return;
    }
    let weak = Arc::downgrade(inner);
    let task = crate::runtime::spawn(async move {
        loop {
            let Some(inner) = weak.upgrade() else { break };
            if let Err(NaboError::Revoked | NaboError::Unauthorized { .. }) = sync_now(&inner).await
            {
                lock(&inner.auto).take();
                break;
            }
            let wake = async {
                inner.wake.notified().await;
                // Let a burst of edits (a roll call) settle into one sync.
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            // Biased: a wake-up and the timer due at once take the wake-up, on every run.
            tokio::select! {
                biased;
                () = wake => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    });
    *slot = Some(task.abort_handle());
}

/// Whether documents of `kind` hold labels sealed with people's keys (ADR 0011).
fn holds_subjects(kind: DocKind) -> bool {
    matches!(kind, DocKind::Register | DocKind::Outreach)
}

/// The subjects whose keys a document's sealed values are sealed with: a register's
/// participants, an outreach log's known persons and its contacts with a note of their own
/// key; nobody in other documents.
fn subjects_of(doc: NaboDoc) -> Result<Vec<String>> {
    Ok(match doc.kind() {
        DocKind::Register => RegisterDoc::from_doc(doc)?.participant_ids(),
        DocKind::Outreach => {
            nabo_core::docs::outreach::OutreachDoc::from_doc(doc)?.subject_ids()?
        }
        _ => Vec::new(),
    })
}
