//! `cargo xtask <task>`: the one entry point for chores. CI runs `cargo xtask test`, the same
//! command a person runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod deps;
mod pg;

#[derive(Parser)]
#[command(about = "Nabo chores")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the whole test suite, installing what it needs (the README's test command).
    Test {
        /// Skip rustfmt and clippy.
        #[arg(long)]
        no_lint: bool,
    },
    /// rustfmt --check and clippy -D warnings.
    Lint,
    /// The long convergence run (100,000 cases per property by default).
    Soak {
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
    },
    /// Run the benchmarks and print the ratio tables (see docs/benchmarks.md).
    Bench,
    /// Fuzz document loading for a while (needs the nightly toolchain and cargo-fuzz).
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 300)]
        seconds: u64,
    },
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("» {cmd:?}");
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Installs a package's npm dependencies from its lockfile (Node.js from Debian if missing).
fn npm_install(dir: &Path) -> Result<()> {
    if !deps::have("npm") {
        deps::apt(&["nodejs", "npm"])?;
    }
    // `npm install` honours the committed lockfile's versions. `npm ci` is stricter but refuses
    // this lockfile: cbor-extract's optional per-platform binaries are not resolvable from
    // every registry mirror, so they are absent from the lockfile (the pure-JS path is used).
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--no-save"])
        .current_dir(dir))?;
    Ok(())
}

fn lint() -> Result<()> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Test { no_lint } => {
            if !no_lint {
                lint()?;
            }
            // The stock JavaScript client for the interop test, from the committed lockfile.
            npm_install(&root().join("tests/js"))?;
            // A throwaway PostgreSQL cluster: the relay's tests run against it and SQLite.
            let cluster = pg::Cluster::start()?;
            eprintln!("PostgreSQL for the tests at {}", cluster.url);
            run(cargo()
                .args(["test", "--workspace", "--all-targets"])
                .env("NABO_TEST_PG_URL", &cluster.url)
                .env("NABO_REQUIRE_PG", "1")
                .env("NABO_REQUIRE_JS", "1"))?;
            run(cargo().args(["test", "--workspace", "--doc"]))?;
            drop(cluster);
            eprintln!("✔ all tests passed");
            Ok(())
        }
        Task::Lint => lint(),
        Task::Soak { cases } => run(cargo()
            .args([
                "test",
                "--release",
                "-p",
                "nabo-core",
                "--test",
                "convergence",
            ])
            .env("NABO_PROPTEST_CASES", cases.to_string())),
        Task::Bench => run(cargo().args(["bench", "-p", "nabo-core", "--bench", "domain"])),
        Task::Fuzz { seconds } => {
            let seeds = root().join("core/fuzz/seeds");
            for target in ["load_document", "sync_message"] {
                let corpus = root().join("core/fuzz/corpus").join(target);
                std::fs::create_dir_all(&corpus)?;
                let mut cmd = Command::new("cargo");
                cmd.args(["+nightly", "fuzz", "run", target])
                    .arg(&corpus)
                    .arg(&seeds)
                    .arg("--")
                    .arg(format!("-max_total_time={seconds}"))
                    .current_dir(root().join("core/fuzz"));
                eprintln!("» {cmd:?}");
                if !cmd.status()?.success() {
                    bail!("fuzz target {target} failed");
                }
            }
            Ok(())
        }
    }
}
