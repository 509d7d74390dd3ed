//! Convergence: 3–8 replicas apply random domain operations offline, then merge in random
//! orders; every order gives identical documents and identical domain views.
//!
//! Normal run: 1,000 cases per property. Long run:
//! `NABO_PROPTEST_CASES=100000 cargo test --release -p nabo-core --test convergence`
//! (or `cargo xtask soak`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ActorId;
use common::*;
use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
use nabo_core::docs::register::RegisterDoc;
use nabo_core::model::register::HeadcountBucket;
use nabo_core::prelude::*;
use proptest::prelude::*;
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("NABO_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

const BANDS: [&str; 4] = ["7-9", "10-12", "13-14", "15-17"];
const STATUSES: [AttendanceStatus; 3] = [
    AttendanceStatus::Present,
    AttendanceStatus::Absent,
    AttendanceStatus::Excused,
];

#[derive(Debug, Clone)]
enum RegOp {
    AddParticipant {
        band: usize,
    },
    Mark {
        session: usize,
        participant: usize,
        status: usize,
    },
    ClearMark {
        session: usize,
        participant: usize,
    },
    Cancel {
        session: usize,
        cancelled: bool,
    },
    AddSession {
        day: u8,
    },
    Headcount {
        session: usize,
        band: usize,
        count: u32,
    },
    CheckIn {
        session: usize,
        minute: u16,
    },
    CheckOut {
        session: usize,
        minute: u16,
    },
    MergeParticipants {
        a: usize,
        b: usize,
    },
    Sync {
        from: usize,
    },
}

fn reg_op() -> impl Strategy<Value = RegOp> {
    prop_oneof![
        3 => (0..BANDS.len()).prop_map(|band| RegOp::AddParticipant { band }),
        6 => (0..64usize, 0..16usize, 0..3usize).prop_map(|(session, participant, status)| RegOp::Mark { session, participant, status }),
        1 => (0..64usize, 0..16usize).prop_map(|(session, participant)| RegOp::ClearMark { session, participant }),
        1 => (0..64usize, any::<bool>()).prop_map(|(session, cancelled)| RegOp::Cancel { session, cancelled }),
        1 => (1..28u8).prop_map(|day| RegOp::AddSession { day }),
        1 => (0..64usize, 0..BANDS.len(), 0..40u32).prop_map(|(session, band, count)| RegOp::Headcount { session, band, count }),
        1 => (0..64usize, 0..120u16).prop_map(|(session, minute)| RegOp::CheckIn { session, minute }),
        1 => (0..64usize, 120..300u16).prop_map(|(session, minute)| RegOp::CheckOut { session, minute }),
        1 => (0..16usize, 0..16usize).prop_map(|(a, b)| RegOp::MergeParticipants { a, b }),
        2 => (0..8usize).prop_map(|from| RegOp::Sync { from }),
    ]
}

struct Base {
    fixture: Fixture,
    bytes: Vec<u8>,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let f = Fixture::lektiecafe();
        let mut reg = f.replica();
        for b in BANDS {
            reg.add_participant(
                &f.central,
                f.ctx(),
                date("2026-08-11"),
                Fixture::child(b, None),
            )
            .unwrap();
        }
        let bytes = reg.doc().save();
        // The fixture holds a register already; keep only the catalogue and the activity.
        Base { fixture: f, bytes }
    })
}

fn nth<T: Clone>(v: &[T], i: usize) -> Option<T> {
    if v.is_empty() {
        None
    } else {
        Some(v[i % v.len()].clone())
    }
}

/// Applies an operation; refusals by validation are fine (the phone would show the reason),
/// any other error is a bug.
fn apply(replicas: &mut [RegisterDoc], r: usize, op: &RegOp, step: usize) {
    let b = base();
    let ctx = b.fixture.ctx();
    let who = Author {
        by: volunteer(if r.is_multiple_of(2) {
            "v-maja"
        } else {
            "v-jonas"
        }),
        at: at("2026-11-20", "15:00"),
    };
    let n = replicas.len();
    if let RegOp::Sync { from } = op {
        let from = from % n;
        if from != r {
            let mut other = replicas[from].clone();
            replicas[r].doc_mut().merge(other.doc_mut()).expect("merge");
        }
        return;
    }
    let reg = &mut replicas[r];
    let view = reg.view().expect("view");
    let sessions: Vec<SessionId> = view
        .sessions
        .iter()
        .filter(|(_, s)| s.current.date <= date("2026-11-21"))
        .map(|(k, _)| k.clone())
        .collect();
    let participants: Vec<ParticipantId> = view.participants.keys().cloned().collect();
    let res = match op {
        RegOp::AddParticipant { band } => reg
            .add_participant(
                &who,
                ctx,
                date("2026-11-20"),
                Fixture::child(BANDS[*band], None),
            )
            .map(|_| ()),
        RegOp::Mark {
            session,
            participant,
            status,
        } => match (nth(&sessions, *session), nth(&participants, *participant)) {
            (Some(s), Some(p)) => reg.mark(
                &Author {
                    at: Timestamp(who.at.0 + step as i64),
                    ..who.clone()
                },
                ctx,
                &s,
                &p,
                STATUSES[*status],
            ),
            _ => Ok(()),
        },
        RegOp::ClearMark {
            session,
            participant,
        } => match (nth(&sessions, *session), nth(&participants, *participant)) {
            (Some(s), Some(p)) => reg.clear_mark(&who, &s, &p),
            _ => Ok(()),
        },
        RegOp::Cancel { session, cancelled } => match nth(&sessions, *session) {
            Some(s) => reg.set_cancelled(&b.fixture.central, &s, *cancelled),
            None => Ok(()),
        },
        RegOp::AddSession { day } => reg
            .add_session(
                &who,
                nabo_core::docs::register::NewSession {
                    date: Date::ymd(2026, 11, u32::from(*day)).unwrap(),
                    start: Time::hm(15, 0).unwrap(),
                    end: Time::hm(17, 0).unwrap(),
                    venue: None,
                    title: Some("Ekstra".into()),
                },
            )
            .map(|_| ()),
        RegOp::Headcount {
            session,
            band,
            count,
        } => match nth(&sessions, *session) {
            Some(s) => reg.set_headcount(
                &who,
                ctx,
                &s,
                HeadcountBucket {
                    age_band: BANDS[*band].into(),
                    gender: None,
                    resident: None,
                },
                *count,
            ),
            None => Ok(()),
        },
        RegOp::CheckIn { session, minute } => match nth(&sessions, *session) {
            Some(s) => {
                let d = view.sessions[&s].current.date;
                reg.check_in(
                    &who,
                    ctx,
                    &s,
                    &b.fixture.vol_ok,
                    Timestamp(
                        Timestamp::from_utc(d, Time::hm(14, 0).unwrap()).0
                            + i64::from(*minute) * 60_000,
                    ),
                )
            }
            None => Ok(()),
        },
        RegOp::CheckOut { session, minute } => match nth(&sessions, *session) {
            Some(s) => {
                let d = view.sessions[&s].current.date;
                reg.check_out(
                    &who,
                    &s,
                    &b.fixture.vol_ok,
                    Timestamp(
                        Timestamp::from_utc(d, Time::hm(14, 0).unwrap()).0
                            + i64::from(*minute) * 60_000,
                    ),
                )
            }
            None => Ok(()),
        },
        RegOp::MergeParticipants { a, b: bb } => {
            match (nth(&participants, *a), nth(&participants, *bb)) {
                (Some(x), Some(y)) => reg.merge_participants(&b.fixture.central, &x, &y),
                _ => Ok(()),
            }
        }
        RegOp::Sync { .. } => Ok(()),
    };
    match res {
        Ok(()) | Err(Error::Invalid(_)) => {}
        Err(e) => panic!("operation {op:?} failed: {e}"),
    }
}

/// Merges every replica into one, in the given order, then that one into every replica.
fn merge_all(replicas: &mut [RegisterDoc], order: &[usize]) {
    let first = order[0];
    for &i in &order[1..] {
        let mut other = replicas[i].clone();
        replicas[first]
            .doc_mut()
            .merge(other.doc_mut())
            .expect("merge");
    }
    let mut full = replicas[first].clone();
    for &i in order {
        replicas[i].doc_mut().merge(full.doc_mut()).expect("merge");
    }
}

fn assert_converged(replicas: &[RegisterDoc]) {
    let first = &replicas[0];
    let heads = first.doc().heads();
    let state = first.doc().automerge().hydrate(None);
    let view = first.view().expect("view");
    for r in &replicas[1..] {
        assert_eq!(r.doc().heads(), heads);
        assert_eq!(r.doc().automerge().hydrate(None), state);
        assert_eq!(r.view().expect("view"), view);
    }
    // The merged state is a valid domain state: every mark's session and participant exist,
    // and merge chains end in a participant that exists.
    for (s, p) in view.attendance.keys() {
        assert!(view.sessions.contains_key(s));
        assert!(view.participants.contains_key(p));
        assert!(view.participants.contains_key(view.canonical(p)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn registers_converge_whatever_the_merge_order(
        n in 3usize..=8,
        ops in proptest::collection::vec((0usize..8, reg_op()), 1..40),
        order_seed in any::<u64>(),
    ) {
        let b = base();
        let mut replicas: Vec<RegisterDoc> = (0..n).map(|_| RegisterDoc::load(&b.bytes, ActorId::random()).unwrap()).collect();
        for (step, (r, op)) in ops.iter().enumerate() {
            apply(&mut replicas, r % n, op, step);
        }
        // Two different random merge orders from the same offline states.
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = order_seed;
        let mut shuffle = |v: &mut Vec<usize>| {
            for i in (1..v.len()).rev() {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                v.swap(i, (rng >> 33) as usize % (i + 1));
            }
        };
        let mut copy = replicas.clone();
        shuffle(&mut order);
        merge_all(&mut replicas, &order);
        shuffle(&mut order);
        merge_all(&mut copy, &order);
        assert_converged(&replicas);
        assert_converged(&copy);
        prop_assert_eq!(replicas[0].view().unwrap(), copy[0].view().unwrap());
        prop_assert_eq!(replicas[0].doc().heads(), copy[0].doc().heads());
    }

    #[test]
    fn outreach_logs_converge_whatever_the_merge_order(
        n in 3usize..=8,
        ops in proptest::collection::vec((0usize..8, 0u8..4, 0usize..16, 0usize..6), 1..30),
        order_seed in any::<u64>(),
    ) {
        let cat = Catalogue::builtin().unwrap();
        let worker: StaffId = "s-ali".parse().unwrap();
        let base = OutreachDoc::create("t1".parse().unwrap(), worker.clone(), "a1".parse().unwrap(), "2026Q4".parse().unwrap(), ActorId::random()).unwrap();
        let bytes = base.doc().save();
        let mut reps: Vec<OutreachDoc> = (0..n).map(|_| OutreachDoc::load(&bytes, ActorId::random()).unwrap()).collect();
        let topics = ["skole-uddannelse", "job", "fritid", "konflikt", "tryghed", "misbrug"];
        for (step, (r, kind, pick, x)) in ops.into_iter().enumerate() {
            let r = r % n;
            let who = Author { by: By::Staff(worker.clone()), at: Timestamp(at("2026-11-10", "18:00").0 + step as i64 * 60_000) };
            let refs: Vec<ReferralId> = reps[r].referrals().unwrap().keys().cloned().collect();
            let res = match kind {
                0 => {
                    let mut c = NewContact::anonymous(who.at, "legeplads", "uformelt-moede", 1 + x as u32, "15-17");
                    c.topics = vec![topics[x].into()];
                    reps[r].log_contact(&who, cat, false, c).map(|_| ())
                }
                1 => reps[r].refer(&who, cat, NewReferral { at: who.at, from_contact: None, from_activity: None, participant: None, to: "jobcenter".into(), to_org: None, to_activity: None, kind: ReferralKind::Information, consent_to_share: false }).map(|_| ()),
                2 => match nth(&refs, pick) {
                    Some(id) => reps[r].set_referral_status(&who, &id, ReferralStatus::ALL[x % ReferralStatus::ALL.len()]),
                    None => Ok(()),
                },
                _ => {
                    let from = pick % n;
                    if from != r {
                        let mut other = reps[from].clone();
                        reps[r].doc_mut().merge(other.doc_mut()).unwrap();
                    }
                    Ok(())
                }
            };
            match res { Ok(()) | Err(Error::Invalid(_)) => {}, Err(e) => panic!("{e}") }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.rotate_left((order_seed % n as u64) as usize);
        let first = order[0];
        for &i in &order[1..] {
            let mut other = reps[i].clone();
            reps[first].doc_mut().merge(other.doc_mut()).unwrap();
        }
        let mut full = reps[first].clone();
        for r in reps.iter_mut() {
            r.doc_mut().merge(full.doc_mut()).unwrap();
        }
        let view = reps[0].view().unwrap();
        for r in &reps[1..] {
            prop_assert_eq!(r.view().unwrap(), view.clone());
            prop_assert_eq!(r.doc().automerge().hydrate(None), reps[0].doc().automerge().hydrate(None));
        }
    }
}
