//! Relay benchmark: CPU time per merged change against a stock automerge-repo Node relay on
//! the same workload, and memory for many idle connections.
//!
//! `cargo xtask bench` runs it; by hand:
//! `cargo build --release -p nabo-server -p nabo-tests && ulimit -n 65536 &&
//!  target/release/relay-bench --clients 10 --changes 100 --idle 10000` (it starts the
//! `nabo-server` built beside it).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use automerge::Automerge;
use automerge::sync::State;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::document::DocumentId;
use nabo_tests::procs::{self, Relay, node_relay};

use nabo_tests::load::{add_change, idle_connections, marks};
use nabo_tests::procs::{PASSWORD, arg, cpu_seconds, rss_mb};

async fn nabo() -> Relay {
    procs::nabo(&[
        "--max-connections-per-user",
        "100000",
        "--max-connections",
        "100000",
    ])
    .await
}

/// `clients` clients each make `changes` changes to the same document, syncing after each.
async fn workload(
    ws: &str,
    token: &str,
    id: DocumentId,
    keys: &[String],
    clients: usize,
    changes: usize,
) -> usize {
    let mut tasks = Vec::new();
    for c in 0..clients {
        let ws = ws.to_owned();
        let token = token.to_owned();
        let keys = keys.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut cl = Client::connect(&ws, &token, Some(&format!("bench-{c}")))
                .await
                .unwrap();
            cl.settle = Duration::from_millis(20);
            let mut doc = Automerge::new();
            let mut st = State::new();
            assert_eq!(
                cl.sync(id, &mut doc, &mut st, true).await.unwrap(),
                SyncEnd::Synced
            );
            for i in 0..changes {
                let n = c * changes + i;
                add_change(&mut doc, &keys[n % keys.len()], n / keys.len() + c);
                let end = cl.sync(id, &mut doc, &mut st, false).await.unwrap();
                assert_eq!(end, SyncEnd::Synced, "client {c} change {i}");
            }
            changes
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap();
    }
    n
}

#[tokio::main]
async fn main() {
    let clients = arg("--clients", 10);
    let changes = arg("--changes", 100);
    let idle = arg("--idle", 10_000);
    println!(
        "relay benchmark: {clients} clients × {changes} changes to one register; {idle} idle connections\n"
    );

    // Nabo: CPU per merged change.
    let relay = nabo().await;
    let base = relay.http();
    let ws = relay.ws();
    let token = client::login(&base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let docs = client::documents(&base, &token).await.unwrap();
    let id = DocumentId::parse(
        docs.iter().find(|d| d["kind"] == "register").unwrap()["url"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut seed = Client::connect(&ws, &token, None).await.unwrap();
    let mut register = Automerge::new();
    seed.sync(id, &mut register, &mut State::new(), true)
        .await
        .unwrap();
    let keys = marks(&register);
    let pid = relay.child.id();
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let n = workload(&ws, &token, id, &keys, clients, changes).await;
    let nabo_wall = t0.elapsed();
    let nabo_cpu = cpu_seconds(pid) - cpu0;
    drop(relay);

    // The stock Node relay, same workload on the same document.
    let relay = node_relay().await;
    let ws = format!("ws://127.0.0.1:{}", relay.port);
    let mut seed = Client::connect(&ws, "-", None).await.unwrap();
    let mut st = State::new();
    assert_eq!(
        seed.sync(id, &mut register, &mut st, false).await.unwrap(),
        SyncEnd::Synced
    );
    let pid = relay.child.id();
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let m = workload(&ws, "-", id, &keys, clients, changes).await;
    let node_wall = t0.elapsed();
    let node_cpu = cpu_seconds(pid) - cpu0;
    drop(relay);

    let per = |cpu: f64, n: usize| cpu * 1e3 / n as f64;
    println!("| relay | changes | CPU (s) | CPU per change (ms) | wall (s) |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| nabo-server | {n} | {nabo_cpu:.2} | {:.3} | {:.1} |",
        per(nabo_cpu, n),
        nabo_wall.as_secs_f64()
    );
    println!(
        "| automerge-repo 2.5.6 Node relay | {m} | {node_cpu:.2} | {:.3} | {:.1} |",
        per(node_cpu, m),
        node_wall.as_secs_f64()
    );
    println!(
        "\nCPU per merged change, nabo / Node: {:.2} (target ≤ 0.2)\n",
        per(nabo_cpu, n) / per(node_cpu, m)
    );

    // Memory for idle connections.
    let relay = nabo().await;
    let base = relay.http();
    let ws = relay.ws();
    let token = client::login(&base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_mb(relay.child.id());
    let conns = idle_connections(&ws, &token, idle).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_mb(relay.child.id());
    drop(conns);
    drop(relay);
    let node = node_relay().await;
    let ws = format!("ws://127.0.0.1:{}", node.port);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let nbefore = rss_mb(node.child.id());
    let conns = idle_connections(&ws, "-", idle).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let nafter = rss_mb(node.child.id());
    drop(conns);
    println!(
        "| relay | RSS before (MB) | RSS with {idle} idle connections (MB) | per connection (KB) |"
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| nabo-server | {before:.1} | {after:.1} | {:.1} |",
        (after - before) * 1024.0 / idle as f64
    );
    println!(
        "| automerge-repo 2.5.6 Node relay | {nbefore:.1} | {nafter:.1} | {:.1} |",
        (nafter - nbefore) * 1024.0 / idle as f64
    );
}
