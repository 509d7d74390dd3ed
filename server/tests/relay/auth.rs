//! Authentication: passwords, token validation (pinned algorithm), expiry on a live socket,
//! refresh rotation with reuse detection, enrolment codes and device revocation, rate limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use base64::Engine;
use common::*;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_server::testing::{Backend, TestRelay};

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn sign(alg: jsonwebtoken::Algorithm, kid: &str, key: &[u8], claims: &serde_json::Value) -> String {
    let mut h = jsonwebtoken::Header::new(alg);
    h.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&h, claims, &jsonwebtoken::EncodingKey::from_secret(key)).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The relay's active signing key.
fn key(r: &TestRelay) -> (String, Vec<u8>) {
    let ring = r.relay().state.auth.keys().current();
    let (id, k) = ring.active();
    (id.to_owned(), k.to_vec())
}

/// Claims as the relay issues them, for `sub` in vestbyen, expiring at `exp`.
fn claims(r: &TestRelay, sub: &str, exp: i64) -> serde_json::Value {
    serde_json::json!({
        "sub": sub, "tid": "vestbyen", "iat": now(), "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string(),
        "aud": nabo_server::auth::AUDIENCE,
        "iss": r.relay().state.auth.issuer(),
    })
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

/// A login from client address `from` (through the trusted proxy).
async fn login_from(r: &TestRelay, from: &str, user: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", r.http()))
        .header("x-forwarded-for", from)
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn refresh(r: &TestRelay, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", r.http()))
        .json(&serde_json::json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

/// A phone's refresh, with the retry key it stored before asking (ADR 0038).
async fn refresh_with_key(r: &TestRelay, token: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/refresh", r.http()))
        .json(&serde_json::json!({"refresh_token": token, "retry_key": key}))
        .send()
        .await
        .unwrap()
}

/// No grace window: a second use of a refresh token is reuse at once.
fn no_grace() -> nabo_server::auth::AuthConfig {
    nabo_server::auth::AuthConfig {
        refresh_grace: Duration::ZERO,
        ..Default::default()
    }
}

/// Login limits that slow down quickly (tests do not wait seconds).
fn quick_limits() -> nabo_server::auth::AuthConfig {
    nabo_server::auth::AuthConfig {
        login: nabo_server::auth::limits::LoginLimits {
            max_delay: Duration::from_millis(300),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logins_answer_with_json_and_wrong_passwords_never_lock_the_owner_out() {
    for backend in Backend::all() {
        let r = relay_behind_proxy(backend, quick_limits()).await;
        let ok = login_from(&r, "198.51.100.1", "central", PASSWORD).await;
        assert_eq!(ok.status(), 200);
        let body: serde_json::Value = ok.json().await.unwrap();
        assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
        assert!(body["refresh_token"].as_str().unwrap().len() >= 40);
        assert!(body["expires_in"].as_i64().unwrap() <= 15 * 60);

        for (user, pw) in [("central", "wrong"), ("nobody", PASSWORD)] {
            let res = login_from(&r, "198.51.100.1", user, pw).await;
            assert_eq!(res.status(), 401);
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(
                body["error"], "bad_credentials",
                "the same answer for a wrong password and an unknown user"
            );
        }
        // Someone guesses outreach2's password from one address, 40 attempts at once: each
        // is counted before its password is checked, so only the address's allowance (20)
        // is checked at all, and the rest are refused unchecked.
        let attacker = "203.0.113.66";
        let attempts: Vec<_> = (0..40)
            .map(|i| {
                let r = &r;
                async move {
                    login_from(r, attacker, "outreach2", &format!("guess-{i}"))
                        .await
                        .status()
                        .as_u16()
                }
            })
            .collect();
        let answers = futures_util::future::join_all(attempts).await;
        let checked = answers.iter().filter(|s| **s == 401).count();
        let refused = answers.iter().filter(|s| **s == 429).count();
        assert_eq!(checked + refused, 40, "{backend:?}: {answers:?}");
        assert!(checked <= 20, "{backend:?}: {checked} checked: {answers:?}");
        assert!(refused >= 20, "{backend:?}");
        // The attacker's address stays refused, even with the right password.
        let res = login_from(&r, attacker, "outreach2", PASSWORD).await;
        assert_eq!(res.status(), 429, "{backend:?}");
        // The owner, from their own address, gets in (slowed down, not locked out).
        let res = login_from(&r, "198.51.100.20", "outreach2", PASSWORD).await;
        assert_eq!(
            res.status(),
            200,
            "{backend:?}: the owner is never locked out"
        );
        // Others are not affected.
        assert_eq!(
            login_from(&r, "198.51.100.21", "outreach1", PASSWORD)
                .await
                .status(),
            200
        );
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    // No trusted proxy: X-Forwarded-For is the client's own claim and is ignored, so an
    // attacker cannot spread guesses over made-up addresses.
    let r = TestRelay::start_configured(
        Backend::Sqlite,
        nabo_server::relay::Limits::default(),
        nabo_server::http::Site::default(),
        quick_limits(),
    )
    .await
    .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let mut answers = Vec::new();
    for i in 0..25 {
        answers.push(
            login_from(&r, &format!("192.0.2.{i}"), "outreach2", "guess")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        answers.iter().filter(|s| **s == 401).count(),
        20,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 429).count(),
        5,
        "{answers:?}"
    );
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_expired_and_wrong_algorithm_tokens_are_refused() {
    let r = relay(Backend::Sqlite).await;
    let (kid, k) = key(&r);
    let good = sign(
        jsonwebtoken::Algorithm::HS256,
        &kid,
        &k,
        &claims(&r, "u-central", now() + 60),
    );
    assert_eq!(status(&r, "/api/v1/me", &good).await, 200);
    // The leeway (5 s) on the relay's clock: just expired is still taken, 10 s past is not.
    for (ago, want) in [(2, 200), (10, 401)] {
        let t = sign(
            jsonwebtoken::Algorithm::HS256,
            &kid,
            &k,
            &claims(&r, "u-central", now() - ago),
        );
        assert_eq!(
            status(&r, "/api/v1/me", &t).await,
            want,
            "expired {ago} s ago"
        );
    }
    let expired = sign(
        jsonwebtoken::Algorithm::HS256,
        &kid,
        &k,
        &claims(&r, "u-central", now() - 120),
    );
    let other_alg = sign(
        jsonwebtoken::Algorithm::HS512,
        &kid,
        &k,
        &claims(&r, "u-central", now() + 60),
    );
    let other_key = sign(
        jsonwebtoken::Algorithm::HS256,
        &kid,
        b"0123456789abcdef0123456789abcdef",
        &claims(&r, "u-central", now() + 60),
    );
    let unknown_kid = sign(
        jsonwebtoken::Algorithm::HS256,
        "k-unknown",
        &k,
        &claims(&r, "u-central", now() + 60),
    );
    let no_kid = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(&r, "u-central", now() + 60),
        &jsonwebtoken::EncodingKey::from_secret(&k),
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": kid})),
        b64(&claims(&r, "u-central", now() + 60))
    );
    let mut other_tenant = claims(&r, "u-central", now() + 60);
    other_tenant["tid"] = "nordby".into();
    let mut other_audience = claims(&r, "u-central", now() + 60);
    other_audience["aud"] = "someone-else".into();
    let mut other_issuer = claims(&r, "u-central", now() + 60);
    other_issuer["iss"] = "nabo:another-installation".into();
    let mut no_jti = claims(&r, "u-central", now() + 60);
    no_jti.as_object_mut().unwrap().remove("jti");
    let mut no_aud = claims(&r, "u-central", now() + 60);
    no_aud.as_object_mut().unwrap().remove("aud");
    let signed = |c: &serde_json::Value| sign(jsonwebtoken::Algorithm::HS256, &kid, &k, c);
    for (name, t) in [
        ("expired", expired),
        ("HS512", other_alg),
        ("other key", other_key),
        ("unknown kid", unknown_kid),
        ("no kid", no_kid),
        ("alg none", none),
        ("other tenant", signed(&other_tenant)),
        ("other audience", signed(&other_audience)),
        ("other issuer", signed(&other_issuer)),
        ("no jti", signed(&no_jti)),
        ("no aud", signed(&no_aud)),
        ("garbage", "abc".to_string()),
    ] {
        assert_eq!(status(&r, "/api/v1/me", &t).await, 401, "{name}");
        assert!(
            Client::connect(&r.ws(), &t, None).await.is_err(),
            "{name}: the upgrade is refused"
        );
    }
    // What the relay issues carries all of them.
    let issued = client::login(&r.http(), "central", PASSWORD).await.unwrap();
    let header = jsonwebtoken::decode_header(&issued.access_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    let payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(issued.access_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    for claim in ["jti", "aud", "iss", "fam", "sub", "tid", "exp"] {
        assert!(payload.get(claim).is_some(), "{claim} in {payload}");
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
async fn the_signing_key_rotates_and_old_tokens_verify_until_their_key_is_dropped() {
    let r = relay(Backend::Sqlite).await;
    let auth = &r.relay().state.auth;
    let (first_kid, _) = key(&r);
    let old = token(&r, "central").await;
    let new_kid = nabo_server::auth::rotate_signing_key(auth.keys()).unwrap();
    assert_ne!(new_kid, first_kid);
    let fresh = token(&r, "central").await;
    assert_eq!(
        jsonwebtoken::decode_header(&fresh).unwrap().kid.as_deref(),
        Some(new_kid.as_str()),
        "new tokens are signed with the new key"
    );
    assert_eq!(
        status(&r, "/api/v1/me", &old).await,
        200,
        "the old key still verifies"
    );
    assert_eq!(status(&r, "/api/v1/me", &fresh).await, 200);
    // Two more rotations: the first key is gone, and so are its tokens.
    nabo_server::auth::rotate_signing_key(auth.keys()).unwrap();
    nabo_server::auth::rotate_signing_key(auth.keys()).unwrap();
    assert_eq!(auth.keys().current().ids().count(), 3);
    assert!(auth.keys().current().get(&first_kid).is_none());
    assert_eq!(status(&r, "/api/v1/me", &old).await, 401);
    assert_eq!(status(&r, "/api/v1/me", &fresh).await, 200);
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expiring_token_closes_the_socket_with_a_reason() {
    let r = relay(Backend::Sqlite).await;
    let (kid, k) = key(&r);
    let t = sign(
        jsonwebtoken::Algorithm::HS256,
        &kid,
        &k,
        &claims(&r, "u-volunteer1", now() + 2),
    );
    let mut c = Client::connect(&r.ws(), &t, None).await.unwrap();
    let (code, reason) = c.closed(Duration::from_secs(10)).await;
    assert_eq!(code, Some(4001));
    assert_eq!(reason.as_deref(), Some("access token expired"));
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_whole_login_and_its_access_tokens() {
    for backend in Backend::all() {
        let r = relay_behind_proxy(backend, no_grace()).await;
        let first = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        let res = refresh(&r, &first.refresh_token).await;
        assert_eq!(res.status(), 200);
        let second: serde_json::Value = res.json().await.unwrap();
        let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
        let second_access = second["access_token"].as_str().unwrap().to_owned();
        assert_ne!(second_refresh, first.refresh_token);
        assert_eq!(status(&r, "/api/v1/me", &second_access).await, 200);
        let mut socket = Client::connect(&r.ws(), &second_access, None)
            .await
            .unwrap();
        // Someone replays the first token: refused, and the family is revoked.
        let res = refresh(&r, &first.refresh_token).await;
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["error"],
            "token_reused"
        );
        let res = refresh(&r, &second_refresh).await;
        assert_eq!(
            res.status(),
            401,
            "{backend:?}: the legitimate holder must log in again"
        );
        // The family's access tokens stop working at once, on requests and sockets.
        assert_eq!(
            status(&r, "/api/v1/me", &second_access).await,
            401,
            "{backend:?}"
        );
        assert_eq!(
            status(&r, "/api/v1/me", &first.access_token).await,
            401,
            "{backend:?}"
        );
        assert!(
            Client::connect(&r.ws(), &second_access, None)
                .await
                .is_err()
        );
        let (code, _) = socket.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(4003), "{backend:?}: the open socket is closed");
        r.running.unwrap().shutdown().await;
    }
}

/// Found by the simulation (seeds 540 and 600 of the long run): the relay spent a phone's
/// refresh token and the answer was lost; the phone, offline for longer than the grace
/// window, asked again with the same token, was taken for a thief (reuse), and wiped itself,
/// unsynced records and all. With the retry key it stored before asking, it gets the pair it
/// missed however late, and the token without that key is still reuse.
#[tokio::test(flavor = "multi_thread")]
async fn a_phone_whose_refresh_answer_was_lost_asks_again_with_its_retry_key_however_late() {
    for backend in Backend::all() {
        // No grace at all: "however late".
        let r = relay_behind_proxy(backend, no_grace()).await;
        let first = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        let key = "k".repeat(43);
        let res = refresh_with_key(&r, &first.refresh_token, &key).await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let lost: serde_json::Value = res.json().await.unwrap();
        // The answer never arrived; the phone asks again with the same token and key.
        let res = refresh_with_key(&r, &first.refresh_token, &key).await;
        assert_eq!(res.status(), 200, "{backend:?}: the retry is not reuse");
        let again: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            again["refresh_token"], lost["refresh_token"],
            "{backend:?}: the pair it missed"
        );
        let access = again["access_token"].as_str().unwrap();
        assert_eq!(status(&r, "/api/v1/me", access).await, 200, "{backend:?}");
        // The pair rotates on; then the first token, even with its key, is reuse.
        let next =
            refresh_with_key(&r, lost["refresh_token"].as_str().unwrap(), &"n".repeat(43)).await;
        assert_eq!(next.status(), 200, "{backend:?}");
        let next: serde_json::Value = next.json().await.unwrap();
        let res = refresh_with_key(&r, &first.refresh_token, &key).await;
        assert_eq!(res.status(), 401, "{backend:?}: its successor was used");
        assert_eq!(
            res.json::<serde_json::Value>().await.unwrap()["error"],
            "token_reused"
        );
        assert_eq!(
            refresh(&r, next["refresh_token"].as_str().unwrap())
                .await
                .status(),
            401,
            "{backend:?}: the family ended"
        );

        // Someone who copied a token but not the key: reuse, as before.
        let second = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        assert_eq!(
            refresh_with_key(&r, &second.refresh_token, &key)
                .await
                .status(),
            200
        );
        for copied in [
            refresh(&r, &second.refresh_token).await,
            refresh_with_key(&r, &second.refresh_token, &"x".repeat(43)).await,
        ] {
            assert_eq!(copied.status(), 401, "{backend:?}");
        }

        // A key that cannot be one is refused by name.
        let third = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        let res = refresh_with_key(&r, &third.refresh_token, "short").await;
        assert_eq!(res.status(), 400, "{backend:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["field"], "retry_key", "{body}");
        assert_eq!(body["reason"], "invalid", "{body}");
        // Nothing was spent: the token still rotates.
        assert_eq!(refresh(&r, &third.refresh_token).await.status(), 200);
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_out_refuses_the_sessions_access_tokens_at_once() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let t = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        let other = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        let mut socket = Client::connect(&r.ws(), &t.access_token, None)
            .await
            .unwrap();
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/logout", r.http()))
            .json(&serde_json::json!({"refresh_token": t.refresh_token}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        assert_eq!(
            status(&r, "/api/v1/me", &t.access_token).await,
            401,
            "{backend:?}"
        );
        let (code, _) = socket.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(4003), "{backend:?}");
        // Another session of the same user goes on.
        assert_eq!(status(&r, "/api/v1/me", &other.access_token).await, 200);
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refreshes_of_one_token_rotate_it_once_and_share_the_new_pair() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let first = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        // Six at once (two page loads, a retry, …): one rotation; all get the same pair.
        let answers =
            futures_util::future::join_all((0..6).map(|_| refresh(&r, &first.refresh_token))).await;
        let mut pairs = Vec::new();
        for a in answers {
            assert_eq!(a.status(), 200, "{backend:?}");
            pairs.push(a.json::<serde_json::Value>().await.unwrap());
        }
        let refreshes: std::collections::BTreeSet<&str> = pairs
            .iter()
            .map(|p| p["refresh_token"].as_str().unwrap())
            .collect();
        assert_eq!(refreshes.len(), 1, "{backend:?}: exactly one rotation");
        let next = refreshes.into_iter().next().unwrap().to_owned();
        // The new pair works and rotates on.
        let res = refresh(&r, &next).await;
        assert_eq!(res.status(), 200, "{backend:?}");
        // The first token again, now that its successor was used: reuse.
        let res = refresh(&r, &first.refresh_token).await;
        assert_eq!(res.status(), 401, "{backend:?}");
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refreshes_without_grace_detect_reuse_and_rotate_at_most_once() {
    for backend in Backend::all() {
        let r = relay_behind_proxy(backend, no_grace()).await;
        let first = client::login(&r.http(), "central", PASSWORD).await.unwrap();
        let answers =
            futures_util::future::join_all((0..6).map(|_| refresh(&r, &first.refresh_token))).await;
        let ok = answers.iter().filter(|a| a.status() == 200).count();
        assert!(
            ok <= 1,
            "{backend:?}: {ok} of six concurrent refreshes rotated the token"
        );
        assert!(
            answers.iter().any(|a| a.status() == 401),
            "{backend:?}: the reuse is detected"
        );
        r.running.unwrap().shutdown().await;
    }
}

/// The relay's runtime has one worker here, so a hash on the runtime would hold up every
/// other request: `/healthz` must still answer while most of a burst of logins waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn healthz_answers_while_a_burst_of_logins_is_hashed() {
    const BURST: usize = 60;
    let r = relay_behind_proxy(
        Backend::Sqlite,
        nabo_server::auth::AuthConfig {
            password_workers: 1,
            // Not the login limits' test: no slow-down for the one account.
            login: nabo_server::auth::limits::LoginLimits {
                free_per_account: 1000,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let burst: Vec<_> = (0..BURST)
        .map(|i| {
            let (r, done) = (&r, done.clone());
            async move {
                let res = login_from(r, &format!("198.51.100.{i}"), "central", PASSWORD).await;
                assert_eq!(res.status(), 200);
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .collect();
    let health = async {
        // Once the burst is under way, ask how the relay is.
        while done.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let res = reqwest::get(format!("{}/healthz", r.http())).await.unwrap();
        assert_eq!(res.status(), 200);
        done.load(std::sync::atomic::Ordering::SeqCst)
    };
    let (_, logins_before_health) = tokio::join!(futures_util::future::join_all(burst), health);
    eprintln!("healthz after {logins_before_health} of {BURST} logins");
    assert!(
        logins_before_health < BURST / 2,
        "/healthz answered only after {logins_before_health} of {BURST} logins"
    );
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
