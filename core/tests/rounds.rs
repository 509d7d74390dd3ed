//! Activities in every funding round (issue 10 item 3): a programme on a later LBF round picks
//! its activity types from the CFBU catalogue placed under that round's intervention areas,
//! plus the tenant's local types; reports group by the programme's round and say which mapping
//! they used across rounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ActorId;
use common::*;
use nabo_core::catalogue::{ActivityType, BUILTIN_FILES, LocalCatalogue};
use nabo_core::prelude::*;
use nabo_core::rounds::{Via, area_in, check_programme_round, offered_types};

const ROUNDS: [&str; 4] = [
    "lbf-2006-2010",
    "lbf-2011-2014",
    "lbf-2015-2018",
    "lbf-2019-2026",
];

fn create(cat: &Catalogue, taxonomy: &str, kind: &str) -> Result<ActivityDoc> {
    ActivityDoc::create(
        "t1".parse().unwrap(),
        ActivityId::random(),
        ActorId::random(),
        &Author {
            by: staff("central"),
            at: now(),
        },
        cat,
        NewActivity::new(
            "Lektiecaféen",
            "p1".parse().unwrap(),
            "a1".parse().unwrap(),
            taxonomy,
            kind,
        ),
    )
}

/// The bug of issue 10: a 2019–26 programme could not get a single activity.
#[test]
fn a_2019_26_programme_gets_a_lektiecafe() {
    let cat = Catalogue::builtin().unwrap();
    let a = create(cat, "lbf-2019-2026", "BE.lektiecafe")
        .expect("a 2019–26 programme can have a lektiecafé");
    let a = a.activity().unwrap().current;
    assert_eq!(a.taxonomy.as_str(), "lbf-2019-2026");
    // Its default target groups come from the CFBU catalogue (children 7–17 → certificate).
    assert!(a.children_under_15);
}

#[test]
fn every_round_offers_all_43_catalogue_types_under_its_own_areas() {
    let cat = Catalogue::builtin().unwrap();
    let source: Vec<&str> = cat
        .taxonomy("lbf-2006-2010")
        .unwrap()
        .activity_types
        .iter()
        .map(|t| t.code.as_str())
        .collect();
    assert_eq!(source.len(), 43);
    for round in ROUNDS {
        let t = cat.taxonomy(round).unwrap();
        let offer = offered_types(cat, round);
        let offered: Vec<&str> = offer
            .iter()
            .flat_map(|(_, types)| types.iter().map(|t| t.code.as_str()))
            .collect();
        let mut sorted = offered.clone();
        sorted.sort_unstable();
        let mut expected = source.clone();
        expected.sort_unstable();
        assert_eq!(sorted, expected, "{round}");
        for (area, types) in &offer {
            assert!(t.areas.iter().any(|a| a.code == area.code), "{round}");
            for ty in types {
                assert_eq!(ty.area, area.code, "{round} {}", ty.code);
                if round != "lbf-2006-2010" {
                    let p = ty.placed.as_ref().expect("placed");
                    assert_eq!(p.from_taxonomy, "lbf-2006-2010");
                    assert!(!p.review.by.is_empty() && !p.review.basis.is_empty());
                    assert!(!p.note.is_empty());
                }
            }
            // Catalogue order within an area.
            let numbers: Vec<u32> = types.iter().filter_map(|t| t.number).collect();
            assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{round}");
        }
        // An activity of the round's first offered type, validated against the round.
        let first = offer[0].1[0];
        let a = create(cat, round, &first.code).unwrap_or_else(|e| panic!("{round}: {e:?}"));
        assert_eq!(a.activity().unwrap().current.taxonomy.as_str(), round);
    }
    // Some placements the 2019–26 areas make plain.
    for (ty, area) in [
        ("BE.lektiecafe", "UL"),
        ("BE.jobvejledning", "BS"),
        ("BU.gadeplansarbejde", "KF"),
        ("SL.faellesspisning", "SM"),
    ] {
        assert_eq!(
            cat.activity_type("lbf-2019-2026", ty).unwrap().area,
            area,
            "{ty}"
        );
    }
}

#[test]
fn an_activity_belongs_to_its_programmes_round() {
    check_programme_round("lbf-2019-2026", "lbf-2019-2026").unwrap();
    match check_programme_round("lbf-2019-2026", "lbf-2006-2010") {
        Err(Error::Invalid(i)) => {
            assert_eq!((i.field, i.reason), ("taxonomy", Reason::Inconsistent));
            assert!(i.detail.contains("lbf-2019-2026"), "{}", i.detail);
        }
        other => panic!("{other:?}"),
    }
    // A type of one round is not a type of another round's area it was not placed in.
    let cat = Catalogue::builtin().unwrap();
    match create(cat, "lbf-2019-2026", "UL.lektiecafe") {
        Err(Error::Invalid(i)) => assert_eq!(i.field, "primary_type"),
        other => panic!("{other:?}"),
    }
}

/// A local type in the 2019–26 round, as a tenant adds it.
fn local(code: &str, area: &str, taxonomy: &str) -> LocalCatalogue {
    LocalCatalogue {
        activity_types: vec![(
            taxonomy.into(),
            ActivityType {
                code: code.into(),
                number: None,
                area: area.into(),
                name_da: "Mødregruppe".into(),
                name_en: "Mothers' group".into(),
                description_da: String::new(),
                description_en: String::new(),
                target_groups: Vec::new(),
                retired: false,
                placed: None,
            },
        )],
        ..LocalCatalogue::default()
    }
}

#[test]
fn local_types_are_offered_after_the_catalogue_in_their_area() {
    let base = Catalogue::builtin().unwrap();
    let cat = base
        .with_local(&local("UL.moedregruppe", "UL", "lbf-2019-2026"))
        .unwrap();
    let offer = offered_types(&cat, "lbf-2019-2026");
    let (_, ul) = offer.iter().find(|(a, _)| a.code == "UL").unwrap();
    assert_eq!(ul.last().unwrap().code, "UL.moedregruppe");
    assert!(ul.iter().any(|t| t.code == "BE.lektiecafe"));
    create(&cat, "lbf-2019-2026", "UL.moedregruppe").unwrap();
    // A local code may not take a placed catalogue code.
    assert!(
        base.with_local(&local("BE.lektiecafe", "UL", "lbf-2019-2026"))
            .is_err()
    );
}

#[test]
fn cross_round_reports_say_which_mapping_they_used() {
    let base = Catalogue::builtin().unwrap();
    // Own round: no mapping.
    let r = area_in(base, "lbf-2019-2026", "BE.lektiecafe", "lbf-2019-2026");
    assert_eq!((r.areas, r.via), (vec!["UL".to_owned()], Via::Own));
    // A 2006–10 catalogue activity in a 2019–26 report: the reviewed placement.
    let r = area_in(
        base,
        "lbf-2006-2010",
        "BU.gadeplansarbejde",
        "lbf-2019-2026",
    );
    assert_eq!(r.areas, ["KF"]);
    match r.via {
        Via::TypePlacement { taxonomy, review } => {
            assert_eq!(taxonomy, "lbf-2019-2026");
            assert_eq!(review.id, "nabo-2026-12");
        }
        other => panic!("{other:?}"),
    }
    // A 2019–26 activity in 2006–10 terms: the catalogue's own area.
    let r = area_in(base, "lbf-2019-2026", "BE.lektiecafe", "lbf-2006-2010");
    assert_eq!(r.areas, ["BE"]);
    assert_eq!(
        r.via,
        Via::SourceCatalogue {
            taxonomy: "lbf-2006-2010".into()
        }
    );
    // Between two later rounds the target's placement is used, not the area chain.
    let r = area_in(base, "lbf-2015-2018", "BE.lektiecafe", "lbf-2011-2014");
    assert_eq!(r.areas, ["UBE"]);
    assert!(matches!(r.via, Via::TypePlacement { .. }));
    // A local type has no placement: the approximate area mappings, forwards …
    let cat = base
        .with_local(&local("BU.moedregruppe", "BU", "lbf-2006-2010"))
        .unwrap();
    let r = area_in(&cat, "lbf-2006-2010", "BU.moedregruppe", "lbf-2019-2026");
    assert_eq!(r.areas, ["KF", "UL"]);
    assert_eq!(
        r.via,
        Via::AreaMappings {
            path: ROUNDS.map(str::to_owned).to_vec()
        }
    );
    // … and backwards.
    let cat = base
        .with_local(&local("KF.natteravne", "KF", "lbf-2019-2026"))
        .unwrap();
    let r = area_in(&cat, "lbf-2019-2026", "KF.natteravne", "lbf-2015-2018");
    assert_eq!(r.areas, ["KP"]);
    assert!(matches!(r.via, Via::AreaMappings { ref path } if path.len() == 2));
    // Environment (MF) of 2006–10 has no successor in 2011–14.
    let cat = base
        .with_local(&local("MF.cykelvaerksted", "MF", "lbf-2006-2010"))
        .unwrap();
    let r = area_in(&cat, "lbf-2006-2010", "MF.cykelvaerksted", "lbf-2011-2014");
    assert_eq!((r.areas.len(), r.via), (0, Via::Unmapped));
}

/// The built-in files with one taxonomy's text changed by `f`.
fn with_edit(file: &str, f: impl Fn(&str) -> String) -> nabo_core::Result<Catalogue> {
    let owned: Vec<(&str, String)> = BUILTIN_FILES
        .iter()
        .map(|(n, t)| (*n, if *n == file { f(t) } else { (*t).to_owned() }))
        .collect();
    let files: Vec<(&str, &str)> = owned.iter().map(|(n, t)| (*n, t.as_str())).collect();
    Catalogue::from_files(&files)
}

#[test]
fn placements_must_be_reviewed_and_name_real_types_and_areas() {
    const F: &str = "taxonomies/lbf-2019-2026.toml";
    with_edit(F, str::to_owned).unwrap();
    let cases: [(&str, &str, &str); 5] = [
        (
            "review = \"nabo-2026-12\"\nnote = \"homework help: schooling and education\"",
            "review = \"nobody\"\nnote = \"homework help: schooling and education\"",
            "no review nobody",
        ),
        (
            "type = \"BE.lektiecafe\"\narea = \"UL\"",
            "type = \"BE.lektiecafe\"\narea = \"XX\"",
            "XX is not an area",
        ),
        (
            "type = \"BE.lektiecafe\"",
            "type = \"BE.lektiecafe-2\"",
            "not a type of lbf-2006-2010",
        ),
        (
            "type = \"BE.jobvejledning\"",
            "type = \"BE.lektiecafe\"",
            "placed twice",
        ),
        (
            "by = \"Nabo developers\"",
            "by = \" \"",
            "needs by and basis",
        ),
    ];
    for (from, to, expected) in cases {
        let e = with_edit(F, |t| {
            assert!(t.contains(from), "{from}");
            t.replacen(from, to, 1)
        })
        .unwrap_err();
        assert!(e.to_string().contains(expected), "{e} (wanted {expected})");
    }
}
