//! Erasure of a person (ADR 0019, ADR 0004 §4): central staff name a subject (a participant,
//! volunteer or staff id) and a reason; the relay destroys the subject's key, puts the subject on
//! the tenant's erased list (key uploads for it are refused from then on), logs who, when and
//! why, and marks the person's participant records erased in every register through its own
//! edit path (so the change passes the document rules and reaches every phone). Phones learn
//! of the erasure in the keys answer (`erased`), delete the key and confirm
//! (`POST /api/v1/erasures/confirmations`).
//!
//! The API (`POST`/`GET /api/v1/erasures`) and the review pages (`/sletning`) both call
//! [`plan`] and [`erase`]; there is no other way to erase.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use nabo_core::access_log::{AccessKind, Purpose};
use nabo_core::docs::outreach::{OutreachDoc, OutreachView};
use nabo_core::docs::register::RegisterDoc;
use nabo_core::docs::staff::StaffDoc;
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::document::{Author, DocKind, TypedDoc};
use nabo_core::erasure::{ErasureReason, merge_group};
use nabo_core::ids::{ParticipantId, TenantId};
use nabo_core::ids::{StaffId, VolunteerId};
use nabo_core::model::staff::{RoleAssignment, StaffMember};
use nabo_core::model::volunteer::{Engagement, Volunteer};
use serde::{Deserialize, Serialize};

use crate::acl::Principal;
use crate::api::{AppError, AppState, Caller, require_central};
use crate::relay::EditError;
use crate::storage::{DocMeta, ErasureRow, StorageError};

/// The longest subject id accepted (ids are UUIDs; anything longer is not one).
const MAX_SUBJECT: usize = 64;
/// The most subjects one confirmation may carry.
pub const MAX_CONFIRMATIONS: usize = 500;

/// Why an erasure could not run.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// No such subject in the tenant (or not visible).
    #[error("no such subject")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Marking a register failed (the key is destroyed already; erasing again finishes it).
    #[error(transparent)]
    Edit(#[from] EditError),
    /// A legal hold is in force on the person (ADR 0024): nothing was erased.
    #[error("a legal hold is in force")]
    Held,
    /// The erasure journal could not be written (ADR 0032): nothing was erased.
    #[error("erasure journal: {0}")]
    Journal(#[from] std::io::Error),
    /// Rewriting a document without the person's history failed (ADR 0037); the person is
    /// erased otherwise, and erasing again rewrites.
    #[error(transparent)]
    Rewrite(#[from] crate::rewrite::RewriteError),
}

impl From<EraseError> for AppError {
    fn from(e: EraseError) -> Self {
        match e {
            EraseError::NotFound => AppError::NotFound,
            EraseError::Storage(s) => s.into(),
            EraseError::Edit(e) => {
                tracing::error!(error = %e, "an erasure could not mark a register");
                AppError::Unavailable
            }
            EraseError::Journal(e) => {
                tracing::error!(error = %e, "the erasure journal could not be written");
                AppError::Unavailable
            }
            EraseError::Rewrite(e) => {
                tracing::error!(error = %e, "an erasure could not rewrite a document");
                AppError::Unavailable
            }
            EraseError::Held => AppError::Invalid {
                field: "subject".into(),
                reason: "legal-hold",
                message: "a legal hold is in force on this person; lift it first".into(),
            },
        }
    }
}

/// One register the person is in, and what erasing them there does.
#[derive(Debug, Clone)]
pub struct InRegister {
    /// The register.
    pub meta: DocMeta,
    /// The participant records that are this person (the merge group).
    pub participants: BTreeSet<ParticipantId>,
    /// Roll-call marks of theirs, which stay as anonymous counts.
    pub marks: usize,
    /// Sessions they were marked present at.
    pub present: usize,
    /// Already erased there.
    pub erased: bool,
}

/// One outreach log the person is a known person in, and what erasing them there does.
#[derive(Debug, Clone)]
pub struct InOutreach {
    /// The log.
    pub meta: DocMeta,
    /// Contacts with the person, which stay as anonymous counts.
    pub contacts: usize,
    /// Referrals of the person, which stay without the person's label.
    pub referrals: usize,
    /// Already erased there.
    pub erased: bool,
}

/// The volunteer directory's record of the person, when the subject is a volunteer.
#[derive(Debug, Clone)]
pub struct InDirectory {
    /// The directory.
    pub meta: DocMeta,
    /// Shifts of theirs in the registers, whose hours stay as anonymous counts.
    pub shifts: usize,
    /// Already erased there.
    pub erased: bool,
}

/// The staff directory's record of the person, when the subject is a staff member.
#[derive(Debug, Clone)]
pub struct InStaff {
    /// The staff directory.
    pub meta: DocMeta,
    /// Their logins (closed and stripped of the name by the erasure).
    pub logins: usize,
    /// Already erased there.
    pub erased: bool,
    /// Changes in the directory's history (1 once rewritten and not edited since).
    pub changes: usize,
}

/// What erasing a subject will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The subject named.
    pub subject: String,
    /// Registers the person is a participant of.
    pub registers: Vec<InRegister>,
    /// Outreach logs the person is a known person in (ADR 0011, issue 11 item 2).
    pub outreach: Vec<InOutreach>,
    /// The volunteer directory's record, when the subject is a volunteer.
    pub directory: Option<InDirectory>,
    /// The staff directory's record, when the subject is a staff member.
    pub staff: Option<InStaff>,
    /// Every subject whose key goes (the merge groups, and the subject itself).
    pub subjects: BTreeSet<String>,
    /// The relay holds a key for the subject (a volunteer's name, a child's label).
    pub key_held: bool,
    /// The subject is on the erased list already.
    pub already: bool,
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Erasure {
    /// The erasure's id (in the log).
    pub erasure_id: String,
    /// The subject named.
    pub subject: String,
    /// The reason code.
    pub reason: String,
    /// When (ms since the epoch).
    pub at: i64,
    /// Participant records marked erased.
    pub records: i64,
    /// Keys destroyed on the relay.
    pub keys_destroyed: i64,
    /// Documents changed.
    pub documents: i64,
    /// Phones that confirmed deleting the key (in the log listing).
    #[serde(default)]
    pub confirmed_devices: i64,
}

/// A subject id as the API and pages take it: a short id of letters, digits and `-`.
pub fn check_subject(subject: &str) -> Result<(), AppError> {
    let ok = !subject.is_empty()
        && subject.len() <= MAX_SUBJECT
        && subject
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid {
            field: "subject".into(),
            reason: "malformed",
            message: "the subject is a participant, volunteer or staff id".into(),
        })
    }
}

type RegisterView = nabo_core::docs::register::RegisterView;

/// The documents of a tenant that hold people, with their merged views, read from storage
/// once (erasure and the retention job decide per person across them).
#[derive(Debug, Default)]
pub(crate) struct PeopleViews {
    /// Registers (participants, merge groups, marks).
    pub registers: Vec<(DocMeta, RegisterView)>,
    /// Outreach logs (known persons, contacts, referrals).
    pub outreach: Vec<(DocMeta, OutreachView)>,
    /// The volunteer directory.
    pub volunteers: Option<Directory>,
    /// The staff directory.
    pub staff: Option<StaffDirectory>,
}

/// The staff directory as erasure and retention read it.
#[derive(Debug)]
pub(crate) struct StaffDirectory {
    /// The document.
    pub meta: DocMeta,
    /// Changes in its history (1 once rewritten and not edited since).
    pub changes: usize,
    /// The staff members.
    pub staff: BTreeMap<StaffId, StaffMember>,
    /// Their role assignments.
    pub assignments: Vec<RoleAssignment>,
}

/// The volunteer directory as erasure and retention read it.
#[derive(Debug)]
pub(crate) struct Directory {
    /// The document.
    pub meta: DocMeta,
    /// The volunteers.
    pub volunteers: BTreeMap<VolunteerId, Volunteer>,
    /// Their engagements.
    pub engagements: Vec<Engagement>,
}

/// Reads every register and outreach log of a tenant.
pub(crate) async fn people_views(
    storage: &dyn crate::storage::Storage,
    tenant: &TenantId,
) -> Result<PeopleViews, EditError> {
    let mut out = PeopleViews::default();
    for meta in storage.documents(tenant).await? {
        match meta.kind {
            DocKind::Register => {
                let loaded = crate::relay::doc::load(storage, meta.id).await?;
                let view = RegisterDoc::from_doc(loaded.doc)
                    .and_then(|r| r.view())
                    .map_err(EditError::Domain)?;
                out.registers.push((meta, view));
            }
            DocKind::Outreach => {
                let loaded = crate::relay::doc::load(storage, meta.id).await?;
                let view = OutreachDoc::from_doc(loaded.doc)
                    .and_then(|o| o.view())
                    .map_err(EditError::Domain)?;
                out.outreach.push((meta, view));
            }
            DocKind::Volunteers => {
                let loaded = crate::relay::doc::load(storage, meta.id).await?;
                let d = VolunteersDoc::from_doc(loaded.doc).map_err(EditError::Domain)?;
                out.volunteers = Some(Directory {
                    meta,
                    volunteers: d.volunteers().map_err(EditError::Domain)?,
                    engagements: d
                        .engagements()
                        .map_err(EditError::Domain)?
                        .into_values()
                        .collect(),
                });
            }
            DocKind::Staff => {
                let loaded = crate::relay::doc::load(storage, meta.id).await?;
                let changes = loaded.doc.automerge().get_changes(&[]).len();
                let d = StaffDoc::from_doc(loaded.doc).map_err(EditError::Domain)?;
                out.staff = Some(StaffDirectory {
                    meta,
                    changes,
                    staff: d.staff().map_err(EditError::Domain)?,
                    assignments: d
                        .assignments()
                        .map_err(EditError::Domain)?
                        .into_values()
                        .collect(),
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What erasing `subject` in `tenant` would do; `None` when the tenant knows no such subject.
pub async fn plan(
    s: &AppState,
    tenant: &TenantId,
    subject: &str,
) -> Result<Option<Plan>, EraseError> {
    let storage = s.storage.as_ref();
    let views = people_views(storage, tenant).await?;
    plan_among(storage, tenant, subject, &views).await
}

/// `plan` with the tenant's documents already read (`people_views`), so a caller deciding
/// for many subjects (the retention job) reads them once.
pub(crate) async fn plan_among(
    storage: &dyn crate::storage::Storage,
    tenant: &TenantId,
    subject: &str,
    views: &PeopleViews,
) -> Result<Option<Plan>, EraseError> {
    let mut registers = Vec::new();
    let mut outreach = Vec::new();
    let mut subjects = BTreeSet::from([subject.to_owned()]);
    let directory = match (&views.volunteers, subject.parse::<VolunteerId>()) {
        (Some(dir), Ok(vid)) => dir.volunteers.get(&vid).map(|v| InDirectory {
            meta: dir.meta.clone(),
            shifts: views
                .registers
                .iter()
                .map(|(_, r)| r.shifts.keys().filter(|(_, x)| *x == vid).count())
                .sum(),
            erased: v.erased.is_some() && v.name.is_none(),
        }),
        _ => None,
    };
    let staff = match (&views.staff, subject.parse::<StaffId>()) {
        (Some(dir), Ok(sid)) => match dir.staff.get(&sid) {
            Some(m) => Some(InStaff {
                meta: dir.meta.clone(),
                logins: storage
                    .users(tenant)
                    .await?
                    .iter()
                    .filter(|u| u.staff_id.as_deref() == Some(sid.as_str()))
                    .count(),
                erased: m.erased.is_some() && m.name.is_empty(),
                changes: dir.changes,
            }),
            None => None,
        },
        _ => None,
    };
    if let Ok(pid) = subject.parse::<ParticipantId>() {
        for (meta, view) in &views.outreach {
            let Some(person) = view.people.get(&pid) else {
                continue;
            };
            outreach.push(InOutreach {
                meta: meta.clone(),
                contacts: view
                    .contacts
                    .values()
                    .filter(|c| c.participant.as_ref() == Some(&pid))
                    .count(),
                referrals: view
                    .referrals
                    .values()
                    .filter(|r| r.current.participant.as_ref() == Some(&pid))
                    .count(),
                erased: person.erased.is_some() && person.label.is_none(),
            });
        }
        for (meta, view) in &views.registers {
            let group = merge_group(&view.participants, &pid);
            if group.is_empty() {
                continue;
            }
            let marks: Vec<_> = view
                .attendance
                .iter()
                .filter(|((_, p), _)| group.contains(p))
                .collect();
            let present = marks
                .iter()
                .filter(|(_, m)| m.current == nabo_core::model::AttendanceStatus::Present)
                .map(|((sid, _), _)| sid)
                .collect::<BTreeSet<_>>()
                .len();
            let erased = group.iter().all(|p| {
                view.participants
                    .get(p)
                    .is_some_and(|v| v.current.erased.is_some() && v.conflicts.is_empty())
            });
            subjects.extend(group.iter().map(ToString::to_string));
            registers.push(InRegister {
                meta: meta.clone(),
                marks: marks.len(),
                present,
                participants: group,
                erased,
            });
        }
    }
    let key_held = storage.subject_key(tenant, subject).await?.is_some();
    let already = !storage
        .erased_among(tenant, &[subject.to_owned()])
        .await?
        .is_empty();
    if registers.is_empty()
        && outreach.is_empty()
        && directory.is_none()
        && staff.is_none()
        && !key_held
        && !already
    {
        return Ok(None);
    }
    Ok(Some(Plan {
        subject: subject.to_owned(),
        registers,
        outreach,
        directory,
        staff,
        subjects,
        key_held,
        already,
    }))
}

/// Erases what `plan` found, as `by` (central staff): destroys the keys and logs the erasure
/// first (durable before anything else), reclaims the space, then marks the registers. If
/// marking fails the key is gone already; erasing again marks what is left.
pub async fn erase(
    s: &AppState,
    by: &Principal,
    plan: &Plan,
    reason: ErasureReason,
) -> Result<Erasure, EraseError> {
    if crate::retention::held(s.storage.as_ref(), &by.tenant, &plan.subjects).await? {
        return Err(EraseError::Held);
    }
    let at = crate::storage::now_ms();
    let records: usize = plan
        .registers
        .iter()
        .map(|r| r.participants.len())
        .sum::<usize>()
        + plan.outreach.len()
        + usize::from(plan.directory.is_some())
        + usize::from(plan.staff.is_some());
    let changing = plan.registers.iter().filter(|r| !r.erased).count()
        + plan.outreach.iter().filter(|o| !o.erased).count()
        + usize::from(plan.directory.as_ref().is_some_and(|d| !d.erased))
        + usize::from(plan.staff.as_ref().is_some_and(|d| !d.erased));
    let subjects: Vec<String> = plan.subjects.iter().cloned().collect();
    let mut log = ErasureRow {
        id: nabo_core::entropy::uuid().to_string(),
        tenant: by.tenant.clone(),
        subject: plan.subject.clone(),
        user_id: by.user_id.clone(),
        reason: reason.code().to_owned(),
        at,
        records: records as i64,
        keys_destroyed: 0,
        documents: changing as i64,
    };
    // Durable outside the database first, so a restore from an older backup cannot bring
    // the person back (ADR 0032).
    let entry = crate::erasure_journal::Entry {
        tenant: by.tenant.to_string(),
        subject: plan.subject.clone(),
        subjects: subjects.clone(),
        erasure_id: log.id.clone(),
        reason: log.reason.clone(),
        user_id: log.user_id.clone(),
        at,
    };
    let journal = s.journal.clone();
    tokio::task::spawn_blocking(move || journal.append(&entry))
        .await
        .map_err(std::io::Error::other)??;
    log.keys_destroyed = s.storage.erase_subjects(&subjects, &log).await?;
    let purpose = if reason == ErasureReason::PurposeEnded {
        Purpose::Retention
    } else {
        Purpose::SubjectRequest
    };
    crate::access_log::record(s, by, AccessKind::Erase, purpose, None, &subjects).await?;
    // The keys are deleted; reclaiming their space (PostgreSQL: VACUUM FULL, which needs the
    // tables' lock) is tried again a few times before it is left to the next erasure.
    for attempt in 1..=4u64 {
        match s.storage.reclaim_erased().await {
            Ok(()) => break,
            Err(e) if attempt < 4 => {
                tracing::warn!(error = %e, attempt, "space of erased keys not reclaimed yet; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(250 * attempt)).await;
            }
            Err(e) => tracing::error!(error = %e, "space of erased keys not reclaimed"),
        }
    }
    mark_registers(s, by, plan).await?;
    tracing::info!(erasure = %log.id, records, keys = log.keys_destroyed, documents = changing, reason = reason.code(), "person erased");
    Ok(Erasure {
        erasure_id: log.id,
        subject: log.subject,
        reason: log.reason,
        at,
        records: log.records,
        keys_destroyed: log.keys_destroyed,
        documents: log.documents,
        confirmed_devices: 0,
    })
}

/// Marks the person's records erased in every register `plan` found unmarked, through the
/// relay's edit path (so phones hear of it).
async fn mark_registers(s: &AppState, by: &Principal, plan: &Plan) -> Result<(), EraseError> {
    let author = Author::now(by.by(), &s.clock);
    let today = s.clock.today_dk();
    for r in plan.registers.iter().filter(|r| !r.erased) {
        s.hub
            .edit(&r.meta, by, |doc: &mut RegisterDoc| {
                doc.erase_participants(&author, &r.participants, today)
            })
            .await?;
    }
    if let Ok(pid) = plan.subject.parse::<ParticipantId>() {
        let person = BTreeSet::from([pid]);
        for o in plan.outreach.iter().filter(|o| !o.erased) {
            s.hub
                .edit(&o.meta, by, |doc: &mut OutreachDoc| {
                    doc.erase_people(&author, &person, today)
                })
                .await?;
        }
    }
    if let Some(d) = &plan.directory
        && let Ok(vid) = plan.subject.parse::<VolunteerId>()
    {
        if !d.erased {
            s.hub
                .edit(&d.meta, by, |doc: &mut VolunteersDoc| {
                    doc.erase_volunteer(&author, &vid, today)
                })
                .await?;
        }
        // Their login goes with them: sessions end and phones are revoked (they wipe).
        for u in s.storage.users(&by.tenant).await? {
            if u.volunteer_id.as_deref() == Some(vid.as_str()) && !u.disabled {
                crate::people::disable(s.storage.as_ref(), &s.hub, &u).await?;
            }
        }
    }
    if let Some(d) = &plan.staff
        && let Ok(sid) = plan.subject.parse::<StaffId>()
    {
        if !d.erased {
            s.hub
                .edit(&d.meta, by, |doc: &mut StaffDoc| {
                    doc.erase_staff(&author, &sid, today)
                })
                .await?;
        }
        // The name is still in the directory's change history: the directory is made anew
        // from its current state under a new id and the old one's bytes go (ADR 0037). A
        // directory with one change is such a copy already, unchanged since.
        if !d.erased || d.changes > 1 {
            crate::rewrite::rewrite(&s.hub, d.meta.id, crate::rewrite::RewriteReason::Erasure)
                .await?;
            crate::rewrite::reclaim(&s.hub).await;
        }
        // Their logins close and lose the name: the login name and display name become the
        // login id's, the password and the sealed profile go (the key is destroyed already).
        // Logs that name the login id keep the id only.
        let mut anonymised = false;
        for u in s.storage.users(&by.tenant).await? {
            if u.staff_id.as_deref() != Some(sid.as_str()) {
                continue;
            }
            if !u.disabled {
                crate::people::disable(s.storage.as_ref(), &s.hub, &u).await?;
            }
            let (username, display) = crate::people::erased_login(&u.id);
            if u.username != username || u.display_name != display {
                s.storage.anonymise_user(&u.id, &username, &display).await?;
                anonymised = true;
            }
        }
        if anonymised && let Err(e) = s.storage.reclaim_erased().await {
            tracing::error!(error = %e, "space of an erased login not reclaimed");
        }
    }
    Ok(())
}

/// The login the journal's re-application acts as (in the erasure and access logs).
pub const JOURNAL_USER: &str = "system:erasure-journal";

/// Re-applies the erasure journal (ADR 0032) before the relay serves anything: every
/// journalled subject the database does not list as erased — a database restored from a
/// backup older than the erasure — is erased again (key destroyed, erased list, registers
/// marked). Returns how many erasures it re-applied.
pub async fn reapply_journal(s: &AppState) -> Result<usize, EraseError> {
    let journal = s.journal.clone();
    let entries = tokio::task::spawn_blocking(move || journal.read())
        .await
        .map_err(std::io::Error::other)??;
    let mut reapplied = 0;
    let mut views: BTreeMap<TenantId, PeopleViews> = BTreeMap::new();
    for e in entries {
        let Ok(tenant) = e.tenant.parse::<TenantId>() else {
            continue;
        };
        let done = s.storage.erased_among(&tenant, &e.subjects).await?;
        let missing: Vec<String> = e
            .subjects
            .iter()
            .filter(|x| !done.contains(x))
            .cloned()
            .collect();
        if missing.is_empty() {
            continue;
        }
        let by = Principal {
            user_id: JOURNAL_USER.to_owned(),
            ..crate::retention::system(&tenant)
        };
        let log = ErasureRow {
            id: nabo_core::entropy::uuid().to_string(),
            tenant: tenant.clone(),
            subject: e.subject.clone(),
            user_id: JOURNAL_USER.to_owned(),
            reason: e.reason.clone(),
            at: crate::storage::now_ms(),
            records: 0,
            keys_destroyed: 0,
            documents: 0,
        };
        let destroyed = s.storage.erase_subjects(&missing, &log).await?;
        if let Err(err) = s.storage.reclaim_erased().await {
            tracing::error!(error = %err, "space of re-erased keys not reclaimed");
        }
        let views = match views.entry(tenant.clone()) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(people_views(s.storage.as_ref(), &tenant).await?)
            }
        };
        if let Some(plan) = plan_among(s.storage.as_ref(), &tenant, &e.subject, views).await? {
            mark_registers(s, &by, &plan).await?;
        }
        tracing::warn!(
            erasure = %e.erasure_id,
            keys = destroyed,
            "an erasure missing from the database (restored from an older backup?) was applied again"
        );
        reapplied += 1;
    }
    Ok(reapplied)
}

/// The erasure API's routes (merged in [`crate::app`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/erasures", post(create).get(list))
        .route("/api/v1/erasures/confirmations", post(confirm))
        .with_state(state)
}

/// `POST /api/v1/erasures`.
#[derive(Debug, Deserialize, Serialize)]
pub struct EraseInput {
    /// The participant, volunteer or staff id.
    pub subject: String,
    /// A reason code (`request`, `consent-withdrawn`, `purpose-ended`, `unlawful`, `mistake`).
    pub reason: String,
}

/// The reason of an API request, or a 400 naming the field.
pub fn parse_reason(code: &str) -> Result<ErasureReason, AppError> {
    ErasureReason::parse(code).ok_or_else(|| {
        crate::api::unknown_code("reason", ErasureReason::ALL.iter().map(|r| r.code()))
    })
}

async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    Json(i): Json<EraseInput>,
) -> Result<(StatusCode, Json<Erasure>), AppError> {
    require_central(&p)?;
    check_subject(&i.subject)?;
    let reason = parse_reason(&i.reason)?;
    let plan = plan(&s, &p.tenant, &i.subject)
        .await?
        .ok_or(AppError::NotFound)?;
    let done = erase(&s, &p, &plan, reason).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Vec<Erasure>>, AppError> {
    require_central(&p)?;
    let confirmed = s.storage.erasure_confirmations(&p.tenant).await?;
    Ok(Json(
        s.storage
            .erasures(&p.tenant)
            .await?
            .into_iter()
            .map(|e| Erasure {
                confirmed_devices: confirmed.get(&e.subject).copied().unwrap_or(0),
                erasure_id: e.id,
                subject: e.subject,
                reason: e.reason,
                at: e.at,
                records: e.records,
                keys_destroyed: e.keys_destroyed,
                documents: e.documents,
            })
            .collect(),
    ))
}

/// `POST /api/v1/erasures/confirmations`: a phone reports the erased subjects whose keys it
/// deleted.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Confirmations {
    /// The subjects.
    pub subjects: Vec<String>,
}

/// What the relay recorded.
#[derive(Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Confirmed {
    /// New confirmations (a subject not on the erased list is not recorded).
    pub recorded: usize,
}

async fn confirm(
    State(s): State<AppState>,
    Caller(p): Caller,
    Json(i): Json<Confirmations>,
) -> Result<Json<Confirmed>, AppError> {
    let Some(device) = p.device_id.as_deref() else {
        return Err(AppError::Invalid {
            field: "device".into(),
            reason: "missing",
            message: "confirmations come from an enrolled device".into(),
        });
    };
    if i.subjects.len() > MAX_CONFIRMATIONS {
        return Err(AppError::Invalid {
            field: "subjects".into(),
            reason: "too-many",
            message: format!("at most {MAX_CONFIRMATIONS} subjects per request"),
        });
    }
    let mut seen = BTreeMap::new();
    for subject in &i.subjects {
        check_subject(subject).map_err(|_| AppError::Invalid {
            field: "subjects".into(),
            reason: "malformed",
            message: "a subject is a participant or volunteer id".into(),
        })?;
        seen.insert(subject.as_str(), ());
    }
    let at = crate::storage::now_ms();
    let mut recorded = 0;
    for subject in seen.keys() {
        if s.storage
            .confirm_erasure(&p.tenant, subject, device, at)
            .await?
        {
            recorded += 1;
        }
    }
    tracing::info!(recorded, "erasures confirmed by a device");
    Ok(Json(Confirmed { recorded }))
}
