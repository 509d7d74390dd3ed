//! Hostile clients against the relay's rules (issue 9, ADR 0013): a volunteer with the stock
//! automerge-repo JavaScript client (tests/js/hostile-changes.mjs) sends one forbidden edit
//! per rule — the activity, the register's metadata, another volunteer's shift, a malformed
//! record, a forged change note, another login's actor id, a planted subject id — on SQLite
//! and PostgreSQL; and a flood of changes with missing dependencies in raw protocol frames
//! against the relay binary, whose memory is measured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use automerge::ActorId;
use automerge::sync::{ChunkList, Message, MessageVersion};
use automerge::transaction::Transactable;
use common::*;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::wire::WireMessage;
use nabo_server::testing::Backend;
use serde_json::Value;

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/js")
}

fn js_available() -> bool {
    let ok = js_dir()
        .join("node_modules/@automerge/automerge-repo")
        .exists()
        && Command::new("node").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("NABO_REQUIRE_JS").is_err(),
            "NABO_REQUIRE_JS is set but node or tests/js/node_modules is missing"
        );
        eprintln!(
            "skipped: node or tests/js/node_modules missing (cargo xtask test installs them)"
        );
    }
    ok
}

/// The `error` messages of one attack, joined.
fn errors(v: &Value) -> String {
    v["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {v}"))
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The attack was refused with an error naming `record` and `reason`, and nothing of it
/// reached the relay (a fresh peer does not read `forged`, what the attack wrote).
fn refused(out: &Value, attack: &str, record: &str, reason: &str, forged: Value) {
    let a = &out[attack];
    let e = errors(a);
    assert!(
        e.contains("refused: ") && e.contains(record) && e.contains(reason),
        "{attack}: the error names {record} and {reason}: {e}"
    );
    assert_ne!(a["stored"], forged, "{attack}: not stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_volunteers_forbidden_edits_are_refused_and_honest_clients_go_on() {
    if !js_available() {
        return;
    }
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let act = doc_id(&r, "activity", "Lektiecaféen").await;
        let out = Command::new("node")
            .args([
                "hostile-changes.mjs",
                &base,
                PASSWORD,
                &format!("automerge:{reg}"),
                &format!("automerge:{act}"),
            ])
            .current_dir(js_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let out: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|_| {
                panic!(
                    "hostile-changes.mjs: {stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        eprintln!("{backend:?}: {out}");

        // Honest before and after: stored, no error.
        for honest in ["honestBefore", "honestAfter"] {
            assert_eq!(errors(&out[honest]), "", "{backend:?} {honest}");
        }
        for honest in ["honestBefore", "honestAfter"] {
            assert_eq!(
                out[honest]["stored"], out[honest]["mark"],
                "{backend:?} {honest}: stored"
            );
        }

        // The activity is read-only for a volunteer: refused by name, never stored.
        refused(
            &out,
            "activity",
            "activity",
            "not-permitted",
            "Overtaget af en frivillig".into(),
        );
        refused(
            &out,
            "metadata",
            "info",
            "not-permitted",
            "a-overtaget".into(),
        );
        let shift = format!("shifts/{}", out["shiftKey"].as_str().unwrap());
        refused(&out, "shift", &shift, "not-permitted", true.into());
        let malformed = format!("participants/{}", out["malformedKey"].as_str().unwrap());
        refused(&out, "malformed", &malformed, "malformed", 42.into());
        refused(
            &out,
            "forgedNote",
            "change ",
            "signed by someone other than the sender",
            out["forgedNoteMark"].clone(),
        );
        refused(
            &out,
            "foreignActor",
            "actor ",
            "belongs to another login or device",
            out["foreignActorMark"].clone(),
        );
        // Planting volunteer2's id (a subject whose name the relay keeps sealed) among the
        // participants gets no key: keys are handed out per register they were stored for.
        assert_eq!(out["planted"]["key"], false, "{backend:?}: {out}");

        // The review pages still answer.
        let b = Browser::login(&r, "central").await;
        for p in [
            "/oversigt",
            "/aktiviteter",
            "/gennemgang",
            "/rapporter/maalgrupper",
            "/rapporter/bestyrelse",
        ] {
            b.text(p).await;
        }
        r.running.unwrap().shutdown().await;
    }
}

/// Changes whose dependencies never arrive, 320 MiB of them in raw sync frames from one
/// writer over several connections: each connection holds at most `max_held_bytes` and is
/// closed beyond it, nothing of them is stored or sent to a new reader, and the relay's
/// memory stays bounded (before: RSS 43 → 578 MiB and a ~500 MiB message to every new peer).
#[tokio::test(flavor = "multi_thread")]
async fn changes_with_missing_dependencies_are_held_bounded_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let DemoProcess {
        child: mut relay,
        base,
        ws,
        ..
    } = demo_process(dir.path(), &[]).await;
    let reg = central_doc(&base, "register", "Lektiecaféen").await;
    let t = client::login(&base, "volunteer1", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let mut c = Client::connect(&ws, &t, None).await.unwrap();
    let (end, doc, _) = fetch(&mut c, reg).await;
    assert_eq!(end, SyncEnd::Synced);
    let stored_size = doc.save().len();
    drop(c);

    // A first change the relay never gets, then a chain of large ones on top of it.
    let mut orphan = doc.fork().with_actor(ActorId::random());
    let (_, info) = automerge::ReadDoc::get(&orphan, automerge::ROOT, "info")
        .unwrap()
        .unwrap();
    let mut tx = orphan.transaction();
    tx.put(&info, "missing", "x").unwrap();
    tx.commit();
    let first = orphan.get_heads();
    let chunk: usize = 1 << 20;
    let mut chain: Vec<Vec<u8>> = Vec::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..12 {
        let mut tx = orphan.transaction();
        // Incompressible (xorshift letters), so the bytes on the wire are the bytes held.
        let noise: String = (0..chunk)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect();
        tx.put(&info, "noise", noise).unwrap();
        tx.commit();
    }
    for ch in orphan.get_changes(&first) {
        chain.push(ch.raw_bytes().to_vec());
    }
    let before = peak_rss(relay.id());
    let baseline_rss = rss(relay.id());
    let mut sent = 0usize;
    let mut closed = 0;
    while sent < 320 << 20 {
        let mut c = Client::connect(&ws, &t, None).await.unwrap();
        fetch(&mut c, reg).await;
        for pair in chain.chunks(3) {
            let msg = Message {
                heads: orphan.get_heads(),
                need: vec![],
                have: vec![],
                changes: ChunkList::from(pair.to_vec()),
                version: MessageVersion::V1,
                flags: None,
            };
            let data = msg.encode();
            sent += data.len();
            let w = WireMessage::Sync {
                sender_id: c.peer_id.clone(),
                target_id: c.relay_id.clone(),
                document_id: reg.to_string(),
                data,
            };
            if c.send(&w).await.is_err() {
                break;
            }
        }
        // The relay says why (an error message), sends 1008 and drops the socket. When it
        // drops a socket whose peer is still sending, the kernel may reset it before the
        // close frame is read: then the error message is what the client saw last.
        let (code, reason) = c.closed(Duration::from_secs(10)).await;
        let for_the_budget = reason
            .as_deref()
            .is_some_and(|r| r.contains("waiting for missing dependencies"));
        if code == Some(1008) || (code.is_none() && for_the_budget) {
            closed += 1;
        }
    }
    assert!(closed > 0, "connections beyond the held budget are closed");
    let after = peak_rss(relay.id());
    let grown = after.saturating_sub(before);
    eprintln!(
        "relay peak RSS {} → {} MiB (RSS at start {} MiB) after {} MiB of changes with missing dependencies",
        before >> 20,
        after >> 20,
        baseline_rss >> 20,
        sent >> 20
    );
    assert!(
        grown < 200 << 20,
        "the relay's peak memory grew by {} MiB",
        grown >> 20
    );

    // A new reader gets the document as it was: nothing held was stored or relayed.
    let t2 = client::login(&base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let mut c = Client::connect(&ws, &t2, None).await.unwrap();
    let (end, now, _) = fetch(&mut c, reg).await;
    assert_eq!(end, SyncEnd::Synced);
    assert_eq!(now.get_heads(), doc.get_heads(), "nothing held was stored");
    assert!(now.save().len() < stored_size + (64 << 10));
    // The page answers.
    let resp = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(resp.status(), 200);
    relay.kill().unwrap();
    relay.wait().unwrap();
}

/// The resident memory of a process now (VmRSS), bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap()
        * 1024
}
