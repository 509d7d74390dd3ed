//! The phone's HTTP requests to the relay, in one place: [`Http::send`] sends a [`Request`]
//! and reads the whole [`Answer`]. In the app it is a reqwest client (the phone's TLS roots; 5 s
//! to connect, 20 s a request). Given a [`Net`] instead (the deterministic simulation,
//! docs/plans/simulation.md), it speaks HTTP/1.1 with hyper over the streams the `Net` opens,
//! one connection per request, with the same deadlines.

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

/// How the phone reaches the relay over HTTP.
#[derive(Debug, Clone)]
pub(crate) enum Http {
    /// The app's client (TLS with the phone's roots when built with `tls`).
    Reqwest(reqwest::Client),
    /// HTTP/1.1 over streams a [`Net`] opens.
    Net(Arc<dyn Net>),
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
    /// Sends `req` to the relay at `relay` (`http(s)://host[:port]`) and reads the answer.
    pub(crate) async fn send(&self, relay: &str, req: Request) -> Result<Answer> {
        let body = req.body.transpose().map_err(NaboError::internal)?;
        match self {
            Http::Reqwest(client) => {
                let url = format!("{relay}{}", req.path);
                let mut b = match req.method {
                    Method::Get => client.get(url),
                    Method::Post => client.post(url),
                    Method::Put => client.put(url),
                };
                if let Some(t) = &req.bearer {
                    b = b.bearer_auth(t);
                }
                if let Some(body) = body {
                    b = b.header("content-type", "application/json").body(body);
                }
                let r = b.send().await?;
                let status = r.status().as_u16();
                let body = r.bytes().await?.to_vec();
                Ok(Answer { status, body })
            }
            Http::Net(net) => tokio::time::timeout(
                REQUEST_TIMEOUT,
                over_net(net.as_ref(), relay, req.method, &req.path, req.bearer, body),
            )
            .await
            .map_err(|_| NaboError::timed_out())?,
        }
    }
}

/// `http://host:port` → (host, port); only plain HTTP goes over a [`Net`].
pub(crate) fn host_port(relay: &str) -> Result<(String, u16)> {
    let rest = relay
        .strip_prefix("http://")
        .or_else(|| relay.strip_prefix("ws://"))
        .ok_or_else(|| NaboError::invalid("relay_url", "not-supported", "http:// only here"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once(':') {
        Some((h, p)) => Ok((
            h.to_owned(),
            p.parse()
                .map_err(|_| NaboError::invalid("relay_url", "bad-port", p))?,
        )),
        None => Ok((authority.to_owned(), 80)),
    }
}

/// Opens a stream to the relay at `relay` through `net`, within the connect deadline; also
/// answers the host and port it dialled.
pub(crate) async fn dial(net: &dyn Net, relay: &str) -> Result<(Box<dyn Io>, String, u16)> {
    let (host, port) = host_port(relay)?;
    let io = tokio::time::timeout(CONNECT_TIMEOUT, net.connect(&host, port))
        .await
        .map_err(|_| NaboError::unreachable())?
        .map_err(|_| NaboError::unreachable())?;
    Ok((io, host, port))
}

/// One request on a fresh connection from `net`.
async fn over_net(
    net: &dyn Net,
    relay: &str,
    method: Method,
    path: &str,
    bearer: Option<String>,
    body: Option<Vec<u8>>,
) -> Result<Answer> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;

    let failed = |_| NaboError::link_failed();
    let (io, host, port) = dial(net, relay).await?;
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
        .header(hyper::header::HOST, format!("{host}:{port}"));
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
