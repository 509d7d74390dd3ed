//! The bindings' own multi-threaded tokio runtime. Foreign async calls (Kotlin coroutines,
//! Swift tasks, Python asyncio) await a join handle, so the caller's thread is never blocked
//! and every I/O future runs where tokio's reactor is.

use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;

use crate::error::{NaboError, Result};

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        // TLS for wss:// (tokio-tungstenite) uses the process-wide provider.
        #[cfg(feature = "tls")]
        let _ = rustls::crypto::ring::default_provider().install_default();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("nabo")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the nabo runtime: {e}"))
    })
}

thread_local! {
    static INLINE: Cell<bool> = const { Cell::new(false) };
}

/// Runs the calls of every phone made on this thread on the caller's own runtime instead of
/// the bindings' one: for the deterministic simulation (ADR 0036), whose hosts each run on a
/// current-thread runtime with simulated network and time. Rust only (feature `sim`).
#[cfg(feature = "sim")]
pub fn run_inline_on_this_thread(inline: bool) {
    INLINE.set(inline);
}

fn inline() -> bool {
    INLINE.get()
}

/// Spawns a background task of a phone (automatic sync, change listeners) where its calls run.
pub(crate) fn spawn<F>(f: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if inline() {
        tokio::spawn(f)
    } else {
        runtime().spawn(f)
    }
}

/// Runs `f` on the runtime; dropping the returned future (a cancelled coroutine) aborts it.
/// Inline (the simulation), `f` runs in place.
pub(crate) async fn run<T, F>(f: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    if inline() {
        return f.await;
    }
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut h = AbortOnDrop(runtime().spawn(f));
    match (&mut h.0).await {
        Ok(r) => r,
        Err(e) => Err(NaboError::internal(format!("task failed: {e}"))),
    }
}

#[cfg(feature = "tls")]
/// The TLS configuration of the HTTP client and the WebSocket: ring, TLS 1.2/1.3, the Mozilla
/// root store plus `extra_roots` (an organisation's internal CA).
pub(crate) fn tls_config(
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for (i, cert) in extra_roots.iter().enumerate() {
        roots.add(cert.clone()).map_err(|e| {
            NaboError::invalid(
                "trusted_roots_pem",
                "malformed",
                &format!("certificate {} is not a usable root: {e}", i + 1),
            )
        })?;
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(NaboError::internal)?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

#[cfg(feature = "tls")]
/// The certificates of a PEM bundle (`-----BEGIN CERTIFICATE-----` blocks; anything else in
/// the text is ignored). An empty bundle or a damaged block is refused.
pub(crate) fn parse_roots(pem: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| {
            NaboError::invalid(
                "trusted_roots_pem",
                "malformed",
                "not a PEM certificate bundle",
            )
        })?;
    if certs.is_empty() {
        return Err(NaboError::invalid(
            "trusted_roots_pem",
            "missing",
            "no CERTIFICATE block in the PEM text",
        ));
    }
    Ok(certs)
}
