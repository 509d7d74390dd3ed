//! The deterministic simulation in the suite (ADR 0036): seeds pass under faults, and a seed
//! that found a bug is a test of its own here, beside the fix (replay: `tests/replay.rs`).
//! `cargo xtask sim --seeds 10000` is the long run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Seeds in the suite (`NABO_SIM_SEEDS` overrides).
const SUITE_SEEDS: u64 = 200;

/// Hundreds of seeds: 3–5 phones of volunteers and outreach workers editing offline, under
/// partitions, held links, phone and relay restarts and storage errors on both sides; after
/// healing, nothing saved is lost and every phone agrees with the relay. In two worker
/// processes of `nabo-sim` (`nabo_sim::batch`: seeds run in threads of one process would not
/// replay).
/// Seeds `from..from + count` in `jobs` worker processes of `nabo-sim`, each the run
/// `nabo-sim --seed N` replays (in-process runs beside each other would not be).
fn batch(from: u64, count: u64, jobs: u64, show_every: u64) -> nabo_sim::batch::Summary {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_nabo-sim"));
    nabo_sim::batch::run(exe, from, count, jobs, &[], show_every, false).unwrap()
}

/// One seed that found a bug, exactly as its replay command runs it: it must pass.
fn seed_passes(seed: u64) {
    let s = batch(seed, 1, 1, 1);
    assert!(s.failures.is_empty(), "{}", s.failures.join("\n"));
    assert_eq!(s.passed, 1, "seed {seed} reported");
    println!("{}", s.shown.join("\n"));
}

#[test]
fn seeds_pass_under_faults() {
    let n = std::env::var("NABO_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SUITE_SEEDS);
    let s = batch(0, n, 2, 50);
    for o in &s.shown {
        println!("{o}");
    }
    println!(
        "{} of {n} seeds passed in {:.0?}; failures: {}",
        s.passed,
        s.elapsed,
        s.failures.len()
    );
    assert!(s.failures.is_empty(), "{}", s.failures.join("\n"));
    assert_eq!(s.passed, n, "every seed reported");
}

/// Seed 52 found a phone that waited for ever: its link to the relay was cut while it opened
/// the sync WebSocket, the upgrade's answer never came, and nothing bounded the wait, so the
/// phone never synced again. The phone now gives the upgrade 20 seconds and is offline.
#[test]
fn seed_52_a_phone_cut_off_while_opening_its_websocket_is_offline_not_stuck() {
    seed_passes(52);
}

/// Seed 736 (the long run) found a phone whose sync failed when central staff erased a child
/// between the phone reading the document's keys and uploading the ones the relay lacked:
/// the relay refused the upload ("invalid keys.<subject>: erased"). The phone now forgets
/// the key the refusal names and sends the rest.
#[test]
fn seed_736_a_person_erased_while_a_phone_shares_keys_does_not_fail_its_sync() {
    seed_passes(736);
}
