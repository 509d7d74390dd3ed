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
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
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
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
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

/// Rule 5, the phone that has not heard of a merge: it was offline when the office merged two
/// entries of the same child, and it marks the duplicate. After syncing, the child counts
/// once, under the canonical id, on every replica.
#[test]
fn a_phone_that_has_not_heard_of_a_merge_marks_the_old_id_and_the_child_counts_once() {
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
    let mut other = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    office.merge_participants(&f.central, &dup, &kept).unwrap();
    // The offline phone still knows the child by the duplicate's id.
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:05"),
    };
    offline
        .mark(&maja, ctx, &sid, &dup, AttendanceStatus::Present)
        .unwrap();
    // Another phone marks the canonical entry of the same child present.
    let jonas = Author {
        by: volunteer("v-jonas"),
        at: at("2026-11-19", "15:06"),
    };
    other
        .mark(&jonas, ctx, &sid, &kept, AttendanceStatus::Present)
        .unwrap();
    merge(&mut office, &mut offline);
    merge(&mut office, &mut other);
    merge(&mut offline, &mut office);
    merge(&mut other, &mut office);
    for r in [&office, &offline, &other] {
        let v = r.view().unwrap();
        assert_eq!(v.canonical(&dup), &kept);
        let present = v.present(&sid);
        assert_eq!(present.len(), 1, "the child counts once");
        assert!(present.contains(&kept), "under the canonical id");
    }
    assert_eq!(office.view().unwrap(), offline.view().unwrap());
}

/// Rule 6, duplicate sessions: two phones that generate the same weekly occurrence offline
/// write one session (derived id); two one-off sessions on the same evening are two sessions
/// that the review proposes as duplicates until one is kept.
#[test]
fn the_same_occurrence_is_one_session_and_two_one_off_evenings_are_proposed_as_duplicates() {
    let f = Fixture::lektiecafe();
    // The office adds a Monday series after the register was made; two phones generate its
    // sessions offline.
    let mut activity = f.activity.clone();
    activity
        .add_series(
            &f.central,
            NewSeries {
                weekday: Weekday::Mon,
                start: Time::hm(15, 0).unwrap(),
                end: Time::hm(17, 0).unwrap(),
                from: date("2026-11-01"),
                until: Some(date("2026-11-30")),
                venue: None,
            },
        )
        .unwrap();
    let snapshot = activity.snapshot().unwrap();
    let ctx = RegisterContext {
        catalogue: f.cat,
        activity: &snapshot,
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
    };
    let bytes = f.replica().doc().save();
    let mut a = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let mut b = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let before = a.view().unwrap().sessions.len();
    let added = a.generate_sessions(&f.central, ctx).unwrap();
    assert_eq!(added, 5, "the Mondays of November 2026");
    assert_eq!(b.generate_sessions(&f.central, ctx).unwrap(), added);
    assert_eq!(
        a.generate_sessions(&f.central, ctx).unwrap(),
        0,
        "idempotent"
    );
    merge(&mut a, &mut b);
    merge(&mut b, &mut a);
    assert_eq!(
        a.view().unwrap().sessions.len(),
        before + added,
        "one session per occurrence, not two"
    );
    assert_eq!(a.view().unwrap(), b.view().unwrap());

    // Two volunteers each add the same extra evening.
    let extra = |title: &str, start: u32| nabo_core::docs::register::NewSession {
        date: date("2026-11-21"),
        start: Time::hm(start, 0).unwrap(),
        end: Time::hm(start + 2, 0).unwrap(),
        venue: None,
        title: Some(title.into()),
    };
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-20", "12:00"),
    };
    let s1 = a
        .add_session(&maja, extra("Ekstra lektiehjælp", 15))
        .unwrap();
    let s2 = b.add_session(&maja, extra("Ekstra lektier", 16)).unwrap();
    assert_ne!(s1, s2, "one-off sessions have random ids");
    merge(&mut a, &mut b);
    let v = a.view().unwrap();
    let dup = v
        .review_items(|_, _| None)
        .into_iter()
        .find_map(|i| match i {
            ReviewItem::DuplicateSessions { sessions } => Some(sessions),
            _ => None,
        })
        .expect("proposed as duplicates");
    assert_eq!(
        dup.iter().collect::<std::collections::BTreeSet<_>>(),
        [&s1, &s2].into_iter().collect()
    );
    // The office keeps one: the other is cancelled (never removed) and the item goes away.
    a.set_cancelled(&f.central, &s2, true).unwrap();
    assert!(
        !a.view()
            .unwrap()
            .review_items(|_, _| None)
            .iter()
            .any(|i| matches!(i, ReviewItem::DuplicateSessions { .. }))
    );
    assert!(a.view().unwrap().sessions.contains_key(&s2));
}

/// Rule 8, shifts are written field by field: one phone checks a volunteer out while another
/// changes the sign-up; after the merge both are there.
#[test]
fn concurrent_shift_fields_both_survive() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let mut base = f.replica();
    let sid = f.session_on(&base, "2026-11-19");
    let v = f.vol_ok.clone();
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:00"),
    };
    base.check_in(&maja, ctx, &sid, &v, at("2026-11-19", "15:00"))
        .unwrap();
    let bytes = base.doc().save();
    let mut a = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let mut b = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    a.check_out(&maja, &sid, &v, at("2026-11-19", "17:05"))
        .unwrap();
    b.sign_up(&f.central, ctx, &sid, &v).unwrap();
    merge(&mut a, &mut b);
    merge(&mut b, &mut a);
    for r in [&a, &b] {
        let view = r.view().unwrap();
        let shift = &view.shifts[&(sid.clone(), v.clone())];
        assert!(shift.conflicts.is_empty(), "no field was overwritten");
        let s = &shift.current;
        assert_eq!(s.check_in, Some(at("2026-11-19", "15:00")));
        assert_eq!(
            s.check_out,
            Some(at("2026-11-19", "17:05")),
            "the check-out"
        );
        assert!(s.signed_up, "and the sign-up");
        assert_eq!(s.minutes(), Some(125));
    }
}

/// Rule 5, two reviewers merge the same pair in opposite directions while apart (A into B on
/// one device, B into A on another). Once their changes meet the links form a cycle: every
/// replica counts the child once, under the same id, and phones can still mark either id.
/// Found by the convergence property (core/tests/convergence.rs).
#[test]
fn opposite_concurrent_merges_count_the_child_once_and_it_can_still_be_marked() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let mut base = f.replica();
    let a_id = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let b_id = base
        .add_participant(
            &f.central,
            ctx,
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let sid = f.session_on(&base, "2026-11-19");
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:05"),
    };
    let bytes = base.doc().save();
    let mut one = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    let mut two = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    one.merge_participants(&f.central, &a_id, &b_id).unwrap();
    two.merge_participants(&f.central, &b_id, &a_id).unwrap();
    one.mark(&maja, ctx, &sid, &a_id, AttendanceStatus::Present)
        .unwrap();
    two.mark(&maja, ctx, &sid, &b_id, AttendanceStatus::Present)
        .unwrap();
    merge(&mut one, &mut two);
    merge(&mut two, &mut one);
    let least = a_id.clone().min(b_id.clone());
    for r in [&mut one, &mut two] {
        let v = r.view().unwrap();
        assert_eq!(v.canonical(&a_id), &least);
        assert_eq!(v.canonical(&b_id), &least);
        assert_eq!(v.present(&sid).len(), 1, "the child counts once");
        // Both ids still take marks (they go to the canonical one).
        r.mark(&maja, ctx, &sid, &a_id, AttendanceStatus::Absent)
            .unwrap();
        r.mark(&maja, ctx, &sid, &b_id, AttendanceStatus::Present)
            .unwrap();
    }
    merge(&mut one, &mut two);
    merge(&mut two, &mut one);
    assert_eq!(one.view().unwrap(), two.view().unwrap());
    assert_eq!(one.view().unwrap().present(&sid).len(), 1);
}
