//! Retention and legal holds (ADR 0024, DOMAIN.md §4.6). A tenant's retention classes
//! (`nabo_core::retention`, set on the administration page) say how long each kind of record
//! is kept after its purpose ended; [`run`] — every [`crate::Config::retention_interval`] in
//! the relay, and `nabo-server retention run` — disposes of what is due:
//! - roll-call names, known persons, volunteers and staff: the person's key is destroyed and
//!   the records marked erased through the erasure path ([`crate::erasure::erase`], reason
//!   `purpose-ended`), so the counts stay and nothing is done twice;
//! - notes on anonymous outreach contacts: the note's own key (subject = the contact id) is
//!   destroyed the same way a class period (outreach notes) after the contact;
//! - goal-fulfilment reports: their free text (narrative, goal comments) is blanked a class
//!   period after the end of the period they report on, the numbers kept; deleted where the
//!   class says delete ([`reports`]);
//! - the access log: entries older than its period are pruned, the chain's anchor moved.
//!
//! A legal hold on a person (a reason code such as notat- og journaliseringspligt) keeps their
//! data past its time and blocks erasure; a hold on a report's id, or on an activity's id,
//! keeps the report's text. Setting and lifting a hold is in the access log.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use nabo_core::access_log::{AccessKind, Purpose};
use nabo_core::docs::activity::ActivityDoc;
use nabo_core::document::{Author, DocKind};
use nabo_core::erasure::{ErasureReason, merge_group};
use nabo_core::ids::{ParticipantId, TenantId};
use nabo_core::model::AppRole;
use nabo_core::retention::{
    Action, Disposal, Facts, HoldReason, PrivacySettings, RecordKind, RetentionSettings, due,
};
use nabo_core::time::{Date, Time, Timestamp};
use serde::{Deserialize, Serialize};

use crate::acl::Principal;
use crate::api::{AppError, AppState, Caller, require_central};
use crate::erasure::{EraseError, check_subject};
use crate::relay::EditError;
use crate::storage::{HoldRow, RetentionRunRow, Storage, StorageError};

/// The login the retention job acts as (in the erasure and access logs).
pub const SYSTEM_USER: &str = "system:retention";

/// A tenant's privacy settings (the defaults until central staff change them).
pub async fn settings(
    storage: &dyn Storage,
    tenant: &TenantId,
) -> Result<PrivacySettings, StorageError> {
    match storage.privacy_settings(tenant).await? {
        None => Ok(PrivacySettings::default()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|_| StorageError::Damaged("tenant_privacy.settings".into())),
    }
}

/// Stores a tenant's privacy settings.
pub async fn put_settings(
    storage: &dyn Storage,
    tenant: &TenantId,
    settings: &PrivacySettings,
) -> Result<(), StorageError> {
    let json = serde_json::to_string(settings)
        .map_err(|_| StorageError::Damaged("privacy settings".into()))?;
    storage.put_privacy_settings(tenant, &json).await
}

/// The subjects of `tenant` a legal hold is in force on.
pub async fn holds_in_force(
    storage: &dyn Storage,
    tenant: &TenantId,
) -> Result<BTreeSet<String>, StorageError> {
    Ok(storage
        .holds(tenant)
        .await?
        .into_iter()
        .filter(|h| h.released_at.is_none())
        .map(|h| h.subject)
        .collect())
}

/// Whether a legal hold is in force on any of `subjects`.
pub async fn held(
    storage: &dyn Storage,
    tenant: &TenantId,
    subjects: &BTreeSet<String>,
) -> Result<bool, StorageError> {
    let holds = holds_in_force(storage, tenant).await?;
    Ok(subjects.iter().any(|s| holds.contains(s)))
}

/// Why a hold could not be set or lifted.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    /// One is in force already (setting), or none is (lifting).
    #[error("conflict")]
    Conflict,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Puts a legal hold on `subject` for `reason`, as `by`, and logs it.
pub async fn set_hold(
    s: &AppState,
    by: &Principal,
    subject: &str,
    reason: HoldReason,
) -> Result<HoldRow, HoldError> {
    let row = HoldRow {
        id: nabo_core::entropy::uuid().to_string(),
        tenant: by.tenant.clone(),
        subject: subject.to_owned(),
        reason: reason.code().to_owned(),
        set_by: by.user_id.clone(),
        set_at: s.clock.now().0,
        released_by: None,
        released_at: None,
    };
    match s.storage.insert_hold(&row).await {
        Err(StorageError::Conflict) => return Err(HoldError::Conflict),
        other => other?,
    }
    crate::access_log::record(s, by, AccessKind::Hold, Purpose::LegalHold, None, [subject]).await?;
    Ok(row)
}

/// Lifts the legal hold on `subject`, as `by`, and logs it.
pub async fn release_hold(
    s: &AppState,
    by: &Principal,
    subject: &str,
) -> Result<HoldRow, HoldError> {
    let row = s
        .storage
        .release_hold(&by.tenant, subject, &by.user_id, s.clock.now().0)
        .await?
        .ok_or(HoldError::Conflict)?;
    crate::access_log::record(
        s,
        by,
        AccessKind::Release,
        Purpose::LegalHold,
        None,
        [subject],
    )
    .await?;
    Ok(row)
}

/// What one run did for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// The tenant.
    pub tenant: String,
    /// The day judged by.
    pub today: String,
    /// Persons whose names were erased (anonymised).
    pub anonymised: i64,
    /// Due persons and reports a legal hold kept.
    pub held: i64,
    /// Access-log entries pruned.
    pub log_pruned: i64,
    /// Goal-fulfilment reports anonymised (text blanked) or deleted.
    #[serde(default)]
    pub reports: i64,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A register could not be read or marked.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// Erasure failed.
    #[error(transparent)]
    Erase(#[from] EraseError),
    /// Rewriting a document without the disposed text in its history failed (ADR 0037).
    #[error(transparent)]
    Rewrite(#[from] crate::rewrite::RewriteError),
}

/// The principal the job acts as in `tenant`: central, no staff member, no phone.
pub fn system(tenant: &TenantId) -> Principal {
    Principal {
        user_id: SYSTEM_USER.to_owned(),
        tenant: tenant.clone(),
        role: AppRole::Central,
        staff_id: None,
        volunteer_id: None,
        device_id: None,
        scopes: crate::storage::Scopes::default(),
    }
}

/// Runs retention for every tenant, judging by the relay's clock.
pub async fn run(s: &AppState) -> Result<Vec<RunReport>, RunError> {
    let mut out = Vec::new();
    for tenant in s.storage.tenants().await? {
        out.push(run_tenant(s, &tenant).await?);
    }
    Ok(out)
}

/// Runs retention for one tenant (see the module's documentation), and records the run.
pub async fn run_tenant(s: &AppState, tenant: &TenantId) -> Result<RunReport, RunError> {
    let storage = s.storage.as_ref();
    let today = s.clock.today_dk();
    let settings = settings(storage, tenant).await?;
    let holds = holds_in_force(storage, tenant).await?;
    let system = system(tenant);
    let mut report = RunReport {
        tenant: tenant.to_string(),
        today: today.to_string(),
        ..RunReport::default()
    };
    // Roll-call names: one decision per person (merge group) per register.
    // A set: the same person can be due in several registers, and is erased once.
    let mut due_people: BTreeSet<String> = BTreeSet::new();
    // One decision per person: kept, held (counted), or due (erased below, once).
    let mut decide = |facts: &Facts, subject: &str| match due(facts, &settings.retention, today) {
        Action::Keep => {}
        Action::Held(_) => report.held += 1,
        Action::Dispose(_) => {
            due_people.insert(subject.to_owned());
        }
    };
    let views = crate::erasure::people_views(storage, tenant).await?;
    for (_, view) in &views.registers {
        let mut seen: BTreeSet<ParticipantId> = BTreeSet::new();
        for pid in view.participants.keys() {
            if seen.contains(pid) {
                continue;
            }
            let group = merge_group(&view.participants, pid);
            seen.extend(group.iter().cloned());
            let disposed = group.iter().all(|p| {
                view.participants
                    .get(p)
                    .is_some_and(|v| v.current.erased.is_some())
            });
            let facts = Facts {
                kind: RecordKind::RollCallName,
                purpose_ended: nabo_core::retention::roll_call_ended(view, &group),
                held: group.iter().any(|p| holds.contains(p.as_str())),
                disposed,
            };
            decide(&facts, pid.as_str());
        }
    }
    // Known persons in outreach logs (issue 11 item 4): one decision per person over every
    // log that knows them, from the latest contact or referral. Disposal is erasure (the key
    // and label go, the contacts stay as counts) whether the class says delete or
    // anonymise: no log is rewritten for one person (ADR 0024, amended).
    let mut known: BTreeMap<ParticipantId, (Option<nabo_core::time::Date>, bool)> = BTreeMap::new();
    for (_, view) in &views.outreach {
        for (pid, p) in &view.people {
            let e = known.entry(pid.clone()).or_insert((None, true));
            e.0 = e.0.max(nabo_core::retention::known_person_ended(view, pid));
            e.1 &= p.erased.is_some();
        }
    }
    for (pid, (ended, disposed)) in known {
        let facts = Facts {
            kind: RecordKind::OutreachNote,
            purpose_ended: ended,
            held: holds.contains(pid.as_str()),
            disposed,
        };
        decide(&facts, pid.as_str());
    }
    // Notes sealed with a contact's own key (issue 11 item 2; a note on a contact with a
    // known person is sealed with the person's key and goes with them above): a class period
    // after the contact, the note's key is destroyed like a person's (erased list, phones
    // delete it and confirm); the contact stays as a count with a note nobody can open.
    let noted: Vec<(String, nabo_core::time::Date)> = views
        .outreach
        .iter()
        .flat_map(|(_, view)| view.contacts.iter())
        .filter(|(_, c)| nabo_core::docs::outreach::has_own_note_key(c))
        .map(|(cid, c)| (cid.to_string(), c.at.date_dk()))
        .collect();
    let ids: Vec<String> = noted.iter().map(|(cid, _)| cid.clone()).collect();
    let gone: BTreeSet<String> = storage
        .erased_among(tenant, &ids)
        .await?
        .into_iter()
        .collect();
    for (cid, on) in &noted {
        let facts = Facts {
            kind: RecordKind::OutreachNote,
            purpose_ended: Some(*on),
            held: holds.contains(cid.as_str()),
            disposed: gone.contains(cid),
        };
        decide(&facts, cid);
    }
    // Volunteers (issue 11 item 4): a class period after their last attachment (every
    // engagement ended, or archived), erased like anyone else: name, contact details and
    // certificate dates go, hours stay as counts.
    if let Some(dir) = &views.volunteers {
        for (vid, v) in &dir.volunteers {
            let engagements: Vec<_> = dir
                .engagements
                .iter()
                .filter(|e| &e.volunteer == vid)
                .collect();
            let last_shift = views
                .registers
                .iter()
                .flat_map(|(_, r)| {
                    r.shifts
                        .keys()
                        .filter(|(_, x)| x == vid)
                        .filter_map(|(sid, _)| r.sessions.get(sid))
                        .map(|s| s.current.date)
                })
                .max();
            let facts = Facts {
                kind: RecordKind::Volunteer,
                purpose_ended: nabo_core::retention::volunteer_ended(v, &engagements, last_shift),
                held: holds.contains(vid.as_str()),
                disposed: v.erased.is_some(),
            };
            decide(&facts, vid.as_str());
        }
    }
    // Staff (issue 11 item 4): a class period after they left (their login closed; a role
    // or placement ending later counts), erased like a volunteer: the directory record
    // loses name and title, their logins close and lose the name, the contact details'
    // key is destroyed; what they recorded stays, signed by their id.
    if let Some(dir) = &views.staff {
        for (sid, m) in &dir.staff {
            let assignments: Vec<_> = dir.assignments.iter().filter(|a| &a.staff == sid).collect();
            let facts = Facts {
                kind: RecordKind::Staff,
                purpose_ended: nabo_core::retention::staff_ended(m, &assignments),
                held: holds.contains(sid.as_str()),
                disposed: m.erased.is_some(),
            };
            decide(&facts, sid.as_str());
        }
    }
    for pid in due_people {
        // Each person's plan from the registers read above: erasing one person marks only
        // their own merge group, which no later plan reads.
        let Some(plan) = crate::erasure::plan_among(storage, tenant, &pid, &views).await? else {
            continue;
        };
        match crate::erasure::erase(s, &system, &plan, ErasureReason::PurposeEnded).await {
            Ok(_) => report.anonymised += 1,
            // The same person in another register holds it there (a hold on any of their
            // ids keeps them all).
            Err(EraseError::Held) => report.held += 1,
            Err(e) => return Err(e.into()),
        }
    }
    // Goal-fulfilment reports (issue 11 item 4): a class period after the end of the period
    // they report on, their free text is blanked, or the report goes where the class says
    // delete.
    let (disposed, held) = reports(s, tenant, &settings.retention, &holds, today).await?;
    report.reports = disposed;
    report.held += held;
    // The access log: entries older than its period.
    let cutoff = nabo_core::retention::log_cutoff(&settings.retention, today);
    let before = Timestamp::from_dk(cutoff, midnight()).0;
    report.log_pruned = storage.prune_access_log(tenant, before).await?;
    if report.log_pruned > 0 {
        // The pruning itself, about no one.
        let pruned = nabo_core::access_log::Access {
            subject: None,
            document: None,
            kind: AccessKind::Retention,
            purpose: Purpose::Retention,
        };
        storage
            .append_access(tenant, s.clock.now().0, SYSTEM_USER, None, &[pruned])
            .await?;
    }
    storage
        .insert_retention_run(&RetentionRunRow {
            id: nabo_core::entropy::uuid().to_string(),
            tenant: tenant.clone(),
            at: s.clock.now().0,
            today: report.today.clone(),
            anonymised: report.anonymised,
            held: report.held,
            log_pruned: report.log_pruned,
            reports: report.reports,
        })
        .await?;
    tracing::info!(
        anonymised = report.anonymised,
        reports = report.reports,
        held = report.held,
        log_pruned = report.log_pruned,
        "retention run"
    );
    Ok(report)
}

/// Disposes of the goal-fulfilment reports of `tenant`'s activities whose retention has run
/// out ([`nabo_core::retention::report_ended`]): their text is blanked
/// (`ActivityDoc::anonymise_reports`: narrative and goal comments go, statuses, reasons,
/// measurements and themes stay), or, where the class says delete, the report goes
/// (`ActivityDoc::delete_reports`), through the document's task as any edit, so phones hear
/// of it. A legal hold on the report's id, or on its activity's id (every report of the
/// activity), keeps it. Each disposal is in the access log (kind and purpose `retention`,
/// the report's id as subject). An activity whose reports were disposed of is rewritten under
/// a new id, so the text leaves its history too (ADR 0037). Answers (reports disposed of, due
/// reports held).
async fn reports(
    s: &AppState,
    tenant: &TenantId,
    settings: &RetentionSettings,
    holds: &BTreeSet<String>,
    today: Date,
) -> Result<(i64, i64), RunError> {
    let mut rewritten = 0usize;
    let disposal = dispose_reports(s, tenant, settings, holds, today, &mut rewritten).await;
    // Once for the whole run, also after an error (what was rewritten before it).
    if rewritten > 0 {
        crate::rewrite::reclaim(&s.hub).await;
    }
    disposal
}

/// The loop of [`reports`]; counts the activities it rewrote in `rewritten`.
async fn dispose_reports(
    s: &AppState,
    tenant: &TenantId,
    settings: &RetentionSettings,
    holds: &BTreeSet<String>,
    today: Date,
    rewritten: &mut usize,
) -> Result<(i64, i64), RunError> {
    let system = system(tenant);
    let author = Author::now(system.by(), &s.clock);
    let then = settings.class(RecordKind::Report).then;
    let (mut disposed, mut held) = (0, 0);
    let activities = s.storage.documents(tenant).await?;
    for meta in activities.iter().filter(|m| m.kind == DocKind::Activity) {
        let activity_held = meta.activity.as_ref().is_some_and(|a| holds.contains(a));
        let (done, kept) = s
            .hub
            .edit(meta, &system, |act: &mut ActivityDoc| {
                let (mut due_ids, mut kept) = (BTreeSet::new(), 0);
                for (rid, r) in act.reports()? {
                    let facts = Facts {
                        kind: RecordKind::Report,
                        purpose_ended: Some(nabo_core::retention::report_ended(&r)),
                        held: activity_held || holds.contains(rid.as_str()),
                        // An anonymised report goes too once the class says delete.
                        disposed: r.anonymised.is_some() && then == Disposal::Anonymise,
                    };
                    match due(&facts, settings, today) {
                        Action::Keep => {}
                        Action::Held(_) => kept += 1,
                        Action::Dispose(_) => {
                            due_ids.insert(rid);
                        }
                    }
                }
                match then {
                    Disposal::Anonymise => act.anonymise_reports(&author, &due_ids, today)?,
                    Disposal::Delete => act.delete_reports(&author, &due_ids)?,
                };
                Ok((due_ids, kept))
            })
            .await?;
        if !done.is_empty() {
            crate::access_log::record(
                s,
                &system,
                AccessKind::Retention,
                Purpose::Retention,
                Some(meta.id),
                done.iter().map(|r| r.as_str()),
            )
            .await?;
            // The text is still in the activity's change history: the activity is made anew
            // from its current state under a new id, and the old one's bytes go (ADR 0037).
            crate::rewrite::rewrite(&s.hub, meta.id, crate::rewrite::RewriteReason::Retention)
                .await?;
            *rewritten += 1;
        }
        disposed += done.len() as i64;
        held += kept;
    }
    Ok((disposed, held))
}

fn midnight() -> Time {
    Time(chrono::NaiveTime::MIN)
}

/// Runs [`run`] every `period` (the first run one period after start) until the relay shuts
/// down. A failed run is logged and retried at the next tick.
pub async fn every(s: AppState, period: std::time::Duration) {
    let mut shutdown = s.hub.shutdown.clone();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            _ = tick.tick() => {
                if let Err(e) = run(&s).await {
                    tracing::error!(error = %e, "retention run failed; retried at the next tick");
                }
            }
        }
    }
}

/// The API's routes (merged in [`crate::app`]): legal holds, central staff only.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/legal-holds", post(create_hold).get(list_holds))
        .route("/api/v1/legal-holds/{subject}/release", post(release))
        .route("/api/v1/retention/runs", get(list_runs))
        .with_state(state)
}

/// `POST /api/v1/legal-holds`.
#[derive(Debug, Deserialize, Serialize)]
pub struct HoldInput {
    /// The person (a participant, volunteer, staff or login id), a goal-fulfilment report's
    /// id (its text), or an activity's id (the text of all its reports).
    pub subject: String,
    /// A reason code (`journaling-duty`, `legal-claim`, `authority-request`, `child-concern`).
    pub reason: String,
}

/// A hold as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hold {
    /// Id.
    pub hold_id: String,
    /// The person, report or activity held.
    pub subject: String,
    /// Reason code.
    pub reason: String,
    /// The login that set it.
    pub set_by: String,
    /// When (ms).
    pub set_at: i64,
    /// When it was lifted (ms).
    pub released_at: Option<i64>,
}

impl From<HoldRow> for Hold {
    fn from(h: HoldRow) -> Self {
        Hold {
            hold_id: h.id,
            subject: h.subject,
            reason: h.reason,
            set_by: h.set_by,
            set_at: h.set_at,
            released_at: h.released_at,
        }
    }
}

impl From<HoldError> for AppError {
    fn from(e: HoldError) -> Self {
        match e {
            HoldError::Conflict => AppError::Invalid {
                field: "subject".into(),
                reason: "conflict",
                message: "a hold is in force on this subject already (or none is, to lift)".into(),
            },
            HoldError::Storage(s) => s.into(),
        }
    }
}

/// A hold reason of the API, or a 400 naming the field.
pub fn parse_hold_reason(code: &str) -> Result<HoldReason, AppError> {
    code.parse()
        .map_err(|_| crate::api::unknown_code("reason", HoldReason::ALL.iter().map(|r| r.code())))
}

async fn create_hold(
    State(s): State<AppState>,
    Caller(p): Caller,
    Json(i): Json<HoldInput>,
) -> Result<(StatusCode, Json<Hold>), AppError> {
    require_central(&p)?;
    check_subject(&i.subject)?;
    let reason = parse_hold_reason(&i.reason)?;
    let row = set_hold(&s, &p, &i.subject, reason).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

async fn list_holds(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Vec<Hold>>, AppError> {
    require_central(&p)?;
    Ok(Json(
        s.storage
            .holds(&p.tenant)
            .await?
            .into_iter()
            .map(Hold::from)
            .collect(),
    ))
}

async fn release(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(subject): Path<String>,
) -> Result<Json<Hold>, AppError> {
    require_central(&p)?;
    check_subject(&subject)?;
    Ok(Json(release_hold(&s, &p, &subject).await?.into()))
}

async fn list_runs(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Vec<RunReport>>, AppError> {
    require_central(&p)?;
    Ok(Json(
        s.storage
            .retention_runs(&p.tenant, 100)
            .await?
            .into_iter()
            .map(|r| RunReport {
                tenant: r.tenant.to_string(),
                today: r.today,
                anonymised: r.anonymised,
                held: r.held,
                log_pruned: r.log_pruned,
                reports: r.reports,
            })
            .collect(),
    ))
}
