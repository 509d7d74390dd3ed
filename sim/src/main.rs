//! `nabo-sim`: runs seeds of the deterministic simulation (ADR 0036).
//!
//! - `nabo-sim --seed N [--long]`: one seed; prints its outcome and digest (a replay prints
//!   the same digest).
//! - `nabo-sim --seeds M [--from K] [--jobs J] [--long]`: seeds K..K+M in J worker processes
//!   (`nabo_sim::batch`; `--worker I` is how a worker is started); prints every failure with
//!   its replay command and a summary; exits 1 if any seed failed.
//!
//! `--phones N`, `--nodes N` (relay nodes, 1 or 2) and `--no-faults` narrow a run down
//! (debugging a seed).
//! `--long` uses the long run's sizes (3–10 phones, five minutes of work) instead of the
//! suite's. `cargo xtask sim …` builds this in release and passes the arguments on.

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
    if let Some(n) = arg(&args, "--nodes") {
        p.nodes = (n as usize).clamp(1, nabo_sim::net::RELAY_HOSTS.len());
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
    if let Some(worker) = arg(&args, "--worker") {
        nabo_sim::batch::worker(from, count, jobs, worker, |seed| params(long, seed));
        return;
    }
    // The workers get the narrowing arguments; the batch's own are theirs to set.
    let mut passed_on = Vec::new();
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--seeds" | "--from" | "--jobs" => {
                rest.next();
            }
            _ => passed_on.push(a.clone()),
        }
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| {
        eprintln!("cannot find this program to start its workers: {e}");
        std::process::exit(2);
    });
    let s =
        nabo_sim::batch::run(&exe, from, count, jobs, &passed_on, 0, true).unwrap_or_else(|e| {
            eprintln!("cannot start the workers: {e}");
            std::process::exit(2);
        });
    for f in &s.failures {
        println!("{f}");
    }
    println!(
        "seeds {from}..{}: {} passed, {} failed {:?}; {} simulated minutes, {} calls, {} saved heads checked; {} with two relay nodes, {} notices between them; {:.0?} in {jobs} processes",
        from + count,
        s.passed,
        s.failures.len(),
        s.failed_seeds,
        s.sim_ms / 60_000,
        s.calls,
        s.saved_heads,
        s.two_nodes,
        s.notices,
        s.elapsed
    );
    if !s.failures.is_empty() {
        std::process::exit(1);
    }
}
