//! `cargo xtask <task>`: the one entry point for chores. CI runs `cargo xtask test`, the same
//! command a person runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod deps;
mod fuzz;
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
    /// The long convergence run: the convergence properties of core/tests/convergence.rs with
    /// this many cases each, in release.
    Soak {
        #[arg(long, default_value_t = 10_000)]
        cases: u64,
    },
    /// Many WebSocket clients syncing against the release relay on loopback for a while:
    /// errors, p99 latency and the relay's RSS over time, as a table and docs/soak-ws.svg.
    SoakWs {
        /// Concurrent clients.
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// Seconds to run (it stops by itself).
        #[arg(long, default_value_t = 600)]
        seconds: u64,
    },
    /// Run the benchmarks and print the ratio tables (see docs/benchmarks.md): the core
    /// bench (domain against plain Automerge) and the relay bench (against the stock
    /// automerge-repo Node relay).
    Bench {
        /// Only the core bench.
        #[arg(long)]
        core_only: bool,
        /// Only the relay bench.
        #[arg(long)]
        relay_only: bool,
    },
    /// The review pages at national size (issue 13 item 4, tests/src/bin/page_bench.rs):
    /// seeds `nabo-server seed --profile` into a fresh database and prints p50 and p95 of the
    /// heaviest pages with the page cache and without it, in the same run.
    BenchPages {
        /// `national` or `plan`.
        #[arg(long, default_value = "national")]
        profile: String,
        /// Timed requests per page with the cache (after 3 untimed ones).
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Timed requests per page without the cache.
        #[arg(long, default_value_t = 5)]
        cold_runs: usize,
        /// A database to seed into instead of a temporary SQLite file (postgres://…).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Capacity figures (issue 13 item 5, tests/src/bin/capacity.rs): merged changes per
    /// second with many phones on one node and on two nodes on one PostgreSQL, and a node's
    /// RSS with many idle devices and many stored documents.
    Capacity {
        /// Concurrent phones (Rust sync clients).
        #[arg(long, default_value_t = 200)]
        phones: usize,
        /// Changes per phone.
        #[arg(long, default_value_t = 20)]
        changes: usize,
        /// Idle connected devices for the RSS figure.
        #[arg(long, default_value_t = 10_000)]
        idle: usize,
        /// National-profile tenants to seed (about 6,450 documents each).
        #[arg(long, default_value_t = 8)]
        tenants: usize,
        /// PostgreSQL to seed into (a fresh database); without it SQLite, one node only.
        #[arg(long)]
        database_url: Option<String>,
        /// Keep the key file (and the SQLite database) here, so that a database seeded by
        /// one run serves the next.
        #[arg(long)]
        state_dir: Option<String>,
        /// Node A on CPU 0 only, node B on CPU 1 only: what a node with a core of its own
        /// adds, on a two-core machine.
        #[arg(long)]
        pin: bool,
    },
    /// Generate the Kotlin, Swift and Python bindings into bindings/generated/.
    Bindings {
        /// Build the library with the size-tuned `mobile` profile instead of debug.
        #[arg(long)]
        release: bool,
    },
    /// The deterministic simulation (ADR 0036), in release: `--seed N` replays one seed and
    /// prints its digest; `--seeds M` runs seeds `--from`..`--from`+M in `--jobs` processes and
    /// prints every failure with its replay command. `--long`: 3–10 phones, five minutes of
    /// work per seed (the suite runs 3–5 phones, one minute).
    Sim {
        /// Replay this seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Run this many seeds.
        #[arg(long)]
        seeds: Option<u64>,
        /// The first seed of `--seeds`.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Threads for `--seeds`.
        #[arg(long, default_value_t = 2)]
        jobs: u64,
        /// The long run's sizes.
        #[arg(long)]
        long: bool,
        /// Only this many phones (narrowing a failing seed down).
        #[arg(long)]
        phones: Option<u64>,
        /// No faults (narrowing a failing seed down).
        #[arg(long)]
        no_faults: bool,
    },
    /// Run every fuzz target of core/fuzz for a while and print executions and findings per
    /// target (needs the nightly toolchain and cargo-fuzz).
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 300)]
        seconds: u64,
        /// Only this target (repeatable).
        #[arg(long)]
        target: Vec<String>,
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

/// `cargo build --release` of the benchmark binaries, in the environment a person's own
/// `cargo build --release …` has: without the `CARGO_PKG_*` and `CARGO_MANIFEST_*` variables
/// that `cargo run` sets for xtask. Build scripts (ring's) watch those, so with them the
/// release tree a hand-run build made rebuilds from ring up, and back again after.
fn release_build(bins: &[&str]) -> Result<()> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "nabo-server",
        "-p",
        "nabo-tests",
    ]);
    for b in bins {
        cmd.args(["--bin", b]);
    }
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || k == "CARGO_CRATE_NAME"
            || k == "CARGO_BIN_NAME"
            || k == "CARGO_PRIMARY_PACKAGE"
        {
            cmd.env_remove(&*k);
        }
    }
    run(&mut cmd)
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR`, `build.target-dir` or `target/`, as
/// `cargo metadata` reports it (the one source of truth for all three).
fn target_dir() -> Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata gave no target_directory")
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

/// Builds the bindings library and generates Kotlin, Swift and Python into
/// `bindings/generated/{kotlin,swift,python}`. Returns the library's path.
fn bindings(release: bool) -> Result<PathBuf> {
    let mut build = cargo();
    build.args([
        "build",
        "-p",
        "nabo-bindings",
        "--lib",
        "--bin",
        "uniffi-bindgen",
    ]);
    build.args(["--features", "cli"]);
    if release {
        build.args(["--profile", "mobile"]);
    }
    run(&mut build)?;
    let dir = if release { "mobile" } else { "debug" };
    generate(&target_dir()?.join(dir), false)
}

/// Generates Kotlin, Swift and Python from the library in `dir` with the bindgen CLI built
/// beside it. `prebuilt`: both come from the workspace's test build.
fn generate(dir: &Path, prebuilt: bool) -> Result<PathBuf> {
    let lib = dir.join(lib_name());
    let cli = dir.join("uniffi-bindgen");
    // `cargo test` leaves the cdylib in deps/ (only `cargo build` copies it up); the JVM
    // and Python tests load it from `dir`.
    let built = dir.join("deps").join(lib_name());
    if prebuilt && built.exists() {
        std::fs::copy(&built, &lib)?;
    }
    for f in [&lib, &cli] {
        if !f.exists() {
            bail!(
                "{} is missing{}",
                f.display(),
                if prebuilt {
                    " after the test build"
                } else {
                    ""
                }
            );
        }
    }
    let out = root().join("bindings/generated");
    for lang in ["kotlin", "swift", "python"] {
        let dest = out.join(lang);
        if dest.exists() {
            std::fs::remove_dir_all(&dest)?;
        }
        run(Command::new(&cli)
            .args(["generate", "--no-format", "--language", lang, "--out-dir"])
            .arg(&dest)
            .arg("--library")
            .arg(&lib)
            .current_dir(root()))?;
    }
    // Python loads the library from the generated module's folder.
    std::fs::copy(&lib, out.join("python").join(lib_name()))?;
    eprintln!("bindings generated in {}", out.display());
    Ok(lib)
}

fn lib_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "libnabo_bindings.dylib"
    } else {
        "libnabo_bindings.so"
    }
}

/// The Kotlin (Maven, JUnit) and Python (pytest) tests of the bindings. Both start the real
/// relay binary.
fn binding_tests() -> Result<()> {
    let libdir = target_dir()?.join("debug");
    let server = libdir.join("nabo-server");
    if !server.exists() {
        bail!("{} is missing", server.display());
    }
    run(Command::new("python3")
        .args(["-m", "pytest", "-q", "mobile-examples/python"])
        .env("NABO_SERVER_BIN", &server))?;
    run(Command::new("mvn")
        .args(["-q", "-B", "-f", "mobile-examples/jvm/pom.xml", "verify"])
        .arg(format!("-Djna.library.path={}", libdir.display()))
        .env("NABO_SERVER_BIN", &server))?;
    Ok(())
}

/// The relay bench (tests/src/bin/relay_bench.rs) with the workload of docs/benchmarks.md:
/// nabo-server against the stock automerge-repo Node relay.
fn relay_bench() -> Result<()> {
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "nabo-server",
        "-p",
        "nabo-tests",
        "--bin",
        "nabo-server",
        "--bin",
        "relay-bench",
    ]))?;
    npm_install(&root().join("tests/js"))?;
    let bench = target_dir()?.join("release/relay-bench");
    // 10,000 idle connections need as many file descriptors.
    run(Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec \"$0\" \"$@\"")
        .arg(&bench)
        .args(["--clients", "10", "--changes", "100", "--idle", "10000"]))
}

/// The WebSocket soak (tests/src/bin/ws_soak.rs) against the release relay.
fn soak_ws(clients: usize, seconds: u64) -> Result<()> {
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "nabo-server",
        "-p",
        "nabo-tests",
        "--bin",
        "nabo-server",
        "--bin",
        "ws-soak",
    ]))?;
    let soak = target_dir()?.join("release/ws-soak");
    run(Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec \"$0\" \"$@\"")
        .arg(&soak)
        .args(["--clients", &clients.to_string()])
        .args(["--seconds", &seconds.to_string()])
        .arg("--out")
        .arg(root().join("docs")))
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

/// `cargo xtask test`: everything, on a machine of two cores (ADR 0039). Builds keep both
/// cores busy, while most tests wait on servers, browsers and sleeps; so the downloads run
/// beside lint and the build, and the simulation's seeds (CPU only, on simulated time) run
/// beside the other tests at the lowest CPU priority, where no timing-bound test waits on them.
fn test_all(no_lint: bool) -> Result<()> {
    let installs = std::thread::spawn(install_test_deps);
    if !no_lint {
        lint()?;
    }
    run(cargo().args(["test", "--workspace", "--all-targets", "--no-run"]))?;
    installs
        .join()
        .map_err(|_| anyhow::anyhow!("installing the test dependencies panicked"))??;
    // The seeds' test binary was just built with the workspace's features: this only runs it.
    let log = target_dir()?.join("sim-suite.log");
    let mut seeds = cargo();
    seeds.args(["test", "--workspace", "--test", "seeds", "--", "--ignored"]);
    let sim = Background::start("the simulation's seeds", seeds, &log)?;
    // A throwaway PostgreSQL cluster: the relay's tests run against it and SQLite.
    let cluster = pg::Cluster::start()?;
    eprintln!("PostgreSQL for the tests at {}", cluster.url);
    run(cargo()
        .args(["test", "--workspace", "--all-targets"])
        .env("NABO_TEST_PG_URL", &cluster.url)
        .env("NABO_TEST_PG_CONTROL", cluster.control())
        .env("NABO_REQUIRE_PG", "1")
        .env("NABO_REQUIRE_JS", "1")
        .env("NABO_REQUIRE_BROWSER", "1"))?;
    run(cargo().args(["test", "--workspace", "--doc"]))?;
    drop(cluster);
    // The bindings from Kotlin (JVM, Maven) and Python, against the relay binary. The
    // library, the relay and the bindgen CLI come from the test build above (the same
    // features, so nothing is compiled twice).
    generate(&target_dir()?.join("debug"), true)?;
    binding_tests()?;
    sim.finish()?;
    eprintln!("✔ all tests passed");
    Ok(())
}

/// What the tests need beyond Rust, installed once: Debian's packages in one apt-get run, the
/// stock JavaScript client and playwright-core from the committed lockfile, pytest, and the
/// Maven artifacts of the JVM example (fetched ahead; a failure there is left to `mvn verify`
/// to report).
fn install_test_deps() -> Result<()> {
    let mut packages = Vec::new();
    // Debian's chromium for the browser tests; haproxy in front of two relays in the
    // multi-node test; the PostgreSQL server the relay's tests run against.
    for (cmd, pkgs) in [
        ("chromium", &["chromium"][..]),
        ("haproxy", &["haproxy"]),
        ("npm", &["nodejs", "npm"]),
        ("mvn", &["maven", "default-jdk-headless"]),
    ] {
        if !deps::have(cmd) {
            packages.extend_from_slice(pkgs);
        }
    }
    if !pg::installed() {
        packages.push("postgresql");
    }
    let has_pytest = Command::new("python3")
        .args(["-c", "import pytest"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let pip = deps::have("pip3") || deps::have("pip");
    if !has_pytest && !pip {
        packages.push("python3-pytest");
    }
    if !packages.is_empty() {
        deps::apt(&packages)?;
    }
    if !has_pytest && pip {
        run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "pytest"]))?;
    }
    npm_install(&root().join("tests/js"))?;
    let offline = Command::new("mvn")
        .args([
            "-q",
            "-B",
            "-f",
            "mobile-examples/jvm/pom.xml",
            "dependency:go-offline",
        ])
        .current_dir(root())
        .status();
    if !offline.map(|s| s.success()).unwrap_or(false) {
        eprintln!(
            "(fetching the JVM example's Maven artifacts ahead failed; mvn verify will fetch them)"
        );
    }
    Ok(())
}

/// A test run beside the others: its own process group at the lowest CPU priority, its
/// output in a file (printed when it ends), killed with its workers if the suite stops first.
struct Background {
    what: &'static str,
    child: Option<std::process::Child>,
    log: PathBuf,
}

impl Background {
    fn start(what: &'static str, cmd: Command, log: &Path) -> Result<Self> {
        use std::os::unix::process::CommandExt;
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut nice = Command::new("nice");
        nice.args(["-n", "19"])
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .current_dir(root())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0);
        eprintln!("» {what}, beside the rest (output in {})", log.display());
        let child = nice.spawn().with_context(|| format!("starting {what}"))?;
        Ok(Background {
            what,
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    /// Waits for the run, prints its output and fails if it failed.
    fn finish(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            bail!("{} was not running", self.what);
        };
        eprintln!("» waiting for {}", self.what);
        let status = child.wait()?;
        let output = std::fs::read_to_string(&self.log).unwrap_or_default();
        eprintln!("{output}");
        if !status.success() {
            bail!(
                "{} failed with {status} (output above, and in {})",
                self.what,
                self.log.display()
            );
        }
        Ok(())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // The whole group: cargo, the test binary and its worker processes.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Test { no_lint } => test_all(no_lint),
        Task::Lint => lint(),
        Task::Soak { cases } => run(cargo()
            .args([
                "test",
                "--release",
                "-p",
                "nabo-core",
                "--test",
                "convergence",
                "--",
                "--nocapture",
            ])
            .env("NABO_PROPTEST_CASES", cases.to_string())),
        Task::SoakWs { clients, seconds } => soak_ws(clients, seconds),
        Task::Capacity {
            phones,
            changes,
            idle,
            tenants,
            database_url,
            state_dir,
            pin,
        } => {
            release_build(&["nabo-server", "capacity"])?;
            let mut bench = Command::new("sh");
            bench
                .arg("-c")
                .arg("ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec \"$0\" \"$@\"")
                .arg(target_dir()?.join("release/capacity"))
                .args(["--phones", &phones.to_string()])
                .args(["--changes", &changes.to_string()])
                .args(["--idle", &idle.to_string()])
                .args(["--tenants", &tenants.to_string()]);
            if let Some(url) = database_url {
                bench.args(["--database-url", &url]);
            }
            if let Some(dir) = state_dir {
                bench.args(["--state-dir", &dir]);
            }
            if pin {
                bench.arg("--pin");
            }
            run(&mut bench)
        }
        Task::BenchPages {
            profile,
            runs,
            cold_runs,
            database_url,
        } => {
            release_build(&["nabo-server", "page-bench"])?;
            let mut bench = Command::new(target_dir()?.join("release/page-bench"));
            bench
                .args(["--profile", &profile])
                .args(["--runs", &runs.to_string()])
                .args(["--cold-runs", &cold_runs.to_string()]);
            if let Some(url) = database_url {
                bench.args(["--database-url", &url]);
            }
            run(&mut bench)
        }
        Task::Bindings { release } => bindings(release).map(|_| ()),
        Task::Bench {
            core_only,
            relay_only,
        } => {
            if !relay_only {
                run(cargo().args(["bench", "-p", "nabo-core", "--bench", "domain"]))?;
            }
            if !core_only {
                relay_bench()?;
            }
            Ok(())
        }
        Task::Sim {
            seed,
            seeds,
            from,
            jobs,
            long,
            phones,
            no_faults,
        } => {
            let mut args: Vec<String> = Vec::new();
            match (seed, seeds) {
                (Some(s), None) => args.extend(["--seed".into(), s.to_string()]),
                (None, Some(m)) => args.extend([
                    "--seeds".into(),
                    m.to_string(),
                    "--from".into(),
                    from.to_string(),
                    "--jobs".into(),
                    jobs.to_string(),
                ]),
                _ => bail!("give --seed N or --seeds M"),
            }
            if long {
                args.push("--long".into());
            }
            if let Some(p) = phones {
                args.extend(["--phones".into(), p.to_string()]);
            }
            if no_faults {
                args.push("--no-faults".into());
            }
            // On its own: turmoil turns on tokio's test-util, which the relay's release
            // binaries for the benchmarks must not share.
            run(cargo().args(["build", "--release", "-p", "nabo-sim", "--bin", "nabo-sim"]))?;
            run(Command::new(target_dir()?.join("release/nabo-sim")).args(&args))
        }
        Task::Fuzz { seconds, target } => fuzz::run(&root(), &target_dir()?, seconds, &target),
    }
}
