//! A tenant's documents as the review pages read them: every document the viewer may see,
//! loaded from storage (what the relay acknowledged is what the pages show), typed, with the
//! subject keys the relay holds for the names in them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use nabo_core::catalogue::Catalogue;
use nabo_core::docs::activity::ActivityDoc;
use nabo_core::docs::outreach::{OutreachDoc, OutreachView};
use nabo_core::docs::register::{RegisterDoc, RegisterView};
use nabo_core::docs::resident::ResidentLogDoc;
use nabo_core::docs::staff::StaffDoc;
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::document::{DocKind, DocumentId, TypedDoc};
#[allow(unused_imports)]
use nabo_core::model::activity::{Activity, Goal, IndicatorDef};
use nabo_core::model::org::{HousingArea, Organisation};
use nabo_core::model::programme::Programme;
use nabo_core::model::resident::{AmbassadorRound, FoodClubEvening};
use nabo_core::model::staff::{RoleAssignment, StaffMember};
use nabo_core::model::volunteer::{Engagement, Volunteer};
use nabo_core::prelude::*;
use nabo_core::seal::{SubjectKey, open};

use super::WebError;
use crate::acl::{Access, Principal, access};
use crate::api::AppState;
use crate::storage::DocMeta;

/// An activity document.
#[derive(Debug)]
pub struct ActivityEntry {
    pub meta: DocMeta,
    pub id: ActivityId,
    pub doc: ActivityDoc,
    pub activity: Activity,
}

/// A register document with its merged view.
#[derive(Debug)]
pub struct RegisterEntry {
    pub meta: DocMeta,
    pub doc: RegisterDoc,
    pub view: RegisterView,
    /// What the review needs of each session, derived from the view on first use and then
    /// kept with the entry: the entry is shared through the page cache for as long as its
    /// stored version holds (ADR 0028), so this is computed once per version, not per page.
    sessions: std::sync::OnceLock<BTreeMap<SessionId, SessionReview>>,
}

/// A session as the review queue sees it (derived from a register's view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReview {
    /// Whether anything was recorded for it (marks, a headcount above 0, shifts).
    pub has_records: bool,
    /// [`super::records::session_fingerprint`] of the session.
    pub fingerprint: String,
}

impl RegisterEntry {
    /// A register with its merged view.
    pub fn new(meta: DocMeta, doc: RegisterDoc, view: RegisterView) -> Self {
        RegisterEntry {
            meta,
            doc,
            view,
            sessions: std::sync::OnceLock::new(),
        }
    }

    /// The review's view of a session: from the entry's derived table (computed once per
    /// decoded version), or computed now for a session the view does not list.
    pub fn session_review(&self, s: &SessionId) -> std::borrow::Cow<'_, SessionReview> {
        let all = self
            .sessions
            .get_or_init(|| super::records::session_reviews(&self.view));
        match all.get(s) {
            Some(r) => std::borrow::Cow::Borrowed(r),
            None => std::borrow::Cow::Owned(SessionReview {
                has_records: super::records::session_has_records(&self.view, s),
                fingerprint: super::records::session_fingerprint(&self.view, s),
            }),
        }
    }
}

/// An outreach log with its merged view.
#[derive(Debug)]
pub struct OutreachEntry {
    pub meta: DocMeta,
    pub doc: OutreachDoc,
    pub view: OutreachView,
}

/// A resident log (ADR 0030): its rounds and food-club evenings, withdrawn ones included.
#[derive(Debug)]
pub struct ResidentLogEntry {
    pub meta: DocMeta,
    pub doc: ResidentLogDoc,
    pub rounds: BTreeMap<RoundId, AmbassadorRound>,
    pub evenings: BTreeMap<EveningId, FoodClubEvening>,
}

/// A stored record (or a whole document) that does not read as the core's type: older data,
/// or anything that slipped through. The pages skip it and say so ([`TenantData::flags`]).
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// The document's title.
    pub document: String,
    /// `container/key`, a single record's root key, or `dokument` for a whole document.
    pub record: String,
}

/// At most this many unreadable records are listed per document.
const UNREADABLE_PER_DOCUMENT: usize = 20;

/// Everything of a tenant the viewer may see.
#[derive(Debug)]
pub struct TenantData {
    pub today: Date,
    pub catalogue: Catalogue,
    pub tenant_meta: Option<DocMeta>,
    /// The tenant's settings (the board's small-number threshold among them).
    pub settings: nabo_core::docs::tenant::Settings,
    pub areas: BTreeMap<AreaId, HousingArea>,
    pub programmes: BTreeMap<ProgrammeId, Programme>,
    pub orgs: BTreeMap<OrgId, Organisation>,
    pub staff_meta: Option<DocMeta>,
    pub staff: BTreeMap<StaffId, StaffMember>,
    pub assignments: BTreeMap<AssignmentId, RoleAssignment>,
    pub volunteers_meta: Option<DocMeta>,
    pub volunteers: BTreeMap<VolunteerId, Volunteer>,
    pub engagements: BTreeMap<EngagementId, Engagement>,
    pub activities: Entries<ActivityEntry>,
    pub registers: Entries<RegisterEntry>,
    pub outreach: Entries<OutreachEntry>,
    /// Resident logs: ambassador rounds and food-club evenings (ADR 0030).
    pub resident_logs: Entries<ResidentLogEntry>,
    /// What the pages skipped because it does not read.
    pub unreadable: Vec<Unreadable>,
    keys: HashMap<String, SubjectKey>,
    /// Actor (hex) → where its changes came from, in Danish.
    devices: HashMap<String, String>,
    /// Activity id → its place in `activities`, made on the first [`TenantData::activity`]
    /// (pages look activities up per register and per review item: a national tenant has
    /// thousands).
    activity_index: std::sync::OnceLock<BTreeMap<ActivityId, usize>>,
}

impl TenantData {
    /// Loads every document of `p`'s tenant that `p` may read. Board members read nothing
    /// but the tenant document; their pages are computed with [`TenantData::load_all`].
    pub async fn load(s: &AppState, p: &Principal) -> Result<Self, WebError> {
        Self::load_filtered(s, &p.tenant, |m| access(p, m) != Access::None).await
    }

    /// Loads every document of a tenant (aggregates for the board view only).
    pub async fn load_all(s: &AppState, tenant: &TenantId) -> Result<Self, WebError> {
        Self::load_filtered(s, tenant, |_| true).await
    }

    /// The notice on a page that some stored records were skipped because they do not read
    /// (empty when all read): which document and record, so staff can have them repaired.
    pub fn flags(&self) -> maud::Markup {
        let n = self.unreadable.len();
        maud::html! {
            @if n > 0 {
                section class="problem" role="alert" aria-labelledby="ulaeselige" {
                    h2 id="ulaeselige" { "Data der ikke kan læses" }
                    p {
                        @if n == 1 { "1 post kunne ikke læses og er sprunget over" }
                        @else { (n) " poster kunne ikke læses og er sprunget over" }
                        ". Siden viser resten. Kontakt den driftsansvarlige, så det kan rettes."
                    }
                    ul {
                        @for u in &self.unreadable {
                            li { (u.document) ": " code { (u.record) } }
                        }
                    }
                }
            }
        }
    }

    /// Takes what a decoded document adds to the pages.
    fn take(&mut self, part: &Part) {
        match part {
            Part::Tenant(t) => {
                self.settings = t.settings.clone();
                self.catalogue = t.catalogue.clone();
                self.areas = t.areas.clone();
                self.programmes = t.programmes.clone();
                self.orgs = t.orgs.clone();
                self.tenant_meta = Some(t.meta.clone());
            }
            Part::Staff(t) => {
                self.staff = t.staff.clone();
                self.assignments = t.assignments.clone();
                self.staff_meta = Some(t.meta.clone());
            }
            Part::Volunteers(t) => {
                self.volunteers = t.volunteers.clone();
                self.engagements = t.engagements.clone();
                self.volunteers_meta = Some(t.meta.clone());
            }
            Part::Activity(a) => self.activities.0.push(a.clone()),
            Part::Register(r) => self.registers.0.push(r.clone()),
            Part::Outreach(o) => self.outreach.0.push(o.clone()),
            Part::ResidentLog(r) => self.resident_logs.0.push(r.clone()),
            Part::Nothing => {}
        }
    }

    async fn load_filtered(
        s: &AppState,
        tenant: &TenantId,
        visible: impl Fn(&DocMeta) -> bool,
    ) -> Result<Self, WebError> {
        let docs = s.storage.documents_versioned(tenant).await?;
        let base = Catalogue::builtin()?;
        let mut d = TenantData {
            today: s.clock.today_dk(),
            catalogue: base.clone(),
            tenant_meta: None,
            settings: Default::default(),
            areas: BTreeMap::new(),
            programmes: BTreeMap::new(),
            orgs: BTreeMap::new(),
            staff_meta: None,
            staff: BTreeMap::new(),
            assignments: BTreeMap::new(),
            volunteers_meta: None,
            volunteers: BTreeMap::new(),
            engagements: BTreeMap::new(),
            activities: Entries::default(),
            registers: Entries::default(),
            outreach: Entries::default(),
            resident_logs: Entries::default(),
            unreadable: Vec::new(),
            keys: HashMap::new(),
            devices: HashMap::new(),
            activity_index: std::sync::OnceLock::new(),
        };
        let cache = &s.hub.pages;
        for (meta, version) in docs.into_iter().filter(|(m, _)| visible(m)) {
            let decoded = match cache.get(&meta, version.version) {
                Some(hit) => hit,
                None => match Decoded::read(s, meta, version, base).await? {
                    Some(read) => {
                        let read = Arc::new(read);
                        cache.put(read.clone());
                        read
                    }
                    None => continue,
                },
            };
            d.unreadable.extend(decoded.unreadable.iter().cloned());
            d.take(&decoded.part);
        }
        // The keys for the names the pages show: participants and volunteers.
        let mut subjects: Vec<String> = d
            .registers
            .iter()
            .flat_map(|r| r.view.participants.keys().map(|p| p.to_string()))
            .collect();
        subjects.extend(d.volunteers.keys().map(|v| v.to_string()));
        // A child in two terms' registers is one subject with one key.
        subjects.sort_unstable();
        subjects.dedup();
        let keys = s
            .vault
            .keys(s.storage.as_ref(), tenant, None, &subjects)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "subject keys for the pages could not be read");
                super::WebError::Unavailable
            })?;
        for (subject, key) in keys {
            d.keys.insert(
                subject,
                SubjectKey::from_bytes(&key).ok_or(super::WebError::Internal)?,
            );
        }
        // Devices: which login and phone first sent each actor's changes.
        let actors = s.storage.actors(tenant).await?;
        if !actors.is_empty() {
            let mut users: HashMap<String, String> = HashMap::new();
            let mut phones: HashMap<String, String> = HashMap::new();
            for u in s.storage.users(tenant).await? {
                for dev in s.storage.devices(&u.id).await? {
                    phones.insert(dev.id, dev.name);
                }
                users.insert(u.id, u.display_name);
            }
            for (actor, (user, device)) in actors {
                let who = users.get(&user).cloned().unwrap_or_default();
                let name = match device.and_then(|dv| phones.get(&dv).cloned()) {
                    Some(phone) => phone,
                    None => format!("{who} (kontoret)"),
                };
                d.devices.insert(actor, name);
            }
        }
        d.activities
            .0
            .sort_by(|a, b| a.activity.name.cmp(&b.activity.name));
        Ok(d)
    }

    /// Opens a sealed name with the subject's key, if the relay holds it.
    pub fn open(&self, subject: &str, sealed: &Sealed) -> Option<String> {
        let key = self.keys.get(subject)?;
        open(key, subject, sealed).ok()
    }

    /// The device an actor's changes came from: the phone's name, "(kontoret)" for the web
    /// pages and staff clients, or a short actor id when the relay never saw it arrive (e.g.
    /// imported or seeded data).
    pub fn device(&self, actor_hex: &str) -> String {
        self.devices.get(actor_hex).cloned().unwrap_or_else(|| {
            format!(
                "ukendt enhed {}",
                actor_hex.chars().take(6).collect::<String>()
            )
        })
    }

    /// A participant as staff see it: the first name or pseudonym if its key is held (not
    /// erased), else the age band and a short code.
    pub fn participant_name(&self, reg: &RegisterEntry, id: &ParticipantId) -> String {
        let v = reg.view.participants.get(id);
        if v.is_some_and(nabo_core::erasure::is_erased) {
            return "Slettet person".into();
        }
        let p = v.map(|p| &p.current);
        let band = p.map(|p| self.age_band(p.age_band.as_str()));
        // A withdrawn consent stops processing the name here too (ADR 0027): the pages show
        // the person as the phones do, without it.
        let withdrawn = p
            .and_then(|p| p.consent.as_ref())
            .and_then(|c| c.withdrawn_on)
            .is_some_and(|on| on <= self.today);
        if withdrawn {
            return format!(
                "Deltager {} · {} (samtykke trukket tilbage)",
                band.unwrap_or_default(),
                short(id.as_str())
            );
        }
        match p
            .and_then(nabo_core::erasure::shown_label)
            .and_then(|l| self.open(id.as_str(), l))
        {
            Some(name) => name,
            None => format!(
                "Deltager {} · {}",
                band.unwrap_or_default(),
                short(id.as_str())
            ),
        }
    }

    /// An age band's Danish label.
    pub fn age_band(&self, code: &str) -> String {
        self.catalogue
            .age_band(code)
            .map_or_else(|| code.to_owned(), |t| t.name_da.clone())
    }

    /// A vocabulary term's Danish label.
    pub fn term(&self, v: Vocabulary, code: &str) -> String {
        self.catalogue
            .term(v, code)
            .map_or_else(|| code.to_owned(), |t| t.name_da.clone())
    }

    /// A volunteer's name (if the key is held) or a neutral label.
    pub fn volunteer_name(&self, id: &VolunteerId) -> String {
        if self.volunteers.get(id).is_some_and(|v| v.erased.is_some()) {
            return "Slettet frivillig".into();
        }
        self.volunteers
            .get(id)
            .and_then(|v| v.name.as_ref())
            .and_then(|n| self.open(id.as_str(), n))
            .unwrap_or_else(|| format!("Frivillig {}", short(id.as_str())))
    }

    /// A staff member's name as the pages show it: none after an erasure.
    pub fn staff_name(&self, id: &StaffId) -> String {
        match self.staff.get(id) {
            Some(s) if s.erased.is_some() => "Slettet medarbejder".into(),
            Some(s) => s.name.clone(),
            None => format!("Medarbejder {}", short(id.as_str())),
        }
    }

    /// The staff members the pages offer to choose (in a role, a network): not the erased.
    pub fn choosable_staff(&self) -> impl Iterator<Item = (&StaffId, &StaffMember)> {
        self.staff.iter().filter(|(_, m)| m.erased.is_none())
    }

    /// Who wrote something.
    pub fn by_name(&self, by: &By) -> String {
        match by {
            By::Staff(id) => self.staff_name(id),
            By::Volunteer(id) => self.volunteer_name(id),
            By::System => "Nabo".into(),
        }
    }

    /// A known person of an outreach log as staff see them: the label while the relay holds
    /// the key, never after an erasure.
    pub fn known_person_name(&self, o: &OutreachEntry, id: &ParticipantId) -> String {
        let p = o.view.people.get(id);
        if p.is_some_and(|p| p.erased.is_some()) {
            return "Slettet person".into();
        }
        match p
            .and_then(|p| p.label.as_ref())
            .and_then(|l| self.open(id.as_str(), l))
        {
            Some(name) => name,
            None => format!(
                "Kendt person {} · {}",
                p.map(|p| self.age_band(p.age_band.as_str()))
                    .unwrap_or_default(),
                short(id.as_str())
            ),
        }
    }

    /// An outreach log's title on the pages: area, worker and quarter, so two workers' logs
    /// of the same quarter read apart ("Opsøgende log: Vestbyen, Sara Jensen, 4. kvartal
    /// 2026"). The stored title has no name in it (no personal data in plain columns).
    pub fn outreach_title(&self, o: &OutreachEntry) -> String {
        let q = o.doc.quarter();
        format!(
            "Opsøgende log: {}, {}, {}. kvartal {}",
            self.area_name(o.doc.area()),
            self.by_name(&By::Staff(o.doc.worker().clone())),
            q.q,
            q.year
        )
    }

    /// Age band codes in age order (7–9 before 10–12).
    pub fn by_age<'a, T>(
        &self,
        items: impl IntoIterator<Item = (&'a String, T)>,
    ) -> Vec<(&'a String, T)> {
        let mut v: Vec<_> = items.into_iter().collect();
        v.sort_by_key(|(code, _)| self.catalogue.age_band_order(code));
        v
    }

    /// An area's name.
    pub fn area_name(&self, id: &AreaId) -> String {
        self.areas
            .get(id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    }

    /// The housing areas that are not archived (lists and pickers; ADR 0022). Reports of a
    /// period use [`TenantData::areas`], archived ones included.
    pub fn live_areas(&self) -> impl Iterator<Item = (&AreaId, &HousingArea)> {
        self.areas.iter().filter(|(_, a)| !a.archived)
    }

    /// The programmes that are not archived (see [`TenantData::live_areas`]).
    pub fn live_programmes(&self) -> impl Iterator<Item = (&ProgrammeId, &Programme)> {
        self.programmes.iter().filter(|(_, p)| !p.archived)
    }

    /// The activities that are not archived (see [`TenantData::live_areas`]).
    pub fn live_activities(&self) -> impl Iterator<Item = &ActivityEntry> {
        self.activities.iter().filter(|a| !a.activity.archived)
    }

    /// An activity by id.
    pub fn activity(&self, id: &ActivityId) -> Option<&ActivityEntry> {
        let index = self.activity_index.get_or_init(|| {
            let mut index = BTreeMap::new();
            for (i, a) in self.activities.iter().enumerate() {
                // The first of equal ids, as a search from the front found it.
                index.entry(a.id.clone()).or_insert(i);
            }
            index
        });
        index
            .get(id)
            .and_then(|&i| self.activities.0.get(i))
            .map(|a| &**a)
    }

    /// A register by document id.
    pub fn register(&self, id: DocumentId) -> Option<&RegisterEntry> {
        self.registers.iter().find(|r| r.meta.id == id)
    }

    /// The intervention area (code, Danish name) of an activity's primary type.
    pub fn intervention_area(&self, a: &Activity) -> (String, String) {
        let t = self
            .catalogue
            .activity_type(a.taxonomy.as_str(), a.primary_type.as_str());
        let code = t.map_or_else(
            || {
                a.primary_type
                    .as_str()
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            },
            |t| t.area.clone(),
        );
        let name = self
            .catalogue
            .area(a.taxonomy.as_str(), &code)
            .map_or_else(|| code.clone(), |ar| ar.name_da.clone());
        (code, name)
    }

    /// An activity type's Danish name.
    pub fn activity_type_name(&self, a: &Activity) -> String {
        self.catalogue
            .activity_type(a.taxonomy.as_str(), a.primary_type.as_str())
            .map_or_else(|| a.primary_type.to_string(), |t| t.name_da.clone())
    }
}

/// Decoded documents of one kind, shared with the page cache: iterates as `&T`.
#[derive(Debug)]
pub struct Entries<T>(Vec<Arc<T>>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<T> Entries<T> {
    /// The entries, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &T> + DoubleEndedIterator + Clone + '_ {
        self.0.iter().map(|e| &**e)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first.
    pub fn first(&self) -> Option<&T> {
        self.0.first().map(|e| &**e)
    }
}

impl<'a, T> IntoIterator for &'a Entries<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Arc<T>>, fn(&'a Arc<T>) -> &'a T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|e| &**e)
    }
}

/// A document as the pages use it, decoded once per stored version and shared by page loads
/// through [`super::cache::PageCache`] (ADR 0028).
#[derive(Debug)]
pub struct Decoded {
    /// The document as registered when it was read.
    pub meta: DocMeta,
    /// The stored version it was read at.
    pub version: i64,
    /// Estimated memory (the cache's weight).
    pub weight: u64,
    /// Records that do not read (shown as a notice on the pages).
    pub unreadable: Vec<Unreadable>,
    /// What it adds to the pages.
    pub part: Part,
}

/// What one document adds to [`TenantData`].
#[derive(Debug)]
pub enum Part {
    /// The tenant document: catalogue, settings, areas, programmes, organisations.
    Tenant(Box<TenantPart>),
    /// The staff directory.
    Staff(Box<StaffPart>),
    /// The volunteer directory.
    Volunteers(Box<VolunteersPart>),
    /// An activity.
    Activity(Arc<ActivityEntry>),
    /// A register with its merged view.
    Register(Arc<RegisterEntry>),
    /// An outreach log with its merged view.
    Outreach(Arc<OutreachEntry>),
    /// A resident log.
    ResidentLog(Arc<ResidentLogEntry>),
    /// Nothing the pages read from here (a network; a document that does not read).
    Nothing,
}

/// The tenant document's part.
#[derive(Debug)]
pub struct TenantPart {
    meta: DocMeta,
    catalogue: Catalogue,
    settings: nabo_core::docs::tenant::Settings,
    areas: BTreeMap<AreaId, HousingArea>,
    programmes: BTreeMap<ProgrammeId, Programme>,
    orgs: BTreeMap<OrgId, Organisation>,
}

/// The staff directory's part.
#[derive(Debug)]
pub struct StaffPart {
    meta: DocMeta,
    staff: BTreeMap<StaffId, StaffMember>,
    assignments: BTreeMap<AssignmentId, RoleAssignment>,
}

/// The volunteer directory's part.
#[derive(Debug)]
pub struct VolunteersPart {
    meta: DocMeta,
    volunteers: BTreeMap<VolunteerId, Volunteer>,
    engagements: BTreeMap<EngagementId, Engagement>,
}

impl Decoded {
    /// Reads and decodes a document stored at `version` (read before the chunks, so the
    /// entry is never newer than its version says). A storage failure is an error; a
    /// document that does not load at all is logged and skipped (`None`).
    async fn read(
        s: &AppState,
        meta: DocMeta,
        version: crate::storage::DocVersion,
        base: &Catalogue,
    ) -> Result<Option<Self>, WebError> {
        let doc = match crate::relay::doc::load(s.storage.as_ref(), meta.id).await {
            Ok(l) => l.doc,
            Err(crate::relay::OpenError::Storage(e)) => return Err(e.into()),
            Err(crate::relay::OpenError::Damaged) => {
                tracing::error!(doc = %meta.id, "stored document does not load");
                return Ok(None);
            }
        };
        let mut unreadable = Vec::new();
        for u in nabo_core::rules::unreadable(&doc, UNREADABLE_PER_DOCUMENT) {
            tracing::warn!(doc = %meta.id, record = %u.record, reason = u.reason, "a stored record does not read; skipped on the pages");
            unreadable.push(Unreadable {
                document: meta.title.clone(),
                record: u.record,
            });
        }
        let part = match Self::decode(doc, &meta, base) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(doc = %meta.id, error = %e, "a stored document does not read; skipped on the pages");
                // Named by its records when they are known, else as a whole.
                if unreadable.is_empty() {
                    unreadable.push(Unreadable {
                        document: meta.title.clone(),
                        record: "dokument".into(),
                    });
                }
                Part::Nothing
            }
        };
        Ok(Some(Decoded {
            weight: super::cache::weight(version.size),
            version: version.version,
            meta,
            unreadable,
            part,
        }))
    }

    /// One loaded document, typed, with its merged view.
    fn decode(
        doc: nabo_core::document::NaboDoc,
        meta: &DocMeta,
        base: &Catalogue,
    ) -> nabo_core::Result<Part> {
        let meta = meta.clone();
        Ok(match meta.kind {
            DocKind::Tenant => {
                let t = TenantDoc::from_doc(doc)?;
                Part::Tenant(Box::new(TenantPart {
                    catalogue: t.catalogue(base)?,
                    areas: t.areas()?,
                    programmes: t.programmes()?,
                    orgs: t.organisations()?,
                    settings: t.settings()?,
                    meta,
                }))
            }
            DocKind::Staff => {
                let t = StaffDoc::from_doc(doc)?;
                Part::Staff(Box::new(StaffPart {
                    staff: t.staff()?,
                    assignments: t.assignments()?,
                    meta,
                }))
            }
            DocKind::Volunteers => {
                let t = VolunteersDoc::from_doc(doc)?;
                Part::Volunteers(Box::new(VolunteersPart {
                    volunteers: t.volunteers()?,
                    engagements: t.engagements()?,
                    meta,
                }))
            }
            DocKind::Activity => {
                let a = ActivityDoc::from_doc(doc)?;
                let activity = a.activity()?.current;
                Part::Activity(Arc::new(ActivityEntry {
                    meta,
                    id: a.id().clone(),
                    doc: a,
                    activity,
                }))
            }
            DocKind::Register => {
                let r = RegisterDoc::from_doc(doc)?;
                let view = r.view()?;
                Part::Register(Arc::new(RegisterEntry::new(meta, r, view)))
            }
            DocKind::Outreach => {
                let o = OutreachDoc::from_doc(doc)?;
                let view = o.view()?;
                Part::Outreach(Arc::new(OutreachEntry { meta, doc: o, view }))
            }
            DocKind::ResidentLog => {
                let doc = ResidentLogDoc::from_doc(doc)?;
                Part::ResidentLog(Arc::new(ResidentLogEntry {
                    meta,
                    rounds: doc.rounds()?,
                    evenings: doc.evenings()?,
                    doc,
                }))
            }
            DocKind::Network => Part::Nothing,
        })
    }
}

/// The last four characters of an id (enough to tell records apart on a page).
pub fn short(id: &str) -> String {
    let n = id.chars().count();
    id.chars().skip(n.saturating_sub(4)).collect()
}
