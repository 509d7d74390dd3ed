//! The relay's whole HTTP application (`nabo_server::app`: routing, body limits, extractors,
//! handlers, SQLite storage with the demo tenant) called in-process, one request at a time.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use tower::ServiceExt;

const PASSWORD: &str = "fuzz-password-42";

/// A relay with the demo tenant and signed-in callers.
pub struct Relay {
    rt: tokio::runtime::Runtime,
    relay: TestRelay,
    app: axum::Router,
    /// Bearer token of central staff.
    pub central: String,
    /// Bearer token of a volunteer.
    pub volunteer: String,
    /// `@name@` placeholders a seed may use for ids that differ per run (documents, users).
    places: Vec<(String, String)>,
}

/// An answer: status and body.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Relay {
    /// Starts the relay on a fresh SQLite database and signs in.
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let relay = rt.block_on(async {
            let r = TestRelay::start(Backend::Sqlite, Limits::default())
                .await
                .unwrap_or_else(|e| panic!("relay: {e}"));
            r.seed_demo(PASSWORD)
                .await
                .unwrap_or_else(|e| panic!("demo: {e}"));
            r
        });
        let app = nabo_server::app(relay.relay().state.clone());
        let mut me = Relay {
            rt,
            relay,
            app,
            central: String::new(),
            volunteer: String::new(),
            places: Vec::new(),
        };
        me.central = me.login("central");
        me.volunteer = me.login("volunteer1");
        let docs = me.json("GET", "/api/v1/documents", &me.central.clone());
        for d in docs.as_array().into_iter().flatten() {
            let (Some(kind), Some(url)) = (d["kind"].as_str(), d["url"].as_str()) else {
                continue;
            };
            let key = format!("@{kind}@");
            if !me.places.iter().any(|(k, _)| *k == key)
                && let Ok(id) = nabo_core::document::DocumentId::parse(url)
            {
                me.places.push((key, id.to_string()));
            }
        }
        let user = me.json("GET", "/api/v1/me", &me.volunteer.clone());
        if let Some(u) = user["user_id"].as_str() {
            me.places.push(("@user@".into(), u.to_owned()));
        }
        me
    }

    fn login(&self, user: &str) -> String {
        let body = serde_json::json!({"username": user, "password": PASSWORD}).to_string();
        let a = self.request(
            "POST",
            "/api/v1/auth/login",
            &[("content-type", "application/json".into())],
            body.into_bytes(),
        );
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap_or_default();
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {user} failed: {}", a.status))
            .to_owned()
    }

    fn json(&self, method: &str, path: &str, token: &str) -> serde_json::Value {
        let a = self.request(
            method,
            path,
            &[("authorization", format!("Bearer {token}"))],
            Vec::new(),
        );
        serde_json::from_slice(&a.body).unwrap_or_default()
    }

    /// Replaces the `@name@` placeholders (see [`Relay::places`]).
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (k, v) in &self.places {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), v);
            }
        }
        out
    }

    /// Sends one request through the whole application.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Answer {
        let peer: SocketAddr = ([127, 0, 0, 1], 40000).into();
        let host = self.relay.relay().addr.to_string();
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", host);
        for (k, v) in headers {
            b = b.header(*k, v.as_str());
        }
        let Ok(mut req) = b.body(Body::from(body)) else {
            // Not a request a client could send (the fuzzer made a header value invalid).
            return Answer {
                status: 400,
                body: Vec::new(),
            };
        };
        req.extensions_mut().insert(ConnectInfo(peer));
        self.rt.block_on(async {
            let resp = match self.app.clone().oneshot(req).await {
                Ok(r) => r,
                Err(e) => match e {},
            };
            let status = resp.status().as_u16();
            let body = axum::body::to_bytes(resp.into_body(), 16 << 20)
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default();
            Answer { status, body }
        })
    }
}
