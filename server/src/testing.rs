//! Starting a relay for tests: on a fresh SQLite file, or on a fresh database of the
//! PostgreSQL server that `cargo xtask test` starts (`NABO_TEST_PG_URL`).

use std::sync::Arc;

use sqlx::Connection;

use nabo_core::time::Clock;

use crate::relay::Limits;
use crate::storage::{PgStorage, SqliteStorage, Storage};
use crate::{Config, Running};

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in a temporary directory.
    Sqlite,
    /// A new database on the test PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backends to run a test against: SQLite always, PostgreSQL when the test command
    /// started one. `NABO_REQUIRE_PG=1` (set by `cargo xtask test`) makes a missing server an
    /// error instead of a skip.
    pub fn all() -> Vec<Backend> {
        let mut v = vec![Backend::Sqlite];
        if std::env::var("NABO_TEST_PG_URL").is_ok() {
            v.push(Backend::Postgres);
        } else if std::env::var("NABO_REQUIRE_PG").is_ok_and(|v| v == "1") {
            panic!("NABO_REQUIRE_PG=1 but NABO_TEST_PG_URL is not set");
        } else {
            eprintln!(
                "note: NABO_TEST_PG_URL not set, PostgreSQL variant skipped (cargo xtask test runs it)"
            );
        }
        v
    }
}

/// A relay for one test; its data is removed when it is dropped.
#[derive(Debug)]
pub struct TestRelay {
    /// The running relay.
    pub running: Option<Running>,
    /// The database URL (to reopen after a restart).
    pub database_url: String,
    /// Data directory.
    pub dir: tempfile::TempDir,
    /// Backend.
    pub backend: Backend,
    /// The address of the last start: a restart listens there again, so clients keep their
    /// URL across a stop.
    pub addr: Option<std::net::SocketAddr>,
    /// The relay's clock (the system clock unless the test set one).
    pub clock: Clock,
    /// The public address and trusted proxies used at each (re)start.
    pub site: crate::http::Site,
    /// Authentication settings used at each (re)start.
    pub auth: crate::auth::AuthConfig,
    /// The operator's credential of the admin API.
    pub operator_token: String,
}

/// Creates a fresh, empty database for `backend` and returns its URL.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> anyhow::Result<String> {
    Ok(match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("relay.sqlite").display()),
        Backend::Postgres => {
            let admin = std::env::var("NABO_TEST_PG_URL")?;
            let name = format!("nabo_test_{}", nabo_core::entropy::uuid().simple());
            let mut c = sqlx::PgConnection::connect(&admin).await?;
            // The name is ours: "nabo_test_" and 32 hex digits.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await?;
            c.close().await?;
            let (base, _) = admin
                .rsplit_once('/')
                .ok_or_else(|| anyhow::anyhow!("NABO_TEST_PG_URL needs a database name"))?;
            format!("{base}/{name}")
        }
    })
}

impl TestRelay {
    /// Starts a relay with `limits` on a fresh database.
    pub async fn start(backend: Backend, limits: Limits) -> anyhow::Result<Self> {
        Self::start_configured(
            backend,
            limits,
            crate::http::Site::default(),
            crate::auth::AuthConfig::default(),
        )
        .await
    }

    /// Starts a relay whose pages and demo read `clock` (a test's chosen moment).
    pub async fn start_with_clock(
        backend: Backend,
        limits: Limits,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        Self::start_full(
            backend,
            limits,
            crate::http::Site::default(),
            crate::auth::AuthConfig::default(),
            clock,
        )
        .await
    }

    /// Starts a relay with `limits`, `site` and `auth` on a fresh database.
    pub async fn start_configured(
        backend: Backend,
        limits: Limits,
        site: crate::http::Site,
        auth: crate::auth::AuthConfig,
    ) -> anyhow::Result<Self> {
        Self::start_full(backend, limits, site, auth, Clock::system()).await
    }

    async fn start_full(
        backend: Backend,
        limits: Limits,
        site: crate::http::Site,
        auth: crate::auth::AuthConfig,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        if std::env::var("NABO_TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_env("NABO_TEST_LOG"))
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir()?;
        let database_url = fresh_database(backend, dir.path()).await?;
        let mut r = TestRelay {
            running: None,
            database_url,
            dir,
            backend,
            addr: None,
            clock,
            site,
            auth,
            operator_token: crate::auth::random_token(),
        };
        r.restart(limits).await?;
        Ok(r)
    }

    /// Starts (again) on the same database.
    pub async fn restart(&mut self, limits: Limits) -> anyhow::Result<()> {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let storage: Arc<dyn Storage> = match self.backend {
            Backend::Sqlite => Arc::new(SqliteStorage::connect(&self.database_url).await?),
            Backend::Postgres => Arc::new(PgStorage::connect(&self.database_url).await?),
        };
        let config = Config {
            database_url: Some(self.database_url.clone()),
            limits,
            clock: self.clock.clone(),
            site: self.site.clone(),
            auth: self.auth.clone(),
            mail: crate::mail::Outbox::new(Some(self.mail_dir()), "nabo@test.invalid"),
            operator_token: Some(crate::admin::OperatorToken(self.operator_token.clone())),
            ..Config::new(
                self.addr.unwrap_or(([127, 0, 0, 1], 0).into()),
                self.dir.path().to_path_buf(),
                self.kek(),
            )
        };
        let running = crate::start_with(config, storage).await?;
        self.addr = Some(running.addr);
        self.running = Some(running);
        Ok(())
    }

    /// Stops the relay (shutdown, like a server going away); `restart` brings it back on the
    /// same address.
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    /// The running relay.
    pub fn relay(&self) -> &Running {
        match &self.running {
            Some(r) => r,
            None => panic!("relay not running"),
        }
    }

    /// `http://host:port`.
    pub fn http(&self) -> String {
        format!("http://{}", self.relay().addr)
    }

    /// `ws://host:port/sync`.
    pub fn ws(&self) -> String {
        format!("ws://{}/sync", self.relay().addr)
    }

    /// Storage of the running relay.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.relay().state.storage.clone()
    }

    /// The KEK of this relay's subject keys: a file in its data directory, generated at
    /// the first start (a test relay is a demo; ADR 0014).
    pub fn kek(&self) -> crate::keys::KeySource {
        crate::keys::KeySource::File {
            path: self.kek_path(),
            create: true,
        }
    }

    /// The mail outbox (messages appear in `new/`).
    pub fn mail_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("mail")
    }

    /// The messages in the mail outbox, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.mail_dir().join("new"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect()
    }

    /// Where [`TestRelay::kek`] keeps the KEK.
    pub fn kek_path(&self) -> std::path::PathBuf {
        self.dir.path().join("kek.keys")
    }

    /// Seeds the demo tenant with `password`, as of the relay's clock.
    pub async fn seed_demo(&self, password: &str) -> anyhow::Result<()> {
        crate::demo::seed(
            self.storage().as_ref(),
            &self.relay().state.vault,
            password,
            &self.clock,
        )
        .await
        .map(|_| ())
    }
}

/// How a [`CutProxy`] ends the connection whose frame it cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Stop forwarding after half the frame; close towards the relay only when the client
    /// goes away (a phone killed in the middle of a message).
    WaitForClient,
    /// Close both sides right after half the frame (a network that drops mid frame).
    DropBoth,
}

/// What a [`CutProxy`] cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutFrame {
    /// The payload length the frame's header declared.
    pub payload: usize,
    /// Payload bytes the relay received before the cut.
    pub forwarded: usize,
}

/// A TCP proxy in front of a relay that cuts, once, the first WebSocket frame from a client
/// whose payload is at least `min_payload` bytes: the relay receives the frame's header and
/// half its payload, then nothing more on that connection. Other connections, and every
/// connection after the cut, pass through untouched.
#[derive(Debug)]
pub struct CutProxy {
    /// Where clients connect.
    pub addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Receiver<Option<CutFrame>>,
    task: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    /// Starts a proxy to `upstream`.
    pub async fn start(
        upstream: std::net::SocketAddr,
        min_payload: usize,
        mode: Cut,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, cut) = tokio::sync::watch::channel(None);
        let tx = Arc::new(tx);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = proxy(client, server, min_payload, mode, &tx).await;
                    }
                });
            }
        });
        Ok(CutProxy { addr, cut, task })
    }

    /// Waits until a frame was cut (at most `wait`).
    pub async fn cut(&mut self, wait: std::time::Duration) -> Option<CutFrame> {
        let r = tokio::time::timeout(wait, self.cut.wait_for(Option::is_some)).await;
        r.ok().and_then(|r| r.ok().and_then(|c| *c))
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(
    client: tokio::net::TcpStream,
    server: tokio::net::TcpStream,
    min_payload: usize,
    mode: Cut,
    cut: &tokio::sync::watch::Sender<Option<CutFrame>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
        let _ = cw.shutdown().await;
    });
    // Client to relay: the HTTP upgrade request passes as is, then frames are followed so
    // that one can be cut in its middle.
    let mut buf: Vec<u8> = Vec::new();
    let mut in_frames = false;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = cr.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if !in_frames {
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let upgrade = buf.starts_with(b"GET /sync");
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            sw.write_all(&head).await?;
            if !upgrade {
                // Not a WebSocket: pass everything through.
                sw.write_all(&buf).await?;
                buf.clear();
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
                break;
            }
            in_frames = true;
        }
        // Forward whole frames; cut the first big one.
        while let Some((header, payload)) = frame_len(&buf) {
            if payload >= min_payload && cut.borrow().is_none() {
                let half = payload / 2;
                if buf.len() < header + half {
                    break;
                }
                sw.write_all(&buf[..header + half]).await?;
                sw.flush().await?;
                let _ = cut.send(Some(CutFrame {
                    payload,
                    forwarded: half,
                }));
                if mode == Cut::WaitForClient {
                    // Swallow what the client still sends until it goes away.
                    while cr.read(&mut chunk).await? > 0 {}
                }
                down.abort();
                return Ok(());
            }
            if buf.len() < header + payload {
                break;
            }
            let frame: Vec<u8> = buf.drain(..header + payload).collect();
            sw.write_all(&frame).await?;
        }
    }
    let _ = sw.shutdown().await;
    let _ = down.await;
    Ok(())
}

/// The header and payload lengths of the WebSocket frame at the start of `buf`, once its
/// header is complete.
fn frame_len(buf: &[u8]) -> Option<(usize, usize)> {
    let b1 = *buf.get(1)?;
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    let (ext, len) = match b1 & 0x7f {
        126 => (2, u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize),
        127 => {
            let b: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (8, usize::try_from(u64::from_be_bytes(b)).ok()?)
        }
        n => (0, n as usize),
    };
    let header = 2 + ext + mask;
    (buf.len() >= header).then_some((header, len))
}
