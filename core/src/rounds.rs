//! Funding rounds: which activity types a programme offers, whether an activity fits its
//! programme's round, and where an activity sits in another round's intervention areas for
//! reports across rounds (ADR 0018). Pure functions over the [`Catalogue`].
//!
//! ```
//! use nabo_core::catalogue::Catalogue;
//! use nabo_core::rounds::{Via, area_in, offered_types};
//!
//! let cat = Catalogue::builtin().unwrap();
//! // A programme of the 2019–26 round is offered the CFBU catalogue under that round's areas.
//! let offer = offered_types(cat, "lbf-2019-2026");
//! let (area, types) = &offer[0];
//! assert_eq!(area.code, "UL");
//! assert!(types.iter().any(|t| t.code == "BE.lektiecafe"));
//! // A 2006–10 lektiecafé counted in 2019–26 areas: through the reviewed type placement.
//! let r = area_in(cat, "lbf-2006-2010", "BE.lektiecafe", "lbf-2019-2026");
//! assert_eq!(r.areas, ["UL"]);
//! assert!(matches!(r.via, Via::TypePlacement { .. }));
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::catalogue::{ActivityType, Catalogue, InterventionArea, Review};
use crate::error::{Reason, Result, invalid};

/// The activity types a programme on `taxonomy` offers for new activities, by intervention
/// area in display order: the catalogue's own or placed types, then the tenant's local types
/// (when `cat` includes them), never retired ones. Areas without a type are left out.
pub fn offered_types<'a>(
    cat: &'a Catalogue,
    taxonomy: &str,
) -> Vec<(&'a InterventionArea, Vec<&'a ActivityType>)> {
    let Some(t) = cat.taxonomy(taxonomy) else {
        return Vec::new();
    };
    t.areas
        .iter()
        .filter_map(|area| {
            let mut types: Vec<&ActivityType> = t
                .activity_types
                .iter()
                .filter(|ty| ty.area == area.code && !ty.retired)
                .collect();
            // Catalogue types in the source's order, then local types by name.
            types.sort_by(|a, b| {
                (a.number.is_none(), a.number, &a.name_da).cmp(&(
                    b.number.is_none(),
                    b.number,
                    &b.name_da,
                ))
            });
            (!types.is_empty()).then_some((area, types))
        })
        .collect()
}

/// An activity belongs to its programme's round: its types come from the taxonomy the
/// programme reports in. Refused with the field `taxonomy`.
pub fn check_programme_round(programme_taxonomy: &str, activity_taxonomy: &str) -> Result<()> {
    if programme_taxonomy == activity_taxonomy {
        Ok(())
    } else {
        invalid(
            "taxonomy",
            Reason::Inconsistent,
            format!(
                "the programme reports in {programme_taxonomy}, the type is of {activity_taxonomy}"
            ),
        )
    }
}

/// How an activity's intervention area was found in a report's round.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    /// The activity's own round: no mapping.
    Own,
    /// The report's round is the catalogue the type comes from (the type's original area).
    SourceCatalogue {
        /// The catalogue's taxonomy.
        taxonomy: String,
    },
    /// The report's round places the type under one of its areas (a reviewed placement).
    TypePlacement {
        /// The report's taxonomy.
        taxonomy: String,
        /// The review that checked the placement.
        review: Review,
    },
    /// Through the approximate area mappings between rounds, along this path of taxonomies.
    AreaMappings {
        /// Taxonomy ids, from the activity's to the report's.
        path: Vec<String>,
    },
    /// No placement and no chain of area mappings reaches the report's round.
    Unmapped,
}

/// An activity's intervention area(s) in a report's round and how they were found.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportArea {
    /// Area codes in the report's taxonomy (one, except when an area mapping splits; empty
    /// when the area has no successor).
    pub areas: Vec<String>,
    /// The mapping used.
    pub via: Via,
}

/// The area of an activity's type (`type_code` of `taxonomy`): the type's area, else the
/// code's prefix (`BE.lektiecafe` → `BE`) for a type the catalogue no longer has.
pub fn own_area(cat: &Catalogue, taxonomy: &str, type_code: &str) -> String {
    cat.activity_type(taxonomy, type_code).map_or_else(
        || type_code.split('.').next().unwrap_or_default().to_owned(),
        |t| t.area.clone(),
    )
}

/// Where an activity of type `type_code` in `taxonomy` sits among the areas of `target`:
/// its own area in its own round; a type of a catalogue by that catalogue's area or by the
/// target's reviewed placement of the type; otherwise through the area mappings between
/// rounds (forwards or backwards), and [`Via::Unmapped`] when none connects.
pub fn area_in(cat: &Catalogue, taxonomy: &str, type_code: &str, target: &str) -> ReportArea {
    let own = own_area(cat, taxonomy, type_code);
    if taxonomy == target {
        return ReportArea {
            areas: vec![own],
            via: Via::Own,
        };
    }
    // The catalogue the type comes from and its code there.
    let source = match cat.activity_type(taxonomy, type_code) {
        Some(t) => match &t.placed {
            Some(p) => Some(p.from_taxonomy.clone()),
            None if t.number.is_some() => Some(taxonomy.to_owned()),
            None => None,
        },
        None => None,
    };
    if let Some(source) = source {
        if source == target
            && let Some(t) = cat.activity_type(target, type_code)
        {
            return ReportArea {
                areas: vec![t.area.clone()],
                via: Via::SourceCatalogue { taxonomy: source },
            };
        }
        if let Some(p) = cat
            .activity_type(target, type_code)
            .and_then(|t| t.placed.as_ref().map(|p| (t, p)))
            .filter(|(_, p)| p.from_taxonomy == source)
        {
            return ReportArea {
                areas: vec![p.0.area.clone()],
                via: Via::TypePlacement {
                    taxonomy: target.to_owned(),
                    review: p.1.review.clone(),
                },
            };
        }
    }
    match map_areas(cat, taxonomy, &own, target) {
        Some((areas, path)) if !areas.is_empty() => ReportArea {
            areas,
            via: Via::AreaMappings { path },
        },
        _ => ReportArea {
            areas: Vec::new(),
            via: Via::Unmapped,
        },
    }
}

/// Follows the area mappings from `taxonomy:area` to `target` by the shortest path of
/// taxonomies (a mapping is read forwards, from the older round, or backwards).
fn map_areas(
    cat: &Catalogue,
    taxonomy: &str,
    area: &str,
    target: &str,
) -> Option<(Vec<String>, Vec<String>)> {
    // Edges: (from taxonomy, to taxonomy) → area → areas.
    let mut edges: BTreeMap<(&str, &str), BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for t in cat.taxonomies() {
        for m in &t.mappings {
            let Some((from_tax, from_area)) = m.from.split_once(':') else {
                continue;
            };
            for to in &m.to {
                edges
                    .entry((from_tax, t.id.as_str()))
                    .or_default()
                    .entry(from_area)
                    .or_default()
                    .insert(to.as_str());
                edges
                    .entry((t.id.as_str(), from_tax))
                    .or_default()
                    .entry(to.as_str())
                    .or_default()
                    .insert(from_area);
            }
        }
    }
    // Shortest path of taxonomies.
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([taxonomy]);
    while let Some(at) = queue.pop_front() {
        if at == target {
            break;
        }
        for (from, to) in edges.keys() {
            if *from == at && *to != taxonomy && !prev.contains_key(to) {
                prev.insert(to, at);
                queue.push_back(to);
            }
        }
    }
    let mut path = vec![target];
    while let Some(p) = prev.get(path.last()?) {
        path.push(p);
    }
    path.reverse();
    if path.first() != Some(&taxonomy) {
        return None;
    }
    let mut areas: BTreeSet<&str> = BTreeSet::from([area]);
    for step in path.windows(2) {
        let map = &edges[&(step[0], step[1])];
        areas = areas
            .iter()
            .filter_map(|a| map.get(a))
            .flatten()
            .copied()
            .collect();
    }
    Some((
        areas.into_iter().map(str::to_owned).collect(),
        path.into_iter().map(str::to_owned).collect(),
    ))
}
