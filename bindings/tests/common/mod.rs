//! Helpers shared by the bindings' tests: the demo tenant's password, signing in, an enrolled
//! phone, the review pages as a signed-in user, and a phone store's files as they are on disk.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use nabo_bindings::NaboClient;
use nabo_server::testing::TestRelay;

/// The password of every login of the demo tenant in the tests.
pub const PASSWORD: &str = "demo-password-for-tests";

/// An access token of `user` (a login name of the demo tenant).
pub async fn token(r: &TestRelay, user: &str) -> String {
    nabo_core::client::login(&r.http(), user, PASSWORD)
        .await
        .unwrap()
        .access_token
}

/// An access token of central staff.
pub async fn central_token(r: &TestRelay) -> String {
    token(r, "central").await
}

/// Central staff erase `subject` (`POST /api/v1/erasures`, reason `request`); the answer must
/// be 201. Returns the answer's body.
pub async fn erase(r: &TestRelay, subject: &str) -> serde_json::Value {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/erasures", r.http()))
        .bearer_auth(central_token(r).await)
        .json(&serde_json::json!({"subject": subject, "reason": "request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "erasure of {subject}");
    res.json().await.unwrap()
}

/// A session of the demo's lektiecafé today, 15:00-17:00, added on `phone`.
pub async fn lektiecafe_today(phone: &NaboClient) -> nabo_bindings::api::SessionInfo {
    phone
        .add_session(
            "act-lektiecafe".into(),
            today(),
            "15:00".into(),
            "17:00".into(),
            None,
        )
        .await
        .unwrap()
}

/// A one-time enrolment code for the login `user` (an id), made by central staff.
pub async fn enrolment_code(r: &TestRelay, user: &str) -> String {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/enrolments", r.http()))
        .bearer_auth(central_token(r).await)
        .json(&serde_json::json!({"user_id": user}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["code"].as_str().unwrap().to_owned()
}

/// A phone with its store in `dir` (store key `[key; 32]`), enrolled for the login `user`
/// (an id) and synced once.
pub async fn enrolled_phone(
    r: &TestRelay,
    dir: &std::path::Path,
    key: u8,
    user: &str,
) -> Arc<NaboClient> {
    let code = enrolment_code(r, user).await;
    let c = NaboClient::open(dir.display().to_string(), r.http(), vec![key; 32])
        .await
        .unwrap();
    c.enrol(code, user.into()).await.unwrap();
    c.sync_now().await.unwrap();
    c
}

/// A signed-in review-page session of `user` (a login name): the client, which follows no
/// redirects, and its cookies.
pub async fn web_session(r: &TestRelay, user: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = r.http();
    let login = http
        .post(format!("{base}/log-ind"))
        .header(reqwest::header::ORIGIN, &base)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        // Login names and the password are URL-safe as they stand.
        .body(format!("brugernavn={user}&adgangskode={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303, "{user} signs in");
    let cookies: Vec<String> = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    (http, cookies.join("; "))
}

/// A review page's text as `user` (a login name) sees it.
pub async fn web_page(r: &TestRelay, user: &str, path: &str) -> String {
    let (http, cookies) = web_session(r, user).await;
    let res = http
        .get(format!("{}{path}", r.http()))
        .header(reqwest::header::COOKIE, cookies)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.text().await.unwrap()
}

/// A phone store's files as they are on disk: the database, its WAL and shared memory.
pub fn store_bytes(dir: &std::path::Path) -> Vec<u8> {
    let db = dir.join("nabo.sqlite");
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut f = db.clone().into_os_string();
        f.push(suffix);
        bytes.extend(std::fs::read(f).unwrap_or_default());
    }
    bytes
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Today in Denmark, as the phone's API takes dates.
pub fn today() -> String {
    nabo_core::time::Timestamp::now().date_dk().to_string()
}
