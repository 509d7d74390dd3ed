//! A throwaway PostgreSQL cluster for the test suite: Debian's `postgresql` (installed if
//! missing), `initdb` into a temporary directory, `pg_ctl start` on a free port, removed when
//! dropped.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::deps;

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub url: String,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether PostgreSQL's server binaries are on this machine.
pub fn installed() -> bool {
    pg_bin().is_some()
}

fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Cluster {
    fn run(&self, tool: &str, args: &[&str]) -> Result<()> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .with_context(|| format!("running {tool}"))?;
        if !out.status.success() {
            bail!(
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Installs PostgreSQL if needed and starts a cluster.
    pub fn start() -> Result<Self> {
        if pg_bin().is_none() {
            deps::apt(&["postgresql"])?;
        }
        let bin = pg_bin().context("PostgreSQL binaries not found under /usr/lib/postgresql")?;
        let dir = tempfile::Builder::new().prefix("nabo-pg-").tempdir()?;
        let as_postgres = is_root();
        let data = dir.path().join("data");
        let sock = dir.path().join("sock");
        std::fs::create_dir_all(&sock)?;
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()?;
            anyhow::ensure!(status.success(), "chown failed");
        }
        let port = free_port()?;
        let c = Cluster {
            bin,
            dir,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            as_postgres,
        };
        let data_s = data.to_string_lossy().to_string();
        c.run(
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        )?;
        // The settings live in the cluster's own configuration, so a plain `pg_ctl start`
        // (the multi-node test stops and starts the server mid-run) comes back on the same
        // port. `wal_recycle = off`, as docs/operations.md asks of production: an erasure's
        // checkpoint deletes old WAL segments rather than keeping their bytes for reuse.
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = on\nmax_connections = 300\nwal_recycle = off\n",
            sock.display()
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?;
        std::io::Write::write_all(&mut f, conf.as_bytes())?;
        c.start_server()?;
        Ok(c)
    }

    fn start_server(&self) -> Result<()> {
        let data = self.dir.path().join("data").to_string_lossy().to_string();
        let log = self.dir.path().join("log").to_string_lossy().to_string();
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-w", "start"])
    }

    /// The command that stops (`stop`) and starts (`start`) this cluster's server, for tests
    /// that take the database away mid-run: `<prefix…> <pg_ctl> -D <data> -l <log> -w`,
    /// space-separated; the test appends `-m fast stop` or `start`.
    pub fn control(&self) -> String {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("log");
        let prefix = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{prefix}{} -D {} -l {} -w",
            self.bin.join("pg_ctl").display(),
            data.display(),
            log.display()
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").to_string_lossy().to_string();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }
}
