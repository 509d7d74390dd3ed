//! The check that blocks a volunteer without a valid child certificate (børneattest) reads
//! the certificate as the volunteer directory holds it now, never the roster's copy (issue 10
//! item 4, ADR 0023): in the register's operations (the phone) and in the rules the relay
//! runs before it stores a volunteer's changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ChangeHash;
use common::*;
use nabo_core::docs::volunteers::Certificates;
use nabo_core::model::volunteer::ChildCertificate;
use nabo_core::prelude::*;
use nabo_core::rules::{self, Context, Editor, ShiftFacts};

fn cert(obtained: &str, due: &str) -> Option<ChildCertificate> {
    Some(ChildCertificate {
        obtained: date(obtained),
        renewal_due: date(due),
    })
}

#[test]
fn the_register_reads_the_current_certificate_not_the_rosters_copy() {
    let f = Fixture::lektiecafe();
    let mut reg = f.replica();
    let s = f.session_on(&reg, "2026-11-19");
    let maja = Author {
        by: By::Volunteer(f.vol_missing.clone()),
        at: at("2026-11-19", "15:00"),
    };
    // The roster holds nothing for the volunteer; the directory has no certificate: blocked.
    let none = Certificates::one(f.vol_missing.clone(), None);
    let ctx = RegisterContext {
        certificates: &none,
        ..f.ctx()
    };
    match reg.check_in(&maja, ctx, &s, &f.vol_missing, maja.at) {
        Err(Error::Invalid(i)) => assert_eq!(i.reason, Reason::ChildCertificateRequired),
        other => panic!("{other:?}"),
    }
    // Renewed in the directory only (the roster untouched): accepted.
    let renewed = Certificates::one(f.vol_missing.clone(), cert("2026-10-01", "2028-10-01"));
    let ctx = RegisterContext {
        certificates: &renewed,
        ..f.ctx()
    };
    assert!(
        f.snapshot.roster[&f.vol_missing]
            .cleared_for_children_until
            .is_none()
    );
    reg.check_in(&maja, ctx, &s, &f.vol_missing, maja.at)
        .expect("a certificate renewed in the directory unblocks");
}

/// The rules as the relay runs them on a volunteer's check-in and sign-up.
fn judge(
    phone: &RegisterDoc,
    before: &[ChangeHash],
    editor: &Editor,
    cat: &Catalogue,
    certificates: &Certificates,
) -> Result<(), rules::Refusal> {
    let changes = phone.doc().automerge().get_changes(before);
    assert!(!changes.is_empty());
    rules::check(
        phone.doc().automerge(),
        before,
        &changes,
        editor,
        &Context {
            catalogue: cat,
            free_text_notes: false,
            shifts: Some(ShiftFacts {
                certificates,
                children_under_15: true,
            }),
        },
    )
}

#[test]
fn the_relay_refuses_a_volunteers_check_in_when_the_directorys_certificate_has_expired() {
    let f = Fixture::lektiecafe();
    let v = f.vol_ok.clone();
    let editor = Editor {
        role: AppRole::Volunteer,
        staff: None,
        volunteer: Some(v.clone()),
    };
    let maja = Author {
        by: By::Volunteer(v.clone()),
        at: at("2026-11-19", "15:00"),
    };
    // The phone checks in with the certificate it last saw (valid).
    let mut phone = f.replica();
    let s = f.session_on(&phone, "2026-11-19");
    let before = phone.doc().heads();
    phone.check_in(&maja, f.ctx(), &s, &v, maja.at).unwrap();
    judge(&phone, &before, &editor, f.cat, &f.certificates).expect("valid in the directory");
    // The office recorded meanwhile that it ran out before the session: refused.
    let expired = Certificates::one(v.clone(), cert("2024-01-01", "2026-11-01"));
    let e = judge(&phone, &before, &editor, f.cat, &expired).unwrap_err();
    assert_eq!(e.reason, Reason::ChildCertificateRequired, "{e}");
    assert_eq!(e.record, format!("shifts/{s}/{v}"));
    // Not known at all in the directory: refused too.
    let e = judge(&phone, &before, &editor, f.cat, &Certificates::default()).unwrap_err();
    assert_eq!(e.reason, Reason::ChildCertificateRequired);
    // A checker that does not know the directory does not check.
    let changes = phone.doc().automerge().get_changes(&before);
    let ctx = Context {
        catalogue: f.cat,
        free_text_notes: false,
        shifts: None,
    };
    rules::check(phone.doc().automerge(), &before, &changes, &editor, &ctx).unwrap();

    // Checking out is never blocked.
    let before = phone.doc().heads();
    let out = Author {
        at: at("2026-11-19", "17:00"),
        ..maja.clone()
    };
    phone.check_out(&out, &s, &v, out.at).unwrap();
    judge(&phone, &before, &editor, f.cat, &expired).expect("a check-out is never refused");

    // A sign-up for a later session: the same rule.
    let later = f.session_on(&phone, "2026-12-03");
    let before = phone.doc().heads();
    let early = Author {
        at: at("2026-11-20", "10:00"),
        ..maja
    };
    phone.sign_up(&early, f.ctx(), &later, &v).unwrap();
    let e = judge(&phone, &before, &editor, f.cat, &expired).unwrap_err();
    assert_eq!(e.reason, Reason::ChildCertificateRequired);
    judge(&phone, &before, &editor, f.cat, &f.certificates).unwrap();
}

#[test]
fn an_activity_without_children_needs_no_certificate_unless_the_register_counts_children() {
    let f = Fixture::lektiecafe();
    let v = f.vol_missing.clone();
    let editor = Editor {
        role: AppRole::Volunteer,
        staff: None,
        volunteer: Some(v.clone()),
    };
    let maja = Author {
        by: By::Volunteer(v.clone()),
        at: at("2026-11-19", "15:00"),
    };
    let mut phone = f.replica();
    let s = f.session_on(&phone, "2026-11-19");
    let before = phone.doc().heads();
    // Around the operations, as another client would: a check-in without a certificate.
    let mut snap = f.snapshot.clone();
    snap.activity.children_under_15 = false;
    let ctx = RegisterContext {
        activity: &snap,
        ..f.ctx()
    };
    phone.check_in(&maja, ctx, &s, &v, maja.at).unwrap();
    let changes = phone.doc().automerge().get_changes(&before);
    let facts = |children| Context {
        catalogue: f.cat,
        free_text_notes: false,
        shifts: Some(ShiftFacts {
            certificates: &f.certificates,
            children_under_15: children,
        }),
    };
    rules::check(
        phone.doc().automerge(),
        &before,
        &changes,
        &editor,
        &facts(false),
    )
    .expect("no children: no certificate needed");
    assert_eq!(
        rules::check(
            phone.doc().automerge(),
            &before,
            &changes,
            &editor,
            &facts(true)
        )
        .unwrap_err()
        .reason,
        Reason::ChildCertificateRequired
    );
}
