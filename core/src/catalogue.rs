//! The catalogue: taxonomies of intervention areas and activity types, target groups, the
//! shared indicator library and the small vocabularies — data, not code.
//!
//! The files live in `core/catalogue/` (see its README for the format). They are embedded in
//! the crate so a phone always has them, and parsed at run time by [`Catalogue::builtin`];
//! [`Catalogue::from_files`] loads another set (a newer catalogue shipped as files). A tenant
//! adds local activity types, target groups and indicators in its tenant document; those are
//! merged in with [`Catalogue::with_local`].
//!
//! ```
//! let cat = nabo_core::catalogue::Catalogue::builtin().unwrap();
//! let t = cat.taxonomy("lbf-2006-2010").unwrap();
//! assert_eq!(t.areas.len(), 8);
//! assert_eq!(t.activity_types.len(), 43);
//! let lektiecafe = cat.activity_type("lbf-2006-2010", "BE.lektiecafe").unwrap();
//! assert_eq!(lektiecafe.area, "BE");
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::{Hardness, IndicatorSource, IndicatorUnit, Priority};

/// The files embedded in the crate, by name.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "taxonomies/lbf-2006-2010.toml",
        include_str!("../catalogue/taxonomies/lbf-2006-2010.toml"),
    ),
    (
        "taxonomies/lbf-2011-2014.toml",
        include_str!("../catalogue/taxonomies/lbf-2011-2014.toml"),
    ),
    (
        "taxonomies/lbf-2015-2018.toml",
        include_str!("../catalogue/taxonomies/lbf-2015-2018.toml"),
    ),
    (
        "taxonomies/lbf-2019-2026.toml",
        include_str!("../catalogue/taxonomies/lbf-2019-2026.toml"),
    ),
    (
        "target-groups.toml",
        include_str!("../catalogue/target-groups.toml"),
    ),
    (
        "indicators.toml",
        include_str!("../catalogue/indicators.toml"),
    ),
    (
        "vocabularies.toml",
        include_str!("../catalogue/vocabularies.toml"),
    ),
];

/// The file format this build reads.
pub const FORMAT: u32 = 1;

/// A taxonomy of intervention areas (one per funding round, or a local one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// File format.
    pub format: u32,
    /// Stable id, e.g. `lbf-2006-2010`.
    pub id: String,
    /// Content version.
    pub version: u32,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// Funding round, for LBF taxonomies.
    #[serde(default)]
    pub funding_round: Option<String>,
    /// Where the content comes from.
    #[serde(default)]
    pub source: Option<String>,
    /// Intervention areas, in display order.
    pub areas: Vec<InterventionArea>,
    /// Activity types (only some taxonomies have a type catalogue).
    #[serde(default)]
    pub activity_types: Vec<ActivityType>,
    /// Mappings from an older taxonomy's areas to this one's.
    #[serde(default)]
    pub mappings: Vec<Mapping>,
    /// The taxonomy whose activity types this one offers, each placed under one of this
    /// taxonomy's areas by [`Taxonomy::type_placements`] (the CFBU catalogue in later rounds).
    #[serde(default)]
    pub types_from: Option<String>,
    /// The reviews that placements name (who or what checked them, and on what basis).
    #[serde(default)]
    pub reviews: Vec<Review>,
    /// Types of [`Taxonomy::types_from`] placed under this taxonomy's areas. After loading,
    /// each placed type is also in [`Taxonomy::activity_types`] with its area here.
    #[serde(default)]
    pub type_placements: Vec<TypePlacement>,
}

/// A review of type placements: who or what checked them, when, on what basis.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// Id that placements refer to.
    pub id: String,
    /// Who or what reviewed (a person's role, a body, a document).
    pub by: String,
    /// Date of the review (YYYY-MM-DD).
    pub on: String,
    /// What the placements were checked against.
    pub basis: String,
}

/// One activity type of another taxonomy placed under an area of this one (ADR 0018).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypePlacement {
    /// Type code in [`Taxonomy::types_from`].
    #[serde(rename = "type")]
    pub type_code: String,
    /// Area code in this taxonomy.
    pub area: String,
    /// The [`Review`] that checked it.
    pub review: String,
    /// Why this area.
    pub note: String,
}

/// Where a placed type comes from (set when the catalogue is loaded, never read from a file).
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The source taxonomy (e.g. `lbf-2006-2010`).
    pub from_taxonomy: String,
    /// The type's area in the source taxonomy.
    pub from_area: String,
    /// The review that checked the placement.
    pub review: Review,
    /// Why this area.
    pub note: String,
}

/// An intervention area (indsatsområde).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterventionArea {
    /// Stable code, e.g. `BU`.
    pub code: String,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// Other Danish names seen in the sources.
    #[serde(default)]
    pub aliases_da: Vec<String>,
}

/// An activity type (aktivitetstype).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityType {
    /// Stable code, e.g. `BE.lektiecafe`.
    pub code: String,
    /// Number in the source catalogue.
    #[serde(default)]
    pub number: Option<u32>,
    /// Intervention area code.
    pub area: String,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// Description in Danish.
    #[serde(default)]
    pub description_da: String,
    /// Description in English.
    #[serde(default)]
    pub description_en: String,
    /// Default target groups.
    #[serde(default)]
    pub target_groups: Vec<TargetGroupRef>,
    /// No longer offered for new activities.
    #[serde(default)]
    pub retired: bool,
    /// Set for a type placed from another taxonomy's catalogue.
    #[serde(skip)]
    pub placed: Option<Placed>,
}

/// A default target group of an activity type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroupRef {
    /// Target group code.
    pub group: String,
    /// Primary or secondary.
    pub priority: Priority,
}

/// A mapping of one area to areas of a later taxonomy (approximate, for longitudinal reports).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// `<taxonomy>:<area>`.
    pub from: String,
    /// Area codes in this taxonomy.
    pub to: Vec<String>,
}

/// Whether a target group is people or organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// People.
    Person,
    /// Organisations (department boards, the press, …).
    Organisation,
}

/// A target group (målgruppe).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup {
    /// Stable code.
    pub code: String,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// People or organisations.
    pub kind: GroupKind,
    /// Youngest age, if age-defined.
    #[serde(default)]
    pub min_age: Option<u8>,
    /// Oldest age, if age-defined.
    #[serde(default)]
    pub max_age: Option<u8>,
    /// One of the nine rows of S004 figure 1.
    #[serde(default)]
    pub figure1: bool,
    /// No longer offered.
    #[serde(default)]
    pub retired: bool,
}

impl TargetGroup {
    /// Whether the group includes children under 15 (child certificate rule).
    pub fn includes_children_under_15(&self) -> bool {
        self.min_age.is_some_and(|min| min < 15)
    }
}

/// An indicator of the shared library.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryIndicator {
    /// Stable code, e.g. `attendance.unique-participants`.
    pub code: String,
    /// Danish name.
    pub name_da: String,
    /// English name.
    pub name_en: String,
    /// Unit.
    pub unit: IndicatorUnit,
    /// Source.
    pub source: IndicatorSource,
    /// Hard or soft.
    pub hardness: Hardness,
    /// Nabo computes it from its own records.
    #[serde(default)]
    pub computed: bool,
    /// Typical intervention areas (2006–10 codes).
    #[serde(default)]
    pub areas: Vec<String>,
    /// No longer offered.
    #[serde(default)]
    pub retired: bool,
}

/// An entry of a small vocabulary.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Stable code.
    pub code: String,
    /// Danish label.
    pub name_da: String,
    /// English label.
    pub name_en: String,
    /// Youngest age (age bands).
    #[serde(default)]
    pub min_age: Option<u8>,
    /// Oldest age (age bands).
    #[serde(default)]
    pub max_age: Option<u8>,
    /// No longer offered.
    #[serde(default)]
    pub retired: bool,
}

/// The small controlled vocabularies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Vocabulary {
    /// Age bands (with ages).
    AgeBands,
    /// Outreach topics.
    OutreachTopics,
    /// Outreach outcomes.
    OutreachOutcomes,
    /// Topics of resident ambassadors' doorstep conversations (ADR 0030).
    AmbassadorTopics,
    /// Kinds of outreach contact.
    ContactKinds,
    /// Coarse locations.
    LocationHints,
    /// Referral targets.
    ReferralTargets,
    /// Volunteer role kinds.
    VolunteerRoles,
    /// Recruitment paths.
    RecruitmentPaths,
    /// Reasons a goal was not met.
    NonFulfilmentReasons,
    /// Success themes.
    SuccessThemes,
    /// Kinds of area observation.
    ObservationKinds,
    /// Methods.
    Methods,
    /// Delivery formats.
    DeliveryFormats,
}

impl Vocabulary {
    /// Every vocabulary, with its key in `vocabularies.toml`.
    pub const ALL: &'static [(Vocabulary, &'static str)] = &[
        (Vocabulary::AgeBands, "age_bands"),
        (Vocabulary::OutreachTopics, "outreach_topics"),
        (Vocabulary::OutreachOutcomes, "outreach_outcomes"),
        (Vocabulary::AmbassadorTopics, "ambassador_topics"),
        (Vocabulary::ContactKinds, "contact_kinds"),
        (Vocabulary::LocationHints, "location_hints"),
        (Vocabulary::ReferralTargets, "referral_targets"),
        (Vocabulary::VolunteerRoles, "volunteer_roles"),
        (Vocabulary::RecruitmentPaths, "recruitment_paths"),
        (Vocabulary::NonFulfilmentReasons, "non_fulfilment_reasons"),
        (Vocabulary::SuccessThemes, "success_themes"),
        (Vocabulary::ObservationKinds, "observation_kinds"),
        (Vocabulary::Methods, "methods"),
        (Vocabulary::DeliveryFormats, "delivery_formats"),
    ];

    /// The key in `vocabularies.toml`.
    pub fn key(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(v, _)| *v == self)
            .map(|(_, k)| *k)
            .unwrap_or("")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetGroupsFile {
    format: u32,
    version: u32,
    groups: Vec<TargetGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorsFile {
    format: u32,
    version: u32,
    indicators: Vec<LibraryIndicator>,
}

/// Versions of the loaded files, for display and for reports ("catalogue 2006–10 v1").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Versions {
    /// Taxonomy id → version.
    pub taxonomies: BTreeMap<String, u32>,
    /// Target groups file.
    pub target_groups: u32,
    /// Indicator library.
    pub indicators: u32,
    /// Vocabularies.
    pub vocabularies: u32,
}

/// The loaded catalogue.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    taxonomies: BTreeMap<String, Taxonomy>,
    target_groups: BTreeMap<String, TargetGroup>,
    indicators: BTreeMap<String, LibraryIndicator>,
    vocabularies: BTreeMap<Vocabulary, Vec<Term>>,
    versions: Versions,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::Catalogue(format!("{name}: {e}")))
}

impl Catalogue {
    /// The catalogue embedded in this build, parsed once.
    pub fn builtin() -> Result<&'static Catalogue> {
        static BUILTIN: OnceLock<std::result::Result<Catalogue, String>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Catalogue::from_files(BUILTIN_FILES).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Catalogue(e.clone()))
    }

    /// Loads a catalogue from `(file name, content)` pairs laid out like `core/catalogue/`.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Self> {
        let mut cat = Catalogue::default();
        for (name, text) in files {
            if name.starts_with("taxonomies/") {
                let t: Taxonomy = parse(name, text)?;
                check_format(name, t.format)?;
                cat.versions.taxonomies.insert(t.id.clone(), t.version);
                if cat.taxonomies.insert(t.id.clone(), t).is_some() {
                    return Err(Error::Catalogue(format!("{name}: duplicate taxonomy id")));
                }
            } else if *name == "target-groups.toml" {
                let f: TargetGroupsFile = parse(name, text)?;
                check_format(name, f.format)?;
                cat.versions.target_groups = f.version;
                for g in f.groups {
                    let code = g.code.clone();
                    if cat.target_groups.insert(code.clone(), g).is_some() {
                        return Err(Error::Catalogue(format!("{name}: duplicate group {code}")));
                    }
                }
            } else if *name == "indicators.toml" {
                let f: IndicatorsFile = parse(name, text)?;
                check_format(name, f.format)?;
                cat.versions.indicators = f.version;
                for i in f.indicators {
                    let code = i.code.clone();
                    if cat.indicators.insert(code.clone(), i).is_some() {
                        return Err(Error::Catalogue(format!(
                            "{name}: duplicate indicator {code}"
                        )));
                    }
                }
            } else if *name == "vocabularies.toml" {
                let mut table: toml::Table = parse(name, text)?;
                let format = table.remove("format").and_then(|v| v.as_integer());
                check_format(name, u32::try_from(format.unwrap_or(0)).unwrap_or(0))?;
                cat.versions.vocabularies = table
                    .remove("version")
                    .and_then(|v| v.as_integer())
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0);
                for (vocab, key) in Vocabulary::ALL {
                    let value = table
                        .remove(*key)
                        .ok_or_else(|| Error::Catalogue(format!("{name}: missing {key}")))?;
                    let terms: Vec<Term> = value
                        .try_into()
                        .map_err(|e| Error::Catalogue(format!("{name}: {key}: {e}")))?;
                    cat.vocabularies.insert(*vocab, terms);
                }
                if let Some(extra) = table.keys().next() {
                    return Err(Error::Catalogue(format!("{name}: unknown key {extra}")));
                }
            } else {
                return Err(Error::Catalogue(format!("{name}: unknown catalogue file")));
            }
        }
        cat.place_types()?;
        cat.check()?;
        Ok(cat)
    }

    /// Adds every placed type to its taxonomy's types (with the area of the placement). A
    /// placement must name an existing type, an area of its taxonomy and a review with a
    /// reviewer and a basis; a type is placed at most once per taxonomy.
    fn place_types(&mut self) -> Result<()> {
        let mut placed: Vec<(String, ActivityType)> = Vec::new();
        for t in self.taxonomies.values() {
            let Some(from) = &t.types_from else {
                if !t.type_placements.is_empty() {
                    return Err(Error::Catalogue(format!(
                        "{}: type placements without types_from",
                        t.id
                    )));
                }
                continue;
            };
            let source = self.taxonomies.get(from).ok_or_else(|| {
                Error::Catalogue(format!("{}: types_from {from} is not a taxonomy", t.id))
            })?;
            if source.types_from.is_some() {
                return Err(Error::Catalogue(format!(
                    "{}: types_from {from} places types itself (no chains)",
                    t.id
                )));
            }
            for r in &t.reviews {
                if r.by.trim().is_empty() || r.basis.trim().is_empty() {
                    return Err(Error::Catalogue(format!(
                        "{}: review {} needs by and basis",
                        t.id, r.id
                    )));
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for p in &t.type_placements {
                let err = |what: String| {
                    Err(Error::Catalogue(format!(
                        "{}: placement of {}: {what}",
                        t.id, p.type_code
                    )))
                };
                if !seen.insert(p.type_code.as_str()) {
                    return err("placed twice".into());
                }
                let Some(ty) = source.activity_types.iter().find(|x| x.code == p.type_code) else {
                    return err(format!("not a type of {from}"));
                };
                if !t.areas.iter().any(|a| a.code == p.area) {
                    return err(format!("{} is not an area", p.area));
                }
                let Some(review) = t.reviews.iter().find(|r| r.id == p.review) else {
                    return err(format!("no review {}", p.review));
                };
                if p.note.trim().is_empty() {
                    return err("needs a note".into());
                }
                let mut ty = ty.clone();
                ty.placed = Some(Placed {
                    from_taxonomy: from.clone(),
                    from_area: std::mem::replace(&mut ty.area, p.area.clone()),
                    review: review.clone(),
                    note: p.note.clone(),
                });
                placed.push((t.id.clone(), ty));
            }
        }
        for (tax, ty) in placed {
            if let Some(t) = self.taxonomies.get_mut(&tax) {
                t.activity_types.push(ty);
            }
        }
        Ok(())
    }

    /// Loads the catalogue from a directory laid out like `core/catalogue/`.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self> {
        let mut owned = Vec::new();
        let read = |p: std::path::PathBuf| {
            std::fs::read_to_string(&p)
                .map_err(|e| Error::Catalogue(format!("{}: {e}", p.display())))
        };
        let tax_dir = dir.join("taxonomies");
        let mut entries: Vec<_> = std::fs::read_dir(&tax_dir)
            .map_err(|e| Error::Catalogue(format!("{}: {e}", tax_dir.display())))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        entries.sort();
        for p in entries {
            let name = format!(
                "taxonomies/{}",
                p.file_name().and_then(|n| n.to_str()).unwrap_or_default()
            );
            owned.push((name, read(p)?));
        }
        for f in ["target-groups.toml", "indicators.toml", "vocabularies.toml"] {
            owned.push((f.to_string(), read(dir.join(f))?));
        }
        let files: Vec<(&str, &str)> = owned
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Self::from_files(&files)
    }

    /// Cross-file consistency: every type's area exists, every target group reference exists,
    /// codes are unique.
    fn check(&self) -> Result<()> {
        for t in self.taxonomies.values() {
            let mut seen = std::collections::BTreeSet::new();
            for a in &t.areas {
                if !seen.insert(a.code.as_str()) {
                    return Err(Error::Catalogue(format!(
                        "{}: duplicate area {}",
                        t.id, a.code
                    )));
                }
            }
            let mut types = std::collections::BTreeSet::new();
            for ty in &t.activity_types {
                if !types.insert(ty.code.as_str()) {
                    return Err(Error::Catalogue(format!(
                        "{}: duplicate type {}",
                        t.id, ty.code
                    )));
                }
                if !seen.contains(ty.area.as_str()) {
                    return Err(Error::Catalogue(format!(
                        "{}: type {} in unknown area {}",
                        t.id, ty.code, ty.area
                    )));
                }
                for g in &ty.target_groups {
                    if !self.target_groups.contains_key(&g.group) {
                        return Err(Error::Catalogue(format!(
                            "{}: type {} names unknown target group {}",
                            t.id, ty.code, g.group
                        )));
                    }
                }
            }
        }
        for (v, terms) in &self.vocabularies {
            let mut seen = std::collections::BTreeSet::new();
            for term in terms {
                if !seen.insert(term.code.as_str()) || crate::ids::check_id(&term.code).is_err() {
                    return Err(Error::Catalogue(format!(
                        "{}: duplicate or malformed code {}",
                        v.key(),
                        term.code
                    )));
                }
            }
        }
        for band in self.vocabulary(Vocabulary::AgeBands) {
            match (band.min_age, band.max_age) {
                (Some(min), Some(max)) if min <= max => {}
                _ => {
                    return Err(Error::Catalogue(format!(
                        "age band {} needs min_age ≤ max_age",
                        band.code
                    )));
                }
            }
        }
        Ok(())
    }

    /// Returns a catalogue with a tenant's local additions merged in. Local codes must not
    /// collide with catalogue codes (a collision is an error, not an override).
    pub fn with_local(&self, local: &LocalCatalogue) -> Result<Catalogue> {
        let mut cat = self.clone();
        for g in &local.target_groups {
            if cat
                .target_groups
                .insert(g.code.clone(), g.clone())
                .is_some()
            {
                return Err(Error::Catalogue(format!(
                    "local target group {} exists",
                    g.code
                )));
            }
        }
        for i in &local.indicators {
            if cat.indicators.insert(i.code.clone(), i.clone()).is_some() {
                return Err(Error::Catalogue(format!(
                    "local indicator {} exists",
                    i.code
                )));
            }
        }
        for (taxonomy, ty) in &local.activity_types {
            let t = cat.taxonomies.get_mut(taxonomy).ok_or_else(|| {
                Error::Catalogue(format!("local type in unknown taxonomy {taxonomy}"))
            })?;
            if t.activity_types.iter().any(|x| x.code == ty.code) {
                return Err(Error::Catalogue(format!("local type {} exists", ty.code)));
            }
            t.activity_types.push(ty.clone());
        }
        cat.check()?;
        Ok(cat)
    }

    /// This catalogue with every retired code counted as current: what a stored record may
    /// use. A phone offers current codes only, but a record made offline before a code was
    /// retired is still a valid record when it arrives (ADR 0013).
    pub fn accepting_retired(&self) -> Catalogue {
        let mut cat = self.clone();
        for t in cat.taxonomies.values_mut() {
            t.activity_types.iter_mut().for_each(|a| a.retired = false);
        }
        cat.target_groups
            .values_mut()
            .for_each(|g| g.retired = false);
        cat.indicators.values_mut().for_each(|i| i.retired = false);
        for terms in cat.vocabularies.values_mut() {
            terms.iter_mut().for_each(|t| t.retired = false);
        }
        cat
    }

    /// File versions.
    pub fn versions(&self) -> &Versions {
        &self.versions
    }

    /// All taxonomies, by id.
    pub fn taxonomies(&self) -> impl Iterator<Item = &Taxonomy> {
        self.taxonomies.values()
    }

    /// A taxonomy by id.
    pub fn taxonomy(&self, id: &str) -> Option<&Taxonomy> {
        self.taxonomies.get(id)
    }

    /// An activity type of a taxonomy.
    pub fn activity_type(&self, taxonomy: &str, code: &str) -> Option<&ActivityType> {
        self.taxonomy(taxonomy)?
            .activity_types
            .iter()
            .find(|t| t.code == code)
    }

    /// An intervention area of a taxonomy.
    pub fn area(&self, taxonomy: &str, code: &str) -> Option<&InterventionArea> {
        self.taxonomy(taxonomy)?
            .areas
            .iter()
            .find(|a| a.code == code)
    }

    /// All target groups, by code.
    pub fn target_groups(&self) -> impl Iterator<Item = &TargetGroup> {
        self.target_groups.values()
    }

    /// A target group by code.
    pub fn target_group(&self, code: &str) -> Option<&TargetGroup> {
        self.target_groups.get(code)
    }

    /// The indicator library.
    pub fn indicators(&self) -> impl Iterator<Item = &LibraryIndicator> {
        self.indicators.values()
    }

    /// A library indicator by code.
    pub fn indicator(&self, code: &str) -> Option<&LibraryIndicator> {
        self.indicators.get(code)
    }

    /// The terms of a vocabulary, in file order.
    pub fn vocabulary(&self, v: Vocabulary) -> &[Term] {
        self.vocabularies.get(&v).map_or(&[], Vec::as_slice)
    }

    /// A term of a vocabulary.
    pub fn term(&self, v: Vocabulary, code: &str) -> Option<&Term> {
        self.vocabulary(v).iter().find(|t| t.code == code)
    }

    /// Whether `code` is a current (not retired) term of `v`.
    pub fn has_term(&self, v: Vocabulary, code: &str) -> bool {
        self.term(v, code).is_some_and(|t| !t.retired)
    }

    /// An age band by code.
    pub fn age_band(&self, code: &str) -> Option<&Term> {
        self.term(Vocabulary::AgeBands, code)
    }

    /// Sort key putting age bands in age order (7–9 before 10–12): the band's lowest age,
    /// then its code; a code the catalogue does not know goes last. Codes compare as text
    /// otherwise, which puts "10-12" before "7-9".
    pub fn age_band_order(&self, code: &str) -> (u8, u8, String) {
        match self.age_band(code).and_then(|t| t.min_age) {
            Some(min) => (0, min, code.to_owned()),
            None => (1, 0, code.to_owned()),
        }
    }
}

fn check_format(name: &str, format: u32) -> Result<()> {
    if format == FORMAT {
        Ok(())
    } else {
        Err(Error::Catalogue(format!(
            "{name}: file format {format}, this build reads {FORMAT}"
        )))
    }
}

/// A tenant's local additions to the catalogue (held in the tenant document).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalCatalogue {
    /// (taxonomy id, type).
    pub activity_types: Vec<(String, ActivityType)>,
    /// Local target groups.
    pub target_groups: Vec<TargetGroup>,
    /// Local indicators.
    pub indicators: Vec<LibraryIndicator>,
}
