//! Child process for the kill test (`core/tests/store.rs`): edits a register in the local
//! store as fast as it can and prints `saved <n>` after each edit the API reported as saved.
//! The test kills it with SIGKILL at a random moment and checks that every reported edit is
//! in the store.
//!
//! Usage: `nabo-store-torture <db path> <first n> <count>`

use nabo_core::docs::activity::ActivitySnapshot;
use nabo_core::prelude::*;
use nabo_core::store::{Handle, Store};
use std::io::Write;

fn fixture() -> (ActivitySnapshot, Author) {
    let cat = Catalogue::builtin().expect("catalogue");
    let central = Author {
        by: By::Staff("central".parse().expect("id")),
        at: Timestamp(1_786_000_000_000),
    };
    let mut input = NewActivity::new(
        "Lektiecafé",
        "p1".parse().expect("id"),
        "a1".parse().expect("id"),
        "lbf-2006-2010",
        "BE.lektiecafe",
    );
    input.attendance_mode = AttendanceMode::Pseudonymous;
    let mut act = ActivityDoc::create(
        "t1".parse().expect("id"),
        "act-1".parse().expect("id"),
        nabo_core::entropy::actor(),
        &central,
        cat,
        input,
    )
    .expect("activity");
    act.add_series(
        &central,
        NewSeries {
            weekday: Weekday::Tue,
            start: Time::hm(15, 0).expect("t"),
            end: Time::hm(17, 0).expect("t"),
            from: Date::parse("2026-08-11").expect("d"),
            until: Some(Date::parse("2026-12-15").expect("d")),
            venue: None,
        },
    )
    .expect("series");
    (act.snapshot().expect("snapshot"), central)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(first), Some(count)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: nabo-store-torture <db> <first> <count>");
        std::process::exit(2);
    };
    let first: u64 = first.parse().expect("first");
    let count: u64 = count.parse().expect("count");
    let cat = Catalogue::builtin().expect("catalogue");
    let (snapshot, central) = fixture();
    let ctx = RegisterContext {
        catalogue: cat,
        activity: &snapshot,
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
    };
    let store = Store::open(std::path::Path::new(path))
        .await
        .expect("open store");
    let scope = Scope::Register {
        tenant: "t1".parse().expect("id"),
        activity: "act-1".parse().expect("id"),
        term: "2026H2".parse().expect("term"),
    };
    let actor = nabo_core::entropy::actor();
    let mut handle = match Handle::<RegisterDoc>::open(&store, scope.document_id(), actor.clone())
        .await
        .expect("open")
    {
        Some(h) => h,
        None => {
            let reg = RegisterDoc::create(
                "t1".parse().expect("id"),
                "act-1".parse().expect("id"),
                "2026H2".parse().expect("term"),
                actor,
                &central,
                ctx,
            )
            .expect("register");
            Handle::create(&store, reg).await.expect("create")
        }
    };
    let session = handle
        .get()
        .view()
        .expect("view")
        .sessions
        .keys()
        .next()
        .cloned()
        .expect("a session");
    let mut out = std::io::stdout().lock();
    for n in first..first + count {
        let pid: ParticipantId = format!("p-{n}").parse().expect("id");
        let author = Author {
            by: By::Volunteer("v-1".parse().expect("id")),
            at: Timestamp(1_790_000_000_000 + n as i64),
        };
        handle
            .edit(|reg| {
                reg.add_participant_with_id(
                    &author,
                    ctx,
                    Date::parse("2026-11-19").expect("d"),
                    pid.clone(),
                    NewParticipant {
                        age_band: "10-12".into(),
                        gender: None,
                        resident: None,
                        label: None,
                        recruitment: None,
                    },
                )?;
                reg.mark(&author, ctx, &session, &pid, AttendanceStatus::Present)
            })
            .await
            .expect("edit");
        writeln!(out, "saved {n}").expect("stdout");
        out.flush().expect("flush");
    }
}
