//! The sync protocol against the real relay: fetching, editing and live updates between
//! clients, what a missing or invisible document looks like, malformed input, and the limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use automerge::sync::{Message, State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc};
use common::*;
use nabo_core::client::{Client, SyncEnd};
use nabo_core::docs::register::RegisterDoc;
use nabo_core::document::{DocumentId, TypedDoc};
use nabo_core::prelude::*;
use nabo_core::wire::WireMessage;
use nabo_server::relay::Limits;
use nabo_server::testing::Backend;

#[tokio::test(flavor = "multi_thread")]
async fn two_phones_and_the_office_see_one_register() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg_id = doc_id(&r, "register", "Lektiecaféen").await;
        let mut maja = connect(&r, "volunteer1").await;
        let mut office = connect(&r, "central").await;
        let (doc, mut maja_state) = fetch_nabo(&mut maja, reg_id).await;
        let (_, mut office_state) = fetch_nabo(&mut office, reg_id).await;
        let mut reg = RegisterDoc::from_doc(doc).unwrap();
        let view = reg.view().unwrap();
        // 20 children, one of them added a second time on another phone (the review merges it).
        assert_eq!(view.participants.len(), 21, "{backend:?}");
        // Maja takes the roll for today's (or the latest) session.
        let cat = Catalogue::builtin().unwrap();
        let act_id = doc_id(&r, "activity", "Lektiecaféen").await;
        let (act, _) = fetch_nabo(&mut maja, act_id).await;
        let act = ActivityDoc::from_doc(act).unwrap();
        let snap = act.snapshot().unwrap();
        let ctx = RegisterContext {
            catalogue: cat,
            activity: &snap,
            certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
        };
        let (sid, session) = view
            .sessions
            .iter()
            .rfind(|(_, s)| s.current.date <= Timestamp::now().date_dk())
            .unwrap();
        let child = view.participants.keys().next().unwrap().clone();
        let at = Timestamp::from_utc(session.current.date, Time::hm(15, 30).unwrap());
        let me = Author {
            by: By::Volunteer("v-1".parse().unwrap()),
            at,
        };
        // A status other than the one the demo recorded, so the mark is a real change.
        let status = match view
            .attendance
            .get(&(sid.clone(), child.clone()))
            .map(|m| m.current)
        {
            Some(AttendanceStatus::Excused) => AttendanceStatus::Absent,
            _ => AttendanceStatus::Excused,
        };
        reg.mark(&me, ctx, sid, &child, status).unwrap();
        let end = maja
            .sync(
                reg_id,
                reg.doc_mut().automerge_mut(),
                &mut maja_state,
                false,
            )
            .await
            .unwrap();
        assert_eq!(end, SyncEnd::Synced);
        // The office, already connected, receives it without asking.
        let mut office_doc = Automerge::load(&stored(&r, reg_id).await.save()).unwrap();
        let got = office.recv(Duration::from_secs(5)).await;
        assert!(
            matches!(got, Some(WireMessage::Sync { .. })),
            "live update pushed: {got:?}"
        );
        let mut office_doc2 = Automerge::new();
        let _ = &mut office_doc;
        office
            .sync(reg_id, &mut office_doc2, &mut office_state, true)
            .await
            .unwrap();
        let fresh = RegisterDoc::from_doc(
            NaboDoc::from_automerge(stored(&r, reg_id).await, ActorId::random()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            fresh.view().unwrap().attendance[&(sid.clone(), child.clone())].current,
            status
        );
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_document_and_an_invisible_one_get_the_same_answer_and_create_nothing() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let mut maja = connect(&r, "volunteer1").await;
        let before = r
            .storage()
            .documents(&"vestbyen".parse().unwrap())
            .await
            .unwrap()
            .len();
        let missing = DocumentId::random();
        let (end, doc, _) = fetch(&mut maja, missing).await;
        assert_eq!(end, SyncEnd::Unavailable);
        assert!(doc.get_heads().is_empty());
        // Ali's outreach log exists, but a volunteer may not see it.
        let log = doc_id(&r, "outreach", "kvartal").await;
        let (end2, doc2, _) = fetch(&mut maja, log).await;
        assert_eq!(end2, SyncEnd::Unavailable);
        assert!(doc2.get_heads().is_empty());
        // Nothing was stored, and nothing stays in memory.
        assert_eq!(
            r.storage()
                .documents(&"vestbyen".parse().unwrap())
                .await
                .unwrap()
                .len(),
            before
        );
        assert!(r.storage().document(missing).await.unwrap().is_none());
        assert_eq!(
            r.relay().state.hub.loaded_documents().await,
            0,
            "{backend:?}"
        );
        // Many requests for random ids create nothing either.
        for _ in 0..50 {
            assert_eq!(
                fetch(&mut maja, DocumentId::random()).await.0,
                SyncEnd::Unavailable
            );
        }
        assert_eq!(r.relay().state.hub.loaded_documents().await, 0);
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_input_gets_a_specific_error() {
    let r = relay(Backend::Sqlite).await;
    let mut c = connect(&r, "volunteer1").await;
    c.send_raw(b"\xff\x00not cbor".to_vec()).await.unwrap();
    let (code, err) = c.closed(Duration::from_secs(5)).await;
    assert_eq!(code, Some(1008));
    assert!(err.unwrap().starts_with("malformed message"));

    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    let mut c = connect(&r, "volunteer1").await;
    let m = WireMessage::Request {
        sender_id: c.peer_id.clone(),
        target_id: c.relay_id.clone(),
        document_id: reg.to_string(),
        data: vec![0x42, 1, 2, 3],
    };
    c.send(&m).await.unwrap();
    let (code, err) = c.closed(Duration::from_secs(5)).await;
    assert_eq!(code, Some(1008));
    assert_eq!(err.as_deref(), Some("malformed sync message"));

    // A peer id other than the one joined.
    let mut c = connect(&r, "volunteer1").await;
    let m = WireMessage::Request {
        sender_id: "someone-else".into(),
        target_id: c.relay_id.clone(),
        document_id: reg.to_string(),
        data: Message::decode(
            &Automerge::new()
                .generate_sync_message(&mut State::new())
                .unwrap()
                .encode(),
        )
        .unwrap()
        .encode(),
    };
    c.send(&m).await.unwrap();
    let (code, err) = c.closed(Duration::from_secs(5)).await;
    assert_eq!(code, Some(1008));
    assert_eq!(
        err.as_deref(),
        Some("sender id does not match the joined peer")
    );

    // A document id that is not one.
    let mut c = connect(&r, "volunteer1").await;
    let m = WireMessage::Request {
        sender_id: c.peer_id.clone(),
        target_id: c.relay_id.clone(),
        document_id: "not-an-id".into(),
        data: vec![1],
    };
    c.send(&m).await.unwrap();
    assert!(matches!(
        c.recv(Duration::from_secs(5)).await,
        Some(WireMessage::DocUnavailable { .. })
    ));
    r.running.unwrap().shutdown().await;
}

fn limits() -> Limits {
    Limits {
        max_message_bytes: 64 * 1024,
        max_document_bytes: 256 * 1024,
        max_changes_per_message: 50,
        max_connections_per_user: 2,
        max_documents_per_connection: 2,
        max_sync_rounds: 5,
        max_new_documents_per_connection: 2,
        idle_eviction: Duration::from_millis(200),
        compact_after: 8,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_messages_and_documents_are_refused() {
    for backend in Backend::all() {
        let r = relay_with(backend, limits()).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        // A message over the limit.
        let mut c = connect(&r, "volunteer1").await;
        c.send_raw(vec![0u8; 64 * 1024 + 10]).await.unwrap();
        let (code, err) = c.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(1009), "{backend:?}");
        assert_eq!(
            err.as_deref(),
            Some("message too large (limit 65536 bytes)")
        );

        // A document grown over its size limit by messages that each fit the message limit:
        // every message until the limit is stored, the one that crosses it is refused with
        // the document's own error and stores nothing. As central staff, who may write the
        // register's information (a volunteer's write there is refused by the rules first).
        let mut c = connect(&r, "central").await;
        let (mut doc, mut st) = {
            let (end, doc, st) = fetch(&mut c, reg).await;
            assert_eq!(end, SyncEnd::Synced);
            (doc, st)
        };
        let (_, info) = doc.get(automerge::ROOT, "info").unwrap().unwrap();
        let mut messages = 0;
        let mut actors = Vec::new();
        let end = loop {
            let heads_before = stored(&r, reg).await.get_heads();
            // Each message under an actor of its own: only stored changes bind theirs.
            actors.push(automerge::ActorId::random());
            doc.set_actor(actors.last().unwrap().clone());
            // 4 changes of 10 KB of incompressible text: ~40 KB, under the 64 KB message
            // limit and the 50 changes per message.
            for k in 0..4 {
                let i = messages * 4 + k;
                let noise: String = (0..10_000)
                    .map(|j| char::from(b'a' + (((i * 7919 + j * 104729) ^ (j >> 3)) % 26) as u8))
                    .collect();
                let mut tx = doc.transaction();
                tx.put(&info, format!("junk{i}"), noise).unwrap();
                tx.commit();
            }
            let end = c.sync(reg, &mut doc, &mut st, false).await.unwrap();
            messages += 1;
            if end != SyncEnd::Synced {
                assert_eq!(
                    stored(&r, reg).await.get_heads(),
                    heads_before,
                    "nothing of the refused message stored"
                );
                break end;
            }
            assert!(messages < 20, "the document limit was never reached");
        };
        assert_eq!(
            end,
            SyncEnd::Error("document too large (limit 262144 bytes)".into()),
            "{backend:?}"
        );
        let (code, _) = c.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(1009));
        assert!(messages > 1, "earlier messages were within the limit");
        let tenant = r.storage().document(reg).await.unwrap().unwrap().tenant;
        let bound = r.storage().actors(&tenant).await.unwrap();
        let (refused, accepted) = actors.split_last().unwrap();
        for a in accepted {
            assert!(
                bound.contains_key(&a.to_hex_string()),
                "{backend:?}: a stored change binds its actor"
            );
        }
        assert!(
            !bound.contains_key(&refused.to_hex_string()),
            "{backend:?}: the refused message bound its actor"
        );
        let stored_bytes: usize = r
            .storage()
            .chunks(reg)
            .await
            .unwrap()
            .iter()
            .map(Vec::len)
            .sum();
        println!("document limit reached after {messages} messages; {stored_bytes} B stored");
        assert!(stored_bytes <= 256 * 1024);
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_changes_in_one_message_are_refused() {
    let r = relay_with(Backend::Sqlite, limits()).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    let mut c = connect(&r, "volunteer1").await;
    let (end, mut doc, mut st) = fetch(&mut c, reg).await;
    assert_eq!(end, SyncEnd::Synced);
    let heads_before = stored(&r, reg).await.get_heads();
    let (_, info) = doc.get(automerge::ROOT, "info").unwrap().unwrap();
    for i in 0..80 {
        let mut tx = doc.transaction();
        tx.put(&info, "n", i as i64).unwrap();
        tx.commit();
    }
    let end = c.sync(reg, &mut doc, &mut st, false).await.unwrap();
    assert_eq!(
        end,
        SyncEnd::Error("too many changes in one message (limit 50)".into())
    );
    assert_eq!(stored(&r, reg).await.get_heads(), heads_before);
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_and_open_documents_per_connection_are_limited() {
    let r = relay_with(Backend::Sqlite, limits()).await;
    let t = token(&r, "central").await;
    let _a = Client::connect(&r.ws(), &t, None).await.unwrap();
    let _b = Client::connect(&r.ws(), &t, None).await.unwrap();
    let third = Client::connect(&r.ws(), &t, None).await;
    assert!(
        format!("{:?}", third.unwrap_err()).contains("429"),
        "the third connection is refused with 429"
    );

    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = connect(&r, "central").await;
    let docs = nabo_core::client::documents(&r.http(), &t).await.unwrap();
    let ids: Vec<DocumentId> = docs
        .iter()
        .take(3)
        .map(|d| DocumentId::parse(d["url"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(fetch(&mut c, ids[0]).await.0, SyncEnd::Synced);
    assert_eq!(fetch(&mut c, ids[1]).await.0, SyncEnd::Synced);
    assert_eq!(
        fetch(&mut c, ids[2]).await.0,
        SyncEnd::Error("too many documents open on this connection (limit 2)".into())
    );
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_that_never_converges_is_cut_off() {
    let r = relay_with(Backend::Sqlite, limits()).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    // What a poisoned Bloom filter does: the peer's filter claims every change the relay has
    // (false positives), while its heads are ones the relay has never seen. Neither side
    // sends changes, both keep asking.
    let mut c = connect(&r, "volunteer1").await;
    let (_, doc, _) = fetch(&mut c, reg).await;
    let hashes: Vec<automerge::ChangeHash> =
        doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    let mut c = connect(&r, "volunteer1").await;
    let msg = Message {
        heads: vec![automerge::ChangeHash([0x5a; 32])],
        need: vec![],
        have: vec![automerge::sync::Have {
            last_sync: vec![],
            bloom: automerge::sync::BloomFilter::from_hashes(hashes.iter()),
        }],
        changes: automerge::sync::ChunkList::empty(),
        version: automerge::sync::MessageVersion::V1,
        flags: None,
    };
    let mut closed = None;
    for i in 0..20 {
        let data = msg.clone().encode();
        let w = if i == 0 {
            WireMessage::Request {
                sender_id: c.peer_id.clone(),
                target_id: c.relay_id.clone(),
                document_id: reg.to_string(),
                data,
            }
        } else {
            WireMessage::Sync {
                sender_id: c.peer_id.clone(),
                target_id: c.relay_id.clone(),
                document_id: reg.to_string(),
                data,
            }
        };
        if c.send(&w).await.is_err() {
            break;
        }
        match c.recv(Duration::from_secs(2)).await {
            Some(WireMessage::Error { message, .. }) => {
                closed = Some((i, message));
                break;
            }
            Some(_) => {}
            None => break,
        }
    }
    let (round, message) = closed.expect("cut off");
    assert_eq!(message, "sync did not converge within 5 rounds");
    assert!(round <= 7, "cut off after {round} messages");
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_documents_leave_memory_and_metrics_count_the_traffic() {
    let r = relay_with(Backend::Sqlite, limits()).await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    let mut c = connect(&r, "volunteer1").await;
    assert_eq!(fetch(&mut c, reg).await.0, SyncEnd::Synced);
    assert_eq!(r.relay().state.hub.loaded_documents().await, 1);
    drop(c);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while r.relay().state.hub.loaded_documents().await > 0 && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        r.relay().state.hub.loaded_documents().await,
        0,
        "evicted after the idle delay"
    );
    let m = reqwest::get(format!("{}/metrics", r.http()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "nabo_connections",
        "nabo_documents_loaded",
        "nabo_sync_messages_total",
        "nabo_sync_bytes_total",
        "nabo_merge_seconds",
        "nabo_storage_errors_total",
        "nabo_auth_failures_total",
    ] {
        assert!(m.contains(name), "metric {name} missing");
    }
    let ok = reqwest::get(format!("{}/healthz", r.http())).await.unwrap();
    assert_eq!(ok.status(), 200);
    let api: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", r.http()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/documents",
        "/api/v1/documents/{id}/subject-keys",
        "/sync",
        "/healthz",
        "/metrics",
    ] {
        assert!(api["paths"].get(path).is_some(), "{path} documented");
    }
    r.running.unwrap().shutdown().await;
}

/// Phones that send their first changes to many documents at once, on a node that has not
/// yet read the tenant's rules context (the tenant document and the volunteer directory the
/// rules check against), make it read that context once: the other documents' checks wait
/// for the read and use it. Before, every document read it itself; 200 phones at once on
/// a national tenant starved a node's CPU and database pool (docs/benchmarks.md, capacity).
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_first_changes_read_the_tenants_rules_once() {
    for backend in Backend::all() {
        let mut r = relay(backend).await;
        let t = token(&r, "central").await;
        let ids: Vec<DocumentId> = nabo_core::client::documents(&r.http(), &t)
            .await
            .unwrap()
            .iter()
            .filter(|d| ["register", "activity", "outreach"].contains(&d["kind"].as_str().unwrap()))
            .map(|d| DocumentId::parse(d["url"].as_str().unwrap()).unwrap())
            .collect();
        assert!(ids.len() >= 5, "{backend:?}: {} documents", ids.len());
        // A node that has read nothing yet.
        r.restart(Limits::default()).await.unwrap();
        let mut ready = Vec::new();
        for id in &ids {
            let mut c = connect(&r, "central").await;
            let (end, mut doc, state) = fetch(&mut c, *id).await;
            assert_eq!(end, SyncEnd::Synced);
            scribble(&mut doc, "once");
            ready.push((c, *id, doc, state));
        }
        let loads = "nabo_rules_context_loads_total";
        let before = metric(&r.http(), loads).await;
        let gate = std::sync::Arc::new(tokio::sync::Barrier::new(ready.len()));
        let mut tasks = Vec::new();
        for (mut c, id, mut doc, mut state) in ready {
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                gate.wait().await;
                c.sync(id, &mut doc, &mut state, false).await.unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), SyncEnd::Synced, "{backend:?}");
        }
        let read = metric(&r.http(), loads).await - before;
        assert_eq!(
            read,
            1.0,
            "{backend:?}: {} documents changed at once read the rules context {read} times",
            ids.len()
        );
    }
}

/// The relay serves on any [`nabo_server::Listener`] (the seam the deterministic
/// simulation's network plugs into, docs/plans/simulation.md): here on in-memory pipes, with
/// no TCP at all. A plain HTTP request and an answer through one pipe.
#[tokio::test]
async fn the_relay_serves_on_a_listener_that_is_not_tcp() {
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio::sync::{Mutex, mpsc};

    struct Pipes(Mutex<mpsc::Receiver<DuplexStream>>);
    impl nabo_server::Listener for Pipes {
        type Io = DuplexStream;
        async fn accept(&self) -> std::io::Result<(DuplexStream, SocketAddr)> {
            match self.0.lock().await.recv().await {
                Some(pipe) => Ok((pipe, ([10, 0, 0, 2], 40000).into())),
                None => std::future::pending().await,
            }
        }
        fn local_addr(&self) -> std::io::Result<SocketAddr> {
            Ok(([10, 0, 0, 1], 80).into())
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("relay.sqlite").display());
    let storage = std::sync::Arc::new(
        nabo_server::storage::SqliteStorage::connect(&url)
            .await
            .unwrap(),
    );
    let config = nabo_server::Config::new(
        ([127, 0, 0, 1], 9).into(),
        dir.path().to_path_buf(),
        nabo_server::keys::KeySource::File {
            path: dir.path().join("kek.keys"),
            create: true,
        },
    );
    let (tx, rx) = mpsc::channel(1);
    let running = nabo_server::start_on(config, storage, Pipes(Mutex::new(rx)))
        .await
        .unwrap();
    assert_eq!(running.addr, SocketAddr::from(([10, 0, 0, 1], 80)));

    let (mut phone, relay_end) = tokio::io::duplex(64 * 1024);
    tx.send(relay_end).await.unwrap();
    phone
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), phone.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    running.shutdown().await;
}
