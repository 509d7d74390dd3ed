//! The office: central staff erase one person (a child on a lektiecafé roll call) at a moment
//! the seed picks, through the relay's API over the simulated network, as the review pages'
//! staff would (`POST /api/v1/erasures`). After healing, the checks require that nothing
//! brought the person back: no key at the relay or on any phone, no name on any roll call.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::world::{Phase, World};

/// The office's login.
const USER: &str = "central";

/// One JSON request to the relay over the simulated network: (status, body).
async fn request(
    relay: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &serde_json::Value,
) -> Result<(u16, Vec<u8>), String> {
    use http_body_util::{BodyExt, Full};
    let io = turmoil::net::TcpStream::connect((relay, crate::net::RELAY_PORT))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut b = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, relay)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    if let Some(t) = bearer {
        b = b.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = b
        .body(Full::new(hyper::body::Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let answer = async {
        let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok::<_, String>((status, bytes.to_vec()))
    };
    let r = tokio::time::timeout(Duration::from_secs(20), answer)
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|r| r);
    driver.abort();
    r
}

/// Signs in as central staff and erases `subject`.
async fn erase(relay: &str, subject: &str) -> Result<(), String> {
    let (status, body) = request(
        relay,
        "POST",
        "/api/v1/auth/login",
        None,
        &serde_json::json!({"username": USER, "password": crate::template::PASSWORD}),
    )
    .await?;
    if status != 200 {
        return Err(format!("login: {status}"));
    }
    let tokens: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let token = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, body) = request(
        relay,
        "POST",
        "/api/v1/erasures",
        Some(&token),
        &serde_json::json!({"subject": subject, "reason": "request"}),
    )
    .await?;
    match status {
        201 => Ok(()),
        s => Err(format!("erasure: {s} {}", String::from_utf8_lossy(&body))),
    }
}

/// The office's program: from its moment on, erase the chosen person through relay node
/// `relay` until it succeeds.
pub async fn run(world: Rc<RefCell<World>>, relay: &'static str) -> turmoil::Result {
    // The person is picked at the first attempt and kept: a retry after a lost answer erases
    // the same person (the relay answers 201 again for one erased already), as staff would.
    let mut picked: Option<String> = None;
    loop {
        let (phase, due, done) = {
            let w = world.borrow();
            let due = w
                .erase_at
                .is_some_and(|at| turmoil::sim_elapsed().unwrap_or_default() >= at);
            (w.phase, due, w.erased.is_some())
        };
        if due && picked.is_none() {
            picked = world.borrow().erase_target();
        }
        let target = picked.clone();
        if phase == Phase::Report {
            return Ok(());
        }
        if due
            && !done
            && phase != Phase::Final
            && let Some(subject) = target
        {
            let r = erase(relay, &subject).await;
            let mut w = world.borrow_mut();
            let office = w.phones();
            match r {
                Ok(()) => {
                    w.log(office, "erase", "ok");
                    w.erased = Some(subject);
                }
                Err(e) => w.log(office, "erase", &format!("err: {e}")),
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
