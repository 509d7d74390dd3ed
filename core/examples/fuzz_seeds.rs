//! Writes valid documents of every kind as seeds for the fuzz corpus:
//! `cargo run -p nabo-core --example fuzz_seeds -- core/fuzz/corpus/load_document`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::ActorId;
use nabo_core::docs::outreach::{NewContact, OutreachDoc};
use nabo_core::docs::tenant::{Settings, TenantDoc};
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::prelude::*;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("output directory"));
    std::fs::create_dir_all(&dir).unwrap();
    let cat = Catalogue::builtin().unwrap();
    let at = Timestamp::from_utc(
        Date::parse("2026-11-19").unwrap(),
        Time::hm(15, 30).unwrap(),
    );
    let central = Author {
        by: By::Staff("central".parse().unwrap()),
        at,
    };
    let tenant: TenantId = "t1".parse().unwrap();
    let mut input = NewActivity::new(
        "Lektiecafé",
        "p1".parse().unwrap(),
        "a1".parse().unwrap(),
        "lbf-2006-2010",
        "BE.lektiecafe",
    );
    input.attendance_mode = AttendanceMode::Pseudonymous;
    let mut act = ActivityDoc::create(
        tenant.clone(),
        "act-1".parse().unwrap(),
        ActorId::random(),
        &central,
        cat,
        input,
    )
    .unwrap();
    act.add_series(
        &central,
        NewSeries {
            weekday: Weekday::Thu,
            start: Time::hm(15, 0).unwrap(),
            end: Time::hm(17, 0).unwrap(),
            from: Date::parse("2026-11-01").unwrap(),
            until: None,
            venue: None,
        },
    )
    .unwrap();
    let snap = act.snapshot().unwrap();
    let ctx = RegisterContext {
        catalogue: cat,
        activity: &snap,
    };
    let mut reg = RegisterDoc::create(
        tenant.clone(),
        "act-1".parse().unwrap(),
        "2026H2".parse().unwrap(),
        ActorId::random(),
        &central,
        ctx,
    )
    .unwrap();
    let p = reg
        .add_participant(
            &central,
            ctx,
            Date::parse("2026-11-19").unwrap(),
            NewParticipant {
                age_band: "10-12".into(),
                gender: None,
                resident: None,
                label: Some(Sealed(vec![1; 41])),
                recruitment: None,
            },
        )
        .unwrap();
    let s = reg.view().unwrap().sessions.keys().next().cloned().unwrap();
    reg.mark(&central, ctx, &s, &p, AttendanceStatus::Present)
        .unwrap();
    let mut log = OutreachDoc::create(
        tenant.clone(),
        "s1".parse().unwrap(),
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    log.log_contact(
        &central,
        cat,
        false,
        NewContact::anonymous(at, "legeplads", "uformelt-moede", 2, "15-17"),
    )
    .unwrap();
    let t = TenantDoc::create(
        tenant.clone(),
        ActorId::random(),
        &central,
        Settings {
            name: "Demo".into(),
            ..Settings::default()
        },
    )
    .unwrap();
    let v = VolunteersDoc::create(tenant, ActorId::random()).unwrap();
    for (name, bytes) in [
        ("activity", act.doc().save()),
        ("register", reg.doc().save()),
        ("outreach", log.doc().save()),
        ("tenant", t.doc().save()),
        ("volunteers", v.doc().save()),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    println!("wrote 5 seeds to {}", dir.display());
}
