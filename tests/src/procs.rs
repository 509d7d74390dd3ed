//! Processes for the benchmarks and the soak (src/bin): the release relay started beside
//! them, and what /proc says about a process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The demo password the relays below are seeded with.
pub const PASSWORD: &str = "bench-password-1234";

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A binary built beside the running one (same target directory and profile, whatever
/// `CARGO_TARGET_DIR` is).
pub fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(name)
}

/// The value after `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    arg_text(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The text after `name` on the command line.
pub fn arg_text(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// CPU seconds (user + system) a process has used.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Resident memory of a process, MB.
pub fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kb / 1024.0
}

/// A relay process, killed when dropped.
#[derive(Debug)]
pub struct Relay {
    /// The process.
    pub child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    /// `http://127.0.0.1:port`.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:port/sync`.
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}/sync", self.port)
    }
}

/// Waits until something listens on `port`.
pub async fn wait_port(port: u16) {
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("relay on {port} did not come up");
}

/// The `nabo-server` built beside this binary, with the demo tenant (password
/// [`PASSWORD`]) on a fresh SQLite database, and `args`.
pub async fn nabo(args: &[&str]) -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(sibling("nabo-server"))
        .args(["--demo", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .env("NABO_DEMO_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("build the relay first: cargo build --release -p nabo-server");
    wait_port(port).await;
    Relay {
        child,
        port,
        _dir: dir,
    }
}

/// The `nabo-server` built beside this binary as one node of an installation: `database_url`,
/// the key files in `data_dir` (shared by every node, ADR 0025), `args`. No demo.
pub async fn nabo_node(
    data_dir: &std::path::Path,
    database_url: &str,
    key_file: &std::path::Path,
    args: &[&str],
) -> Relay {
    let port = free_port();
    let child = Command::new(sibling("nabo-server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(database_url)
        .arg("--key-file")
        .arg(key_file)
        .env("RUST_LOG", "warn")
        // The node's warnings and errors, kept for a run that goes wrong.
        .stdout(
            std::fs::File::create(data_dir.join(format!("relay-{port}.log")))
                .map_or_else(|_| Stdio::null(), Stdio::from),
        )
        .spawn()
        .expect("build the relay first: cargo build --release -p nabo-server");
    wait_port(port).await;
    Relay {
        child,
        port,
        _dir: tempfile::tempdir().unwrap(),
    }
}

/// The stock automerge-repo relay of tests/js (`node relay.mjs`).
pub async fn node_relay() -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new("node")
        .arg("relay.mjs")
        .arg(port.to_string())
        .arg(dir.path())
        .current_dir(root().join("tests/js"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port).await;
    Relay {
        child,
        port,
        _dir: dir,
    }
}
