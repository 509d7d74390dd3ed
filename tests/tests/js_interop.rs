//! Protocol interop: the stock `@automerge/automerge-repo` 2.5.6 client with
//! `@automerge/automerge-repo-network-websocket` 2.5.6 (Node, from npm, lockfile in
//! `tests/js/`) finds a register, edits it, creates a document where allowed (and is refused
//! where not), converges with a Rust client, and merges offline edits made on both sides.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use automerge::sync::State;
use automerge::{ActorId, ReadDoc};
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::prelude::*;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

const PASSWORD: &str = "interop-password";

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

fn node(args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg("interop.mjs")
        .args(args)
        .current_dir(js_dir())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "node {args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn available() -> bool {
    let ok = js_dir()
        .join("node_modules/@automerge/automerge-repo")
        .exists();
    if !ok {
        assert!(
            std::env::var("NABO_REQUIRE_JS").is_err(),
            "NABO_REQUIRE_JS is set but tests/js/node_modules is missing"
        );
        eprintln!(
            "note: tests/js/node_modules missing; JS interop skipped (cargo xtask test installs it)"
        );
    }
    ok
}

async fn fetch(c: &mut Client, id: DocumentId) -> (automerge::Automerge, State) {
    let mut doc = automerge::Automerge::new();
    let mut state = State::new();
    assert_eq!(
        c.sync(id, &mut doc, &mut state, true).await.unwrap(),
        SyncEnd::Synced
    );
    (doc, state)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stock_javascript_client_syncs_with_the_relay() {
    if !available() {
        return;
    }
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let base = r.http();
    let central = client::login(&base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let docs = client::documents(&base, &central).await.unwrap();
    let url = docs.iter().find(|d| d["kind"] == "register").unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let reg_id = DocumentId::parse(&url).unwrap();
    let mut rust = Client::connect(&r.ws(), &central, Some("rust-office"))
        .await
        .unwrap();
    let (doc, mut state) = fetch(&mut rust, reg_id).await;
    let mut reg =
        RegisterDoc::from_doc(NaboDoc::from_automerge(doc, ActorId::random()).unwrap()).unwrap();
    let view = reg.view().unwrap();
    let today = Timestamp::now().date_dk();
    let sessions: Vec<&SessionId> = view
        .sessions
        .iter()
        .filter(|(_, s)| s.current.date <= today)
        .map(|(k, _)| k)
        .collect();
    let kids: Vec<&ParticipantId> = view.participants.keys().collect();
    let key = |s: usize, p: usize| format!("{}/{}", sessions[s % sessions.len()], kids[p]);

    // 1. The JS client finds the register.
    let seen = node(&["read", &base, "volunteer1", PASSWORD, &url, &key(0, 0)]);
    assert_eq!(seen["kind"], "register");
    assert_eq!(seen["participants"], view.participants.len());

    // 2. It edits; the Rust client sees the edit.
    let k1 = key(0, 1);
    let marked = node(&["mark", &base, "volunteer1", PASSWORD, &url, &k1, "excused"]);
    assert_eq!(marked["ok"], true, "{marked}");
    assert_eq!(
        rust.sync(reg_id, reg.doc_mut().automerge_mut(), &mut state, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    reg.doc_mut().recheck().unwrap();
    let (s1, p1) = k1.split_once('/').unwrap();
    let v = reg.view().unwrap();
    assert_eq!(
        v.attendance[&(s1.parse().unwrap(), p1.parse().unwrap())].current,
        AttendanceStatus::Excused
    );

    // 3. The Rust client edits; the JS client sees it.
    let k2 = key(1, 2);
    {
        let am = reg.doc_mut().automerge_mut();
        use automerge::transaction::Transactable;
        let (_, att) = am.get(automerge::ROOT, "attendance").unwrap().unwrap();
        let mut tx = am.transaction();
        tx.put(&att, k2.as_str(), "absent").unwrap();
        tx.commit();
    }
    assert_eq!(
        rust.sync(reg_id, reg.doc_mut().automerge_mut(), &mut state, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    assert_eq!(
        node(&["read", &base, "volunteer2", PASSWORD, &url, &k2])["value"],
        "absent"
    );

    // 4. Creating a document: central staff may create an activity, a volunteer may not.
    let activity = ActivityId::random().to_string();
    let created = node(&["create", &base, "central", PASSWORD, "vestbyen", &activity]);
    let new_url = created["url"].as_str().unwrap().to_owned();
    let listed = client::documents(&base, &central).await.unwrap();
    let entry = listed
        .iter()
        .find(|d| d["url"] == new_url.as_str())
        .expect("the relay stored the JS-created activity");
    assert_eq!(
        entry["title"],
        "Fællesspisning i Engtoften (oprettet fra JavaScript)"
    );
    let (adoc, _) = fetch(&mut rust, DocumentId::parse(&new_url).unwrap()).await;
    let act =
        ActivityDoc::from_doc(NaboDoc::from_automerge(adoc, ActorId::random()).unwrap()).unwrap();
    assert_eq!(
        act.activity().unwrap().current.primary_type.as_str(),
        "SL.faellesspisning"
    );

    let refused = node(&[
        "create",
        &base,
        "volunteer1",
        PASSWORD,
        "vestbyen",
        ActivityId::random().as_ref(),
    ]);
    let refused_url = refused["url"].as_str().unwrap();
    assert!(
        r.storage()
            .document(DocumentId::parse(refused_url).unwrap())
            .await
            .unwrap()
            .is_none(),
        "a volunteer's activity is not stored"
    );

    // 5. Offline edits on both sides merge.
    let k3 = key(2, 3);
    let mut js = Command::new("node")
        .args([
            "interop.mjs",
            "offline",
            &base,
            "volunteer1",
            PASSWORD,
            &url,
            &k3,
            "present",
        ])
        .current_dir(js_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(js.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["offline"], true);
    {
        use automerge::transaction::Transactable;
        let am = reg.doc_mut().automerge_mut();
        let (_, info) = am.get(automerge::ROOT, "info").unwrap().unwrap();
        let mut tx = am.transaction();
        tx.put(&info, "rust_offline", true).unwrap();
        tx.commit();
    }
    assert_eq!(
        rust.sync(reg_id, reg.doc_mut().automerge_mut(), &mut state, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    writeln!(js.stdin.take().unwrap(), "go").unwrap();
    let last: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(last["merged"], true, "{last}");
    assert!(js.wait().unwrap().success());
    assert_eq!(
        rust.sync(reg_id, reg.doc_mut().automerge_mut(), &mut state, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    reg.doc_mut().recheck().unwrap();
    let (s3, p3) = k3.split_once('/').unwrap();
    assert_eq!(
        reg.view().unwrap().attendance[&(s3.parse().unwrap(), p3.parse().unwrap())].current,
        AttendanceStatus::Present
    );
    r.running.unwrap().shutdown().await;
}
