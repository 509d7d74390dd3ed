//! The review pages' edges (issue 9, ADR 0014): where a login may redirect to, the relay
//! address in the enrolment QR code, cookie flags and security headers over http and https,
//! and two pages loading at once when the access token has expired.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{PASSWORD, no_redirects as client, relay};
use nabo_server::http::Site;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};

const PUBLIC: &str = "https://nabo.example.dk";

async fn https_relay() -> TestRelay {
    let r = TestRelay::start_configured(
        Backend::Sqlite,
        Limits::default(),
        Site {
            public_url: Some(PUBLIC.parse().unwrap()),
            trusted_proxies: vec![],
        },
        Default::default(),
    )
    .await
    .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    r
}

/// Logs in through the form; returns the `Set-Cookie` headers.
async fn login(r: &TestRelay, origin: &str, next: Option<&str>) -> reqwest::Response {
    let mut form = vec![("brugernavn", "central"), ("adgangskode", PASSWORD)];
    if let Some(n) = next {
        form.push(("naeste", n));
    }
    client()
        .post(format!("{}/log-ind", r.http()))
        .header(ORIGIN, origin)
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_header(set: &[String]) -> String {
    set.iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_after_login_never_leave_the_site() {
    let r = relay(Backend::Sqlite).await;
    let base = r.http();
    for (next, expected) in [
        ("/aktiviteter?fane=alle", "/aktiviteter?fane=alle"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\\/evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ok\r\nSet-Cookie: x=y", "/"),
        ("/\n/evil.example", "/"),
        (" /evil", "/"),
        ("/ø", "/"),
        ("", "/"),
    ] {
        let resp = login(&r, &base, Some(next)).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(resp.headers()[LOCATION], expected, "{next:?}");
    }
    // The form itself never carries a foreign target either (`naeste=/%09/host`).
    let page = client()
        .get(format!(
            "{base}/log-ind?naeste=/%09/evil.example&fejl=forkert"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"naeste\" value=\"/\""), "{html}");
    // A failed login keeps the target, re-checked.
    let resp = client()
        .post(format!("{base}/log-ind"))
        .header(ORIGIN, &base)
        .form(&[
            ("brugernavn", "central"),
            ("adgangskode", "forkert"),
            ("naeste", "/\r\n/evil"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[LOCATION], "/log-ind?fejl=forkert&naeste=/");
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_http_demo_keeps_plain_cookies_and_gets_security_headers() {
    let r = relay(Backend::Sqlite).await;
    let base = r.http();
    let resp = login(&r, &base, None).await;
    let set = cookies(&resp);
    assert_eq!(set.len(), 2);
    for c in &set {
        assert!(c.starts_with("nabo_"), "{c}");
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict"),
            "{c}"
        );
        assert!(
            !c.contains("Secure"),
            "a browser drops Secure cookies over http: {c}"
        );
    }
    let page = client()
        .get(format!("{base}/oversigt"))
        .header(COOKIE, cookie_header(&set))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers();
    assert_eq!(h["content-security-policy"], nabo_server::http::CSP);
    assert!(!nabo_server::http::CSP.contains("unsafe-inline"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over http"
    );
    // The pages need no inline script or style (the policy would block them).
    let html = page.text().await.unwrap();
    for inline in ["<script", " style=", "javascript:", " onclick="] {
        assert!(!html.contains(inline), "{inline}");
    }
    // The API answers carry the plain ones too.
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_https_cookies_are_secure_host_only_and_hsts_is_sent() {
    let r = https_relay().await;
    // The origin check follows the public URL.
    let foreign = login(&r, &r.http(), None).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let resp = login(&r, PUBLIC, None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let set = cookies(&resp);
    assert_eq!(set.len(), 2);
    for c in &set {
        assert!(c.starts_with("__Host-nabo_"), "{c}");
        assert!(
            c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"),
            "{c}"
        );
    }
    let page = client()
        .get(format!("{}/oversigt", r.http()))
        .header(COOKIE, cookie_header(&set))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()["strict-transport-security"],
        nabo_server::http::HSTS
    );
    // A cookie without the prefix (set over http by someone on the network) is ignored.
    let tossed = cookie_header(&set).replace("__Host-", "");
    let page = client()
        .get(format!("{}/oversigt", r.http()))
        .header(COOKIE, tossed)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    r.running.unwrap().shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_enrolment_qr_code_names_the_public_url_not_the_host_header() {
    let r = https_relay().await;
    let set = cookies(&login(&r, PUBLIC, None).await);
    let page = client()
        .post(format!("{}/administration/invitation", r.http()))
        .header(COOKIE, cookie_header(&set))
        .header(ORIGIN, PUBLIC)
        .header(HOST, "evil.example")
        .form(&[("bruger", "u-volunteer2")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg"), "the QR code");
    assert!(
        html.contains(&format!("<code id=\"relae\">{PUBLIC}</code>")),
        "{html}"
    );
    assert!(!html.contains("evil.example"));
    r.running.unwrap().shutdown().await;
}

/// The access token has expired and two pages load at once with the same refresh cookie:
/// both are served, with the same new pair, and the session goes on (before: the second
/// counted as reuse and signed the user out).
#[tokio::test(flavor = "multi_thread")]
async fn two_pages_loading_at_once_after_expiry_keep_the_session() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let base = r.http();
        let set = cookies(&login(&r, &base, None).await);
        // Only the refresh cookie: as if the access token had expired.
        let refresh_only = set
            .iter()
            .find(|c| c.starts_with("nabo_forny="))
            .map(|c| c.split(';').next().unwrap().to_owned())
            .unwrap();
        let load = |path: &'static str| {
            let (base, cookie) = (base.clone(), refresh_only.clone());
            async move {
                client()
                    .get(format!("{base}{path}"))
                    .header(COOKIE, cookie)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let (a, b) = tokio::join!(load("/oversigt"), load("/gennemgang"));
        assert_eq!(a.status(), StatusCode::OK, "{backend:?}");
        assert_eq!(b.status(), StatusCode::OK, "{backend:?}");
        let (ca, cb) = (cookies(&a), cookies(&b));
        assert_eq!(ca.len(), 2);
        assert_eq!(ca, cb, "{backend:?}: the same new pair");
        // The browser keeps one of them; the session goes on.
        let page = client()
            .get(format!("{base}/aktiviteter"))
            .header(COOKIE, cookie_header(&ca))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{backend:?}");
        r.running.unwrap().shutdown().await;
    }
}
