//! The deterministic simulation in the suite (ADR 0036): seeds pass under faults, and a seed
//! that found a bug is a test of its own here, beside the fix (replay: `tests/replay.rs`).
//! `cargo xtask sim --seeds 10000` is the long run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Seeds in the suite (`NABO_SIM_SEEDS` overrides).
const SUITE_SEEDS: u64 = 200;

/// Runs `seeds` on two threads; returns the failures' reports.
fn run_seeds(seeds: impl Iterator<Item = u64> + Send) -> (usize, Vec<String>) {
    let seeds = Mutex::new(seeds);
    let passed = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(seed) = seeds.lock().unwrap().next() else {
                        break;
                    };
                    match nabo_sim::run(seed, &nabo_sim::Params::suite(seed)) {
                        Ok(o) => {
                            passed.fetch_add(1, Ordering::SeqCst);
                            if seed.is_multiple_of(50) {
                                println!("{o}");
                            }
                        }
                        Err(f) => failures.lock().unwrap().push(f.to_string()),
                    }
                }
            });
        }
    });
    (
        passed.load(Ordering::SeqCst) as usize,
        failures.into_inner().unwrap(),
    )
}

/// Hundreds of seeds: 3–5 phones of volunteers and outreach workers editing offline, under
/// partitions, held links, phone and relay restarts and storage errors on both sides; after
/// healing, nothing saved is lost and every phone agrees with the relay.
#[test]
fn seeds_pass_under_faults() {
    let n = std::env::var("NABO_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SUITE_SEEDS);
    let started = std::time::Instant::now();
    let (passed, failures) = run_seeds(0..n);
    println!(
        "{passed} of {n} seeds passed in {:.0?}; failures: {}",
        started.elapsed(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Seed 52 found a phone that waited for ever: its link to the relay was cut while it opened
/// the sync WebSocket, the upgrade's answer never came, and nothing bounded the wait, so the
/// phone never synced again. The phone now gives the upgrade 20 seconds and is offline.
#[test]
fn seed_52_a_phone_cut_off_while_opening_its_websocket_is_offline_not_stuck() {
    let o = nabo_sim::run(52, &nabo_sim::Params::suite(52)).unwrap_or_else(|f| panic!("{f}"));
    println!("{o}");
}
