//! The review pages in a real browser (Debian's chromium, driven by `playwright-core` from
//! npm, script in `tests/js/web.mjs`): a volunteer's phone takes a roll call that the office
//! does not see until the phone syncs; then central staff see it merged with who marked it,
//! flag it, merge a child added twice, settle two phones' different marks, export CSV and XLSX
//! and check them against the page, open the goal report, invite a phone (the code works),
//! check the tablet layout, and a board member sees only aggregates with small numbers hidden.
//!
//! The relay and the phone run on one clock set to 00:30 Danish time on the night after a café
//! afternoon (while the UTC date is still the café's day): the hour in which a UTC calendar
//! and a Danish one disagree about which afternoon was "yesterday's" (issue 12, item 13).
//!
//! `NABO_SCREENSHOTS=<dir>` keeps screenshots of the main pages (docs/screenshots/ holds them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nabo_bindings::NaboClient;
use nabo_bindings::api::Mark;
use nabo_core::time::{Clock, Date, Time, Timestamp, Weekday};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

const PASSWORD: &str = "browser-test-password";

fn available() -> bool {
    nabo_tests::browser::available(&["playwright-core"])
}

fn browser(args: &[&str]) -> serde_json::Value {
    nabo_tests::browser::run("web.mjs", args)
}

async fn enrolment_code(r: &TestRelay, user: &str) -> String {
    let token = nabo_core::client::login(&r.http(), "central", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/enrolments", r.http()))
        .bearer_auth(token)
        .json(&serde_json::json!({"user_id": user}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn central_staff_review_a_phones_roll_call_in_the_browser() {
    if !available() {
        return;
    }
    // Both backends: the review tables of each are read by the pages.
    for backend in Backend::all() {
        review_in_the_browser_on(backend).await;
    }
}

async fn review_in_the_browser_on(backend: Backend) {
    let clock = Clock::starting_at(night_after_a_cafe_day());
    let r = TestRelay::start_with_clock(backend, Limits::default(), clock.clone())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let base = r.http();
    let today = clock.today_dk();
    let date_text = nabo_server::web::fmt::date_with_weekday(today);
    let shots = std::env::var("NABO_SCREENSHOTS").unwrap_or_default();

    // Maja's phone is enrolled and has what she may see.
    let dir = tempfile::tempdir().unwrap();
    let maja = NaboClient::open_with_clock(
        dir.path().display().to_string(),
        base.clone(),
        vec![7; 32],
        clock.clone(),
    )
    .await
    .unwrap();
    let code = enrolment_code(&r, "u-volunteer1").await;
    maja.enrol(code, "Majas telefon".into()).await.unwrap();
    maja.sync_now().await.unwrap();
    // The demo's last café afternoon holds a child added twice and two phones' different
    // marks; Maja's phone shows both until the office resolves them.
    let last = last_cafe_session(&maja, today).await;
    let call = maja.roll_call(last.clone()).await.unwrap();
    assert_eq!(call.entries.iter().filter(|e| e.conflict).count(), 1);
    let children_before = call.entries.len();

    // The roll call is taken on the phone; the office cannot see it yet.
    let relay_has_session = !maja.todays_sessions().await.unwrap().is_empty();
    let session = match maja.todays_sessions().await.unwrap().into_iter().next() {
        Some(s) => s,
        None => maja
            .add_session(
                "act-lektiecafe".into(),
                today.to_string(),
                "15:00".into(),
                "17:00".into(),
                Some("Ekstra lektiecafé".into()),
            )
            .await
            .unwrap(),
    };
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    let marked = 5;
    let mut names = Vec::new();
    for e in call.entries.iter().take(marked) {
        maja.mark(session.id.clone(), e.participant_id.clone(), Mark::Present)
            .await
            .unwrap();
        // The children's names opened on the phone with the keys the relay shared.
        names.push(e.label.clone().expect("the phone holds the child's key"));
    }
    maja.check_in(session.id.clone()).await.unwrap();
    let before = browser(&["before", &base, PASSWORD, &date_text]);
    if relay_has_session {
        // The office sees today's session (from the demo), without the phone's marks.
        assert_eq!(
            before["today"]["present"].as_u64(),
            Some(0),
            "the office must see today's session with none present: {before}"
        );
    } else {
        // The phone created today's session offline: the office does not see it at all.
        assert!(
            before["today"].is_null(),
            "the office sees a session only the phone has: {before}"
        );
    }

    // The phone syncs; the office works through it in the browser.
    assert!(maja.sync_status().await.unwrap().pending_changes > 0);
    maja.sync_now().await.unwrap();
    assert_eq!(maja.sync_status().await.unwrap().pending_changes, 0);
    let after = browser(&[
        "after",
        &base,
        PASSWORD,
        &date_text,
        &names.join(","),
        "Maja Kristensen",
        &shots,
    ]);
    assert_eq!(after["today"]["present"], marked as u64, "{after}");

    // The flag is stored with its comment.
    let reviews = r
        .storage()
        .reviews(&"vestbyen".parse().unwrap())
        .await
        .unwrap();
    assert!(
        reviews
            .iter()
            .any(|x| x.state == "flagged" && x.comment.contains("hele eftermiddagen")),
        "{reviews:?}"
    );

    // The code shown on the invitation page enrols a phone.
    let code = after["code"].as_str().unwrap().to_owned();
    let dir2 = tempfile::tempdir().unwrap();
    let second = NaboClient::open(dir2.path().display().to_string(), base.clone(), vec![8; 32])
        .await
        .unwrap();
    let me = second
        .enrol(code, "Majas nye telefon".into())
        .await
        .unwrap();
    assert_eq!(me.role, "volunteer");

    // The office's resolutions reach the phone: the conflict is settled as present and the
    // child added twice is one child.
    maja.sync_now().await.unwrap();
    let call = maja.roll_call(last).await.unwrap();
    assert_eq!(call.entries.iter().filter(|e| e.conflict).count(), 0);
    assert_eq!(call.entries.len(), children_before - 1);
}

/// 00:30 Danish time on the most recent night after a café afternoon (Tuesday and Thursday):
/// a Wednesday or Friday morning.
fn night_after_a_cafe_day() -> Timestamp {
    let mut day = Timestamp::now().date_dk();
    loop {
        day = day.add_days(-1);
        if matches!(day.weekday(), Weekday::Wed | Weekday::Fri) {
            return Timestamp::from_dk(day, Time::hm(0, 30).unwrap());
        }
    }
}

async fn last_cafe_session(phone: &NaboClient, today: Date) -> String {
    for back in 1..=7 {
        let day = today.add_days(-back);
        if let Some(s) = phone
            .sessions_on(day.to_string())
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            return s.id;
        }
    }
    panic!("no café session in the last week");
}
