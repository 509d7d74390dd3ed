//! Editing and archiving what the management pages create, and undoing a merge of two
//! children (ADR 0022): every operation validated, archived records kept in history, an
//! undone merge correct with concurrent phone edits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ActorId;
use common::*;
use nabo_core::docs::tenant::{Settings, TenantDoc};
use nabo_core::model::org::{HousingArea, Organisation};
use nabo_core::model::programme::Programme;
use nabo_core::prelude::*;

fn refused<T: std::fmt::Debug>(r: Result<T>, field: &str, reason: Reason) {
    match r {
        Err(Error::Invalid(v)) => {
            assert_eq!((v.field, v.reason), (field, reason), "{}", v.detail);
        }
        other => panic!("expected {field}/{reason}, got {other:?}"),
    }
}

fn tenant() -> (TenantDoc, Author) {
    let central = Author {
        by: staff("central"),
        at: now(),
    };
    let t = TenantDoc::create(
        "t1".parse().unwrap(),
        ActorId::random(),
        &central,
        Settings {
            name: "Boligselskabet Vest".into(),
            ..Settings::default()
        },
    )
    .unwrap();
    (t, central)
}

fn area(name: &str) -> HousingArea {
    HousingArea {
        name: name.into(),
        tenure: Tenure::Almen,
        disadvantaged: false,
        municipality: None,
        residents: Some(1200),
        departments: IdMap::new(),
        venues: IdMap::new(),
        blocks: Set::new(),
        archived: false,
    }
}

fn programme(area: &AreaId) -> Programme {
    Programme {
        name: "Helhedsplan Nordbyen 2019–2026".into(),
        start: date("2019-01-01"),
        end: date("2026-12-31"),
        funding_round: None,
        taxonomy: "lbf-2019-2026".parse().unwrap(),
        funding: IdMap::new(),
        board: None,
        areas: [area.clone()].into_iter().collect(),
        sites: IdMap::new(),
        selected_citizens: false,
        typologies: Set::new(),
        signatories: Set::new(),
        resident_approval: None,
        public_framing_pct: 50,
        continuation: Set::new(),
        org_model: None,
        process_phase: None,
        archived: false,
    }
}

#[test]
fn an_area_is_edited_archived_and_restored_and_stays_in_history() {
    let (mut t, by) = tenant();
    let id: AreaId = "a-nord".parse().unwrap();
    t.put_area(&by, &id, area("Nordbyen")).unwrap();
    t.edit_area(&by, &id, |a| {
        a.name = "Nordbyen Øst".into();
        a.tenure = Tenure::Kommunal;
        a.residents = Some(1350);
    })
    .unwrap();
    let a = &t.areas().unwrap()[&id];
    assert_eq!(
        (a.name.as_str(), a.tenure, a.residents),
        ("Nordbyen Øst", Tenure::Kommunal, Some(1350))
    );
    // Bad input changes nothing and names the field.
    let before = t.doc().automerge().get_heads();
    refused(
        t.edit_area(&by, &id, |a| a.name = " ".into()),
        "name",
        Reason::Missing,
    );
    assert_eq!(t.doc().automerge().get_heads(), before, "nothing written");
    // An unknown id is refused, never created.
    let ghost: AreaId = "a-ghost".parse().unwrap();
    refused(
        t.edit_area(&by, &ghost, |a| a.name = "Spøgelse".into()),
        "area",
        Reason::NotFound,
    );
    refused(
        t.set_area_archived(&by, &ghost, true),
        "area",
        Reason::NotFound,
    );
    assert!(!t.areas().unwrap().contains_key(&ghost));

    t.set_area_archived(&by, &id, true).unwrap();
    assert!(t.areas().unwrap()[&id].archived, "kept, marked archived");
    // Archiving twice writes nothing.
    let heads = t.doc().automerge().get_heads();
    t.set_area_archived(&by, &id, true).unwrap();
    assert_eq!(t.doc().automerge().get_heads(), heads);
    t.set_area_archived(&by, &id, false).unwrap();
    assert!(!t.areas().unwrap()[&id].archived, "restored (Gendan)");
}

#[test]
fn organisations_and_programmes_are_edited_and_archived_through_their_rules() {
    let (mut t, by) = tenant();
    let cat = Catalogue::builtin().unwrap();
    let org: OrgId = "o-kommune".parse().unwrap();
    t.put_organisation(
        &by,
        &org,
        Organisation {
            name: "Nordby Kommune".into(),
            kind: OrgKind::Kommune,
            parent: None,
            archived: false,
        },
    )
    .unwrap();
    t.edit_organisation(&by, &org, |o| o.kind = OrgKind::KommuneDepartment)
        .unwrap();
    assert_eq!(
        t.organisations().unwrap()[&org].kind,
        OrgKind::KommuneDepartment
    );
    refused(
        t.edit_organisation(&by, &org, |o| o.parent = Some(org.clone())),
        "parent",
        Reason::Inconsistent,
    );
    t.set_organisation_archived(&by, &org, true).unwrap();
    assert!(t.organisations().unwrap()[&org].archived);

    let a: AreaId = "a-nord".parse().unwrap();
    t.put_area(&by, &a, area("Nordbyen")).unwrap();
    let p: ProgrammeId = "p-nord".parse().unwrap();
    t.put_programme(&by, cat, &p, programme(&a)).unwrap();
    refused(
        t.edit_programme(&by, cat, &p, |p| p.end = date("2018-12-31")),
        "end",
        Reason::EndBeforeStart,
    );
    t.edit_programme(&by, cat, &p, |p| {
        p.public_framing_pct = 70;
        p.signatories.insert(org.clone());
    })
    .unwrap();
    assert_eq!(t.programmes().unwrap()[&p].public_framing_pct, 70);
    t.set_programme_archived(&by, cat, &p, true).unwrap();
    let kept = &t.programmes().unwrap()[&p];
    assert!(kept.archived, "archived");
    assert_eq!(
        kept.start,
        date("2019-01-01"),
        "its period is kept for reports"
    );
    t.set_programme_archived(&by, cat, &p, false).unwrap();
    assert!(!t.programmes().unwrap()[&p].archived);
}

#[test]
fn an_activity_is_archived_and_restored_and_a_move_keeps_its_history() {
    let mut f = Fixture::lektiecafe();
    let cat = f.cat;
    let by = f.central.clone();
    let from = f.activity.activity().unwrap().current.area.clone();
    f.activity.set_archived(&by, cat, true).unwrap();
    assert!(f.activity.activity().unwrap().current.archived);
    let moved: AreaId = "a-syd".parse().unwrap();
    f.activity
        .move_to_area(&by, cat, moved.clone(), date("2026-09-01"))
        .unwrap();
    let a = f.activity.activity().unwrap().current;
    assert_eq!(a.area, moved);
    assert_eq!(
        a.area_on(date("2026-08-15")),
        &from,
        "earlier records keep their area"
    );
    assert_eq!(a.area_on(date("2026-09-02")), &moved);
    f.activity.set_archived(&by, cat, false).unwrap();
    assert!(!f.activity.activity().unwrap().current.archived);
}

/// An undone merge: the duplicate counts for itself again on every replica, a mark made
/// offline under its own id before anyone heard of the merge returns with it, and a
/// concurrent edit of the record on a phone is kept.
#[test]
fn a_merge_is_undone_with_concurrent_phone_edits() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let mut base = f.replica();
    let kept = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let dup = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let sid = f.session_on(&base, "2026-11-19");
    let bytes = base.doc().save();
    let mut office = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let mut offline = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    office.merge_participants(&f.central, &dup, &kept).unwrap();
    // Undo refuses what the page did not show: the wrong pair, or no merge at all.
    refused(
        office.unmerge_participant(&f.central, &kept, &dup),
        "duplicate",
        Reason::NotActive,
    );
    let other = office
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("13-14", None),
        )
        .unwrap();
    refused(
        office.unmerge_participant(&f.central, &dup, &other),
        "canonical",
        Reason::Inconsistent,
    );
    // Meanwhile a phone that has not heard of the merge marks the duplicate present and
    // changes its age band.
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:05"),
    };
    offline
        .mark(&maja, ctx, &sid, &dup, AttendanceStatus::Present)
        .unwrap();
    offline
        .update_participant(&maja, ctx, &dup, |p| p.age_band = "13-14".parse().unwrap())
        .unwrap();
    merge(&mut office, &mut offline);
    assert_eq!(
        office.view().unwrap().present(&sid).len(),
        1,
        "merged: counts once"
    );
    office.unmerge_participant(&f.central, &dup, &kept).unwrap();
    merge(&mut office, &mut offline);
    for r in [&office, &offline] {
        let v = r.view().unwrap();
        assert_eq!(v.canonical(&dup), &dup, "counts for itself again");
        let present = v.present(&sid);
        assert!(present.contains(&dup), "its own mark came back with it");
        assert_eq!(
            r.participant(&dup).unwrap().age_band.as_str(),
            "13-14",
            "the phone's concurrent edit is kept"
        );
    }
    assert_eq!(office.view().unwrap(), offline.view().unwrap());
    // Undone once; a second undo is refused.
    refused(
        office.unmerge_participant(&f.central, &dup, &kept),
        "duplicate",
        Reason::NotActive,
    );
}

#[test]
fn a_series_is_changed_through_its_rules_and_a_stopped_one_is_refused() {
    let mut f = Fixture::lektiecafe();
    let by = f.central.clone();
    let (id, before) = f
        .activity
        .series()
        .unwrap()
        .into_iter()
        .next()
        .expect("a series");
    refused(
        f.activity.change_series(&by, &id, |s| s.end = s.start),
        "end",
        Reason::EndBeforeStart,
    );
    assert_eq!(f.activity.series().unwrap()[&id], before, "nothing changed");
    f.activity
        .change_series(&by, &id, |s| {
            s.weekday = Weekday::Thu;
            s.start = Time::parse("16:00").unwrap();
            s.end = Time::parse("18:00").unwrap();
        })
        .unwrap();
    let after = &f.activity.series().unwrap()[&id];
    assert_eq!(
        (after.weekday, after.start.to_string()),
        (Weekday::Thu, "16:00".to_owned())
    );
    f.activity.cancel_series(&by, &id).unwrap();
    refused(
        f.activity
            .change_series(&by, &id, |s| s.weekday = Weekday::Fri),
        "series",
        Reason::NotActive,
    );
    let ghost = SeriesId::random();
    refused(
        f.activity
            .change_series(&by, &ghost, |s| s.weekday = Weekday::Fri),
        "series",
        Reason::NotFound,
    );
}
