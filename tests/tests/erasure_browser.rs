//! Issue 11: central staff erase a child from the review pages in a real browser (Debian's
//! chromium driven by `playwright-core`, script in `tests/js/erasure.mjs`). Two phones hold
//! the child's name before; afterwards the name is gone from the session page, from the
//! exported attendance list and from both phones, which report that they deleted the key,
//! while the child's mark still counts without a name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nabo_bindings::NaboClient;
use nabo_core::time::Timestamp;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

const PASSWORD: &str = "browser-test-password";

async fn phone(
    r: &TestRelay,
    dir: &tempfile::TempDir,
    key: u8,
    name: &str,
) -> std::sync::Arc<NaboClient> {
    let token = nabo_core::client::login(&r.http(), "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/enrolments", r.http()))
        .bearer_auth(token)
        .json(&serde_json::json!({"user_id": "u-volunteer1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p = NaboClient::open(dir.path().display().to_string(), r.http(), vec![key; 32])
        .await
        .unwrap();
    p.enrol(v["code"].as_str().unwrap().to_owned(), name.into())
        .await
        .unwrap();
    p.sync_now().await.unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn central_staff_erase_a_child_in_the_browser_and_both_phones_forget_the_name() {
    if !nabo_tests::browser::available(&["playwright-core"]) {
        return;
    }
    for backend in Backend::all() {
        erase_in_the_browser_on(backend).await;
    }
}

async fn erase_in_the_browser_on(backend: Backend) {
    let r = TestRelay::start(backend, Limits::default()).await.unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = phone(&r, &d1, 7, "Majas telefon").await;
    let second = phone(&r, &d2, 8, "Majas tablet").await;

    // The last café afternoon with a child both phones name, once, with no conflict to
    // settle. Today's session, on a café day, has no marks yet (the demo marks the sessions
    // before today's Danish date), so the search goes on to earlier days (before: it stopped
    // at today's unmarked list and failed all day on Tuesdays and Thursdays).
    let named_once = |call: &nabo_bindings::api::RollCall| {
        let labels: Vec<&String> = call
            .entries
            .iter()
            .filter_map(|e| e.label.as_ref())
            .collect();
        call.entries
            .iter()
            .find(|e| {
                !e.conflict
                    && e.mark.is_some()
                    && e.label
                        .as_ref()
                        .is_some_and(|l| labels.iter().filter(|x| **x == l).count() == 1)
            })
            .cloned()
    };
    let today = Timestamp::now().date_dk();
    let mut found = None;
    'days: for back in 0..=7 {
        let day = today.add_days(-back);
        for s in first.sessions_on(day.to_string()).await.unwrap() {
            if s.date != day.to_string() {
                continue;
            }
            if let Some(child) = named_once(&first.roll_call(s.id.clone()).await.unwrap()) {
                found = Some((s.id, day, child));
                break 'days;
            }
        }
    }
    let (session, day, child) =
        found.expect("a café session in the last week with a child marked once, with a name");
    let (pid, name) = (child.participant_id.clone(), child.label.clone().unwrap());
    let on_second = second.roll_call(session.clone()).await.unwrap();
    assert!(
        on_second
            .entries
            .iter()
            .any(|e| e.participant_id == pid && e.label.as_deref() == Some(name.as_str())),
        "{backend:?}: the second phone names the child before"
    );

    let answer = nabo_tests::browser::run(
        "erasure.mjs",
        &[
            &r.http(),
            PASSWORD,
            "Lektiecaféen i Beboerhuset",
            &nabo_server::web::fmt::date_with_weekday(day),
            &name,
        ],
    );
    assert_eq!(
        answer["after"].as_u64().unwrap() + 1,
        answer["before"].as_u64().unwrap()
    );

    // Both phones hear of it at their next sync, forget the name, and say so.
    for p in [&first, &second] {
        p.sync_now().await.unwrap();
        let call = p.roll_call(session.clone()).await.unwrap();
        assert!(
            call.entries
                .iter()
                .all(|e| e.label.as_deref() != Some(name.as_str())),
            "{backend:?}: a phone still names the erased child"
        );
    }
    let confirmed = r
        .storage()
        .erasure_confirmations(&"vestbyen".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        confirmed.get(&pid).copied(),
        Some(2),
        "{backend:?}: both phones confirm the erasure: {confirmed:?}"
    );
    r.running.unwrap().shutdown().await;
}
