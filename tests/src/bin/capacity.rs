//! Capacity figures (issue 13 item 5): merged changes per second with many phones on one
//! node and on two nodes on one database, and the RSS of a node holding many idle connected
//! devices with many stored documents.
//!
//! `cargo xtask capacity` runs it; by hand (after
//! `cargo build --release -p nabo-server -p nabo-tests --bin nabo-server --bin capacity`):
//! `ulimit -n 65536; target/release/capacity --database-url postgres://… [--phones 200]
//!  [--changes 20] [--idle 10000] [--tenants 8] [--state-dir DIR] [--pin]`. Each tenant is the national profile
//! (about 6,450 documents, `nabo-server seed --profile national`); the phones write roll-call
//! marks to the first tenant's registers, a register per phone. Two nodes need PostgreSQL;
//! with SQLite (no URL) only the one-node figures are measured.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use automerge::Automerge;
use automerge::sync::State;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::document::DocumentId;
use nabo_tests::load::{add_change, idle_connections, marks};
use nabo_tests::procs::{Relay, arg, arg_text, cpu_seconds, nabo_node, rss_mb};

const PASSWORD: &str = "capacity-password-2026";

/// Every phone makes `changes` changes to its own register, syncing after each; the phones
/// are spread over `nodes` in turn. A sync the relay does not answer within the client's
/// 5 s is tried again, and a connection the relay closes ("retry", a failing database) or
/// that breaks is opened again, as a phone would; those tries are counted. Returns (changes
/// acknowledged, tries again, wall time).
async fn phones(
    nodes: &[&Relay],
    token: &str,
    registers: &[DocumentId],
    phones: usize,
    changes: usize,
    round: usize,
) -> (usize, Tries, Duration) {
    let mut ready = Vec::new();
    for p in 0..phones {
        let ws = nodes[p % nodes.len()].ws();
        let mut c = connect(&ws, token, p).await;
        let id = registers[p % registers.len()];
        let mut doc = Automerge::new();
        let mut st = State::new();
        assert_eq!(
            c.sync(id, &mut doc, &mut st, true).await.unwrap(),
            SyncEnd::Synced
        );
        let keys = marks(&doc);
        ready.push((c, ws, id, doc, st, keys));
    }
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (p, (mut c, ws, id, mut doc, mut st, keys)) in ready.into_iter().enumerate() {
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut tries = Tries::default();
            for i in 0..changes {
                let n = round * changes + i;
                add_change(&mut doc, &keys[(p + n) % keys.len()], n + p);
                loop {
                    assert!(tries.total() < 1000, "phone {p} change {i}: {tries:?}");
                    match c.sync(id, &mut doc, &mut st, false).await {
                        Ok(SyncEnd::Synced) => break,
                        Ok(SyncEnd::Error(e)) if e == "no answer" => tries.unanswered += 1,
                        // The relay closed the connection (1011 "storage unavailable;
                        // retry", ADR 0025 rule 7) or it broke: reconnect after a pause
                        // and sync again with a fresh sync state, as a phone does.
                        Ok(SyncEnd::Error(e)) if e.contains("retry") => {
                            tries.closed += 1;
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            c = connect(&ws, &token, p).await;
                            st = State::new();
                        }
                        Err(_) => {
                            tries.broken += 1;
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            c = connect(&ws, &token, p).await;
                            st = State::new();
                        }
                        Ok(end) => panic!("phone {p} change {i}: {end:?}"),
                    }
                }
            }
            (changes, tries)
        }));
    }
    let (mut n, mut tries) = (0, Tries::default());
    for t in tasks {
        let (c, r) = t.await.unwrap();
        n += c;
        tries.unanswered += r.unanswered;
        tries.closed += r.closed;
        tries.broken += r.broken;
    }
    (n, tries, t0.elapsed())
}

/// How often phones had to try a sync again: unanswered within the client's 5 s, closed by
/// the relay with "retry", or the connection broke.
#[derive(Debug, Default, Clone, Copy)]
struct Tries {
    unanswered: usize,
    closed: usize,
    broken: usize,
}

impl Tries {
    fn total(&self) -> usize {
        self.unanswered + self.closed + self.broken
    }
}

/// Runs every thread of `node` on CPU `cpu` only.
fn pin_to(node: &Relay, cpu: usize) {
    let ok = std::process::Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &cpu.to_string(),
            &node.child.id().to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "taskset could not pin the node to CPU {cpu}");
}

/// Phone `p`'s connection (retried while the relay refuses new connections under load).
async fn connect(ws: &str, token: &str, p: usize) -> Client {
    for _ in 0..20 {
        if let Ok(mut c) = Client::connect(ws, token, Some(&format!("phone-{p}"))).await {
            c.settle = Duration::from_millis(20);
            return c;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("phone {p} could not connect");
}

#[tokio::main]
async fn main() {
    let n_phones = arg("--phones", 200);
    let changes = arg("--changes", 20);
    let idle = arg("--idle", 10_000);
    let tenants = arg("--tenants", 8).max(1);
    // `--pin`: node A runs on CPU 0 only and node B on CPU 1 only (Linux `taskset`), so a
    // machine with two cores shows what a node with a core of its own adds; otherwise both
    // nodes share every core with PostgreSQL and the phones.
    let pin = std::env::args().any(|a| a == "--pin");
    // `--state-dir DIR` keeps the key file (and the SQLite database) between runs, so a
    // database seeded once serves several runs; by default both go with the run.
    let tmp = tempfile::tempdir().unwrap();
    let dir = arg_text("--state-dir").map_or_else(|| tmp.path().to_owned(), Into::into);
    std::fs::create_dir_all(&dir).unwrap();
    let url = arg_text("--database-url")
        .unwrap_or_else(|| format!("sqlite://{}/nabo.db?mode=rwc", dir.display()));
    let key_file = dir.join("kek.keys");
    let kek = nabo_server::keys::KeySource::File {
        path: key_file.clone(),
        create: true,
    };
    let storage = nabo_server::storage::open(&url).await.unwrap();
    let two_nodes = storage.backend() == "postgres";
    let vault = nabo_server::vault::Vault::open(kek).unwrap();
    let profile = nabo_server::demo::national::profile("national").unwrap();
    let t = Instant::now();
    let mut documents = 0;
    for k in 0..tenants {
        let tenant = format!("cap-{k}");
        let seeded = nabo_server::demo::national::seed(
            storage.as_ref(),
            &vault,
            &tenant,
            profile,
            k as u64 + 1,
            PASSWORD,
            &nabo_core::time::Clock::system(),
        )
        .await
        .unwrap();
        documents += match seeded {
            Some(s) => s.documents,
            // Seeded by an earlier run with the same `--state-dir`.
            None => storage
                .documents(&tenant.parse().unwrap())
                .await
                .unwrap()
                .len(),
        };
    }
    println!(
        "{} ({}): {tenants} national tenants seeded, {documents} documents, {:.0} s",
        storage.backend(),
        url.split('@').next_back().unwrap_or(""),
        t.elapsed().as_secs_f64()
    );
    storage.close().await;

    let args = [
        "--max-connections-per-user",
        "100000",
        "--max-connections",
        "100000",
    ];
    let a = nabo_node(&dir, &url, &key_file, &args).await;
    if pin {
        pin_to(&a, 0);
    }
    let login = nabo_server::demo::national::login("cap-0");
    let token = client::login(&a.http(), &login, PASSWORD)
        .await
        .unwrap()
        .access_token;
    let docs = client::documents(&a.http(), &token).await.unwrap();
    let registers: Vec<DocumentId> = docs
        .iter()
        .filter(|d| d["kind"] == "register")
        .map(|d| DocumentId::parse(d["url"].as_str().unwrap()).unwrap())
        .collect();
    println!(
        "{} phones × {changes} changes, a register each ({} registers)\n",
        n_phones,
        registers.len()
    );
    println!(
        "| nodes | changes | wall (s) | merged changes/s | relay CPU (s) | CPU per change (ms) | syncs tried again: unanswered / closed / broken |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let cpu = |rs: &[&Relay]| rs.iter().map(|r| cpu_seconds(r.child.id())).sum::<f64>();
    let c0 = cpu(&[&a]);
    let (n, retried, wall) = phones(&[&a], &token, &registers, n_phones, changes, 0).await;
    let one = n as f64 / wall.as_secs_f64();
    let used = cpu(&[&a]) - c0;
    println!(
        "| 1 | {n} | {:.1} | {one:.1} | {used:.1} | {:.2} | {} / {} / {} |",
        wall.as_secs_f64(),
        used * 1000.0 / n.max(1) as f64,
        retried.unanswered,
        retried.closed,
        retried.broken
    );
    if two_nodes {
        let b = nabo_node(&dir, &url, &key_file, &args).await;
        if pin {
            pin_to(&b, 1);
        }
        let c0 = cpu(&[&a, &b]);
        let (n, retried, wall) = phones(&[&a, &b], &token, &registers, n_phones, changes, 1).await;
        let two = n as f64 / wall.as_secs_f64();
        let used = cpu(&[&a, &b]) - c0;
        println!(
            "| 2 | {n} | {:.1} | {two:.1} | {used:.1} | {:.2} | {} / {} / {} |",
            wall.as_secs_f64(),
            used * 1000.0 / n.max(1) as f64,
            retried.unanswered,
            retried.closed,
            retried.broken
        );
        println!(
            "\nWhat the second node adds: {:.2}× the changes/s of one node",
            two / one
        );
        drop(b);
    } else {
        println!("\n(two nodes need PostgreSQL: pass --database-url postgres://…)");
    }
    drop(a);

    // A fresh node: RSS with the stored documents and `idle` idle devices.
    let a = nabo_node(&dir, &url, &key_file, &args).await;
    let token = client::login(&a.http(), &login, PASSWORD)
        .await
        .unwrap()
        .access_token;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_mb(a.child.id());
    let conns: Vec<Client> = idle_connections(&a.ws(), &token, idle).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_mb(a.child.id());
    println!(
        "\nRSS of one node, {documents} stored documents: {before:.1} MB idle; {after:.1} MB with {} idle connected devices ({:.1} KB each)",
        conns.len(),
        (after - before) * 1024.0 / conns.len().max(1) as f64
    );
}
