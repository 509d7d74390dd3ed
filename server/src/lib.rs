//! # nabo-server
//!
//! The relay that lets an outreach worker's phone, a volunteer's phone and the central office
//! share one view: it speaks the automerge-repo sync protocol over WebSocket, stores every
//! change before relaying it, keeps sync state per device, authenticates with JWT and decides
//! per document who may read and write. See `ARCHITECTURE.md` and `docs/adr/0008-relay.md`.

pub mod access_log;
pub mod acl;
pub mod admin;
pub mod api;
pub mod auth;
pub mod demo;
pub mod erasure;
pub mod erasure_journal;
pub mod http;
pub mod keys;
pub mod mail;
pub mod meta;
pub mod metrics;
pub mod oidc;
pub mod people;
pub mod relay;
pub mod retention;
pub mod rewrite;
pub mod storage;
pub mod testing;
pub mod vault;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

/// How to run the relay.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Data directory (SQLite database, signing keys).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Limits.
    pub limits: relay::Limits,
    /// Where "now" comes from for the pages and the records they write: the system clock,
    /// except in tests and a demo run at a chosen moment (`--demo-at`).
    pub clock: nabo_core::time::Clock,
    /// The key-encryption key of subject keys (ADR 0014): a file or the environment, never
    /// the database.
    pub kek: keys::KeySource,
    /// The public address, trusted proxies.
    pub site: http::Site,
    /// The refresh grace, login limits, password workers.
    pub auth: auth::AuthConfig,
    /// Where activation and reset links are mailed (none: they are shown to whoever made
    /// them).
    pub mail: mail::Outbox,
    /// The operator's credential for the admin API (`/api/v1/admin/…`); none: no admin API.
    pub operator_token: Option<admin::OperatorToken>,
    /// How often the retention job runs (ADR 0024; the first run one period after start);
    /// none: only `nabo-server retention run`.
    pub retention_interval: Option<std::time::Duration>,
}

impl Config {
    /// A configuration with the defaults, listening on `listen`, keeping data in
    /// `data_dir`, with the KEK from `kek`.
    pub fn new(listen: SocketAddr, data_dir: PathBuf, kek: keys::KeySource) -> Self {
        Config {
            listen,
            data_dir,
            database_url: None,
            limits: relay::Limits::default(),
            kek,
            site: http::Site::default(),
            auth: auth::AuthConfig::default(),
            mail: mail::Outbox::default(),
            operator_token: None,
            clock: nabo_core::time::Clock::system(),
            retention_interval: Some(std::time::Duration::from_secs(6 * 3600)),
        }
    }

    /// The database URL in use.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("nabo.sqlite").display()))
    }
}

/// A running relay.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on (port 0 resolved).
    pub addr: SocketAddr,
    /// Shared state.
    pub state: api::AppState,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Graceful shutdown: connections close with 1001, sync states are saved, the database
    /// pool closes.
    pub async fn shutdown(self) {
        self.state.hub.shutdown();
        self.state.hub.drained().await;
        let _ = self.task.await;
        self.state.storage.close().await;
    }
}

/// Where the relay accepts connections: a TCP listener in production; the deterministic
/// simulation (ADR 0036) passes its simulated network's listener to [`start_on`].
pub trait Listener: Send + 'static {
    /// One accepted connection.
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    /// Waits for the next connection and its peer's address.
    fn accept(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<(Self::Io, SocketAddr)>> + Send;
    /// The address it listens on.
    fn local_addr(&self) -> std::io::Result<SocketAddr>;
}

impl Listener for TcpListener {
    type Io = tokio::net::TcpStream;

    fn accept(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<(Self::Io, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        TcpListener::local_addr(self)
    }
}

/// Accepts connections and serves HTTP/1.1 with upgrades. hyper's HTTP/1 server is used
/// directly (not `axum::serve`, which detects HTTP/2 too) with the smallest read buffer it
/// allows: what a connection keeps after its WebSocket upgrade decides the relay's memory for
/// many idle phones (docs/benchmarks.md). At most `Limits::max_connections` TCP connections
/// are served at once (an upgraded WebSocket keeps its place); one more is answered 503 and
/// closed. Headers must arrive within `Limits::http_read_timeout`.
async fn serve<L: Listener>(
    listener: L,
    app: axum::Router,
    hub: Arc<relay::Hub>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use tokio::io::AsyncWriteExt;
    use tower::Service as _;
    let limits = hub.limits.clone();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_buf_size(8192)
        .header_read_timeout(limits.http_read_timeout)
        .timer(hyper_util::rt::TokioTimer::new());
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    loop {
        let (mut stream, peer) = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            hub.metrics
                .limit_violations
                .with_label_values(&["connections"])
                .inc();
            let answer = http::refusal(limits.max_connections);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(http::REFUSAL_GRACE, async {
                    let _ = stream.write_all(&answer).await;
                    let _ = stream.shutdown().await;
                })
                .await;
            });
            continue;
        };
        let slot = http::ConnSlot::new(permit, hub.metrics.http_connections.clone());
        let Ok(router) = make.call(peer).await;
        let request_slot = slot.clone();
        let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let mut router = router.clone();
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(request_slot.clone());
            async move { router.call(req).await }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .with_upgrades();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(conn);
            tokio::select! {
                biased;
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    // Finish the request in flight; upgraded WebSockets are closed by the hub.
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn).await;
                }
            }
        });
    }
    Ok(())
}

/// The whole HTTP surface: the API and the review pages, every body read within a deadline
/// and a size limit, security headers on every answer. Tests call it directly.
pub fn app(state: api::AppState) -> axum::Router {
    use axum::middleware::from_fn_with_state;
    api::router(state.clone())
        .merge(admin::router(state.clone()))
        .merge(erasure::router(state.clone()))
        .merge(retention::router(state.clone()))
        .merge(web::router(state.clone()))
        .layer(from_fn_with_state(state.clone(), http::bounded_body))
        .layer(from_fn_with_state(state, http::security_headers))
}

/// Replaces the SQLite database at `database_url` with the backup `from` (the relay stopped).
/// The backup is checked to open first. Erasures made since the backup are not in it: the
/// relay applies them again from the erasure journal when it next starts (ADR 0032).
pub async fn restore_sqlite(database_url: &str, from: &std::path::Path) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    use storage::Storage;
    let path = database_url
        .strip_prefix("sqlite://")
        .context("restore is for the SQLite store")?;
    let probe = storage::SqliteStorage::connect(&format!("sqlite://{}", from.display()))
        .await
        .context("the backup does not open")?;
    probe.ping().await?;
    probe.close().await;
    let target = PathBuf::from(path);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let tmp = target.with_extension("restore-tmp");
    std::fs::copy(from, &tmp)?;
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}

/// Opens storage and starts serving.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)?;
    let storage = storage::open(&config.database_url()).await?;
    start_with(config, storage).await
}

/// The relay's shared state on `storage` (what [`start_with`] serves, and what commands such
/// as `nabo-server retention run` act through): opens the KEK, wraps legacy keys, loads the
/// signing keys, starts the hub.
pub async fn state_for(
    config: &Config,
    storage: Arc<dyn storage::Storage>,
) -> anyhow::Result<api::AppState> {
    let vault = vault::Vault::open(config.kek.clone()).map_err(|e| {
        anyhow::anyhow!(
            "{e}\nThe key-encryption key of subject keys is needed: pass --key-file FILE or set NABO_KEK (see `nabo-server kek --help`)."
        )
    })?;
    let legacy = vault.wrap_legacy(storage.as_ref()).await?;
    if legacy > 0 {
        tracing::info!(keys = legacy, "plain subject keys wrapped under the KEK");
    }
    let signing = auth::open_signing_keys(auth::signing_keys(&config.data_dir)?)?;
    let metrics = metrics::Metrics::new();
    let hub = relay::Hub::new(storage.clone(), config.limits.clone(), metrics).await?;
    let salt = storage
        .init_setting("login_salt", &auth::random_token())
        .await?;
    let closer = hub.clone();
    let auth = auth::Auth::new(
        signing,
        storage.clone(),
        config.auth.clone(),
        format!("nabo:{}", hub.storage_id),
        salt,
        Some(Arc::new(move |family: &str| {
            closer.close_family(family, "session ended");
        })),
    );
    Ok(api::AppState {
        hub,
        auth,
        storage,
        clock: config.clock.clone(),
        vault,
        site: Arc::new(config.site.clone()),
        mail: Arc::new(config.mail.clone()),
        operator_token: config.operator_token.clone().map(Arc::new),
        oidc: Arc::new(oidc::Oidc::new()),
        journal: Arc::new(erasure_journal::Journal::in_data_dir(&config.data_dir)),
    })
}

/// Starts serving on given storage. Refuses to start without a readable KEK; wraps any
/// plain subject keys a database from before ADR 0014 holds.
pub async fn start_with(
    config: Config,
    storage: Arc<dyn storage::Storage>,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.listen).await?;
    start_on(config, storage, listener).await
}

/// [`start_with`] on a listener already bound (`config.listen` is not used).
pub async fn start_on(
    config: Config,
    storage: Arc<dyn storage::Storage>,
    listener: impl Listener,
) -> anyhow::Result<Running> {
    let state = state_for(&config, storage).await?;
    // Before anything is served: erasures a restored database lacks are applied again.
    let reapplied = erasure::reapply_journal(&state).await?;
    if reapplied > 0 {
        tracing::warn!(reapplied, "erasures re-applied from the journal");
    }
    if let Some(period) = config.retention_interval {
        tokio::spawn(retention::every(state.clone(), period));
    }
    let hub = state.hub.clone();
    let app = app(state.clone()).layer(
        tower_http::trace::TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<_>| {
                // The path only: the query may carry an access token.
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            },
        ),
    );
    let addr = listener.local_addr()?;
    let shutdown = hub.shutdown.clone();
    let task = tokio::spawn(serve(listener, app, hub, shutdown));
    Ok(Running { addr, state, task })
}
