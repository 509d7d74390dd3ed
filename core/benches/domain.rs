//! Benchmarks of the domain layer against plain Automerge doing the same writes.
//!
//! Profiles (DOMAIN.md §2.3):
//! - **term register**: one homework café term, 80 sessions × 25 children × 5 volunteers
//!   (2,000 roll-call marks, 800 check-ins/-outs, 25 participants, 80 sessions);
//! - **national**: one year of national data — 162 tenants with 50 volunteers each (8,100),
//!   6,127 activities (557 main + ~10× minor) with a weekly series, and 100 homework cafés × 2
//!   terms × 50 sessions × 25 children (250,000 marks).
//!
//! Operations: *apply* (every operation one change, as a phone commits each tap), *merge*
//! (two replicas that each did half the work offline), *save*, *load*. The reference does the
//! same writes with the plain Automerge API: same structure, same values, same one change per
//! operation, without validation and without the autosurgeon mapping.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p nabo-core --bench domain`); the ratio table is
//! printed at the end and copied into docs/benchmarks.md. `NABO_BENCH_NATIONAL_SCALE=0.1`
//! shrinks the national profile for a quick run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ObjId, ObjType, ROOT, ScalarValue};
use criterion::{BatchSize, Criterion, SamplingMode};
use nabo_core::docs::activity::ActivitySnapshot;
use nabo_core::docs::register::{NewSession, RegisterDoc};
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::model::activity::RosterVolunteer;
use nabo_core::model::volunteer::{ChildCertificate, Volunteer};
use nabo_core::prelude::*;

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

// ---------------------------------------------------------------------------------------
// The term workload

#[derive(Clone)]
struct Term {
    tenant: TenantId,
    activity: ActivityId,
    term: nabo_core::time::Term,
    session_dates: Vec<Date>,
    children: Vec<(ParticipantId, &'static str)>,
    volunteers: Vec<VolunteerId>,
    /// The volunteers' current child certificates, as the directory holds them: the check-in
    /// of a session with children under 15 reads them (ADR 0023).
    certificates: nabo_core::docs::volunteers::Certificates,
}

const BANDS: [&str; 4] = ["7-9", "10-12", "13-14", "15-17"];

impl Term {
    fn new(i: usize, sessions: usize, children: usize, volunteers: usize) -> Self {
        let first = date("2026-01-05");
        let session_dates = (0..sessions)
            .map(|s| first.add_days((s as i64 * 7 / 3).min(170)))
            .collect();
        Term {
            tenant: format!("t{}", i % 162).parse().unwrap(),
            activity: format!("cafe-{i}").parse().unwrap(),
            term: "2026H1".parse().unwrap(),
            session_dates,
            children: (0..children)
                .map(|c| (format!("p{i}-{c}").parse().unwrap(), BANDS[c % 4]))
                .collect(),
            volunteers: (0..volunteers)
                .map(|v| format!("v{v}").parse().unwrap())
                .collect(),
            certificates: nabo_core::docs::volunteers::NO_CERTIFICATES.clone(),
        }
        .with_certificates()
    }

    fn with_certificates(mut self) -> Self {
        let certified = Volunteer {
            name: None,
            source: VolunteerSource::Resident,
            source_org: None,
            status: VolunteerStatus::Active,
            joined: date("2020-01-01"),
            resident: true,
            child_certificate: Some(ChildCertificate {
                obtained: date("2020-01-01"),
                renewal_due: date("2030-01-01"),
            }),
            trainings: nabo_core::model::IdMap(BTreeMap::new()),
            erased: None,
        };
        self.certificates = nabo_core::docs::volunteers::Certificates::of(
            &self
                .volunteers
                .iter()
                .map(|v| (v.clone(), certified.clone()))
                .collect(),
        );
        self
    }

    fn snapshot(&self, cat: &Catalogue) -> ActivitySnapshot {
        let central = Author {
            by: By::Staff("c".parse().unwrap()),
            at: Timestamp(0),
        };
        let mut input = NewActivity::new(
            "Lektiecafé",
            "p".parse().unwrap(),
            "a".parse().unwrap(),
            "lbf-2006-2010",
            "BE.lektiecafe",
        );
        input.attendance_mode = AttendanceMode::Pseudonymous;
        let mut act = ActivityDoc::create(
            self.tenant.clone(),
            self.activity.clone(),
            ActorId::random(),
            &central,
            cat,
            input,
        )
        .unwrap();
        for v in &self.volunteers {
            act.set_roster(
                &central,
                cat,
                v,
                RosterVolunteer {
                    role: "lektiehjaelper".parse().unwrap(),
                    cleared_for_children_until: Some(date("2030-01-01")),
                    active: true,
                },
            )
            .unwrap();
        }
        act.snapshot().unwrap()
    }
}

fn at(d: Date, minutes: i64) -> Timestamp {
    Timestamp(Timestamp::from_utc(d, Time::hm(15, 0).unwrap()).0 + minutes * 60_000)
}

fn status(s: usize, c: usize) -> AttendanceStatus {
    if (s + c).is_multiple_of(5) {
        AttendanceStatus::Absent
    } else {
        AttendanceStatus::Present
    }
}

/// Session range → the operations of those sessions (marks, check-in, check-out).
struct DomainRun<'a> {
    t: &'a Term,
    ctx: RegisterContext<'a>,
    reg: RegisterDoc,
    sessions: Vec<SessionId>,
}

impl<'a> DomainRun<'a> {
    fn base(t: &'a Term, ctx: RegisterContext<'a>) -> Self {
        let author = Author {
            by: By::Staff("c".parse().unwrap()),
            at: Timestamp(1_767_600_000_000),
        };
        let mut reg = RegisterDoc::create(
            t.tenant.clone(),
            t.activity.clone(),
            t.term,
            ActorId::random(),
            &author,
            ctx,
        )
        .unwrap();
        let mut sessions = Vec::new();
        for d in &t.session_dates {
            sessions.push(
                reg.add_session(
                    &author,
                    NewSession {
                        date: *d,
                        start: Time::hm(15, 0).unwrap(),
                        end: Time::hm(17, 0).unwrap(),
                        venue: None,
                        title: None,
                    },
                )
                .unwrap(),
            );
        }
        for (p, band) in &t.children {
            reg.add_participant_with_id(
                &author,
                ctx,
                t.session_dates[0],
                p.clone(),
                NewParticipant {
                    age_band: (*band).into(),
                    gender: None,
                    resident: Some(true),
                    label: None,
                    recruitment: None,
                },
            )
            .unwrap();
        }
        DomainRun {
            t,
            ctx,
            reg,
            sessions,
        }
    }

    fn sessions(&mut self, range: std::ops::Range<usize>) {
        for s in range {
            let d = self.t.session_dates[s];
            let sid = self.sessions[s].clone();
            for (c, (p, _)) in self.t.children.iter().enumerate() {
                let a = Author {
                    by: By::Volunteer(self.t.volunteers[c % self.t.volunteers.len()].clone()),
                    at: at(d, c as i64),
                };
                self.reg.mark(&a, self.ctx, &sid, p, status(s, c)).unwrap();
            }
            for (i, v) in self.t.volunteers.iter().enumerate() {
                let a = Author {
                    by: By::Volunteer(v.clone()),
                    at: at(d, i as i64),
                };
                self.reg
                    .check_in(&a, self.ctx, &sid, v, at(d, -10))
                    .unwrap();
                self.reg.check_out(&a, &sid, v, at(d, 130)).unwrap();
            }
        }
    }
}

/// The same writes with the plain Automerge API.
struct PlainRun<'a> {
    t: &'a Term,
    am: Automerge,
    containers: BTreeMap<&'static str, ObjId>,
    sessions: Vec<String>,
}

fn commit(
    am: &mut Automerge,
    by: &str,
    op: &str,
    time: i64,
    f: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) {
    let mut tx = am.transaction();
    f(&mut tx);
    tx.commit_with(
        CommitOptions::default()
            .with_message(format!("{{\"op\":\"{op}\",\"by\":\"{by}\"}}"))
            .with_time(time / 1000),
    );
}

impl<'a> PlainRun<'a> {
    fn base(t: &'a Term) -> Self {
        let mut am = Automerge::new();
        let mut containers = BTreeMap::new();
        let mut tx = am.transaction();
        tx.put(ROOT, "kind", "register").unwrap();
        tx.put(ROOT, "schema", 2u64).unwrap();
        tx.put(ROOT, "tenant", t.tenant.as_str()).unwrap();
        tx.put(
            ROOT,
            "scope",
            format!("register/{}/{}/{}", t.tenant, t.activity, t.term),
        )
        .unwrap();
        tx.put_object(ROOT, "info", ObjType::Map).unwrap();
        for c in [
            "sessions",
            "participants",
            "attendance",
            "headcounts",
            "shifts",
            "staff_presence",
        ] {
            containers.insert(c, tx.put_object(ROOT, c, ObjType::Map).unwrap());
        }
        tx.commit_with(CommitOptions::default().with_time(0));
        am.set_actor(ActorId::random());
        let info = match automerge::ReadDoc::get(&am, ROOT, "info").unwrap() {
            Some((_, id)) => id,
            None => unreachable!(),
        };
        commit(
            &mut am,
            "staff:c",
            "create-register",
            1_767_600_000_000,
            |tx| {
                tx.put(&info, "area", "a").unwrap();
            },
        );
        let mut run = PlainRun {
            t,
            am,
            containers,
            sessions: Vec::new(),
        };
        for d in &t.session_dates {
            let id = ids::random_id();
            let c = run.containers["sessions"].clone();
            let d = d.to_string();
            commit(
                &mut run.am,
                "staff:c",
                "add-session",
                1_767_600_000_000,
                |tx| {
                    let s = tx.put_object(&c, id.as_str(), ObjType::Map).unwrap();
                    tx.put(&s, "date", d.as_str()).unwrap();
                    tx.put(&s, "start", "15:00").unwrap();
                    tx.put(&s, "end", "17:00").unwrap();
                    tx.put(&s, "venue", ScalarValue::Null).unwrap();
                    tx.put(&s, "series", ScalarValue::Null).unwrap();
                    tx.put(&s, "title", ScalarValue::Null).unwrap();
                    tx.put(&s, "cancelled", false).unwrap();
                    tx.put(&s, "by", "staff:c").unwrap();
                },
            );
            run.sessions.push(id);
        }
        let added_on = t.session_dates[0].to_string();
        for (p, band) in &t.children {
            let c = run.containers["participants"].clone();
            commit(
                &mut run.am,
                "staff:c",
                "add-participant",
                1_767_600_000_000,
                |tx| {
                    let o = tx.put_object(&c, p.as_str(), ObjType::Map).unwrap();
                    tx.put(&o, "age_band", *band).unwrap();
                    tx.put(&o, "gender", ScalarValue::Null).unwrap();
                    tx.put(&o, "resident", true).unwrap();
                    tx.put(&o, "label", ScalarValue::Null).unwrap();
                    tx.put(&o, "added_on", added_on.as_str()).unwrap();
                    tx.put(&o, "added_by", "staff:c").unwrap();
                    tx.put(&o, "recruitment", ScalarValue::Null).unwrap();
                    tx.put(&o, "merged_into", ScalarValue::Null).unwrap();
                },
            );
        }
        run
    }

    fn sessions(&mut self, range: std::ops::Range<usize>) {
        let att = self.containers["attendance"].clone();
        let shifts = self.containers["shifts"].clone();
        for s in range {
            let d = self.t.session_dates[s];
            let sid = self.sessions[s].clone();
            for (c, (p, _)) in self.t.children.iter().enumerate() {
                let by = format!(
                    "volunteer:{}",
                    self.t.volunteers[c % self.t.volunteers.len()]
                );
                let key = format!("{sid}/{p}");
                let st = status(s, c).code();
                let ts = at(d, c as i64).0;
                commit(&mut self.am, &by, "mark-attendance", ts, |tx| {
                    tx.put(&att, key.as_str(), st).unwrap();
                });
            }
            for (i, v) in self.t.volunteers.iter().enumerate() {
                let by = format!("volunteer:{v}");
                let key = format!("{sid}/{v}");
                let ts = at(d, i as i64).0;
                let (cin, cout) = (at(d, -10).0, at(d, 130).0);
                commit(&mut self.am, &by, "check-in", ts, |tx| {
                    let o = tx.put_object(&shifts, key.as_str(), ObjType::Map).unwrap();
                    tx.put(&o, "signed_up", false).unwrap();
                    tx.put(&o, "cancelled", false).unwrap();
                    tx.put(&o, "check_in", ScalarValue::Timestamp(cin)).unwrap();
                    tx.put(&o, "check_out", ScalarValue::Null).unwrap();
                });
                commit(&mut self.am, &by, "check-out", ts, |tx| {
                    let o = match automerge::ReadDoc::get(tx, &shifts, key.as_str()).unwrap() {
                        Some((_, id)) => id,
                        None => unreachable!(),
                    };
                    tx.put(&o, "check_out", ScalarValue::Timestamp(cout))
                        .unwrap();
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The national profile's directories and activities

fn volunteer_record(n: usize) -> Volunteer {
    Volunteer {
        name: Some(Sealed(vec![n as u8; 48])),
        source: VolunteerSource::Resident,
        source_org: None,
        status: VolunteerStatus::Active,
        joined: date("2026-01-10"),
        resident: true,
        child_certificate: Some(ChildCertificate {
            obtained: date("2025-12-15"),
            renewal_due: date("2027-12-15"),
        }),
        trainings: IdMap::new(),
        erased: None,
    }
}

/// The value tree of a record as it lands in a document (computed once, outside timing).
fn value_tree<T: autosurgeon::Reconcile>(record: &T) -> automerge::hydrate::Value {
    let mut am = Automerge::new();
    let mut tx = am.transaction();
    autosurgeon::reconcile_prop(&mut tx, ROOT, "r", record).unwrap();
    tx.commit();
    match automerge::ReadDoc::hydrate(&am, ROOT, None).unwrap() {
        automerge::hydrate::Value::Map(m) => m.get("r").unwrap().clone(),
        _ => unreachable!(),
    }
}

fn plain_write(
    tx: &mut automerge::transaction::Transaction<'_>,
    obj: &ObjId,
    key: &str,
    v: &automerge::hydrate::Value,
) {
    match v {
        automerge::hydrate::Value::Scalar(s) => {
            tx.put(obj, key, s.clone()).unwrap();
        }
        automerge::hydrate::Value::Map(m) => {
            let o = tx.put_object(obj, key, ObjType::Map).unwrap();
            for (k, mv) in m.iter() {
                plain_write(tx, &o, k, &mv.value);
            }
        }
        _ => unreachable!("records are maps and scalars"),
    }
}

fn plain_doc(
    kind: &str,
    schema: u64,
    tenant: &str,
    scope: &str,
    containers: &[&str],
    root_record: Option<(&str, &automerge::hydrate::Value)>,
) -> (Automerge, Vec<ObjId>) {
    let mut am = Automerge::new();
    let mut tx = am.transaction();
    tx.put(ROOT, "kind", kind).unwrap();
    tx.put(ROOT, "schema", schema).unwrap();
    tx.put(ROOT, "tenant", tenant).unwrap();
    tx.put(ROOT, "scope", scope).unwrap();
    tx.put_object(ROOT, "info", ObjType::Map).unwrap();
    let objs = containers
        .iter()
        .map(|c| tx.put_object(ROOT, *c, ObjType::Map).unwrap())
        .collect();
    tx.commit_with(CommitOptions::default().with_time(0));
    am.set_actor(ActorId::random());
    if let Some((k, v)) = root_record {
        commit(&mut am, "staff:c", "create", 1_767_600_000_000, |tx| {
            plain_write(tx, &ROOT, k, v)
        });
    }
    (am, objs)
}

struct National {
    terms: Vec<Term>,
    snapshots: Vec<ActivitySnapshot>,
    tenants: usize,
    volunteers_per_tenant: usize,
    activities: usize,
}

fn national(cat: &Catalogue) -> National {
    let scale: f64 = std::env::var("NABO_BENCH_NATIONAL_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        // `cargo test --all-targets` runs each benchmark once (no `--bench`): a small national
        // profile keeps that smoke run quick in debug builds.
        .unwrap_or(if std::env::args().any(|a| a == "--bench") {
            1.0
        } else {
            0.02
        });
    let n = |x: usize| ((x as f64 * scale).round() as usize).max(1);
    let cafes = n(100);
    let terms: Vec<Term> = (0..cafes * 2).map(|i| Term::new(i, 50, 25, 5)).collect();
    let snapshots = terms.iter().map(|t| t.snapshot(cat)).collect();
    National {
        terms,
        snapshots,
        tenants: n(162),
        volunteers_per_tenant: 50,
        activities: n(6127),
    }
}

// Executors of the national profile ---------------------------------------------------------

struct NationalDocs {
    registers: Vec<Vec<u8>>,
    directories: Vec<Vec<u8>>,
    activities: Vec<Vec<u8>>,
}

fn national_domain(
    cat: &Catalogue,
    nat: &National,
) -> (Vec<RegisterDoc>, Vec<VolunteersDoc>, Vec<ActivityDoc>) {
    let regs = nat
        .terms
        .iter()
        .zip(&nat.snapshots)
        .map(|(t, s)| {
            let mut run = DomainRun::base(
                t,
                RegisterContext {
                    catalogue: cat,
                    activity: s,
                    certificates: &t.certificates,
                },
            );
            run.sessions(0..t.session_dates.len());
            run.reg
        })
        .collect();
    let central = Author {
        by: By::Staff("c".parse().unwrap()),
        at: Timestamp(1_767_600_000_000),
    };
    let dirs = (0..nat.tenants)
        .map(|t| {
            let mut d =
                VolunteersDoc::create(format!("t{t}").parse().unwrap(), ActorId::random()).unwrap();
            for v in 0..nat.volunteers_per_tenant {
                d.put_volunteer(
                    &central,
                    &format!("v{v}").parse().unwrap(),
                    volunteer_record(v),
                )
                .unwrap();
            }
            d
        })
        .collect();
    let acts = (0..nat.activities)
        .map(|a| {
            let mut doc = ActivityDoc::create(
                format!("t{}", a % 162).parse().unwrap(),
                format!("act-{a}").parse().unwrap(),
                ActorId::random(),
                &central,
                cat,
                NewActivity::new(
                    "Aktivitet",
                    "p".parse().unwrap(),
                    "a".parse().unwrap(),
                    "lbf-2006-2010",
                    "SL.faellesspisning",
                ),
            )
            .unwrap();
            doc.add_series(
                &central,
                NewSeries {
                    weekday: Weekday::Wed,
                    start: Time::hm(17, 0).unwrap(),
                    end: Time::hm(19, 0).unwrap(),
                    from: date("2026-01-07"),
                    until: None,
                    venue: None,
                },
            )
            .unwrap();
            doc
        })
        .collect();
    (regs, dirs, acts)
}

struct PlainTemplates {
    volunteer: automerge::hydrate::Value,
    activity: automerge::hydrate::Value,
    series: automerge::hydrate::Value,
}

fn templates(cat: &Catalogue) -> PlainTemplates {
    let central = Author {
        by: By::Staff("c".parse().unwrap()),
        at: Timestamp(0),
    };
    let a = ActivityDoc::create(
        "t0".parse().unwrap(),
        "x".parse().unwrap(),
        ActorId::random(),
        &central,
        cat,
        NewActivity::new(
            "Aktivitet",
            "p".parse().unwrap(),
            "a".parse().unwrap(),
            "lbf-2006-2010",
            "SL.faellesspisning",
        ),
    )
    .unwrap();
    let series = nabo_core::model::activity::SessionSeries {
        weekday: Weekday::Wed,
        start: Time::hm(17, 0).unwrap(),
        end: Time::hm(19, 0).unwrap(),
        from: date("2026-01-07"),
        until: None,
        venue: None,
        skip: Set::new(),
        cancelled: false,
    };
    PlainTemplates {
        volunteer: value_tree(&volunteer_record(1)),
        activity: value_tree(&a.activity().unwrap().current),
        series: value_tree(&series),
    }
}

fn national_plain(
    nat: &National,
    tpl: &PlainTemplates,
) -> (Vec<Automerge>, Vec<Automerge>, Vec<Automerge>) {
    let regs = nat
        .terms
        .iter()
        .map(|t| {
            let mut run = PlainRun::base(t);
            run.sessions(0..t.session_dates.len());
            run.am
        })
        .collect();
    let dirs = (0..nat.tenants)
        .map(|t| {
            let (mut am, objs) = plain_doc(
                "volunteers",
                1,
                &format!("t{t}"),
                &format!("volunteers/t{t}"),
                &["volunteers", "engagements"],
                None,
            );
            for v in 0..nat.volunteers_per_tenant {
                let key = format!("v{v}");
                commit(
                    &mut am,
                    "staff:c",
                    "put-volunteer",
                    1_767_600_000_000,
                    |tx| plain_write(tx, &objs[0], &key, &tpl.volunteer),
                );
            }
            am
        })
        .collect();
    let acts = (0..nat.activities)
        .map(|a| {
            let tenant = format!("t{}", a % 162);
            let (mut am, objs) = plain_doc(
                "activity",
                1,
                &tenant,
                &format!("activity/{tenant}/act-{a}"),
                &[
                    "series",
                    "roster",
                    "challenges",
                    "goals",
                    "indicators",
                    "measurements",
                    "reports",
                ],
                Some(("activity", &tpl.activity)),
            );
            let key = ids::random_id();
            commit(&mut am, "staff:c", "add-series", 1_767_600_000_000, |tx| {
                plain_write(tx, &objs[0], &key, &tpl.series)
            });
            am
        })
        .collect();
    (regs, dirs, acts)
}

// ---------------------------------------------------------------------------------------

fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
}

fn main() {
    let cat = Catalogue::builtin().unwrap();
    let mut c = Criterion::default()
        .output_directory(&out_dir())
        .configure_from_args();

    // Term register (skip with NABO_BENCH_PROFILES=national) -----------------------------
    let term = Term::new(0, 80, 25, 5);
    let snap = term.snapshot(cat);
    let ctx = RegisterContext {
        catalogue: cat,
        activity: &snap,
        certificates: &term.certificates,
    };
    {
        let mut g = c.benchmark_group("term");
        g.sample_size(20)
            .measurement_time(Duration::from_secs(20))
            .sampling_mode(SamplingMode::Flat);
        g.bench_function("apply/domain", |b| {
            b.iter(|| {
                let mut run = DomainRun::base(&term, ctx);
                run.sessions(0..80);
                black_box(run.reg.doc().heads())
            })
        });
        g.bench_function("apply/automerge", |b| {
            b.iter(|| {
                let mut run = PlainRun::base(&term);
                run.sessions(0..80);
                black_box(run.am.get_heads())
            })
        });
        // Two volunteers' phones, each with half the term offline.
        let base = DomainRun::base(&term, ctx);
        let base_bytes = base.reg.doc().save();
        let mut a = DomainRun {
            reg: RegisterDoc::load(&base_bytes, ActorId::random()).unwrap(),
            ..DomainRun::base(&term, ctx)
        };
        a.sessions = base.sessions.clone();
        let mut b2 = DomainRun {
            reg: RegisterDoc::load(&base_bytes, ActorId::random()).unwrap(),
            ..DomainRun::base(&term, ctx)
        };
        b2.sessions = base.sessions.clone();
        a.sessions(0..40);
        b2.sessions(40..80);
        let (a_bytes, b_bytes) = (a.reg.doc().save(), b2.reg.doc().save());
        g.bench_function("merge/domain", |b| {
            b.iter_batched(
                || {
                    (
                        RegisterDoc::load(&a_bytes, ActorId::random()).unwrap(),
                        RegisterDoc::load(&b_bytes, ActorId::random()).unwrap(),
                    )
                },
                |(mut x, mut y)| {
                    x.doc_mut().merge(y.doc_mut()).unwrap();
                    x
                },
                BatchSize::LargeInput,
            )
        });
        g.bench_function("merge/automerge", |b| {
            b.iter_batched(
                || {
                    (
                        Automerge::load(&a_bytes).unwrap(),
                        Automerge::load(&b_bytes).unwrap(),
                    )
                },
                |(mut x, mut y)| {
                    x.merge(&mut y).unwrap();
                    x
                },
                BatchSize::LargeInput,
            )
        });
        let mut full = RegisterDoc::load(&a_bytes, ActorId::random()).unwrap();
        full.doc_mut()
            .merge(&mut NaboDoc::load(&b_bytes, ActorId::random()).unwrap())
            .unwrap();
        let bytes = full.doc().save();
        let plain_full = Automerge::load(&bytes).unwrap();
        g.bench_function("save/domain", |b| b.iter(|| black_box(full.doc().save())));
        g.bench_function("save/automerge", |b| {
            b.iter(|| black_box(plain_full.save()))
        });
        g.bench_function("load/domain", |b| {
            b.iter(|| black_box(RegisterDoc::load(&bytes, ActorId::random()).unwrap()))
        });
        g.bench_function("load/automerge", |b| {
            b.iter(|| black_box(Automerge::load(&bytes).unwrap()))
        });
        g.bench_function("view/domain", |b| {
            b.iter(|| black_box(full.view().unwrap()))
        });
        g.finish();
        println!(
            "term register: {} bytes saved, {} changes",
            bytes.len(),
            full.doc().automerge().get_changes(&[]).len()
        );
    }

    // National profile --------------------------------------------------------------------
    if std::env::var("NABO_BENCH_PROFILES").is_ok_and(|p| !p.contains("national")) {
        c.final_summary();
        print_ratios(&out_dir());
        return;
    }
    let nat = national(cat);
    let tpl = templates(cat);
    {
        let mut g = c.benchmark_group("national");
        g.sample_size(10)
            .measurement_time(Duration::from_secs(30))
            .warm_up_time(Duration::from_secs(1))
            .sampling_mode(SamplingMode::Flat);
        g.bench_function("apply/domain", |b| {
            b.iter(|| black_box(national_domain(cat, &nat)))
        });
        g.bench_function("apply/automerge", |b| {
            b.iter(|| black_box(national_plain(&nat, &tpl)))
        });
        let (regs, dirs, acts) = national_domain(cat, &nat);
        let saved = NationalDocs {
            registers: regs.iter().map(|d| d.doc().save()).collect(),
            directories: dirs.iter().map(|d| d.doc().save()).collect(),
            activities: acts.iter().map(|d| d.doc().save()).collect(),
        };
        let all = || {
            saved
                .registers
                .iter()
                .chain(&saved.directories)
                .chain(&saved.activities)
        };
        println!(
            "national: {} documents, {} bytes",
            all().count(),
            all().map(Vec::len).sum::<usize>()
        );
        g.bench_function("save/domain", |b| {
            b.iter(|| {
                black_box((
                    regs.iter().map(|d| d.doc().save().len()).sum::<usize>(),
                    dirs.iter().map(|d| d.doc().save().len()).sum::<usize>(),
                    acts.iter().map(|d| d.doc().save().len()).sum::<usize>(),
                ))
            })
        });
        let plain: Vec<Automerge> = all().map(|b| Automerge::load(b).unwrap()).collect();
        g.bench_function("save/automerge", |b| {
            b.iter(|| black_box(plain.iter().map(|d| d.save().len()).sum::<usize>()))
        });
        g.bench_function("load/domain", |b| {
            b.iter(|| {
                let r: Vec<RegisterDoc> = saved
                    .registers
                    .iter()
                    .map(|x| RegisterDoc::load(x, ActorId::random()).unwrap())
                    .collect();
                let d: Vec<VolunteersDoc> = saved
                    .directories
                    .iter()
                    .map(|x| VolunteersDoc::load(x, ActorId::random()).unwrap())
                    .collect();
                let a: Vec<ActivityDoc> = saved
                    .activities
                    .iter()
                    .map(|x| ActivityDoc::load(x, ActorId::random()).unwrap())
                    .collect();
                black_box((r, d, a))
            })
        });
        g.bench_function("load/automerge", |b| {
            b.iter(|| {
                black_box(
                    all()
                        .map(|x| Automerge::load(x).unwrap())
                        .collect::<Vec<_>>(),
                )
            })
        });
        // Merge: every register as two phones with half the term each.
        let halves: Vec<(Vec<u8>, Vec<u8>)> = nat
            .terms
            .iter()
            .zip(&nat.snapshots)
            .map(|(t, s)| {
                let ctx = RegisterContext {
                    catalogue: cat,
                    activity: s,
                    certificates: &t.certificates,
                };
                let base = DomainRun::base(t, ctx);
                let bytes = base.reg.doc().save();
                let mut x = DomainRun {
                    reg: RegisterDoc::load(&bytes, ActorId::random()).unwrap(),
                    sessions: base.sessions.clone(),
                    t,
                    ctx,
                };
                let mut y = DomainRun {
                    reg: RegisterDoc::load(&bytes, ActorId::random()).unwrap(),
                    sessions: base.sessions.clone(),
                    t,
                    ctx,
                };
                let n = t.session_dates.len();
                x.sessions(0..n / 2);
                y.sessions(n / 2..n);
                (x.reg.doc().save(), y.reg.doc().save())
            })
            .collect();
        g.bench_function("merge/domain", |b| {
            b.iter_batched(
                || {
                    halves
                        .iter()
                        .map(|(x, y)| {
                            (
                                RegisterDoc::load(x, ActorId::random()).unwrap(),
                                RegisterDoc::load(y, ActorId::random()).unwrap(),
                            )
                        })
                        .collect::<Vec<_>>()
                },
                |mut v| {
                    for (x, y) in &mut v {
                        x.doc_mut().merge(y.doc_mut()).unwrap();
                    }
                    v
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("merge/automerge", |b| {
            b.iter_batched(
                || {
                    halves
                        .iter()
                        .map(|(x, y)| (Automerge::load(x).unwrap(), Automerge::load(y).unwrap()))
                        .collect::<Vec<_>>()
                },
                |mut v| {
                    for (x, y) in &mut v {
                        x.merge(y).unwrap();
                    }
                    v
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
    c.final_summary();
    print_ratios(&out_dir());
}

fn mean_ns(dir: &std::path::Path, group: &str, name: &str) -> Option<f64> {
    let p = dir
        .join(group)
        .join(name.replace('/', "_"))
        .join("new/estimates.json");
    let text = std::fs::read_to_string(p).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn print_ratios(dir: &std::path::Path) {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("\n| profile | operation | domain | plain automerge | ratio (target ≤ 1.2) |");
    println!("|---|---|---:|---:|---:|");
    for group in ["term", "national"] {
        for op in ["apply", "merge", "save", "load"] {
            let (Some(d), Some(p)) = (
                mean_ns(dir, group, &format!("{op}/domain")),
                mean_ns(dir, group, &format!("{op}/automerge")),
            ) else {
                continue;
            };
            println!(
                "| {group} | {op} | {} | {} | {:.2} |",
                fmt_ns(d),
                fmt_ns(p),
                d / p
            );
        }
    }
    if let Some(v) = mean_ns(dir, "term", "view/domain") {
        println!(
            "\nterm register merged view (hydrate every record): {}",
            fmt_ns(v)
        );
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

mod ids {
    pub fn random_id() -> String {
        nabo_core::ids::random_id()
    }
}
