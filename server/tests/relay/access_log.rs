//! The access log (ADR 0024): the pages, the API and phones' syncs are logged with who, when,
//! which subject and why, never a name; a data subject's extract as a page, CSV and print;
//! the hash chain verified by the command and the page, naming an entry altered in the
//! database; appends from two nodes at once keep one chain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use automerge::ActorId;
use common::*;
use nabo_core::access_log::{Access, AccessKind, Entry, Purpose};
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::prelude::*;

use nabo_server::testing::{Backend, TestRelay};

const TENANT: &str = "vestbyen";

fn tenant() -> TenantId {
    TENANT.parse().unwrap()
}

async fn entries(r: &TestRelay) -> Vec<Entry> {
    r.storage()
        .access_entries(&tenant(), 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect()
}

async fn user_id(r: &TestRelay, username: &str) -> String {
    r.storage()
        .user_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A session of the café's register with named children marked, and those children.
async fn session_with_children(r: &TestRelay, reg: DocumentId) -> (SessionId, Vec<ParticipantId>) {
    let doc = RegisterDoc::from_doc(
        NaboDoc::from_automerge(stored(r, reg).await, ActorId::random()).unwrap(),
    )
    .unwrap();
    let view = doc.view().unwrap();
    let (sid, _) = view
        .attendance
        .keys()
        .next()
        .expect("the demo register has marks");
    let children = view
        .attendance
        .keys()
        .filter(|(s, _)| s == sid)
        .map(|(_, p)| p.clone())
        .collect();
    (sid.clone(), children)
}

/// Every name the demo shows: the children's (opened with the keys) and the logins'.
async fn demo_names(r: &TestRelay, reg: DocumentId) -> Vec<String> {
    use base64::Engine;
    let view = RegisterDoc::from_doc(
        NaboDoc::from_automerge(stored(r, reg).await, ActorId::random()).unwrap(),
    )
    .unwrap()
    .view()
    .unwrap();
    let keys: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/documents/{reg}/subject-keys", r.http()))
        .bearer_auth(token(r, "central").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names = Vec::new();
    for (subject, key) in keys["keys"].as_object().unwrap() {
        let key = base64::engine::general_purpose::STANDARD
            .decode(key.as_str().unwrap())
            .unwrap();
        let key = nabo_core::seal::SubjectKey::from_bytes(&key).unwrap();
        let pid: ParticipantId = subject.parse().unwrap();
        if let Some(label) = &view.participants[&pid].current.label
            && let Ok(name) = nabo_core::seal::open(&key, subject, label)
        {
            names.push(name);
        }
    }
    assert!(!names.is_empty(), "the demo children have names");
    for u in r.storage().users(&tenant()).await.unwrap() {
        names.push(u.display_name);
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_api_and_syncs_are_logged_by_id_and_purpose_and_extracted_per_subject() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let (sid, children) = session_with_children(&r, reg).await;
        let child = children[0].clone();
        let central = user_id(&r, "central").await;
        let before = entries(&r).await.len();

        // Central staff open the session page: one read per child shown, by login id.
        let web = Browser::login(&r, "central").await;
        web.text(&format!("/registre/{reg}/moeder/{sid}")).await;
        let log = entries(&r).await;
        let reads: Vec<&Entry> = log[before..]
            .iter()
            .filter(|e| e.kind == "read" && e.document.as_deref() == Some(&reg.to_string()))
            .collect();
        for c in &children {
            let e = reads
                .iter()
                .find(|e| e.subject.as_deref() == Some(c.as_str()))
                .unwrap_or_else(|| panic!("{backend:?}: no read of {c}"));
            assert_eq!(e.user_id, central);
            assert_eq!(e.purpose, "review");
            assert_eq!(e.device_id, None);
        }

        // A phone's sync: once per connection and document, however many messages.
        let volunteer = user_id(&r, "volunteer1").await;
        let syncs = |log: &[Entry]| {
            log.iter()
                .filter(|e| {
                    e.kind == "sync"
                        && e.user_id == volunteer
                        && e.document.as_deref() == Some(&reg.to_string())
                })
                .count()
        };
        let mut phone = connect(&r, "volunteer1").await;
        let (_, mut doc, _) = fetch(&mut phone, reg).await;
        // Fresh sync states: each round trips messages again on the same connection.
        for _ in 0..2 {
            let mut state = automerge::sync::State::new();
            phone.sync(reg, &mut doc, &mut state, false).await.unwrap();
        }
        let sent = phone.traffic.messages_sent;
        assert!(sent >= 3, "{backend:?}: {sent} messages");
        let log = entries(&r).await;
        assert_eq!(syncs(&log), 1, "{backend:?}: one entry per sync session");
        let e = log.iter().rev().find(|e| e.kind == "sync").unwrap();
        assert_eq!(
            (e.subject.as_deref(), e.purpose.as_str()),
            (None, "activity")
        );
        drop(phone);
        let mut again = connect(&r, "volunteer1").await;
        fetch(&mut again, reg).await;
        assert_eq!(syncs(&entries(&r).await), 2, "{backend:?}: a new session");

        // The API: the keys answer opens the names, logged like the register's sync.
        let n = entries(&r).await.len();
        demo_names(&r, reg).await;
        let log = entries(&r).await;
        assert!(
            log[n..].iter().any(|e| e.kind == "read"
                && e.purpose == "activity"
                && e.document.as_deref() == Some(&reg.to_string())),
            "{backend:?}: the keys answer is logged"
        );

        // The log never holds a name.
        let names = demo_names(&r, reg).await;
        for e in entries(&r).await {
            let text = format!("{e:?}");
            for name in &names {
                assert!(
                    !text.contains(name.as_str()),
                    "{backend:?}: {name} in {text}"
                );
            }
        }

        // The extract: only central staff.
        for user in ["outreach1", "bestyrelse"] {
            let other = Browser::login(&r, user).await;
            let status = other.get(&format!("/indsigt?emne={child}")).await.status();
            assert_eq!(status, 403, "{backend:?} {user}");
        }
        let page = web.text(&format!("/indsigt?emne={child}")).await;
        assert!(page.contains("Loggen er intakt"), "{backend:?}: {page}");
        assert!(page.contains("Gennemgang og kvalitetssikring"));
        assert!(page.contains("Synkronisering til telefon"));
        assert!(page.contains("Afvikling af aktiviteten"));
        // Dates and purposes; the employee only where the tenant says so.
        let staff_name = r
            .storage()
            .user(&central)
            .await
            .unwrap()
            .unwrap()
            .display_name;
        let csv = web
            .get(&format!("/indsigt?emne={child}&eksport=csv&tabel=indsigt"))
            .await;
        assert_eq!(csv.status(), 200);
        let csv = csv.text().await.unwrap();
        assert!(csv.contains("Tidspunkt;Handling;Formål"), "{csv}");
        assert!(csv.contains("Den registreredes anmodning"), "{csv}");
        assert!(!csv.contains(&staff_name), "{backend:?}: employee named");
        let form = [
            ("frist-roll-call-names", "12"),
            ("derefter-roll-call-names", "anonymise"),
            ("frist-outreach-notes", "12"),
            ("derefter-outreach-notes", "delete"),
            ("frist-volunteers", "12"),
            ("derefter-volunteers", "anonymise"),
            ("frist-staff", "60"),
            ("derefter-staff", "anonymise"),
            ("frist-reports", "60"),
            ("derefter-reports", "anonymise"),
            ("frist-access-log", "60"),
            ("derefter-access-log", "delete"),
            ("navngiv-medarbejder", "ja"),
        ];
        let saved = web
            .post("/administration/databeskyttelse", &r.http(), &form)
            .await;
        assert_eq!(saved.status(), 303, "{backend:?}");
        let csv = web
            .get(&format!("/indsigt?emne={child}&eksport=csv&tabel=indsigt"))
            .await
            .text()
            .await
            .unwrap();
        assert!(csv.contains(&staff_name), "{backend:?}: {csv}");
        // A period out of range is refused, naming the field.
        let mut bad = form.to_vec();
        bad[0] = ("frist-roll-call-names", "0");
        let refused = web
            .post("/administration/databeskyttelse", &r.http(), &bad)
            .await;
        assert_eq!(refused.status(), 400);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Navne i fremmødelister")
        );
        // So is a maximum offline period out of range (issue 11 item 6).
        let mut bad = form.to_vec();
        bad.push(("max-offline-dage", "0"));
        let refused = web
            .post("/administration/databeskyttelse", &r.http(), &bad)
            .await;
        assert_eq!(refused.status(), 400);
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Dage uden forbindelse")
        );
        let mut good = form.to_vec();
        good.push(("max-offline-dage", "5"));
        let saved = web
            .post("/administration/databeskyttelse", &r.http(), &good)
            .await;
        assert_eq!(saved.status(), 303);
        assert_eq!(
            nabo_server::retention::settings(r.storage().as_ref(), &tenant())
                .await
                .unwrap()
                .max_offline_days,
            5
        );
        // Printable.
        let print = web.text(&format!("/indsigt/udskrift?emne={child}")).await;
        assert!(print.contains("class=\"pakke\""), "{print}");
        assert!(print.contains("Gem som PDF"));
        // Producing and exporting the extract is logged too.
        let log = entries(&r).await;
        assert!(log.iter().any(|e| e.kind == "export"
            && e.purpose == "subject-request"
            && e.subject.as_deref() == Some(child.as_str())));

        let ok = nabo_server::access_log::verify(r.storage().as_ref(), &tenant())
            .await
            .unwrap();
        assert_eq!(ok.checked as usize, entries(&r).await.len());
    }
}

/// Changes entry `seq`'s purpose in the database, as an attacker with the database's
/// password can: the append-only trigger refuses it, so the trigger is dropped first.
macro_rules! alter_with {
    ($conn:ty, $url:expr, $seq:expr, $drop:literal) => {{
        use sqlx::Connection;
        let mut c = <$conn>::connect($url).await.unwrap();
        let update = "UPDATE access_log SET purpose = 'reporting' WHERE seq = $1";
        let refused = sqlx::query(update).bind($seq).execute(&mut c).await;
        assert!(refused.is_err(), "the trigger refuses updates");
        sqlx::query($drop).execute(&mut c).await.unwrap();
        sqlx::query(update)
            .bind($seq)
            .execute(&mut c)
            .await
            .unwrap();
    }};
}

async fn alter(r: &TestRelay, seq: i64) {
    match r.backend {
        Backend::Sqlite => alter_with!(
            sqlx::SqliteConnection,
            &r.database_url,
            seq,
            "DROP TRIGGER access_log_append_only"
        ),
        Backend::Postgres => alter_with!(
            sqlx::PgConnection,
            &r.database_url,
            seq,
            "DROP TRIGGER access_log_append_only ON access_log"
        ),
    }
}

fn verify_command(r: &TestRelay) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nabo-server"))
        .args(["--data-dir"])
        .arg(r.dir.path())
        .args(["--database-url", &r.database_url, "access-log", "verify"])
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_altered_in_the_database_is_named_by_the_command_and_the_page() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let (sid, _) = session_with_children(&r, reg).await;
        let web = Browser::login(&r, "central").await;
        for _ in 0..3 {
            web.text(&format!("/registre/{reg}/moeder/{sid}")).await;
        }
        let log = entries(&r).await;
        assert!(log.len() >= 6, "{backend:?}: {}", log.len());

        let out = verify_command(&r);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{backend:?}: {stdout}");
        assert!(
            stdout.contains(&format!("{TENANT}: intact, {} entries", log.len())),
            "{stdout}"
        );

        let victim = log[log.len() / 2].seq;
        alter(&r, victim).await;

        let out = verify_command(&r);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{backend:?}: the command fails");
        assert!(
            stdout.contains(&format!("BROKEN at entry {victim}")),
            "{backend:?}: {stdout}"
        );
        assert!(stderr.contains(&format!("entry {victim}")), "{stderr}");
        let err = nabo_server::access_log::verify(r.storage().as_ref(), &tenant())
            .await
            .unwrap_err();
        assert!(
            matches!(err, nabo_server::access_log::VerifyError::Broken(ref b) if b.seq() == victim),
            "{err}"
        );
        let child = log.iter().find_map(|e| e.subject.clone()).unwrap();
        let page = web.text(&format!("/indsigt?emne={child}")).await;
        assert!(
            page.contains(&format!("Loggen er brudt ved post nr. {victim}")),
            "{backend:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_appending_at_once_keep_one_linear_chain() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        // Two more connection pools on the same database: two relay nodes.
        let nodes = [
            nabo_server::storage::open(&r.database_url).await.unwrap(),
            nabo_server::storage::open(&r.database_url).await.unwrap(),
        ];
        let before = entries(&r).await.len();
        let mut tasks = Vec::new();
        for (n, node) in nodes.iter().enumerate() {
            for i in 0..40 {
                let node = node.clone();
                tasks.push(tokio::spawn(async move {
                    let a = Access {
                        subject: Some(format!("subject-{n}-{i}")),
                        document: None,
                        kind: AccessKind::Read,
                        purpose: Purpose::Review,
                    };
                    node.append_access(
                        &tenant(),
                        1_000 + i,
                        &format!("node{n}"),
                        None,
                        &[a.clone(), a],
                    )
                    .await
                }));
            }
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let log = entries(&r).await;
        assert_eq!(log.len() - before, 2 * 40 * 2, "{backend:?}: none lost");
        let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=log.len() as i64).collect::<Vec<_>>());
        let ok = nabo_server::access_log::verify(r.storage().as_ref(), &tenant())
            .await
            .unwrap();
        assert_eq!(ok.checked as usize, log.len(), "{backend:?}");
        for node in nodes {
            node.close().await;
        }
    }
}
