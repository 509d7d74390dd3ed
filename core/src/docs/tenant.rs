//! The tenant document: organisations, housing areas, programmes, settings and the tenant's
//! local additions to the catalogue. Readable by everyone in the tenant (no personal data).

use std::collections::BTreeMap;

use automerge::ActorId;
use autosurgeon::{Hydrate, Reconcile};

use super::activity::typed_keys;
use super::{MAX_NAME, require_text};
use crate::catalogue::{
    ActivityType, Catalogue, GroupKind, LibraryIndicator, LocalCatalogue, TargetGroup,
    TargetGroupRef,
};
use crate::document::{Author, NaboDoc, Scope, read_all, read_one, typed_doc, write_record};
use crate::error::{Reason, Result, invalid};
use crate::ids::{AreaId, Code, OrgId, ProgrammeId, TenantId};
use crate::model::org::{HousingArea, Organisation};
use crate::model::programme::Programme;
use crate::model::{Hardness, IndicatorSource, IndicatorUnit, Priority};

/// The tenant document.
#[derive(Debug, Clone)]
pub struct TenantDoc {
    doc: NaboDoc,
}
typed_doc!(TenantDoc, crate::document::DocKind::Tenant);

/// Tenant-wide settings (DOMAIN.md §4).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Settings {
    /// Display name of the tenant.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Free-text notes on outreach contacts are allowed (off by default).
    pub free_text_notes: bool,
    /// The age below which a parent or guardian consents for the person (ADR 0027; 13–18,
    /// default 15: the age the child-certificate rule and the age bands split at; Denmark's
    /// age of digital consent is 13, a bill proposed 15). Used by the consent operations.
    pub consent_age: u8,
    /// Counts below this are suppressed in the board view.
    pub small_cell_threshold: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name: String::new(),
            free_text_notes: false,
            consent_age: crate::consent::DEFAULT_GUARDIAN_AGE,
            small_cell_threshold: 5,
        }
    }
}

/// A tenant's local activity type, as stored.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct LocalActivityType {
    /// Taxonomy it extends.
    pub taxonomy: Code,
    /// Intervention area.
    pub area: Code,
    /// Danish name.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name_da: String,
    /// Default target groups with priority.
    pub target_groups: crate::model::IdMap<Code, Priority>,
}

/// A tenant's local target group, as stored.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct LocalTargetGroup {
    /// Danish name.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name_da: String,
    /// Youngest age.
    pub min_age: Option<u8>,
    /// Oldest age.
    pub max_age: Option<u8>,
}

/// A tenant's local indicator, as stored.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct LocalIndicator {
    /// Danish name.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name_da: String,
    /// Unit.
    pub unit: IndicatorUnit,
    /// Source.
    pub source: IndicatorSource,
    /// Hard or soft.
    pub hardness: Hardness,
}

impl TenantDoc {
    /// Creates the tenant document.
    pub fn create(
        tenant: TenantId,
        actor: ActorId,
        author: &Author,
        settings: Settings,
    ) -> Result<Self> {
        require_text("name", &settings.name, MAX_NAME)?;
        let mut doc = NaboDoc::create(Scope::Tenant { tenant }, actor)?;
        doc.write(author, "create-tenant", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "info", &settings)?;
            Ok(())
        })?;
        Ok(TenantDoc { doc })
    }

    /// Settings.
    pub fn settings(&self) -> Result<Settings> {
        Ok(
            autosurgeon::hydrate_prop(self.doc.automerge(), automerge::ROOT, "info")
                .unwrap_or_default(),
        )
    }

    /// Changes settings.
    pub fn set_settings(&mut self, author: &Author, settings: Settings) -> Result<()> {
        require_text("name", &settings.name, MAX_NAME)?;
        if !(13..=18).contains(&settings.consent_age) {
            return invalid("consent_age", Reason::OutOfRange, "between 13 and 18");
        }
        if !(1..=20).contains(&settings.small_cell_threshold) {
            return invalid(
                "small_cell_threshold",
                Reason::OutOfRange,
                "between 1 and 20",
            );
        }
        self.doc.write(author, "set-settings", |tx| {
            autosurgeon::reconcile_prop(tx, automerge::ROOT, "info", &settings)?;
            Ok(())
        })
    }

    /// Adds or updates an organisation.
    pub fn put_organisation(
        &mut self,
        author: &Author,
        id: &OrgId,
        org: Organisation,
    ) -> Result<()> {
        require_text("name", &org.name, MAX_NAME)?;
        if let Some(parent) = &org.parent {
            if parent == id {
                return invalid(
                    "parent",
                    Reason::Inconsistent,
                    "an organisation cannot be its own parent",
                );
            }
            if read_one::<_, Organisation>(self.doc.automerge(), "organisations", parent.as_str())?
                .is_none()
            {
                return invalid("parent", Reason::NotFound, "no such organisation");
            }
        }
        self.doc.write(author, "put-organisation", |tx| {
            write_record(tx, "organisations", id.as_str(), &org)
        })
    }

    /// Organisations.
    pub fn organisations(&self) -> Result<BTreeMap<OrgId, Organisation>> {
        typed_keys(read_all(self.doc.automerge(), "organisations")?)
    }

    /// Adds or updates a housing area.
    pub fn put_area(&mut self, author: &Author, id: &AreaId, area: HousingArea) -> Result<()> {
        require_text("name", &area.name, MAX_NAME)?;
        let orgs = self.organisations()?;
        if area
            .municipality
            .as_ref()
            .is_some_and(|m| !orgs.contains_key(m))
        {
            return invalid("municipality", Reason::NotFound, "no such organisation");
        }
        for d in area.departments.values() {
            require_text("departments", &d.name, MAX_NAME)?;
            if d.housing_org
                .as_ref()
                .is_some_and(|o| !orgs.contains_key(o))
            {
                return invalid(
                    "departments",
                    Reason::NotFound,
                    "no such housing organisation",
                );
            }
        }
        for v in area.venues.values() {
            require_text("venues", &v.name, MAX_NAME)?;
        }
        self.doc.write(author, "put-area", |tx| {
            write_record(tx, "areas", id.as_str(), &area)
        })
    }

    /// Housing areas.
    pub fn areas(&self) -> Result<BTreeMap<AreaId, HousingArea>> {
        typed_keys(read_all(self.doc.automerge(), "areas")?)
    }

    /// Adds or updates a programme.
    pub fn put_programme(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &ProgrammeId,
        p: Programme,
    ) -> Result<()> {
        require_text("name", &p.name, MAX_NAME)?;
        if p.end < p.start {
            return invalid(
                "end",
                Reason::EndBeforeStart,
                "the programme ends before it starts",
            );
        }
        if cat.taxonomy(p.taxonomy.as_str()).is_none() {
            return invalid(
                "taxonomy",
                Reason::UnknownCode,
                format!("{} is not a taxonomy", p.taxonomy),
            );
        }
        let total: u32 = p.funding.values().map(|f| u32::from(f.share_pct)).sum();
        if total > 100 {
            return invalid(
                "funding",
                Reason::OutOfRange,
                "funding shares add up to more than 100 %",
            );
        }
        if p.public_framing_pct > 100 {
            return invalid("public_framing_pct", Reason::OutOfRange, "0 to 100");
        }
        if p.process_phase.is_some_and(|ph| !(1..=5).contains(&ph)) {
            return invalid("process_phase", Reason::OutOfRange, "phases 1 to 5");
        }
        if let Some(b) = &p.board {
            check_board(b)?;
        }
        let areas = self.areas()?;
        if p.areas.iter().any(|a| !areas.contains_key(a)) {
            return invalid("areas", Reason::NotFound, "no such housing area");
        }
        let orgs = self.organisations()?;
        if p.signatories.iter().any(|o| !orgs.contains_key(o))
            || p.funding
                .values()
                .any(|f| f.org.as_ref().is_some_and(|o| !orgs.contains_key(o)))
            || p.board
                .as_ref()
                .is_some_and(|b| b.members.values().any(|m| !orgs.contains_key(&m.org)))
        {
            return invalid("organisations", Reason::NotFound, "no such organisation");
        }
        self.doc.write(author, "put-programme", |tx| {
            write_record(tx, "programmes", id.as_str(), &p)
        })
    }

    /// Programmes.
    pub fn programmes(&self) -> Result<BTreeMap<ProgrammeId, Programme>> {
        typed_keys(read_all(self.doc.automerge(), "programmes")?)
    }

    /// Edits an existing organisation: `f` changes a copy of the current record, which is
    /// then validated like a new one. An unknown id is refused, never created.
    pub fn edit_organisation(
        &mut self,
        author: &Author,
        id: &OrgId,
        f: impl FnOnce(&mut Organisation),
    ) -> Result<()> {
        let mut o = self.existing::<Organisation>("organisations", id.as_str(), "organisation")?;
        f(&mut o);
        self.put_organisation(author, id, o)
    }

    /// Edits an existing housing area (see [`TenantDoc::edit_organisation`]).
    pub fn edit_area(
        &mut self,
        author: &Author,
        id: &AreaId,
        f: impl FnOnce(&mut HousingArea),
    ) -> Result<()> {
        let mut a = self.existing::<HousingArea>("areas", id.as_str(), "area")?;
        f(&mut a);
        self.put_area(author, id, a)
    }

    /// Edits an existing programme (see [`TenantDoc::edit_organisation`]).
    pub fn edit_programme(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &ProgrammeId,
        f: impl FnOnce(&mut Programme),
    ) -> Result<()> {
        let mut p = self.existing::<Programme>("programmes", id.as_str(), "programme")?;
        f(&mut p);
        self.put_programme(author, cat, id, p)
    }

    /// Archives (`true`) or restores (`false`) an organisation (ADR 0022). Archived
    /// records leave lists and pickers but stay in history and in reports of their period;
    /// archiving what is archived already changes nothing.
    pub fn set_organisation_archived(
        &mut self,
        author: &Author,
        id: &OrgId,
        archived: bool,
    ) -> Result<()> {
        let o = self.existing::<Organisation>("organisations", id.as_str(), "organisation")?;
        if o.archived == archived {
            return Ok(());
        }
        self.edit_organisation(author, id, |o| o.archived = archived)
    }

    /// Archives or restores a housing area (see [`TenantDoc::set_organisation_archived`]).
    pub fn set_area_archived(
        &mut self,
        author: &Author,
        id: &AreaId,
        archived: bool,
    ) -> Result<()> {
        let a = self.existing::<HousingArea>("areas", id.as_str(), "area")?;
        if a.archived == archived {
            return Ok(());
        }
        self.edit_area(author, id, |a| a.archived = archived)
    }

    /// Archives or restores a programme (see [`TenantDoc::set_organisation_archived`]).
    pub fn set_programme_archived(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        id: &ProgrammeId,
        archived: bool,
    ) -> Result<()> {
        let p = self.existing::<Programme>("programmes", id.as_str(), "programme")?;
        if p.archived == archived {
            return Ok(());
        }
        self.edit_programme(author, cat, id, |p| p.archived = archived)
    }

    /// The current version of a record that must exist.
    fn existing<T: autosurgeon::Hydrate>(
        &self,
        collection: &str,
        key: &str,
        field: &'static str,
    ) -> Result<T> {
        match read_one::<_, T>(self.doc.automerge(), collection, key)? {
            Some(v) => Ok(v.current),
            None => invalid(field, Reason::NotFound, format!("no such {field}")),
        }
    }

    /// Adds a local activity type to a taxonomy. The code must be `<AREA>.<slug>` and new.
    pub fn add_local_activity_type(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        code: &Code,
        t: LocalActivityType,
    ) -> Result<()> {
        require_text("name_da", &t.name_da, MAX_NAME)?;
        if cat.area(t.taxonomy.as_str(), t.area.as_str()).is_none() {
            return invalid("area", Reason::UnknownCode, "not an area of the taxonomy");
        }
        if !code.as_str().starts_with(&format!("{}.", t.area)) {
            return invalid(
                "code",
                Reason::Inconsistent,
                "a type code starts with its area code",
            );
        }
        if cat
            .activity_type(t.taxonomy.as_str(), code.as_str())
            .is_some()
        {
            return invalid("code", Reason::AlreadyExists, "the code is taken");
        }
        if t.target_groups
            .keys()
            .any(|g| cat.target_group(g.as_str()).is_none())
        {
            return invalid("target_groups", Reason::UnknownCode, "unknown target group");
        }
        self.doc.write(author, "add-local-type", |tx| {
            write_record(tx, "local_activity_types", code.as_str(), &t)
        })
    }

    /// Adds a local target group.
    pub fn add_local_target_group(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        code: &Code,
        g: LocalTargetGroup,
    ) -> Result<()> {
        require_text("name_da", &g.name_da, MAX_NAME)?;
        if cat.target_group(code.as_str()).is_some() {
            return invalid("code", Reason::AlreadyExists, "the code is taken");
        }
        if let (Some(a), Some(b)) = (g.min_age, g.max_age)
            && (a > b || b > 120)
        {
            return invalid("max_age", Reason::OutOfRange, "0 ≤ min_age ≤ max_age ≤ 120");
        }
        self.doc.write(author, "add-local-group", |tx| {
            write_record(tx, "local_target_groups", code.as_str(), &g)
        })
    }

    /// Adds a local indicator.
    pub fn add_local_indicator(
        &mut self,
        author: &Author,
        cat: &Catalogue,
        code: &Code,
        i: LocalIndicator,
    ) -> Result<()> {
        require_text("name_da", &i.name_da, MAX_NAME)?;
        if cat.indicator(code.as_str()).is_some() {
            return invalid("code", Reason::AlreadyExists, "the code is taken");
        }
        self.doc.write(author, "add-local-indicator", |tx| {
            write_record(tx, "local_indicators", code.as_str(), &i)
        })
    }

    /// The local additions, in the catalogue's form (for [`Catalogue::with_local`]).
    pub fn local_catalogue(&self) -> Result<LocalCatalogue> {
        let am = self.doc.automerge();
        let types: BTreeMap<Code, LocalActivityType> =
            typed_keys(read_all(am, "local_activity_types")?)?;
        let groups: BTreeMap<Code, LocalTargetGroup> =
            typed_keys(read_all(am, "local_target_groups")?)?;
        let indicators: BTreeMap<Code, LocalIndicator> =
            typed_keys(read_all(am, "local_indicators")?)?;
        Ok(LocalCatalogue {
            activity_types: types
                .into_iter()
                .map(|(code, t)| {
                    (
                        t.taxonomy.to_string(),
                        ActivityType {
                            code: code.to_string(),
                            number: None,
                            area: t.area.to_string(),
                            name_da: t.name_da.clone(),
                            name_en: t.name_da,
                            description_da: String::new(),
                            description_en: String::new(),
                            target_groups: t
                                .target_groups
                                .iter()
                                .map(|(g, p)| TargetGroupRef {
                                    group: g.to_string(),
                                    priority: *p,
                                })
                                .collect(),
                            retired: false,
                            placed: None,
                        },
                    )
                })
                .collect(),
            target_groups: groups
                .into_iter()
                .map(|(code, g)| TargetGroup {
                    code: code.to_string(),
                    name_en: g.name_da.clone(),
                    name_da: g.name_da,
                    kind: GroupKind::Person,
                    min_age: g.min_age,
                    max_age: g.max_age,
                    figure1: false,
                    retired: false,
                })
                .collect(),
            indicators: indicators
                .into_iter()
                .map(|(code, i)| LibraryIndicator {
                    code: code.to_string(),
                    name_en: i.name_da.clone(),
                    name_da: i.name_da,
                    unit: i.unit,
                    source: i.source,
                    hardness: i.hardness,
                    computed: false,
                    areas: Vec::new(),
                    retired: false,
                })
                .collect(),
        })
    }

    /// The catalogue with this tenant's additions.
    pub fn catalogue(&self, base: &Catalogue) -> Result<Catalogue> {
        base.with_local(&self.local_catalogue()?)
    }
}

/// What a programme's board must satisfy (ADR 0026): every seat names its function (at
/// organisation level, never a person), and at most one seat chairs the board. That the seats'
/// organisations exist is checked with the programme's other references.
pub fn check_board(b: &crate::model::programme::Board) -> Result<()> {
    for m in b.members.values() {
        require_text("board.function", &m.function, MAX_NAME)?;
    }
    if b.members.values().filter(|m| m.chair).count() > 1 {
        return invalid(
            "board.chair",
            Reason::Inconsistent,
            "a board has at most one chair",
        );
    }
    Ok(())
}
