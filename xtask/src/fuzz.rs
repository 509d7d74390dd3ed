//! `cargo xtask fuzz`: every fuzz target of core/fuzz for a while each, with a table of
//! executions and findings for docs/benchmarks.md.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The targets, in the order they run (core/fuzz/Cargo.toml).
pub const TARGETS: &[&str] = &[
    "wire_cbor",
    "load_document",
    "change_bundle",
    "sync_message",
    "api_json",
    "web_forms",
];

/// Inputs that once crashed a target: seeds of the targets that take raw Automerge bytes.
const FIXTURES: &str = "core/tests/fixtures/fuzz";

struct Outcome {
    target: &'static str,
    seconds: u64,
    executions: Option<u64>,
    per_second: Option<u64>,
    corpus: usize,
    findings: Vec<PathBuf>,
}

fn files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// `stat::name: value` from libFuzzer's final statistics (`-print_final_stats=1`).
fn stat(log: &str, name: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
        .and_then(|v| v.trim().parse().ok())
}

/// The last `#N` progress line's execution count (when a crash cut the statistics short).
fn last_progress(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|l| {
        l.strip_prefix('#')?
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

/// Builds every target, then runs each for `seconds` (only `only` if given).
pub fn run(root: &Path, target_dir: &Path, seconds: u64, only: &[String]) -> Result<()> {
    for t in only {
        if !TARGETS.contains(&t.as_str()) {
            bail!("no fuzz target {t}; the targets are {}", TARGETS.join(", "));
        }
    }
    let fuzz = root.join("core/fuzz");
    let cargo_fuzz = |args: &[&str]| {
        let mut c = Command::new("cargo");
        c.arg("+nightly")
            .arg("fuzz")
            .args(args)
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(&fuzz);
        c
    };
    let mut build = cargo_fuzz(&["build"]);
    eprintln!("» {build:?}");
    if !build
        .status()
        .context("cargo +nightly fuzz (install: cargo install cargo-fuzz)")?
        .success()
    {
        bail!("building the fuzz targets failed");
    }
    let logs = fuzz.join("logs");
    std::fs::create_dir_all(&logs)?;
    let mut outcomes = Vec::new();
    for &target in TARGETS
        .iter()
        .filter(|t| only.is_empty() || only.iter().any(|o| o == *t))
    {
        let corpus = fuzz.join("corpus").join(target);
        let artifacts = fuzz.join("artifacts").join(target);
        std::fs::create_dir_all(&corpus)?;
        std::fs::create_dir_all(&artifacts)?;
        let before = files(&artifacts);
        let mut cmd = cargo_fuzz(&["run", target]);
        cmd.arg(&corpus).arg(fuzz.join("seeds").join(target));
        if matches!(target, "load_document" | "change_bundle") {
            cmd.arg(root.join(FIXTURES));
        }
        cmd.arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-print_final_stats=1")
            // A 4 GiB allocation is a finding (out-of-memory), not a slow run.
            .arg("-rss_limit_mb=2048")
            .arg("-timeout=60")
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped());
        eprintln!("» {cmd:?}");
        let started = Instant::now();
        let mut child = cmd.spawn()?;
        let log_path = logs.join(format!("{target}.log"));
        let mut log_file = std::fs::File::create(&log_path)?;
        let mut log = String::new();
        if let Some(err) = child.stderr.take() {
            for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                writeln!(log_file, "{line}")?;
                // Progress every power of two, the statistics and anything gone wrong.
                if line.contains("pulse")
                    || line.contains("DONE")
                    || line.starts_with("stat::")
                    || line.contains("ERROR")
                    || line.contains("panic")
                    || line.contains("artifact")
                {
                    eprintln!("  {target}: {line}");
                }
                log.push_str(&line);
                log.push('\n');
            }
        }
        let status = child.wait()?;
        let findings: Vec<PathBuf> = files(&artifacts).difference(&before).cloned().collect();
        if !status.success() && findings.is_empty() {
            bail!(
                "fuzz target {target} failed without a finding ({status}); see {}",
                log_path.display()
            );
        }
        outcomes.push(Outcome {
            target,
            seconds: started.elapsed().as_secs(),
            executions: stat(&log, "number_of_executed_units").or_else(|| last_progress(&log)),
            per_second: stat(&log, "average_exec_per_sec"),
            corpus: files(&corpus).len(),
            findings,
        });
    }
    println!();
    println!("| target | seconds | executions | executions/s | corpus | findings |");
    println!("|---|---:|---:|---:|---:|---|");
    let show = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
    for o in &outcomes {
        let findings = if o.findings.is_empty() {
            "none".to_owned()
        } else {
            o.findings
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            o.target,
            o.seconds,
            show(o.executions),
            show(o.per_second),
            o.corpus,
            findings
        );
    }
    let found: Vec<&PathBuf> = outcomes.iter().flat_map(|o| &o.findings).collect();
    if !found.is_empty() {
        println!();
        for f in &found {
            println!("finding: {}", f.display());
        }
        bail!("{} finding(s)", found.len());
    }
    Ok(())
}
