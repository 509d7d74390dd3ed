//! Headcounts by group (issue 12 item 4; stories 12 and 17): children and adults, residents
//! and outsiders, and first-timers among them, as a phone writes them and the relay's rules
//! judge them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use nabo_core::docs::volunteers::Certificates;
use nabo_core::model::register::{HeadcountBucket, HeadcountSplit};
use nabo_core::prelude::*;
use nabo_core::rules::{self, Context, Editor, ShiftFacts};

fn party() -> HeadcountSplit {
    HeadcountSplit {
        children_residents: 23,
        children_outsiders: 4,
        adults_residents: 11,
        adults_outsiders: 2,
        first_timers: 9,
    }
}

#[test]
fn a_split_is_the_sessions_count_and_first_timers_are_among_them() {
    let f = Fixture::with_mode(AttendanceMode::Headcount);
    let mut reg = f.replica();
    let s = f.session_on(&reg, "2026-11-19");
    let maja = Author {
        by: By::Volunteer(f.vol_ok.clone()),
        at: at("2026-11-19", "17:00"),
    };
    // A total first (the old screen), then the groups: the groups replace the total.
    reg.set_headcount_total(&maja, f.ctx(), &s, 35).unwrap();
    assert_eq!(reg.view().unwrap().headcount(&s), 35);
    reg.set_headcounts(&maja, f.ctx(), &s, &party()).unwrap();
    let view = reg.view().unwrap();
    assert_eq!(view.headcount(&s), 40, "first-timers are not added");
    assert_eq!(view.headcount_split(&s), party());
    // And a total again replaces the groups (one phone, one way of counting at a time).
    reg.set_headcount_total(&maja, f.ctx(), &s, 41).unwrap();
    let view = reg.view().unwrap();
    assert_eq!(view.headcount(&s), 41);
    assert_eq!(view.headcount_split(&s).total(), 0);
    // Setting the same groups twice writes the same counts.
    reg.set_headcounts(&maja, f.ctx(), &s, &party()).unwrap();
    reg.set_headcounts(&maja, f.ctx(), &s, &party()).unwrap();
    assert_eq!(reg.view().unwrap().headcount(&s), 40);
}

#[test]
fn more_first_timers_than_came_is_refused_naming_the_field() {
    let f = Fixture::with_mode(AttendanceMode::Headcount);
    let mut reg = f.replica();
    let s = f.session_on(&reg, "2026-11-19");
    let who = Author {
        by: By::Volunteer(f.vol_ok.clone()),
        at: at("2026-11-19", "17:00"),
    };
    let too_many = HeadcountSplit {
        first_timers: 41,
        ..party()
    };
    match reg.set_headcounts(&who, f.ctx(), &s, &too_many) {
        Err(Error::Invalid(i)) => {
            assert_eq!(i.field, "first_timers");
            assert_eq!(i.reason, Reason::OutOfRange);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reg.view().unwrap().headcount(&s), 0, "nothing written");
}

#[test]
fn buckets_read_back_and_old_three_part_buckets_still_read() {
    for b in [
        HeadcountBucket::all(),
        HeadcountBucket::first_timers(),
        HeadcountBucket::group(HeadcountBucket::CHILDREN, true),
        HeadcountBucket::group(HeadcountBucket::ADULTS, false),
    ] {
        assert_eq!(b.to_string().parse::<HeadcountBucket>().unwrap(), b);
    }
    assert_eq!(
        HeadcountBucket::first_timers().to_string(),
        "all.all.all.first"
    );
    let old: HeadcountBucket = "7-9.female.resident".parse().unwrap();
    assert!(!old.first_time && old.counts_attendance());
    for bad in ["all.all.all.second", "all.all.all.first.x", "all.all"] {
        assert!(bad.parse::<HeadcountBucket>().is_err(), "{bad}");
    }
}

#[test]
fn the_relay_accepts_a_volunteers_split_and_counted_children_need_a_certificate() {
    let f = Fixture::with_mode(AttendanceMode::Headcount);
    let mut phone = f.replica();
    let s = f.session_on(&phone, "2026-11-19");
    let v = f.vol_missing.clone();
    let editor = Editor {
        role: AppRole::Volunteer,
        staff: None,
        volunteer: Some(v.clone()),
    };
    let who = Author {
        by: By::Volunteer(v.clone()),
        at: at("2026-11-19", "17:00"),
    };
    let ctx = Context {
        catalogue: f.cat,
        free_text_notes: false,
        shifts: Some(ShiftFacts {
            certificates: &Certificates::default(),
            children_under_15: false,
        }),
    };
    let before = phone.doc().heads();
    phone.set_headcounts(&who, f.ctx(), &s, &party()).unwrap();
    let changes = phone.doc().automerge().get_changes(&before);
    rules::check(phone.doc().automerge(), &before, &changes, &editor, &ctx)
        .expect("a volunteer sets headcounts");
    // Children counted make it a session with children: the uncertified volunteer's
    // check-in is refused, as for a counted under-15 age band.
    // An activity not marked as being for children (a summer party for the whole estate).
    let mut open_to_all = f.snapshot.clone();
    open_to_all.activity.children_under_15 = false;
    let none = Certificates::default();
    let rctx = RegisterContext {
        certificates: &none,
        activity: &open_to_all,
        ..f.ctx()
    };
    assert!(phone.involves_children_under_15(rctx, &s).unwrap());
    let adults_only = HeadcountSplit {
        adults_residents: 12,
        ..HeadcountSplit::default()
    };
    let mut other = f.replica();
    let s2 = f.session_on(&other, "2026-11-19");
    other
        .set_headcounts(&who, f.ctx(), &s2, &adults_only)
        .unwrap();
    assert!(
        !other.involves_children_under_15(rctx, &s2).unwrap(),
        "adults alone do not make it a session with children"
    );
}
