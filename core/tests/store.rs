//! The phone's local store: durability under SIGKILL, sync state per peer, key erasure, and
//! storage failures that fail closed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use automerge::ActorId;
use common::*;
use nabo_core::prelude::*;
use nabo_core::seal::{KeyRing, SubjectKey, seal};
use nabo_core::store::{COMPACT_AFTER, Handle, Store, StoreError};

fn scope() -> Scope {
    Scope::Register {
        tenant: "t1".parse().unwrap(),
        activity: "act-1".parse().unwrap(),
        term: "2026H2".parse().unwrap(),
    }
}

/// Starts the torture child, lets it report `stop_after` saved edits (plus whatever it
/// manages before the signal lands), kills it with SIGKILL, and returns what it reported.
fn run_and_kill(db: &std::path::Path, first: u64, stop_after: usize) -> Vec<u64> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nabo-store-torture"))
        .arg(db)
        .arg(first.to_string())
        .arg("100000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The child's panic message, if it dies on its own (read after it has gone).
    let mut stderr = child.stderr.take().expect("stderr");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut saved = Vec::new();
    while saved.len() < stop_after {
        match lines.next() {
            Some(Ok(l)) => saved.push(
                l.strip_prefix("saved ")
                    .expect("protocol")
                    .parse()
                    .expect("n"),
            ),
            _ => {
                let _ = child.wait();
                let mut why = String::new();
                let _ = std::io::Read::read_to_string(&mut stderr, &mut why);
                panic!("child ended early after {} saved edits: {why}", saved.len())
            }
        }
    }
    child.kill().expect("SIGKILL");
    // Lines the child wrote before dying are reports too.
    for l in lines.map_while(Result::ok) {
        saved.push(
            l.strip_prefix("saved ")
                .expect("protocol")
                .parse()
                .expect("n"),
        );
    }
    child.wait().expect("wait");
    saved
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_process_loses_no_edit_it_reported_as_saved() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("phone.sqlite");
    let mut reported = Vec::new();
    let mut next = 0;
    // Several kills at different moments, some during compaction (every 64 appends).
    for (i, stop) in [3usize, 70, 17, 130, 1, 64, 45].into_iter().enumerate() {
        let got = run_and_kill(&db, next, stop);
        assert!(got.len() >= stop, "round {i}");
        // The kill may land after the child stored edit `last + 1` and before it reported it:
        // that edit's participant exists, so the next child starts one further (it would
        // otherwise fail on adding a participant that is already there).
        next = got.last().copied().unwrap_or(next) + 2;
        reported.extend(got);
        // Reopen after every kill, as the app would.
        let store = Store::open(&db).await.unwrap();
        let h = Handle::<RegisterDoc>::open(&store, scope().document_id(), ActorId::random())
            .await
            .unwrap()
            .expect("stored");
        let view = h.get().view().unwrap();
        for n in &reported {
            let pid: ParticipantId = format!("p-{n}").parse().unwrap();
            assert!(
                view.participants.contains_key(&pid),
                "round {i}: edit {n} was reported saved but is lost"
            );
            assert!(
                view.attendance.keys().any(|(_, p)| *p == pid),
                "round {i}: mark {n} lost"
            );
        }
        store.close().await;
    }
    assert!(reported.len() >= 330);
}

#[tokio::test]
async fn edits_are_appended_and_compacted_and_reload_identically() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).await.unwrap();
    let mut h = Handle::create(&store, f.replica()).await.unwrap();
    let s = f.session_on(h.get(), "2026-11-19");
    for i in 0..(COMPACT_AFTER + 10) {
        h.edit(|r| {
            r.add_participant(
                &f.central,
                ctx,
                date("2026-11-19"),
                Fixture::child("10-12", None),
            )
            .map(|_| ())
        })
        .await
        .unwrap();
        if i % 3 == 0 {
            let p = h
                .get()
                .view()
                .unwrap()
                .participants
                .keys()
                .next()
                .unwrap()
                .clone();
            let maja = Author {
                by: volunteer("v-maja"),
                at: at("2026-11-19", "15:30"),
            };
            h.edit(|r| r.mark(&maja, ctx, &s, &p, AttendanceStatus::Present))
                .await
                .unwrap();
        }
    }
    let reloaded = Handle::<RegisterDoc>::open(&store, h.get().doc().id(), ActorId::random())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reloaded.get().view().unwrap(), h.get().view().unwrap());
    assert_eq!(reloaded.get().doc().heads(), h.get().doc().heads());

    // A refused edit writes nothing.
    let before = h.get().doc().heads();
    let err = h
        .edit(|r| {
            r.mark(
                &f.central,
                ctx,
                &"nope".parse().unwrap(),
                &"p".parse().unwrap(),
                AttendanceStatus::Present,
            )
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Domain(Error::Invalid(_))));
    assert_eq!(h.get().doc().heads(), before);
    assert_eq!(store.list().await.unwrap().len(), 1);
    assert!(matches!(
        Handle::create(&store, f.replica()).await,
        Err(StoreError::Exists(_))
    ));
}

#[tokio::test]
async fn a_storage_failure_is_an_error_and_the_unsaved_edit_is_not_shown() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let store = Store::memory().await.unwrap();
    let mut h = Handle::create(&store, f.replica()).await.unwrap();
    let before = h.get().view().unwrap();
    store.close().await;
    let err = h
        .edit(|r| {
            r.add_participant(
                &f.central,
                ctx,
                date("2026-11-19"),
                Fixture::child("7-9", None),
            )
            .map(|_| ())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Storage(_)), "{err}");
    assert_eq!(
        h.get().view().unwrap(),
        before,
        "the edit that was not stored is not shown"
    );
}

#[tokio::test]
async fn sync_state_is_kept_per_peer_and_keys_can_be_erased() {
    let store = Store::memory().await.unwrap();
    let f = Fixture::lektiecafe();
    let h = Handle::create(&store, f.replica()).await.unwrap();
    let id = h.get().doc().id();
    assert_eq!(store.sync_state(id, "relay").await.unwrap(), None);
    let mut state = automerge::sync::State::new();
    state.shared_heads = h.get().doc().heads();
    store
        .put_sync_state(id, "relay", &state.encode())
        .await
        .unwrap();
    store.put_sync_state(id, "other", &[0x43]).await.unwrap();
    let back =
        automerge::sync::State::decode(&store.sync_state(id, "relay").await.unwrap().unwrap())
            .unwrap();
    assert_eq!(back.shared_heads, h.get().doc().heads());

    let key = SubjectKey::generate();
    let sealed = seal(&key, "p-1", "Aisha").unwrap();
    store.put_key("p-1", &key).await.unwrap();
    assert_eq!(
        store
            .key_ring()
            .await
            .unwrap()
            .open_label("p-1", &sealed)
            .as_deref(),
        Some("Aisha")
    );
    assert!(store.erase_key("p-1").await.unwrap());
    assert_eq!(
        store.key_ring().await.unwrap().open_label("p-1", &sealed),
        None
    );

    assert!(store.delete(id).await.unwrap());
    assert_eq!(
        store.sync_state(id, "relay").await.unwrap(),
        None,
        "sync state goes with the document"
    );
}

#[tokio::test]
async fn a_replaced_document_keeps_neither_its_appended_changes_nor_its_sync_state() {
    let store = Store::memory().await.unwrap();
    let f = Fixture::lektiecafe();
    let mut h = Handle::create(&store, f.replica()).await.unwrap();
    let id = h.get().doc().id();
    let session = f.session_on(&f.register, "2026-11-17");
    h.edit(|r| r.set_cancelled(&f.central, &session, true))
        .await
        .unwrap();
    store.put_sync_state(id, "relay", &[0x42]).await.unwrap();
    let relay_copy = f.replica();
    assert_ne!(h.get().doc().heads(), relay_copy.doc().heads());

    assert!(store.replace(relay_copy.doc()).await.unwrap());
    let back = store.load(id, ActorId::random()).await.unwrap().unwrap();
    assert_eq!(back.heads(), relay_copy.doc().heads(), "the edit is gone");
    assert_eq!(store.sync_state(id, "relay").await.unwrap(), None);
    // What is appended afterwards builds on the replacement.
    let mut h = Handle::<RegisterDoc>::open(&store, id, ActorId::random())
        .await
        .unwrap()
        .unwrap();
    h.edit(|r| r.set_cancelled(&f.central, &session, false))
        .await
        .unwrap();
    let again = store.load(id, ActorId::random()).await.unwrap().unwrap();
    assert_eq!(again.heads(), h.get().doc().heads());

    // A document the store does not have is not created by a replace.
    let empty = Store::memory().await.unwrap();
    assert!(!empty.replace(relay_copy.doc()).await.unwrap());
    assert!(empty.load(id, ActorId::random()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_scope_finds_its_document_under_the_derived_id_first_then_under_a_new_one() {
    let store = Store::memory().await.unwrap();
    let f = Fixture::lektiecafe();
    let doc = f.replica().doc().clone();
    let scope = doc.scope().clone();
    assert_eq!(store.id_for_scope(&scope).await.unwrap(), None);

    // The relay rewrote it under a new id (ADR 0037) while the phone still holds the old one.
    let new_id = DocumentId::random();
    let rewritten = doc
        .rewritten(ActorId::random(), 1_700_000_000_000)
        .unwrap()
        .with_id(new_id);
    assert_eq!(rewritten.scope(), &scope);
    store.insert(&rewritten).await.unwrap();
    assert_eq!(store.id_for_scope(&scope).await.unwrap(), Some(new_id));
    store.insert(&doc).await.unwrap();
    assert_eq!(
        store.id_for_scope(&scope).await.unwrap(),
        Some(scope.document_id()),
        "the derived id first"
    );
    store.delete(scope.document_id()).await.unwrap();
    assert_eq!(store.id_for_scope(&scope).await.unwrap(), Some(new_id));

    // Another scope finds nothing.
    let other = Scope::Register {
        tenant: "t1".parse().unwrap(),
        activity: "act-2".parse().unwrap(),
        term: "2026H2".parse().unwrap(),
    };
    assert_eq!(store.id_for_scope(&other).await.unwrap(), None);
}

/// Reads every byte of the store's files (database and write-ahead log).
fn raw_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap_or_default());
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Stores a register with a session titled `marker` (Automerge keeps titles verbatim).
async fn store_titled_session(store: &Store, f: &Fixture, marker: &str) -> Handle<RegisterDoc> {
    let mut h = Handle::create(store, f.replica()).await.unwrap();
    h.edit(|r| {
        r.add_session(
            &f.central,
            NewSession {
                date: date("2026-12-17"),
                start: Time::hm(15, 0).unwrap(),
                end: Time::hm(17, 0).unwrap(),
                venue: None,
                title: Some(marker.into()),
            },
        )
        .map(|_| ())
    })
    .await
    .unwrap();
    h
}

#[tokio::test]
async fn an_encrypted_store_keeps_no_plaintext_refuses_a_wrong_key_and_wipes() {
    let f = Fixture::lektiecafe();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let key = [7u8; 32];
    // A marker that Automerge stores verbatim: a session title.
    let marker = "Juleafslutning-med-kage-XYZZY";
    let (id, heads) = {
        let store = Store::open_encrypted(&path, &key).await.unwrap();
        let h = store_titled_session(&store, &f, marker).await;
        store
            .put_sync_state(h.get().doc().id(), "relay", b"state")
            .await
            .unwrap();
        store.put_key("p-1", &SubjectKey::generate()).await.unwrap();
        store
            .set_setting("refresh", b"secret-token-ABC")
            .await
            .unwrap();
        let out = (h.get().doc().id(), h.get().doc().heads());
        store.close().await;
        out
    };
    let raw = raw_bytes(dir.path());
    assert!(
        !contains(&raw, marker.as_bytes()),
        "no plaintext title on disk"
    );
    assert!(
        !contains(&raw, b"secret-token-ABC"),
        "no plaintext setting on disk"
    );

    // The same store in plain (without encryption) has the marker in the clear: the check
    // above can fail.
    let plain_dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&plain_dir.path().join("s.sqlite"))
            .await
            .unwrap();
        store_titled_session(&store, &f, marker).await;
        store.close().await;
    }
    assert!(contains(&raw_bytes(plain_dir.path()), marker.as_bytes()));

    // A wrong key and no key are refused; the right key reads everything back.
    assert!(matches!(
        Store::open_encrypted(&path, &[8u8; 32]).await,
        Err(StoreError::WrongKey)
    ));
    assert!(matches!(
        Store::open(&path).await,
        Err(StoreError::WrongKey)
    ));
    let store = Store::open_encrypted(&path, &key).await.unwrap();
    let doc = store.load(id, ActorId::random()).await.unwrap().unwrap();
    assert_eq!(doc.heads(), heads);
    assert_eq!(
        store.sync_state(id, "relay").await.unwrap().unwrap(),
        b"state"
    );
    assert!(store.key_ring().await.unwrap().key("p-1").is_some());
    assert_eq!(
        store.setting("refresh").await.unwrap().unwrap(),
        b"secret-token-ABC"
    );

    // Wiping leaves nothing, and the store still opens with its key.
    store.wipe().await.unwrap();
    assert!(store.list().await.unwrap().is_empty());
    assert!(store.setting("refresh").await.unwrap().is_none());
    assert!(store.key_ring().await.unwrap().key("p-1").is_none());
    store.close().await;
    Store::open_encrypted(&path, &key).await.unwrap();
}

/// The simulation's store hook (ADR 0036): it sees every call by name and drives it, and a
/// refusal from it fails the call as a storage error before the file is touched.
#[test]
fn the_thread_hook_drives_every_call_and_a_refusal_fails_it_untouched() {
    use std::cell::{Cell, RefCell};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    #[derive(Default)]
    struct Recording {
        calls: RefCell<Vec<&'static str>>,
        driven: Cell<usize>,
        refuse: Cell<bool>,
    }
    impl nabo_core::store::StoreHook for Recording {
        fn enter(&self, call: &'static str) -> std::io::Result<()> {
            self.calls.borrow_mut().push(call);
            if self.refuse.get() {
                return Err(std::io::Error::other("refused by the hook"));
            }
            Ok(())
        }
        fn drive(&self, mut call: std::pin::Pin<&mut dyn std::future::Future<Output = ()>>) {
            self.driven.set(self.driven.get() + 1);
            let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
            let mut cx = Context::from_waker(&waker);
            while call.as_mut().poll(&mut cx) == Poll::Pending {
                std::thread::park_timeout(std::time::Duration::from_millis(10));
            }
        }
    }

    let hook = std::rc::Rc::new(Recording::default());
    nabo_core::store::set_thread_hook(Some(hook.clone()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::memory().await.unwrap();
        let f = Fixture::lektiecafe();
        let doc = f.replica();
        store.insert(doc.doc()).await.unwrap();
        assert_eq!(store.list().await.unwrap().len(), 1);
        hook.refuse.set(true);
        let other = Fixture::lektiecafe().replica();
        let refused = store.insert(other.doc()).await;
        assert!(
            matches!(refused, Err(StoreError::Storage(_))),
            "{refused:?}"
        );
        hook.refuse.set(false);
        assert_eq!(store.list().await.unwrap().len(), 1, "nothing was written");
    });
    nabo_core::store::set_thread_hook(None);
    assert_eq!(
        *hook.calls.borrow(),
        ["open", "insert", "list", "insert", "list"]
    );
    assert_eq!(hook.driven.get(), 4, "every call it let through, it drove");
}
