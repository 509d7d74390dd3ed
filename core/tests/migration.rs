//! Schema versions and migration on load, and loading arbitrary bytes without panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc};
use common::*;
use nabo_core::docs::register::RegisterDoc;
use nabo_core::document::NaboDoc;
use nabo_core::prelude::*;
use proptest::prelude::*;

const SCOPE: &str = "register/t-vestbyen/act-lektiecafe/2026H2";

/// A register as schema 1 wrote it: the roll call nested inside each session record.
fn v1_register(marks: &[(&str, &str, &str)]) -> Automerge {
    let mut am = Automerge::new();
    let mut tx = am.transaction();
    tx.put(ROOT, "kind", "register").unwrap();
    tx.put(ROOT, "schema", 1u64).unwrap();
    tx.put(ROOT, "tenant", "t-vestbyen").unwrap();
    tx.put(ROOT, "scope", SCOPE).unwrap();
    tx.put_object(ROOT, "info", ObjType::Map).unwrap();
    let sessions = tx.put_object(ROOT, "sessions", ObjType::Map).unwrap();
    for c in ["participants", "headcounts", "shifts", "staff_presence"] {
        tx.put_object(ROOT, c, ObjType::Map).unwrap();
    }
    let s = tx.put_object(&sessions, "s1", ObjType::Map).unwrap();
    tx.put(&s, "date", "2026-11-19").unwrap();
    tx.put(&s, "start", "15:00").unwrap();
    tx.put(&s, "end", "17:00").unwrap();
    tx.put(&s, "venue", automerge::ScalarValue::Null).unwrap();
    tx.put(&s, "series", automerge::ScalarValue::Null).unwrap();
    tx.put(&s, "title", automerge::ScalarValue::Null).unwrap();
    tx.put(&s, "cancelled", false).unwrap();
    tx.put(&s, "by", "system").unwrap();
    let nested = tx.put_object(&s, "attendance", ObjType::Map).unwrap();
    for (pid, status, by) in marks {
        let m = tx.put_object(&nested, *pid, ObjType::Map).unwrap();
        tx.put(&m, "status", *status).unwrap();
        tx.put(&m, "by", *by).unwrap();
        tx.put(
            &m,
            "at",
            automerge::ScalarValue::Timestamp(1_790_000_000_000),
        )
        .unwrap();
    }
    tx.commit();
    am
}

#[test]
fn a_v1_register_is_migrated_when_loaded() {
    let bytes = v1_register(&[
        ("p1", "present", "volunteer:v-maja"),
        ("p2", "excused", "volunteer:v-maja"),
    ])
    .save();
    let reg = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    assert_eq!(reg.doc().schema(), 2);
    let v = reg.view().unwrap();
    let s1: SessionId = "s1".parse().unwrap();
    assert_eq!(v.attendance.len(), 2);
    assert_eq!(
        v.attendance[&(s1.clone(), "p1".parse().unwrap())].current,
        AttendanceStatus::Present
    );
    assert_eq!(
        v.attendance[&(s1.clone(), "p2".parse().unwrap())].current,
        AttendanceStatus::Excused
    );
    // The nested marks are gone from the session (the empty map stays for late v1 writes).
    let am = reg.doc().automerge();
    let (_, sessions) = am.get(ROOT, "sessions").unwrap().unwrap();
    let (_, s) = am.get(&sessions, "s1").unwrap().unwrap();
    let (_, nested) = am.get(&s, "attendance").unwrap().unwrap();
    assert_eq!(am.length(&nested), 0);
    // The migration is recorded in the history.
    assert!(reg.doc().history().iter().any(|h| {
        h.note
            .as_ref()
            .is_some_and(|n| n.op == "migrate-register-v2")
    }));
}

#[test]
fn marks_an_old_app_writes_after_the_migration_are_migrated_on_arrival() {
    let original = v1_register(&[("p1", "present", "volunteer:v-maja")]);
    let bytes = original.save();
    // Phone A has the new app and migrates.
    let mut a = RegisterDoc::load(&bytes, ActorId::random()).unwrap();
    // Phone B still runs the old app and adds a mark the v1 way, offline.
    let mut b = Automerge::load(&bytes).unwrap();
    b.set_actor(ActorId::random());
    let mut tx = b.transaction();
    let (_, sessions) = tx.get(ROOT, "sessions").unwrap().unwrap();
    let (_, s) = tx.get(&sessions, "s1").unwrap().unwrap();
    let (_, nested) = tx.get(&s, "attendance").unwrap().unwrap();
    let m = tx.put_object(&nested, "p3", ObjType::Map).unwrap();
    tx.put(&m, "status", "present").unwrap();
    tx.put(&m, "by", "volunteer:v-jonas").unwrap();
    tx.put(
        &m,
        "at",
        automerge::ScalarValue::Timestamp(1_790_000_100_000),
    )
    .unwrap();
    tx.commit();
    let mut b =
        NaboDoc::from_automerge(Automerge::load(&b.save()).unwrap(), ActorId::random()).unwrap();
    // b was loaded by the new app too, so it migrated; merge with a's migration.
    a.doc_mut().merge(&mut b).unwrap();
    let v = a.view().unwrap();
    assert_eq!(
        v.attendance.len(),
        2,
        "{:?}",
        v.attendance.keys().collect::<Vec<_>>()
    );

    // And a v1 change that arrives by sync into an already migrated register.
    let mut old = Automerge::load(&bytes).unwrap();
    old.set_actor(ActorId::random());
    let mut tx = old.transaction();
    let (_, sessions) = tx.get(ROOT, "sessions").unwrap().unwrap();
    let (_, s) = tx.get(&sessions, "s1").unwrap().unwrap();
    let (_, nested) = tx.get(&s, "attendance").unwrap().unwrap();
    let m = tx.put_object(&nested, "p4", ObjType::Map).unwrap();
    tx.put(&m, "status", "absent").unwrap();
    tx.put(&m, "by", "volunteer:v-jonas").unwrap();
    tx.put(
        &m,
        "at",
        automerge::ScalarValue::Timestamp(1_790_000_200_000),
    )
    .unwrap();
    tx.commit();
    let changes = old.save_after(&Automerge::load(&bytes).unwrap().get_heads());
    a.doc_mut().apply_incremental(&changes).unwrap();
    let v = a.view().unwrap();
    assert_eq!(v.attendance.len(), 3);
    assert_eq!(
        v.attendance[&("s1".parse().unwrap(), "p4".parse().unwrap())].current,
        AttendanceStatus::Absent
    );
}

#[test]
fn a_document_from_a_newer_version_is_readable_but_not_writable() {
    let f = Fixture::lektiecafe();
    let mut am = Automerge::load(&f.register.doc().save()).unwrap();
    am.set_actor(ActorId::random());
    let mut tx = am.transaction();
    tx.put(ROOT, "schema", 3u64).unwrap();
    tx.commit();
    let mut reg = RegisterDoc::load(&am.save(), ActorId::random()).unwrap();
    assert_eq!(reg.doc().schema(), 3);
    assert!(reg.view().is_ok());
    let s = f.session_on(&reg, "2026-11-19");
    match reg.set_cancelled(&f.central, &s, true) {
        Err(Error::SchemaTooNew {
            found: 3,
            supported: 2,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn foreign_and_broken_documents_get_specific_errors() {
    assert!(matches!(
        NaboDoc::load(b"not automerge", ActorId::random()),
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(
        NaboDoc::load(&Automerge::new().save(), ActorId::random()),
        Err(Error::NotNabo(_))
    ));
    let mut am = v1_register(&[]);
    let mut tx = am.transaction();
    tx.put(ROOT, "tenant", "t-other").unwrap();
    tx.commit();
    assert!(matches!(
        NaboDoc::load(&am.save(), ActorId::random()),
        Err(Error::NotNabo(_))
    ));
    let mut am = v1_register(&[]);
    let mut tx = am.transaction();
    tx.put(ROOT, "kind", "spreadsheet").unwrap();
    tx.commit();
    assert!(matches!(
        NaboDoc::load(&am.save(), ActorId::random()),
        Err(Error::NotNabo(_))
    ));
    // A record of the wrong shape written by a foreign client is skipped by the view (the
    // other records still read) and listed as unreadable, not a panic.
    let f = Fixture::lektiecafe();
    let mut am = Automerge::load(&f.register.doc().save()).unwrap();
    let mut tx = am.transaction();
    let (_, sessions) = tx.get(ROOT, "sessions").unwrap().unwrap();
    tx.put(&sessions, "bad", 42).unwrap();
    tx.commit();
    let reg = RegisterDoc::load(&am.save(), ActorId::random()).unwrap();
    let view = reg.view().unwrap();
    assert_eq!(
        view.sessions.len(),
        f.register.view().unwrap().sessions.len()
    );
    let bad = nabo_core::rules::unreadable(reg.doc(), 10);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].record, "sessions/bad");
    // Truncated bytes.
    let bytes = f.register.doc().save();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(NaboDoc::load(&bytes[..cut], ActorId::random()).is_err());
    }
}

#[test]
fn inputs_that_crashed_the_fuzzer_are_errors_now() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let r = NaboDoc::load(&bytes, ActorId::random());
        // A crash input is corrupt; an out-of-memory one declares more than the decode
        // budget allows (`nabo_core::untrusted`, ADR 0016).
        assert!(
            matches!(r, Err(Error::Corrupt(_) | Error::TooLarge(_))),
            "{}: {r:?}",
            path.display()
        );
        n += 1;
    }
    assert!(n > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn loading_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = NaboDoc::load(&bytes, ActorId::random());
    }

    #[test]
    fn loading_a_damaged_register_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let bytes = BYTES.get_or_init(|| v1_register(&[("p1", "present", "volunteer:v")]).save());
        let mut b = bytes.clone();
        for (i, x) in flips {
            let i = i.index(b.len());
            b[i] ^= x | 1;
        }
        if let Ok(doc) = NaboDoc::load(&b, ActorId::random())
            && let Ok(reg) = RegisterDoc::from_doc(doc) {
                let _ = reg.view();
            }
    }
}
