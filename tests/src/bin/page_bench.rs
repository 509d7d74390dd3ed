//! Review pages at national size (issue 13 item 4): p50 and p95 of the heaviest pages with
//! the page cache (ADR 0028) and without it, in the same run, on the same database.
//!
//! `cargo xtask bench-pages` runs it; by hand:
//! `target/release/page-bench [--profile national] [--runs 20] [--cold-runs 5]
//!  [--database-url URL] [--page TEXT]` (`--page`: only the pages whose label contains it). Without a database URL it seeds a fresh SQLite database in a
//! temporary directory (with `nabo-server seed`'s code) and says how long that took.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use nabo_server::relay::Limits;
use nabo_tests::procs::{arg, arg_text};

const PASSWORD: &str = "bench-password-2026";

/// The pages: (label, path).
const PAGES: &[(&str, &str)] = &[
    ("overview, whole tenant", "/oversigt"),
    ("målopfyldelse report", "/rapporter/maalopfyldelse"),
    ("review queue", "/gennemgang"),
    ("target-group table", "/rapporter/maalgrupper"),
    (
        "CSV export (overview, activities)",
        "/oversigt?eksport=csv&tabel=aktiviteter",
    ),
];

struct Node {
    base: String,
    cookies: String,
    running: nabo_server::Running,
}

async fn node(
    storage: Arc<dyn nabo_server::storage::Storage>,
    dir: &std::path::Path,
    kek: nabo_server::keys::KeySource,
    cache_bytes: u64,
    login: &str,
) -> Node {
    let mut config =
        nabo_server::Config::new("127.0.0.1:0".parse().unwrap(), dir.to_path_buf(), kek);
    config.limits = Limits {
        page_cache_bytes: cache_bytes,
        ..Limits::default()
    };
    let running = nabo_server::start_with(config, storage).await.unwrap();
    let base = format!("http://{}", running.addr);
    let resp = client()
        .post(format!("{base}/log-ind"))
        .header(reqwest::header::ORIGIN, &base)
        .form(&[("brugernavn", login), ("adgangskode", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER, "login");
    let cookies = resp
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    Node {
        base,
        cookies,
        running,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// One request: its time and the body's size.
async fn get(n: &Node, path: &str) -> (Duration, usize) {
    let t = Instant::now();
    let resp = client()
        .get(format!("{}{path}", n.base))
        .header(reqwest::header::COOKIE, &n.cookies)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.bytes().await.unwrap();
    assert_eq!(status, reqwest::StatusCode::OK, "{path}");
    (t.elapsed(), body.len())
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// `runs` timed requests after `warm` untimed ones: (p50, p95, body bytes).
async fn measure(n: &Node, path: &str, warm: usize, runs: usize) -> (Duration, Duration, usize) {
    for _ in 0..warm {
        get(n, path).await;
    }
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let (t, s) = get(n, path).await;
        times.push(t);
        size = s;
    }
    times.sort();
    (pct(&times, 0.5), pct(&times, 0.95), size)
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let profile_name = arg_text("--profile").unwrap_or_else(|| "national".into());
    let profile = nabo_server::demo::national::profile(&profile_name).expect("--profile");
    let runs = arg("--runs", 20);
    let cold_runs = arg("--cold-runs", 5);
    let seed = arg("--seed", 1) as u64;
    let dir = tempfile::tempdir().unwrap();
    let url = arg_text("--database-url")
        .unwrap_or_else(|| format!("sqlite://{}/nabo.db?mode=rwc", dir.path().display()));
    let kek = nabo_server::keys::KeySource::File {
        path: dir.path().join("kek.keys"),
        create: true,
    };
    let storage = nabo_server::storage::open(&url).await.unwrap();
    let vault = nabo_server::vault::Vault::open(kek.clone()).unwrap();
    let tenant = format!("bench-{}", profile.name);
    let t = Instant::now();
    let seeded = nabo_server::demo::national::seed(
        storage.as_ref(),
        &vault,
        &tenant,
        profile,
        seed,
        PASSWORD,
        &nabo_core::time::Clock::system(),
    )
    .await
    .unwrap()
    .expect("a fresh database (the bench seeds its own tenant)");
    println!(
        "seed --profile {} ({}): {:.1} s, {} documents, {} attendance rows, {:.1} MB stored",
        profile.name,
        storage.backend(),
        t.elapsed().as_secs_f64(),
        seeded.documents,
        seeded.attendance_rows,
        seeded.bytes as f64 / 1e6
    );
    let login = nabo_server::demo::national::login(&tenant);
    let only = arg_text("--page");
    let rss0 = rss_mb();
    let cached = node(storage.clone(), dir.path(), kek.clone(), 4 << 30, &login).await;
    // The cached node's memory once every document is decoded, before the uncached node's
    // page loads allocate (and the allocator keeps) their own.
    get(&cached, PAGES[0].1).await;
    let rss_warm = rss_mb();
    let cold = node(storage.clone(), dir.path(), kek.clone(), 0, &login).await;

    println!();
    println!(
        "| page | cached p50 (ms) | cached p95 (ms) | uncached p50 (ms) | uncached p95 (ms) | speed-up p50 | speed-up p95 | body (KB) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, path) in PAGES
        .iter()
        .filter(|(l, _)| only.as_deref().is_none_or(|o| l.contains(o)))
    {
        let (c50, c95, size) = measure(&cached, path, 3, runs).await;
        let (u50, u95, _) = measure(&cold, path, 1, cold_runs).await;
        println!(
            "| {label} | {} | {} | {} | {} | {:.1}× | {:.1}× | {:.0} |",
            ms(c50),
            ms(c95),
            ms(u50),
            ms(u95),
            u50.as_secs_f64() / c50.as_secs_f64(),
            u95.as_secs_f64() / c95.as_secs_f64(),
            size as f64 / 1024.0
        );
    }
    let pages = &cached.running.state.hub.pages;
    let (hits, misses) = pages.counts();
    println!();
    println!(
        "cache: {} entries, {:.1} MB estimated ({} hits, {} misses); process RSS {:.0} MB before the nodes, {:.0} MB with the cache warm ({:.0} MB for {:.1} MB stored: {:.0} bytes of memory per stored byte), {:.0} MB at the end",
        pages.len(),
        pages.weight() as f64 / 1e6,
        hits,
        misses,
        rss0,
        rss_warm,
        rss_warm - rss0,
        seeded.bytes as f64 / 1e6,
        (rss_warm - rss0) * 1024.0 * 1024.0 / seeded.bytes.max(1) as f64,
        rss_mb(),
    );
}
