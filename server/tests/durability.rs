//! Nothing acknowledged is lost: SIGKILL after the relay acknowledged changes; storage that
//! fails mid-write or mid-read fails closed; graceful shutdown; backup and restore; and what a
//! reconnect costs with sync state kept per device.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use automerge::sync::State;
use automerge::{Automerge, ReadDoc};
use common::*;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay, fresh_database};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread")]
async fn changes_the_relay_acknowledged_survive_sigkill() {
    for backend in Backend::all() {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh_database(backend, dir.path()).await.unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let ws = format!("ws://127.0.0.1:{port}/sync");
        let mut relay = spawn_relay(dir.path(), &db, port, true);
        wait_healthy(&base).await;
        let reg = central_doc(&base, "register", "Lektiecaféen").await;
        if backend == Backend::Postgres {
            // Make every stored change take 200 ms: a relay that acknowledged before storing
            // would be killed with acknowledged changes still in flight.
            let mut c = sqlx::PgConnection::connect(&db).await.unwrap();
            sqlx::query("CREATE FUNCTION nabo_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$").execute(&mut c).await.unwrap();
            sqlx::query("CREATE TRIGGER nabo_slow BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION nabo_slow()").execute(&mut c).await.unwrap();
        }
        let mut written = Vec::new();
        for (u, user) in ["volunteer1", "volunteer2", "central"]
            .into_iter()
            .enumerate()
        {
            let t = client::login(&base, user, PASSWORD)
                .await
                .unwrap()
                .access_token;
            let mut c = Client::connect(&ws, &t, Some(user)).await.unwrap();
            let (end, mut doc, mut state) = fetch(&mut c, reg).await;
            assert_eq!(end, SyncEnd::Synced);
            for i in 0..10 {
                let value = scribble_key(&mut doc, u * 10 + i);
                // Synced = the relay sent heads that include the change: it is stored.
                assert_eq!(
                    c.sync(reg, &mut doc, &mut state, false).await.unwrap(),
                    SyncEnd::Synced
                );
                written.push(value);
            }
        }
        relay.kill().unwrap(); // SIGKILL
        relay.wait().unwrap();
        let mut relay = spawn_relay(dir.path(), &db, port, false);
        wait_healthy(&base).await;
        let t = client::login(&base, "central", PASSWORD)
            .await
            .unwrap()
            .access_token;
        let mut fresh = Client::connect(&ws, &t, None).await.unwrap();
        let (end, doc, _) = fetch(&mut fresh, reg).await;
        assert_eq!(end, SyncEnd::Synced);
        for v in &written {
            assert!(
                has_key(&doc, v),
                "{backend:?}: change {v:?} was acknowledged but is lost"
            );
        }
        relay.kill().unwrap();
        relay.wait().unwrap();
    }
}

/// A roll-call mark the relay's rules accept from every user here: the `n`-th
/// `<session>/<participant>` of the register set to a status it does not have. Returns the
/// key and the status.
fn scribble_key(doc: &mut Automerge, n: usize) -> (String, &'static str) {
    use automerge::transaction::Transactable;
    let keys = |c: &str| -> Vec<String> {
        let (_, o) = doc.get(automerge::ROOT, c).unwrap().unwrap();
        doc.keys(&o).collect()
    };
    let participants = keys("participants");
    let pairs: Vec<String> = keys("sessions")
        .iter()
        .flat_map(|s| participants.iter().map(move |p| format!("{s}/{p}")))
        .collect();
    let key = pairs[n % pairs.len()].clone();
    let (_, att) = doc.get(automerge::ROOT, "attendance").unwrap().unwrap();
    let status = ["present", "absent", "excused"]
        .into_iter()
        .find(|s| !has_key(doc, &(key.clone(), s)))
        .unwrap();
    let mut tx = doc.transaction();
    tx.put(&att, key.as_str(), status).unwrap();
    tx.commit();
    (key, status)
}

/// A key in the register's `info` (central staff's to change).
fn office_note(doc: &mut Automerge, key: &str) {
    use automerge::transaction::Transactable;
    let (_, info) = doc.get(automerge::ROOT, "info").unwrap().unwrap();
    let mut tx = doc.transaction();
    tx.put(&info, key, true).unwrap();
    tx.commit();
}

fn has_office_note(doc: &Automerge, key: &str) -> bool {
    let Some((_, info)) = doc.get(automerge::ROOT, "info").unwrap() else {
        return false;
    };
    doc.get(&info, key).unwrap().is_some()
}

fn has_key(doc: &Automerge, (key, status): &(String, &str)) -> bool {
    let Some((_, att)) = doc.get(automerge::ROOT, "attendance").unwrap() else {
        return false;
    };
    matches!(doc.get(&att, key.as_str()).unwrap(), Some((automerge::Value::Scalar(s), _)) if s.as_str() == Some(status))
}

async fn inject(r: &TestRelay, on: bool) {
    match r.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&r.database_url)
                .await
                .unwrap();
            let sql = if on {
                "CREATE TRIGGER nabo_fail BEFORE INSERT ON chunks BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            } else {
                "DROP TRIGGER nabo_fail"
            };
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&r.database_url).await.unwrap();
            if on {
                sqlx::query("CREATE FUNCTION nabo_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$").execute(&mut c).await.unwrap();
                sqlx::query("CREATE TRIGGER nabo_fail BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION nabo_fail()").execute(&mut c).await.unwrap();
            } else {
                sqlx::query("DROP TRIGGER nabo_fail ON chunks")
                    .execute(&mut c)
                    .await
                    .unwrap();
                sqlx::query("DROP FUNCTION nabo_fail()")
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn hide_chunks(r: &TestRelay, hide: bool) {
    let sql = if hide {
        "ALTER TABLE chunks RENAME TO chunks_away"
    } else {
        "ALTER TABLE chunks_away RENAME TO chunks"
    };
    match r.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&r.database_url)
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&r.database_url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_database_fails_closed_and_the_client_retries() {
    for backend in Backend::all() {
        let limits = Limits {
            idle_eviction: Duration::from_millis(100),
            ..Limits::default()
        };
        let r = relay_with(backend, limits).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let mut maja = connect(&r, "volunteer1").await;
        let mut office = connect(&r, "central").await;
        let (_, mut doc, mut state) = fetch(&mut maja, reg).await;
        let (_, mut office_doc, mut office_state) = fetch(&mut office, reg).await;
        let before = stored(&r, reg).await.get_heads();

        // The database refuses writes: the peer gets an error and the connection closes.
        inject(&r, true).await;
        let outage = scribble_key(&mut doc, 0);
        let end = maja.sync(reg, &mut doc, &mut state, false).await.unwrap();
        assert_eq!(
            end,
            SyncEnd::Error("storage unavailable; retry".into()),
            "{backend:?}"
        );
        assert_eq!(
            stored(&r, reg).await.get_heads(),
            before,
            "nothing half-stored"
        );
        // The other client never sees the change that was not stored.
        assert_eq!(
            office
                .sync(reg, &mut office_doc, &mut office_state, false)
                .await
                .unwrap(),
            SyncEnd::Synced
        );
        assert!(!has_key(&office_doc, &outage));
        let m = reqwest::get(format!("{}/metrics", r.http()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            m.lines().any(
                |l| l.starts_with("nabo_storage_errors_total{op=\"append\"}") && !l.ends_with(" 0")
            ),
            "storage error counted"
        );

        // The database comes back; the client reconnects and its change goes through.
        inject(&r, false).await;
        let mut maja = connect(&r, "volunteer1").await;
        let mut fresh_state = State::new();
        assert_eq!(
            maja.sync(reg, &mut doc, &mut fresh_state, false)
                .await
                .unwrap(),
            SyncEnd::Synced
        );
        assert!(has_key(&stored(&r, reg).await, &outage));

        // A failing read is an error too, never "document unavailable".
        drop((maja, office));
        // Idle documents are evicted after 100 ms; allow a busy machine some slack.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while r.relay().state.hub.loaded_documents().await > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(r.relay().state.hub.loaded_documents().await, 0);
        hide_chunks(&r, true).await;
        let mut c = connect(&r, "volunteer1").await;
        let (end, _, _) = fetch(&mut c, reg).await;
        assert_eq!(
            end,
            SyncEnd::Error("storage unavailable; retry".into()),
            "{backend:?}: not doc-unavailable"
        );
        hide_chunks(&r, false).await;
        let mut c = connect(&r, "volunteer1").await;
        assert_eq!(fetch(&mut c, reg).await.0, SyncEnd::Synced);
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_shutdown_closes_connections_and_keeps_sync_state() {
    let mut r = relay(Backend::Sqlite).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    let mut maja = connect(&r, "volunteer1").await;
    assert_eq!(fetch(&mut maja, reg).await.0, SyncEnd::Synced);
    let storage = r.storage();
    r.running.take().unwrap().shutdown().await;
    let (code, reason) = maja.closed(Duration::from_secs(5)).await;
    assert_eq!(code, Some(1001));
    assert_eq!(reason.as_deref(), Some("relay is shutting down"));
    let _ = storage;
    r.restart(Limits::default()).await.unwrap();
    assert!(
        r.storage()
            .sync_state(reg, "store-volunteer1")
            .await
            .unwrap()
            .is_some(),
        "the device's sync state was saved"
    );
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let DemoProcess {
        child: mut relay,
        base,
        ws,
        db,
    } = demo_process(dir.path(), &[]).await;
    let reg = central_doc(&base, "register", "Lektiecaféen").await;
    let t = client::login(&base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let mut c = Client::connect(&ws, &t, None).await.unwrap();
    let (_, mut doc, mut state) = fetch(&mut c, reg).await;
    let before_backup = scribble_key(&mut doc, 0);
    assert_eq!(
        c.sync(reg, &mut doc, &mut state, false).await.unwrap(),
        SyncEnd::Synced
    );
    let heads = doc.get_heads();
    // Backup while the relay runs.
    let backup = dir.path().join("backup.sqlite");
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_nabo-server"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--database-url")
            .arg(&db)
            .arg("backup")
            .arg("--out")
            .arg(&backup),
    );
    relay.kill().unwrap();
    relay.wait().unwrap();
    // Restore into a new place and start from it.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = format!("sqlite://{}", dir2.path().join("nabo.sqlite").display());
    let out = Command::new(env!("CARGO_BIN_EXE_nabo-server"))
        .arg("--data-dir")
        .arg(dir2.path())
        .arg("--database-url")
        .arg(&db2)
        .arg("restore")
        .arg("--from")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port2 = free_port();
    let base2 = format!("http://127.0.0.1:{port2}");
    // The backup holds subject keys only wrapped: the restored relay needs the KEK, which
    // was kept apart from it.
    let mut relay2 = spawn_relay_with_kek(
        dir2.path(),
        &dir.path().join("kek.keys"),
        &db2,
        port2,
        false,
        &[],
    );
    wait_healthy(&base2).await;
    let t2 = client::login(&base2, "central", PASSWORD)
        .await
        .expect("users restored")
        .access_token;
    let mut c2 = Client::connect(&format!("ws://127.0.0.1:{port2}/sync"), &t2, None)
        .await
        .unwrap();
    let (end, restored, _) = fetch(&mut c2, reg).await;
    assert_eq!(end, SyncEnd::Synced);
    assert_eq!(restored.get_heads(), heads);
    assert!(has_key(&restored, &before_backup));
    // A file that is not a backup is refused and replaces nothing.
    let junk = dir2.path().join("junk");
    std::fs::write(&junk, b"not a database").unwrap();
    let dir3 = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nabo-server"))
        .arg("--data-dir")
        .arg(dir3.path())
        .arg("restore")
        .arg("--from")
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!dir3.path().join("nabo.sqlite").exists());
    relay2.kill().unwrap();
    relay2.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_after_a_week_offline_costs_about_what_changed() {
    let r = relay(Backend::Sqlite).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    // The phone syncs the register and keeps its sync state (as its local store does).
    let mut phone = connect(&r, "volunteer1").await;
    let (_, mut doc, state) = fetch(&mut phone, reg).await;
    let saved_state = state.encode();
    drop(phone);
    // A week: the office records 40 changes, the phone 10 roll-call marks offline.
    let mut office = connect(&r, "central").await;
    let (_, mut odoc, mut ostate) = fetch(&mut office, reg).await;
    for i in 0..40 {
        office_note(&mut odoc, &format!("office-{i}"));
    }
    assert_eq!(
        office
            .sync(reg, &mut odoc, &mut ostate, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    let phone_heads = doc.get_heads();
    let mut phone_last = None;
    for i in 0..10 {
        phone_last = Some(scribble_key(&mut doc, i));
    }
    let new_changes: usize = doc
        .get_changes(&phone_heads)
        .iter()
        .map(|c| c.raw_bytes().len())
        .sum::<usize>()
        + odoc
            .get_changes(&phone_heads)
            .iter()
            .map(|c| c.raw_bytes().len())
            .sum::<usize>();
    // Reconnect with the saved state.
    let mut phone = connect(&r, "volunteer1").await;
    let mut state = State::decode(&saved_state).unwrap();
    assert_eq!(
        phone.sync(reg, &mut doc, &mut state, false).await.unwrap(),
        SyncEnd::Synced
    );
    let t = phone.traffic;
    let ratio = (t.sent + t.received) as f64 / new_changes as f64;
    println!(
        "reconnect: new changes {new_changes} B, sent {} B, received {} B, ratio {ratio:.2}, round trips {}",
        t.sent, t.received, t.round_trips
    );
    assert!(has_office_note(&doc, "office-39"));
    assert!(has_key(&stored(&r, reg).await, &phone_last.unwrap()));
    // Without the saved state the same reconnect costs the whole history's Bloom filter.
    let full = doc.save().len();
    assert!(
        t.sent + t.received < full,
        "cheaper than the whole document ({full} B)"
    );
    r.running.unwrap().shutdown().await;
}

/// A service manager stops the relay with SIGTERM: it stops accepting, closes its sockets
/// with 1001, saves the sync states and exits 0 (before: killed outright, nothing saved).
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_shuts_the_relay_binary_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let DemoProcess {
        child: mut relay,
        base,
        ws,
        db,
    } = demo_process(dir.path(), &[]).await;
    let reg = central_doc(&base, "register", "Lektiecaféen").await;
    let t = client::login(&base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let mut phone = Client::connect(&ws, &t, Some("phone-1")).await.unwrap();
    assert_eq!(fetch(&mut phone, reg).await.0, SyncEnd::Synced);
    let killed = Command::new("kill")
        .args(["-TERM", &relay.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (code, reason) = phone.closed(Duration::from_secs(10)).await;
    assert_eq!(code, Some(1001));
    assert_eq!(reason.as_deref(), Some("relay is shutting down"));
    let mut exited = None;
    for _ in 0..200 {
        if let Some(status) = relay.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = exited.expect("the relay exits after SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        Client::connect(&ws, &t, None).await.is_err(),
        "nothing listens any more"
    );
    let storage = nabo_server::storage::SqliteStorage::connect(&db)
        .await
        .unwrap();
    use nabo_server::storage::Storage;
    assert!(
        storage.sync_state(reg, "phone-1").await.unwrap().is_some(),
        "the phone's sync state was saved"
    );
}
