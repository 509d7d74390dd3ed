//! The review pages over HTTP: sign-in and roles, forms from other sites, another tenant's
//! documents, a review of a record that changed meanwhile, exports, limits, and a database
//! that fails (the pages say so and change nothing; never "not found").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Browser, PASSWORD, no_redirects as client, relay};
use nabo_server::testing::{Backend, TestRelay};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use sqlx::Connection;

/// The value of the first hidden input `name` after `after` in a page.
fn hidden(html: &str, after: &str, name: &str) -> String {
    let start = html.find(after).unwrap_or(0);
    let needle = format!("name=\"{name}\" value=\"");
    let i = html[start..].find(&needle).unwrap() + start + needle.len();
    html[i..].split('"').next().unwrap().to_owned()
}

/// The first session page with a roll call, from the review queue.
async fn a_session_page(b: &Browser) -> String {
    let queue = b.text("/gennemgang").await;
    let i = queue.find("href=\"/registre/").unwrap() + "href=\"".len();
    queue[i..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_roles_and_redirects() {
    for backend in Backend::all() {
        sign_in_roles_and_redirects_on(backend).await;
    }
}

async fn sign_in_roles_and_redirects_on(backend: Backend) {
    let r = relay(backend).await;
    let base = r.http();
    // Without a session every page leads to the login, remembering where it was going.
    let resp = client()
        .get(format!("{base}/gennemgang"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/log-ind?naeste=/gennemgang");
    // A wrong password says so, without saying whether the user exists.
    for user in ["central", "nobody"] {
        let resp = client()
            .post(format!("{base}/log-ind"))
            .header(ORIGIN, &base)
            .form(&[("brugernavn", user), ("adgangskode", "wrong")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()[LOCATION].to_str().unwrap(),
            "/log-ind?fejl=forkert&naeste=/"
        );
    }
    // After login, only this site's paths: never an open redirect.
    let resp = client()
        .post(format!("{base}/log-ind"))
        .header(ORIGIN, &base)
        .form(&[
            ("brugernavn", "central"),
            ("adgangskode", PASSWORD),
            ("naeste", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[LOCATION], "/");

    // Central staff see everything; a board member the board view only; phones' users none.
    let central = Browser::login(&r, "central").await;
    for p in [
        "/oversigt",
        "/aktiviteter",
        "/gennemgang",
        "/administration",
        "/rapporter/maalopfyldelse",
        "/rapporter/maalgrupper",
        "/rapporter/bestyrelse",
    ] {
        let html = central.text(p).await;
        assert!(html.contains("<html lang=\"da\">"), "{p}");
    }
    let board = Browser::login(&r, "bestyrelse").await;
    assert_eq!(
        board.get("/").await.headers()[LOCATION],
        "/rapporter/bestyrelse"
    );
    let html = board.text("/rapporter/bestyrelse").await;
    assert!(html.contains(">skjult<"), "small numbers are hidden");
    for p in [
        "/oversigt",
        "/gennemgang",
        "/aktiviteter/act-lektiecafe",
        "/administration",
    ] {
        assert_eq!(board.get(p).await.status(), StatusCode::FORBIDDEN, "{p}");
    }
    for user in ["volunteer1", "outreach1"] {
        let b = Browser::login(&r, user).await;
        assert_eq!(b.get("/oversigt").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            b.get("/rapporter/bestyrelse").await.status(),
            StatusCode::FORBIDDEN
        );
    }
    // Logging out ends the session: the refresh token is revoked too.
    let resp = central.post("/log-ud", &base, &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let refresh = central
        .cookies
        .split("; ")
        .find(|c| c.starts_with("nabo_forny="))
        .unwrap()
        .to_owned();
    let resp = client()
        .get(format!("{base}/oversigt"))
        .header(COOKIE, refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "a spent session signs in again"
    );
}

/// Issue 12 item 9: the demo's roll calls come from its volunteers' enrolled phones, so the
/// history says which phone took each mark and "ukendt enhed" appears nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_history_names_the_phone_of_each_roll_call() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let central = Browser::login(&r, "central").await;
        let page = central.text(&a_session_page(&central).await).await;
        assert!(
            page.contains("Historik") || page.contains("historik"),
            "{backend:?}"
        );
        assert!(
            page.contains("s telefon") || page.contains("' telefon"),
            "{backend:?}: a volunteer's phone is named in the history"
        );
        assert!(
            !page.contains("ukendt enhed"),
            "{backend:?}: seeded history is bound to a phone or the office"
        );
        // The phone is on the volunteer's page too, where it can be revoked.
        let people = central.text("/personer").await;
        assert!(
            people.contains("u-volunteer1") || people.contains("Maja"),
            "{backend:?}"
        );
    }
}

/// Issue 11 item 8: the Danish summary of docs/privacy.md is open to anyone (residents and
/// guardians too), linked from the sign-in page and from every staff page, and shows no
/// tenant's data.
#[tokio::test(flavor = "multi_thread")]
async fn the_privacy_summary_is_open_to_everyone_and_linked_from_every_page() {
    let r = relay(Backend::Sqlite).await;
    let base = r.http();
    let resp = client()
        .get(format!("{base}/databeskyttelse"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "no sign-in needed");
    let page = resp.text().await.unwrap();
    for heading in [
        "Om databeskyttelse i Nabo",
        "Hvem kan se hvad",
        "Sletning",
        "Samtykke og børn",
        "Opbevaring",
        "Dine rettigheder",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    assert!(page.contains("CPR"), "says there is no CPR field");
    assert!(!page.contains("Log ud"), "not a signed-in page");
    let login = client()
        .get(format!("{base}/log-ind"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains(r#"href="/databeskyttelse""#));
    let central = Browser::login(&r, "central").await;
    for p in ["/oversigt", "/administration", "/gennemgang"] {
        let html = central.get(p).await.text().await.unwrap();
        assert!(html.contains(r#"href="/databeskyttelse""#), "{p}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_from_other_sites_and_other_tenants_records_are_refused() {
    for backend in Backend::all() {
        forms_from_other_sites_and_other_tenants_records_are_refused_on(backend).await;
    }
}

async fn forms_from_other_sites_and_other_tenants_records_are_refused_on(backend: Backend) {
    let r = relay(backend).await;
    let base = r.http();
    let b = Browser::login(&r, "central").await;
    let page = a_session_page(&b).await;
    let html = b.text(&page).await;
    let doc = hidden(&html, "action=\"/gennemgang\"", "dokument");
    let record = hidden(&html, "action=\"/gennemgang\"", "post");
    let print = hidden(&html, "action=\"/gennemgang\"", "aftryk");
    let form = |doc: &str, print: &str| {
        vec![
            ("dokument", doc.to_owned()),
            ("post", record.clone()),
            ("aftryk", print.to_owned()),
            ("status", "reviewed".to_owned()),
        ]
    };
    let as_refs = |f: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { f.clone() };
    let post = |origin: &str, f: Vec<(&'static str, String)>| {
        let origin = origin.to_owned();
        let b = &b;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post("/gennemgang", &origin, &pairs).await
        }
    };
    // Another site's form: refused, nothing stored.
    let resp = post("http://evil.example", as_refs(&form(&doc, &print))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        r.storage()
            .reviews(&"vestbyen".parse().unwrap())
            .await
            .unwrap()
            .iter()
            .all(|x| x.record != record)
    );
    // A record that changed since the page was shown: 409, not silently reviewed.
    let resp = post(&base, form(&doc, "0000")).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(resp.text().await.unwrap().contains("ændret"));
    // Another tenant's document or a made-up one: the same answer as nothing, 404.
    let nordby = other_tenant_document(&r).await;
    for d in [nordby.as_str(), "2Yx9bKdrgD4tYbFXd4pk6CtLqWmV", "not-an-id"] {
        let resp = post(&base, form(d, &print)).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{d}");
        assert_eq!(
            b.get(&format!("/opsoegende/{d}")).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // The real thing is stored, with the fingerprint of what was shown.
    let resp = post(&base, form(&doc, &print)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let reviews = r
        .storage()
        .reviews(&"vestbyen".parse().unwrap())
        .await
        .unwrap();
    assert!(
        reviews
            .iter()
            .any(|x| x.record == record && x.fingerprint == print && x.state == "reviewed")
    );
    // Flagging needs a comment.
    let mut f = form(&doc, &print);
    f[3].1 = "flagged".into();
    assert_eq!(post(&base, f).await.status(), StatusCode::BAD_REQUEST);
    // An oversized form is refused before it is read.
    let big = "x".repeat(100 * 1024);
    let resp = b
        .post("/gennemgang", &base, &[("kommentar", big.as_str())])
        .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn other_tenant_document(r: &TestRelay) -> String {
    use nabo_core::docs::tenant::{Settings, TenantDoc};
    use nabo_core::prelude::*;
    let t = TenantDoc::create(
        "nordby".parse().unwrap(),
        automerge::ActorId::random(),
        &Author {
            by: By::System,
            at: Timestamp::now(),
        },
        Settings {
            name: "Nordby".into(),
            ..Settings::default()
        },
    )
    .unwrap();
    let s = r.storage();
    let meta = nabo_server::meta::derive(t.doc(), s.as_ref())
        .await
        .unwrap();
    s.create_document(&meta, &t.doc().save()).await.unwrap();
    meta.id.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_match_the_pages() {
    for backend in Backend::all() {
        exports_match_the_pages_on(backend).await;
    }
}

async fn exports_match_the_pages_on(backend: Backend) {
    let r = relay(backend).await;
    let b = Browser::login(&r, "central").await;
    let resp = b.get("/oversigt?eksport=csv&tabel=henvisninger").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("oversigt-henvisninger.csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "Status;Henvisninger");
    // The demo's referrals: as many in the export as the outreach logs hold.
    let total: i64 = lines[1..]
        .iter()
        .map(|l| l.split(';').nth(1).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 8, "{csv}");
    let resp = b
        .get("/rapporter/maalgrupper?eksport=xlsx&tabel=maalgrupper")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(
        b.get("/oversigt?eksport=pdf&tabel=henvisninger")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.get("/oversigt?eksport=csv&tabel=findes-ikke")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/oversigt?fra=2026-13-01").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.get("/oversigt?fra=2026-06-01&til=2026-01-01")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // The board's export hides small numbers too.
    let board = Browser::login(&r, "bestyrelse").await;
    let csv = board
        .text("/rapporter/bestyrelse?eksport=csv&tabel=henvisninger")
        .await;
    assert!(csv.contains(";skjult"), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_database_is_reported_as_such_and_nothing_changes() {
    let r = relay(Backend::Sqlite).await;
    let base = r.http();
    let b = Browser::login(&r, "central").await;
    let page = a_session_page(&b).await;
    let html = b.text(&page).await;
    let doc = hidden(&html, "action=\"/gennemgang\"", "dokument");
    let record = hidden(&html, "action=\"/gennemgang\"", "post");
    let print = hidden(&html, "action=\"/gennemgang\"", "aftryk");
    // Reviews cannot be written: 503 with a Danish explanation, not 404, nothing half-stored.
    sql(&r, "CREATE TRIGGER nabo_fail BEFORE INSERT ON review_events BEGIN SELECT RAISE(ABORT, 'injected failure'); END").await;
    let resp = b
        .post(
            "/gennemgang",
            &base,
            &[
                ("dokument", doc.as_str()),
                ("post", record.as_str()),
                ("aftryk", print.as_str()),
                ("status", "reviewed"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await.unwrap().contains("Databasen svarer ikke"));
    sql(&r, "DROP TRIGGER nabo_fail").await;
    assert!(
        r.storage()
            .reviews(&"vestbyen".parse().unwrap())
            .await
            .unwrap()
            .iter()
            .all(|x| x.record != record),
        "the review row and its log entry are one transaction"
    );
    // Changes to documents cannot be stored: merging the duplicate child answers 503 and the
    // duplicate is still proposed afterwards.
    let queue = b.text("/gennemgang").await;
    let form_at = queue.find("action=\"/dubletter/deltagere\"").unwrap();
    let doc = hidden(&queue, "action=\"/dubletter/deltagere\"", "dokument");
    let all = hidden(&queue, "action=\"/dubletter/deltagere\"", "deltagere");
    let keep = hidden(&queue[form_at..], "type=\"radio\"", "behold");
    sql(&r, "CREATE TRIGGER nabo_fail BEFORE INSERT ON chunks BEGIN SELECT RAISE(ABORT, 'injected failure'); END").await;
    let resp = b
        .post(
            "/dubletter/deltagere",
            &base,
            &[
                ("dokument", doc.as_str()),
                ("deltagere", all.as_str()),
                ("behold", keep.as_str()),
                ("bekraeft", "ja"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    sql(&r, "DROP TRIGGER nabo_fail").await;
    assert!(
        b.text("/gennemgang")
            .await
            .contains("Samme barn tilføjet flere gange")
    );
    // With the database back, the same form works.
    let resp = b
        .post(
            "/dubletter/deltagere",
            &base,
            &[
                ("dokument", doc.as_str()),
                ("deltagere", all.as_str()),
                ("behold", keep.as_str()),
                ("bekraeft", "ja"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        !b.text("/gennemgang")
            .await
            .contains("Samme barn tilføjet flere gange")
    );
}

async fn sql(r: &TestRelay, statement: &'static str) {
    let mut c = sqlx::SqliteConnection::connect(&r.database_url)
        .await
        .unwrap();
    sqlx::query(statement).execute(&mut c).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_write_the_goal_report_record_measurements_and_assign_roles() {
    for backend in Backend::all() {
        staff_write_the_goal_report_record_measurements_and_assign_roles_on(backend).await;
    }
}

async fn staff_write_the_goal_report_record_measurements_and_assign_roles_on(backend: Backend) {
    let r = relay(backend).await;
    let base = r.http();
    let b = Browser::login(&r, "central").await;
    let page = b
        .text("/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra=2026-01-01&til=2026-06-30")
        .await;
    // The form lists each goal; answer every goal, one not achieved with a reason.
    let goals: Vec<String> = page
        .match_indices("name=\"status-")
        .map(|(i, m)| page[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(goals.len(), 3, "the demo café has three goals");
    let mut form: Vec<(String, String)> = vec![
        ("aktivitet".into(), "act-lektiecafe".into()),
        ("fra".into(), "2026-01-01".into()),
        ("til".into(), "2026-06-30".into()),
        ("vurdering".into(), "Et roligt halvår".into()),
        ("tema".into(), "samarbejde-kommune".into()),
    ];
    for (i, g) in goals.iter().enumerate() {
        let status = if i == 0 { "not-achieved" } else { "achieved" };
        form.push((format!("status-{g}"), status.into()));
        form.push((format!("kommentar-{g}"), format!("kommentar {i}")));
    }
    // A goal not achieved without a reason is refused, naming the field.
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b.post("/rapporter/maalopfyldelse", &base, &pairs).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("reasons"));
    form.push((format!("aarsag-{}", goals[0]), "ressourcer".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b.post("/rapporter/maalopfyldelse", &base, &pairs).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let report = b
        .text("/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra=2026-01-01&til=2026-06-30")
        .await;
    assert!(
        report.contains("Manglende ressourcer"),
        "the reason code is shown"
    );
    assert!(report.contains("Et roligt halvår"));
    let table = report
        .split("id=\"maal\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert_eq!(table.matches(">opfyldt<").count(), 2, "two goals achieved");
    assert_eq!(table.matches(">ikke opfyldt<").count(), 1);
    // Writing it again for the same period replaces it (one report, not two).
    let resp = b.post("/rapporter/maalopfyldelse", &base, &pairs).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let csv = b
        .text("/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra=2026-01-01&til=2026-06-30&eksport=csv&tabel=vurdering")
        .await;
    assert_eq!(csv.matches("Et roligt halvår").count(), 1, "{csv}");

    // A measurement with a Danish decimal comma.
    let indicator = hidden(&report, "action=\"/rapporter/maaling\"", "aktivitet");
    assert_eq!(indicator, "act-lektiecafe");
    let i = report.find("name=\"indikator\"").unwrap();
    let ind = report[i..]
        .split("option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    for (value, status) in [
        ("abc", StatusCode::BAD_REQUEST),
        ("12,5", StatusCode::SEE_OTHER),
    ] {
        let resp = b
            .post(
                "/rapporter/maaling",
                &base,
                &[
                    ("aktivitet", "act-lektiecafe"),
                    ("indikator", ind.as_str()),
                    ("fra", "2026-01-01"),
                    ("til", "2026-06-30"),
                    ("vaerdi", value),
                    ("kilde", "Optælling"),
                ],
            )
            .await;
        assert_eq!(resp.status(), status, "{value}");
    }
    let report = b
        .text("/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra=2026-01-01&til=2026-06-30")
        .await;
    assert!(report.contains("12,5 (01.01.2026–30.06.2026)"));

    // A role of the eight and a practice role of the four.
    let resp = b
        .post(
            "/administration/roller",
            &base,
            &[
                ("medarbejder", "s-camilla"),
                ("program", "p-helhedsplan"),
                ("rolle", "netvaerksleder"),
                ("praksisrolle", ""),
                ("fra", "2026-01-01"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let admin = b.text("/administration").await;
    let row = admin
        .split("Camilla Nielsen</th>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap()
        .to_owned();
    assert!(row.contains("netværksleder"), "{row}");
    let resp = b
        .post(
            "/administration/roller",
            &base,
            &[
                ("medarbejder", "s-camilla"),
                ("program", "p-helhedsplan"),
                ("fra", "2026-01-01"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn management_forms_create_areas_programmes_activities_and_change_theories() {
    for backend in Backend::all() {
        management_forms_create_areas_programmes_activities_and_change_theories_on(backend).await;
    }
}

async fn management_forms_create_areas_programmes_activities_and_change_theories_on(
    backend: Backend,
) {
    let r = relay(backend).await;
    let base = r.http();
    let b = Browser::login(&r, "central").await;
    let resp = b
        .post(
            "/administration/omraader",
            &base,
            &[
                ("navn", "Nørrevænget"),
                ("ejerform", "almen"),
                ("beboere", "1250"),
                ("udsat", "ja"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let admin = b.text("/administration").await;
    assert!(admin.contains("Nørrevænget") && admin.contains("1.250"));
    let area = hidden_option(&admin, "Nørrevænget");
    // A programme over the new area; shares over 100 % are refused by the document's rules.
    let programme = |lbf: &'static str| {
        vec![
            ("navn", "Helhedsplan Nørrevænget 2027–2030".to_owned()),
            ("fra", "2027-01-01".to_owned()),
            ("til", "2030-12-31".to_owned()),
            ("taksonomi", "lbf-2019-2026".to_owned()),
            ("omraade", area.clone()),
            ("typologi", "single-area".to_owned()),
            ("andel-lbf", lbf.to_owned()),
            ("andel-kommune", "25".to_owned()),
        ]
    };
    for (lbf, status) in [
        ("90", StatusCode::BAD_REQUEST),
        ("60", StatusCode::SEE_OTHER),
    ] {
        let f = programme(lbf);
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            b.post("/administration/programmer", &base, &pairs)
                .await
                .status(),
            status
        );
    }
    let admin = b.text("/administration").await;
    assert!(admin.contains("Helhedsplan Nørrevænget 2027–2030"));
    assert!(admin.contains("Landsbyggefonden 60 %"));
    // An activity of a catalogue type with two target groups.
    let resp = b
        .post(
            "/administration/aktiviteter",
            &base,
            &[
                ("navn", "Fritidsjob-formidling"),
                ("program", "p-helhedsplan"),
                ("omraade", area.as_str()),
                ("type", "lbf-2019-2026|BE.fritidsjob-lommepenge"),
                ("maalgruppe", "boern-7-17"),
                ("maalgruppe", "etniske-minoriteter"),
                ("registrering", "headcount"),
            ],
        )
        .await;
    let status = resp.status();
    let location = resp
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        resp.text().await.unwrap()
    );
    let location = location.unwrap();
    let page = b.text(&location).await;
    assert!(page.contains("Fritidsjob-formidling"));
    assert!(
        page.contains("Etniske minoriteter") || page.contains("etniske minoriteter"),
        "{page}"
    );
    // The target-group table counts it: included for both groups, exclusive for neither.
    let csv = b
        .text("/rapporter/maalgrupper?eksport=csv&tabel=maalgrupper&fra=2026-01-01")
        .await;
    assert!(csv.contains("Etniske minoriteter;1;0;0"), "{csv}");
    // A change theory step with a library indicator; an unknown level is refused.
    // The new activity's page, which says it was created (ADR 0022).
    assert!(page.contains("Aktiviteten «Fritidsjob-formidling» er oprettet."));
    let activity = location
        .trim_start_matches("/aktiviteter/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    for (level, status) in [
        ("nonsense", StatusCode::BAD_REQUEST),
        ("short-term", StatusCode::SEE_OTHER),
    ] {
        let resp = b
            .post(
                "/administration/forandringsteori",
                &base,
                &[
                    ("aktivitet", activity.as_str()),
                    ("led", level),
                    ("trin", "3"),
                    ("tekst", "Flere unge har et fritidsjob"),
                    ("indikator", "attendance.unique-participants"),
                ],
            )
            .await;
        assert_eq!(resp.status(), status, "{level}");
    }
    let page = b.text(&location).await;
    assert!(page.contains("indsatsnært mål (trin 3)"), "{page}");
    assert!(page.contains("Flere unge har et fritidsjob"));
    assert!(page.contains("Unikke deltagere"));
}

/// The value of the option whose label is `label`.
fn hidden_option(html: &str, label: &str) -> String {
    let i = html.find(&format!(">{label}</option>")).unwrap();
    let start = html[..i].rfind("value=\"").unwrap() + "value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn placements_move_and_phones_are_revoked_from_the_pages() {
    for backend in Backend::all() {
        placements_move_and_phones_are_revoked_from_the_pages_on(backend).await;
    }
}

async fn placements_move_and_phones_are_revoked_from_the_pages_on(backend: Backend) {
    let r = relay(backend).await;
    let base = r.http();
    let b = Browser::login(&r, "central").await;
    // Camilla moves to a central placement from today.
    let today = nabo_core::time::Timestamp::now().date_dk().to_string();
    let resp = b
        .post(
            "/administration/placering",
            &base,
            &[
                ("medarbejder", "s-camilla"),
                ("fra", today.as_str()),
                ("art", "central"),
                ("omraade", ""),
                ("dag", "mon"),
                ("dag", "tue"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let admin = b.text("/administration").await;
    let row = admin
        .split("Camilla Nielsen</th>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap()
        .to_owned();
    assert!(row.contains("centralt placeret"), "{row}");
    // A move that overlaps a later placement is refused with the field named.
    let resp = b
        .post(
            "/administration/placering",
            &base,
            &[
                ("medarbejder", "s-camilla"),
                ("fra", "2020-01-01"),
                ("art", "local"),
                ("dag", "mon"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // A phone enrolled with a code from the invitation page, then revoked from the pages.
    let html = b
        .post(
            "/administration/invitation",
            &base,
            &[("bruger", "u-volunteer2")],
        )
        .await
        .text()
        .await
        .unwrap();
    let code = html
        .split("id=\"engangskode\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(html.contains("<svg"), "the code is shown as a QR code too");
    let enrolled: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/enrol"))
        .json(&serde_json::json!({"code": code, "device_name": "Jonas' telefon"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device = enrolled["device_id"].as_str().unwrap().to_owned();
    let admin = b.text("/administration").await;
    assert!(admin.contains("Jonas&#39; telefon") || admin.contains("Jonas' telefon"));
    let resp = b
        .post(
            "/administration/enheder/spaer",
            &base,
            &[("enhed", device.as_str())],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(r.storage().device(&device).await.unwrap().unwrap().revoked);
    let refresh = enrolled["refresh_token"].as_str().unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "the revoked phone cannot renew"
    );
    // A device id that is not the tenant's: not found.
    let resp = b
        .post(
            "/administration/enheder/spaer",
            &base,
            &[("enhed", "d-nope")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// One Danish calendar (issue 12, item 13): with the relay's clock at 00:30 on the night
/// after a café afternoon — when the UTC date is still the café's day — and on the nights of
/// both summer-time switches, the demo seeds its café afternoons by the Danish date, so the
/// review queue's disagreeing marks are on the last café afternoon before today, the one a
/// phone calls "yesterday's", and the activity page lists no session after today.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_and_the_pages_use_the_danish_day_around_midnight_and_the_switches() {
    use nabo_core::time::{Clock, Date, Time, Timestamp};
    for backend in Backend::all() {
        for (day, time, last_cafe) in [
            // Wednesday, winter time: 23:30 UTC on the café's Tuesday.
            ("2026-11-25", "00:30", "2026-11-24"),
            // Friday, summer time: 23:30 UTC on the café's Thursday.
            ("2026-07-03", "01:30", "2026-07-02"),
            // The night summer time starts (Sunday 28 March 2027, 03:30 = 01:30 UTC).
            ("2027-03-28", "03:30", "2027-03-25"),
            // The night it ends (Sunday 25 October 2026, the first 02:30 = 00:30 UTC).
            ("2026-10-25", "02:30", "2026-10-22"),
        ] {
            let now = Timestamp::from_dk(day.parse().unwrap(), time.parse::<Time>().unwrap());
            let r = TestRelay::start_with_clock(
                backend,
                nabo_server::relay::Limits::default(),
                Clock::starting_at(now),
            )
            .await
            .unwrap();
            r.seed_demo(PASSWORD).await.unwrap();
            let b = Browser::login(&r, "central").await;
            let queue = b.text("/gennemgang").await;
            let i = queue
                .find("Uenige registreringer")
                .unwrap_or_else(|| panic!("{backend:?} {day} {time}: no disagreeing marks"));
            let conflict = &queue[i..queue[i..].find("</form>").unwrap() + i];
            let last: Date = last_cafe.parse().unwrap();
            let shown = nabo_server::web::fmt::date_short(last);
            assert!(
                conflict.contains(&format!("den {shown}")),
                "{backend:?} {day} {time}: the demo's disagreeing marks are not on {shown}: {conflict}"
            );
            // The café's page: its newest session listed is that afternoon, none after today.
            let acts = b.text("/aktiviteter").await;
            let name = acts.find("Lektiecaféen i Beboerhuset</a>").unwrap();
            let j = acts[..name].rfind("href=\"").unwrap() + "href=\"".len();
            let page = b.text(acts[j..].split('"').next().unwrap()).await;
            let today = nabo_server::web::fmt::date_with_weekday(day.parse().unwrap());
            let newest = nabo_server::web::fmt::date_with_weekday(last);
            assert!(
                page.contains(&newest),
                "{backend:?} {day}: {newest} missing"
            );
            assert!(!page.contains(&today), "{backend:?} {day}: a session today");
            drop(r);
        }
    }
}

/// A record that does not parse (older data, or anything that slipped past the rules) is
/// skipped and flagged on every review page, never a 500 for the tenant (issue 9, item 2):
/// written straight into storage, past the relay, on SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread")]
async fn a_record_that_does_not_parse_is_skipped_and_flagged_on_the_pages() {
    use automerge::transaction::Transactable;
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg = common::doc_id(&r, "register", "Lektiecaféen").await;
        let act = common::doc_id(&r, "activity", "Gadeplansarbejde").await;
        let central = Browser::login(&r, "central").await;
        for p in ["/oversigt", "/gennemgang"] {
            assert!(!central.text(p).await.contains("kunne ikke læses"), "{p}");
        }
        // `participants[k] = 42` in a register, and an activity whose record is a number.
        let mut doc = common::stored(&r, reg).await;
        let heads = doc.get_heads();
        let (_, parts) = automerge::ReadDoc::get(&doc, automerge::ROOT, "participants")
            .unwrap()
            .unwrap();
        let k = automerge::ReadDoc::keys(&doc, &parts).next().unwrap();
        let mut tx = doc.transaction();
        tx.put(&parts, k.as_str(), 42).unwrap();
        tx.commit();
        r.storage()
            .append(reg, &doc.save_after(&heads))
            .await
            .unwrap();
        let mut adoc = common::stored(&r, act).await;
        let heads = adoc.get_heads();
        let mut tx = adoc.transaction();
        tx.put(automerge::ROOT, "activity", 7).unwrap();
        tx.commit();
        r.storage()
            .append(act, &adoc.save_after(&heads))
            .await
            .unwrap();

        for p in [
            "/oversigt",
            "/aktiviteter",
            "/gennemgang",
            "/rapporter/maalgrupper",
            "/rapporter/bestyrelse",
        ] {
            let html = central.text(p).await;
            assert!(
                html.contains("2 poster kunne ikke læses")
                    && html.contains(&format!("participants/{k}"))
                    && html.contains("<code>activity</code>"),
                "{backend:?} {p}: the unreadable records are flagged"
            );
        }
        let board = Browser::login(&r, "bestyrelse").await;
        assert!(
            board
                .text("/rapporter/bestyrelse")
                .await
                .contains("kunne ikke læses"),
            "{backend:?}"
        );
        r.running.unwrap().shutdown().await;
    }
}

/// Posts the form that creates an activity (headcount registration) in the demo's area.
async fn post_activity(
    b: &Browser,
    base: &str,
    name: &str,
    programme: &str,
    kind: &str,
) -> reqwest::Response {
    b.post(
        "/administration/aktiviteter",
        base,
        &[
            ("navn", name),
            ("program", programme),
            ("omraade", "a-vestparken"),
            ("type", kind),
            ("registrering", "headcount"),
        ],
    )
    .await
}

/// Issue 10 item 3: a programme of each funding round gets activities of its round's types
/// (the CFBU catalogue placed under the round's areas, and local types), the overview counts
/// each in its programme's round, and a report in one round says which mapping it used.
#[tokio::test(flavor = "multi_thread")]
async fn activities_in_every_funding_round_are_created_and_reported() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let rounds = [
            (
                "lbf-2006-2010",
                "Landsbyggefonden 2006–2010",
                "Beskæftigelse &amp; uddannelse",
                "Beskæftigelse & uddannelse",
            ),
            (
                "lbf-2011-2014",
                "Landsbyggefonden 2011–2014",
                "Uddannelse, beskæftigelse og erhverv",
                "Uddannelse, beskæftigelse og erhverv",
            ),
            (
                "lbf-2015-2018",
                "Landsbyggefonden 2015–2018",
                "Uddannelse og beskæftigelse",
                "Uddannelse og beskæftigelse",
            ),
            (
                "lbf-2019-2026",
                "Landsbyggefonden 2019–2026",
                "Uddannelse og livschancer",
                "Uddannelse og livschancer",
            ),
        ];
        let mut programmes = Vec::new();
        for (tax, name, _, _) in rounds {
            let title = format!("Helhedsplan {name}");
            let resp = b
                .post(
                    "/administration/programmer",
                    &base,
                    &[
                        ("navn", title.as_str()),
                        ("fra", "2026-01-01"),
                        ("til", "2029-12-31"),
                        ("taksonomi", tax),
                        ("omraade", "a-vestparken"),
                        ("andel-lbf", "75"),
                        ("andel-kommune", "25"),
                    ],
                )
                .await;
            assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{tax}");
            programmes.push(hidden_option(&b.text("/administration").await, &title));
        }
        // The form offers each round's types under that round's areas.
        let admin = b.text("/administration").await;
        for (tax, name, area_html, _) in rounds {
            let group = format!("<optgroup label=\"{name} · {area_html}\">");
            let at = admin.find(&group).unwrap_or_else(|| panic!("{group}"));
            let option = format!("value=\"{tax}|BE.lektiecafe\">Lektiecafé</option>");
            let end = admin[at..].find("</optgroup>").unwrap() + at;
            assert!(admin[at..end].contains(&option), "{tax}");
        }
        // An activity in each round.
        for ((tax, _, _, _), programme) in rounds.iter().zip(&programmes) {
            let kind = format!("{tax}|BE.lektiecafe");
            let resp =
                post_activity(&b, &base, &format!("Lektiecafé {tax}"), programme, &kind).await;
            assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{tax}");
            let page = b.text(resp.headers()[LOCATION].to_str().unwrap()).await;
            assert!(page.contains(&format!("Lektiecafé {tax}")), "{tax}");
        }
        // A type of another round is refused with a reason naming both rounds.
        let resp = post_activity(
            &b,
            &base,
            "Forkert runde",
            &programmes[3],
            "lbf-2006-2010|BE.lektiecafe",
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let text = resp.text().await.unwrap();
        assert!(
            text.contains("hører til Landsbyggefonden 2006–2010")
                && text.contains("følger Landsbyggefonden 2019–2026"),
            "{text}"
        );
        // A local type under a 2019–26 area is offered after the catalogue and used.
        let resp = b
            .post(
                "/administration/aktivitetstyper",
                &base,
                &[
                    ("navn", "Mødregruppe"),
                    ("omraade", "lbf-2019-2026|UL"),
                    ("maalgruppe", "kvinder"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let admin = b.text("/administration").await;
        assert!(
            admin.contains(
                "value=\"lbf-2019-2026|UL.moedregruppe\">Mødregruppe (lokal type)</option>"
            )
        );
        let again = b
            .post(
                "/administration/aktivitetstyper",
                &base,
                &[("navn", "Mødregruppe"), ("omraade", "lbf-2019-2026|UL")],
            )
            .await;
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
        assert!(again.text().await.unwrap().contains("findes allerede"));
        let resp = post_activity(
            &b,
            &base,
            "Mødregruppen",
            &programmes[3],
            "lbf-2019-2026|UL.moedregruppe",
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        // The overview counts each activity in its programme's own round, without a mapping
        // (the demo's homework café is a 2019–26 one, with its sessions).
        let csv = b
            .text("/oversigt?eksport=csv&tabel=aktiviteter&fra=2026-01-01")
            .await;
        for (tax, name, _, area) in rounds {
            let n = if tax == "lbf-2019-2026" { 2 } else { 1 };
            let row = csv
                .lines()
                .find(|l| l.starts_with(&format!("{name};{area};Lektiecafé;{n};")))
                .unwrap_or_else(|| panic!("{name}: {csv}"));
            assert!(row.ends_with(';'), "no mapping in the own round: {row}");
        }
        assert!(
            csv.contains("Landsbyggefonden 2019–2026;Uddannelse og livschancer;Mødregruppe;1;")
        );
        // In one round, activities of other rounds are translated, and the row says how.
        let csv = b
            .text("/oversigt?eksport=csv&tabel=aktiviteter&fra=2026-01-01&runde=lbf-2019-2026")
            .await;
        let rows: Vec<&str> = csv.lines().filter(|l| l.contains("Lektiecafé")).collect();
        assert_eq!(rows.len(), 4, "{csv}");
        for row in &rows {
            assert!(
                row.starts_with("Landsbyggefonden 2019–2026;Uddannelse og livschancer;Lektiecafé;"),
                "{row}"
            );
        }
        assert!(rows.iter().any(|r| r.contains(
            "fra Landsbyggefonden 2006–2010: typeplacering i Landsbyggefonden 2019–2026 (katalog v2), gennemgået af Nabo developers"
        )), "{csv}");
        // Back in 2006–10 terms: the catalogue's own area, and the local type by area mappings.
        let csv = b
            .text("/oversigt?eksport=csv&tabel=aktiviteter&fra=2026-01-01&runde=lbf-2006-2010")
            .await;
        assert!(
            csv.contains("fra Landsbyggefonden 2019–2026: typens indsatsområde i CFBU-kataloget"),
            "{csv}"
        );
        assert!(
            csv.contains(
                "Landsbyggefonden 2006–2010;Beskæftigelse & uddannelse / Børn & unge;Mødregruppe;1;"
            ),
            "{csv}"
        );
        assert!(csv.contains("områdeoversættelse Landsbyggefonden 2019–2026 (katalog v2) → Landsbyggefonden 2015–2018"), "{csv}");
        // The page says which mapping it used, and an unknown round is refused.
        let page = b.text("/oversigt?fra=2026-01-01&runde=lbf-2019-2026").await;
        assert!(page.contains("opgjort i Landsbyggefonden 2019–2026"));
        assert!(page.contains("er oversat med"));
        assert_eq!(
            b.get("/oversigt?runde=lbf-1999").await.status(),
            StatusCode::BAD_REQUEST
        );
    }
}

/// The certificate of `v` in the stored volunteer directory (its renewal date), and the
/// check-in of `v` at a new session today of the demo's homework café (children under 15), in
/// a fresh register of this term, checked against that certificate.
async fn check_in_today(r: &TestRelay, v: &str) -> (Option<String>, nabo_core::Result<()>) {
    use automerge::ActorId;
    use nabo_core::prelude::*;
    let id = common::doc_id(r, "activity", "Lektiecaféen").await;
    let doc = NaboDoc::from_automerge(common::stored(r, id).await, ActorId::random()).unwrap();
    let act = ActivityDoc::from_doc(doc).unwrap();
    let vid: VolunteerId = v.parse().unwrap();
    let dir = common::doc_id(r, "volunteers", "").await;
    let doc = NaboDoc::from_automerge(common::stored(r, dir).await, ActorId::random()).unwrap();
    let certificates = nabo_core::docs::volunteers::VolunteersDoc::from_doc(doc)
        .unwrap()
        .certificates()
        .unwrap();
    let until = certificates.get(&vid).map(|c| c.renewal_due.to_string());
    let snap = act.snapshot().unwrap();
    let cat = Catalogue::builtin().unwrap();
    let ctx = || RegisterContext {
        catalogue: cat,
        activity: &snap,
        certificates: &certificates,
    };
    let now = Timestamp::now();
    let me = Author {
        by: By::Staff("s-central".parse().unwrap()),
        at: now,
    };
    let mut reg = RegisterDoc::create(
        "vestbyen".parse().unwrap(),
        "act-lektiecafe".parse().unwrap(),
        nabo_core::time::Term::of(now.date_dk()),
        ActorId::random(),
        &me,
        ctx(),
    )
    .unwrap();
    let s = reg
        .add_session(
            &me,
            NewSession {
                date: now.date_dk(),
                start: Time::hm(0, 0).unwrap(),
                end: Time::hm(23, 59).unwrap(),
                venue: None,
                title: None,
            },
        )
        .unwrap();
    (until, reg.check_in(&me, ctx(), &s, &vid, now))
}

/// Issue 10 item 4: a børneattest recorded on the pages (dates only) is what the check reads,
/// so an expired one blocks the volunteer and a renewed one unblocks; renewals due within 30
/// days are listed on the page and exported.
#[tokio::test(flavor = "multi_thread")]
async fn a_renewed_child_certificate_unblocks_and_renewals_are_listed() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let today = nabo_core::time::Timestamp::now().date_dk();
        let day = |n: i64| today.add_days(n).to_string();
        let export = "/administration/boerneattester?eksport=csv&tabel=boerneattester";
        // The demo's volunteer 4 is due in 30 days: warned on the page and in the export.
        let csv = b.text(export).await;
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 1, "{csv}");
        assert!(
            rows[0].contains(";Skal fornyes snart;") && rows[0].contains(";30;"),
            "{csv}"
        );
        assert!(rows[0].contains("Lektiecaféen i Beboerhuset"), "{csv}");
        let admin = b.text("/administration").await;
        assert!(
            admin.contains("Børneattester, der er udløbet eller skal fornyes inden for 30 dage")
        );
        // A renewal date before the date obtained is refused in Danish.
        let resp = b
            .post(
                "/administration/boerneattest",
                &base,
                &[
                    ("frivillig", "v-4"),
                    ("indhentet", &day(0)),
                    ("fornyes", &day(-1)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("skal ligge efter"));
        // An expired certificate: the volunteer is blocked.
        let resp = b
            .post(
                "/administration/boerneattest",
                &base,
                &[
                    ("frivillig", "v-4"),
                    ("indhentet", &day(-800)),
                    ("fornyes", &day(-70)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (until, blocked) = check_in_today(&r, "v-4").await;
        assert_eq!(until, Some(day(-70)));
        match blocked {
            Err(nabo_core::Error::Invalid(i)) => {
                assert_eq!(i.reason, nabo_core::Reason::ChildCertificateRequired)
            }
            other => panic!("{other:?}"),
        }
        let csv = b.text(export).await;
        assert!(csv.contains(";Udløbet;") && csv.contains(";-70;"), "{csv}");
        // Renewed today: the check-in is accepted.
        let resp = b
            .post(
                "/administration/boerneattest",
                &base,
                &[
                    ("frivillig", "v-4"),
                    ("indhentet", &day(0)),
                    ("fornyes", &day(730)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (until, ok) = check_in_today(&r, "v-4").await;
        assert_eq!(until, Some(day(730)));
        ok.expect("a renewed certificate unblocks");
        let csv = b.text(export).await;
        assert_eq!(csv.lines().count(), 1, "nothing due: {csv}");
    }
}

/// Issue 10 item 4: engagements and trainings from the pages; the roster of who helps where
/// carries the volunteer's current certificate.
#[tokio::test(flavor = "multi_thread")]
async fn volunteers_are_engaged_trained_and_shown_on_the_roster() {
    use automerge::ActorId;
    use nabo_core::prelude::*;
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let today = Timestamp::now().date_dk().to_string();
        let engage = |role: &'static str| {
            vec![
                ("frivillig", "v-2"),
                ("aktivitet", "act-gadeplan"),
                ("rolle", role),
                ("fra", "2026-09-01"),
            ]
        };
        let resp = b
            .post("/administration/tilknytning", &base, &engage("ukendt"))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«role»"));
        let resp = b
            .post("/administration/tilknytning", &base, &engage("tovholder"))
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let resp = b
            .post(
                "/administration/kursus",
                &base,
                &[
                    ("frivillig", "v-2"),
                    ("kursus", "Konflikthåndtering"),
                    ("dato", today.as_str()),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let admin = b.text("/administration").await;
        let at = admin.find("Hvem hjælper hvor").unwrap();
        let roster = &admin[at..];
        let row = roster
            .split("<tr>")
            .find(|r| r.contains("Gadeplansarbejde i Vestparken"))
            .unwrap_or_else(|| panic!("{roster}"));
        assert!(
            row.contains("Tovholder") && row.contains("Konflikthåndtering"),
            "{row}"
        );
        assert!(row.contains("Gyldig"), "{row}");
        let id = common::doc_id(&r, "activity", "Gadeplansarbejde").await;
        let doc = NaboDoc::from_automerge(common::stored(&r, id).await, ActorId::random()).unwrap();
        let act = ActivityDoc::from_doc(doc).unwrap();
        let entry = &act.roster().unwrap()[&"v-2".parse::<VolunteerId>().unwrap()];
        assert_eq!(entry.role.as_str(), "tovholder");
        let id = common::doc_id(&r, "volunteers", "").await;
        let doc = NaboDoc::from_automerge(common::stored(&r, id).await, ActorId::random()).unwrap();
        let vols = nabo_core::docs::volunteers::VolunteersDoc::from_doc(doc).unwrap();
        let v = vols.volunteer(&"v-2".parse().unwrap()).unwrap();
        // The certificate stays in the directory: no copy on the roster (ADR 0023).
        assert!(v.child_certificate.is_some());
        assert_eq!(entry.cleared_for_children_until, None);
        assert!(v.trainings.values().any(|t| t.name == "Konflikthåndtering"));
    }
}

/// The `<form …>…</form>` of the review queue that contains `marker`.
fn form_with<'a>(html: &'a str, marker: &str) -> &'a str {
    let i = html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let start = html[..i].rfind("<form").unwrap();
    let end = html[i..].find("</form>").unwrap() + i;
    &html[start..end]
}

/// The texts of the elements that follow each occurrence of `open` (up to the next `<`).
fn texts_after(html: &str, open: &str) -> Vec<String> {
    html.match_indices(open)
        .map(|(i, _)| {
            let rest = &html[i + open.len()..];
            let rest = &rest[rest.find('>').unwrap() + 1..];
            rest[..rest.find('<').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn conflict_and_duplicate_forms_choose_nothing_for_staff() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let b = Browser::login(&r, "central").await;
        let queue = b.text("/gennemgang").await;
        // The demo's two phones wrote two different marks, neither of them "til stede" unless
        // one phone said so: no answer is chosen in advance, and what the phones wrote comes
        // first, marked as such.
        let conflict = form_with(&queue, "Uenige registreringer");
        assert!(!conflict.contains("checked"), "{backend:?}: {conflict}");
        assert_eq!(conflict.matches("type=\"radio\"").count(), 3, "{conflict}");
        assert_eq!(conflict.matches("required").count(), 3, "{conflict}");
        assert_eq!(
            conflict.matches("(registreret på en telefon)").count(),
            2,
            "{conflict}"
        );
        let duplicate = form_with(&queue, "Samme barn tilføjet flere gange");
        assert!(!duplicate.contains("checked"), "{backend:?}: {duplicate}");
        assert!(duplicate.contains("required"), "{duplicate}");

        // A form sent without a choice changes nothing and says what is missing.
        let doc = hidden(conflict, "action", "dokument");
        let session = hidden(conflict, "action", "moede");
        let participant = hidden(conflict, "action", "deltager");
        let resp = b
            .post(
                "/konflikter/fremmoede",
                &r.http(),
                &[
                    ("dokument", &doc),
                    ("moede", &session),
                    ("deltager", &participant),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Vælg det rigtige fremmøde")
        );
        let doc = hidden(duplicate, "action", "dokument");
        let all = hidden(duplicate, "action", "deltagere");
        let resp = b
            .post(
                "/dubletter/deltagere",
                &r.http(),
                &[("dokument", &doc), ("deltagere", &all)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Vælg hvem der beholdes")
        );
        let queue = b.text("/gennemgang").await;
        assert!(queue.contains("Uenige registreringer") && queue.contains("Samme barn tilføjet"));
    }
}

/// "tirsdag 3. marts 2026" or "03.03.2026 kl. 15.04" as a sortable (y, m, d, minutes).
fn danish_when(s: &str) -> (i32, u32, u32, u32) {
    use nabo_server::web::fmt::MONTHS;
    if let Some((date, time)) = s.split_once(" kl. ") {
        let d: Vec<u32> = date.split('.').map(|x| x.parse().unwrap()).collect();
        let (h, m) = time.split_once('.').unwrap();
        return (
            d[2] as i32,
            d[1],
            d[0],
            h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap(),
        );
    }
    let w: Vec<&str> = s.split_whitespace().collect();
    let month = MONTHS.iter().position(|m| *m == w[2]).unwrap() as u32 + 1;
    (
        w[3].parse().unwrap(),
        month,
        w[1].trim_end_matches('.').parse().unwrap(),
        0,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_are_in_date_and_age_order_and_read_as_danish() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let b = Browser::login(&r, "central").await;

        // The café's afternoons, newest first (two weekly series, interleaved by date), and
        // called "gange", not "møder".
        let activity = b.text("/aktiviteter/act-lektiecafe").await;
        let dates: Vec<_> = texts_after(&activity, "<a href=\"/registre/")
            .iter()
            .map(|t| danish_when(t))
            .collect();
        assert!(dates.len() > 10, "{backend:?}: {dates:?}");
        assert!(
            dates.windows(2).all(|w| w[0] >= w[1]),
            "{backend:?}: sessions not newest first: {dates:?}"
        );
        assert!(activity.contains("<h2>Gange "), "{backend:?}");
        assert!(!activity.contains("Møder"), "{backend:?}");

        // Two workers' logs of the same quarter read apart: area and worker in the title.
        let list = b.text("/aktiviteter").await;
        let titles = texts_after(&list, "<a href=\"/opsoegende/");
        assert_eq!(titles.len(), 2, "{titles:?}");
        assert_ne!(titles[0], titles[1]);
        for t in &titles {
            assert!(
                t.starts_with("Opsøgende log: ") && t.contains("kvartal"),
                "{t}"
            );
        }
        assert!(
            titles.iter().any(|t| t.contains("Vestparken")),
            "{titles:?}"
        );
        assert!(list.contains("15 kontakter"), "{backend:?}");

        // An outreach log is a log: the latest contact first.
        let i = list.find("<a href=\"/opsoegende/").unwrap() + "<a href=\"".len();
        let log_path = list[i..].split('"').next().unwrap().to_owned();
        let log = b.text(&log_path).await;
        assert!(log.contains(&format!("<h1>{}</h1>", titles[0])), "{log}");
        let section =
            &log[log.find("id=\"kontakter\"").unwrap()..log.find("id=\"henvisninger\"").unwrap()];
        let times: Vec<_> = texts_after(section, "<th scope=\"row\"")
            .iter()
            .map(|t| danish_when(t))
            .collect();
        assert_eq!(times.len(), 15, "{times:?}");
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "{backend:?}: contacts not newest first: {times:?}"
        );

        // Age bands by age: 7–9 before 10–12 (as text, "10-12" sorts first).
        let overview = b.text("/oversigt").await;
        let ages = &overview[overview.find("id=\"deltagere-alder\"").unwrap()..];
        let (young, old) = (ages.find("7–9 år").unwrap(), ages.find("10–12 år").unwrap());
        assert!(young < old, "{backend:?}: age bands out of order");
        assert!(overview.contains("Gange afholdt") && !overview.contains("Møder afholdt"));

        // One child, one mark: "1 registrering", never "1 registreringer".
        let queue = b.text("/gennemgang").await;
        let duplicate = form_with(&queue, "Samme barn tilføjet flere gange");
        assert!(duplicate.contains("; 1 registrering)"), "{duplicate}");
        assert!(
            !duplicate
                .match_indices(" registreringer")
                .any(|(i, _)| duplicate[..i].ends_with(" 1")),
            "{duplicate}"
        );

        // The municipality as a funder is an organisation: "Kommunen".
        let admin = b.text("/administration").await;
        assert!(admin.contains("Kommunen<input"), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn volunteers_and_outreach_workers_on_the_web_are_sent_to_the_app() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        for (user, role) in [
            ("volunteer1", "frivillig"),
            ("outreach1", "lokal medarbejder"),
        ] {
            let b = Browser::login(&r, user).await;
            // After signing in (the front page), the page that says to use the app.
            let resp = b.get("/").await;
            assert_eq!(
                resp.headers()[LOCATION],
                "/brug-appen",
                "{backend:?} {user}"
            );
            let html = b.text("/brug-appen").await;
            assert!(html.contains("Brug Nabo-appen på din telefon"), "{html}");
            assert!(html.contains(&format!("logget ind som {role}")), "{html}");
            let link = format!("nabo://aabn?relay={}", base.replace(':', "%3A"));
            assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
            assert_eq!(html.matches("<svg").count(), 1, "one QR code");
            assert!(!html.contains("Ingen adgang"));
            // A staff page is still refused, with the same way forward instead of a dead end.
            let resp = b.get("/oversigt").await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
            let refused = resp.text().await.unwrap();
            assert!(refused.contains("Brug Nabo-appen") && refused.contains(&link));
            // Every link on the page leads somewhere this user may go.
            for (i, _) in html.match_indices("href=\"/") {
                let path = html[i + 6..].split('"').next().unwrap();
                let resp = b.get(path).await;
                assert!(
                    resp.status().is_success(),
                    "{user}: {path} → {}",
                    resp.status()
                );
            }
            // And signing out works.
            let resp = b.post("/log-ud", &base, &[]).await;
            assert_eq!(resp.headers()[LOCATION], "/log-ind", "{user}");
            assert_eq!(b.get("/brug-appen").await.status(), StatusCode::SEE_OTHER);
        }
    }
}

/// The rows of a table on a page (by its section id), each cell's text without tags.
fn table_rows(html: &str, slug: &str) -> Vec<Vec<String>> {
    let start = html.find(&format!("id=\"{slug}\"")).unwrap();
    let section = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &section[section.find("<tbody>").unwrap()..];
    // Each cell is `<th …>…</th>` or `<td …>…</td>`; its text is what is left without tags.
    let strip = |s: &str| {
        let mut out = String::new();
        let mut in_tag = false;
        for ch in s.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.trim().to_owned()
    };
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("</t")
                .filter_map(|c| {
                    let i = c.find("<th").or_else(|| c.find("<td"))?;
                    Some(strip(&c[i..]))
                })
                .collect::<Vec<_>>()
        })
        .filter(|r: &Vec<String>| !r.is_empty())
        .collect()
}

/// A shown count as a number (Danish thousands separators), or `None` for "skjult".
fn shown(cell: &str) -> Option<i64> {
    (cell != "skjult").then(|| cell.replace('.', "").parse().unwrap())
}

/// Issue 11 item 2: central staff switch free-text notes on outreach contacts on and off on
/// the administration page (off by default); nobody else may.
#[tokio::test(flavor = "multi_thread")]
async fn central_staff_switch_free_text_notes_on_the_administration_page() {
    use nabo_core::docs::tenant::TenantDoc;
    use nabo_core::document::{NaboDoc, Scope, TypedDoc};
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let id = Scope::Tenant {
            tenant: "vestbyen".parse().unwrap(),
        }
        .document_id();
        let stored = || async {
            let doc = common::stored(&r, id).await;
            TenantDoc::from_doc(NaboDoc::from_automerge(doc, automerge::ActorId::random()).unwrap())
                .unwrap()
                .settings()
                .unwrap()
                .free_text_notes
        };
        assert!(!stored().await, "{backend:?}: off by default");
        let central = Browser::login(&r, "central").await;
        let html = central.text("/administration").await;
        assert!(
            html.contains("Tillad fritekstnoter på kontakter"),
            "{backend:?}"
        );
        assert!(
            !html.contains("name=\"noter\" value=\"ja\" checked"),
            "{backend:?}"
        );

        let resp = central
            .post("/administration/noter", &base, &[("noter", "ja")])
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{backend:?}");
        assert!(stored().await, "{backend:?}: switched on");
        let html = central.text("/administration").await;
        assert!(
            html.contains("name=\"noter\" value=\"ja\" checked"),
            "{backend:?}"
        );

        // Not central staff: refused, nothing changed.
        let ali = Browser::login(&r, "outreach1").await;
        let resp = ali.post("/administration/noter", &base, &[]).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{backend:?}");
        assert!(stored().await, "{backend:?}");
        // A value other than on is refused by name.
        let resp = central
            .post("/administration/noter", &base, &[("noter", "måske")])
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{backend:?}");
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("«Tillad fritekstnoter»")
        );
        // Unticked: off again.
        let resp = central.post("/administration/noter", &base, &[]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{backend:?}");
        assert!(!stored().await, "{backend:?}: switched off");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_board_hides_small_numbers_beyond_recovery_at_the_tenants_threshold() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let central = Browser::login(&r, "central").await;
        let board = Browser::login(&r, "bestyrelse").await;
        for threshold in [5, 20] {
            if threshold != 5 {
                let resp = central
                    .post(
                        "/administration/smaa-tal",
                        &base,
                        &[("graense", &threshold.to_string())],
                    )
                    .await;
                assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{backend:?}");
            }
            let html = board.text("/rapporter/bestyrelse").await;
            assert!(
                html.contains(&format!("Tal fra 1 til {}", threshold - 1)),
                "{backend:?}"
            );
            let headline: Vec<(String, String)> = texts_after(&html, "<span class=\"tal\"")
                .into_iter()
                .zip(texts_after(&html, "<span class=\"etiket\""))
                .collect();
            let total = |label: &str| {
                headline
                    .iter()
                    .find(|(_, l)| l == label)
                    .map(|(v, _)| v.clone())
                    .unwrap()
            };
            let mut hidden_somewhere = 0;
            // Every count column that adds up: the "I alt" row is the headline figure, no
            // small count is shown, and a column never holds exactly one hidden figure —
            // one alone would be its total minus the rest.
            for (slug, columns) in [
                (
                    "omraader",
                    &[
                        (2, "Gange afholdt"),
                        (3, "Fremmøder"),
                        (4, "Unikke deltagere"),
                    ][..],
                ),
                (
                    "aktiviteter",
                    &[
                        (4, "Gange afholdt"),
                        (5, "Fremmøder"),
                        (6, "Unikke deltagere"),
                    ][..],
                ),
                (
                    "deltagere-alder",
                    &[(1, "Unikke deltagere"), (2, "Nye deltagere")][..],
                ),
            ] {
                let rows = table_rows(&html, slug);
                let (last, body) = rows.split_last().unwrap();
                assert_eq!(last[0], "I alt", "{slug}: {rows:?}");
                for (col, label) in columns {
                    let head = &last[*col];
                    assert_eq!(head, &total(label), "{slug} {label}");
                    let cells: Vec<Option<i64>> = body.iter().map(|r| shown(&r[*col])).collect();
                    for v in cells.iter().flatten() {
                        assert!(*v == 0 || *v >= threshold, "{slug} {label}: {v} shown");
                    }
                    let hidden = cells.iter().filter(|c| c.is_none()).count()
                        + usize::from(shown(head).is_none());
                    assert_ne!(
                        hidden, 1,
                        "{backend:?} {threshold} {slug} {label}: {cells:?} / {head}"
                    );
                    // With the total shown and the rest known, the hidden ones add up to the
                    // difference — but, two or more, none of them on its own.
                    if let Some(t) = shown(head) {
                        let known: i64 = cells.iter().flatten().sum();
                        assert!(t >= known);
                    }
                    hidden_somewhere += hidden;
                }
            }
            assert!(
                hidden_somewhere > 0,
                "{backend:?} {threshold}: the demo has small numbers"
            );
            // The printable pack: the same figures, without navigation, for paper.
            let pack = board.text("/rapporter/bestyrelse/udskrift").await;
            assert!(pack.contains("class=\"pakke\"") && !pack.contains("Eksportér"));
            assert_eq!(table_rows(&pack, "omraader"), table_rows(&html, "omraader"));
        }
        let css = board.text("/nabo.css").await;
        assert!(css.contains("@media print"));
        let resp = central
            .post("/administration/smaa-tal", &base, &[("graense", "0")])
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("small_cell_threshold"));
    }
}
