//! Programmes (helhedsplaner) with funding, board, geography and strategy
//! (DOMAIN.md §1.5–1.6). Held in the tenant document.

use autosurgeon::{Hydrate, Reconcile};

use super::{BoardType, ContinuationApproach, FunderKind, GeographyTypology, IdMap, OrgModel, Set};
use crate::ids::{AreaId, BoardMemberId, Code, FundingId, OrgId, SiteId};
use crate::time::Date;

/// A programme: a helhedsplan or another boligsocial indsats, usually four years.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Programme {
    /// Name, e.g. "Helhedsplan Vestbyen 2023–2026".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
    /// Funding round (`2019-2026`), if LBF funded.
    #[autosurgeon(hydrate = "crate::model::lenient::opt_string")]
    pub funding_round: Option<String>,
    /// The intervention-area taxonomy the programme reports in (catalogue id).
    pub taxonomy: Code,
    /// Funding shares.
    pub funding: IdMap<FundingId, FundingShare>,
    /// Governing board.
    pub board: Option<Board>,
    /// Geography: the areas covered.
    pub areas: Set<AreaId>,
    /// Institution sites outside the areas (typology 4).
    pub sites: IdMap<SiteId, InstitutionSite>,
    /// Covers selected citizens living elsewhere (typology 3).
    pub selected_citizens: bool,
    /// Geography typologies (a set: they are "not pure forms").
    pub typologies: Set<GeographyTypology>,
    /// Signatories (kommune and housing organisations must both sign).
    pub signatories: Set<OrgId>,
    /// Date residents approved the plan (beboerdemokratisk godkendelse).
    pub resident_approval: Option<Date>,
    /// Strategy mix: weight of public framing in percent (civil framing is the rest).
    pub public_framing_pct: u8,
    /// Continuation approaches, when LBF money is cut or ends.
    pub continuation: Set<ContinuationApproach>,
    /// Organisational model (S003).
    pub org_model: Option<OrgModel>,
    /// Phase of CFBU's process model (1–5), if tracked.
    pub process_phase: Option<u8>,
    /// Archived (ADR 0022): gone from lists and pickers, kept in history and in the reports
    /// of its period. Missing in records written before archiving existed.
    #[autosurgeon(hydrate = "crate::model::lenient::missing_false")]
    pub archived: bool,
}

/// A share of a programme's funding.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct FundingShare {
    /// Kind of funder.
    pub kind: FunderKind,
    /// The funding organisation, if it is in the tenant's list.
    pub org: Option<OrgId>,
    /// Share in percent of the programme's budget.
    pub share_pct: u8,
    /// Amount in DKK, if known.
    pub amount_dkk: Option<u64>,
}

/// A programme's governing board.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Board {
    /// Board type.
    pub kind: BoardType,
    /// Members, at organisation level (seat holders are not recorded by name).
    pub members: IdMap<BoardMemberId, BoardMember>,
}

/// A seat on a board.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct BoardMember {
    /// The organisation holding the seat.
    pub org: OrgId,
    /// The seat's function, e.g. "direktør, børne- og ungeforvaltningen".
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub function: String,
    /// Chair.
    pub chair: bool,
}

/// An institution site (school, day care) that may lie outside the areas.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct InstitutionSite {
    /// Name.
    #[autosurgeon(hydrate = "crate::model::lenient::string")]
    pub name: String,
    /// The organisation running it.
    pub org: Option<OrgId>,
}
