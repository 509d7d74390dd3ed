//! # nabo-server
//!
//! The relay that lets an outreach worker's phone, a volunteer's phone and the central office
//! share one view: it speaks the automerge-repo sync protocol over WebSocket, stores every
//! change before relaying it, keeps sync state per device, authenticates with JWT and decides
//! per document who may read and write. See `ARCHITECTURE.md` and `docs/adr/0008-relay.md`.

pub mod acl;
pub mod api;
pub mod auth;
pub mod demo;
pub mod meta;
pub mod metrics;
pub mod relay;
pub mod storage;
pub mod testing;
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
    /// Data directory (SQLite database, signing key).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Limits.
    pub limits: relay::Limits,
    /// Where "now" comes from for the pages and the records they write: the system clock,
    /// except in tests and a demo run at a chosen moment (`--demo-at`).
    pub clock: nabo_core::time::Clock,
}

impl Config {
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

/// Accepts connections and serves HTTP/1.1 with upgrades. hyper's HTTP/1 server is used
/// directly (not `axum::serve`, which detects HTTP/2 too) with the smallest read buffer it
/// allows: what a connection keeps after its WebSocket upgrade decides the relay's memory for
/// many idle phones (docs/benchmarks.md).
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use tower::Service as _;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_buf_size(8192)
        .header_read_timeout(std::time::Duration::from_secs(30))
        .timer(hyper_util::rt::TokioTimer::new());
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(router) = make.call(peer).await;
        let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let mut router = router.clone();
            async move { router.call(req.map(axum::body::Body::new)).await }
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .with_upgrades();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            tokio::select! {
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

/// Opens storage and starts serving.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)?;
    let storage = storage::open(&config.database_url()).await?;
    start_with(config, storage).await
}

/// Starts serving on given storage.
pub async fn start_with(
    config: Config,
    storage: Arc<dyn storage::Storage>,
) -> anyhow::Result<Running> {
    let key = auth::load_or_create_key(&config.data_dir)?;
    let metrics = metrics::Metrics::new();
    let hub = relay::Hub::new(storage.clone(), config.limits.clone(), metrics).await?;
    let auth = auth::Auth::new(&key, storage.clone());
    let state = api::AppState {
        hub: hub.clone(),
        auth,
        storage,
        clock: config.clock.clone(),
    };
    let app = api::router(state.clone()).layer(
        tower_http::trace::TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<_>| {
                // The path only: the query may carry an access token.
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            },
        ),
    );
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let shutdown = hub.shutdown.clone();
    let task = tokio::spawn(serve(listener, app, shutdown));
    Ok(Running { addr, state, task })
}
