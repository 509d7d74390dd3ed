//! Sharing subject keys through the relay (ADR 0011): who gets the keys of a register's
//! participants, who may add keys, and what is refused. An invisible document answers like a
//! nonexistent one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ActorId;
use base64::Engine;
use common::*;
use nabo_core::docs::register::NewParticipant;
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::prelude::*;
use nabo_core::seal::{SubjectKey, open};
use nabo_server::storage::{Scopes, UserRow};
use nabo_server::testing::{Backend, TestRelay};

fn b64(k: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(k)
}

fn url(r: &TestRelay, id: &str) -> String {
    format!("{}/api/v1/documents/{id}/subject-keys", r.http())
}

async fn get(r: &TestRelay, user: &str, id: &str) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .get(url(r, id))
        .bearer_auth(token(r, user).await)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn put(
    r: &TestRelay,
    user: &str,
    id: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .put(url(r, id))
        .bearer_auth(token(r, user).await)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A board member and another tenant's central user.
async fn add_outsiders(r: &TestRelay) {
    let hash = nabo_server::auth::hash_password(PASSWORD).unwrap();
    for (id, tenant, username, role) in [
        ("u-board-test", "vestbyen", "board", AppRole::Board),
        ("u-nordby", "nordby", "nordby", AppRole::Central),
    ] {
        r.storage()
            .insert_user(
                &UserRow {
                    id: id.into(),
                    tenant: tenant.parse().unwrap(),
                    username: username.into(),
                    display_name: username.into(),
                    password_hash: Some(hash.clone()),
                    role,
                    staff_id: None,
                    volunteer_id: None,
                    disabled: false,
                },
                &Scopes::default(),
            )
            .await
            .unwrap();
    }
}

/// The register as stored on the relay.
async fn stored_register(r: &TestRelay, id: DocumentId) -> RegisterDoc {
    RegisterDoc::from_doc(NaboDoc::from_automerge(stored(r, id).await, ActorId::random()).unwrap())
        .unwrap()
}

/// Central staff add a child (without a key on the relay) through the sync protocol; returns
/// its participant id.
async fn add_child(r: &TestRelay, reg_id: DocumentId, act_id: DocumentId) -> ParticipantId {
    let mut c = connect(r, "central").await;
    let (act, _) = fetch_nabo(&mut c, act_id).await;
    let snap = ActivityDoc::from_doc(act).unwrap().snapshot().unwrap();
    let (doc, mut state) = fetch_nabo(&mut c, reg_id).await;
    let mut reg = RegisterDoc::from_doc(doc).unwrap();
    let pid = ParticipantId::random();
    let ctx = RegisterContext {
        catalogue: Catalogue::builtin().unwrap(),
        activity: &snap,
    };
    reg.add_participant_with_id(
        &Author {
            by: By::System,
            at: Timestamp::now(),
        },
        ctx,
        Timestamp::now().date_dk(),
        pid.clone(),
        NewParticipant {
            age_band: "7-9".into(),
            gender: None,
            resident: None,
            label: None,
            recruitment: None,
        },
    )
    .unwrap();
    c.sync(reg_id, reg.doc_mut().automerge_mut(), &mut state, false)
        .await
        .unwrap();
    pid
}

#[tokio::test(flavor = "multi_thread")]
async fn readers_of_a_register_get_the_keys_of_its_children_and_nobody_else_does() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        add_outsiders(&r).await;
        let reg_id = doc_id(&r, "register", "Lektiecaféen").await;
        let reg = stored_register(&r, reg_id).await;
        let view = reg.view().unwrap();
        let id = reg_id.to_string();

        for user in ["central", "volunteer1", "outreach1"] {
            let (status, body) = get(&r, user, &id).await;
            assert_eq!(status, 200, "{backend:?} {user}: {body}");
            let keys = body["keys"].as_object().unwrap();
            // The demo's children, one of them added a second time on another phone.
            assert_eq!(
                keys.len(),
                nabo_server::demo::CHILDREN.len() + 1,
                "{backend:?} {user}: one key per demo child"
            );
            // Each key opens its child's label, and the labels are the demo children's names.
            let mut names = Vec::new();
            for (subject, key) in keys {
                let key = base64::engine::general_purpose::STANDARD
                    .decode(key.as_str().unwrap())
                    .unwrap();
                let key = SubjectKey::from_bytes(&key).unwrap();
                let p = &view.participants[&subject.parse::<ParticipantId>().unwrap()];
                names.push(open(&key, subject, p.current.label.as_ref().unwrap()).unwrap());
            }
            names.sort();
            let mut expected: Vec<String> = nabo_server::demo::CHILDREN
                .iter()
                .map(|(n, _)| (*n).to_owned())
                .collect();
            expected.push("aisha".into()); // added again on a second phone
            expected.sort();
            assert_eq!(names, expected, "{backend:?} {user}");
        }

        // No access, another tenant, a document that does not exist: the same 404.
        let (_, nonexistent) = get(&r, "central", &DocumentId::random().to_string()).await;
        for user in ["outreach2", "board", "nordby"] {
            let (status, body) = get(&r, user, &id).await;
            assert_eq!(status, 404, "{backend:?} {user}");
            assert_eq!(
                body, nonexistent,
                "{backend:?} {user}: like a nonexistent one"
            );
            let (status, body) = put(&r, user, &id, serde_json::json!({"keys": {}})).await;
            assert_eq!(status, 404, "{backend:?} {user} PUT");
            assert_eq!(body, nonexistent, "{backend:?} {user} PUT");
        }
        let (status, _) = get(&r, "central", "not-an-id").await;
        assert_eq!(status, 404);
        let anonymous = reqwest::get(url(&r, &id)).await.unwrap();
        assert_eq!(anonymous.status(), 401);

        // A document other than a register has no participants' keys.
        let act = doc_id(&r, "activity", "Lektiecaféen").await.to_string();
        let (status, body) = get(&r, "volunteer1", &act).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["field"], "document");
        assert_eq!(body["reason"], "not-a-register");
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_store_keys_of_participants_once_and_refusals_name_the_field() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        add_outsiders(&r).await;
        let reg_id = doc_id(&r, "register", "Lektiecaféen").await;
        let act_id = doc_id(&r, "activity", "Lektiecaféen").await;
        let id = reg_id.to_string();
        let child = add_child(&r, reg_id, act_id).await;
        let other_child = add_child(&r, reg_id, act_id).await;
        let key = SubjectKey::generate();
        let (_, before) = get(&r, "volunteer1", &id).await;
        assert!(before["keys"].get(child.as_str()).is_none());

        // Read access is not enough to add keys: a volunteer reads the activity document
        // (it is no register either, but access is decided first).
        let (status, _) = put(
            &r,
            "volunteer1",
            &act_id.to_string(),
            serde_json::json!({"keys": {child.as_str(): b64(key.as_bytes())}}),
        )
        .await;
        assert_eq!(status, 403, "{backend:?}");

        // Refusals name the field and the reason, and store nothing (all or nothing).
        let cases = [
            (
                serde_json::json!({"keys": {child.as_str(): b64(&[7u8; 31])}}),
                format!("keys.{child}"),
                "out-of-range",
            ),
            (
                serde_json::json!({"keys": {child.as_str(): "not base64!"}}),
                format!("keys.{child}"),
                "malformed",
            ),
            (
                serde_json::json!({"keys": {
                    child.as_str(): b64(key.as_bytes()),
                    "p-0000-not-here": b64(key.as_bytes()),
                }}),
                "keys.p-0000-not-here".to_owned(),
                "not-a-participant",
            ),
            (
                serde_json::json!({"keys": (0..501)
                    .map(|i| (format!("p-{i}"), serde_json::Value::from(b64(key.as_bytes()))))
                    .collect::<serde_json::Map<_, _>>()}),
                "keys".to_owned(),
                "too-many",
            ),
        ];
        for (body, field, reason) in cases {
            let (status, answer) = put(&r, "volunteer1", &id, body).await;
            assert_eq!(status, 400, "{backend:?} {field}: {answer}");
            assert_eq!(answer["field"], field.as_str(), "{backend:?}");
            assert_eq!(answer["reason"], reason, "{backend:?}");
        }
        assert_eq!(
            r.storage()
                .subject_key(&"vestbyen".parse().unwrap(), child.as_str())
                .await
                .unwrap(),
            None,
            "{backend:?}: a refused request stores nothing"
        );

        // Another tenant's key for a subject is never handed out with this register.
        r.relay()
            .state
            .vault
            .accept(
                r.storage().as_ref(),
                &"nordby".parse().unwrap(),
                reg_id,
                other_child.as_str(),
                &[9u8; 32],
            )
            .await
            .unwrap();

        // The volunteer stores the key; a second time it is present, and a different key
        // never replaces it (it is answered as conflicting).
        let body = serde_json::json!({"keys": {child.as_str(): b64(key.as_bytes())}});
        let (status, answer) = put(&r, "volunteer1", &id, body.clone()).await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        assert_eq!(answer["stored"], serde_json::json!([child.as_str()]));
        assert_eq!(answer["present"], serde_json::json!([]));
        let other = SubjectKey::generate();
        let (status, answer) = put(
            &r,
            "central",
            &id,
            serde_json::json!({"keys": {child.as_str(): b64(other.as_bytes())}}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(answer["stored"], serde_json::json!([]));
        assert_eq!(answer["present"], serde_json::json!([]));
        assert_eq!(answer["conflicting"], serde_json::json!([child.as_str()]));
        let (_, answer) = put(&r, "volunteer1", &id, body).await;
        assert_eq!(answer["present"], serde_json::json!([child.as_str()]));

        let (_, after) = get(&r, "outreach1", &id).await;
        assert_eq!(
            after["keys"][child.as_str()],
            b64(key.as_bytes()).as_str(),
            "{backend:?}: the first key stays"
        );
        assert!(
            after["keys"].get(other_child.as_str()).is_none(),
            "{backend:?}: another tenant's key is not handed out"
        );
        assert_eq!(
            after["keys"].as_object().unwrap().len(),
            nabo_server::demo::CHILDREN.len() + 2
        );
        r.running.unwrap().shutdown().await;
    }
}
