//! Erasure reaching the phones (ADR 0019): a phone learns of an erased child in the keys
//! answer, deletes the key from its store (and from the store's files), and reports it did;
//! a phone that was offline for the whole erasure syncs its edits about the child, they
//! merge, and the name stays unreadable everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;

use nabo_bindings::NaboError;
use nabo_bindings::api::Mark;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use sqlx::Connection;

const NAME: &str = "Zuleika";

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
    let a = enrolled_phone(&r, a_dir.path(), 1, "u-volunteer1").await;
    let b = enrolled_phone(&r, b_dir.path(), 2, "u-volunteer2").await;

    // Phone A adds a child; phone B gets the name at its next sync.
    let session = lektiecafe_today(&a).await;
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
    erase(&r, &child).await;

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
    assert_eq!(
        call.present, 1,
        "the erased child's mark counts without a name"
    );
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

/// Issue 11 item 2 (ADR 0011 amended): a known person's label, sealed on the outreach
/// worker's phone, reaches the worker's other phone through the relay (and nobody who may
/// not read the log); erasing the person destroys the key, marks the person erased in the
/// log, and both phones forget them, while a contact the second phone logged offline about
/// the person merges and counts.
#[tokio::test(flavor = "multi_thread")]
async fn a_known_persons_name_reaches_the_workers_other_phone_and_leaves_both_on_erasure() {
    for backend in Backend::all() {
        known_person_case(backend).await;
    }
}

fn contact_with(pid: &str) -> nabo_bindings::api::ContactInput {
    nabo_bindings::api::ContactInput {
        area_id: "a-vestparken".into(),
        location: "legeplads".into(),
        kind: "uformelt-moede".into(),
        count: 1,
        age_band: "15-17".into(),
        topics: vec!["skole-uddannelse".into()],
        outcomes: vec![],
        followup: None,
        participant_id: Some(pid.into()),
        concern_reported_on: None,
        concern_to: None,
        note: None,
    }
}

async fn keys_request(
    r: &TestRelay,
    token: &str,
    log: &str,
    put: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let url = format!("{}/api/v1/documents/{log}/subject-keys", r.http());
    let c = reqwest::Client::new();
    let req = match put {
        Some(body) => c.put(url).json(&body),
        None => c.get(url),
    };
    let res = req.bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or_default())
}

async fn known_person_case(backend: Backend) {
    const PERSON: &str = "Hassan";
    let mut r = TestRelay::start(backend, Limits::default()).await.unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = enrolled_phone(&r, a_dir.path(), 3, "u-outreach1").await;
    let b = enrolled_phone(&r, b_dir.path(), 4, "u-outreach1").await;

    // Phone A upgrades a contact to a known person; phone B reads the name after its sync.
    let pid = a
        .add_known_person(nabo_bindings::api::KnownPersonInput {
            area_id: "a-vestparken".into(),
            label: Some(PERSON.into()),
            age_band: "15-17".into(),
            consent: None,
            basis: None,
            basis_text: None,
        })
        .await
        .unwrap();
    a.log_contact(contact_with(&pid)).await.unwrap();
    a.sync_now().await.unwrap();
    let tenant = "vestbyen".parse().unwrap();
    assert!(
        r.storage()
            .subject_key(&tenant, &pid)
            .await
            .unwrap()
            .is_some(),
        "{backend:?}: the relay holds the known person's key"
    );
    b.sync_now().await.unwrap();
    let people = b.known_people("a-vestparken".into()).await.unwrap();
    assert!(
        people
            .iter()
            .any(|p| p.participant_id == pid && p.label.as_deref() == Some(PERSON)),
        "{backend:?}: the worker's other phone names the person: {people:?}"
    );
    let key_on_b = stored_key(b_dir.path(), &pid)
        .await
        .expect("B holds the key");

    // Only those who may read the log get the key: a volunteer is told it does not exist.
    let log = stored_log(&r, &pid).await.0.to_string();
    let volunteer = nabo_core::client::login(&r.http(), "volunteer1", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let (status, _) = keys_request(&r, &volunteer, &log, None).await;
    assert_eq!(status, 404, "{backend:?}: a volunteer may not read the log");
    let central = central_token(&r).await;
    let (status, keys) = keys_request(&r, &central, &log, None).await;
    assert_eq!(status, 200, "{backend:?}: {keys}");
    assert!(keys["keys"].get(&pid).is_some(), "{backend:?}: {keys}");

    // B is cut off and logs another contact with the person; meanwhile the office erases them.
    r.stop().await;
    b.log_contact(contact_with(&pid)).await.unwrap();
    assert!(matches!(b.sync_now().await, Err(NaboError::Offline { .. })));
    r.restart(Limits::default()).await.unwrap();
    let central = central_token(&r).await;
    let done = erase(&r, &pid).await;
    assert_eq!(
        done["documents"], 1,
        "{backend:?}: the log is marked: {done}"
    );
    assert_eq!(r.storage().subject_key(&tenant, &pid).await.unwrap(), None);

    // Both phones forget the person, and the key's bytes leave B's files.
    for (p, dir) in [(&a, a_dir.path()), (&b, b_dir.path())] {
        p.sync_now().await.unwrap();
        assert_eq!(
            stored_key(dir, &pid).await,
            None,
            "{backend:?}: key deleted"
        );
        let people = p.known_people("a-vestparken".into()).await.unwrap();
        assert!(
            people.iter().all(|x| x.participant_id != pid),
            "{backend:?}: an erased person is listed: {people:?}"
        );
    }
    assert!(!contains(&store_bytes(b_dir.path()), &key_on_b));
    // The key is not taken again, even from a phone that kept it.
    let (status, body) = keys_request(
        &r,
        &central,
        &log,
        Some(serde_json::json!({"keys": {pid.clone(): base64_key()}})),
    )
    .await;
    assert_eq!(status, 400, "{backend:?}: {body}");
    assert_eq!(body["reason"], "erased");

    // The stored log: the person is erased without a label; both contacts count.
    let view = stored_log(&r, &pid).await.1;
    let person = &view.people[&pid.parse().unwrap()];
    assert!(
        person.erased.is_some() && person.label.is_none(),
        "{backend:?}"
    );
    let with = view
        .contacts
        .values()
        .filter(|c| c.participant.as_ref().map(ToString::to_string) == Some(pid.clone()))
        .count();
    assert_eq!(
        with, 2,
        "{backend:?}: the offline contact merged and counts"
    );
    let confirmed = r.storage().erasure_confirmations(&tenant).await.unwrap();
    assert_eq!(confirmed.get(&pid).copied(), Some(2), "{backend:?}");
    for dir in [a_dir.path(), b_dir.path()] {
        assert!(!contains(&store_bytes(dir), PERSON.as_bytes()));
    }
}

/// The outreach log on the relay that holds the known person, as stored.
async fn stored_log(
    r: &TestRelay,
    pid: &str,
) -> (
    nabo_core::document::DocumentId,
    nabo_core::docs::outreach::OutreachView,
) {
    use nabo_core::document::TypedDoc;
    let pid: nabo_core::ids::ParticipantId = pid.parse().unwrap();
    for meta in r
        .storage()
        .documents(&"vestbyen".parse().unwrap())
        .await
        .unwrap()
    {
        if meta.kind != nabo_core::document::DocKind::Outreach {
            continue;
        }
        let mut doc = automerge::Automerge::new();
        for c in &r.storage().chunks(meta.id).await.unwrap() {
            doc.load_incremental(c).unwrap();
        }
        let view = nabo_core::docs::outreach::OutreachDoc::from_doc(
            nabo_core::document::NaboDoc::from_automerge(doc, automerge::ActorId::random())
                .unwrap(),
        )
        .unwrap()
        .view()
        .unwrap();
        if view.people.contains_key(&pid) {
            return (meta.id, view);
        }
    }
    panic!("no stored outreach log holds the person");
}

fn base64_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([9u8; 32])
}

/// Issue 11 item 4: retention reaches known persons. A year and more after the last contact
/// with a known person, the relay's retention job erases them (key destroyed, marked in the
/// log, the contacts still counted); a legal hold keeps another until it is released, and
/// the next run erases them too.
#[tokio::test(flavor = "multi_thread")]
async fn retention_erases_known_persons_past_their_time_unless_held() {
    for backend in Backend::all() {
        known_person_retention(backend).await;
    }
}

async fn known_person_retention(backend: Backend) {
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
    let dir = tempfile::tempdir().unwrap();
    let ali = enrolled_phone(&r, dir.path(), 5, "u-outreach1").await;
    let mut people = Vec::new();
    for name in ["Hassan", "Amina"] {
        let pid = ali
            .add_known_person(nabo_bindings::api::KnownPersonInput {
                area_id: "a-vestparken".into(),
                label: Some(name.into()),
                age_band: "15-17".into(),
                consent: None,
                basis: None,
                basis_text: None,
            })
            .await
            .unwrap();
        ali.log_contact(contact_with(&pid)).await.unwrap();
        people.push(pid);
    }
    ali.sync_now().await.unwrap();
    let (due, held) = (people[0].clone(), people[1].clone());
    let tenant: nabo_core::ids::TenantId = "vestbyen".parse().unwrap();
    let state = r.relay().state.clone();
    let key = |pid: String| {
        let storage = r.storage();
        let tenant = tenant.clone();
        async move { storage.subject_key(&tenant, &pid).await.unwrap().is_some() }
    };
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/legal-holds", r.http()))
        .bearer_auth(central_token(&r).await)
        .json(&serde_json::json!({"subject": held, "reason": "journaling-duty"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);

    // Nothing is due today.
    nabo_server::retention::run_tenant(&state, &tenant)
        .await
        .unwrap();
    assert!(
        key(due.clone()).await && key(held.clone()).await,
        "{backend:?}"
    );

    // Fourteen months on: the one without a hold is erased, the held one kept.
    r.clock.set(nabo_core::time::Timestamp(start.0 + 430 * DAY));
    let run = nabo_server::retention::run_tenant(&state, &tenant)
        .await
        .unwrap();
    assert!(run.held >= 1, "{backend:?}: {run:?}");
    assert!(
        !key(due.clone()).await,
        "{backend:?}: the due person's key is gone"
    );
    assert!(
        key(held.clone()).await,
        "{backend:?}: the held person's key stays"
    );
    let view = stored_log(&r, &due).await.1;
    let (d, h) = (
        &view.people[&due.parse().unwrap()],
        &view.people[&held.parse().unwrap()],
    );
    assert!(d.erased.is_some() && d.label.is_none(), "{backend:?}");
    assert!(h.erased.is_none() && h.label.is_some(), "{backend:?}");
    assert_eq!(
        view.contacts
            .values()
            .filter(|c| c.participant.is_some())
            .count(),
        2
    );
    let log = r.storage().erasures(&tenant).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.subject == due && e.reason == "purpose-ended"),
        "{backend:?}: the erasure is logged as the purpose's end"
    );

    // The hold is released; the next run erases the other.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/legal-holds/{held}/release", r.http()))
        .bearer_auth(central_token(&r).await)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    nabo_server::retention::run_tenant(&state, &tenant)
        .await
        .unwrap();
    assert!(
        !key(held.clone()).await,
        "{backend:?}: erased after the release"
    );
    r.running.unwrap().shutdown().await;
}

/// A phone signed in with a password and not enrolled has no device for the relay to count
/// a confirmation from (ADR 0019): it deletes the erased child's key and its sync succeeds.
/// (The simulation showed such phones failing one sync after every erasure with "invalid
/// device: missing": they reported the deletion anyway, and the relay refused it.)
#[tokio::test(flavor = "multi_thread")]
async fn a_phone_signed_in_with_a_password_forgets_an_erased_child_without_an_error() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let phone = nabo_bindings::NaboClient::open(
            dir.path().display().to_string(),
            r.http(),
            vec![3; 32],
        )
        .await
        .unwrap();
        let me = phone
            .login("volunteer1".into(), PASSWORD.into())
            .await
            .unwrap();
        assert_eq!(me.device_id, None, "signed in, not enrolled");
        phone.sync_now().await.unwrap();
        let session = lektiecafe_today(&phone).await;
        let child = phone
            .add_child(session.id.clone(), Some(NAME.into()), "7-9".into())
            .await
            .unwrap();
        phone.sync_now().await.unwrap();
        assert!(
            stored_key(dir.path(), &child).await.is_some(),
            "the test can fail"
        );

        erase(&r, &child).await;
        phone.sync_now().await.unwrap();
        assert_eq!(
            stored_key(dir.path(), &child).await,
            None,
            "the key is deleted"
        );
        let call = phone.roll_call(session.id.clone()).await.unwrap();
        assert_eq!(label_of(&call, &child), None, "the child is listed nowhere");
        phone.sync_now().await.unwrap();
    }
}
