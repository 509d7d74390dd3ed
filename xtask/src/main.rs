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
    /// Generate the Kotlin, Swift and Python bindings into bindings/generated/.
    Bindings {
        /// Build the library with the size-tuned `mobile` profile instead of debug.
        #[arg(long)]
        release: bool,
    },
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
        build.args(["--features", "tls", "--profile", "mobile"]);
    }
    run(&mut build)?;
    let dir = if release { "mobile" } else { "debug" };
    generate(&root().join("target").join(dir), false)
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
fn binding_tests(prebuilt: bool) -> Result<()> {
    if !prebuilt {
        run(cargo().args(["build", "-p", "nabo-server", "--bin", "nabo-server"]))?;
    }
    let server = root().join("target/debug/nabo-server");
    if !server.exists() {
        bail!("{} is missing", server.display());
    }
    let libdir = root().join("target/debug");
    let has_pytest = Command::new("python3")
        .args(["-c", "import pytest"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !has_pytest {
        if !deps::have("pip3") && !deps::have("pip") {
            deps::apt(&["python3-pytest"])?;
        } else {
            run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "pytest"]))?;
        }
    }
    run(Command::new("python3")
        .args(["-m", "pytest", "-q", "mobile-examples/python"])
        .env("NABO_SERVER_BIN", &server))?;
    if !deps::have("mvn") {
        deps::apt(&["maven", "default-jdk-headless"])?;
    }
    run(Command::new("mvn")
        .args(["-q", "-B", "-f", "mobile-examples/jvm/pom.xml", "verify"])
        .arg(format!("-Djna.library.path={}", libdir.display()))
        .env("NABO_SERVER_BIN", &server))?;
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
    ]))?;
    // The phones' build: the bindings with TLS (off in the workspace build, see
    // bindings/Cargo.toml).
    run(cargo().args([
        "clippy",
        "-p",
        "nabo-bindings",
        "--features",
        "tls",
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
            // The stock JavaScript client for the interop test and playwright-core for the
            // browser test, from the committed lockfile; Debian's chromium for the browser.
            npm_install(&root().join("tests/js"))?;
            if !deps::have("chromium") {
                deps::apt(&["chromium"])?;
            }
            // A throwaway PostgreSQL cluster: the relay's tests run against it and SQLite.
            let cluster = pg::Cluster::start()?;
            eprintln!("PostgreSQL for the tests at {}", cluster.url);
            run(cargo()
                .args(["test", "--workspace", "--all-targets"])
                .env("NABO_TEST_PG_URL", &cluster.url)
                .env("NABO_REQUIRE_PG", "1")
                .env("NABO_REQUIRE_JS", "1")
                .env("NABO_REQUIRE_BROWSER", "1"))?;
            run(cargo().args(["test", "--workspace", "--doc"]))?;
            drop(cluster);
            // The bindings from Kotlin (JVM, Maven) and Python, against the relay binary. The
            // library, the relay and the bindgen CLI come from the test build above (the same
            // features, so nothing is compiled twice).
            generate(&root().join("target/debug"), true)?;
            binding_tests(true)?;
            // https and wss through a TLS front with a test CA (the tls feature is off in the
            // workspace build). Last: it rebuilds the bindings library with other features.
            run(cargo().args([
                "test",
                "-p",
                "nabo-bindings",
                "--features",
                "tls",
                "--test",
                "tls",
            ]))?;
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
        Task::Bindings { release } => bindings(release).map(|_| ()),
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
