//! The HTTP edge (ADR 0014): where the site is (`--public-url`), which proxies are believed
//! (`--trusted-proxy`), the client's address behind them, every request body read within a
//! deadline and a size limit, and the security headers of every answer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;

/// The site's public address: scheme and authority, no path (`https://nabo.example.dk`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    https: bool,
    /// `scheme://host[:port]`, lower case.
    origin: String,
}

/// Why a public URL was refused.
#[derive(Debug, thiserror::Error)]
#[error("--public-url must be http(s)://host[:port] without a path, query or user info")]
pub struct BadPublicUrl;

impl std::str::FromStr for PublicUrl {
    type Err = BadPublicUrl;
    fn from_str(s: &str) -> Result<Self, BadPublicUrl> {
        let uri: axum::http::Uri = s.trim_end_matches('/').parse().map_err(|_| BadPublicUrl)?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(BadPublicUrl),
        };
        let authority = uri.authority().ok_or(BadPublicUrl)?;
        if authority.as_str().contains('@')
            || uri.query().is_some()
            || !matches!(uri.path(), "" | "/")
        {
            return Err(BadPublicUrl);
        }
        Ok(PublicUrl {
            https,
            origin: format!(
                "{}://{}",
                if https { "https" } else { "http" },
                authority.as_str().to_ascii_lowercase()
            ),
        })
    }
}

impl PublicUrl {
    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Served over https.
    pub fn is_https(&self) -> bool {
        self.https
    }
}

/// How the relay meets the outside world.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// The public address, if configured.
    pub public_url: Option<PublicUrl>,
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Site {
    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: the peer, or — when the peer is a trusted proxy — the last
    /// address in `X-Forwarded-For` that is not a trusted proxy itself. Headers from anyone
    /// else are ignored (a client cannot choose its own address).
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.trusted(hop) {
                break;
            }
        }
        client
    }

    /// Whether the request reached the site over https: the public URL says so, or a
    /// trusted proxy forwarded `X-Forwarded-Proto: https`.
    pub fn is_https(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        if let Some(u) = &self.public_url {
            return u.is_https();
        }
        peer.is_some_and(|p| self.trusted(p))
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    }

    /// The site's origin for a request: the public URL, else the scheme and the `Host`
    /// header the request came with (fine for a local demo; configure `--public-url`
    /// anywhere else).
    pub fn origin_for(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> String {
        if let Some(u) = &self.public_url {
            return u.origin().to_owned();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            .unwrap_or("localhost");
        let scheme = if self.is_https(peer, headers) {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{host}")
    }
}

/// The peer's address of a request, if it came over a socket.
pub fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// The client's address (for login limits), or "local" in tests without a socket.
#[derive(Debug)]
pub struct ClientAddr(pub String);

impl FromRequestParts<crate::api::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        s: &crate::api::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(peer(parts).map_or_else(
            || "local".into(),
            |p| s.site.client_ip(p, &parts.headers).to_string(),
        )))
    }
}

/// A place under the global connection cap, held by the TCP connection and, after an
/// upgrade, by its WebSocket; counted in `nabo_http_connections` while it lives.
#[derive(Debug, Clone)]
pub struct ConnSlot {
    _slot: Arc<Slot>,
}

#[derive(Debug)]
struct Slot {
    _permit: OwnedSemaphorePermit,
    gauge: prometheus::IntGauge,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

impl ConnSlot {
    /// Takes a place (the permit) and counts it in `gauge`.
    pub fn new(permit: OwnedSemaphorePermit, gauge: prometheus::IntGauge) -> Self {
        gauge.inc();
        ConnSlot {
            _slot: Arc::new(Slot {
                _permit: permit,
                gauge,
            }),
        }
    }
}

/// Reads every request body in full within `Limits::http_read_timeout` and up to
/// `Limits::max_body_bytes` before any handler runs: a slow sender (slowloris) gets 408, a
/// large body 413, and neither holds a handler. The bodies of this API and of the pages'
/// forms are small, so buffering them costs nothing.
pub async fn bounded_body(
    State(s): State<crate::api::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let limits = &s.hub.limits;
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes) {
        return too_large(&s, limits.max_body_bytes);
    }
    match tokio::time::timeout(
        limits.http_read_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await
    {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_big {
                too_large(&s, limits.max_body_bytes)
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    "the request body could not be read",
                )
                    .into_response()
            }
        }
        Err(_) => {
            s.hub
                .metrics
                .limit_violations
                .with_label_values(&["body_timeout"])
                .inc();
            let mut r = (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    limits.http_read_timeout.as_secs()
                ),
            )
                .into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

fn too_large(s: &crate::api::AppState, limit: usize) -> Response {
    s.hub
        .metrics
        .limit_violations
        .with_label_values(&["body_size"])
        .inc();
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {limit} bytes"),
    )
        .into_response()
}

/// The pages' content security policy: only this site's own stylesheet and images, no
/// scripts at all, no framing, forms only to this site.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// HSTS for a site served over https (one year; subdomains are left alone: the relay does
/// not know what else runs under its domain).
pub const HSTS: &str = "max-age=31536000";

/// Security headers on every answer: `nosniff`, no framing, no referrer to other sites, the
/// CSP on HTML, and HSTS when the site is served over https.
pub async fn security_headers(
    State(s): State<crate::api::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let https = s.site.is_https(peer, req.headers());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    resp
}

/// The answer to a connection over the global cap: written straight to the socket, then
/// closed.
pub fn refusal(limit: usize) -> Vec<u8> {
    let body = format!(
        "{{\"error\":\"too_many_connections\",\"message\":\"the relay is at its connection limit ({limit}); retry shortly\"}}"
    );
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// How long a refused connection is given to take its answer.
pub const REFUSAL_GRACE: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let site = Site {
            public_url: None,
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        };
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        // A client's own header is ignored.
        assert_eq!(site.client_ip(stranger, &headers(&["1.2.3.4"])), stranger);
        // Behind the proxy: the last address the proxy did not add itself.
        assert_eq!(
            site.client_ip(proxy, &headers(&["1.2.3.4, 198.51.100.7"])),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            site.client_ip(proxy, &headers(&["198.51.100.7", "10.0.0.9"])),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Nothing forwarded: the proxy itself.
        assert_eq!(site.client_ip(proxy, &headers(&[])), proxy);
    }

    #[test]
    fn public_urls_are_an_origin_only() {
        let u: PublicUrl = "https://Nabo.Example.dk/".parse().unwrap();
        assert_eq!(u.origin(), "https://nabo.example.dk");
        assert!(u.is_https());
        for bad in [
            "ftp://x",
            "https://x/sti",
            "https://u@x",
            "https://x?a=1",
            "x",
            "",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
        let site = Site {
            public_url: None,
            trusted_proxies: vec![],
        };
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "evil.example/\"><".parse().unwrap());
        assert_eq!(site.origin_for(None, &h), "http://localhost");
    }
}
