//! The resident log (ADR 0030, stories 16 and 17): ambassador rounds and food-club evenings
//! logged by resident volunteers, counts only; the rules the relay runs on it; and who may
//! sync it — a resident volunteer writes their activity's log and never reaches a staff
//! outreach log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::transaction::Transactable;
use automerge::{ActorId, ChangeHash, ROOT, ReadDoc};
use nabo_core::docs::resident::{NewEvening, NewRound, ResidentLogDoc};
use nabo_core::prelude::*;
use nabo_core::rules::access::{self, DocAccess, ResidentLogFacts};
use nabo_core::rules::{self, Context, Editor, Refusal};

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn cat() -> &'static Catalogue {
    Catalogue::builtin().unwrap()
}

fn ambassador(id: &str) -> Editor {
    Editor {
        role: AppRole::Volunteer,
        staff: None,
        volunteer: Some(id.parse().unwrap()),
    }
}

fn central() -> Editor {
    Editor {
        role: AppRole::Central,
        staff: Some("s-mette".parse().unwrap()),
        volunteer: None,
    }
}

fn as_volunteer(id: &str) -> Author {
    Author {
        by: By::Volunteer(id.parse().unwrap()),
        at: Timestamp(1_789_000_000_000),
    }
}

fn log() -> ResidentLogDoc {
    ResidentLogDoc::create(
        "t-1".parse().unwrap(),
        "act-amb".parse().unwrap(),
        Term::of(day("2026-09-15")),
        ActorId::random(),
    )
    .unwrap()
}

fn round(topics: &[(&str, u32)]) -> NewRound {
    NewRound {
        date: day("2026-09-15"),
        area: "a-solbakken".parse().unwrap(),
        conversations: topics.iter().map(|(t, n)| ((*t).into(), *n)).collect(),
    }
}

fn evening(came: u32, first_timers: u32) -> NewEvening {
    NewEvening {
        date: day("2026-09-17"),
        area: "a-solbakken".parse().unwrap(),
        came,
        first_timers,
    }
}

fn field_of(e: nabo_core::Error) -> (String, Reason) {
    match e {
        nabo_core::Error::Invalid(i) => (i.field.to_string(), i.reason),
        other => panic!("not a refusal with a field: {other:?}"),
    }
}

/// Makes `f` on a copy of `base` and asks the relay's rules about the new changes.
fn judge(
    base: &ResidentLogDoc,
    editor: &Editor,
    f: impl FnOnce(&mut ResidentLogDoc),
) -> Result<(), Refusal> {
    let mut phone = base.clone();
    phone.doc_mut().automerge_mut().set_actor(ActorId::random());
    let before: Vec<ChangeHash> = phone.doc().heads();
    f(&mut phone);
    let changes = phone.doc().automerge().get_changes(&before);
    assert!(!changes.is_empty(), "the edit made no change");
    let ctx = Context {
        catalogue: cat(),
        free_text_notes: false,
        shifts: None,
    };
    rules::check(phone.doc().automerge(), &before, &changes, editor, &ctx)
}

#[test]
fn an_ambassador_logs_conversations_by_topic_and_a_food_club_its_first_timers() {
    let mut l = log();
    let me = as_volunteer("v-6");
    l.log_round(&me, cat(), round(&[("sundhed", 7), ("ensomhed", 3)]))
        .unwrap();
    l.log_round(&me, cat(), round(&[("sundhed", 2), ("affald-genbrug", 4)]))
        .unwrap();
    let gone = l.log_round(&me, cat(), round(&[("naboskab", 40)])).unwrap();
    l.withdraw_round(&me, &gone).unwrap();
    l.log_evening(&me, evening(31, 6)).unwrap();
    l.log_evening(&me, evening(24, 0)).unwrap();

    let s = l.summary(None, None).unwrap();
    assert_eq!(s.rounds, 2, "a withdrawn round is not counted");
    assert_eq!(s.conversations, 16);
    assert_eq!(s.by_topic[&"sundhed".parse::<Code>().unwrap()], 9);
    assert_eq!((s.evenings, s.came, s.first_timers), (2, 55, 6));
    assert_eq!(
        l.rounds().unwrap().len(),
        3,
        "withdrawn rounds stay in the log"
    );
    // The period filter.
    let before = l.summary(None, Some(day("2026-09-16"))).unwrap();
    assert_eq!((before.rounds, before.evenings), (2, 0));
}

#[test]
fn bad_counts_are_refused_naming_the_field() {
    let mut l = log();
    let me = as_volunteer("v-6");
    let (f, r) = field_of(l.log_evening(&me, evening(10, 11)).unwrap_err());
    assert_eq!((f.as_str(), r), ("first_timers", Reason::OutOfRange));
    let (f, r) = field_of(l.log_evening(&me, evening(501, 0)).unwrap_err());
    assert_eq!((f.as_str(), r), ("came", Reason::OutOfRange));
    let (f, r) = field_of(
        l.log_round(&me, cat(), round(&[("politik", 3)]))
            .unwrap_err(),
    );
    assert_eq!((f.as_str(), r), ("conversations", Reason::UnknownCode));
    let (f, r) = field_of(
        l.log_round(&me, cat(), round(&[("sundhed", 0)]))
            .unwrap_err(),
    );
    assert_eq!((f.as_str(), r), ("conversations", Reason::OutOfRange));
    let (f, _) = field_of(l.log_round(&me, cat(), round(&[])).unwrap_err());
    assert_eq!(f, "conversations");
    let mut other_term = round(&[("sundhed", 1)]);
    other_term.date = day("2027-02-01");
    let (f, r) = field_of(l.log_round(&me, cat(), other_term).unwrap_err());
    assert_eq!((f.as_str(), r), ("date", Reason::OutsidePeriod));
    assert!(l.rounds().unwrap().is_empty() && l.evenings().unwrap().is_empty());
}

#[test]
fn the_relay_accepts_an_ambassadors_own_round_and_refuses_forgeries() {
    let base = log();
    // Her own round and evening pass.
    judge(&base, &ambassador("v-6"), |l| {
        l.log_round(&as_volunteer("v-6"), cat(), round(&[("sundhed", 3)]))
            .unwrap();
        l.log_evening(&as_volunteer("v-6"), evening(12, 2)).unwrap();
    })
    .unwrap();
    // A round signed as another ambassador is refused.
    let e = judge(&base, &ambassador("v-6"), |l| {
        l.log_round(&as_volunteer("v-7"), cat(), round(&[("sundhed", 3)]))
            .unwrap();
    })
    .unwrap_err();
    assert_eq!(e.reason, Reason::NotPermitted, "{e}");

    // Written around the operations: more first-timers than came.
    let e = judge(&base, &ambassador("v-6"), |l| {
        l.log_evening(&as_volunteer("v-6"), evening(12, 2)).unwrap();
        let am = l.doc_mut().automerge_mut();
        let (_, evenings) = am.get(ROOT, "evenings").unwrap().unwrap();
        let key = am.keys(&evenings).next().unwrap();
        let (_, rec) = am.get(&evenings, key.as_str()).unwrap().unwrap();
        let mut tx = am.transaction();
        tx.put(&rec, "first_timers", 99_u64).unwrap();
        tx.commit();
    })
    .unwrap_err();
    assert!(e.record.ends_with(".first_timers"), "{e}");
    assert_eq!(e.reason, Reason::OutOfRange, "{e}");

    // A value that is no round at all.
    let e = judge(&base, &ambassador("v-6"), |l| {
        let am = l.doc_mut().automerge_mut();
        let (_, rounds) = am.get(ROOT, "rounds").unwrap().unwrap();
        let mut tx = am.transaction();
        tx.put(&rounds, "r-1", "mange samtaler").unwrap();
        tx.commit();
    })
    .unwrap_err();
    assert_eq!(
        (e.record.as_str(), e.reason),
        ("rounds/r-1", Reason::Malformed)
    );

    // Only central staff write the log's information.
    let e = judge(&base, &ambassador("v-6"), |l| {
        let am = l.doc_mut().automerge_mut();
        let (_, info) = am.get(ROOT, "info").unwrap().unwrap();
        let mut tx = am.transaction();
        tx.put(&info, "note", "x").unwrap();
        tx.commit();
    })
    .unwrap_err();
    assert_eq!(e.reason, Reason::NotPermitted, "{e}");
}

#[test]
fn an_ambassador_withdraws_her_own_round_but_not_anothers() {
    let mut base = log();
    let hers = base
        .log_round(&as_volunteer("v-6"), cat(), round(&[("sundhed", 3)]))
        .unwrap();
    let his = base
        .log_round(&as_volunteer("v-7"), cat(), round(&[("tryghed", 2)]))
        .unwrap();
    judge(&base, &ambassador("v-6"), |l| {
        l.withdraw_round(&as_volunteer("v-6"), &hers).unwrap();
    })
    .unwrap();
    let e = judge(&base, &ambassador("v-6"), |l| {
        l.withdraw_round(&as_volunteer("v-6"), &his).unwrap();
    })
    .unwrap_err();
    assert_eq!(e.reason, Reason::NotPermitted, "{e}");
    assert_eq!(e.record, format!("rounds/{his}"));
    // Central staff correct anything.
    judge(&base, &central(), |l| {
        let me = Author {
            by: By::Staff("s-mette".parse().unwrap()),
            at: Timestamp(1_789_000_000_000),
        };
        l.withdraw_round(&me, &his).unwrap();
    })
    .unwrap();
}

#[test]
fn a_volunteer_writes_no_other_kind_than_registers_and_resident_logs() {
    // The gate before the records: a volunteer's change to an outreach log is refused even
    // if it reached the rules.
    let mut o = nabo_core::docs::outreach::OutreachDoc::create(
        "t-1".parse().unwrap(),
        "s-ali".parse().unwrap(),
        "a-vestparken".parse().unwrap(),
        Quarter::of(day("2026-09-15")),
        ActorId::random(),
    )
    .unwrap();
    let before = o.doc().heads();
    let am = o.doc_mut().automerge_mut();
    let (_, obs) = am.get(ROOT, "observations").unwrap().unwrap();
    let mut tx = am.transaction();
    tx.put(&obs, "o-1", "x").unwrap();
    tx.commit();
    let changes = o.doc().automerge().get_changes(&before);
    let ctx = Context {
        catalogue: cat(),
        free_text_notes: false,
        shifts: None,
    };
    let e = rules::check(
        o.doc().automerge(),
        &before,
        &changes,
        &ambassador("v-6"),
        &ctx,
    )
    .unwrap_err();
    assert_eq!(e.reason, Reason::NotPermitted, "{e}");
}

#[test]
fn ambassadors_write_their_own_log_and_never_reach_an_outreach_log() {
    let theirs = ResidentLogFacts {
        activity_theirs: true,
        area_theirs: true,
    };
    let nearby = ResidentLogFacts {
        activity_theirs: false,
        area_theirs: true,
    };
    let none = ResidentLogFacts::default();
    use AppRole::*;
    assert_eq!(access::resident_log(Volunteer, theirs), DocAccess::Write);
    assert_eq!(access::resident_log(Volunteer, nearby), DocAccess::None);
    assert_eq!(access::resident_log(Volunteer, none), DocAccess::None);
    assert_eq!(access::resident_log(Central, none), DocAccess::Write);
    assert_eq!(access::resident_log(Outreach, theirs), DocAccess::Write);
    assert_eq!(access::resident_log(Outreach, nearby), DocAccess::Read);
    assert_eq!(access::resident_log(Outreach, none), DocAccess::None);
    assert_eq!(access::resident_log(Board, theirs), DocAccess::None);
    // The outreach log: its author and central staff, never a volunteer.
    for author in [true, false] {
        assert_eq!(access::outreach_log(Volunteer, author), DocAccess::None);
        assert_eq!(access::outreach_log(Board, author), DocAccess::None);
        assert_eq!(access::outreach_log(Central, author), DocAccess::Write);
    }
    assert_eq!(access::outreach_log(Outreach, true), DocAccess::Write);
    assert_eq!(access::outreach_log(Outreach, false), DocAccess::None);
}

#[test]
fn two_phones_make_the_same_log_and_their_rounds_merge() {
    let mut a = log();
    let mut b = log();
    assert_eq!(
        a.doc().id(),
        b.doc().id(),
        "the id is derived from the scope"
    );
    a.log_round(&as_volunteer("v-6"), cat(), round(&[("sundhed", 3)]))
        .unwrap();
    b.log_round(&as_volunteer("v-7"), cat(), round(&[("sundhed", 4)]))
        .unwrap();
    let mut bd = b.doc().clone();
    a.doc_mut().merge(&mut bd).unwrap();
    assert_eq!(a.summary(None, None).unwrap().conversations, 7);
    // The scope reads back.
    let scope: Scope = a.doc().scope().to_string().parse().unwrap();
    assert_eq!(&scope, a.doc().scope());
    assert_eq!(scope.kind(), DocKind::ResidentLog);
}
