//! The resident log on the relay (ADR 0030, stories 16 and 17): a resident volunteer
//! (the demo's health ambassador and food-club cook) writes her activities' logs; the relay
//! checks every change to them with the core's rules before storing it and refuses a
//! malformed or oversized record, a record signed as someone else, and a write from a login
//! that may only read; other volunteers and the board do not see the log at all, and the
//! ambassador does not see a staff outreach log. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use automerge::{ActorId, ROOT};
use common::*;
use nabo_core::client::SyncEnd;
use nabo_core::docs::resident::{NewEvening, NewRound, ResidentLogDoc};
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::model::IdMap;
use nabo_core::model::resident::{AmbassadorRound, FoodClubEvening};
use nabo_core::prelude::*;
use nabo_server::testing::{Backend, TestRelay};

const TENANT: &str = "vestbyen";

/// Writes `value` at `container/key` around the core's operations (as a foreign client could).
fn raw_write<T: autosurgeon::Reconcile>(doc: &mut NaboDoc, container: &str, key: &str, value: &T) {
    let am = doc.automerge_mut();
    let mut tx = am.transaction();
    let (_, obj) = automerge::ReadDoc::get(&tx, ROOT, container)
        .unwrap()
        .unwrap();
    autosurgeon::reconcile_prop(&mut tx, &obj, key, value).unwrap();
    tx.commit();
}

/// Syncs a copy of `doc` with an edit made on it, as `user`, and returns the relay's answer.
async fn attempt(
    r: &TestRelay,
    user: &str,
    id: DocumentId,
    doc: &NaboDoc,
    edit: impl FnOnce(&mut NaboDoc),
) -> SyncEnd {
    let mut copy = NaboDoc::from_automerge(doc.automerge().fork(), ActorId::random()).unwrap();
    edit(&mut copy);
    let mut c = connect(r, user).await;
    let mut st = automerge::sync::State::new();
    c.sync(id, copy.automerge_mut(), &mut st, false)
        .await
        .unwrap()
}

fn refused(end: &SyncEnd, record: &str, reason: &str) {
    assert!(
        matches!(end, SyncEnd::Error(e) if e.starts_with("refused: ") && e.contains(record) && e.contains(reason)),
        "expected {record} {reason}, got {end:?}"
    );
}

fn hanne(at: Timestamp) -> Author {
    Author {
        by: By::Volunteer("v-6".parse().unwrap()),
        at,
    }
}

fn evening(day: Date, came: u32, first_timers: u32, by: By, at: Timestamp) -> FoodClubEvening {
    FoodClubEvening {
        date: day,
        area: "a-vestparken".parse().unwrap(),
        came,
        first_timers,
        withdrawn: false,
        by,
        at,
    }
}

async fn stored_log(r: &TestRelay, id: DocumentId) -> ResidentLogDoc {
    ResidentLogDoc::from_doc(
        NaboDoc::from_automerge(stored(r, id).await, ActorId::random()).unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_checks_resident_logs_and_keeps_them_and_outreach_logs_apart() {
    for backend in Backend::all() {
        let mut r = relay(backend).await;
        let cat = Catalogue::builtin().unwrap();
        let today = r.clock.today_dk();
        let at = r.clock.now();
        let tenant: TenantId = TENANT.parse().unwrap();
        let club_id = Scope::ResidentLog {
            tenant: tenant.clone(),
            activity: "act-madklub".parse().unwrap(),
            term: Term::of(today),
        }
        .document_id();
        let rounds_id = Scope::ResidentLog {
            tenant: tenant.clone(),
            activity: "act-sundhedsambassadoerer".parse().unwrap(),
            term: Term::of(today),
        }
        .document_id();

        // The ambassador syncs her activities' logs and logs a round; the relay stores it.
        let mut c = connect(&r, "volunteer6").await;
        let (club, _) = fetch_nabo(&mut c, club_id).await;
        let (rounds, _) = fetch_nabo(&mut c, rounds_id).await;
        let end = attempt(&r, "volunteer6", rounds_id, &rounds, |d| {
            let mut log = ResidentLogDoc::from_doc(d.clone()).unwrap();
            log.log_round(
                &hanne(at),
                cat,
                NewRound {
                    date: today,
                    area: "a-solbakken".parse().unwrap(),
                    conversations: vec![("sundhed".into(), 11), ("energi-vand".into(), 2)],
                },
            )
            .unwrap();
            *d = log.doc().clone();
        })
        .await;
        assert_eq!(end, SyncEnd::Synced, "{backend:?}");
        let s = stored_log(&r, rounds_id)
            .await
            .summary(Some(today), Some(today))
            .unwrap();
        assert_eq!(s.conversations, 13, "{backend:?}");

        // Malformed: more first-timers than came, written around the operations.
        let end = attempt(&r, "volunteer6", club_id, &club, |d| {
            raw_write(
                d,
                "evenings",
                "e-forged",
                &evening(today, 10, 12, hanne(at).by, at),
            );
        })
        .await;
        refused(&end, "evenings/e-forged.first_timers", "out-of-range");
        // Oversized: a round of 10,000 doorstep conversations on one topic.
        let mut huge = IdMap::new();
        huge.insert("sundhed".parse::<Code>().unwrap(), 10_000u32);
        let end = attempt(&r, "volunteer6", rounds_id, &rounds, |d| {
            raw_write(
                d,
                "rounds",
                "r-huge",
                &AmbassadorRound {
                    date: today,
                    area: "a-solbakken".parse().unwrap(),
                    conversations: huge,
                    withdrawn: false,
                    by: hanne(at).by,
                    at,
                },
            );
        })
        .await;
        refused(&end, "rounds/r-huge.conversations", "out-of-range");
        // Not a record at all.
        let end = attempt(&r, "volunteer6", rounds_id, &rounds, |d| {
            raw_write(d, "rounds", "r-text", &"ti samtaler om sundhed".to_owned());
        })
        .await;
        refused(&end, "rounds/r-text", "malformed");
        // Signed as another volunteer.
        let end = attempt(&r, "volunteer6", club_id, &club, |d| {
            raw_write(
                d,
                "evenings",
                "e-other",
                &evening(today, 10, 2, By::Volunteer("v-1".parse().unwrap()), at),
            );
        })
        .await;
        refused(&end, "evenings/e-other.by", "not-permitted");
        // None of it was stored.
        let club_now = stored_log(&r, club_id).await;
        assert!(
            club_now
                .evenings()
                .unwrap()
                .keys()
                .all(|k| !k.as_str().starts_with("e-")),
            "{backend:?}"
        );

        // The area's outreach worker reads the log but may not write it.
        let mut camilla = connect(&r, "outreach2").await;
        let (end, _, _) = fetch(&mut camilla, rounds_id).await;
        assert_eq!(end, SyncEnd::Synced, "{backend:?}");
        let end = attempt(&r, "outreach2", rounds_id, &rounds, |d| {
            let mut log = ResidentLogDoc::from_doc(d.clone()).unwrap();
            log.log_evening(
                &Author {
                    by: By::Staff("s-camilla".parse().unwrap()),
                    at,
                },
                NewEvening {
                    date: today,
                    area: "a-solbakken".parse().unwrap(),
                    came: 3,
                    first_timers: 0,
                },
            )
            .unwrap();
            *d = log.doc().clone();
        })
        .await;
        refused(&end, "resident-log", "not-permitted");

        // Another activity's volunteer and the board do not see the log at all.
        for user in ["volunteer1", "bestyrelse"] {
            let mut c = connect(&r, user).await;
            let (end, _, _) = fetch(&mut c, rounds_id).await;
            assert_eq!(end, SyncEnd::Unavailable, "{user} on {backend:?}");
        }
        // A homework helper cannot start next term's log of the food club either.
        let next = Term::of(Term::of(today).last_day().add_days(1));
        let next_log = ResidentLogDoc::create(
            tenant.clone(),
            "act-madklub".parse().unwrap(),
            next,
            ActorId::random(),
        )
        .unwrap();
        let next_id = next_log.doc().id();
        let mut c = connect(&r, "volunteer1").await;
        let mut doc = next_log.doc().automerge().clone();
        let end = c
            .sync(next_id, &mut doc, &mut automerge::sync::State::new(), false)
            .await
            .unwrap();
        assert_ne!(end, SyncEnd::Synced, "{backend:?}");
        // The ambassador can.
        let mut c = connect(&r, "volunteer6").await;
        let mut doc = next_log.doc().automerge().clone();
        let end = c
            .sync(next_id, &mut doc, &mut automerge::sync::State::new(), false)
            .await
            .unwrap();
        assert_eq!(end, SyncEnd::Synced, "{backend:?}");

        // The ambassador and the staff outreach log: invisible, and not writable.
        let ali_log = Scope::Outreach {
            tenant: tenant.clone(),
            worker: "s-ali".parse().unwrap(),
            area: "a-vestparken".parse().unwrap(),
            quarter: Quarter::of(today),
        }
        .document_id();
        let mut c = connect(&r, "volunteer6").await;
        let (end, _, _) = fetch(&mut c, ali_log).await;
        assert_eq!(end, SyncEnd::Unavailable, "{backend:?}");
        let docs = nabo_core::client::documents(&r.http(), &token(&r, "volunteer6").await)
            .await
            .unwrap();
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert!(
            kinds.contains(&"resident-log") && !kinds.contains(&"outreach"),
            "{kinds:?}"
        );
        r.stop().await;
    }
}
