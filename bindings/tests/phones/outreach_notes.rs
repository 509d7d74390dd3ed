//! Issue 11 item 2: sealed free-text notes on outreach contacts (ADR 0011, amended). A note
//! is refused while the organisation has notes switched off; once on, the worker's phone
//! seals it (with the known person's key, or a key of the contact's own), the worker's other
//! phone and central staff read it through the relay's key sharing, a volunteer gets no key,
//! the relay's database never holds the text, and erasing the person makes the note on
//! their contact unreadable everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;

use nabo_bindings::api::{ContactInfo, ContactInput, KnownPersonInput};
use nabo_bindings::{NaboClient, NaboError};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

const PERSON_NOTE: &str = "Vil gerne tale om lektiecafé, ring efter fredag";
const CONTACT_NOTE: &str = "Gruppen spurgte efter åbningstider i klubben";

/// Central staff put a legal hold on `subject` (or lift it).
async fn hold(r: &TestRelay, subject: &str, on: bool) {
    let url = if on {
        format!("{}/api/v1/legal-holds", r.http())
    } else {
        format!("{}/api/v1/legal-holds/{subject}/release", r.http())
    };
    let res = reqwest::Client::new()
        .post(url)
        .bearer_auth(token(r, "central").await)
        .json(&serde_json::json!({"subject": subject, "reason": "journaling-duty"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

fn contact(participant: Option<&str>, note: Option<&str>) -> ContactInput {
    ContactInput {
        area_id: "a-vestparken".into(),
        location: "legeplads".into(),
        kind: "uformelt-moede".into(),
        count: if participant.is_some() { 1 } else { 3 },
        age_band: "15-17".into(),
        topics: vec!["skole-uddannelse".into()],
        outcomes: vec![],
        followup: None,
        participant_id: participant.map(Into::into),
        concern_reported_on: None,
        concern_to: None,
        note: note.map(Into::into),
    }
}

fn refused_note(r: Result<String, NaboError>, reason: &str) {
    match r {
        Err(NaboError::Invalid {
            field, reason: why, ..
        }) => {
            assert_eq!(field, "note");
            assert_eq!(why, reason);
        }
        other => panic!("expected a refusal naming note ({reason}), got {other:?}"),
    }
}

/// Switches the tenant's free-text notes on, as central staff would (there is no page for
/// it yet): an edit of the tenant document through the relay's hub.
async fn notes_on(r: &TestRelay) {
    use nabo_core::docs::tenant::{Settings, TenantDoc};
    let tenant: nabo_core::ids::TenantId = "vestbyen".parse().unwrap();
    let id = nabo_core::document::Scope::Tenant {
        tenant: tenant.clone(),
    }
    .document_id();
    let meta = r.storage().document(id).await.unwrap().unwrap();
    let central = nabo_server::retention::system(&tenant);
    let by = nabo_core::document::Author::now(central.by(), &nabo_core::time::Clock::system());
    r.relay()
        .state
        .hub
        .edit(&meta, &central, |t: &mut TenantDoc| {
            let s = t.settings()?;
            t.set_settings(
                &by,
                Settings {
                    free_text_notes: true,
                    ..s
                },
            )
        })
        .await
        .unwrap();
}

async fn contacts(p: &NaboClient) -> Vec<ContactInfo> {
    p.my_outreach_log().await.unwrap().contacts
}

fn find<'a>(list: &'a [ContactInfo], id: &str) -> &'a ContactInfo {
    list.iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no contact {id} in {list:?}"))
}

async fn keys(r: &TestRelay, token: &str, log: &str) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/documents/{log}/subject-keys", r.http()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

/// The relay's SQLite files as they are on disk.
fn relay_bytes(r: &TestRelay) -> Vec<u8> {
    let mut out = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        out.extend(
            std::fs::read(r.dir.path().join(format!("relay.sqlite{suffix}"))).unwrap_or_default(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sealed_note_reaches_the_workers_other_phone_and_dies_with_the_person() {
    for backend in Backend::all() {
        notes_case(backend).await;
    }
}

async fn notes_case(backend: Backend) {
    let r = TestRelay::start(backend, Limits::default()).await.unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = enrolled_phone(&r, a_dir.path(), 3, "u-outreach1").await;
    let b = enrolled_phone(&r, b_dir.path(), 4, "u-outreach1").await;

    // Notes are off by default: refused naming the note, nothing logged.
    let before = contacts(&a).await.len();
    refused_note(
        a.log_contact(contact(None, Some(CONTACT_NOTE))).await,
        "free-text-disabled",
    );
    assert_eq!(contacts(&a).await.len(), before, "{backend:?}");

    // Switched on, the phone learns it at its next sync; an over-long note is still refused.
    notes_on(&r).await;
    a.sync_now().await.unwrap();
    refused_note(
        a.log_contact(contact(None, Some(&"x".repeat(501)))).await,
        "too-long",
    );
    let pid = a
        .add_known_person(KnownPersonInput {
            area_id: "a-vestparken".into(),
            label: Some("Hassan".into()),
            age_band: "15-17".into(),
            consent: None,
            basis: None,
            basis_text: None,
        })
        .await
        .unwrap();
    let with_person = a
        .log_contact(contact(Some(&pid), Some(PERSON_NOTE)))
        .await
        .unwrap();
    let anonymous = a
        .log_contact(contact(None, Some(CONTACT_NOTE)))
        .await
        .unwrap();
    let plain = a.log_contact(contact(None, Some("  "))).await.unwrap();
    let on_a = contacts(&a).await;
    assert_eq!(find(&on_a, &with_person).note.as_deref(), Some(PERSON_NOTE));
    assert_eq!(find(&on_a, &anonymous).note.as_deref(), Some(CONTACT_NOTE));
    assert!(!find(&on_a, &plain).has_note, "a blank note is none");
    a.sync_now().await.unwrap();

    // The relay holds the person's key and the anonymous contact's key, not the text.
    let tenant = "vestbyen".parse().unwrap();
    let (log, cid) = anonymous.split_once('/').unwrap();
    for subject in [pid.as_str(), cid] {
        assert!(
            r.storage()
                .subject_key(&tenant, subject)
                .await
                .unwrap()
                .is_some(),
            "{backend:?}: the relay holds the key of {subject}"
        );
    }
    if backend == Backend::Sqlite {
        let bytes = relay_bytes(&r);
        assert!(!bytes.is_empty());
        for note in [PERSON_NOTE, CONTACT_NOTE] {
            assert!(
                !contains(&bytes, note.as_bytes()),
                "the relay's database holds a note in plain text"
            );
        }
    }

    // The worker's other phone reads both notes after its sync.
    b.sync_now().await.unwrap();
    let on_b = contacts(&b).await;
    assert_eq!(
        find(&on_b, &with_person).note.as_deref(),
        Some(PERSON_NOTE),
        "{backend:?}"
    );
    assert_eq!(
        find(&on_b, &anonymous).note.as_deref(),
        Some(CONTACT_NOTE),
        "{backend:?}"
    );

    // Central staff get the keys; a volunteer is told the log does not exist.
    let (status, body) = keys(&r, &token(&r, "central").await, log).await;
    assert_eq!(status, 200, "{backend:?}: {body}");
    assert!(body["keys"].get(cid).is_some(), "{backend:?}: {body}");
    assert!(body["keys"].get(&pid).is_some(), "{backend:?}: {body}");
    let (status, body) = keys(&r, &token(&r, "volunteer1").await, log).await;
    assert_eq!(status, 404, "{backend:?}: {body}");
    // Central staff read both notes on the log's review page (opened with the relay's keys).
    let review = format!("/opsoegende/{log}");
    let html = web_page(&r, "central", &review).await;
    for note in [PERSON_NOTE, CONTACT_NOTE] {
        assert!(html.contains(note), "{backend:?}: {note} not on the page");
    }

    // Central staff erase the person: the key leaves the relay, and at their next sync
    // neither phone opens the note on the contact with them; the anonymous note stays.
    erase(&r, &pid).await;
    assert_eq!(r.storage().subject_key(&tenant, &pid).await.unwrap(), None);
    for p in [&a, &b] {
        p.sync_now().await.unwrap();
        let list = contacts(p).await;
        let c = find(&list, &with_person);
        assert!(c.has_note && c.note.is_none(), "{backend:?}: {c:?}");
        assert_eq!(
            find(&list, &anonymous).note.as_deref(),
            Some(CONTACT_NOTE),
            "{backend:?}"
        );
    }
    // And a contact with the erased person takes no new note.
    assert!(
        a.log_contact(contact(Some(&pid), Some(PERSON_NOTE)))
            .await
            .is_err()
    );
    // The page no longer shows the person's note; the anonymous one stays.
    let html = web_page(&r, "central", &review).await;
    assert!(!html.contains(PERSON_NOTE), "{backend:?}");
    assert!(html.contains("(noten er slettet)"), "{backend:?}");
    assert!(html.contains(CONTACT_NOTE), "{backend:?}");

    // Central staff erase the anonymous contact's note over the API, by the contact's id: its
    // key goes, and neither phone nor the page opens the note any more.
    erase(&r, cid).await;
    assert_eq!(r.storage().subject_key(&tenant, cid).await.unwrap(), None);
    for p in [&a, &b] {
        p.sync_now().await.unwrap();
        let list = contacts(p).await;
        let c = find(&list, &anonymous);
        assert!(c.has_note && c.note.is_none(), "{backend:?}: {c:?}");
    }
    let html = web_page(&r, "central", &review).await;
    assert!(!html.contains(CONTACT_NOTE), "{backend:?}");
}

/// Retention reaches a note of its own key: an `outreach-notes` class period after the
/// anonymous contact, the relay's retention job destroys the note's key, and the keys answer
/// lists it as erased, so the worker's phones delete it at their next sync.
#[tokio::test(flavor = "multi_thread")]
async fn retention_destroys_a_contacts_own_note_key_after_its_time() {
    for backend in Backend::all() {
        retention_case(backend).await;
    }
}

async fn retention_case(backend: Backend) {
    const DAY: i64 = 86_400_000;
    let start = nabo_core::time::Timestamp::now();
    let r = TestRelay::start_with_clock(
        backend,
        Limits::default(),
        nabo_core::time::Clock::starting_at(start),
    )
    .await
    .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    notes_on(&r).await;
    let dir = tempfile::tempdir().unwrap();
    let a = enrolled_phone(&r, dir.path(), 5, "u-outreach1").await;
    let noted = a
        .log_contact(contact(None, Some(CONTACT_NOTE)))
        .await
        .unwrap();
    a.sync_now().await.unwrap();
    let cid = noted.split_once('/').unwrap().1.to_owned();
    let tenant: nabo_core::ids::TenantId = "vestbyen".parse().unwrap();
    let held = || {
        let storage = r.storage();
        let (tenant, cid) = (tenant.clone(), cid.clone());
        async move { storage.subject_key(&tenant, &cid).await.unwrap().is_some() }
    };
    let state = r.relay().state.clone();

    nabo_server::retention::run_tenant(&state, &tenant)
        .await
        .unwrap();
    assert!(held().await, "{backend:?}: nothing is due today");

    // Due, but held (by the contact's id): the key stays; released, the next run destroys it.
    r.clock.set(nabo_core::time::Timestamp(start.0 + 430 * DAY));
    hold(&r, &cid, true).await;
    nabo_server::retention::run_tenant(&state, &tenant)
        .await
        .unwrap();
    assert!(
        held().await,
        "{backend:?}: a legal hold keeps the note's key"
    );
    hold(&r, &cid, false).await;
    nabo_server::retention::run_tenant(&state, &tenant)
        .await
        .unwrap();
    assert!(!held().await, "{backend:?}: the note's key is destroyed");
    // The keys answer tells the worker's phones to delete it (ADR 0019).
    let log = noted.split_once('/').unwrap().0;
    let (status, body) = keys(&r, &token(&r, "central").await, log).await;
    assert_eq!(status, 200, "{backend:?}: {body}");
    assert!(body["keys"].get(&cid).is_none(), "{backend:?}: {body}");
    assert!(
        body["erased"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x.as_str() == Some(cid.as_str()))),
        "{backend:?}: {body}"
    );
    // The worker's phone syncs: the note no longer opens there.
    assert_eq!(
        find(&contacts(&a).await, &noted).note.as_deref(),
        Some(CONTACT_NOTE),
        "{backend:?}: the test can fail: the phone opens it before its sync"
    );
    a.sync_now().await.unwrap();
    let list = contacts(&a).await;
    let c = find(&list, &noted);
    assert!(c.has_note && c.note.is_none(), "{backend:?}: {c:?}");
}
