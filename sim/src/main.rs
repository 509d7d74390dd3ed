//! `nabo-sim`: runs seeds of the deterministic simulation (ADR 0036).
//!
//! - `nabo-sim --seed N [--long]`: one seed; prints its outcome and digest (a replay prints
//!   the same digest).
//! - `nabo-sim --seeds M [--from K] [--jobs J] [--long]`: seeds K..K+M on J threads; prints
//!   every failure with its replay command and a summary; exits 1 if any seed failed.
//!
//! `--phones N` and `--no-faults` narrow a run down (debugging a seed).
//! `--long` uses the long run's sizes (3–10 phones, five minutes of work) instead of the
//! suite's. `cargo xtask sim …` builds this in release and passes the arguments on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    match args.get(i + 1).map(|v| v.parse()) {
        Some(Ok(v)) => Some(v),
        _ => {
            eprintln!("{name} needs a number");
            std::process::exit(2);
        }
    }
}

fn params(long: bool, seed: u64) -> nabo_sim::Params {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut p = if long {
        nabo_sim::Params::long(seed)
    } else {
        nabo_sim::Params::suite(seed)
    };
    if let Some(n) = arg(&args, "--phones") {
        p.phones = (n as usize).clamp(1, nabo_sim::USERS.len());
    }
    if args.iter().any(|a| a == "--no-faults") {
        p.faults = false;
    }
    p
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let long = args.iter().any(|a| a == "--long");
    if let Some(seed) = arg(&args, "--seed") {
        // --repeat K: the seed K times in this process, each on a fresh thread (digests
        // must agree).
        for _ in 0..arg(&args, "--repeat").unwrap_or(1) {
            match nabo_sim::run(seed, &params(long, seed)) {
                Ok(o) => println!("ok {o}\ndigest {}", o.digest),
                Err(f) => {
                    println!("{f}");
                    std::process::exit(1);
                }
            }
        }
        return;
    }
    let Some(count) = arg(&args, "--seeds") else {
        eprintln!("usage: nabo-sim --seed N [--long] | --seeds M [--from K] [--jobs J] [--long]");
        std::process::exit(2);
    };
    let from = arg(&args, "--from").unwrap_or(0);
    let jobs = arg(&args, "--jobs").unwrap_or(2).max(1);
    let next = AtomicU64::new(from);
    let failures = Mutex::new(Vec::new());
    let totals = Mutex::new((0u64, 0u128, 0usize, 0usize));
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= from + count {
                        break;
                    }
                    match nabo_sim::run(seed, &params(long, seed)) {
                        Ok(o) => {
                            let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                            t.0 += 1;
                            t.1 += o.sim_ms;
                            t.2 += o.ok + o.failed;
                            t.3 += o.saved_heads;
                            if t.0.is_multiple_of(100) {
                                eprintln!("{} seeds passed ({:.0?})", t.0, started.elapsed());
                            }
                        }
                        Err(f) => {
                            println!("{f}");
                            failures
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(f.seed);
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    let t = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    println!(
        "seeds {from}..{}: {} passed, {} failed {:?}; {} simulated minutes, {} calls, {} saved heads checked; {:.0?} on {jobs} threads",
        from + count,
        t.0,
        failures.len(),
        failures,
        t.1 / 60_000,
        t.2,
        t.3,
        started.elapsed()
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
