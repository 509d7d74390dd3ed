//! Authentication: passwords, token validation (pinned algorithm), expiry on a live socket,
//! refresh rotation with reuse detection, enrolment codes and device revocation, rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_server::testing::{Backend, TestRelay};

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn sign(alg: jsonwebtoken::Algorithm, key: &[u8], claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn key(r: &TestRelay) -> Vec<u8> {
    std::fs::read(r.dir.path().join("jwt.key")).unwrap()
}

async fn status(r: &TestRelay, path: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}{path}", r.http()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn logins_answer_with_json_and_wrong_passwords_are_rate_limited() {
    let r = relay(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let ok = http
        .post(format!("{}/api/v1/auth/login", r.http()))
        .json(&serde_json::json!({"username": "central", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);
    assert!(body["expires_in"].as_i64().unwrap() <= 15 * 60);

    for (user, pw) in [("central", "wrong"), ("nobody", PASSWORD)] {
        let res = http
            .post(format!("{}/api/v1/auth/login", r.http()))
            .json(&serde_json::json!({"username": user, "password": pw}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            body["error"], "bad_credentials",
            "the same answer for a wrong password and an unknown user"
        );
    }
    // Repeated wrong passwords lock the username for a while, even for the right password.
    let mut last = 0;
    for _ in 0..8 {
        last = http
            .post(format!("{}/api/v1/auth/login", r.http()))
            .json(&serde_json::json!({"username": "outreach2", "password": "guess"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
    let locked = http
        .post(format!("{}/api/v1/auth/login", r.http()))
        .json(&serde_json::json!({"username": "outreach2", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429);
    // Others are not affected.
    assert!(
        client::login(&r.http(), "outreach1", PASSWORD)
            .await
            .is_ok()
    );
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_expired_and_wrong_algorithm_tokens_are_refused() {
    let r = relay(Backend::Sqlite).await;
    let k = key(&r);
    let claims = |exp: i64| serde_json::json!({"sub": "u-central", "tid": "vestbyen", "iat": now(), "exp": exp});
    let good = sign(jsonwebtoken::Algorithm::HS256, &k, &claims(now() + 60));
    assert_eq!(status(&r, "/api/v1/me", &good).await, 200);
    let expired = sign(jsonwebtoken::Algorithm::HS256, &k, &claims(now() - 120));
    let other_alg = sign(jsonwebtoken::Algorithm::HS512, &k, &claims(now() + 60));
    let other_key = sign(
        jsonwebtoken::Algorithm::HS256,
        b"0123456789abcdef0123456789abcdef",
        &claims(now() + 60),
    );
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(now() + 60))
    );
    let other_tenant = sign(
        jsonwebtoken::Algorithm::HS256,
        &k,
        &serde_json::json!({"sub": "u-central", "tid": "nordby", "iat": now(), "exp": now() + 60}),
    );
    for (name, t) in [
        ("expired", &expired),
        ("HS512", &other_alg),
        ("other key", &other_key),
        ("alg none", &none),
        ("other tenant", &other_tenant),
        ("garbage", &"abc".to_string()),
    ] {
        assert_eq!(status(&r, "/api/v1/me", t).await, 401, "{name}");
        assert!(
            Client::connect(&r.ws(), t, None).await.is_err(),
            "{name}: the upgrade is refused"
        );
    }
    // No token at all.
    let res = reqwest::get(format!("{}/api/v1/documents", r.http()))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "missing_token");
    // The browser form: the token in the query string.
    let ws = format!("{}?access_token={good}", r.ws());
    let (mut sock, _) = tokio_tungstenite::connect_async(ws).await.unwrap();
    let _ = sock.close(None).await;
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expiring_token_closes_the_socket_with_a_reason() {
    let r = relay(Backend::Sqlite).await;
    let t = sign(
        jsonwebtoken::Algorithm::HS256,
        &key(&r),
        &serde_json::json!({"sub": "u-volunteer1", "tid": "vestbyen", "iat": now(), "exp": now() + 2}),
    );
    let mut c = Client::connect(&r.ws(), &t, None).await.unwrap();
    let (code, reason) = c.closed(Duration::from_secs(10)).await;
    assert_eq!(code, Some(4001));
    assert_eq!(reason.as_deref(), Some("access token expired"));
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_whole_login() {
    let r = relay(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let first = client::login(&r.http(), "central", PASSWORD).await.unwrap();
    let refresh = |t: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/auth/refresh", r.http());
        async move {
            http.post(url)
                .json(&serde_json::json!({"refresh_token": t}))
                .send()
                .await
                .unwrap()
        }
    };
    let res = refresh(first.refresh_token.clone()).await;
    assert_eq!(res.status(), 200);
    let second: serde_json::Value = res.json().await.unwrap();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh_token);
    // Someone replays the first token: refused, and the family is revoked.
    let res = refresh(first.refresh_token).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "token_reused"
    );
    let res = refresh(second_refresh).await;
    assert_eq!(res.status(), 401, "the legitimate holder must log in again");
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_volunteer_phone_enrols_with_a_one_time_code_and_can_be_revoked() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let http = reqwest::Client::new();
        let central = token(&r, "central").await;
        // Only central staff create codes.
        let ali = token(&r, "outreach1").await;
        let res = http
            .post(format!("{}/api/v1/enrolments", r.http()))
            .bearer_auth(&ali)
            .json(&serde_json::json!({"user_id": "u-volunteer2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let res = http
            .post(format!("{}/api/v1/enrolments", r.http()))
            .bearer_auth(&central)
            .json(&serde_json::json!({"user_id": "u-volunteer2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let code = res.json::<serde_json::Value>().await.unwrap()["code"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(code.len(), 11, "short and QR-friendly: {code}");
        // Typed on a phone: lower case, with spaces.
        let typed = code.to_lowercase().replace('-', " ");
        let res = http
            .post(format!("{}/api/v1/auth/enrol", r.http()))
            .json(&serde_json::json!({"code": typed, "device_name": "Jonas' telefon"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{backend:?}");
        let device: serde_json::Value = res.json().await.unwrap();
        let device_id = device["device_id"].as_str().unwrap().to_owned();
        let token = device["access_token"].as_str().unwrap().to_owned();
        // The code works once.
        let again = http
            .post(format!("{}/api/v1/auth/enrol", r.http()))
            .json(&serde_json::json!({"code": code, "device_name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 401);
        // The device syncs its register.
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let mut phone = Client::connect(&r.ws(), &token, Some("jonas-phone"))
            .await
            .unwrap();
        assert_eq!(fetch(&mut phone, reg).await.0, SyncEnd::Synced);
        // Revoking the device closes its socket at once, and its refresh token dies.
        let res = http
            .post(format!("{}/api/v1/devices/{device_id}/revoke", r.http()))
            .bearer_auth(&central)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        let (code, reason) = phone.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(4003));
        assert_eq!(reason.as_deref(), Some("device revoked"));
        let res = http
            .post(format!("{}/api/v1/auth/refresh", r.http()))
            .json(&serde_json::json!({"refresh_token": device["refresh_token"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(status(&r, "/api/v1/me", &token).await, 401);
        r.running.unwrap().shutdown().await;
    }
}
