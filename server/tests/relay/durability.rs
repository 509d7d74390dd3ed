//! Nothing acknowledged is lost: SIGKILL after the relay acknowledged changes; storage that
//! fails mid-write or mid-read fails closed; graceful shutdown; backup and restore; and what a
//! reconnect costs with sync state kept per device.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;
use std::time::Duration;

use automerge::sync::{State, SyncDoc};
use automerge::{Automerge, ReadDoc};
use common::*;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay, fresh_database};
use sqlx::Connection;

/// A client that writes a change, sends it and waits for the relay to acknowledge it (the
/// relay's heads in a sync message include it: the relay only sends those once the change is
/// stored), then writes the next one; it reconnects whenever the relay is gone and resends
/// what was not acknowledged. Each acknowledgement is reported at once on `acks`.
struct Writer {
    user: &'static str,
    written: Vec<String>,
    acked: Vec<automerge::ChangeHash>,
}

async fn write_until_stopped(
    mut w: Writer,
    ws: String,
    token: String,
    reg: nabo_core::document::DocumentId,
    acks: tokio::sync::mpsc::UnboundedSender<()>,
    all_acked: std::sync::Arc<std::sync::Mutex<Vec<automerge::ChangeHash>>>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Writer {
    use nabo_core::wire::WireMessage;
    let mut doc = Automerge::new();
    let mut pending: Option<automerge::ChangeHash> = None;
    while !*stop.borrow() {
        let Ok(mut c) = Client::connect(&ws, &token, Some(w.user)).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let mut state = State::new();
        loop {
            if *stop.borrow() && pending.is_none() {
                break;
            }
            if pending.is_none() && doc.get(automerge::ROOT, "info").unwrap().is_some() {
                let key = format!("{}-{}", w.user, w.written.len());
                scribble_key(&mut doc, w.written.len());
                w.written.push(key);
                let hash = doc.get_last_local_change().unwrap().hash();
                pending = Some(hash);
            }
            if let Some(m) = doc.generate_sync_message(&mut state) {
                let msg = WireMessage::Sync {
                    sender_id: c.peer_id.clone(),
                    target_id: c.relay_id.clone(),
                    document_id: reg.to_string(),
                    data: m.encode(),
                };
                if c.send(&msg).await.is_err() {
                    break;
                }
            }
            match c.recv(Duration::from_secs(2)).await {
                Some(WireMessage::Sync { data, .. }) => {
                    let m = automerge::sync::Message::decode(&data).unwrap();
                    doc.receive_sync_message(&mut state, m).unwrap();
                }
                Some(WireMessage::Error { .. }) | None => break,
                Some(_) => {}
            }
            // Acknowledged: the change is in what both sides share.
            if let Some(hash) = &pending {
                let unshared = doc.get_changes(&state.shared_heads);
                if !unshared.iter().any(|c| c.hash() == *hash) {
                    w.acked.push(*hash);
                    all_acked.lock().unwrap().push(*hash);
                    let _ = acks.send(());
                    pending = None;
                }
            }
        }
    }
    w
}

/// What the dead relay's database holds of `reg`, read straight from it.
async fn stored_after_death(
    backend: Backend,
    db: &str,
    reg: nabo_core::document::DocumentId,
) -> Automerge {
    use nabo_server::storage::{PgStorage, SqliteStorage, Storage};
    let storage: Box<dyn Storage> = match backend {
        Backend::Sqlite => Box::new(SqliteStorage::connect(db).await.unwrap()),
        Backend::Postgres => Box::new(PgStorage::connect(db).await.unwrap()),
    };
    let chunks = storage.chunks(reg).await.unwrap();
    storage.close().await;
    nabo_core::document::load_automerge(&chunks.concat()).unwrap()
}

/// SIGKILL of the relay process 20 times under load from three clients, each time at the
/// moment a client received an acknowledgement. After each kill, before anyone reconnects
/// (a client would upload again what the relay lost), the dead relay's database must hold
/// every change acknowledged so far. A relay that acknowledged before its store had
/// committed is killed with the change in flight.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_the_moment_of_acknowledgement_loses_nothing() {
    const KILLS: usize = 20;
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
            // Every stored change takes 20 ms more: a wider window for a relay that
            // acknowledged before storing.
            let mut c = sqlx::PgConnection::connect(&db).await.unwrap();
            sqlx::query("CREATE FUNCTION nabo_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END $$").execute(&mut c).await.unwrap();
            sqlx::query("CREATE TRIGGER nabo_slow BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION nabo_slow()").execute(&mut c).await.unwrap();
        }
        let (ack_tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let all_acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut writers = Vec::new();
        for user in ["volunteer1", "volunteer2", "central"] {
            let token = client::login(&base, user, PASSWORD)
                .await
                .unwrap()
                .access_token;
            let w = Writer {
                user,
                written: Vec::new(),
                acked: Vec::new(),
            };
            writers.push(tokio::spawn(write_until_stopped(
                w,
                ws.clone(),
                token,
                reg,
                ack_tx.clone(),
                all_acked.clone(),
                stop.clone(),
            )));
        }
        for _ in 0..KILLS {
            while acks.try_recv().is_ok() {}
            tokio::time::timeout(Duration::from_secs(30), acks.recv())
                .await
                .expect("an acknowledgement after the restart");
            relay.kill().unwrap(); // SIGKILL, the moment a client was told "stored"
            relay.wait().unwrap();
            let acked: Vec<automerge::ChangeHash> = all_acked.lock().unwrap().clone();
            let doc = stored_after_death(backend, &db, reg).await;
            let lost: Vec<_> = acked
                .iter()
                .filter(|h| doc.get_change_by_hash(h).is_none())
                .collect();
            assert!(
                lost.is_empty(),
                "{backend:?}: acknowledged but not stored when the relay died: {lost:?}"
            );
            relay = spawn_relay(dir.path(), &db, port, false);
            wait_healthy(&base).await;
        }
        // One more acknowledgement after the last restart, then stop.
        tokio::time::timeout(Duration::from_secs(30), acks.recv())
            .await
            .unwrap();
        stop_tx.send(true).unwrap();
        let mut written = 0;
        let mut acked = Vec::new();
        for w in writers {
            let w = tokio::time::timeout(Duration::from_secs(60), w)
                .await
                .expect("writers stop")
                .unwrap();
            written += w.written.len();
            acked.extend(w.acked);
        }
        let t = client::login(&base, "central", PASSWORD)
            .await
            .unwrap()
            .access_token;
        let mut fresh = Client::connect(&ws, &t, None).await.unwrap();
        let (end, doc, _) = fetch(&mut fresh, reg).await;
        assert_eq!(end, SyncEnd::Synced);
        let lost: Vec<_> = acked
            .iter()
            .filter(|h| doc.get_change_by_hash(h).is_none())
            .collect();
        println!(
            "sigkill ({backend:?}): {KILLS} kills at an acknowledgement, 3 clients, {written} changes written, {} acknowledged, {} lost",
            acked.len(),
            lost.len()
        );
        assert!(
            lost.is_empty(),
            "{backend:?}: acknowledged but lost: {lost:?}"
        );
        assert!(acked.len() > KILLS);
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

/// The week offline of the reconnect tests, drawn on copies of the phone's and the office's
/// documents (each copy a new actor, as every fetch is) until Automerge's sync protocol will
/// hide the first new change of each side exactly as asked. Each side offers the changes it
/// made since the last sync as a Bloom filter (10 bits per change, 7 probes, so about 0.7 %
/// false positives), and the other side withholds a change the filter claims unless it
/// depends on one it sends: only the first of a chain can be withheld. Change hashes differ
/// from run to run (random actors, times in seconds), so without the draw one run in about
/// seventy took a round trip more (seen in CI as 3 round trips, and reproduced under load
/// with the same filters computed beside it: 2 of 75 runs, both a withheld first change).
/// Returns the phone's document with its 10 roll-call marks (the last one's key too) and the
/// office's with its 40 notes.
fn week_offline(
    phone: &Automerge,
    office: &Automerge,
    hide_offices_first: bool,
    hide_phones_first: bool,
) -> (Automerge, (String, &'static str), Automerge) {
    use automerge::sync::BloomFilter;
    let since = phone.get_heads();
    assert_eq!(
        office.get_heads(),
        since,
        "both start from the relay's heads"
    );
    let new = |d: &Automerge| -> Vec<automerge::ChangeHash> {
        d.get_changes(&since).iter().map(|c| c.hash()).collect()
    };
    for _ in 0..100_000 {
        let (mut p, mut o) = (phone.fork(), office.fork());
        for i in 0..40 {
            office_note(&mut o, &format!("office-{i}"));
        }
        let last = (0..10).map(|i| scribble_key(&mut p, i)).last().unwrap();
        let (ph, oh) = (new(&p), new(&o));
        let phone_bloom = BloomFilter::from_hashes(ph.iter());
        let office_bloom = BloomFilter::from_hashes(oh.iter());
        if phone_bloom.contains_hash(&oh[0]) == hide_offices_first
            && office_bloom.contains_hash(&ph[0]) == hide_phones_first
        {
            return (p, last, o);
        }
    }
    panic!("no week offline with the Bloom filters asked for in 100,000 draws");
}

/// A phone that synced the register and kept its sync state reconnects after a week in which
/// the office made 40 changes and it made 10 offline. Returns the reconnect's traffic, the
/// new changes' size in bytes, and the phone's document (with a copy as it was before the
/// reconnect) for the caller's further checks.
async fn reconnect_after_a_week(
    r: &TestRelay,
    hide_offices_first: bool,
    hide_phones_first: bool,
) -> (client::Traffic, usize, Automerge, Automerge) {
    let reg = doc_id(r, "register", "Lektiecaféen").await;
    // The phone syncs the register and keeps its sync state (as its local store does).
    let mut phone = connect(r, "volunteer1").await;
    let (_, doc, state) = fetch(&mut phone, reg).await;
    let saved_state = state.encode();
    drop(phone);
    let mut office = connect(r, "central").await;
    let (_, odoc, mut ostate) = fetch(&mut office, reg).await;
    let phone_heads = doc.get_heads();
    let (mut doc, phone_last, mut odoc) =
        week_offline(&doc, &odoc, hide_offices_first, hide_phones_first);
    assert_eq!(
        office
            .sync(reg, &mut odoc, &mut ostate, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    let new_changes: usize = [&doc, &odoc]
        .iter()
        .flat_map(|d| d.get_changes(&phone_heads))
        .map(|c| c.raw_bytes().len())
        .sum();
    let before = doc.clone();
    // Reconnect with the saved state.
    let mut phone = connect(r, "volunteer1").await;
    let mut state = State::decode(&saved_state).unwrap();
    assert_eq!(
        phone.sync(reg, &mut doc, &mut state, false).await.unwrap(),
        SyncEnd::Synced
    );
    assert!(has_office_note(&doc, "office-39"));
    let at_relay = stored(r, reg).await;
    assert!(has_key(&at_relay, &phone_last));
    assert_eq!(doc.get_heads(), at_relay.get_heads());
    (phone.traffic, new_changes, doc, before)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_after_a_week_offline_costs_about_what_changed() {
    let r = relay(Backend::Sqlite).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    let (t, new_changes, doc, mut forgetful) = reconnect_after_a_week(&r, false, false).await;
    let ratio = (t.sent + t.received) as f64 / new_changes as f64;
    println!(
        "reconnect: new changes {new_changes} B, sent {} B, received {} B, ratio {ratio:.2}, round trips {}",
        t.sent, t.received, t.round_trips
    );
    assert!(
        ratio <= 1.2,
        "a reconnect costs about what changed (ratio {ratio:.2})"
    );
    // One round trip to exchange heads and changes, one to confirm. More is a protocol
    // regression (a Bloom filter's false positive, the one other cause, is drawn away).
    assert_eq!(t.round_trips, 2, "round trips with the kept sync state");
    let full = doc.save().len();
    assert!(
        t.sent + t.received < full,
        "cheaper than the whole document ({full} B)"
    );
    // The same phone without its kept state (a fresh sync state), measured for comparison.
    // The relay has the phone's 10 changes by now, so this is download-only and not cheaper
    // or dearer by construction: nothing is asserted about it beyond completing.
    let mut phone = connect(&r, "volunteer1").await;
    assert_eq!(
        phone
            .sync(reg, &mut forgetful, &mut State::new(), false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
    let f = phone.traffic;
    println!(
        "reconnect without kept state (download only): sent {} B, received {} B, round trips {}",
        f.sent, f.received, f.round_trips
    );
    assert!(has_office_note(&forgetful, "office-39"));
    r.running.unwrap().shutdown().await;
}

/// A change withheld for a Bloom filter's false positive (Automerge's sync protocol, about
/// 0.7 % of first changes) is asked for and sent: nothing is lost, and it costs a few bytes.
/// Each side's case is drawn on purpose (`week_offline`). The phone's change hidden costs a
/// round trip (the relay asks for it); the office's costs a message but no round trip (the
/// phone asks for it along with its own changes, and its last message, its new heads, needs
/// no answer). Both at once (about 1 in 20,000 reconnects) took 3 round trips when tried,
/// but about 100 s of draws, so it is not part of the suite.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_a_bloom_filter_hid_is_asked_for_and_not_lost() {
    for (offices, phones, trips) in [(false, true, 3), (true, false, 2)] {
        let r = relay(Backend::Sqlite).await;
        let (t, new_changes, _, _) = reconnect_after_a_week(&r, offices, phones).await;
        println!(
            "hidden first change of the office {offices}, of the phone {phones}: new changes {new_changes} B, sent {} B, received {} B, round trips {}",
            t.sent, t.received, t.round_trips
        );
        assert_eq!(
            t.round_trips, trips,
            "office's hidden {offices}, phone's {phones}"
        );
        let ratio = (t.sent + t.received) as f64 / new_changes as f64;
        assert!(
            ratio <= 1.2,
            "a hidden change costs a few bytes (ratio {ratio:.2})"
        );
        r.running.unwrap().shutdown().await;
    }
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

/// A connection cut in the middle of a sync message: the relay receives the frame's header
/// and half its payload, then either the network drops (both sides closed) or the phone is
/// killed mid message (its socket goes quiet, then away). On both backends: the relay stores
/// nothing of the half message, keeps serving others, and the phone's retry over a new
/// connection (with the sync state it kept) stores every change.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_cut_mid_frame_stores_nothing_and_the_retry_stores_everything() {
    use nabo_server::testing::{Cut, CutProxy};
    for backend in Backend::all() {
        for mode in [Cut::DropBoth, Cut::WaitForClient] {
            let r = relay(backend).await;
            let reg = doc_id(&r, "register", "Lektiecaféen").await;
            let mut c = connect(&r, "volunteer1").await;
            let (_, mut doc, state) = fetch(&mut c, reg).await;
            drop(c);
            let saved_state = state.encode();
            let before = stored(&r, reg).await.get_heads();
            // A week of offline work, sent as one message of some kilobytes.
            const CHANGES: usize = 200;
            let synced_heads = doc.get_heads();
            for i in 0..CHANGES {
                scribble_key(&mut doc, i);
            }
            let hashes: Vec<automerge::ChangeHash> = doc
                .get_changes(&synced_heads)
                .iter()
                .map(|c| c.hash())
                .collect();
            let offline = doc.clone();
            let mut proxy = CutProxy::start(r.addr.unwrap(), 4096, mode).await.unwrap();
            let t = token(&r, "volunteer1").await;
            let url = format!("ws://{}/sync", proxy.addr);
            let mut c = Client::connect(&url, &t, Some("store-volunteer1"))
                .await
                .unwrap();
            let mut st = State::decode(&saved_state).unwrap();
            let phone = tokio::spawn(async move {
                let _ = c.sync(reg, &mut doc, &mut st, false).await;
            });
            let frame = proxy
                .cut(Duration::from_secs(20))
                .await
                .expect("the big message was cut");
            tokio::time::sleep(Duration::from_millis(300)).await;
            phone.abort(); // the phone is killed (or gives up on the dropped connection)
            let _ = phone.await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let after_cut = stored(&r, reg).await;
            assert_eq!(
                after_cut.get_heads(),
                before,
                "{backend:?} {mode:?}: half a message changed the stored document"
            );
            // The relay still serves others.
            let mut other = connect(&r, "central").await;
            let (end, _, _) = fetch(&mut other, reg).await;
            assert_eq!(
                end,
                SyncEnd::Synced,
                "{backend:?} {mode:?}: relay still serves"
            );
            // The phone retries with what it kept.
            let mut retry = offline;
            let mut c = connect(&r, "volunteer1").await;
            let mut st = State::decode(&saved_state).unwrap();
            assert_eq!(
                c.sync(reg, &mut retry, &mut st, false).await.unwrap(),
                SyncEnd::Synced
            );
            let doc = stored(&r, reg).await;
            let kept = hashes
                .iter()
                .filter(|h| doc.get_change_by_hash(h).is_some())
                .count();
            println!(
                "cut mid frame ({backend:?}, {mode:?}): frame of {} B cut after {} B; stored after the cut: 0 of {CHANGES}; after the retry: {kept} of {CHANGES}",
                frame.payload, frame.forwarded
            );
            assert_eq!(
                kept, CHANGES,
                "{backend:?} {mode:?}: the retry stores everything"
            );
            r.running.unwrap().shutdown().await;
        }
    }
}
