//! Tenants and people (ADR 0017): the one set of operations that creates a tenant with its
//! first central administrator, creates staff logins and volunteers, issues one-time
//! activation and password-reset links, sets passwords under the password rules, and disables
//! and re-enables logins. The command line (`nabo-server tenant create`), the operator's admin
//! API, the API for central staff, the pages and the demo all call these functions — there is
//! no other way a user is made.
//!
//! Personal data: a staff member's name is in the staff directory as before (staff act in
//! their job, ADR 0004); contact details (e-mail, phone) and a volunteer's name are sealed
//! with the person's own subject key (`nabo_core::seal`), whose wrapped copy is in the relay's
//! key table (ADR 0014). Nothing identifying is kept in a plain-text column: a volunteer's
//! login shows a pseudonym (`Frivillig 1a2b`) where a name column is needed.

use std::sync::Arc;

use nabo_core::docs::staff::StaffDoc;
use nabo_core::docs::tenant::{Settings, TenantDoc};
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::document::{Author, DocKind, NaboDoc, Scope, TypedDoc};
use nabo_core::ids::{ActivityId, Code, StaffId, TenantId, VolunteerId};
use nabo_core::model::staff::StaffMember;
use nabo_core::model::volunteer::{Engagement, Volunteer};
use nabo_core::model::{AppRole, By, IdMap, VolunteerSource, VolunteerStatus};
use nabo_core::seal::{SubjectKey, open, seal};
use nabo_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::acl::Principal;
use crate::api::AppState;
use crate::auth::passwords::Passwords;
use crate::auth::{hash_secret, random_token};
use crate::relay::{EditError, Hub};
use crate::storage::{
    DocMeta, LinkPurpose, ProfileRow, Scopes, Storage, StorageError, UserRow, now_ms,
};
use crate::vault::Vault;

/// An activation link works for 72 hours (a weekend between sending and opening it).
pub const ACTIVATION_TTL_MS: i64 = 72 * 3600 * 1000;
/// A password-reset link works for 2 hours.
pub const RESET_TTL_MS: i64 = 2 * 3600 * 1000;

/// A refusal: which field, a stable reason code and a Danish explanation (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The input field (API name: `username`, `email`, `password`, …).
    pub field: &'static str,
    /// Stable reason code (`taken`, `too-short`, `breached`, …).
    pub reason: &'static str,
    /// What is wrong, in Danish, naming the field.
    pub message: String,
}

impl Refusal {
    fn new(field: &'static str, reason: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            field,
            reason,
            message: message.into(),
        }
    }
}

/// Why an operation on people did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// The input is refused (400 on the API, the form again with the message on a page).
    #[error("refused: {} {}", .0.field, .0.reason)]
    Refused(Refusal),
    /// No such user, tenant or link in this tenant.
    #[error("not found")]
    NotFound,
    /// Storage failed; nothing was changed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A document or key could not be written or read.
    #[error("{0}")]
    Internal(String),
}

impl From<EditError> for PeopleError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::Storage(s) => PeopleError::Storage(s),
            EditError::Domain(nabo_core::Error::Invalid(i)) => PeopleError::Refused(Refusal {
                field: i.field,
                reason: "invalid",
                message: format!(
                    "Feltet «{}» blev afvist: {}.",
                    i.field,
                    crate::web::fmt::reason_da(i.reason)
                ),
            }),
            other => PeopleError::Internal(other.to_string()),
        }
    }
}

impl From<nabo_core::Error> for PeopleError {
    fn from(e: nabo_core::Error) -> Self {
        EditError::Domain(e).into()
    }
}

impl From<crate::vault::VaultError> for PeopleError {
    fn from(e: crate::vault::VaultError) -> Self {
        match e {
            crate::vault::VaultError::Storage(s) => PeopleError::Storage(s),
            other => PeopleError::Internal(other.to_string()),
        }
    }
}

/// Result of people operations.
pub type Result<T, E = PeopleError> = std::result::Result<T, E>;

fn refused<T>(field: &'static str, reason: &'static str, message: impl Into<String>) -> Result<T> {
    Err(PeopleError::Refused(Refusal::new(field, reason, message)))
}

/// How documents are changed: on storage alone (the command line and the demo, before the
/// relay serves), or through the running relay's document tasks so connected phones get the
/// change at once (`Hub::edit`).
#[derive(Clone)]
pub enum Docs<'a> {
    /// Directly in storage.
    Storage,
    /// Through the relay, as made by a sender (checked by the rules, ADR 0013).
    Relay(&'a Arc<Hub>, crate::relay::Sender),
}

impl std::fmt::Debug for Docs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Docs::Storage => "Docs::Storage",
            Docs::Relay(..) => "Docs::Relay",
        })
    }
}

/// What the operations work with.
#[derive(Clone)]
pub struct People<'a> {
    /// Storage.
    pub storage: &'a dyn Storage,
    /// The KEK (subject keys, the OIDC client secret).
    pub vault: &'a Vault,
    /// How documents are changed.
    pub docs: Docs<'a>,
    /// Who acts (the author of document changes).
    pub by: By,
    /// When (the clock of the caller).
    pub at: Timestamp,
}

impl std::fmt::Debug for People<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "People({:?})", self.docs)
    }
}

/// Contact details, sealed in the profile (with a volunteer's name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// A volunteer's name (a staff member's is in the staff directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A new staff login (central, outreach or board).
#[derive(Debug, Clone, Default)]
pub struct NewStaff {
    /// Name (required).
    pub name: String,
    /// Job title, free text (`Programleder`, `Gadeplansmedarbejder`).
    pub title: String,
    /// Central, outreach or board.
    pub role: Option<AppRole>,
    /// Login name; made from the e-mail or the name when empty.
    pub username: String,
    /// E-mail (where the activation link goes).
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Programmes, areas and activities.
    pub scopes: Scopes,
    /// A fixed user id (the demo); random otherwise.
    pub user_id: Option<String>,
    /// A fixed staff id (the demo); random otherwise.
    pub staff_id: Option<StaffId>,
}

/// A new volunteer (frivillig) with a login for the phone (enrolled with a code).
#[derive(Debug, Clone)]
pub struct NewVolunteer {
    /// Name (required; sealed).
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Resident volunteer, from a national organisation, or other.
    pub source: VolunteerSource,
    /// Lives in one of the areas.
    pub resident: bool,
    /// The activities they help at (their login's scope and an engagement each).
    pub activities: Vec<ActivityId>,
    /// Their role there (vocabulary `volunteer_roles`).
    pub role: Code,
    /// A fixed login name (the demo); generated otherwise.
    pub username: Option<String>,
    /// A fixed user id (the demo).
    pub user_id: Option<String>,
    /// A fixed volunteer id (the demo).
    pub volunteer_id: Option<VolunteerId>,
}

/// A login that was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// User id.
    pub user_id: String,
    /// Login name.
    pub username: String,
}

/// A one-time link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The full address to open.
    pub url: String,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// Whether it was also sent by mail.
    pub mailed: bool,
}

/// Why a link does not work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// No such link.
    Unknown,
    /// Used already.
    Used,
    /// Past its time.
    Expired,
}

impl LinkProblem {
    /// A stable reason code.
    pub fn code(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "unknown",
            LinkProblem::Used => "used",
            LinkProblem::Expired => "expired",
        }
    }

    /// In Danish.
    pub fn da(self) -> &'static str {
        match self {
            LinkProblem::Unknown => {
                "Linket findes ikke. Tjek, at hele linket kom med, eller bed om et nyt."
            }
            LinkProblem::Used => {
                "Linket er allerede brugt. Et link virker kun én gang – bed om et nyt, hvis du ikke kan logge ind."
            }
            LinkProblem::Expired => "Linket er udløbet. Bed den, der oprettede dig, om et nyt.",
        }
    }
}

/// A tenant id from a name: lower case, Danish letters spelled out, dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        match c {
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}

fn check_name(name: &str) -> Result<()> {
    let n = name.trim();
    if n.is_empty() {
        return refused("name", "missing", "Navn mangler.");
    }
    if n.chars().count() > 200 || n.chars().any(char::is_control) {
        return refused("name", "too-long", "Navnet må højst have 200 tegn.");
    }
    Ok(())
}

fn check_contact(email: &str, phone: &str) -> Result<()> {
    if !email.is_empty() && !crate::mail::valid_address(email) {
        return refused(
            "email",
            "malformed",
            "E-mail er ikke en gyldig e-mailadresse (fx navn@organisation.dk).",
        );
    }
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !phone.is_empty()
        && (!phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-'))
            || !(8..=15).contains(&digits))
    {
        return refused(
            "phone",
            "malformed",
            "Telefon skal være 8 cifre (eller et nummer med landekode, fx +45 12 34 56 78).",
        );
    }
    Ok(())
}

/// A login name as typed: lower case; letters, digits, `.`, `_`, `-`; 3–64 characters.
pub fn check_username(u: &str) -> Result<String> {
    let u = u.trim().to_lowercase();
    if !(3..=64).contains(&u.chars().count())
        || !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return refused(
            "username",
            "malformed",
            "Brugernavnet skal have 3–64 tegn: små bogstaver a–z, tal, punktum, bindestreg eller understregning.",
        );
    }
    Ok(u)
}

/// Proposes a login name from an e-mail or a name (`mette.sorensen`), free in the store.
async fn free_username(storage: &dyn Storage, email: &str, name: &str) -> Result<String> {
    let base = email
        .split_once('@')
        .map(|(l, _)| l.to_owned())
        .filter(|l| l.chars().count() >= 3)
        .unwrap_or_else(|| slug(name).replace('-', "."));
    let mut base: String = base
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(40)
        .collect();
    if base.len() < 3 {
        base = format!("bruger{base}");
    }
    for n in 0..50 {
        let candidate = if n == 0 {
            base.clone()
        } else {
            format!("{base}{}", n + 1)
        };
        if storage.user_by_username(&candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Ok(format!("{base}.{}", &random_token()[..6].to_lowercase()))
}

fn author(p: &People<'_>) -> Author {
    Author {
        by: p.by.clone(),
        at: p.at,
    }
}

async fn store_new(storage: &dyn Storage, doc: &NaboDoc) -> Result<()> {
    let meta = crate::meta::derive(doc, storage).await?;
    storage.create_document(&meta, &doc.save()).await?;
    Ok(())
}

/// The metadata of a tenant's staff or volunteer directory.
async fn directory(storage: &dyn Storage, tenant: &TenantId, kind: DocKind) -> Result<DocMeta> {
    let scope = match kind {
        DocKind::Staff => Scope::Staff {
            tenant: tenant.clone(),
        },
        DocKind::Volunteers => Scope::Volunteers {
            tenant: tenant.clone(),
        },
        _ => Scope::Tenant {
            tenant: tenant.clone(),
        },
    };
    // By scope, not by the derived id: a rewritten directory has a new id (ADR 0037).
    storage
        .document_by_scope(&scope.to_string())
        .await?
        .ok_or(PeopleError::NotFound)
}

/// Edits a document: through the relay when it runs, else in storage.
pub async fn edit<D: TypedDoc, T>(
    p: &People<'_>,
    meta: &DocMeta,
    f: impl FnOnce(&mut D) -> nabo_core::Result<T>,
) -> Result<T> {
    match &p.docs {
        Docs::Relay(hub, sender) => Ok(hub.edit_as(meta, sender.clone(), f).await?),
        Docs::Storage => {
            let loaded = crate::relay::doc::load(p.storage, meta.id)
                .await
                .map_err(EditError::from)?;
            let mut typed = D::from_doc(loaded.doc)?;
            let out = f(&mut typed)?;
            let bytes = typed.doc().save_after(&loaded.stored_heads);
            if !bytes.is_empty() {
                p.storage.append(meta.id, &bytes).await?;
            }
            Ok(out)
        }
    }
}

/// Input of a new tenant.
#[derive(Debug, Clone, Default)]
pub struct NewTenant {
    /// The tenant's id; from the name when `None`.
    pub id: Option<String>,
    /// The organisation's name (`Boligsocial Vestbyen`).
    pub name: String,
    /// Its first central administrator.
    pub admin: NewStaff,
}

/// Creates a tenant: its tenant document, empty staff and volunteer directories, and its
/// first central administrator (without a password: an activation link follows).
pub async fn create_tenant(p: &People<'_>, t: NewTenant) -> Result<(TenantId, Created)> {
    let name = t.name.trim();
    if name.is_empty() {
        return refused("name", "missing", "Organisationens navn mangler.");
    }
    if name.chars().count() > 200 {
        return refused(
            "name",
            "too-long",
            "Organisationens navn må højst have 200 tegn.",
        );
    }
    let id = t.id.unwrap_or_else(|| slug(name));
    let tenant: TenantId = match id.parse() {
        Ok(t) if !id.is_empty() => t,
        _ => {
            return refused(
                "id",
                "malformed",
                "Organisationens id må kun have bogstaver a–z, tal og bindestreg (højst 64 tegn).",
            );
        }
    };
    let mut admin = t.admin;
    admin.role = Some(AppRole::Central);
    if admin.email.trim().is_empty() {
        return refused(
            "admin_email",
            "missing",
            "Administratorens e-mail mangler (aktiveringslinket sendes dertil).",
        );
    }
    check_contact(admin.email.trim(), "")?;
    if admin.name.trim().is_empty() {
        admin.name = admin.email.trim().to_owned();
    }
    check_name(&admin.name)?;
    match p.storage.insert_tenant(&tenant).await {
        Ok(()) => {}
        Err(StorageError::Conflict) => {
            return refused(
                "id",
                "taken",
                "Der findes allerede en organisation med det id.",
            );
        }
        Err(e) => return Err(e.into()),
    }
    let staff_id = admin.staff_id.clone().unwrap_or_else(StaffId::random);
    admin.staff_id = Some(staff_id.clone());
    let by = Author {
        by: By::Staff(staff_id.clone()),
        at: p.at,
    };
    let tdoc = TenantDoc::create(
        tenant.clone(),
        nabo_core::entropy::actor(),
        &by,
        Settings {
            name: name.to_owned(),
            ..Settings::default()
        },
    )?;
    store_new(p.storage, tdoc.doc()).await?;
    store_new(
        p.storage,
        StaffDoc::create(tenant.clone(), nabo_core::entropy::actor())?.doc(),
    )
    .await?;
    store_new(
        p.storage,
        VolunteersDoc::create(tenant.clone(), nabo_core::entropy::actor())?.doc(),
    )
    .await?;
    // The administrator's own record is signed by them; through the relay the rules then see
    // the operator acting as that staff member.
    let docs = match &p.docs {
        Docs::Relay(hub, sender) => Docs::Relay(
            hub,
            crate::relay::Sender {
                editor: nabo_core::rules::Editor {
                    staff: Some(staff_id.clone()),
                    ..sender.editor.clone()
                },
                ..sender.clone()
            },
        ),
        Docs::Storage => Docs::Storage,
    };
    let p = People {
        by: by.by.clone(),
        docs,
        ..p.clone()
    };
    let created = create_staff(&p, &tenant, admin).await?;
    tracing::info!(tenant = %tenant, "tenant created");
    Ok((tenant, created))
}

/// Creates a staff login (central, outreach or board) in `tenant`, without a password. Central
/// and outreach staff get a record in the staff directory; board members only a login.
pub async fn create_staff(p: &People<'_>, tenant: &TenantId, s: NewStaff) -> Result<Created> {
    check_name(&s.name)?;
    let name = s.name.trim().to_owned();
    let title = s.title.trim().to_owned();
    if title.chars().count() > 200 {
        return refused("title", "too-long", "Stillingen må højst have 200 tegn.");
    }
    let role = match s.role {
        Some(r @ (AppRole::Central | AppRole::Outreach | AppRole::Board)) => r,
        Some(AppRole::Volunteer) => {
            return refused(
                "role",
                "not-allowed",
                "Rolle: frivillige oprettes som frivillige, ikke som medarbejdere.",
            );
        }
        None => return refused("role", "missing", "Vælg en rolle."),
    };
    let (email, phone) = (s.email.trim().to_owned(), s.phone.trim().to_owned());
    check_contact(&email, &phone)?;
    let username = if s.username.trim().is_empty() {
        free_username(p.storage, &email, &name).await?
    } else {
        let u = check_username(&s.username)?;
        if p.storage.user_by_username(&u).await?.is_some() {
            return refused(
                "username",
                "taken",
                "Brugernavnet er allerede i brug. Vælg et andet.",
            );
        }
        u
    };
    let user_id = s
        .user_id
        .clone()
        .unwrap_or_else(|| format!("u-{}", nabo_core::ids::random_id()));
    let staff_dir = directory(p.storage, tenant, DocKind::Staff).await?;
    let staff_id = match role {
        AppRole::Board => None,
        _ => Some(s.staff_id.clone().unwrap_or_else(StaffId::random)),
    };
    if let Some(sid) = &staff_id {
        let member = StaffMember {
            name: name.clone(),
            title: title.clone(),
            employer: None,
            app_role: role,
            placements: IdMap::new(),
            active: true,
            left: None,
            erased: None,
        };
        let by = author(p);
        let sid2 = sid.clone();
        edit(p, &staff_dir, move |d: &mut StaffDoc| {
            d.put_staff(&by, &sid2, member)
        })
        .await?;
    }
    let subject = staff_id
        .as_ref()
        .map_or_else(|| user_id.clone(), |s| s.to_string());
    let row = UserRow {
        id: user_id.clone(),
        tenant: tenant.clone(),
        username: username.clone(),
        display_name: name.clone(),
        password_hash: None,
        role,
        staff_id: staff_id.map(|s| s.to_string()),
        volunteer_id: None,
        disabled: false,
    };
    insert_user(p.storage, &row, &s.scopes).await?;
    let profile = Profile {
        name: None,
        email: (!email.is_empty()).then_some(email),
        phone: (!phone.is_empty()).then_some(phone),
    };
    put_profile(p, tenant, &user_id, &subject, staff_dir.id, &profile).await?;
    Ok(Created { user_id, username })
}

async fn insert_user(storage: &dyn Storage, row: &UserRow, scopes: &Scopes) -> Result<()> {
    match storage.insert_user(row, scopes).await {
        Ok(()) => Ok(()),
        Err(StorageError::Conflict) => refused(
            "username",
            "taken",
            "Brugernavnet er allerede i brug. Vælg et andet.",
        ),
        Err(e) => Err(e.into()),
    }
}

/// Seals a profile with the subject's key (made and stored wrapped the first time).
async fn put_profile(
    p: &People<'_>,
    tenant: &TenantId,
    user_id: &str,
    subject: &str,
    doc: nabo_core::document::DocumentId,
    profile: &Profile,
) -> Result<()> {
    let key = subject_key(p, tenant, subject, doc).await?;
    let json = serde_json::to_string(profile).map_err(|e| PeopleError::Internal(e.to_string()))?;
    let sealed = seal(&key, subject, &json)?;
    p.storage
        .put_profile(
            user_id,
            &ProfileRow {
                subject: subject.to_owned(),
                sealed: sealed.0,
            },
        )
        .await?;
    Ok(())
}

/// A subject's key: the stored one, or a new one stored (wrapped) for `doc`.
async fn subject_key(
    p: &People<'_>,
    tenant: &TenantId,
    subject: &str,
    doc: nabo_core::document::DocumentId,
) -> Result<SubjectKey> {
    if let Some(w) = p.storage.subject_key(tenant, subject).await? {
        let raw = p.vault.unwrap(tenant, subject, &w)?;
        return SubjectKey::from_bytes(&raw).ok_or_else(|| PeopleError::Internal("key".into()));
    }
    let key = SubjectKey::generate();
    p.vault
        .accept(p.storage, tenant, doc, subject, key.as_bytes())
        .await?;
    Ok(key)
}

/// Creates a volunteer: the record in the volunteer directory (name sealed), an engagement
/// per activity, and a login for the phone scoped to those activities (no password: the
/// phone enrols with a one-time code).
pub async fn create_volunteer(
    p: &People<'_>,
    tenant: &TenantId,
    catalogue: &nabo_core::catalogue::Catalogue,
    v: NewVolunteer,
) -> Result<Created> {
    check_name(&v.name)?;
    let (email, phone) = (v.email.trim().to_owned(), v.phone.trim().to_owned());
    check_contact(&email, &phone)?;
    let vid = v.volunteer_id.clone().unwrap_or_else(VolunteerId::random);
    let user_id = v
        .user_id
        .clone()
        .unwrap_or_else(|| format!("u-{}", nabo_core::ids::random_id()));
    let username = match &v.username {
        Some(u) => check_username(u)?,
        None => format!("frivillig-{}", &nabo_core::ids::random_id()[..10]),
    };
    let dir = directory(p.storage, tenant, DocKind::Volunteers).await?;
    let key = subject_key(p, tenant, vid.as_str(), dir.id).await?;
    let record = Volunteer {
        name: Some(seal(&key, vid.as_str(), v.name.trim())?),
        source: v.source,
        source_org: None,
        status: VolunteerStatus::Active,
        joined: p.at.date_dk(),
        resident: v.resident,
        child_certificate: None,
        trainings: IdMap::new(),
        erased: None,
    };
    let by = author(p);
    let (vid2, acts, role, start) = (
        vid.clone(),
        v.activities.clone(),
        v.role.clone(),
        p.at.date_dk(),
    );
    edit(p, &dir, move |d: &mut VolunteersDoc| {
        d.put_volunteer(&by, &vid2, record)?;
        for a in acts {
            d.engage(
                &by,
                catalogue,
                Engagement {
                    volunteer: vid2.clone(),
                    activity: a,
                    role: role.clone(),
                    start,
                    end: None,
                },
            )?;
        }
        Ok(())
    })
    .await?;
    let row = UserRow {
        id: user_id.clone(),
        tenant: tenant.clone(),
        username: username.clone(),
        display_name: pseudonym(vid.as_str()),
        password_hash: None,
        role: AppRole::Volunteer,
        staff_id: None,
        volunteer_id: Some(vid.to_string()),
        disabled: false,
    };
    let scopes = Scopes {
        activities: v.activities.iter().map(ToString::to_string).collect(),
        ..Scopes::default()
    };
    insert_user(p.storage, &row, &scopes).await?;
    let profile = Profile {
        name: Some(v.name.trim().to_owned()),
        email: (!email.is_empty()).then_some(email),
        phone: (!phone.is_empty()).then_some(phone),
    };
    put_profile(p, tenant, &user_id, vid.as_str(), dir.id, &profile).await?;
    Ok(Created { user_id, username })
}

/// What an erased staff member's login shows instead of their login name and name: the
/// login id's, which the logs already hold.
pub fn erased_login(user_id: &str) -> (String, String) {
    (
        format!("slettet-{user_id}"),
        "Slettet medarbejder".to_owned(),
    )
}

/// The name a volunteer's login shows where a column needs one: not their name.
pub fn pseudonym(volunteer_id: &str) -> String {
    let n = volunteer_id.chars().count();
    let tail: String = volunteer_id.chars().skip(n.saturating_sub(4)).collect();
    format!("Frivillig {tail}")
}

/// A user's profile, opened with their subject key. `None` when there is none or the key is
/// gone (erased).
pub async fn profile(
    storage: &dyn Storage,
    vault: &Vault,
    user: &UserRow,
) -> Result<Option<Profile>> {
    let Some(row) = storage.profile(&user.id).await? else {
        return Ok(None);
    };
    let Some(w) = storage.subject_key(&user.tenant, &row.subject).await? else {
        return Ok(None);
    };
    let raw = vault.unwrap(&user.tenant, &row.subject, &w)?;
    let Some(key) = SubjectKey::from_bytes(&raw) else {
        return Ok(None);
    };
    let Ok(json) = open(&key, &row.subject, &nabo_core::model::Sealed(row.sealed)) else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&json).ok())
}

/// The name to show for a user: a volunteer's from their sealed profile, else the login's.
pub async fn display_name(storage: &dyn Storage, vault: &Vault, user: &UserRow) -> Result<String> {
    if user.volunteer_id.is_some()
        && let Some(n) = profile(storage, vault, user).await?.and_then(|p| p.name)
    {
        return Ok(n);
    }
    Ok(user.display_name.clone())
}

/// A user of `tenant` (another tenant's users answer "not found").
pub async fn tenant_user(storage: &dyn Storage, tenant: &TenantId, id: &str) -> Result<UserRow> {
    match storage.user(id).await? {
        Some(u) if &u.tenant == tenant => Ok(u),
        _ => Err(PeopleError::NotFound),
    }
}

/// Issues a one-time link for `user` at `origin` (`https://nabo.example.dk`) and mails it
/// when an outbox is configured and the user has an e-mail. The token is in the query (never
/// in a logged path).
pub async fn issue_link(
    p: &People<'_>,
    mail: &crate::mail::Outbox,
    user: &UserRow,
    purpose: LinkPurpose,
    created_by: Option<&str>,
    origin: &str,
) -> Result<Link> {
    if user.disabled {
        return refused(
            "user",
            "disabled",
            "Brugeren er spærret. Genaktivér brugeren først.",
        );
    }
    let token = random_token();
    let (ttl, path) = match purpose {
        LinkPurpose::Activate => (ACTIVATION_TTL_MS, "aktiver"),
        LinkPurpose::Reset => (RESET_TTL_MS, "ny-adgangskode"),
    };
    let expires_at = now_ms() + ttl;
    p.storage
        .insert_link(
            &hash_secret(&token),
            &user.id,
            purpose,
            created_by,
            expires_at,
        )
        .await?;
    let url = format!("{origin}/{path}?kode={token}");
    let mut mailed = false;
    if mail.is_configured()
        && let Some(email) = profile(p.storage, p.vault, user)
            .await?
            .and_then(|x| x.email)
    {
        let when = crate::web::fmt::datetime(Timestamp(expires_at));
        let (subject, body) = match purpose {
            LinkPurpose::Activate => (
                "Velkommen til Nabo – aktivér din bruger".to_owned(),
                format!(
                    "Hej {name}\n\nDer er oprettet en bruger til dig i Nabo. Dit brugernavn er: {user}\n\nÅbn linket for at vælge din adgangskode (eller logge ind med din organisations login):\n{url}\n\nLinket virker én gang og udløber {when}.\n",
                    name = user.display_name,
                    user = user.username,
                ),
            ),
            LinkPurpose::Reset => (
                "Nabo – ny adgangskode".to_owned(),
                format!(
                    "Hej {name}\n\nDer er bedt om en ny adgangskode til din bruger i Nabo ({user}).\n\nÅbn linket for at vælge en ny:\n{url}\n\nLinket virker én gang og udløber {when}. Har du ikke bedt om det, så sig det til din administrator.\n",
                    name = user.display_name,
                    user = user.username,
                ),
            ),
        };
        mailed = mail
            .send(&crate::mail::Message {
                to: email,
                subject,
                body,
            })
            .await
            .map_err(|e| PeopleError::Internal(format!("mail outbox: {e}")))?;
    }
    Ok(Link {
        url,
        expires_at,
        mailed,
    })
}

/// Whether a link can be used now, and whose it is.
pub async fn check_link(
    storage: &dyn Storage,
    token: &str,
    purpose: LinkPurpose,
) -> Result<Result<UserRow, LinkProblem>> {
    let Some(row) = storage.link(&hash_secret(token), purpose).await? else {
        return Ok(Err(LinkProblem::Unknown));
    };
    if row.used_at.is_some() {
        return Ok(Err(LinkProblem::Used));
    }
    if row.expires_at <= now_ms() {
        return Ok(Err(LinkProblem::Expired));
    }
    match storage.user(&row.user_id).await? {
        Some(u) if !u.disabled => Ok(Ok(u)),
        _ => Ok(Err(LinkProblem::Unknown)),
    }
}

/// Checks `password` against the rules for `user`; the normalised password to hash.
pub fn check_password(password: &str, user: &UserRow, name: &str) -> Result<String> {
    crate::auth::policy::check(password, &user.username, name).map_err(|w| {
        PeopleError::Refused(Refusal {
            field: "password",
            reason: w.code(),
            message: w.da(),
        })
    })
}

/// Sets a password under the rules (the demo, activation, reset).
pub async fn set_password(
    storage: &dyn Storage,
    passwords: &Passwords,
    user: &UserRow,
    password: &str,
) -> Result<()> {
    let normalised = check_password(password, user, &user.display_name)?;
    let hash = passwords
        .hash(&normalised)
        .await
        .map_err(|e| PeopleError::Internal(e.to_string()))?;
    storage.set_password(&user.id, &hash).await?;
    Ok(())
}

/// Sets one password for several logins (the demo), each checked under the rules; hashed
/// once.
pub async fn set_passwords(
    storage: &dyn Storage,
    usernames: &[&str],
    password: &str,
) -> Result<()> {
    let mut users = Vec::new();
    let mut normalised = String::new();
    for name in usernames {
        let u = storage
            .user_by_username(name)
            .await?
            .ok_or(PeopleError::NotFound)?;
        normalised = check_password(password, &u, &u.display_name)?;
        users.push(u);
    }
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&normalised))
        .await
        .map_err(|e| PeopleError::Internal(e.to_string()))?
        .map_err(|e| PeopleError::Internal(e.to_string()))?;
    for u in users {
        storage.set_password(&u.id, &hash).await?;
    }
    Ok(())
}

/// Uses a one-time link to set a password. The rules are checked before the link is spent
/// (a refused password leaves the link working); the link is spent atomically (two tabs
/// cannot both use it). A reset also ends the user's other sessions on the pages.
pub async fn redeem_with_password(
    storage: &dyn Storage,
    passwords: &Passwords,
    token: &str,
    purpose: LinkPurpose,
    password: &str,
    repeated: &str,
) -> Result<Result<UserRow, LinkProblem>> {
    let user = match check_link(storage, token, purpose).await? {
        Ok(u) => u,
        Err(problem) => return Ok(Err(problem)),
    };
    let normalised = check_password(password, &user, &user.display_name)?;
    if crate::auth::policy::normalise(repeated) != normalised {
        return refused(
            "password_repeat",
            "mismatch",
            "Gentag adgangskoden: de to adgangskoder er ikke ens.",
        );
    }
    let hash = passwords
        .hash(&normalised)
        .await
        .map_err(|e| PeopleError::Internal(e.to_string()))?;
    if storage
        .redeem_link(&hash_secret(token), purpose, now_ms())
        .await?
        .is_none()
    {
        return Ok(Err(LinkProblem::Used));
    }
    storage.set_password(&user.id, &hash).await?;
    if purpose == LinkPurpose::Reset {
        storage.end_sessions(&user.id, now_ms()).await?;
    }
    Ok(Ok(user))
}

/// Disables a login: its sessions end at once (deny-list), its phones are revoked (they wipe
/// their data at next contact), its sockets close.
pub async fn disable(storage: &dyn Storage, hub: &Hub, user: &UserRow) -> Result<(), StorageError> {
    storage.disable_user(&user.id).await?;
    hub.close_user(&user.id, "access revoked");
    tracing::info!("a user was disabled");
    Ok(())
}

/// Enables a disabled login again. Its phones stay revoked: invite a phone again. An erased
/// person's login stays closed (`user`, `erased`): erasure is final.
pub async fn enable(storage: &dyn Storage, user: &UserRow) -> Result<()> {
    let person: Vec<String> = user
        .staff_id
        .iter()
        .chain(&user.volunteer_id)
        .cloned()
        .collect();
    if !person.is_empty()
        && !storage
            .erased_among(&user.tenant, &person)
            .await?
            .is_empty()
    {
        return refused(
            "user",
            "erased",
            "Personen er slettet, og brugeren kan ikke genaktiveres. Opret en ny bruger.",
        );
    }
    storage.enable_user(&user.id).await?;
    Ok(())
}

/// Closes a login as central staff do it on the pages or the API ([`disable`]); a staff
/// member's record in the staff directory says they left today, the day the staff retention
/// class counts from (issue 11 item 4, `nabo_core::retention::staff_ended`).
pub async fn close_login(s: &AppState, by: &Principal, user: &UserRow) -> Result<()> {
    disable(s.storage.as_ref(), &s.hub, user).await?;
    staff_left(s, by, user, Some(s.clock.today_dk())).await
}

/// Opens a closed login again ([`enable`]); a staff member is employed again (no leaving
/// day).
pub async fn reopen_login(s: &AppState, by: &Principal, user: &UserRow) -> Result<()> {
    enable(s.storage.as_ref(), user).await?;
    staff_left(s, by, user, None).await
}

/// Records a staff member's leaving day (or none) in the staff directory, through the
/// document's task so the change is checked and stored like any other.
async fn staff_left(
    s: &AppState,
    by: &Principal,
    user: &UserRow,
    left: Option<nabo_core::time::Date>,
) -> Result<()> {
    let Some(sid) = user
        .staff_id
        .as_deref()
        .and_then(|x| x.parse::<StaffId>().ok())
    else {
        return Ok(());
    };
    let dir = directory(s.storage.as_ref(), &user.tenant, DocKind::Staff).await?;
    let author = Author::now(by.by(), &s.clock);
    match s
        .hub
        .edit(&dir, by, |d: &mut StaffDoc| d.set_left(&author, &sid, left))
        .await
    {
        // A login without a record in the directory, or an erased one: nothing to record.
        Err(EditError::Domain(nabo_core::Error::Invalid(i)))
            if matches!(
                i.reason,
                nabo_core::error::Reason::NotFound | nabo_core::error::Reason::Erased
            ) =>
        {
            Ok(())
        }
        other => Ok(other?),
    }
}

/// Replaces a login's scopes; its live connections re-check access at once.
pub async fn set_scopes(
    storage: &dyn Storage,
    hub: &Hub,
    user: &UserRow,
    scopes: &Scopes,
) -> Result<()> {
    let n = scopes.areas.len() + scopes.activities.len() + scopes.programmes.len();
    if n > 10_000 {
        return refused(
            "scopes",
            "too-many",
            "For mange programmer, områder og aktiviteter.",
        );
    }
    for v in scopes
        .areas
        .iter()
        .chain(&scopes.activities)
        .chain(&scopes.programmes)
    {
        if nabo_core::ids::check_id(v).is_err() {
            return refused(
                "scopes",
                "malformed",
                "Et program, område eller en aktivitet findes ikke.",
            );
        }
    }
    storage.set_scopes(&user.id, scopes).await?;
    hub.reevaluate_user(&user.id);
    Ok(())
}
