//! A volunteer's phone checks sign-ups and check-ins against the volunteer's own current
//! child certificate, fetched from the relay at every sync (issue 10 item 4, ADR 0023): the
//! office expires it in the volunteer directory and the phone blocks the check-in offline;
//! the office renews it and the phone and the relay accept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use nabo_bindings::{NaboClient, NaboError};
use nabo_server::testing::{Backend, TestRelay};

const PASSWORD: &str = "demo-password-for-tests";

fn day(n: i64) -> String {
    nabo_core::time::Timestamp::now()
        .date_dk()
        .add_days(n)
        .to_string()
}

/// Records volunteer 1's certificate on the administration page as central staff.
async fn record_certificate(r: &TestRelay, obtained: &str, due: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = r.http();
    let login = http
        .post(format!("{base}/log-ind"))
        .header(reqwest::header::ORIGIN, &base)
        .form(&[("brugernavn", "central"), ("adgangskode", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let res = http
        .post(format!("{base}/administration/boerneattest"))
        .header(reqwest::header::ORIGIN, &base)
        .header(reqwest::header::COOKIE, cookies.join("; "))
        .form(&[("frivillig", "v-1"), ("indhentet", obtained), ("fornyes", due)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
}

async fn enrolled(r: &TestRelay, dir: &std::path::Path) -> Arc<NaboClient> {
    let central = nabo_core::client::login(&r.http(), "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/enrolments", r.http()))
        .bearer_auth(central)
        .json(&serde_json::json!({"user_id": "u-volunteer1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let maja = NaboClient::open(dir.display().to_string(), r.http(), vec![7; 32])
        .await
        .unwrap();
    maja.enrol(v["code"].as_str().unwrap().to_owned(), "Majas telefon".into())
        .await
        .unwrap();
    maja
}

#[tokio::test(flavor = "multi_thread")]
async fn the_phone_blocks_a_check_in_with_the_certificate_the_office_recorded() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, nabo_server::relay::Limits::default())
            .await
            .unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let maja = enrolled(&r, dir.path()).await;
        maja.sync_now().await.unwrap();
        // The office records that the certificate ran out; the phone learns it at its sync.
        record_certificate(&r, &day(-800), &day(-70)).await;
        maja.sync_now().await.unwrap();
        let session = maja
            .add_session(
                "act-lektiecafe".into(),
                maja.today(),
                "00:00".into(),
                "23:59".into(),
                Some("Ekstra lektiecafé".into()),
            )
            .await
            .unwrap();
        match maja.check_in(session.id.clone()).await {
            Err(NaboError::Invalid { field, reason, .. }) => {
                assert_eq!((field.as_str(), reason.as_str()), ("volunteer", "child-certificate-required"));
            }
            other => panic!("{other:?}"),
        }
        // Renewed in the directory: the phone accepts after its next sync, and so does the relay.
        record_certificate(&r, &day(0), &day(730)).await;
        maja.sync_now().await.unwrap();
        maja.check_in(session.id.clone()).await.unwrap();
        maja.sync_now().await.unwrap();
        assert!(maja.sync_status().await.unwrap().last_error.is_none());
    }
}
