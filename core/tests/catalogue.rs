//! The catalogue against its source: CFBU "Boligsocialt overblik" (seed 004), the catalogue
//! of activities ("KATALOG OVER AKTIVITETERNE"): 8 intervention areas, 43 activity types.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nabo_core::catalogue::{BUILTIN_FILES, Catalogue, LocalCatalogue, Vocabulary};

/// Transcribed from seed 004: (number, intervention area, Danish name of the type).
const SEED_2006_2010: &[(u32, &str, &str)] = &[
    (1, "BU", "Familieskoler og læring"),
    (2, "BU", "Fritidsaktiviteter"),
    (3, "BU", "Introduktion til foreningslivet"),
    (4, "BU", "Rollemodeller og mentorer"),
    (5, "BU", "Væresteder og klubber"),
    (6, "BU", "Ferieaktiviteter"),
    (7, "BU", "Gadeplansarbejde"),
    (8, "BU", "Tryghedskorps"),
    (9, "SL", "Beboer- og aktivitetshuse og væresteder"),
    (10, "SL", "Fællesspisning og madklubber"),
    (11, "SL", "Hobbyklubber"),
    (12, "SL", "Rekruttering af frivillige"),
    (13, "SL", "Beboerdrevne aktiviteter"),
    (14, "SL", "Fester"),
    (15, "SL", "Udflugter"),
    (16, "BE", "Fremskudt beskæftigelsesindsats"),
    (17, "BE", "Jobvejledning"),
    (18, "BE", "Jobparatgørende kurser"),
    (19, "BE", "Uddannelsesvejledning"),
    (20, "BE", "Fritidsjobvejledning og lommepengeprojekter"),
    (21, "BE", "Lektiecafé"),
    (22, "IK", "Beboerinformation"),
    (23, "IK", "Beboerjournalister"),
    (24, "IK", "Naboambassadører"),
    (25, "IK", "Aktiviteter for omverdenen"),
    (26, "IK", "Den gode historie"),
    (27, "BD", "Styrkelse af afdelingsbestyrelsen"),
    (28, "BD", "Samarbejde på tværs af afdelingsbestyrelser"),
    (29, "BD", "Beboerarrangement"),
    (30, "BD", "Involvering af beboere i fysisk omdannelse"),
    (31, "BD", "Opkvalificering af ejendomsfunktionærerne"),
    (32, "BD", "Netværk og samarbejde"),
    (33, "BD", "Undersøgelser og monitorering"),
    (34, "SU", "Information og vejledning om sundhed"),
    (35, "SU", "Motionsaktiviteter"),
    (36, "SU", "Sundhedsambassadører"),
    (37, "MF", "Affaldshåndtering og fællesarealer"),
    (38, "MF", "Miljøambassadører"),
    (39, "MF", "Ressourcebesparelsesprojekter"),
    (40, "MF", "Evnen til at bo alment"),
    (41, "UB", "Sociale viceværter"),
    (42, "UB", "Brobyggende sociale aktiviteter"),
    (43, "UB", "Udsatte beboeres boligsituation"),
];

/// Seed 004 figure 1: the nine target groups, with activities including them and activities
/// exclusively for them.
const FIGURE_1: &[&str] = &[
    "alle-beboere",
    "maend",
    "kvinder",
    "boern-0-6",
    "boern-7-17",
    "aeldre",
    "familier",
    "etniske-minoriteter",
    "udsatte-grupper",
];

#[test]
fn the_2006_2010_catalogue_matches_the_seed() {
    let cat = Catalogue::builtin().unwrap();
    let t = cat.taxonomy("lbf-2006-2010").expect("2006–10 taxonomy");
    let areas: Vec<&str> = t.areas.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(areas, ["BU", "SL", "BE", "IK", "BD", "SU", "MF", "UB"]);
    assert_eq!(t.activity_types.len(), 43);
    for (number, area, name) in SEED_2006_2010 {
        let ty = t
            .activity_types
            .iter()
            .find(|x| x.number == Some(*number))
            .unwrap_or_else(|| panic!("type {number} missing"));
        assert_eq!(
            ty.area, *area,
            "type {number} ({name}) is in the wrong area"
        );
        assert_eq!(ty.name_da, *name, "type {number} has the wrong name");
        assert!(
            ty.code.starts_with(&format!("{area}.")),
            "code {} names its area",
            ty.code
        );
        assert!(
            !ty.target_groups.is_empty(),
            "type {number} has target groups"
        );
    }
    let per_area = |a: &str| t.activity_types.iter().filter(|x| x.area == a).count();
    assert_eq!(
        ["BU", "SL", "BE", "IK", "BD", "SU", "MF", "UB"].map(per_area),
        [8, 7, 6, 5, 7, 3, 4, 3]
    );
}

#[test]
fn later_taxonomies_have_the_areas_of_their_round() {
    let cat = Catalogue::builtin().unwrap();
    for (id, n) in [
        ("lbf-2011-2014", 7),
        ("lbf-2015-2018", 4),
        ("lbf-2019-2026", 4),
    ] {
        let t = cat.taxonomy(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(t.areas.len(), n, "{id}");
        for m in &t.mappings {
            let (from_tax, from_area) = m.from.split_once(':').expect("taxonomy:area");
            assert!(
                cat.area(from_tax, from_area).is_some(),
                "{id}: mapping from {}",
                m.from
            );
            for to in &m.to {
                assert!(cat.area(id, to).is_some(), "{id}: mapping to {to}");
            }
        }
    }
    assert!(
        cat.taxonomy("lbf-2019-2026")
            .unwrap()
            .areas
            .iter()
            .any(|a| a.name_da == "Kriminalitetsforebyggelse")
    );
}

#[test]
fn figure_1_groups_and_child_ages_are_in_the_target_groups() {
    let cat = Catalogue::builtin().unwrap();
    let fig1: Vec<&str> = cat
        .target_groups()
        .filter(|g| g.figure1)
        .map(|g| g.code.as_str())
        .collect();
    let mut expected = FIGURE_1.to_vec();
    expected.sort();
    let mut got = fig1.clone();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        cat.target_group("boern-7-17")
            .unwrap()
            .includes_children_under_15()
    );
    assert!(
        !cat.target_group("aeldre")
            .unwrap()
            .includes_children_under_15()
    );
    // The homework café's default target groups include school children.
    let lc = cat.activity_type("lbf-2006-2010", "BE.lektiecafe").unwrap();
    assert!(lc.target_groups.iter().any(|g| {
        cat.target_group(&g.group)
            .unwrap()
            .includes_children_under_15()
    }));
}

#[test]
fn vocabularies_are_complete_and_age_bands_line_up_with_the_child_rule() {
    let cat = Catalogue::builtin().unwrap();
    for (v, key) in Vocabulary::ALL {
        assert!(!cat.vocabulary(*v).is_empty(), "{key} is empty");
    }
    let bands: Vec<(&str, u8, u8)> = cat
        .vocabulary(Vocabulary::AgeBands)
        .iter()
        .map(|b| (b.code.as_str(), b.min_age.unwrap(), b.max_age.unwrap()))
        .collect();
    assert_eq!(bands.first().unwrap().1, 0);
    for w in bands.windows(2) {
        assert_eq!(
            w[0].2 + 1,
            w[1].1,
            "age bands {} and {} leave a gap",
            w[0].0,
            w[1].0
        );
    }
    // A band boundary at 15, so "under 15" is decidable from the band.
    assert!(bands.iter().any(|b| b.1 == 15));
    assert!(cat.has_term(Vocabulary::NonFulfilmentReasons, "maaleteknisk"));
    assert!(cat.indicator("attendance.unique-participants").is_some());
}

#[test]
fn age_bands_sort_by_age_not_by_their_codes_text() {
    let cat = Catalogue::builtin().unwrap();
    let mut codes = vec!["65+", "10-12", "unknown", "7-9", "18-24", "0-6", "13-14"];
    codes.sort_by_key(|c| cat.age_band_order(c));
    assert_eq!(
        codes,
        ["0-6", "7-9", "10-12", "13-14", "18-24", "65+", "unknown"]
    );
}

#[test]
fn broken_catalogue_files_are_refused_with_the_reason() {
    let mut files: Vec<(String, String)> = BUILTIN_FILES
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let tax = files
        .iter_mut()
        .find(|(n, _)| n.ends_with("2006-2010.toml"))
        .unwrap();
    tax.1 = tax
        .1
        .replacen("group = \"familier\"", "group = \"no-such-group\"", 1);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let err = Catalogue::from_files(&refs).unwrap_err().to_string();
    assert!(err.contains("no-such-group"), "{err}");

    let err = Catalogue::from_files(&[("taxonomies/x.toml", "format = 2")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("x.toml"), "{err}");
    let err = Catalogue::from_files(&[("other.toml", "")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown catalogue file"), "{err}");
}

#[test]
fn the_catalogue_loads_from_a_directory_at_run_time() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue");
    let from_dir = Catalogue::from_dir(&dir).unwrap();
    let builtin = Catalogue::builtin().unwrap();
    assert_eq!(from_dir.versions(), builtin.versions());
    assert_eq!(
        from_dir.taxonomy("lbf-2006-2010").unwrap(),
        builtin.taxonomy("lbf-2006-2010").unwrap()
    );
}

#[test]
fn local_types_extend_and_never_override_the_catalogue() {
    let cat = Catalogue::builtin().unwrap();
    let mut local = LocalCatalogue::default();
    let mut ty = cat
        .activity_type("lbf-2006-2010", "BE.lektiecafe")
        .unwrap()
        .clone();
    ty.code = "BU.moedregruppe".into();
    ty.area = "BU".into();
    ty.name_da = "Mødregruppe".into();
    local
        .activity_types
        .push(("lbf-2006-2010".into(), ty.clone()));
    let ext = cat.with_local(&local).unwrap();
    assert_eq!(
        ext.taxonomy("lbf-2006-2010").unwrap().activity_types.len(),
        44
    );
    assert!(
        cat.activity_type("lbf-2006-2010", "BU.moedregruppe")
            .is_none()
    );

    ty.code = "BE.lektiecafe".into();
    let clash = LocalCatalogue {
        activity_types: vec![("lbf-2006-2010".into(), ty)],
        ..Default::default()
    };
    assert!(cat.with_local(&clash).is_err());
}
