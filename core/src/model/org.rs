//! Organisations, housing areas and their parts (DOMAIN.md §1.2–1.3). Held in the tenant
//! document.

use autosurgeon::{Hydrate, Reconcile};

use super::{IdMap, OrgKind, Set, Tenure};
use crate::ids::{DepartmentId, OrgId, VenueId};

/// An organisation: kommune, municipal department, housing organisation, afdeling, NGO, …
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Organisation {
    /// Name, e.g. "Randers Kommune, PPR".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Kind.
    pub kind: OrgKind,
    /// Parent organisation: a municipal department's kommune, an afdeling's
    /// boligorganisation.
    pub parent: Option<OrgId>,
    /// No longer in use; kept so old records still name it.
    pub archived: bool,
}

/// A housing area (boligområde).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct HousingArea {
    /// Name, e.g. "Vestergårdsparken".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// Tenure.
    pub tenure: Tenure,
    /// Flagged as disadvantaged (udsat boligområde).
    pub disadvantaged: bool,
    /// The kommune the area lies in.
    pub municipality: Option<OrgId>,
    /// Approximate number of residents (aggregate, for reports).
    pub residents: Option<u32>,
    /// Housing departments (afdelinger).
    pub departments: IdMap<DepartmentId, Department>,
    /// Venues (beboerhus, café, medborgerhus, …).
    pub venues: IdMap<VenueId, Venue>,
    /// Stairwells / blocks known by name (opgang, blok), for ambassadors and observations.
    pub blocks: Set<String>,
    /// No longer covered.
    pub archived: bool,
}

/// A housing department (afdeling).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Department {
    /// Name or number, e.g. "Afd. 12".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// The housing organisation that owns it.
    pub housing_org: Option<OrgId>,
}

/// A venue where sessions take place.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Venue {
    /// Name, e.g. "Beboerhuset".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
}
