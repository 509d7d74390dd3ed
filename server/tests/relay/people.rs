//! Tenants and people over HTTP (ADR 0017), on SQLite and PostgreSQL: a tenant made by the
//! operator and on the command line, one-time activation and reset links, the password rules,
//! disabling (tokens and phones stop at once), who may use the people pages and APIs, other
//! tenants' people invisible, contact details sealed, and what the forms say afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::*;
use nabo_server::testing::{Backend, TestRelay};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

/// A signed-in browser on the pages.
struct Page {
    base: String,
    cookies: String,
}

impl Page {
    async fn login(base: &str, user: &str, password: &str) -> Page {
        let resp = no_redirects()
            .post(format!("{base}/log-ind"))
            .header(ORIGIN, base)
            .form(&[("brugernavn", user), ("adgangskode", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let cookies: Vec<String> = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect();
        assert_eq!(cookies.len(), 2, "{user} did not get a session");
        Page {
            base: base.to_owned(),
            cookies: cookies.join("; "),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = no_redirects()
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookies)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        no_redirects()
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookies)
            .header(ORIGIN, &self.base)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts and follows the 303 to the page that says what happened.
    async fn post_then_page(&self, path: &str, form: &[(&str, &str)]) -> (String, String) {
        let r = self.post(path, form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let to = r.headers()[LOCATION].to_str().unwrap().to_owned();
        let (status, body) = self.get(&to).await;
        assert_eq!(status, StatusCode::OK, "{to}");
        (to, body)
    }
}

fn code_of(url: &str) -> String {
    url.split("kode=").nth(1).unwrap().to_owned()
}

async fn api(
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post_api(base: &str, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    api(reqwest::Method::POST, format!("{base}{path}"), token, body).await
}

/// Chooses a password on an activation or reset page.
async fn choose(
    base: &str,
    page: &str,
    code: &str,
    password: &str,
    repeat: &str,
) -> reqwest::Response {
    no_redirects()
        .post(format!("{base}/{page}"))
        .header(ORIGIN, base)
        .form(&[
            ("kode", code),
            ("adgangskode", password),
            ("gentag", repeat),
        ])
        .send()
        .await
        .unwrap()
}

const GOOD: &str = "lektiecafeen holder aaben hver tirsdag";

#[tokio::test]
async fn the_operator_creates_a_tenant_whose_administrator_activates_once() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let input = json!({"name": "Boligsocial Nordby", "admin_email": "anne@nordby.example", "admin_name": "Anne Holm"});
        // The operator's credential, not a user's token.
        let central = token(&r, "central").await;
        let (status, _) = post_api(&base, "/api/v1/admin/tenants", &central, input.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{backend:?}: a user's token"
        );
        let (status, created) = post_api(
            &base,
            "/api/v1/admin/tenants",
            &r.operator_token,
            input.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["tenant"], "boligsocial-nordby");
        assert_eq!(created["username"], "anne");
        assert_eq!(created["mailed"], true);
        let url = created["activation_url"].as_str().unwrap().to_owned();
        let mail = r.mails().pop().unwrap();
        assert!(
            mail.contains("To: anne@nordby.example\r\n") && mail.contains(&url),
            "{mail}"
        );
        let (status, again) =
            post_api(&base, "/api/v1/admin/tenants", &r.operator_token, input).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (again["field"].as_str(), again["reason"].as_str()),
            (Some("id"), Some("taken"))
        );

        // Looking at the link does not spend it; weak passwords are refused on the page.
        let code = code_of(&url);
        let page = reqwest::get(&url).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let text = page.text().await.unwrap();
        assert!(
            text.contains("Vælg adgangskode") && text.contains("anne"),
            "{text}"
        );
        for (pw, repeat, says) in [
            ("kort kode", "kort kode", "mindst 15 tegn"),
            ("passwordpassword", "passwordpassword", "lækkede"),
            (GOOD, "noget andet helt", "ikke ens"),
        ] {
            let resp = choose(&base, "aktiver", &code, pw, repeat).await;
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{pw}");
            let body = resp.text().await.unwrap();
            assert!(body.contains(says), "{pw}: {body}");
        }
        let resp = choose(&base, "aktiver", &code, GOOD, GOOD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[LOCATION], "/log-ind?besked=aktiveret");
        let login = reqwest::get(format!("{base}/log-ind?besked=aktiveret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(login.contains("din bruger er aktiveret"), "{login}");
        // Used once.
        let resp = choose(&base, "aktiver", &code, GOOD, GOOD).await;
        assert_eq!(resp.status(), StatusCode::GONE);
        assert!(resp.text().await.unwrap().contains("allerede brugt"));
        assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::GONE);

        // The new administrator manages only their own tenant's people.
        let anne = Page::login(&base, "anne", GOOD).await;
        let (status, list) = anne.get("/personer").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            list.contains("Anne Holm") && !list.contains("Maja") && !list.contains("Mette"),
            "{list}"
        );
        assert_eq!(
            anne.get("/personer/u-volunteer1").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            anne.post("/personer/u-volunteer1/spaer", &[])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let anne_token = nabo_core::client::login(&base, "anne", GOOD)
            .await
            .unwrap()
            .access_token;
        for path in [
            "/api/v1/users/u-volunteer1/enable",
            "/api/v1/users/u-volunteer1/password-reset",
            "/api/v1/users/u-volunteer1/revoke",
        ] {
            let (status, _) = post_api(&base, path, &anne_token, json!({})).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let mette = Page::login(&base, "central", PASSWORD).await;
        let anne_id = created["user_id"].as_str().unwrap();
        assert_eq!(
            mette.get(&format!("/personer/{anne_id}")).await.0,
            StatusCode::NOT_FOUND
        );
        assert!(
            !r.storage()
                .user("u-volunteer1")
                .await
                .unwrap()
                .unwrap()
                .disabled
        );
    }
}

#[tokio::test]
async fn tenant_create_on_the_command_line_prints_a_working_link_and_logs_no_token() {
    for backend in Backend::all() {
        let dir = tempfile::tempdir().unwrap();
        let db = nabo_server::testing::fresh_database(backend, dir.path())
            .await
            .unwrap();
        let kek = dir.path().join("kek.keys");
        run_ok(
            Command::new(env!("CARGO_BIN_EXE_nabo-server"))
                .args(["kek", "generate", "--out"])
                .arg(&kek),
        );
        let port = free_port();
        let out = Command::new(env!("CARGO_BIN_EXE_nabo-server"))
            .args(["--data-dir"])
            .arg(dir.path())
            .args(["--key-file"])
            .arg(&kek)
            .args([
                "--database-url",
                &db,
                "--public-url",
                &format!("http://127.0.0.1:{port}"),
            ])
            .args([
                "tenant",
                "create",
                "--name",
                "Boligsocial Sydby",
                "--admin-email",
                "bo@sydby.example",
                "--admin-name",
                "Bo Sydby",
            ])
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        let url = stdout
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("http://127.0.0.1:{port}/aktiver?kode="))
            })
            .map(|c| format!("http://127.0.0.1:{port}/aktiver?kode={c}"))
            .unwrap_or_else(|| panic!("{stdout}"));
        assert!(stdout.contains("brugernavn: bo.sydby"), "{stdout}");
        assert!(
            !stderr.contains(&code_of(&url)),
            "the token is in the log: {stderr}"
        );
        // The same name again is refused, naming the field.
        let again = Command::new(env!("CARGO_BIN_EXE_nabo-server"))
            .args(["--data-dir"])
            .arg(dir.path())
            .args(["--key-file"])
            .arg(&kek)
            .args(["--database-url", &db])
            .args([
                "tenant",
                "create",
                "--name",
                "Boligsocial Sydby",
                "--admin-email",
                "x@sydby.example",
            ])
            .output()
            .unwrap();
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("id: taken"));

        // The relay, started on that database, takes the link.
        let mut child = spawn_relay_with_kek(
            dir.path(),
            &kek,
            &db,
            port,
            false,
            &["--public-url", &format!("http://127.0.0.1:{port}")],
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_healthy(&base).await;
        let resp = choose(&base, "aktiver", &code_of(&url), GOOD, GOOD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let t = nabo_core::client::login(&base, "bo.sydby", GOOD)
            .await
            .unwrap()
            .access_token;
        let me: Value = reqwest::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (me["tenant"].as_str(), me["role"].as_str()),
            (Some("boligsocial-sydby"), Some("central"))
        );
        // Its documents are there: the tenant, staff and volunteer directories.
        let docs = nabo_core::client::documents(&base, &t).await.unwrap();
        assert_eq!(docs.len(), 3, "{docs:?}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

async fn expire_links(r: &TestRelay) {
    let sql = "UPDATE user_links SET expires_at = 1";
    match r.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&r.database_url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&r.database_url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
    }
}

#[tokio::test]
async fn expired_links_and_weak_passwords_are_refused_naming_the_field() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let central = token(&r, "central").await;
        let (status, created) = post_api(&base, "/api/v1/users", &central, json!({
            "kind": "staff", "name": "Karin Lund", "role": "outreach", "email": "karin@vestbyen.example", "username": "karin.lund"
        })).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let code = code_of(created["activation_url"].as_str().unwrap());
        for (pw, repeat, field, reason, says) in [
            (
                "kort",
                "kort",
                "password",
                "too-short",
                "mindst 15 tegn (den har 4)",
            ),
            (
                "1234567890123456",
                "1234567890123456",
                "password",
                "breached",
                "lækkede",
            ),
            (
                "karin.lund.karin",
                "karin.lund.karin",
                "password",
                "personal",
                "brugernavn",
            ),
            (
                "zzzzzzzzzzzzzzzzzz",
                "zzzzzzzzzzzzzzzzzz",
                "password",
                "repetitive",
                "ensformig",
            ),
            (
                GOOD,
                "lektiecafeen",
                "password_repeat",
                "mismatch",
                "ikke ens",
            ),
        ] {
            let (status, e) = post_api(
                &base,
                "/api/v1/auth/activate",
                "",
                json!({"code": code, "password": pw, "password_repeat": repeat}),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{pw}");
            assert_eq!(
                (e["field"].as_str(), e["reason"].as_str()),
                (Some(field), Some(reason)),
                "{e}"
            );
            assert!(e["message"].as_str().unwrap().contains(says), "{e}");
        }
        let (status, e) = post_api(
            &base,
            "/api/v1/auth/activate",
            "",
            json!({"code": "nope", "password": GOOD, "password_repeat": GOOD}),
        )
        .await;
        assert_eq!(
            (status, e["reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unknown"))
        );
        expire_links(&r).await;
        let resp = reqwest::get(format!("{base}/aktiver?kode={code}"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::GONE);
        assert!(resp.text().await.unwrap().contains("udløbet"));
        let (status, e) = post_api(
            &base,
            "/api/v1/auth/activate",
            "",
            json!({"code": code, "password": GOOD, "password_repeat": GOOD}),
        )
        .await;
        assert_eq!(
            (status, e["field"].as_str(), e["reason"].as_str()),
            (StatusCode::BAD_REQUEST, Some("code"), Some("expired"))
        );
        assert!(
            nabo_core::client::login(&base, "karin.lund", GOOD)
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn disabling_stops_tokens_and_phones_at_once_and_asks_first() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let mette = Page::login(&base, "central", PASSWORD).await;
        // A volunteer made on the page, invited, with an enrolled phone.
        let (to, page) = mette
            .post_then_page(
                "/personer/ny-frivillig",
                &[
                    ("navn", "Yusuf Demir"),
                    ("telefon", "20 30 40 50"),
                    ("kilde", "resident"),
                    ("aktivitet", "act-lektiecafe"),
                    ("rolle", "lektiehjaelper"),
                ],
            )
            .await;
        assert!(
            page.contains("Den frivillige er oprettet") && page.contains("Yusuf Demir"),
            "{page}"
        );
        let id = to
            .trim_start_matches("/personer/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let html = mette
            .post("/administration/invitation", &[("bruger", &id)])
            .await
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Yusuf Demir"),
            "the invitation names the volunteer"
        );
        let code = html
            .split("id=\"engangskode\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        let enrolled: Value = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/enrol"))
            .json(&json!({"code": code, "device_name": "Yusufs telefon"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let device_token = enrolled["access_token"].as_str().unwrap().to_owned();
        let me: Value = reqwest::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&device_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            me["display_name"], "Yusuf Demir",
            "the phone shows its volunteer's own name"
        );
        let mut socket = nabo_core::client::Client::connect(&r.ws(), &device_token, Some("yusuf"))
            .await
            .unwrap();

        // Asking first changes nothing.
        let (status, ask) = mette.get(&format!("/personer/{id}/spaer")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            ask.contains("Ja, spær brugeren") && ask.contains("tilmeldt telefon spærres"),
            "{ask}"
        );
        assert!(!r.storage().user(&id).await.unwrap().unwrap().disabled);
        let (_, page) = mette
            .post_then_page(&format!("/personer/{id}/spaer"), &[])
            .await;
        assert!(page.contains("Brugeren er spærret"), "{page}");

        // The phone is refused at once: its token, its refresh token, its socket.
        let resp = reqwest::Client::new()
            .get(format!("{base}/api/v1/documents"))
            .bearer_auth(&device_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/refresh"))
            .json(&json!({"refresh_token": enrolled["refresh_token"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let (close, _) = socket.closed(Duration::from_secs(5)).await;
        assert_eq!(close, Some(4003));

        // Re-enabled: the login works again, the old phone does not (invite a new one).
        let (_, page) = mette
            .post_then_page(&format!("/personer/{id}/genaktiver"), &[])
            .await;
        assert!(page.contains("Brugeren er genaktiveret"), "{page}");
        let resp = reqwest::Client::new()
            .get(format!("{base}/api/v1/documents"))
            .bearer_auth(&device_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

        // A staff member: the access token in hand stops, the password is refused, the page says so.
        let ali = nabo_core::client::login(&base, "outreach1", PASSWORD)
            .await
            .unwrap();
        mette.post("/personer/u-outreach1/spaer", &[]).await;
        let resp = reqwest::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&ali.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let family = r
            .storage()
            .refresh_token(&nabo_server::auth::hash_secret(&ali.refresh_token))
            .await
            .unwrap()
            .unwrap()
            .family_id;
        assert!(
            r.storage()
                .family_denied(&family, nabo_server::storage::now_ms())
                .await
                .unwrap(),
            "the session is on the deny-list"
        );
        let resp = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "outreach1", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "revoked");
        let resp = no_redirects()
            .post(format!("{base}/log-ind"))
            .header(ORIGIN, &base)
            .form(&[("brugernavn", "outreach1"), ("adgangskode", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(
            resp.headers()[LOCATION]
                .to_str()
                .unwrap()
                .contains("fejl=spaerret")
        );
        // Nobody disables themselves.
        assert_eq!(
            mette.post("/personer/u-central/spaer", &[]).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
}

#[tokio::test]
async fn outreach_and_volunteers_get_no_people_pages_or_admin_api() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let ali = Page::login(&base, "outreach1", PASSWORD).await;
        for path in [
            "/personer",
            "/personer/u-volunteer1",
            "/personer/ny-medarbejder",
            "/administration",
        ] {
            assert_eq!(ali.get(path).await.0, StatusCode::FORBIDDEN, "{path}");
        }
        for path in [
            "/personer/ny-medarbejder",
            "/personer/u-volunteer1/spaer",
            "/personer/u-volunteer1/nulstil",
        ] {
            assert_eq!(
                ali.post(path, &[("navn", "X")]).await.status(),
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let outreach = token(&r, "outreach1").await;
        let code = nabo_server::auth::Auth::create_enrolment(
            &r.relay().state.auth,
            "u-volunteer1",
            "u-central",
        )
        .await
        .unwrap()
        .0;
        let phone: Value = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/enrol"))
            .json(&json!({"code": code, "device_name": "Majas telefon"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let volunteer = phone["access_token"].as_str().unwrap().to_owned();
        for t in [&outreach, &volunteer] {
            let (status, _) = post_api(
                &base,
                "/api/v1/users",
                t,
                json!({"kind": "staff", "name": "X", "role": "central"}),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, _) = post_api(
                &base,
                "/api/v1/users/u-outreach2/password-reset",
                t,
                json!({}),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, _) = post_api(
                &base,
                "/api/v1/admin/tenants",
                t,
                json!({"name": "X", "admin_email": "x@y.dk"}),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "a user's token is not the operator's"
            );
        }
        assert_eq!(r.storage().tenants().await.unwrap().len(), 1);
        assert!(r.storage().user_by_username("x").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn contact_details_and_volunteer_names_are_never_plain_text_in_the_database() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let central = token(&r, "central").await;
        let (email, phone, name) = (
            "kontakt-4711@eksempel.dk",
            "+45 31 41 59 26",
            "Hemmelig Frivilligsen",
        );
        let (s1, staff) = post_api(&base, "/api/v1/users", &central, json!({"kind": "staff", "name": "Signe Berg", "role": "outreach", "email": email, "phone": phone})).await;
        let (s2, vol) = post_api(&base, "/api/v1/users", &central, json!({"kind": "volunteer", "name": name, "phone": "+45 99 88 77 66", "activities": ["act-lektiecafe"]})).await;
        assert_eq!(
            (s1, s2),
            (StatusCode::CREATED, StatusCode::CREATED),
            "{staff} {vol}"
        );
        // The pages open them.
        let mette = Page::login(&base, "central", PASSWORD).await;
        let (_, signe) = mette
            .get(&format!("/personer/{}", staff["user_id"].as_str().unwrap()))
            .await;
        assert!(signe.contains(email) && signe.contains(phone), "{signe}");
        let (_, hemmelig) = mette
            .get(&format!("/personer/{}", vol["user_id"].as_str().unwrap()))
            .await;
        assert!(hemmelig.contains(name));
        // The database holds none of it in the clear.
        let needles = [email, phone, name, "+45 99 88 77 66"];
        match backend {
            Backend::Sqlite => {
                let path = r.database_url.trim_start_matches("sqlite://").to_owned();
                let mut bytes = std::fs::read(&path).unwrap();
                bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
                for n in needles {
                    assert!(
                        !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                        "{n} is in the SQLite file"
                    );
                }
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&r.database_url).await.unwrap();
                for table in [
                    "users",
                    "user_profiles",
                    "user_scopes",
                    "documents",
                    "chunks",
                    "subject_keys",
                ] {
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT t::text FROM {table} t"
                    )))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                    for row in rows {
                        for n in needles {
                            assert!(!row.contains(n), "{n} in {table}");
                            assert!(!row.contains(&hex::encode(n)), "{n} (hex) in {table}");
                        }
                    }
                }
            }
        }
        let u = r
            .storage()
            .user(vol["user_id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            u.display_name.starts_with("Frivillig "),
            "{}",
            u.display_name
        );
    }
}

#[tokio::test]
async fn a_password_reset_is_a_one_time_link_that_ends_other_sessions() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let ali = nabo_core::client::login(&base, "outreach1", PASSWORD)
            .await
            .unwrap();
        let mette = Page::login(&base, "central", PASSWORD).await;
        let (_, page) = mette
            .post_then_page("/personer/u-outreach1/nulstil", &[])
            .await;
        assert!(
            page.contains("Linket er sendt til brugerens e-mail"),
            "{page}"
        );
        let mail = r.mails().pop().unwrap();
        assert!(mail.contains("To: outreach1@vestbyen.example"));
        assert!(!mail.contains(PASSWORD), "no password is ever sent");
        let url = mail
            .lines()
            .find(|l| l.contains("/ny-adgangskode?kode="))
            .unwrap()
            .trim()
            .to_owned();
        // The old password still works until the link is used.
        assert!(
            nabo_core::client::login(&base, "outreach1", PASSWORD)
                .await
                .is_ok()
        );
        let new = "vestparken om aftenen med kaffe";
        let resp = choose(&base, "ny-adgangskode", &code_of(&url), new, new).await;
        assert_eq!(resp.headers()[LOCATION], "/log-ind?besked=ny-adgangskode");
        let resp = reqwest::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&ali.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "the session from before the reset ended"
        );
        assert!(
            nabo_core::client::login(&base, "outreach1", PASSWORD)
                .await
                .is_err()
        );
        assert!(
            nabo_core::client::login(&base, "outreach1", new)
                .await
                .is_ok()
        );
        assert_eq!(
            choose(&base, "ny-adgangskode", &code_of(&url), new, new)
                .await
                .status(),
            StatusCode::GONE
        );
        // Volunteers have no password to reset.
        assert_eq!(
            mette
                .post("/personer/u-volunteer1/nulstil", &[])
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
    }
}

#[tokio::test]
async fn forms_say_what_happened_and_name_the_refused_field() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let mette = Page::login(&base, "central", PASSWORD).await;
        let resp = mette
            .post(
                "/personer/ny-medarbejder",
                &[
                    ("navn", "Ole Lund"),
                    ("rolle", "outreach"),
                    ("email", "ole(at)vestbyen"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("E-mail er ikke en gyldig e-mailadresse")
                && body.contains("aria-invalid=\"true\""),
            "{body}"
        );
        assert!(
            body.contains("value=\"Ole Lund\""),
            "the form keeps what was typed"
        );
        let resp = mette
            .post(
                "/personer/ny-medarbejder",
                &[
                    ("navn", "Ole Lund"),
                    ("rolle", "outreach"),
                    ("brugernavn", "central"),
                ],
            )
            .await;
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Brugernavnet er allerede i brug")
        );
        let (to, page) = mette
            .post_then_page(
                "/personer/ny-medarbejder",
                &[
                    ("navn", "Ole Lund"),
                    ("stilling", "Boligsocial medarbejder"),
                    ("rolle", "outreach"),
                    ("email", "ole@vestbyen.example"),
                    ("omraade", "a-solbakken"),
                ],
            )
            .await;
        assert!(
            page.contains("Brugeren er oprettet") && page.contains("ole"),
            "{page}"
        );
        let id = to
            .trim_start_matches("/personer/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(
            r.storage().scopes(&id).await.unwrap().areas,
            vec!["a-solbakken".to_owned()]
        );
        let (_, page) = mette
            .post_then_page(
                &format!("/personer/{id}/omfang"),
                &[("program", "p-helhedsplan")],
            )
            .await;
        assert!(page.contains("Programmer, områder og aktiviteter er gemt"));
        // A programme scope reaches the programme's activities.
        let ole = r.storage().user(&id).await.unwrap().unwrap();
        let scopes = r.storage().scopes(&id).await.unwrap();
        assert_eq!(scopes.programmes, vec!["p-helhedsplan".to_owned()]);
        let cafe = r
            .storage()
            .documents(&ole.tenant)
            .await
            .unwrap()
            .into_iter()
            .find(|d| {
                d.title.contains("Lektiecaf") && d.kind == nabo_core::document::DocKind::Activity
            })
            .unwrap();
        let p = nabo_server::acl::Principal {
            user_id: id.clone(),
            tenant: ole.tenant.clone(),
            role: ole.role,
            staff_id: ole.staff_id.clone(),
            volunteer_id: None,
            device_id: None,
            scopes,
        };
        assert_eq!(
            nabo_server::acl::access(&p, &cafe),
            nabo_server::acl::Access::Read
        );
        // Revoking a phone asks first.
        let code = r
            .relay()
            .state
            .auth
            .create_enrolment("u-volunteer3", "u-central")
            .await
            .unwrap()
            .0;
        let phone: Value = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/enrol"))
            .json(&json!({"code": code, "device_name": "Fatimas telefon"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let dev = phone["device_id"].as_str().unwrap();
        let (_, ask) = mette
            .get(&format!("/personer/u-volunteer3/enheder/{dev}/spaer"))
            .await;
        assert!(
            ask.contains("Ja, spær telefonen") && ask.contains("Fatimas telefon"),
            "{ask}"
        );
        assert!(!r.storage().device(dev).await.unwrap().unwrap().revoked);
        let (_, page) = mette
            .post_then_page(&format!("/personer/u-volunteer3/enheder/{dev}/spaer"), &[])
            .await;
        assert!(page.contains("Telefonen er spærret"));
        assert!(r.storage().device(dev).await.unwrap().unwrap().revoked);
        // Another person's phone under this person's address: not found.
        assert_eq!(
            mette
                .post(&format!("/personer/u-volunteer1/enheder/{dev}/spaer"), &[])
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
}
