//! Sharing subject keys through the relay (ADR 0011): who gets the keys of a register's
//! participants, who may add keys, and what is refused. An invisible document answers like a
//! nonexistent one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

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
    let pid = ParticipantId::random();
    add_participant(r, "central", Some(reg_id), act_id, reg_id, &pid).await;
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

        // A document other than a register or an outreach log holds no sealed labels.
        let act = doc_id(&r, "activity", "Lektiecaféen").await.to_string();
        let (status, body) = get(&r, "volunteer1", &act).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["field"], "document");
        assert_eq!(body["reason"], "no-subjects");
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

/// Adds participant `pid` to the register `reg_id` (created from the activity `act_id` if
/// it does not exist yet) through the sync protocol as `user`.
async fn add_participant(
    r: &TestRelay,
    user: &str,
    reg_id: Option<DocumentId>,
    act_id: DocumentId,
    term_of: DocumentId,
    pid: &ParticipantId,
) -> DocumentId {
    let mut c = connect(r, user).await;
    let author = author_of(r, user).await;
    let (act, mut act_state) = fetch_nabo(&mut c, act_id).await;
    let mut act = ActivityDoc::from_doc(act).unwrap();
    if reg_id.is_none() {
        // The team starts a roll call with pseudonymous children.
        act.update(&author, Catalogue::builtin().unwrap(), |a| {
            a.attendance_mode = AttendanceMode::Pseudonymous
        })
        .unwrap();
        c.sync(act_id, act.doc_mut().automerge_mut(), &mut act_state, false)
            .await
            .unwrap();
    }
    let snap = act.snapshot().unwrap();
    let ctx = RegisterContext {
        catalogue: Catalogue::builtin().unwrap(),
        activity: &snap,
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
    };
    let (mut reg, mut state) = match reg_id {
        Some(id) => {
            let (doc, state) = fetch_nabo(&mut c, id).await;
            (RegisterDoc::from_doc(doc).unwrap(), state)
        }
        None => {
            let term = stored_register(r, term_of).await.term();
            let reg = RegisterDoc::create(
                "vestbyen".parse().unwrap(),
                act.id().clone(),
                term,
                ActorId::random(),
                &author,
                ctx,
            )
            .unwrap();
            (reg, automerge::sync::State::new())
        }
    };
    reg.add_participant_with_id(
        &author,
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
    let id = reg.doc().id();
    let end = c
        .sync(id, reg.doc_mut().automerge_mut(), &mut state, false)
        .await
        .unwrap();
    assert_eq!(
        end,
        nabo_core::client::SyncEnd::Synced,
        "{user} adds a participant to {id}"
    );
    id
}

/// ADR 0011 §1 made true (issue 9): a writer of one register who plants another register's
/// child among its participants does not get that child's key. A key is handed out only for
/// the registers it was uploaded for; sharing it with another register takes the key itself.
#[tokio::test(flavor = "multi_thread")]
async fn planting_a_subject_in_a_register_does_not_hand_out_its_key() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let cafe_reg = doc_id(&r, "register", "Lektiecaféen").await;
        let street = doc_id(&r, "activity", "Gadeplan").await;
        // The office registers a child in the street team's register, with its key.
        let child = ParticipantId::random();
        let key = SubjectKey::generate();
        let street_reg = add_participant(&r, "central", None, street, cafe_reg, &child).await;
        let (status, answer) = put(
            &r,
            "central",
            &street_reg.to_string(),
            serde_json::json!({"keys": {child.as_str(): b64(key.as_bytes())}}),
        )
        .await;
        assert_eq!(status, 200, "{backend:?}: {answer}");
        assert_eq!(answer["stored"], serde_json::json!([child.as_str()]));
        // A café volunteer cannot see that register …
        assert_eq!(get(&r, "volunteer1", &street_reg.to_string()).await.0, 404);
        // … plants the child's id among the café register's participants (ids can be read
        // from change notes) and asks for the café register's keys.
        let cafe = doc_id(&r, "activity", "Lektiecaféen").await;
        add_participant(&r, "volunteer1", Some(cafe_reg), cafe, cafe_reg, &child).await;
        assert!(
            stored_register(&r, cafe_reg)
                .await
                .participant_ids()
                .contains(&child.to_string()),
            "{backend:?}: the planted participant is stored"
        );
        let (status, keys) = get(&r, "volunteer1", &cafe_reg.to_string()).await;
        assert_eq!(status, 200);
        assert!(
            keys["keys"].get(child.as_str()).is_none(),
            "{backend:?}: the planted subject's key is not handed out"
        );
        // Uploading a made-up key for the planted subject changes nothing.
        let (status, answer) = put(
            &r,
            "volunteer1",
            &cafe_reg.to_string(),
            serde_json::json!({"keys": {child.as_str(): b64(SubjectKey::generate().as_bytes())}}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(answer["conflicting"], serde_json::json!([child.as_str()]));
        for user in ["volunteer1", "central"] {
            let (_, keys) = get(&r, user, &cafe_reg.to_string()).await;
            assert!(
                keys["keys"].get(child.as_str()).is_none(),
                "{backend:?} {user}"
            );
        }
        // Whoever holds the key may share it with the café register (the same child in two
        // activities): then it is handed out there too.
        let (_, answer) = put(
            &r,
            "central",
            &cafe_reg.to_string(),
            serde_json::json!({"keys": {child.as_str(): b64(key.as_bytes())}}),
        )
        .await;
        assert_eq!(answer["stored"], serde_json::json!([child.as_str()]));
        let (_, keys) = get(&r, "volunteer1", &cafe_reg.to_string()).await;
        assert_eq!(keys["keys"][child.as_str()], b64(key.as_bytes()).as_str());
        r.running.unwrap().shutdown().await;
    }
}

/// Every key the relay holds, unwrapped (what must never be in a dump).
async fn plain_keys(r: &TestRelay) -> Vec<[u8; 32]> {
    let tenant = "vestbyen".parse().unwrap();
    let reg = stored_register(r, doc_id(r, "register", "Lektiecaféen").await).await;
    let mut subjects = reg.participant_ids();
    subjects.extend((1..=5).map(|i| format!("v-{i}")));
    let keys = r
        .relay()
        .state
        .vault
        .keys(r.storage().as_ref(), &tenant, None, &subjects)
        .await
        .unwrap();
    assert!(keys.len() >= nabo_server::demo::CHILDREN.len() + 5);
    keys.into_iter().map(|(_, k)| k).collect()
}

fn holds_any(haystack: &[u8], keys: &[[u8; 32]]) -> bool {
    keys.iter().any(|k| {
        haystack.windows(32).any(|w| w == k)
            || contains(haystack, hex_lower(k).as_bytes())
            || contains(haystack, b64(k).as_bytes())
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex_lower(k: &[u8]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// A database dump or a backup alone opens no name: every subject key in it is wrapped
/// under the KEK, which lives in its own file.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_dump_and_a_backup_hold_no_subject_key() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let keys = plain_keys(&r).await;
        let dump = match backend {
            Backend::Sqlite => {
                let backup = r.dir.path().join("backup.sqlite");
                r.storage().backup_to(&backup).await.unwrap();
                let mut bytes = std::fs::read(&backup).unwrap();
                // The live database too, with its write-ahead log.
                let db = r.database_url.trim_start_matches("sqlite://").to_owned();
                for f in [db.clone(), format!("{db}-wal")] {
                    bytes.extend(std::fs::read(f).unwrap_or_default());
                }
                bytes
            }
            Backend::Postgres => {
                run_ok(std::process::Command::new(pg_tool("pg_dump")).arg(&r.database_url))
                    .into_bytes()
            }
        };
        assert!(dump.len() > 10_000, "{backend:?}: a real dump");
        assert!(
            !holds_any(&dump, &keys),
            "{backend:?}: a subject key is in the dump"
        );
        // The wrapped keys are there, and open with the KEK file.
        assert!(contains(&dump, b"subject_keys"));
        let kek = std::fs::read(r.kek_path()).unwrap();
        assert!(
            !contains(&dump, &kek[kek.len() - 20..]),
            "the KEK is not in the dump"
        );
        r.running.unwrap().shutdown().await;
    }
}

/// A database from before ADR 0014 holds plain keys: the first start wraps them, deletes
/// the plain copies, and hands each out for the registers that list its subject.
#[tokio::test(flavor = "multi_thread")]
async fn plain_keys_of_an_older_database_are_wrapped_at_start() {
    for backend in Backend::all() {
        let mut r = relay(backend).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let act = doc_id(&r, "activity", "Lektiecaféen").await;
        let child = add_child(&r, reg, act).await;
        let key = SubjectKey::generate();
        // As the old schema kept it (the migration renamed the table).
        let pool_url = r.database_url.clone();
        r.stop().await;
        {
            use sqlx::Connection;
            let sql = "INSERT INTO subject_keys_legacy (subject, tenant, key, created_at) VALUES ($1, 'vestbyen', $2, 0)";
            match backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&pool_url).await.unwrap();
                    sqlx::query(sql)
                        .bind(child.as_str())
                        .bind(key.as_bytes().to_vec())
                        .execute(&mut c)
                        .await
                        .unwrap();
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&pool_url).await.unwrap();
                    sqlx::query(sql)
                        .bind(child.as_str())
                        .bind(key.as_bytes().to_vec())
                        .execute(&mut c)
                        .await
                        .unwrap();
                }
            }
        }
        r.restart(nabo_server::relay::Limits::default())
            .await
            .unwrap();
        assert!(
            r.storage()
                .legacy_subject_keys(10)
                .await
                .unwrap()
                .is_empty(),
            "{backend:?}"
        );
        let (_, keys) = get(&r, "volunteer1", &reg.to_string()).await;
        assert_eq!(
            keys["keys"][child.as_str()],
            b64(key.as_bytes()).as_str(),
            "{backend:?}"
        );
        let stored = r
            .storage()
            .subject_key(&"vestbyen".parse().unwrap(), child.as_str())
            .await
            .unwrap()
            .unwrap();
        assert!(
            !contains(&stored.bytes, key.as_bytes()),
            "{backend:?}: wrapped"
        );
        r.running.unwrap().shutdown().await;
    }
}

/// `kek rotate` re-wraps every key under a new KEK and keeps the old one readable; `kek
/// retire` drops it once nothing uses it. A relay with the wrong KEK reports the keys as
/// unavailable (503), never as missing.
#[tokio::test(flavor = "multi_thread")]
async fn the_kek_rotates_and_a_lost_kek_is_an_error_not_an_absence() {
    let mut r = relay(Backend::Sqlite).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await.to_string();
    let (_, before) = get(&r, "central", &reg).await;
    r.stop().await;
    let kek = r.kek_path();
    let old_ring = std::fs::read_to_string(&kek).unwrap();
    let run = |args: &[&str]| {
        run_ok(
            std::process::Command::new(env!("CARGO_BIN_EXE_nabo-server"))
                .arg("--data-dir")
                .arg(r.dir.path())
                .arg("--database-url")
                .arg(&r.database_url)
                .arg("--key-file")
                .arg(&kek)
                .args(args),
        )
    };
    let said = run(&["kek", "rotate"]);
    assert!(said.contains("subject keys re-wrapped"), "{said}");
    let ring = nabo_server::keys::Keyring::parse(&std::fs::read_to_string(&kek).unwrap(), 32, true)
        .unwrap();
    let ids: Vec<String> = ring.ids().map(str::to_owned).collect();
    assert_eq!(ids.len(), 2, "the old KEK stays readable");
    let storage = nabo_server::storage::SqliteStorage::connect(&r.database_url)
        .await
        .unwrap();
    use nabo_server::storage::Storage;
    assert_eq!(
        storage.subject_key_keks().await.unwrap(),
        vec![ids[0].clone()],
        "every key re-wrapped"
    );
    storage.close().await;
    let said = run(&["kek", "retire"]);
    assert!(said.contains(&ids[1]), "{said}");
    let ring = nabo_server::keys::Keyring::parse(&std::fs::read_to_string(&kek).unwrap(), 32, true)
        .unwrap();
    assert_eq!(ring.ids().collect::<Vec<_>>(), vec![ids[0].as_str()]);
    r.restart(nabo_server::relay::Limits::default())
        .await
        .unwrap();
    let (status, after) = get(&r, "central", &reg).await;
    assert_eq!(status, 200);
    assert_eq!(after, before, "the same keys after rotation");
    r.stop().await;
    // The old KEK alone (say, an old copy of the key file) opens nothing now.
    std::fs::write(&kek, old_ring).unwrap();
    r.restart(nabo_server::relay::Limits::default())
        .await
        .unwrap();
    let (status, body) = get(&r, "central", &reg).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "storage_unavailable");
    r.running.unwrap().shutdown().await;
}
