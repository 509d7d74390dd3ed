//! The merge rules of ADR 0003: concurrent offline edits merge into a valid domain state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ActorId;
use common::*;
use nabo_core::docs::register::{RegisterDoc, ReviewItem};
use nabo_core::prelude::*;
use nabo_core::seal::KeyRing;

#[test]
fn two_volunteers_mark_the_same_child_present_gives_one_attendance() {
    let mut f = Fixture::lektiecafe();
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:10"),
    };
    let ctx_snapshot = f.snapshot.clone();
    let ctx = RegisterContext {
        catalogue: f.cat,
        activity: &ctx_snapshot,
    };
    let pid = f
        .register
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-19"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let sid = f.session_on(&f.register, "2026-11-19");
    let mut a = f.replica();
    let mut b = f.replica();
    a.mark(&maja, ctx, &sid, &pid, AttendanceStatus::Present)
        .unwrap();
    let jonas = Author {
        by: volunteer("v-jonas"),
        at: at("2026-11-19", "15:12"),
    };
    b.mark(&jonas, ctx, &sid, &pid, AttendanceStatus::Present)
        .unwrap();
    merge(&mut a, &mut b);
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    assert_eq!(va, vb);
    assert_eq!(va.attendance.keys().filter(|(s, _)| *s == sid).count(), 1);
    assert_eq!(va.present(&sid).len(), 1);
    assert!(
        va.review_items(|_, _| None)
            .iter()
            .all(|i| !matches!(i, ReviewItem::AttendanceConflict { .. }))
    );
}

#[test]
fn present_versus_absent_is_deterministic_and_shown_for_review_until_resolved() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let mut base = f.replica();
    let pid = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-19"),
            Fixture::child("7-9", None),
        )
        .unwrap();
    let sid = f.session_on(&base, "2026-11-19");
    let bytes = base.doc().save();
    let mut a = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let mut b = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    a.mark(
        &Author {
            by: volunteer("v-maja"),
            at: at("2026-11-19", "15:05"),
        },
        ctx,
        &sid,
        &pid,
        AttendanceStatus::Present,
    )
    .unwrap();
    b.mark(
        &Author {
            by: volunteer("v-jonas"),
            at: at("2026-11-19", "16:55"),
        },
        ctx,
        &sid,
        &pid,
        AttendanceStatus::Absent,
    )
    .unwrap();
    merge(&mut a, &mut b);
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    assert_eq!(va, vb, "every replica shows the same winner");
    let mark = &va.attendance[&(sid.clone(), pid.clone())];
    assert_eq!(mark.conflicts.len(), 1);
    let mut statuses = vec![mark.current, mark.conflicts[0]];
    statuses.sort();
    assert_eq!(
        statuses,
        vec![AttendanceStatus::Present, AttendanceStatus::Absent]
    );
    // The review sees who wrote which mark, from the change history.
    let mut who: Vec<(AttendanceStatus, Option<By>)> = a
        .mark_history(&sid, &pid)
        .unwrap()
        .into_iter()
        .map(|m| (m.status, m.by))
        .collect();
    who.sort();
    assert_eq!(
        who,
        vec![
            (AttendanceStatus::Present, Some(volunteer("v-maja"))),
            (AttendanceStatus::Absent, Some(volunteer("v-jonas")))
        ]
    );
    assert!(va.review_items(|_, _| None).iter().any(|i| matches!(
        i,
        ReviewItem::AttendanceConflict { session, participant, statuses } if *session == sid && *participant == pid && statuses.len() == 2
    )));

    // Central staff resolve it by marking again; the conflict is gone on every replica.
    let central = Author {
        by: staff("central"),
        at: at("2026-11-20", "09:00"),
    };
    a.mark(&central, ctx, &sid, &pid, AttendanceStatus::Present)
        .unwrap();
    merge(&mut a, &mut b);
    let vb = b.view().unwrap();
    let mark = &vb.attendance[&(sid.clone(), pid.clone())];
    assert!(mark.conflicts.is_empty());
    assert_eq!(mark.current, AttendanceStatus::Present);
    assert!(vb.review_items(|_, _| None).is_empty());

    // The session's history names every change to its marks, overwritten ones included,
    // and nothing from other sessions.
    let other = f.session_on(&b, "2026-11-24");
    b.mark(&central, ctx, &other, &pid, AttendanceStatus::Excused)
        .unwrap();
    let key = format!("{sid}/{pid}");
    let prefix = format!("{sid}/");
    let history = b
        .doc()
        .record_history(&["sessions", "attendance"], |k| {
            k == sid.as_str() || k.starts_with(&prefix)
        })
        .unwrap();
    let marks: Vec<(String, String)> = history
        .iter()
        .filter(|c| c.keys.contains(&key))
        .map(|c| {
            let n = c.entry.note.as_ref().unwrap();
            (n.op.clone(), n.by.clone())
        })
        .collect();
    assert_eq!(
        marks.len(),
        3,
        "Maja's, Jonas's and the office's marks: {marks:?}"
    );
    for by in ["volunteer:v-maja", "volunteer:v-jonas", "staff:central"] {
        assert!(
            marks
                .iter()
                .any(|(op, b)| op == "mark-attendance" && b == by),
            "{by}"
        );
    }
    assert!(
        history
            .iter()
            .all(|c| c.keys.iter().all(|k| !k.starts_with(other.as_str()))),
        "another session's mark is not in this session's history"
    );
}

#[test]
fn a_session_cancelled_while_another_phone_takes_the_roll_keeps_the_marks() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let mut base = f.replica();
    let p1 = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let p2 = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("13-14", None),
        )
        .unwrap();
    let sid = f.session_on(&base, "2026-11-17");
    let bytes = base.doc().save();
    let mut central_copy = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let mut phone = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    central_copy.set_cancelled(&f.central, &sid, true).unwrap();
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-17", "15:30"),
    };
    phone
        .mark(&maja, ctx, &sid, &p1, AttendanceStatus::Present)
        .unwrap();
    phone
        .mark(&maja, ctx, &sid, &p2, AttendanceStatus::Present)
        .unwrap();
    merge(&mut central_copy, &mut phone);
    let v = phone.view().unwrap();
    assert!(v.sessions[&sid].current.cancelled);
    assert_eq!(v.present(&sid).len(), 2, "no mark is lost");
    assert!(
        v.review_items(|_, _| None)
            .contains(&ReviewItem::CancelledSessionWithAttendance {
                session: sid.clone(),
                records: 2
            })
    );
    // After the merge, a further mark in the cancelled session is refused with the reason.
    let err = phone
        .mark(&maja, ctx, &sid, &p1, AttendanceStatus::Absent)
        .unwrap_err();
    assert_eq!(err.invalid().unwrap().reason, Reason::NotActive);
    // Review restores the session: the marks count and the review item goes away.
    central_copy.set_cancelled(&f.central, &sid, false).unwrap();
    assert!(
        central_copy
            .view()
            .unwrap()
            .review_items(|_, _| None)
            .is_empty()
    );
}

#[test]
fn the_same_new_child_added_on_two_phones_gives_two_entries_that_review_merges() {
    let mut f = Fixture::lektiecafe();
    let snapshot = f.snapshot.clone();
    let ctx = RegisterContext {
        catalogue: f.cat,
        activity: &snapshot,
    };
    let sid = f.session_on(&f.register, "2026-11-19");
    let mut a = f.replica();
    let mut b = f.replica();
    let id_a = ParticipantId::random();
    let id_b = ParticipantId::random();
    let label_a = f.sealed_label(&id_a, "Aisha");
    let label_b = f.sealed_label(&id_b, " aisha ");
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:01"),
    };
    let jonas = Author {
        by: volunteer("v-jonas"),
        at: at("2026-11-19", "15:02"),
    };
    a.add_participant_with_id(
        &maja,
        ctx,
        date("2026-11-19"),
        id_a.clone(),
        Fixture::child("10-12", Some(label_a)),
    )
    .unwrap();
    a.mark(&maja, ctx, &sid, &id_a, AttendanceStatus::Present)
        .unwrap();
    b.add_participant_with_id(
        &jonas,
        ctx,
        date("2026-11-19"),
        id_b.clone(),
        Fixture::child("10-12", Some(label_b)),
    )
    .unwrap();
    b.mark(&jonas, ctx, &sid, &id_b, AttendanceStatus::Present)
        .unwrap();
    merge(&mut a, &mut b);
    let v = a.view().unwrap();
    assert_eq!(v.participants.len(), 2, "two entries, nothing overwritten");
    let keys = f.keys.clone();
    let items = v.review_items(|id, sealed| keys.open_label(id.as_str(), sealed));
    let dup = items
        .iter()
        .find_map(|i| match i {
            ReviewItem::DuplicateParticipants { participants } => Some(participants.clone()),
            _ => None,
        })
        .expect("proposed as duplicates");
    assert_eq!(dup.len(), 2);
    assert_eq!(v.present(&sid).len(), 2);

    a.merge_participants(&f.central, &id_b, &id_a).unwrap();
    merge(&mut a, &mut b);
    let v = b.view().unwrap();
    assert_eq!(
        v.present(&sid).len(),
        1,
        "after the merge the child counts once"
    );
    assert!(
        v.review_items(|id, s| keys.open_label(id.as_str(), s))
            .is_empty()
    );
    // A phone that has not heard of the merge marks the old id; the mark counts for the
    // canonical child, and on a phone that knows, a new mark is redirected.
    let later = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "16:00"),
    };
    b.mark(&later, ctx, &sid, &id_b, AttendanceStatus::Present)
        .unwrap();
    assert!(
        b.view()
            .unwrap()
            .attendance
            .contains_key(&(sid.clone(), id_a.clone()))
    );
}

#[test]
fn two_phones_creating_the_same_register_offline_create_one_document() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let term: Term = "2027H1".parse().unwrap();
    let mk = |by: &str| {
        RegisterDoc::create(
            f.tenant.clone(),
            f.activity.id().clone(),
            term,
            ActorId::random(),
            &Author {
                by: volunteer(by),
                at: at("2027-01-05", "15:00"),
            },
            ctx,
        )
        .unwrap()
    };
    let mut a = mk("v-maja");
    let mut b = mk("v-jonas");
    assert_eq!(a.doc().id(), b.doc().id());
    let p = a
        .add_participant(
            &f.central,
            ctx,
            date("2027-01-05"),
            Fixture::child("7-9", None),
        )
        .unwrap();
    merge(&mut a, &mut b);
    let (va, vb) = (a.view().unwrap(), b.view().unwrap());
    assert_eq!(va, vb);
    assert!(va.participants.contains_key(&p));
    // The sessions of the series were generated on both phones with the same ids: no
    // duplicates, and no session shows a conflict that differs.
    assert!(va.review_items(|_, _| None).is_empty());
    assert_eq!(va.sessions.len(), a.view().unwrap().sessions.len());
}

#[test]
fn concurrent_edits_of_different_activity_fields_both_survive() {
    let f = Fixture::lektiecafe();
    let bytes = f.activity.doc().save();
    let mut a = ActivityDoc::load(&bytes, ActorId::random()).unwrap();
    let mut b = ActivityDoc::load(&bytes, ActorId::random()).unwrap();
    a.update(&f.central, f.cat, |x| {
        x.methods.insert("praksisnaer-laering".parse().unwrap());
    })
    .unwrap();
    b.update(&f.central, f.cat, |x| x.name = "Lektiecafé Vest".into())
        .unwrap();
    b.update(&f.central, f.cat, |x| {
        x.methods.insert("gruppebaseret-laering".parse().unwrap());
    })
    .unwrap();
    a.doc_mut().merge(b.doc_mut()).unwrap();
    let act = a.activity().unwrap().current;
    assert_eq!(act.name, "Lektiecafé Vest");
    assert_eq!(act.methods.len(), 2, "concurrent additions to a set union");
}

#[test]
fn concurrent_referral_updates_keep_every_status_change() {
    use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
    let cat = Catalogue::builtin().unwrap();
    let worker: StaffId = "s-ali".parse().unwrap();
    let ali = Author {
        by: By::Staff(worker.clone()),
        at: at("2026-11-10", "18:00"),
    };
    let mut log = OutreachDoc::create(
        "t".parse().unwrap(),
        worker,
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let c = log
        .log_contact(
            &ali,
            cat,
            false,
            NewContact::anonymous(ali.at, "legeplads", "uformelt-moede", 3, "15-17"),
        )
        .unwrap();
    let r = log
        .refer(
            &ali,
            cat,
            NewReferral {
                at: ali.at,
                from_contact: Some(c),
                from_activity: None,
                participant: None,
                to: "jobcenter".into(),
                to_org: None,
                to_activity: None,
                kind: ReferralKind::Information,
                consent_to_share: false,
            },
        )
        .unwrap();
    let bytes = log.doc().save();
    let mut a = OutreachDoc::load(&bytes, ActorId::random()).unwrap();
    let mut b = OutreachDoc::load(&bytes, ActorId::random()).unwrap();
    a.set_referral_status(
        &Author {
            by: ali.by.clone(),
            at: at("2026-11-12", "10:00"),
        },
        &r,
        ReferralStatus::Contacted,
    )
    .unwrap();
    b.set_referral_status(
        &Author {
            by: staff("central"),
            at: at("2026-11-12", "11:00"),
        },
        &r,
        ReferralStatus::FirstMeeting,
    )
    .unwrap();
    a.doc_mut().merge(b.doc_mut()).unwrap();
    b.doc_mut().merge(a.doc_mut()).unwrap();
    assert_eq!(a.view().unwrap(), b.view().unwrap());
    let refs = a.referrals().unwrap();
    let v = &refs[&r];
    assert_eq!(
        v.current.history.len(),
        3,
        "suggested + both concurrent changes are kept"
    );
}
