//! Helpers for the relay's tests: a relay with the demo tenant, logins, fetching and editing
//! documents through the real protocol.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use automerge::sync::State;
use automerge::{ActorId, Automerge};
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::document::{DocumentId, NaboDoc};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

pub const PASSWORD: &str = "test-password-42";

pub async fn relay(backend: Backend) -> TestRelay {
    relay_with(backend, Limits::default()).await
}

pub async fn relay_with(backend: Backend, limits: Limits) -> TestRelay {
    let r = TestRelay::start(backend, limits)
        .await
        .expect("relay starts");
    r.seed_demo(PASSWORD).await.expect("demo seeds");
    r
}

/// A demo relay behind a trusted proxy at 127.0.0.1 (tests set `X-Forwarded-For` to act
/// from other addresses), with `auth`.
pub async fn relay_behind_proxy(
    backend: Backend,
    auth: nabo_server::auth::AuthConfig,
) -> TestRelay {
    let site = nabo_server::http::Site {
        public_url: None,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
    };
    let r = TestRelay::start_configured(backend, Limits::default(), site, auth)
        .await
        .expect("relay starts");
    r.seed_demo(PASSWORD).await.expect("demo seeds");
    r
}

/// An HTTP client that does not follow redirects (a browser's view of the pages' answers).
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn token(r: &TestRelay, user: &str) -> String {
    client::login(&r.http(), user, PASSWORD)
        .await
        .expect("login")
        .access_token
}

pub async fn connect(r: &TestRelay, user: &str) -> Client {
    let t = token(r, user).await;
    Client::connect(&r.ws(), &t, Some(&format!("store-{user}")))
        .await
        .expect("connect")
}

/// How a phone of `user` signs its edits: as the staff member or volunteer the login is
/// (`GET /api/v1/me`), `system` for a login that is neither.
pub async fn author_of(r: &TestRelay, user: &str) -> nabo_core::document::Author {
    use nabo_core::model::By;
    let t = token(r, user).await;
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", r.http()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by = if let Some(v) = me["volunteer_id"].as_str() {
        By::Volunteer(v.parse().unwrap())
    } else if let Some(s) = me["staff_id"].as_str() {
        By::Staff(s.parse().unwrap())
    } else {
        By::System
    };
    nabo_core::document::Author::now(by, &r.clock)
}

/// The id of the demo document of `kind` whose title contains `title`, as central staff see it.
pub async fn doc_id(r: &TestRelay, kind: &str, title: &str) -> DocumentId {
    let t = token(r, "central").await;
    let docs = client::documents(&r.http(), &t).await.unwrap();
    let url = docs
        .iter()
        .find(|d| d["kind"] == kind && d["title"].as_str().unwrap_or("").contains(title))
        .unwrap_or_else(|| panic!("no {kind} document titled {title}: {docs:?}"))["url"]
        .as_str()
        .unwrap()
        .to_owned();
    DocumentId::parse(&url).unwrap()
}

/// Fetches a document over the protocol.
pub async fn fetch(c: &mut Client, id: DocumentId) -> (SyncEnd, Automerge, State) {
    let mut doc = Automerge::new();
    let mut state = State::new();
    let end = c.sync(id, &mut doc, &mut state, true).await.expect("sync");
    (end, doc, state)
}

/// Fetches a document as a Nabo document (panics if unavailable).
pub async fn fetch_nabo(c: &mut Client, id: DocumentId) -> (NaboDoc, State) {
    let (end, doc, state) = fetch(c, id).await;
    assert_eq!(end, SyncEnd::Synced, "fetching {id}");
    (
        NaboDoc::from_automerge(doc, ActorId::random()).expect("a Nabo document"),
        state,
    )
}

/// The stored document, read straight from storage.
pub async fn stored(r: &TestRelay, id: DocumentId) -> Automerge {
    let chunks = r.storage().chunks(id).await.unwrap();
    nabo_core::document::load_automerge(&chunks.concat()).unwrap()
}

/// A harmless write that every role with write access may make (ADR 0013): a roll-call
/// mark in a register (staff and volunteers mark attendance; only central staff change a
/// register's `info`), a key in `info` in every other document.
#[derive(Debug, Clone)]
pub enum Scribble {
    /// `attendance[key] = "excused"`.
    Mark(String),
    /// `info.test_note = value`.
    Note(String),
}

/// Makes a [`Scribble`] in `doc`, telling it apart by `value`.
pub fn scribble(doc: &mut Automerge, value: &str) -> Scribble {
    use automerge::ReadDoc;
    use automerge::transaction::Transactable;
    let text = |doc: &Automerge, k: &str| {
        doc.get(automerge::ROOT, k)
            .unwrap()
            .and_then(|(v, _)| v.into_scalar().ok())
            .and_then(|s| s.as_str().map(str::to_owned))
    };
    if text(doc, "kind").as_deref() == Some("register") {
        let keys = |c: &str| -> Vec<String> {
            let (_, o) = doc.get(automerge::ROOT, c).unwrap().unwrap();
            doc.keys(&o).collect()
        };
        let (_, att) = doc.get(automerge::ROOT, "attendance").unwrap().unwrap();
        let key = keys("sessions")
            .iter()
            .flat_map(|s| {
                keys("participants")
                    .into_iter()
                    .map(move |p| format!("{s}/{p}"))
            })
            .find(|k| {
                doc.get(&att, k.as_str())
                    .unwrap()
                    .and_then(|(v, _)| v.into_scalar().ok())
                    .is_none_or(|s| s.as_str() != Some("excused"))
            })
            .expect("a roll-call key not yet excused");
        let mut tx = doc.transaction();
        tx.put(&att, key.as_str(), "excused").unwrap();
        tx.commit();
        return Scribble::Mark(key);
    }
    let (_, info) = doc.get(automerge::ROOT, "info").unwrap().unwrap();
    let mut tx = doc.transaction();
    tx.put(&info, "test_note", value).unwrap();
    tx.commit();
    Scribble::Note(value.to_owned())
}

/// Whether `doc` holds the [`Scribble`].
pub fn scribbled(doc: &Automerge, s: &Scribble) -> bool {
    use automerge::ReadDoc;
    let (container, key, value) = match s {
        Scribble::Mark(k) => ("attendance", k.as_str(), "excused"),
        Scribble::Note(v) => ("info", "test_note", v.as_str()),
    };
    let Some((_, obj)) = doc.get(automerge::ROOT, container).unwrap() else {
        return false;
    };
    matches!(doc.get(&obj, key).unwrap(), Some((automerge::Value::Scalar(s), _)) if s.as_str() == Some(value))
}

// The relay binary -----------------------------------------------------------------------

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The relay binary on `dir` with the key-encryption key `kek` (kept apart from the
/// database, ADR 0014; the demo generates it there).
pub fn spawn_relay_with_kek(
    dir: &std::path::Path,
    kek: &std::path::Path,
    db: &str,
    port: u16,
    demo: bool,
    extra: &[&str],
) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nabo-server"));
    cmd.args(extra);
    cmd.arg("--data-dir")
        .arg(dir)
        .arg("--key-file")
        .arg(kek)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database-url")
        .arg(db)
        .env("NABO_DEMO_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    cmd.spawn().expect("spawn nabo-server")
}

pub fn spawn_relay(dir: &std::path::Path, db: &str, port: u16, demo: bool) -> Child {
    spawn_relay_with_kek(dir, &dir.join("kek.keys"), db, port, demo, &[])
}

pub async fn wait_healthy(base: &str) {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("relay did not come up");
}

pub async fn central_doc(base: &str, kind: &str, title: &str) -> DocumentId {
    let t = client::login(base, "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let docs = client::documents(base, &t).await.unwrap();
    let d = docs
        .iter()
        .find(|d| d["kind"] == kind && d["title"].as_str().unwrap().contains(title))
        .unwrap();
    DocumentId::parse(d["url"].as_str().unwrap()).unwrap()
}

/// The peak resident memory of a process (VmHWM), bytes.
pub fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

/// A metric's value from a relay's `/metrics` (the first series whose name and labels
/// start with `series`).
pub async fn metric(base: &str, series: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
}

/// The relay binary running the demo on a fresh SQLite store.
pub struct DemoProcess {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// `ws://127.0.0.1:<port>/sync`.
    pub ws: String,
    /// Its database URL.
    pub db: String,
}

/// Starts the relay binary with `--demo` in `dir` (plus `extra` options) and waits until it
/// answers.
pub async fn demo_process(dir: &std::path::Path, extra: &[&str]) -> DemoProcess {
    let db = format!("sqlite://{}", dir.join("nabo.sqlite").display());
    let port = free_port();
    let child = spawn_relay_with_kek(dir, &dir.join("kek.keys"), &db, port, true, extra);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base).await;
    DemoProcess {
        child,
        ws: format!("ws://127.0.0.1:{port}/sync"),
        base,
        db,
    }
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`) of the newest installed version,
/// the one `cargo xtask test` starts.
pub fn pg_tool(name: &str) -> std::path::PathBuf {
    let mut versions: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL under /usr/lib/postgresql")
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| panic!("no {name}"))
}

/// Runs a command that must succeed; returns its standard output.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A signed-in browser: the session cookies of a login.
pub struct Browser {
    pub base: String,
    pub cookies: String,
}

impl Browser {
    pub async fn login(r: &TestRelay, user: &str) -> Browser {
        let base = r.http();
        let resp = no_redirects()
            .post(format!("{base}/log-ind"))
            .header(reqwest::header::ORIGIN, &base)
            .form(&[("brugernavn", user), ("adgangskode", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);
        let cookies: Vec<String> = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .map(|c| {
                let c = c.to_str().unwrap();
                assert!(
                    c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                    "{c}"
                );
                c.split(';').next().unwrap().to_owned()
            })
            .collect();
        assert_eq!(cookies.len(), 2, "access and refresh cookies");
        Browser {
            base,
            cookies: cookies.join("; "),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        no_redirects()
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookies)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, origin: &str, form: &[(&str, &str)]) -> reqwest::Response {
        no_redirects()
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookies)
            .header(reqwest::header::ORIGIN, origin)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn text(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }
}

/// The bytes a database keeps: SQLite's file with its WAL and shared memory; PostgreSQL's
/// files of the test database (read through `pg_read_binary_file` after a `CHECKPOINT`, so
/// the test needs no access to the cluster's directory). Each file comes with its name and,
/// for PostgreSQL, the relation it belongs to, so a failure says where the bytes were found.
pub async fn database_files(r: &TestRelay) -> Vec<(String, Vec<u8>)> {
    match r.backend {
        Backend::Sqlite => {
            let db = r.database_url.trim_start_matches("sqlite://").to_owned();
            [db.clone(), format!("{db}-wal"), format!("{db}-shm")]
                .into_iter()
                .map(|f| {
                    let b = std::fs::read(&f).unwrap_or_default();
                    (f, b)
                })
                .collect()
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&r.database_url).await.unwrap();
            sqlx::query("CHECKPOINT").execute(&mut c).await.unwrap();
            let dir: String = sqlx::query_scalar(
                "SELECT 'base/' || oid::text FROM pg_database WHERE datname = current_database()",
            )
            .fetch_one(&mut c)
            .await
            .unwrap();
            let files: Vec<String> = sqlx::query_scalar("SELECT pg_ls_dir($1)")
                .bind(&dir)
                .fetch_all(&mut c)
                .await
                .unwrap();
            let mut out = Vec::new();
            for f in files {
                // A cache file (pg_internal.init) may go between the listing and the read.
                let b: Vec<u8> = match sqlx::query_scalar("SELECT pg_read_binary_file($1)")
                    .bind(format!("{dir}/{f}"))
                    .fetch_one(&mut c)
                    .await
                {
                    Ok(b) => b,
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("58P01") => {
                        Vec::new()
                    }
                    Err(e) => panic!("{f}: {e}"),
                };
                // `16384_fsm`, `16384.1` and `16384` all belong to filenode 16384.
                let node: String = f.chars().take_while(char::is_ascii_digit).collect();
                let relation: Option<String> = match node.parse::<i64>() {
                    Ok(n) => sqlx::query_scalar(
                        "SELECT pg_filenode_relation(0, $1::oid)::regclass::text",
                    )
                    .bind(n)
                    .fetch_one(&mut c)
                    .await
                    .unwrap(),
                    Err(_) => None,
                };
                let name = format!(
                    "{dir}/{f} ({})",
                    relation.as_deref().unwrap_or("no live relation")
                );
                out.push((name, b));
            }
            c.close().await.unwrap();
            out
        }
    }
}

pub async fn database_bytes(r: &TestRelay) -> Vec<u8> {
    database_files(r)
        .await
        .into_iter()
        .flat_map(|(_, b)| b)
        .collect()
}

/// The files of the database that hold `needle`, by name.
pub async fn files_holding(r: &TestRelay, needle: &[u8]) -> Vec<String> {
    database_files(r)
        .await
        .into_iter()
        .filter(|(_, b)| contains(b, needle))
        .map(|(name, _)| name)
        .collect()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
