//! Staff sign-in with the organisation's identity provider (ADR 0017), against a real OpenID
//! Connect server started here: npm `oidc-provider` (tests/js/oidc.mjs), on SQLite and
//! PostgreSQL. Groups give roles, an activation link links an identity, a login disabled in
//! Nabo is refused, and a replayed state, a wrong issuer, a wrong audience and an expired ID
//! token are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::*;
use nabo_server::testing::{Backend, TestRelay};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/js")
}

fn available() -> bool {
    let ok = js_dir().join("node_modules/oidc-provider").exists()
        && Command::new("node").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("NABO_REQUIRE_JS").is_err(),
            "NABO_REQUIRE_JS is set but node or tests/js/node_modules/oidc-provider is missing"
        );
        eprintln!("skipped: node or oidc-provider missing (cargo xtask test installs them)");
    }
    ok
}

/// The test identity provider (a child process, killed on drop).
struct Idp {
    child: Child,
    issuer: String,
    /// Its output, kept open (a closed pipe would end it at its next line).
    _out: std::io::BufReader<std::process::ChildStdout>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn idp(relay: &TestRelay, extra: &[&str]) -> Idp {
    let mut child = Command::new("node")
        .arg("oidc.mjs")
        .arg(format!("{}/oidc/callback", relay.http()))
        .args(extra)
        .current_dir(js_dir())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(relay.dir.path().join("idp.log")).unwrap())
        .spawn()
        .expect("node runs");
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("oidc.mjs: {line}"));
    Idp {
        child,
        issuer: v["issuer"].as_str().unwrap().to_owned(),
        _out: out,
    }
}

/// Cookies by name (the relay's and the provider's share 127.0.0.1, as in a browser).
#[derive(Default, Clone)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn take(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.to_ascii_lowercase().contains("max-age=0") || v.is_empty() {
                self.0.remove(k.trim());
            } else {
                self.0.insert(k.trim().to_owned(), v.to_owned());
            }
        }
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let r = no_redirects()
            .get(url)
            .header(COOKIE, self.header())
            .send()
            .await
            .unwrap();
        self.take(&r);
        r
    }
}

/// Where the browser is after the provider: the callback URL (not yet opened).
async fn to_callback(
    base: &str,
    start: &str,
    login: &str,
    jar: &mut Jar,
) -> Result<String, (StatusCode, String)> {
    let mut url = format!("{base}{start}");
    for _ in 0..20 {
        if url.starts_with(&format!("{base}/oidc/callback")) {
            return Ok(url);
        }
        let r = jar.get(&url).await;
        let status = r.status();
        if status.is_redirection() {
            let to = r.headers()[LOCATION].to_str().unwrap().to_owned();
            url = if to.starts_with('/') {
                let origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
                format!("{origin}{to}")
            } else {
                to
            };
            continue;
        }
        let body = r.text().await.unwrap();
        let Some(action) = body
            .split("action=\"")
            .nth(1)
            .and_then(|a| a.split('"').next())
        else {
            return Err((status, body));
        };
        // The provider's login form.
        let origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        let r = no_redirects()
            .post(format!("{origin}{action}"))
            .header(COOKIE, jar.header())
            .form(&[("login", login), ("password", "test-password")])
            .send()
            .await
            .unwrap();
        jar.take(&r);
        assert!(
            r.status().is_redirection(),
            "login at the provider: {}",
            r.status()
        );
        let to = r.headers()[LOCATION].to_str().unwrap().to_owned();
        url = if to.starts_with('/') {
            format!("{origin}{to}")
        } else {
            to
        };
    }
    panic!("too many redirects");
}

/// Signs in through the provider; the relay's final answer and the browser's cookies.
async fn sign_in(base: &str, start: &str, login: &str) -> (StatusCode, String, Jar) {
    let mut jar = Jar::default();
    match to_callback(base, start, login, &mut jar).await {
        Ok(cb) => {
            let r = jar.get(&cb).await;
            let status = r.status();
            (status, r.text().await.unwrap(), jar)
        }
        Err((status, body)) => (status, body, jar),
    }
}

async fn configure(r: &TestRelay, tenant: &str, issuer: &str, client: (&str, &str), groups: Value) {
    let resp = reqwest::Client::new()
        .put(format!("{}/api/v1/admin/tenants/{tenant}/oidc", r.http()))
        .bearer_auth(&r.operator_token)
        .json(&json!({
            "issuer": issuer, "client_id": client.0, "client_secret": client.1,
            "scopes": "profile email groups", "groups": groups, "label": "Testudbyder"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "{}",
        resp.text().await.unwrap()
    );
}

fn session_cookie(jar: &Jar) -> Option<String> {
    jar.0.get("nabo_adgang").cloned()
}

async fn me(base: &str, token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const GROUPS: &str = r#"{"nabo-central": "central", "nabo-outreach": "outreach"}"#;

#[tokio::test(flavor = "multi_thread")]
async fn staff_sign_in_through_the_organisations_provider() {
    if !available() {
        return;
    }
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let p = idp(&r, &[]);
        configure(
            &r,
            "vestbyen",
            &p.issuer,
            ("nabo", "nabo-secret"),
            serde_json::from_str(GROUPS).unwrap(),
        )
        .await;
        let login = reqwest::get(format!("{base}/log-ind?lejer=vestbyen"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(login.contains("Log ind med Testudbyder"), "{login}");

        // Anna's group makes her central staff at her first sign-in; the next is the same login.
        let (status, page, jar) =
            sign_in(&base, "/oidc/vestbyen/start?naeste=/personer", "anna").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("url=/personer"), "{page}");
        let anna = me(&base, &session_cookie(&jar).expect("a session")).await;
        assert_eq!(
            (anna["role"].as_str(), anna["display_name"].as_str()),
            (Some("central"), Some("Anna Andersen"))
        );
        let (_, _, again) = sign_in(&base, "/oidc/vestbyen/start", "anna").await;
        assert_eq!(
            me(&base, &session_cookie(&again).unwrap()).await["user_id"],
            anna["user_id"]
        );
        let pages = no_redirects()
            .get(format!("{base}/personer"))
            .header(COOKIE, jar.header())
            .send()
            .await
            .unwrap();
        assert_eq!(pages.status(), StatusCode::OK);

        // Bo's group gives outreach; Carl's none.
        let (_, _, jar) = sign_in(&base, "/oidc/vestbyen/start", "bo").await;
        assert_eq!(
            me(&base, &session_cookie(&jar).unwrap()).await["role"],
            "outreach"
        );
        let (status, page, jar) = sign_in(&base, "/oidc/vestbyen/start", "carl").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("har ikke adgang til Nabo") && session_cookie(&jar).is_none(),
            "{page}"
        );

        // Disabled in Nabo: the provider's "yes" is not enough.
        let (_, _, jar) = sign_in(&base, "/oidc/vestbyen/start", "dina").await;
        let dina = me(&base, &session_cookie(&jar).unwrap()).await;
        let central = token(&r, "central").await;
        let resp = reqwest::Client::new()
            .post(format!(
                "{base}/api/v1/users/{}/revoke",
                dina["user_id"].as_str().unwrap()
            ))
            .bearer_auth(&central)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let (status, page, jar) = sign_in(&base, "/oidc/vestbyen/start", "dina").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("spærret") && session_cookie(&jar).is_none(),
            "{page}"
        );

        // A state is used once, and only in the browser that started it.
        let mut jar = Jar::default();
        let cb = to_callback(&base, "/oidc/vestbyen/start", "anna", &mut jar)
            .await
            .unwrap();
        let mut other = Jar::default();
        let resp = other.get(&cb).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "another browser");
        let mut jar = Jar::default();
        let cb = to_callback(&base, "/oidc/vestbyen/start", "anna", &mut jar)
            .await
            .unwrap();
        let mut copy = jar.clone();
        assert_eq!(jar.get(&cb).await.status(), StatusCode::OK);
        let replay = copy.get(&cb).await;
        assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "a replayed state");
        assert!(replay.text().await.unwrap().contains("allerede brugt"));
        assert!(session_cookie(&copy).is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activation_link_links_the_identity_when_groups_do_not_decide() {
    if !available() {
        return;
    }
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Default::default()).await.unwrap();
        let base = r.http();
        let p = idp(&r, &[]);
        let created: Value = reqwest::Client::new().post(format!("{base}/api/v1/admin/tenants")).bearer_auth(&r.operator_token)
            .json(&json!({"name": "Boligsocial Østby", "admin_email": "carl@oestby.example", "admin_name": "Carl Christensen"}))
            .send().await.unwrap().json().await.unwrap();
        let tenant = created["tenant"].as_str().unwrap();
        assert_eq!(tenant, "boligsocial-oestby");
        configure(&r, tenant, &p.issuer, ("nabo", "nabo-secret"), json!({})).await;
        // Without a link and without groups deciding, nobody gets in.
        let (status, _, _) = sign_in(&base, &format!("/oidc/{tenant}/start"), "carl").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // The activation page offers the provider; signing in there links Carl's identity.
        let url = created["activation_url"].as_str().unwrap();
        let code = url.split("kode=").nth(1).unwrap();
        let page = reqwest::get(url).await.unwrap().text().await.unwrap();
        assert!(page.contains("Log ind med Testudbyder"), "{page}");
        let (status, _, jar) =
            sign_in(&base, &format!("/oidc/{tenant}/start?kode={code}"), "carl").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            me(&base, &session_cookie(&jar).unwrap()).await["user_id"],
            created["user_id"]
        );
        // The link is spent; Carl signs in again without it.
        assert_eq!(reqwest::get(url).await.unwrap().status(), StatusCode::GONE);
        let (status, _, jar) = sign_in(&base, &format!("/oidc/{tenant}/start"), "carl").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            me(&base, &session_cookie(&jar).unwrap()).await["role"],
            "central"
        );
        // An identity cannot be linked to a second login.
        let t = session_cookie(&jar).unwrap();
        let second: Value = reqwest::Client::new().post(format!("{base}/api/v1/users")).bearer_auth(&t)
            .json(&json!({"kind": "staff", "name": "Anden Carl", "role": "outreach", "email": "c2@oestby.example"}))
            .send().await.unwrap().json().await.unwrap();
        let code2 = second["activation_url"]
            .as_str()
            .unwrap()
            .split("kode=")
            .nth(1)
            .unwrap()
            .to_owned();
        let (status, page, _) =
            sign_in(&base, &format!("/oidc/{tenant}/start?kode={code2}"), "carl").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("allerede knyttet"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_issuer_a_wrong_audience_and_an_expired_id_token_are_refused() {
    if !available() {
        return;
    }
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let p = idp(&r, &[]);
        let groups: Value = serde_json::from_str(GROUPS).unwrap();
        let failures =
            || async { metric(&r.http(), "nabo_auth_failures_total{reason=\"oidc\"}").await };
        // The control: the same provider and client sign Anna in.
        configure(
            &r,
            "vestbyen",
            &p.issuer,
            ("nabo", "nabo-secret"),
            groups.clone(),
        )
        .await;
        let (status, _, _) = sign_in(&base, "/oidc/vestbyen/start", "anna").await;
        assert_eq!(status, StatusCode::OK);

        // ID tokens whose issuer is not the one the discovery document named.
        configure(
            &r,
            "vestbyen",
            &format!("{}/mixup", p.issuer),
            ("nabo", "nabo-secret"),
            groups.clone(),
        )
        .await;
        let (status, page, jar) = sign_in(&base, "/oidc/vestbyen/start", "anna").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("id-token-issuer") && session_cookie(&jar).is_none(),
            "{page}"
        );
        // A discovery document that names another issuer.
        configure(
            &r,
            "vestbyen",
            &p.issuer.replace("127.0.0.1", "localhost"),
            ("nabo", "nabo-secret"),
            groups.clone(),
        )
        .await;
        let resp = no_redirects()
            .get(format!("{base}/oidc/vestbyen/start"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);

        // An ID token issued to another client.
        configure(
            &r,
            "vestbyen",
            &p.issuer,
            ("nabo-swapped", "swapped-secret"),
            groups.clone(),
        )
        .await;
        let (status, page, jar) = sign_in(&base, "/oidc/vestbyen/start", "anna").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("id-token-audience") && session_cookie(&jar).is_none(),
            "{page}"
        );

        // An expired ID token: the provider's clock is two hours behind.
        let late = idp(&r, &["--clock-offset", "-7200"]);
        configure(
            &r,
            "vestbyen",
            &late.issuer,
            ("nabo", "nabo-secret"),
            groups.clone(),
        )
        .await;
        let (status, page, jar) = sign_in(&base, "/oidc/vestbyen/start", "anna").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("id-token-expired") && session_cookie(&jar).is_none(),
            "{page}"
        );
        assert_eq!(failures().await, 3.0);
    }
}
