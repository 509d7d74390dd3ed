//! Erasure reaching the phones (ADR 0019): a phone learns of an erased child in the keys
//! answer, deletes the key from its store (and from the store's files), and reports it did;
//! a phone that was offline for the whole erasure syncs its edits about the child, they
//! merge, and the name stays unreadable everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use nabo_bindings::api::Mark;
use nabo_bindings::{NaboClient, NaboError};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use sqlx::Connection;

const PASSWORD: &str = "demo-password-for-tests";
const NAME: &str = "Zuleika";

async fn central_token(r: &TestRelay) -> String {
    nabo_core::client::login(&r.http(), "central", PASSWORD)
        .await
        .unwrap()
        .access_token
}

async fn phone(r: &TestRelay, dir: &std::path::Path, key: u8, user: &str) -> Arc<NaboClient> {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/enrolments", r.http()))
        .bearer_auth(central_token(r).await)
        .json(&serde_json::json!({"user_id": user}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = NaboClient::open(dir.display().to_string(), r.http(), vec![key; 32])
        .await
        .unwrap();
    c.enrol(v["code"].as_str().unwrap().to_owned(), user.into())
        .await
        .unwrap();
    c.sync_now().await.unwrap();
    c
}

/// The store's files as they are on disk: the database, its WAL and shared memory.
fn store_bytes(dir: &std::path::Path) -> Vec<u8> {
    let db = dir.join("nabo.sqlite");
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut f = db.clone().into_os_string();
        f.push(suffix);
        bytes.extend(std::fs::read(f).unwrap_or_default());
    }
    bytes
}

/// The stored (sealed) form of a subject's key in a phone's store file.
async fn stored_key(dir: &std::path::Path, subject: &str) -> Option<Vec<u8>> {
    let url = format!("sqlite://{}?mode=ro", dir.join("nabo.sqlite").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let k = sqlx::query_scalar("SELECT key FROM subject_keys WHERE subject = ?")
        .bind(subject)
        .fetch_optional(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    k
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn today() -> String {
    nabo_core::time::Timestamp::now().date_dk().to_string()
}

fn label_of(call: &nabo_bindings::api::RollCall, participant: &str) -> Option<Option<String>> {
    call.entries
        .iter()
        .find(|e| e.participant_id == participant)
        .map(|e| e.label.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_child_leaves_every_phone_and_an_offline_phone_cannot_bring_the_name_back() {
    for backend in Backend::all() {
        offline_phone_case(backend).await;
    }
}

async fn offline_phone_case(backend: Backend) {
    let mut r = TestRelay::start(backend, Limits::default()).await.unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = phone(&r, a_dir.path(), 1, "u-volunteer1").await;
    let b = phone(&r, b_dir.path(), 2, "u-volunteer2").await;

    // Phone A adds a child; phone B gets the name at its next sync.
    let session = a
        .add_session(
            "act-lektiecafe".into(),
            today(),
            "15:00".into(),
            "17:00".into(),
            None,
        )
        .await
        .unwrap();
    let child = a
        .add_child(session.id.clone(), Some(NAME.into()), "7-9".into())
        .await
        .unwrap();
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    let call = b.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(label_of(&call, &child), Some(Some(NAME.into())));
    let sealed_on_b = stored_key(b_dir.path(), &child)
        .await
        .expect("B holds the key");
    assert!(
        contains(&store_bytes(b_dir.path()), &sealed_on_b),
        "the test can fail"
    );

    // Phone B goes offline and marks the child present; meanwhile the office erases them.
    r.stop().await;
    b.mark(session.id.clone(), child.clone(), Mark::Present)
        .await
        .unwrap();
    assert!(matches!(b.sync_now().await, Err(NaboError::Offline { .. })));
    r.restart(Limits::default()).await.unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/erasures", r.http()))
        .bearer_auth(central_token(&r).await)
        .json(&serde_json::json!({"subject": child, "reason": "request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);

    // Phone A learns of it at its next sync: the key and the child leave its roll call.
    a.sync_now().await.unwrap();
    assert_eq!(
        stored_key(a_dir.path(), &child).await,
        None,
        "A deleted the key"
    );
    let call = a.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(
        label_of(&call, &child),
        None,
        "A lists the erased child nowhere"
    );

    // Phone B comes back: its mark merges, the key goes, and nothing re-uploads it.
    b.sync_now().await.unwrap();
    assert_eq!(
        stored_key(b_dir.path(), &child).await,
        None,
        "B deleted the key"
    );
    assert!(
        !contains(&store_bytes(b_dir.path()), &sealed_on_b),
        "the key's stored bytes are gone from B's store files"
    );
    let call = b.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(
        label_of(&call, &child),
        None,
        "B lists the erased child nowhere"
    );
    assert_eq!(call.present, 1, "the erased child's mark counts without a name");
    let tenant = "vestbyen".parse().unwrap();
    assert_eq!(
        r.storage().subject_key(&tenant, &child).await.unwrap(),
        None,
        "no key came back to the relay"
    );
    let register: nabo_core::document::DocumentId =
        session.id.split_once('/').unwrap().0.parse().unwrap();
    let stored = r.storage().chunks(register).await.unwrap();
    let mut doc = automerge::Automerge::new();
    for c in &stored {
        doc.load_incremental(c).unwrap();
    }
    let reg = <nabo_core::docs::register::RegisterDoc as nabo_core::document::TypedDoc>::from_doc(
        nabo_core::document::NaboDoc::from_automerge(doc, automerge::ActorId::random()).unwrap(),
    )
    .unwrap();
    let view = reg.view().unwrap();
    let pid = child.parse().unwrap();
    let sid = session.id.split_once('/').unwrap().1.parse().unwrap();
    assert!(nabo_core::erasure::is_erased(&view.participants[&pid]));
    assert_eq!(
        view.attendance.get(&(sid, pid)).map(|m| m.current),
        Some(nabo_core::model::AttendanceStatus::Present),
        "the offline phone's mark merged and counts"
    );

    // Both phones confirmed; the log shows it without a name.
    let log: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/erasures", r.http()))
        .bearer_auth(central_token(&r).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log[0]["confirmed_devices"], 2, "{log}");
    assert!(!log.to_string().contains(NAME));

    // The name never reached a file in plain text, on either phone.
    for dir in [a_dir.path(), b_dir.path()] {
        assert!(!contains(&store_bytes(dir), NAME.as_bytes()));
    }
}
