//! Convergence: 3–8 replicas apply random domain operations offline (with random partial
//! syncs between them), then gossip: random pairwise merges in a random order until every
//! replica has every change. Checked at every step, not only at the end:
//!
//! - a partially merged replica is a valid domain state (every mark's session and
//!   participant exist, merge chains end in a participant that is not merged, a shift's
//!   check-out follows its check-in, every referral's status is in its history);
//! - its state depends only on the set of changes it holds: the same changes applied in
//!   another random order to a fresh document give the same heads, state and domain view;
//! - replicas holding the same changes show the same view.
//!
//! At the end every replica is identical, two different gossip orders give the same view,
//! and nothing was lost (every participant, session, contact and referral an operation added
//! is there). Applied and refused operations are counted per kind and printed; a run in
//! which most operations are refused fails (the property would hold vacuously).
//!
//! Normal run: 100 cases per property. Long run: `cargo xtask soak` (10,000 cases, release)
//! or `NABO_PROPTEST_CASES=N cargo test --release -p nabo-core --test convergence`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;

use automerge::{ActorId, Automerge};
use common::*;
use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
use nabo_core::docs::register::RegisterDoc;
use nabo_core::document::{NaboDoc, TypedDoc};
use nabo_core::model::register::HeadcountBucket;
use nabo_core::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("NABO_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

/// Operations applied and refused (by validation), per kind, over a whole run.
#[derive(Default)]
struct Counts(BTreeMap<&'static str, (u64, u64)>);

impl Counts {
    fn add(&mut self, kind: &'static str, applied: bool) {
        let e = self.0.entry(kind).or_default();
        if applied {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }

    /// Prints the table and checks the run was not vacuous: most operations applied, and
    /// every kind applied at least once.
    fn report(&self, what: &str) {
        println!("{what}: operations applied / refused by validation");
        let (mut a, mut r) = (0, 0);
        for (kind, (applied, refused)) in &self.0 {
            println!("  {kind:<20} {applied:>8} / {refused}");
            a += applied;
            r += refused;
            assert!(*applied > 0, "{what}: no {kind} was ever applied");
        }
        println!("  {:<20} {a:>8} / {r}", "total");
        assert!(
            a > 2 * r,
            "{what}: most operations were refused ({a} applied, {r} refused)"
        );
    }
}

/// A deterministic generator for merge orders (from the case's seed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// The same changes as `doc`, applied in a random order to a fresh document.
fn rebuilt(doc: &NaboDoc, rng: &mut Lcg) -> NaboDoc {
    let mut changes = doc.automerge().get_changes(&[]);
    rng.shuffle(&mut changes);
    let mut am = Automerge::new();
    am.apply_changes(changes).expect("apply changes");
    NaboDoc::from_automerge(am, ActorId::random()).expect("a Nabo document")
}

/// Gossip: random pairwise merges (`to` takes everything `from` has) until every replica
/// has every change; `check` sees each replica after each merge. Bounded: after 4n² random
/// merges a ring pass completes it.
fn gossip<T: TypedDoc + Clone>(
    replicas: &mut [T],
    rng: &mut Lcg,
    mut check: impl FnMut(&T, &mut Lcg),
) {
    let n = replicas.len();
    let all_equal = |r: &[T]| r.iter().all(|x| x.doc().heads() == r[0].doc().heads());
    let mut steps = 0;
    while !all_equal(replicas) {
        let (to, from) = if steps < 4 * n * n {
            (rng.below(n), rng.below(n))
        } else {
            let k = steps - 4 * n * n;
            ((k + 1) % n, k % n)
        };
        steps += 1;
        if to == from {
            continue;
        }
        let mut other = replicas[from].clone();
        replicas[to]
            .doc_mut()
            .merge(other.doc_mut())
            .expect("merge");
        check(&replicas[to], rng);
    }
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

fn kind(op: &RegOp) -> &'static str {
    match op {
        RegOp::AddParticipant { .. } => "add participant",
        RegOp::Mark { .. } => "mark",
        RegOp::ClearMark { .. } => "clear mark",
        RegOp::Cancel { .. } => "cancel session",
        RegOp::AddSession { .. } => "add session",
        RegOp::Headcount { .. } => "headcount",
        RegOp::CheckIn { .. } => "check in",
        RegOp::CheckOut { .. } => "check out",
        RegOp::MergeParticipants { .. } => "merge participants",
        RegOp::Sync { .. } => "partial sync",
    }
}

/// Applies an operation; refusals by validation are fine (the phone would show the reason)
/// and counted, any other error is a bug. An operation with nothing to act on yet (no
/// participant, no session) counts as refused.
fn apply(replicas: &mut [RegisterDoc], r: usize, op: &RegOp, step: usize, counts: &mut Counts) {
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
        counts.add(kind(op), from != r);
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
    let checked_in: Vec<SessionId> = view
        .shifts
        .iter()
        .filter(|((s, v), shift)| {
            v == &b.fixture.vol_ok && shift.current.check_in.is_some() && sessions.contains(s)
        })
        .map(|((s, _), _)| s.clone())
        .collect();
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
            _ => Err(nothing()),
        },
        RegOp::ClearMark {
            session,
            participant,
        } => match (nth(&sessions, *session), nth(&participants, *participant)) {
            (Some(s), Some(p)) => reg.clear_mark(&who, &s, &p),
            _ => Err(nothing()),
        },
        RegOp::Cancel { session, cancelled } => match nth(&sessions, *session) {
            Some(s) => reg.set_cancelled(&b.fixture.central, &s, *cancelled),
            None => Err(nothing()),
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
                    first_time: false,
                },
                *count,
            ),
            None => Err(nothing()),
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
            None => Err(nothing()),
        },
        // Check-outs go to sessions where this phone has the volunteer checked in (a
        // check-out anywhere else is refused and would test nothing).
        RegOp::CheckOut { session, minute } => match nth(&checked_in, *session) {
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
            None => Err(nothing()),
        },
        RegOp::MergeParticipants { a, b: bb } => {
            match (nth(&participants, *a), nth(&participants, *bb)) {
                (Some(x), Some(y)) => reg.merge_participants(&b.fixture.central, &x, &y),
                _ => Err(nothing()),
            }
        }
        RegOp::Sync { .. } => Ok(()),
    };
    match res {
        Ok(()) => counts.add(kind(op), true),
        Err(Error::Invalid(_)) => counts.add(kind(op), false),
        Err(e) => panic!("operation {op:?} failed: {e}"),
    }
}

/// "Nothing to act on yet" (counted as a refusal).
fn nothing() -> Error {
    Error::Invalid(nabo_core::error::Invalid::new(
        "op",
        Reason::NotFound,
        "nothing to act on",
    ))
}

/// The domain invariants of a register, on any replica at any point.
fn register_invariants(reg: &RegisterDoc) -> nabo_core::docs::register::RegisterView {
    let view = reg.view().expect("view");
    for (s, p) in view.attendance.keys() {
        assert!(view.sessions.contains_key(s), "a mark's session exists");
        assert!(
            view.participants.contains_key(p),
            "a mark's participant exists"
        );
    }
    for p in view.participants.keys() {
        let c = view.canonical(p);
        assert!(
            view.participants.contains_key(c),
            "a merge chain ends in a participant"
        );
        assert_eq!(
            view.canonical(c),
            c,
            "every record of a person counts for one id"
        );
        if let Some(next) = &view.participants[c].current.merged_into {
            // Concurrent opposite merges form a cycle; it counts for its least id.
            assert_eq!(
                view.canonical(next),
                c,
                "a merged canonical id closes a cycle"
            );
        }
    }
    for ((s, _), shift) in &view.shifts {
        assert!(view.sessions.contains_key(s), "a shift's session exists");
        if let (Some(i), Some(o)) = (shift.current.check_in, shift.current.check_out) {
            assert!(o > i, "a check-out follows its check-in");
        }
    }
    for (s, _) in view.headcounts.keys() {
        assert!(
            view.sessions.contains_key(s),
            "a headcount's session exists"
        );
    }
    view
}

/// A partially merged replica: valid, and its state depends only on the changes it holds.
fn check_register(reg: &RegisterDoc, rng: &mut Lcg) {
    let view = register_invariants(reg);
    let again = RegisterDoc::from_doc(rebuilt(reg.doc(), rng)).expect("a register");
    assert_eq!(again.doc().heads(), reg.doc().heads());
    assert_eq!(
        again.doc().automerge().hydrate(None),
        reg.doc().automerge().hydrate(None)
    );
    assert_eq!(again.view().expect("view"), view);
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
    register_invariants(first);
}

#[derive(Debug, Clone)]
struct RegCase {
    n: usize,
    ops: Vec<(usize, RegOp)>,
    seed: u64,
}

fn reg_case() -> impl Strategy<Value = RegCase> {
    (
        3usize..=8,
        proptest::collection::vec((0usize..8, reg_op()), 1..40),
        any::<u64>(),
    )
        .prop_map(|(n, ops, seed)| RegCase { n, ops, seed })
}

fn run_register_case(c: &RegCase, counts: &mut Counts) {
    let b = base();
    let mut replicas: Vec<RegisterDoc> = (0..c.n)
        .map(|_| RegisterDoc::load(&b.bytes, ActorId::random()).unwrap())
        .collect();
    let base_view = replicas[0].view().unwrap();
    let (mut added_participants, mut added_sessions) = (0, 0);
    for (step, (r, op)) in c.ops.iter().enumerate() {
        let r = r % c.n;
        let before = replicas[r].view().unwrap();
        apply(&mut replicas, r, op, step, counts);
        let after = replicas[r].view().unwrap();
        if !matches!(op, RegOp::Sync { .. }) {
            added_participants += after.participants.len() - before.participants.len();
            added_sessions += after.sessions.len() - before.sessions.len();
        }
    }
    let mut rng = Lcg(c.seed);
    let mut copy = replicas.clone();
    gossip(&mut replicas, &mut rng, check_register);
    gossip(&mut copy, &mut rng, check_register);
    assert_converged(&replicas);
    assert_converged(&copy);
    let view = replicas[0].view().unwrap();
    assert_eq!(view, copy[0].view().unwrap(), "two gossip orders, one view");
    // Nothing an operation added is lost.
    assert_eq!(
        view.participants.len(),
        base_view.participants.len() + added_participants
    );
    assert_eq!(
        view.sessions.len(),
        base_view.sessions.len() + added_sessions
    );
}

#[test]
fn registers_converge_whatever_the_merge_order() {
    run_counted("registers", reg_case(), run_register_case);
}

/// Runs `case` on `cases()` generated inputs (shrinking a failure), adding up the operation
/// counts of the cases that ran to completion, then reports them.
fn run_counted<S: Strategy>(what: &str, strategy: S, case: fn(&S::Value, &mut Counts))
where
    S::Value: Clone + std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let total = Mutex::new(Counts::default());
    let result = runner.run(&strategy, |c| {
        let mut local = Counts::default();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&c, &mut local)))
            .map_err(|e| TestCaseError::fail(panic_text(&e)))?;
        let mut total = total.lock().unwrap();
        for (k, (a, f)) in local.0 {
            let e = total.0.entry(k).or_default();
            e.0 += a;
            e.1 += f;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    total.into_inner().unwrap().report(what);
}

fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".into())
}

#[derive(Debug, Clone)]
struct OutreachCase {
    n: usize,
    ops: Vec<(usize, u8, usize, usize)>,
    seed: u64,
}

/// Referral statuses are in their history (rule 7: concurrent status changes are all kept).
fn check_outreach(log: &OutreachDoc, rng: &mut Lcg) {
    let view = log.view().unwrap();
    for r in view.referrals.values() {
        for v in std::iter::once(&r.current).chain(&r.conflicts) {
            assert!(
                v.history.values().any(|h| h.status == v.status) || v.history.is_empty(),
                "a referral's status is in its history"
            );
        }
    }
    let again = OutreachDoc::from_doc(rebuilt(log.doc(), rng)).unwrap();
    assert_eq!(again.doc().heads(), log.doc().heads());
    assert_eq!(again.view().unwrap(), view);
}

fn run_outreach_case(c: &OutreachCase, counts: &mut Counts) {
    let n = c.n;
    let cat = Catalogue::builtin().unwrap();
    let worker: StaffId = "s-ali".parse().unwrap();
    let base = OutreachDoc::create(
        "t1".parse().unwrap(),
        worker.clone(),
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let bytes = base.doc().save();
    let mut reps: Vec<OutreachDoc> = (0..n)
        .map(|_| OutreachDoc::load(&bytes, ActorId::random()).unwrap())
        .collect();
    let topics = [
        "skole-uddannelse",
        "job",
        "fritid",
        "konflikt",
        "tryghed",
        "misbrug",
    ];
    let (mut contacts, mut referrals) = (0, 0);
    for (step, &(r, kind, pick, x)) in c.ops.iter().enumerate() {
        let r = r % n;
        let who = Author {
            by: By::Staff(worker.clone()),
            at: Timestamp(at("2026-11-10", "18:00").0 + step as i64 * 60_000),
        };
        let refs: Vec<ReferralId> = reps[r].referrals().unwrap().keys().cloned().collect();
        let (name, res) = match kind {
            0 => {
                let mut nc = NewContact::anonymous(
                    who.at,
                    "legeplads",
                    "uformelt-moede",
                    1 + x as u32,
                    "15-17",
                );
                nc.topics = vec![topics[x].into()];
                let res = reps[r].log_contact(&who, cat, false, nc).map(|_| ());
                contacts += usize::from(res.is_ok());
                ("log contact", res)
            }
            1 => {
                let res = reps[r]
                    .refer(
                        &who,
                        cat,
                        NewReferral {
                            at: who.at,
                            from_contact: None,
                            from_activity: None,
                            participant: None,
                            to: "jobcenter".into(),
                            to_org: None,
                            to_activity: None,
                            kind: ReferralKind::Information,
                            consent_to_share: false,
                        },
                    )
                    .map(|_| ());
                referrals += usize::from(res.is_ok());
                ("refer", res)
            }
            2 => (
                "referral status",
                match nth(&refs, pick) {
                    Some(id) => reps[r].set_referral_status(
                        &who,
                        &id,
                        ReferralStatus::ALL[x % ReferralStatus::ALL.len()],
                    ),
                    None => Err(nothing()),
                },
            ),
            _ => {
                let from = pick % n;
                if from != r {
                    let mut other = reps[from].clone();
                    reps[r].doc_mut().merge(other.doc_mut()).unwrap();
                }
                (
                    "partial sync",
                    if from != r { Ok(()) } else { Err(nothing()) },
                )
            }
        };
        match res {
            Ok(()) => counts.add(name, true),
            Err(Error::Invalid(_)) => counts.add(name, false),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    let mut rng = Lcg(c.seed);
    let mut copy = reps.clone();
    gossip(&mut reps, &mut rng, check_outreach);
    gossip(&mut copy, &mut rng, check_outreach);
    let view = reps[0].view().unwrap();
    for r in reps.iter().chain(&copy) {
        assert_eq!(r.doc().heads(), reps[0].doc().heads());
        assert_eq!(
            r.view().unwrap(),
            view,
            "every replica and both gossip orders"
        );
    }
    assert_eq!(view.contacts.len(), contacts, "no contact lost");
    assert_eq!(view.referrals.len(), referrals, "no referral lost");
}

#[test]
fn outreach_logs_converge_whatever_the_merge_order() {
    let strategy = (
        3usize..=8,
        proptest::collection::vec((0usize..8, 0u8..4, 0usize..16, 0usize..6), 1..30),
        any::<u64>(),
    )
        .prop_map(|(n, ops, seed)| OutreachCase { n, ops, seed });
    run_counted("outreach logs", strategy, run_outreach_case);
}
