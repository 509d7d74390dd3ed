//! Consent on the phone (ADR 0027): in a named roll call a child is named only with a basis
//! covering it (the guardian's consent to naming, for a private actor); without it the child is
//! added without a name and counted only; a child under 15 needs a guardian's consent with the
//! relation; the roll call says whether each child may be named, and a withdrawal on the review
//! pages stops the naming on the phone at its next sync, and a consent recorded there
//! (ADR 0034) lets the phone name the child after its next sync.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;

use automerge::ActorId;
use nabo_bindings::NaboError;
use nabo_bindings::api::ConsentInput;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::docs::activity::ActivityDoc;
use nabo_core::document::{Author, DocumentId, NaboDoc, TypedDoc};
use nabo_core::model::{AttendanceMode, By};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

/// Central staff switch the homework café to a named roll call (its basis stays legitimate
/// interest: a private actor's).
async fn named_roll_call(r: &TestRelay) {
    let t = central_token(r).await;
    let docs = client::documents(&r.http(), &t).await.unwrap();
    let url = docs
        .iter()
        .find(|d| d["kind"] == "activity" && d["title"].as_str().unwrap().contains("Lektiecaféen"))
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = DocumentId::parse(&url).unwrap();
    let mut c = Client::connect(&r.ws(), &t, None).await.unwrap();
    let mut doc = automerge::Automerge::new();
    let mut st = automerge::sync::State::new();
    assert_eq!(
        c.sync(id, &mut doc, &mut st, true).await.unwrap(),
        SyncEnd::Synced
    );
    let mut act =
        ActivityDoc::from_doc(NaboDoc::from_automerge(doc, ActorId::random()).unwrap()).unwrap();
    let cat = nabo_core::catalogue::Catalogue::builtin().unwrap();
    let who: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", r.http()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = Author::now(
        By::Staff(who["staff_id"].as_str().unwrap().parse().unwrap()),
        &r.clock,
    );
    act.update(&me, cat, |a| a.attendance_mode = AttendanceMode::Named)
        .unwrap();
    assert_eq!(
        c.sync(id, act.doc_mut().automerge_mut(), &mut st, false)
            .await
            .unwrap(),
        SyncEnd::Synced
    );
}

/// Signs in to the review pages as central staff; the session cookies.
async fn page_session(r: &TestRelay) -> String {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/log-ind", r.http()))
        .header("origin", r.http())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("brugernavn=central&adgangskode={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

fn consent(by_guardian: bool, relation: Option<&str>, named: bool) -> ConsentInput {
    ConsentInput {
        given_on: nabo_core::time::Timestamp::now().date_dk().to_string(),
        by_guardian,
        channel: "written".into(),
        share_with_partners: false,
        relation: relation.map(Into::into),
        named_roll_call: named,
        photos: false,
        partner_org_ids: Vec::new(),
    }
}

fn invalid(e: NaboError) -> (String, String) {
    match e {
        NaboError::Invalid { field, reason, .. } => (field, reason),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_child_is_named_only_with_consent_and_a_withdrawal_stops_the_naming() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        named_roll_call(&r).await;
        let dir = tempfile::tempdir().unwrap();
        let a = enrolled_phone(&r, dir.path(), 7, "u-volunteer1").await;
        let today = nabo_core::time::Timestamp::now().date_dk().to_string();
        let session = a
            .add_session(
                "act-lektiecafe".into(),
                today,
                "15:00".into(),
                "17:00".into(),
                None,
            )
            .await
            .unwrap();
        let s = session.id.clone();

        // No consent: a name is refused by name and reason; without one the child counts.
        let e = a
            .add_child(s.clone(), Some("Zuleika".into()), "7-9".into())
            .await
            .unwrap_err();
        assert_eq!(invalid(e), ("label".into(), "no-legal-basis".into()));
        let counted = a.add_child(s.clone(), None, "7-9".into()).await.unwrap();
        // A child under 15: the guardian consents, and the relation is recorded.
        let e = a
            .add_child_with_consent(
                s.clone(),
                Some("Zuleika".into()),
                "7-9".into(),
                Some(consent(false, None, true)),
            )
            .await
            .unwrap_err();
        assert_eq!(
            invalid(e),
            ("consent.by_guardian".into(), "guardian-required".into())
        );
        let e = a
            .add_child_with_consent(
                s.clone(),
                Some("Zuleika".into()),
                "7-9".into(),
                Some(consent(true, None, true)),
            )
            .await
            .unwrap_err();
        assert_eq!(invalid(e), ("consent.relation".into(), "missing".into()));
        // A consent that does not cover naming does not let the name in.
        let e = a
            .add_child_with_consent(
                s.clone(),
                Some("Zuleika".into()),
                "7-9".into(),
                Some(consent(true, Some("parent"), false)),
            )
            .await
            .unwrap_err();
        assert_eq!(invalid(e), ("label".into(), "no-legal-basis".into()));
        let named = a
            .add_child_with_consent(
                s.clone(),
                Some("Zuleika".into()),
                "7-9".into(),
                Some(consent(true, Some("parent"), true)),
            )
            .await
            .unwrap();
        let call = a.roll_call(s.clone()).await.unwrap();
        let entry = |id: &str| {
            call.entries
                .iter()
                .find(|e| e.participant_id == id)
                .cloned()
                .unwrap()
        };
        assert!(entry(&named).may_be_named);
        assert_eq!(entry(&named).label.as_deref(), Some("Zuleika"));
        assert!(!entry(&counted).may_be_named);
        assert_eq!(entry(&counted).label, None);
        a.sync_now().await.unwrap();

        // The office withdraws the consent on the review pages; the phone stops naming.
        let cookies = page_session(&r).await;
        let doc = s.split_once('/').map_or(s.as_str(), |(d, _)| d).to_owned();
        let session_page = || {
            let cookies = cookies.clone();
            let url = format!(
                "{}/registre/{doc}/moeder/{}",
                r.http(),
                s.split_once('/').map_or(s.as_str(), |(_, x)| x)
            );
            async move {
                reqwest::Client::new()
                    .get(url)
                    .header("cookie", &cookies)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            }
        };
        assert!(session_page().await.contains("Zuleika"));
        let page = reqwest::Client::new()
            .get(format!("{}/samtykke?emne={named}", r.http()))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Må navngives på fremmødelisten: <strong>Ja"),
            "{page}"
        );
        assert!(page.contains("Forælder"), "{page}");
        let res = reqwest::Client::new()
            .post(format!("{}/samtykke/tilbagetraek", r.http()))
            .header("cookie", &cookies)
            .header("origin", r.http())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("emne={named}&dokument={doc}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        a.sync_now().await.unwrap();
        let call = a.roll_call(s.clone()).await.unwrap();
        let after = call
            .entries
            .iter()
            .find(|e| e.participant_id == named)
            .unwrap();
        assert!(!after.may_be_named);
        assert_eq!(after.label, None);
        // The pages stop showing the name too (processing stops, the counts stay).
        let page = session_page().await;
        assert!(!page.contains("Zuleika"), "{page}");
        assert!(page.contains("samtykke trukket tilbage"), "{page}");

        // A tenant that erases on withdrawal: the person is erased at once.
        let tenant: nabo_core::ids::TenantId = nabo_server::demo::TENANT.parse().unwrap();
        let storage = r.storage();
        let mut prefs = nabo_server::retention::settings(storage.as_ref(), &tenant)
            .await
            .unwrap();
        prefs.on_withdrawal = nabo_core::retention::WithdrawalAction::Erase;
        nabo_server::retention::put_settings(storage.as_ref(), &tenant, &prefs)
            .await
            .unwrap();
        let yasmin = a
            .add_child_with_consent(
                s.clone(),
                Some("Yasmin".into()),
                "7-9".into(),
                Some(consent(true, Some("parent"), true)),
            )
            .await
            .unwrap();
        a.sync_now().await.unwrap();
        assert!(session_page().await.contains("Yasmin"));
        let res = reqwest::Client::new()
            .post(format!("{}/samtykke/tilbagetraek", r.http()))
            .header("cookie", &cookies)
            .header("origin", r.http())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("emne={yasmin}&dokument={doc}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(text.contains("Personen er slettet"), "{backend:?}: {text}");
        assert_eq!(
            storage
                .erased_among(&tenant, std::slice::from_ref(&yasmin))
                .await
                .unwrap(),
            vec![yasmin.clone()]
        );
        a.sync_now().await.unwrap();
        let call = a.roll_call(s.clone()).await.unwrap();
        assert!(
            call.entries.iter().all(|e| e.participant_id != yasmin),
            "an erased child leaves the phone's roll call"
        );
        r.running.unwrap().shutdown().await;
    }
}

/// A consent central staff record on the review pages (ADR 0034) reaches the phone at its
/// next sync: the child counted without one may be named from then on.
#[tokio::test(flavor = "multi_thread")]
async fn a_consent_recorded_on_the_pages_lets_the_phone_name_the_child() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        named_roll_call(&r).await;
        let dir = tempfile::tempdir().unwrap();
        let a = enrolled_phone(&r, dir.path(), 7, "u-volunteer1").await;
        let today = nabo_core::time::Timestamp::now().date_dk().to_string();
        let session = a
            .add_session(
                "act-lektiecafe".into(),
                today.clone(),
                "15:00".into(),
                "17:00".into(),
                None,
            )
            .await
            .unwrap();
        let s = session.id.clone();
        let child = a.add_child(s.clone(), None, "7-9".into()).await.unwrap();
        a.sync_now().await.unwrap();
        let may_be_named = |call: nabo_bindings::api::RollCall| {
            call.entries
                .iter()
                .find(|e| e.participant_id == child)
                .unwrap()
                .may_be_named
        };
        assert!(!may_be_named(a.roll_call(s.clone()).await.unwrap()));

        // The office records the parent's written consent to the name on the pages.
        let cookies = page_session(&r).await;
        let page = reqwest::Client::new()
            .get(format!("{}/samtykke?emne={child}", r.http()))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let aftryk = {
            let needle = "name=\"aftryk\" value=\"";
            let i = page.find(needle).expect("a consent form") + needle.len();
            page[i..].split('"').next().unwrap().to_owned()
        };
        let doc = s.split_once('/').map_or(s.as_str(), |(d, _)| d).to_owned();
        let res = reqwest::Client::new()
            .post(format!("{}/samtykke/registrer", r.http()))
            .header("cookie", &cookies)
            .header("origin", r.http())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "emne={child}&dokument={doc}&aftryk={aftryk}&givet_af=parent&dato={today}\
                 &kanal=written&omfang=named-roll-call"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{backend:?}");
        a.sync_now().await.unwrap();
        assert!(may_be_named(a.roll_call(s.clone()).await.unwrap()));
        r.running.unwrap().shutdown().await;
    }
}
