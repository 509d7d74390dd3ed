//! An organisation starts using Nabo on an empty relay (ADR 0017), in a real browser
//! (chromium driven by `playwright-core`, `tests/js/onboarding.mjs`): the tenant is created on
//! the command line (`nabo-server tenant create`), its administrator activates the login from
//! the printed link, creates a housing area, a 2019–26 programme, a lektiecafé (and a summer
//! camp that is later retired), a staff member and a volunteer with a børneattest, and invites
//! the volunteer's phone; a phone client (nabo-bindings) enrols with the code, syncs and takes
//! a roll call; the administrator edits the area, archives the retired activity (asked first)
//! and sees the roll call in the report of the period (issue 10, ADR 0022); then disables
//! the volunteer, and the phone is refused. Then a staff member signs in through the
//! organisation's identity provider (npm `oidc-provider`, `tests/js/oidc.mjs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nabo_bindings::NaboClient;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};
use nabo_tests::browser::{self, js_dir};

fn available() -> bool {
    browser::available(&["playwright-core", "oidc-provider"])
}

fn run(args: &[&str]) -> serde_json::Value {
    browser::run("onboarding.mjs", args)
}

/// The relay binary, built beside this test by the workspace's test build (or built now).
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("nabo-server");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-p", "nabo-server", "--bin", "nabo-server"])
            .status()
            .unwrap()
            .success();
        assert!(
            ok && bin.exists(),
            "nabo-server binary at {}",
            bin.display()
        );
    }
    bin
}

/// `nabo-server <args>` on the test relay's database and KEK; its standard output.
fn cli(r: &TestRelay, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(server_binary())
        .arg("--data-dir")
        .arg(r.dir.path())
        .arg("--key-file")
        .arg(r.kek_path())
        .args(["--database-url", &r.database_url, "--public-url", &r.http()])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "nabo-server {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organisation_starts_from_an_empty_relay() {
    if !available() {
        return;
    }
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    let base = r.http();
    assert!(
        r.storage().tenants().await.unwrap().is_empty(),
        "an empty relay"
    );

    // The command line makes the tenant and prints the administrator's link.
    let printed = cli(
        &r,
        &[
            "tenant",
            "create",
            "--name",
            "Boligsocial Nordvest",
            "--admin-email",
            "pia@nordvest.example",
            "--admin-name",
            "Pia Poulsen",
        ],
        &[],
    );
    let link = printed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{base}/aktiver?kode=")))
        .unwrap_or_else(|| panic!("{printed}"))
        .to_owned();
    assert!(printed.contains("brugernavn: pia"), "{printed}");
    let password = "nordvest har lektiecafe hver onsdag";

    let v = run(&["activate", &base, &link, "pia", password]);
    let code = v["code"].as_str().unwrap().to_owned();
    let volunteer_page = v["volunteer"].as_str().unwrap().to_owned();

    // The volunteer's phone enrols with the code and syncs.
    let dir = tempfile::tempdir().unwrap();
    let phone = NaboClient::open(dir.path().display().to_string(), base.clone(), vec![9; 32])
        .await
        .unwrap();
    let me = phone.enrol(code, "Veras telefon".into()).await.unwrap();
    assert_eq!(me.role, "volunteer");
    assert_eq!(me.display_name, "Vera Vestergaard");
    phone.sync_now().await.unwrap();

    // The roll call at the lektiecafé, taken on the phone and synced.
    let activities = phone.my_activities().await.unwrap();
    let cafe = activities
        .iter()
        .find(|a| a.name == "Lektiecaféen i Nordvesthuset")
        .unwrap_or_else(|| panic!("the volunteer's phone has the lektiecafé: {activities:?}"));
    let today = phone.today();
    let session = phone
        .add_session(cafe.id.clone(), today, "15:00".into(), "17:00".into(), None)
        .await
        .unwrap();
    for name in ["Ali", "Sara"] {
        let child = phone
            .add_child(session.id.clone(), Some(name.into()), "10-12".into())
            .await
            .unwrap();
        phone
            .mark(session.id.clone(), child, nabo_bindings::api::Mark::Present)
            .await
            .unwrap();
    }
    phone.sync_now().await.unwrap();
    assert_eq!(phone.sync_status().await.unwrap().pending_changes, 0);

    // The administrator edits the area, archives the retired activity, reads the report.
    let v = run(&["manage", &base, "pia", password]);
    assert_eq!(v["attendances"], "2", "{v}");

    // Disabled on the pages: the phone is refused at its next contact.
    run(&["disable", &base, "pia", password, &volunteer_page]);
    assert!(
        phone.sync_now().await.is_err(),
        "a disabled volunteer's phone still syncs"
    );
    let user = r.storage().user_by_username("pia").await.unwrap().unwrap();
    let devices: Vec<_> = {
        let mut all = Vec::new();
        for u in r.storage().users(&user.tenant).await.unwrap() {
            all.extend(r.storage().devices(&u.id).await.unwrap());
        }
        all
    };
    assert!(devices.iter().all(|d| d.revoked), "{devices:?}");

    // The organisation's identity provider, set up on the command line; a staff member in
    // its central group signs in through it in the browser.
    let mut idp = Command::new("node")
        .arg("oidc.mjs")
        .arg(format!("{base}/oidc/callback"))
        .current_dir(js_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(idp.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let issuer = serde_json::from_str::<serde_json::Value>(&line).unwrap()["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = user.tenant.to_string();
    cli(
        &r,
        &[
            "tenant",
            "oidc",
            "--tenant",
            &tenant,
            "--issuer",
            &issuer,
            "--client-id",
            "nabo",
            "--group",
            "nabo-central=central",
            "--scopes",
            "profile email groups",
            "--label",
            "Testudbyder",
        ],
        &[("NABO_OIDC_CLIENT_SECRET", "nabo-secret")],
    );
    let v = run(&["oidc", &base, &tenant]);
    assert_eq!(v["user"], "Anna Andersen");
    let _ = idp.kill();
    let _ = idp.wait();
    drop(out);
}
