//! Many seeds at once, in worker processes that each run one seed at a time.
//!
//! Not in threads of one process: tokio numbers tasks from one counter per process, and two
//! runs numbering their tasks at once would interleave, so where a task lands among a
//! runtime's shards, and with it the order in which a restarted host's sockets close, would
//! depend on thread timing (see `align_task_ids` in the crate root). A worker runs its seeds
//! one after another, each starting from an aligned counter, so every seed of a batch
//! replays with `nabo-sim --seed N`.
//!
//! A worker writes one line per seed to its standard output: `PASS <seed> <simulated ms>
//! <calls> <saved heads> <relay nodes> <notices between them> <outcome>` or
//! `FAIL <seed> <failure>`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Outcome, Params};

/// What a batch found.
#[derive(Debug, Default)]
pub struct Summary {
    /// Seeds that passed.
    pub passed: u64,
    /// Each failing seed's report (with its replay command), and workers that died.
    pub failures: Vec<String>,
    /// The failing seeds.
    pub failed_seeds: Vec<u64>,
    /// Simulated milliseconds over the seeds that passed.
    pub sim_ms: u128,
    /// Phone calls made in the seeds that passed.
    pub calls: usize,
    /// Saved heads checked at the relay in the seeds that passed.
    pub saved_heads: usize,
    /// Seeds that passed with two relay nodes.
    pub two_nodes: u64,
    /// Notices delivered between relay nodes in the seeds that passed.
    pub notices: u64,
    /// Outcomes of every `show_every`-th seed, for the log.
    pub shown: Vec<String>,
    /// Wall-clock time of the batch.
    pub elapsed: Duration,
}

/// Runs seeds `from..from + count` in `jobs` worker processes of `exe` (the `nabo-sim`
/// binary), passing `args` on (`--long`, `--phones N`, `--no-faults`). Prints progress to
/// standard error every hundred seeds when `progress` is set.
pub fn run(
    exe: &Path,
    from: u64,
    count: u64,
    jobs: u64,
    args: &[String],
    show_every: u64,
    progress: bool,
) -> std::io::Result<Summary> {
    let jobs = jobs.clamp(1, count.max(1));
    let started = Instant::now();
    let summary = Mutex::new(Summary::default());
    let mut children = Vec::new();
    for worker in 0..jobs {
        let child = Command::new(exe)
            .args(["--worker", &worker.to_string(), "--jobs", &jobs.to_string()])
            .args(["--from", &from.to_string(), "--seeds", &count.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()?;
        children.push(child);
    }
    std::thread::scope(|s| {
        for (worker, child) in children.iter_mut().enumerate() {
            let summary = &summary;
            let stdout = child.stdout.take();
            s.spawn(move || {
                let expected = (from + worker as u64..from + count)
                    .step_by(jobs as usize)
                    .count();
                let mut seen = 0;
                for line in stdout
                    .map(BufReader::new)
                    .into_iter()
                    .flat_map(BufRead::lines)
                    .map_while(Result::ok)
                {
                    let mut sum = summary.lock().unwrap_or_else(|e| e.into_inner());
                    let Some(passed) = sum.take(&line, show_every) else {
                        continue;
                    };
                    seen += 1;
                    if progress && passed && sum.passed.is_multiple_of(100) {
                        eprintln!("{} seeds passed ({:.0?})", sum.passed, started.elapsed());
                    }
                }
                let status = child.wait();
                if seen < expected {
                    summary
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .failures
                        .push(format!(
                            "SIM FAIL worker {worker} ended after {seen} of its {expected} seeds \
                             ({status:?}); the next seed in its share is the one to replay"
                        ));
                }
            });
        }
    });
    let mut summary = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.failed_seeds.sort_unstable();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

impl Summary {
    /// Takes one line of a worker's output: whether its seed passed, or None for a line
    /// that is not a seed's result.
    fn take(&mut self, line: &str, show_every: u64) -> Option<bool> {
        let mut words = line.splitn(8, ' ');
        match (
            words.next(),
            words.next().and_then(|s| s.parse::<u64>().ok()),
        ) {
            (Some("PASS"), Some(seed)) => {
                let mut n = || {
                    words
                        .next()
                        .and_then(|w| w.parse::<u128>().ok())
                        .unwrap_or(0)
                };
                self.passed += 1;
                self.sim_ms += n();
                self.calls += n() as usize;
                self.saved_heads += n() as usize;
                self.two_nodes += u64::from(n() > 1);
                self.notices += n() as u64;
                if show_every > 0 && seed.is_multiple_of(show_every) {
                    self.shown.push(words.next().unwrap_or_default().to_owned());
                }
                Some(true)
            }
            (Some("FAIL"), Some(seed)) => {
                self.failed_seeds.push(seed);
                self.failures.push(words.collect::<Vec<_>>().join(" "));
                Some(false)
            }
            _ => None,
        }
    }
}

/// A worker's part of a batch: seeds `from + worker`, then every `jobs`-th, one at a time,
/// one line each on standard output.
pub fn worker(from: u64, count: u64, jobs: u64, worker: u64, params: impl Fn(u64) -> Params) {
    let mut out = std::io::stdout().lock();
    for seed in (from + worker..from + count).step_by(jobs.max(1) as usize) {
        let line = match crate::run(seed, &params(seed)) {
            Ok(o) => pass_line(&o),
            Err(f) => format!("FAIL {seed} {f}"),
        };
        // A parent that went away ends the worker.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

fn pass_line(o: &Outcome) -> String {
    format!(
        "PASS {} {} {} {} {} {} {o}",
        o.seed,
        o.sim_ms,
        o.ok + o.failed,
        o.saved_heads,
        o.nodes,
        o.notices.0
    )
}
