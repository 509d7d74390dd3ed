//! A Rust client of the relay: logs in over HTTP, joins over WebSocket and syncs
//! documents with automerge's sync module. It counts bytes and round trips so tests can
//! measure what a reconnect costs.

use std::time::Duration;

use crate::document::DocumentId;
use crate::wire::{PeerMetadata, WireMessage};
use automerge::Automerge;
use automerge::sync::{State, SyncDoc};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Client errors (no personal data in messages).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// HTTP failed or answered with an error status.
    #[error("http: {0}")]
    Http(String),
    /// WebSocket failed.
    #[error("websocket: {0}")]
    Ws(String),
    /// The relay answered something unexpected.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Automerge refused a message.
    #[error("automerge: {0}")]
    Automerge(String),
}

/// Result of the client.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

fn http(e: impl std::fmt::Display) -> ClientError {
    ClientError::Http(e.to_string())
}

fn ws_err(e: impl std::fmt::Display) -> ClientError {
    ClientError::Ws(e.to_string())
}

/// The WebSocket a [`Client`] runs on (plain or TLS).
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a [`Client`] runs on: any WebSocket, over TCP, TLS or another byte stream (the
/// deterministic simulation's network, docs/plans/simulation.md).
pub trait WsIo:
    futures_util::Stream<Item = std::result::Result<Ws, tokio_tungstenite::tungstenite::Error>>
    + futures_util::Sink<Ws, Error = tokio_tungstenite::tungstenite::Error>
    + Send
    + Unpin
{
}

impl<T> WsIo for T where
    T: futures_util::Stream<Item = std::result::Result<Ws, tokio_tungstenite::tungstenite::Error>>
        + futures_util::Sink<Ws, Error = tokio_tungstenite::tungstenite::Error>
        + Send
        + Unpin
{
}

/// Tokens from a login.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Tokens {
    /// JWT.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Seconds.
    pub expires_in: i64,
}

/// Logs in.
pub async fn login(base: &str, username: &str, password: &str) -> Result<Tokens> {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .map_err(http)?;
    if !r.status().is_success() {
        return Err(ClientError::Http(format!("login failed: {}", r.status())));
    }
    r.json().await.map_err(http)
}

/// The documents a token may sync.
pub async fn documents(base: &str, token: &str) -> Result<Vec<serde_json::Value>> {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/documents"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(http)?;
    if !r.status().is_success() {
        return Err(ClientError::Http(format!(
            "documents failed: {}",
            r.status()
        )));
    }
    r.json().await.map_err(http)
}

/// What a sync ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEnd {
    /// Both sides agree.
    Synced,
    /// The relay says the document does not exist (or may not be seen).
    Unavailable,
    /// The relay sent an error and closed.
    Error(String),
}

/// Traffic counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes of sync data sent.
    pub sent: usize,
    /// Bytes of sync data received.
    pub received: usize,
    /// Messages sent.
    pub messages_sent: usize,
    /// Round trips (a message sent and its answer received).
    pub round_trips: usize,
}

/// A connected client.
pub struct Client {
    ws: Box<dyn WsIo>,
    /// Our peer id.
    pub peer_id: String,
    /// The relay's peer id.
    pub relay_id: String,
    /// Counters since the last reset.
    pub traffic: Traffic,
    /// How long [`Client::sync`] listens for pushed updates once in agreement.
    pub settle: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({})", self.peer_id)
    }
}

impl Client {
    /// Connects and joins. `storage_id` makes the relay keep sync state for us.
    pub async fn connect(ws_url: &str, token: &str, storage_id: Option<&str>) -> Result<Self> {
        let req = Self::request(ws_url, token)?;
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(ws_err)?;
        Self::join(ws, storage_id).await
    }

    /// The WebSocket upgrade request for `ws_url` with the bearer token, for callers that
    /// open the socket themselves (e.g. with their own TLS configuration) and then
    /// [`Client::join`].
    pub fn request(
        ws_url: &str,
        token: &str,
    ) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
        let mut req = ws_url.into_client_request().map_err(ws_err)?;
        req.headers_mut().insert(
            "Authorization",
            format!("Bearer {token}").parse().map_err(ws_err)?,
        );
        Ok(req)
    }

    /// Joins over an open WebSocket. `storage_id` makes the relay keep sync state for us.
    pub async fn join(mut ws: impl WsIo + 'static, storage_id: Option<&str>) -> Result<Self> {
        let peer_id = format!("rust-{}", crate::entropy::uuid().simple());
        let join = WireMessage::Join {
            sender_id: peer_id.clone(),
            peer_metadata: PeerMetadata {
                storage_id: storage_id.map(str::to_owned),
                is_ephemeral: Some(storage_id.is_none()),
            },
            supported_protocol_versions: vec!["1".into()],
        };
        ws.send(Ws::Binary(join.encode().into()))
            .await
            .map_err(ws_err)?;
        let relay_id = loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .map_err(ws_err)?
            {
                Some(Ok(Ws::Binary(b))) => match WireMessage::decode(&b)
                    .map_err(|e| ClientError::Protocol(e.to_string()))?
                {
                    WireMessage::Peer { sender_id, .. } => break sender_id,
                    WireMessage::Error { message, .. } => {
                        return Err(ClientError::Protocol(message));
                    }
                    _ => {}
                },
                Some(Ok(_)) => {}
                _ => {
                    return Err(ClientError::Ws(
                        "connection ended before the relay answered".into(),
                    ));
                }
            }
        };
        Ok(Client {
            ws: Box::new(ws),
            peer_id,
            relay_id,
            traffic: Traffic::default(),
            settle: Duration::from_millis(300),
        })
    }

    /// Sends raw bytes (for tests of malformed input).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.ws.send(Ws::Binary(bytes.into())).await.map_err(ws_err)
    }

    /// Sends a protocol message.
    pub async fn send(&mut self, m: &WireMessage) -> Result<()> {
        self.send_raw(m.encode()).await
    }

    /// The next protocol message, or `None` on timeout / close.
    pub async fn recv(&mut self, wait: Duration) -> Option<WireMessage> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Ok(Some(Ok(Ws::Binary(b)))) => return WireMessage::decode(&b).ok(),
                Ok(Some(Ok(Ws::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => return None,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Waits for the connection to close; returns the close code and the last error text.
    pub async fn closed(&mut self, wait: Duration) -> (Option<u16>, Option<String>) {
        let mut error = None;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Ws::Binary(b)))) => {
                    if let Ok(WireMessage::Error { message, .. }) = WireMessage::decode(&b) {
                        error = Some(message);
                    }
                }
                Ok(Some(Ok(Ws::Close(f)))) => return (f.map(|f| u16::from(f.code)), error),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_))) | Ok(None) | Err(_) => return (None, error),
            }
        }
    }

    /// Syncs `doc` with the relay until neither side has anything to send. `state` is the
    /// persisted sync state with the relay (pass a fresh one for a first sync). Use
    /// `request = true` when we do not have the document yet.
    pub async fn sync(
        &mut self,
        id: DocumentId,
        doc: &mut Automerge,
        state: &mut State,
        request: bool,
    ) -> Result<SyncEnd> {
        let mut first = true;
        loop {
            let out = doc.generate_sync_message(state);
            let sent = out.is_some();
            if let Some(m) = out {
                let data = m.encode();
                self.traffic.sent += data.len();
                self.traffic.messages_sent += 1;
                let msg = if request && first {
                    WireMessage::Request {
                        sender_id: self.peer_id.clone(),
                        target_id: self.relay_id.clone(),
                        document_id: id.to_string(),
                        data,
                    }
                } else {
                    WireMessage::Sync {
                        sender_id: self.peer_id.clone(),
                        target_id: self.relay_id.clone(),
                        document_id: id.to_string(),
                        data,
                    }
                };
                first = false;
                self.send(&msg).await?;
            }
            // In agreement when the relay last told us it has exactly our heads, or when it
            // told us it will not take our changes (read-only access): ours stay local.
            let agreed = state.their_heads.as_deref() == Some(doc.get_heads().as_slice())
                || (state.peer_read_only && state.their_heads.is_some());
            // Even when in agreement, read what the relay may have pushed meanwhile.
            let wait = if agreed {
                self.settle
            } else {
                Duration::from_secs(5)
            };
            match self.recv(wait).await {
                Some(WireMessage::Sync {
                    document_id, data, ..
                }) if document_id == id.to_string() => {
                    if sent {
                        self.traffic.round_trips += 1;
                    }
                    self.traffic.received += data.len();
                    let m = crate::untrusted::sync_message(&data)
                        .map_err(|e| ClientError::Automerge(e.to_string()))?;
                    doc.receive_sync_message(state, m)
                        .map_err(|e| ClientError::Automerge(e.to_string()))?;
                }
                Some(WireMessage::DocUnavailable { document_id, .. })
                    if document_id == id.to_string() =>
                {
                    return Ok(SyncEnd::Unavailable);
                }
                Some(WireMessage::Error { message, .. }) => return Ok(SyncEnd::Error(message)),
                Some(_) => {}
                None if agreed => return Ok(SyncEnd::Synced),
                None => return Ok(SyncEnd::Error("no answer".into())),
            }
        }
    }
}
