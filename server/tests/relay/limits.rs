//! Every way the relay closes a connection, each with its code and reason: bytes that
//! declare more than their size allows (the fuzzer's out-of-memory input sent as a sync
//! message), the protocol's own rules (version, frame type, join), documents being created
//! per connection, a damaged stored document, and a client too slow to read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use automerge::ReadDoc;
use automerge::sync::{ChunkList, Message, MessageVersion};
use automerge::transaction::Transactable;
use common::*;
use futures_util::{SinkExt, StreamExt};
use nabo_core::client::{Client, SyncEnd};
use nabo_core::document::DocumentId;
use nabo_core::wire::{PeerMetadata, WireMessage};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use tokio_tungstenite::tungstenite::Message as Ws;

type Socket = nabo_core::client::Socket;

/// The fuzzer's 170-byte change bundle that makes automerge 0.12 allocate 4 GiB
/// (`core/tests/fixtures/fuzz/oom-*`).
fn oom_chunk() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/fuzz");
    let path = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("oom-"))
        .unwrap();
    std::fs::read(path).unwrap()
}

fn sync_with_changes(changes: Vec<u8>) -> Vec<u8> {
    Message {
        heads: vec![],
        need: vec![],
        have: vec![],
        changes: ChunkList::from(vec![changes]),
        version: MessageVersion::V1,
        flags: None,
    }
    .encode()
}

fn doc_msg(c: &Client, id: DocumentId, data: Vec<u8>, request: bool) -> WireMessage {
    let (sender_id, target_id, document_id) =
        (c.peer_id.clone(), c.relay_id.clone(), id.to_string());
    if request {
        WireMessage::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
    } else {
        WireMessage::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_message_declaring_more_than_its_size_allows_is_refused_before_decoding() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let before = stored(&r, reg).await.get_heads();
        // To a stored document (the document task's receive path) …
        let mut c = connect(&r, "volunteer1").await;
        c.send(&doc_msg(&c, reg, sync_with_changes(oom_chunk()), true))
            .await
            .unwrap();
        let (code, err) = c.closed(Duration::from_secs(10)).await;
        assert_eq!(code, Some(1009), "{backend:?}");
        let err = err.unwrap();
        assert!(
            err.starts_with("sync message: columns declare more than"),
            "{err}"
        );
        // … and as the first message of a document being created (the connection's path).
        let mut c = connect(&r, "volunteer1").await;
        c.send(&doc_msg(
            &c,
            DocumentId::random(),
            sync_with_changes(oom_chunk()),
            false,
        ))
        .await
        .unwrap();
        let (code, err) = c.closed(Duration::from_secs(10)).await;
        assert_eq!(code, Some(1009), "{backend:?}");
        assert!(err.unwrap().contains("columns declare more than"));
        // The relay is alive and the document unchanged.
        let mut c = connect(&r, "volunteer1").await;
        let (end, doc, _) = fetch(&mut c, reg).await;
        assert_eq!(end, SyncEnd::Synced);
        assert_eq!(doc.get_heads(), before);
        r.running.unwrap().shutdown().await;
    }
}

/// A WebSocket to the relay without the protocol's join.
async fn raw_socket(r: &TestRelay, user: &str) -> Socket {
    let req = Client::request(&r.ws(), &token(r, user).await).unwrap();
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

fn join(peer: &str, versions: &[&str]) -> Ws {
    Ws::Binary(
        WireMessage::Join {
            sender_id: peer.into(),
            peer_metadata: PeerMetadata {
                storage_id: None,
                is_ephemeral: Some(true),
            },
            supported_protocol_versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        }
        .encode()
        .into(),
    )
}

/// Reads until the relay closes: the close code and the text of its last `error` message.
async fn close_of(ws: &mut Socket) -> (Option<u16>, Option<String>) {
    let mut error = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Ws::Binary(b)))) => {
                if let Ok(WireMessage::Error { message, .. }) = WireMessage::decode(&b) {
                    error = Some(message);
                }
            }
            Ok(Some(Ok(Ws::Close(f)))) => return (f.map(|f| u16::from(f.code)), error),
            Ok(Some(Ok(_))) => {}
            _ => return (None, error),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_protocols_own_rules_close_with_their_codes() {
    let r = relay(Backend::Sqlite).await;
    // 1002: no protocol version in common.
    let mut ws = raw_socket(&r, "volunteer1").await;
    ws.send(join("p1", &["2"])).await.unwrap();
    assert_eq!(
        close_of(&mut ws).await,
        (
            Some(1002),
            Some("unsupported protocol version; this relay speaks \"1\"".into())
        )
    );
    // 1003: a text frame.
    let mut ws = raw_socket(&r, "volunteer1").await;
    ws.send(Ws::Text("{}".into())).await.unwrap();
    assert_eq!(
        close_of(&mut ws).await,
        (Some(1003), Some("binary CBOR frames only".into()))
    );
    // 1008: a document message before join.
    let mut ws = raw_socket(&r, "volunteer1").await;
    let m = WireMessage::Request {
        sender_id: "p1".into(),
        target_id: "relay".into(),
        document_id: DocumentId::random().to_string(),
        data: vec![],
    };
    ws.send(Ws::Binary(m.encode().into())).await.unwrap();
    assert_eq!(
        close_of(&mut ws).await,
        (Some(1008), Some("send join first".into()))
    );
    // 1008: an empty peer id, and a second peer id on one connection.
    let mut ws = raw_socket(&r, "volunteer1").await;
    ws.send(join("", &["1"])).await.unwrap();
    assert_eq!(
        close_of(&mut ws).await,
        (Some(1008), Some("invalid peer id".into()))
    );
    let mut ws = raw_socket(&r, "volunteer1").await;
    ws.send(join("p1", &["1"])).await.unwrap();
    ws.send(join("p2", &["1"])).await.unwrap();
    assert_eq!(
        close_of(&mut ws).await,
        (
            Some(1008),
            Some("peer id already bound on this connection".into())
        )
    );
    r.running.unwrap().shutdown().await;
}

fn limits() -> Limits {
    Limits {
        max_new_documents_per_connection: 2,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_being_created_per_connection_are_limited() {
    let r = relay_with(Backend::Sqlite, limits()).await;
    let mut c = connect(&r, "volunteer1").await;
    // An empty sync message for an unknown id starts a document being created (it stays
    // in memory on this connection until its root says what it is).
    let empty = sync_with_changes(Vec::new());
    let empty = {
        let mut m = Message::decode(&empty).unwrap();
        m.changes = ChunkList::empty();
        m.encode()
    };
    for _ in 0..2 {
        c.send(&doc_msg(&c, DocumentId::random(), empty.clone(), false))
            .await
            .unwrap();
        assert!(
            matches!(
                c.recv(Duration::from_secs(5)).await,
                Some(WireMessage::Sync { .. })
            ),
            "the relay answers a document being created"
        );
    }
    c.send(&doc_msg(&c, DocumentId::random(), empty, false))
        .await
        .unwrap();
    let (code, err) = c.closed(Duration::from_secs(5)).await;
    assert_eq!(code, Some(1008));
    assert_eq!(
        err.as_deref(),
        Some("too many documents being created (limit 2)")
    );
    // Nothing was stored.
    let t = token(&r, "central").await;
    let before = nabo_core::client::documents(&r.http(), &t)
        .await
        .unwrap()
        .len();
    assert_eq!(
        r.storage()
            .documents(&"vestbyen".parse().unwrap())
            .await
            .unwrap()
            .len(),
        before
    );
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_stored_document_closes_with_1011_never_unavailable() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let sql = "UPDATE chunks SET bytes = $1 WHERE doc_id = $2";
        match backend {
            Backend::Sqlite => {
                use sqlx::Connection;
                let mut c = sqlx::SqliteConnection::connect(&r.database_url)
                    .await
                    .unwrap();
                sqlx::query(sql)
                    .bind(b"\x85\x6f\x4a\x83garbage".to_vec())
                    .bind(reg.to_string())
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&r.database_url).await.unwrap();
                sqlx::query(sql)
                    .bind(b"\x85\x6f\x4a\x83garbage".to_vec())
                    .bind(reg.to_string())
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
        let mut c = connect(&r, "volunteer1").await;
        let (end, _, _) = fetch(&mut c, reg).await;
        assert_eq!(
            end,
            SyncEnd::Error("stored document is damaged".into()),
            "{backend:?}"
        );
        let (code, _) = c.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(1011));
        r.running.unwrap().shutdown().await;
    }
}

/// A WebSocket whose receive buffer is as small as the kernel allows, so a client that
/// stops reading fills the relay's queue quickly.
async fn slow_reader(r: &TestRelay, user: &str) -> Client {
    let addr = r.relay().addr;
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let tcp = sock.connect(addr).await.unwrap();
    let req = Client::request(&r.ws(), &token(r, user).await).unwrap();
    let (ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .unwrap();
    Client::join(ws, None).await.unwrap()
}

async fn limit_violations(r: &TestRelay, limit: &str) -> u64 {
    let m = reqwest::get(format!("{}/metrics", r.http()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = format!("nabo_limit_violations_total{{limit=\"{limit}\"}}");
    m.lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_too_slow_to_read_is_closed_with_1013() {
    let r = relay_with(
        Backend::Sqlite,
        Limits {
            max_document_bytes: 512 << 20,
            ..Limits::default()
        },
    )
    .await;
    let reg = doc_id(&r, "register", "Lektiecaféen").await;
    // The slow phone fetches the register, then stops reading.
    let mut slow = slow_reader(&r, "volunteer1").await;
    assert_eq!(fetch(&mut slow, reg).await.0, SyncEnd::Synced);
    // The office writes changes of 16 KB one by one; each is relayed to the slow phone.
    let mut office = connect(&r, "central").await;
    office.settle = Duration::from_millis(1);
    let (_, mut doc, mut st) = fetch(&mut office, reg).await;
    let (_, info) = doc.get(automerge::ROOT, "info").unwrap().unwrap();
    let mut written = 0;
    while limit_violations(&r, "outbound_queue").await == 0 {
        assert!(written < 3000, "the relay never gave up on the slow client");
        for _ in 0..20 {
            let noise: String = (0..16_384)
                .map(|j| char::from(b'a' + ((written * 7919 + j * 104_729) % 26) as u8))
                .collect();
            let mut tx = doc.transaction();
            tx.put(&info, "bulk", noise).unwrap();
            tx.commit();
            assert_eq!(
                office.sync(reg, &mut doc, &mut st, false).await.unwrap(),
                SyncEnd::Synced
            );
            written += 1;
        }
    }
    println!("slow client: closed after {written} relayed changes");
    let (code, err) = slow.closed(Duration::from_secs(30)).await;
    assert_eq!(code, Some(1013));
    assert!(
        err.as_deref()
            .is_some_and(|e| e.starts_with("client too slow")),
        "{err:?}"
    );
    r.running.unwrap().shutdown().await;
}

/// The fuzzers' seed register (core/fuzz/seeds).
fn fuzz_register() -> automerge::Automerge {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    nabo_core::document::load_automerge(
        &std::fs::read(root.join("core/fuzz/seeds/load_document/register")).unwrap(),
    )
    .unwrap()
}

/// The sync message of the `sync_message` fuzz input `name` (core/tests/fixtures/fuzz-sync),
/// built as the fuzz target builds it: an even first byte, the rest is the message; an odd
/// one puts the rest, as change data, into the first message of a phone that forked the
/// register.
fn fuzz_sync_message(register: &automerge::Automerge, name: &str) -> Vec<u8> {
    use automerge::sync::{State, SyncDoc};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let input = std::fs::read(root.join("core/tests/fixtures/fuzz-sync").join(name)).unwrap();
    let (&shape, rest) = input.split_first().unwrap();
    if shape % 2 == 0 {
        return rest.to_vec();
    }
    let phone = register
        .fork()
        .with_actor(automerge::ActorId::from([9u8; 16].as_slice()));
    let mut m = phone.generate_sync_message(&mut State::new()).unwrap();
    m.changes = vec![rest.to_vec()].into();
    m.encode()
}

/// The `sync_message` fuzz target's findings of 2026-12-06 (`core/tests/fixtures/fuzz-sync/`),
/// each a message to the fuzzers' seed register that Automerge 0.12 takes and then panics on
/// in what the relay does next, outside its guard, killing the document's task:
/// - `missing-dep`: changes it applies but cannot read back (`get_changes` panics on a
///   dependency missing from its change graph; the relay reads them for the rules and saves
///   them);
/// - `bloom-zero-bits`: a `have` Bloom filter with entries and no bits (the relay's answer
///   divides by zero).
///
/// The receive path now refuses both as malformed.
#[test]
fn the_fuzzers_sync_messages_are_refused_as_malformed() {
    use automerge::sync::State;
    use nabo_server::relay::sync::{Held, HoldBudget, Refused, receive_message};
    let register = fuzz_register();
    let limits = Limits::default();
    for name in ["missing-dep", "bloom-zero-bits"] {
        let bytes = fuzz_sync_message(&register, name);
        let mut doc = register.clone();
        let mut held = Held::new(HoldBudget::new(
            limits.max_held_bytes,
            limits.max_held_changes,
        ));
        let r = receive_message(
            &mut doc,
            &mut State::new(),
            &bytes,
            &mut held,
            limits.max_changes_per_message,
        );
        match r {
            Err(Refused::Close(c)) => assert_eq!(c.code, 1008, "{name}: {}", c.reason),
            Err(other) => panic!("{name}: {other:?}"),
            Ok(_) => panic!("{name}: accepted"),
        }
    }
}

/// Where the two findings above come from, checked on Automerge's own sync path (what any
/// automerge-rs sync server runs): `bloom-zero-bits` panics there too (an upstream bug in
/// `generate_sync_message`, sync/bloom.rs:74, to report to automerge: any peer can crash an
/// automerge-rs server that answers it); `missing-dep` does not (`receive_sync_message` takes
/// the document chunk whole, where the relay loads it and applies its changes, which
/// Automerge 0.12 then cannot read back). When this fails after an Automerge upgrade,
/// upstream has changed: see whether the relay's refusals (`relay::sync::bloom_refusal`,
/// the read-back in `apply`) can go.
#[test]
fn automerges_own_sync_path_panics_on_the_bloom_finding_and_takes_the_other() {
    use automerge::sync::{Message, State, SyncDoc};
    let register = fuzz_register();
    let message = |name: &str| Message::decode(&fuzz_sync_message(&register, name)).unwrap();
    // Automerge's own receive and answer, and a read-back of what was applied.
    let own_path = |msg: Message| {
        let mut doc = register.clone();
        let before = doc.get_heads();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut state = State::new();
            doc.receive_sync_message(&mut state, msg).unwrap();
            let applied = doc.get_changes(&before).len();
            let _ = doc.generate_sync_message(&mut state);
            applied
        }))
    };
    let missing_dep = own_path(message("missing-dep"));
    assert!(
        matches!(missing_dep, Ok(n) if n > 0),
        "missing-dep: Automerge's own path now fails on it (or applies nothing)"
    );
    assert!(
        own_path(message("bloom-zero-bits")).is_err(),
        "bloom-zero-bits: Automerge's own sync path no longer panics (fixed upstream?)"
    );
}
