//! The phone's connections to the relay, in one place (ADR 0040). [`Http::dial`] opens a
//! byte stream to the relay: over TCP, or over the streams a [`Net`] opens (the deterministic
//! simulation, docs/plans/simulation.md); for `https://` wrapped in TLS with the phone's roots
//! (rustls with ring: the Mozilla roots plus an organisation's own). [`Http::send`] sends a
//! [`Request`] with hyper's HTTP/1.1 on a fresh stream and reads the whole [`Answer`]; the
//! WebSocket (sync.rs) runs over a stream from the same dial. 5 s to connect (TLS handshake
//! included), 20 s a request. One connection per request: a phone asks the relay for little
//! over HTTP, a dead pooled connection on a flaky network costs more than a new one, and
//! rustls resumes TLS sessions from its in-memory cache.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{NaboError, Result};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A byte stream to the relay.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

/// A stream being opened.
pub type Connecting<'a> = Pin<Box<dyn Future<Output = std::io::Result<Box<dyn Io>>> + Send + 'a>>;

/// Opens byte streams to the relay: what the phone dials instead of TCP when it is given one.
pub trait Net: Send + Sync + Debug {
    /// Opens a stream to `host:port`.
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> Connecting<'a>;
}

/// The phone's own network: TCP.
#[derive(Debug)]
pub(crate) struct Tcp;

impl Net for Tcp {
    fn connect<'a>(&'a self, host: &'a str, port: u16) -> Connecting<'a> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect((host, port)).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as Box<dyn Io>)
        })
    }
}

/// How the phone reaches the relay: the network it dials, where on it the relay is, and the
/// TLS it speaks there.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    net: Arc<dyn Net>,
    relay: Arc<Target>,
    tls: Arc<rustls::ClientConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
}

/// One request: a path on the relay, an optional bearer token and an optional JSON body.
#[derive(Debug)]
pub(crate) struct Request {
    method: Method,
    path: String,
    bearer: Option<String>,
    body: Option<std::result::Result<Vec<u8>, String>>,
}

impl Request {
    fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            bearer: None,
            body: None,
        }
    }

    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }

    pub(crate) fn post(path: impl Into<String>) -> Self {
        Self::new(Method::Post, path)
    }

    pub(crate) fn put(path: impl Into<String>) -> Self {
        Self::new(Method::Put, path)
    }

    /// The body, `value` as JSON.
    pub(crate) fn json(mut self, value: &impl serde::Serialize) -> Self {
        self.body = Some(serde_json::to_vec(value).map_err(|e| e.to_string()));
        self
    }

    pub(crate) fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }
}

/// The relay's whole answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    body: Vec<u8>,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(crate) fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }

    /// The body read as `T`; an answer that does not read is a failed connection (as a cut
    /// answer would be).
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|_| NaboError::link_failed())
    }
}

impl Http {
    pub(crate) fn new(net: Arc<dyn Net>, relay: Target, tls: Arc<rustls::ClientConfig>) -> Self {
        Http {
            net,
            relay: Arc::new(relay),
            tls,
        }
    }

    /// Sends `req` to the relay on a fresh connection and reads the answer.
    pub(crate) async fn send(&self, req: Request) -> Result<Answer> {
        let body = req.body.transpose().map_err(NaboError::internal)?;
        tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.exchange(req.method, &req.path, req.bearer, body),
        )
        .await
        .map_err(|_| NaboError::timed_out())?
    }

    /// Opens a stream to the relay, TLS and all, within the connect deadline.
    pub(crate) async fn dial(&self) -> Result<Box<dyn Io>> {
        let target = &*self.relay;
        tokio::time::timeout(CONNECT_TIMEOUT, async {
            let io = self
                .net
                .connect(&target.host, target.port)
                .await
                .map_err(|_| NaboError::unreachable())?;
            if !target.tls {
                return Ok(io);
            }
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| NaboError::invalid("relay_url", "bad-host", &target.host))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, io)
                .await
                .map_err(|e| {
                    crate::error::tls_failure(&e).unwrap_or_else(NaboError::link_failed)
                })?;
            Ok::<_, NaboError>(Box::new(tls) as Box<dyn Io>)
        })
        .await
        .map_err(|_| NaboError::unreachable())?
    }

    /// One request on a fresh connection.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        bearer: Option<String>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer> {
        use http_body_util::{BodyExt, Full};
        use hyper::body::Bytes;

        let failed = |_| NaboError::link_failed();
        let io = self.dial().await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
                .await
                .map_err(failed)?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut b = hyper::Request::builder()
            .method(match method {
                Method::Get => hyper::Method::GET,
                Method::Post => hyper::Method::POST,
                Method::Put => hyper::Method::PUT,
            })
            .uri(path)
            .header(hyper::header::HOST, self.relay.authority());
        if let Some(t) = bearer {
            b = b.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = b
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(NaboError::internal)?;
        let answer = sender.send_request(request).await.map_err(failed)?;
        let status = answer.status().as_u16();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(failed)?
            .to_bytes()
            .to_vec();
        driver.abort();
        Ok(Answer { status, body })
    }
}

/// The phone's TLS configuration, for https and wss alike: ring, TLS 1.2/1.3, the Mozilla
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

/// Where a relay URL points: host, port and whether TLS is spoken there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target {
    tls: bool,
    /// A name or an address; an IPv6 address without its brackets.
    host: String,
    port: u16,
}

impl Target {
    /// `http://`, `https://`, `ws://` or `wss://`, then `host[:port]`, then anything; or
    /// `Invalid` on `relay_url` saying why the phone cannot dial it.
    pub(crate) fn of(relay: &str) -> Result<Target> {
        let (tls, rest) = [
            ("https://", true),
            ("wss://", true),
            ("http://", false),
            ("ws://", false),
        ]
        .into_iter()
        .find_map(|(scheme, tls)| relay.strip_prefix(scheme).map(|rest| (tls, rest)))
        .ok_or_else(|| {
            NaboError::invalid("relay_url", "not-supported", "http:// or https:// only")
        })?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let bad_host = || NaboError::invalid("relay_url", "bad-host", "no host");
        let (host, port) = match authority.strip_prefix('[') {
            // [v6]:port or [v6]
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or_else(bad_host)?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err(bad_host());
        }
        let port = match port {
            Some(p) => p
                .parse()
                .map_err(|_| NaboError::invalid("relay_url", "bad-port", p))?,
            None if tls => 443,
            None => 80,
        };
        Ok(Target {
            tls,
            host: host.to_owned(),
            port,
        })
    }

    /// `host:port` as the `Host` header names it.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target::of(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn relay_urls_name_host_port_and_tls() {
        let t = |tls, host: &str, port| Target {
            tls,
            host: host.to_owned(),
            port,
        };
        assert_eq!(
            target("https://nabo.example.dk"),
            t(true, "nabo.example.dk", 443)
        );
        assert_eq!(
            target("wss://nabo.example.dk/sync"),
            t(true, "nabo.example.dk", 443)
        );
        assert_eq!(target("http://127.0.0.1:8080"), t(false, "127.0.0.1", 8080));
        assert_eq!(
            target("ws://127.0.0.1:8080/sync"),
            t(false, "127.0.0.1", 8080)
        );
        assert_eq!(target("https://[::1]:8443/x"), t(true, "::1", 8443));
        assert_eq!(target("http://[::1]"), t(false, "::1", 80));
        assert_eq!(target("https://[::1]:8443").authority(), "[::1]:8443");
        assert_eq!(target("http://relay:80").authority(), "relay:80");
    }

    #[test]
    fn a_relay_url_that_cannot_be_dialled_names_the_field_and_the_reason() {
        for (url, reason) in [
            ("ftp://relay", "not-supported"),
            ("relay:8080", "not-supported"),
            ("https://relay:port", "bad-port"),
            ("https://relay:99999", "bad-port"),
            ("https://:443", "bad-host"),
            ("https://[::1", "bad-host"),
        ] {
            match Target::of(url) {
                Err(NaboError::Invalid {
                    field, reason: r, ..
                }) => {
                    assert_eq!((field.as_str(), r.as_str()), ("relay_url", reason), "{url}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
