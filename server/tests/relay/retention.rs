//! Retention and legal holds (ADR 0024) with an injected clock: names due a year after the
//! person's last attendance are erased through the erasure path, a legal hold keeps them
//! (and refuses a manual erasure) until it is lifted, the next run then erases them; the
//! access log is pruned past its period and still verifies; `nabo-server retention run`;
//! volunteers, staff, and goal-fulfilment reports' text (issue 11 item 4).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Command;

use automerge::ActorId;
use common::*;
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::prelude::*;
use nabo_core::retention::{Class, Disposal, PrivacySettings, RecordKind};
use nabo_core::time::Clock;
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

const TENANT: &str = "vestbyen";
const DAY: i64 = 86_400_000;

fn tenant() -> TenantId {
    TENANT.parse().unwrap()
}

async fn relay_at(backend: Backend, at: Timestamp) -> TestRelay {
    let r = TestRelay::start_with_clock(backend, Limits::default(), Clock::starting_at(at))
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    r
}

async fn view(r: &TestRelay, reg: DocumentId) -> nabo_core::docs::register::RegisterView {
    RegisterDoc::from_doc(NaboDoc::from_automerge(stored(r, reg).await, ActorId::random()).unwrap())
        .unwrap()
        .view()
        .unwrap()
}

/// The register's people with a key on the relay (named), not erased.
async fn named(r: &TestRelay, reg: DocumentId) -> Vec<ParticipantId> {
    let v = view(r, reg).await;
    let mut out = Vec::new();
    for (pid, p) in &v.participants {
        if p.current.erased.is_none()
            && p.current.merged_into.is_none()
            && r.storage()
                .subject_key(&tenant(), pid.as_str())
                .await
                .unwrap()
                .is_some()
        {
            out.push(pid.clone());
        }
    }
    out
}

async fn api(
    r: &TestRelay,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", r.http()))
        .bearer_auth(token(r, "central").await);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legal_hold_blocks_retention_and_its_release_lets_the_next_run_erase() {
    for backend in Backend::all() {
        let start = Timestamp::now();
        let r = relay_at(backend, start).await;
        let state = r.relay().state.clone();
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let people = named(&r, reg).await;
        assert!(
            people.len() >= 2,
            "{backend:?}: the demo has named children"
        );
        let kept = people[0].clone();

        // Nothing is due today.
        let first = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!((first.anonymised, first.held), (0, 0), "{backend:?}");
        assert_eq!(named(&r, reg).await, people);

        // A hold with a reason code, logged; one at a time; a reason is required.
        let (status, err) = api(
            &r,
            reqwest::Method::POST,
            "/api/v1/legal-holds",
            Some(serde_json::json!({"subject": kept.as_str(), "reason": "because"})),
        )
        .await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some("reason")),
            "{err}"
        );
        let hold = serde_json::json!({"subject": kept.as_str(), "reason": "journaling-duty"});
        let (status, h) = api(
            &r,
            reqwest::Method::POST,
            "/api/v1/legal-holds",
            Some(hold.clone()),
        )
        .await;
        assert_eq!(status, 201, "{backend:?}: {h}");
        assert_eq!(h["reason"], "journaling-duty");
        let (status, _) = api(&r, reqwest::Method::POST, "/api/v1/legal-holds", Some(hold)).await;
        assert_eq!(status, 400, "{backend:?}: a second hold");
        let outreach = reqwest::Client::new()
            .get(format!("{}/api/v1/legal-holds", r.http()))
            .bearer_auth(token(&r, "outreach1").await)
            .send()
            .await
            .unwrap();
        assert_eq!(outreach.status(), 403);

        // Fourteen months on, everyone is due; the held child is kept, the others erased.
        r.clock.set(Timestamp(start.0 + 430 * DAY));
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.held, 1, "{backend:?}: {run:?}");
        // (Other registers' children are due too.)
        assert!(
            run.anonymised as usize >= people.len() - 1,
            "{backend:?}: {run:?}"
        );
        assert_eq!(named(&r, reg).await, vec![kept.clone()], "{backend:?}");
        let after = view(&r, reg).await;
        for p in people.iter().skip(1) {
            assert!(
                after.participants[p].current.erased.is_some(),
                "{backend:?}: marked"
            );
        }
        assert!(after.participants[&kept].current.erased.is_none());
        // The erasure log says why: purpose ended, by the job.
        let (_, log) = api(&r, reqwest::Method::GET, "/api/v1/erasures", None).await;
        let log = log.as_array().unwrap();
        assert_eq!(log.len() as i64, run.anonymised);
        assert!(log.iter().all(|e| e["reason"] == "purpose-ended"));

        // A manual erasure is refused while the hold is in force.
        let (status, err) = api(
            &r,
            reqwest::Method::POST,
            "/api/v1/erasures",
            Some(serde_json::json!({"subject": kept.as_str(), "reason": "request"})),
        )
        .await;
        assert_eq!(
            (status, err["field"].as_str(), err["reason"].as_str()),
            (400, Some("subject"), Some("legal-hold")),
            "{backend:?}: {err}"
        );
        assert_eq!(named(&r, reg).await, vec![kept.clone()]);

        // Running again changes nothing (nothing is done twice).
        let again = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!((again.anonymised, again.held), (0, 1), "{backend:?}");

        // Lifted (logged): the next run erases the child.
        let (status, lifted) = api(
            &r,
            reqwest::Method::POST,
            &format!("/api/v1/legal-holds/{kept}/release"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{backend:?}: {lifted}");
        assert!(lifted["released_at"].is_i64());
        let (status, _) = api(
            &r,
            reqwest::Method::POST,
            &format!("/api/v1/legal-holds/{kept}/release"),
            None,
        )
        .await;
        assert_eq!(status, 400, "nothing left to lift");
        let last = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!((last.anonymised, last.held), (1, 0), "{backend:?}");
        assert!(named(&r, reg).await.is_empty());
        assert!(
            view(&r, reg).await.participants[&kept]
                .current
                .erased
                .is_some()
        );

        // The access log has the hold, its release and the erasures, by id and code.
        let entries: Vec<_> = r
            .storage()
            .access_entries(&tenant(), 0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|(e, _)| e)
            .filter(|e| e.subject.as_deref() == Some(kept.as_str()))
            .collect();
        let kinds: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.kind.as_str(), e.purpose.as_str()))
            .collect();
        assert!(kinds.contains(&("hold", "legal-hold")), "{kinds:?}");
        assert!(kinds.contains(&("release", "legal-hold")), "{kinds:?}");
        assert!(kinds.contains(&("erase", "retention")), "{kinds:?}");
        let erase = entries.iter().find(|e| e.kind == "erase").unwrap();
        assert_eq!(erase.user_id, nabo_server::retention::SYSTEM_USER);
        let (_, runs) = api(&r, reqwest::Method::GET, "/api/v1/retention/runs", None).await;
        assert_eq!(runs.as_array().unwrap().len(), 4, "{backend:?}: {runs}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_access_log_is_pruned_past_its_period_and_still_verifies() {
    for backend in Backend::all() {
        let start = Timestamp::now();
        let r = relay_at(backend, start).await;
        let state = r.relay().state.clone();
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let web = Browser::login(&r, "central").await;
        web.text(&format!(
            "/registre/{reg}/moeder/{}",
            first_session(&r, reg).await
        ))
        .await;
        let old = r
            .storage()
            .access_entries(&tenant(), 0, 100_000)
            .await
            .unwrap()
            .len() as i64;
        assert!(old > 0);
        let mut settings = PrivacySettings::default();
        settings
            .retention
            .set(
                RecordKind::AccessLog,
                Class {
                    months: 2,
                    then: Disposal::Delete,
                },
            )
            .unwrap();
        nabo_server::retention::put_settings(r.storage().as_ref(), &tenant(), &settings)
            .await
            .unwrap();

        // One month on: nothing is old enough.
        r.clock.set(Timestamp(start.0 + 31 * DAY));
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.log_pruned, 0, "{backend:?}");
        // Newer entries, then three months on: the old ones go, the newer stay.
        web.text(&format!(
            "/registre/{reg}/moeder/{}",
            first_session(&r, reg).await
        ))
        .await;
        r.clock.set(Timestamp(start.0 + 75 * DAY));
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.log_pruned, old, "{backend:?}: {run:?}");
        let left = r
            .storage()
            .access_entries(&tenant(), 0, 100_000)
            .await
            .unwrap();
        assert!(left.iter().all(|(e, _)| e.seq > old));
        assert!(
            left.iter().any(|(e, _)| e.kind == "retention"),
            "the pruning is logged"
        );
        let ok = nabo_server::access_log::verify(r.storage().as_ref(), &tenant())
            .await
            .unwrap();
        assert_eq!(ok.anchor.seq, old, "{backend:?}");
        assert_eq!(ok.checked as usize, left.len());
    }
}

async fn first_session(r: &TestRelay, reg: DocumentId) -> SessionId {
    view(r, reg)
        .await
        .attendance
        .keys()
        .next()
        .map(|(s, _)| s.clone())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_retention_command_erases_what_is_due_by_the_system_clock() {
    for backend in Backend::all() {
        // The demo recorded two years ago: its attendance is long past by today's date.
        let r = relay_at(backend, Timestamp(Timestamp::now().0 - 730 * DAY)).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let people = named(&r, reg).await;
        assert!(!people.is_empty());
        let out = run_ok(
            Command::new(env!("CARGO_BIN_EXE_nabo-server"))
                .args(["--data-dir"])
                .arg(r.dir.path())
                .args(["--key-file"])
                .arg(r.kek_path())
                .args(["--database-url", &r.database_url, "retention", "run"]),
        );
        assert!(out.contains(&format!("{TENANT}: ")), "{out}");
        assert!(named(&r, reg).await.is_empty(), "{backend:?}: {out}");
        let keys = r
            .storage()
            .subject_key(&tenant(), people[0].as_str())
            .await
            .unwrap();
        assert!(keys.is_none());
    }
}

/// Issue 11 item 4: a volunteer whose engagements all ended is erased by the retention job a
/// class period later (the directory record marked, the key gone, the login closed); a
/// volunteer still engaged is kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_volunteer_is_erased_a_year_after_the_last_engagement_ended() {
    for backend in Backend::all() {
        let start = Timestamp::now();
        let r = relay_at(backend, start).await;
        let state = r.relay().state.clone();
        let users = r.storage().users(&tenant()).await.unwrap();
        let vid = |name: &str| {
            users
                .iter()
                .find(|u| u.username == name)
                .and_then(|u| u.volunteer_id.clone())
                .unwrap()
        };
        let (jonas, maja) = (vid("volunteer2"), vid("volunteer1"));
        let key = |v: String| {
            let storage = r.storage();
            async move { storage.subject_key(&tenant(), &v).await.unwrap().is_some() }
        };
        // Jonas's engagement at the café ends today, on the page that asks first.
        let b = Browser::login(&r, "central").await;
        let today = start.date_dk().to_string();
        let res = b
            .post(
                &format!("/vagtplan/act-lektiecafe/{jonas}/afslut"),
                &b.base,
                &[("slut", today.as_str())],
            )
            .await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{backend:?}: {}",
            res.status()
        );
        nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert!(key(jonas.clone()).await, "{backend:?}: nothing due today");

        r.clock.set(Timestamp(start.0 + 430 * DAY));
        nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert!(!key(jonas.clone()).await, "{backend:?}: Jonas is erased");
        assert!(
            key(maja.clone()).await,
            "{backend:?}: Maja is still engaged"
        );
        let dir = doc_id(&r, "volunteers", "").await;
        let vols = nabo_core::docs::volunteers::VolunteersDoc::from_doc(
            NaboDoc::from_automerge(stored(&r, dir).await, ActorId::random()).unwrap(),
        )
        .unwrap()
        .volunteers()
        .unwrap();
        assert!(
            vols[&jonas.parse().unwrap()].erased.is_some(),
            "{backend:?}"
        );
        assert!(vols[&maja.parse().unwrap()].erased.is_none(), "{backend:?}");
        let log = r.storage().erasures(&tenant()).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.subject == jonas && e.reason == "purpose-ended"),
            "{backend:?}"
        );
    }
}

/// The staff directory as stored.
async fn staff_dir(
    r: &TestRelay,
) -> std::collections::BTreeMap<StaffId, nabo_core::model::staff::StaffMember> {
    let dir = doc_id(r, "staff", "").await;
    nabo_core::docs::staff::StaffDoc::from_doc(
        NaboDoc::from_automerge(stored(r, dir).await, ActorId::random()).unwrap(),
    )
    .unwrap()
    .staff()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_staff_member_is_erased_five_years_after_they_left_unless_held() {
    for backend in Backend::all() {
        let start = Timestamp::now();
        let r = relay_at(backend, start).await;
        let state = r.relay().state.clone();
        let (camilla, ali): (StaffId, StaffId) =
            ("s-camilla".parse().unwrap(), "s-ali".parse().unwrap());
        let key = |s: &StaffId| {
            let (storage, s) = (r.storage(), s.to_string());
            async move { storage.subject_key(&tenant(), &s).await.unwrap().is_some() }
        };
        assert!(key(&camilla).await, "{backend:?}: her contact details' key");

        // Central staff close Camilla's login on the person's page: she left today.
        let b = Browser::login(&r, "central").await;
        let res = b.post("/personer/u-outreach2/spaer", &b.base, &[]).await;
        assert!(
            res.status().is_redirection(),
            "{backend:?}: {}",
            res.status()
        );
        let dir = staff_dir(&r).await;
        assert_eq!(dir[&camilla].left, Some(start.date_dk()), "{backend:?}");
        assert!(!dir[&camilla].active);
        assert_eq!(dir[&ali].left, None, "{backend:?}: Ali still works here");
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.held, 0, "{backend:?}: {run:?}");
        assert_eq!(staff_dir(&r).await[&camilla].name, "Camilla Nielsen");

        // Five years on she is due, but a legal hold (journaling duty) keeps her.
        let (status, h) = api(
            &r,
            reqwest::Method::POST,
            "/api/v1/legal-holds",
            Some(serde_json::json!({"subject": "s-camilla", "reason": "journaling-duty"})),
        )
        .await;
        assert_eq!(status, 201, "{backend:?}: {h}");
        r.clock.set(Timestamp(start.0 + 1830 * DAY));
        let held = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert!(held.held >= 1, "{backend:?}: {held:?}");
        let dir = staff_dir(&r).await;
        assert_eq!(dir[&camilla].name, "Camilla Nielsen", "{backend:?}: held");
        assert!(dir[&camilla].erased.is_none());
        assert!(key(&camilla).await);

        // Released: the next run erases her; Ali, still employed, stays.
        let (status, _) = api(
            &r,
            reqwest::Method::POST,
            "/api/v1/legal-holds/s-camilla/release",
            None,
        )
        .await;
        assert_eq!(status, 200, "{backend:?}");
        nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        let dir = staff_dir(&r).await;
        let c = &dir[&camilla];
        assert!(c.erased.is_some(), "{backend:?}: marked erased");
        assert!(
            c.name.is_empty() && c.title.is_empty(),
            "{backend:?}: {c:?}"
        );
        assert!(
            !key(&camilla).await,
            "{backend:?}: contact details' key gone"
        );
        assert_eq!(dir[&ali].name, "Ali Hassan");
        assert!(dir[&ali].erased.is_none() && key(&ali).await);
        // Her login keeps its id, not her name.
        let login = r.storage().user("u-outreach2").await.unwrap().unwrap();
        assert!(login.disabled, "{backend:?}");
        assert_eq!(login.display_name, "Slettet medarbejder");
        assert_eq!(login.username, "slettet-u-outreach2");
        assert!(login.password_hash.is_none());
        assert!(r.storage().profile("u-outreach2").await.unwrap().is_none());
        let log = r.storage().erasures(&tenant()).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.subject == "s-camilla" && e.reason == "purpose-ended"),
            "{backend:?}"
        );
        // (Signed in again: five years have passed on the relay's clock.)
        let b = Browser::login(&r, "central").await;
        let admin = b.text("/administration").await;
        assert!(!admin.contains("Camilla Nielsen"), "{backend:?}");
        assert!(admin.contains("Slettet medarbejder"), "{backend:?}");
        // Once is enough: the next run finds her erased.
        nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        let erasures = r.storage().erasures(&tenant()).await.unwrap();
        assert_eq!(
            erasures.iter().filter(|e| e.subject == "s-camilla").count(),
            1,
            "{backend:?}"
        );
    }
}

/// The café's goal-fulfilment reports as stored.
/// The reports of the demo's homework café, read from the activity as stored now (its id
/// changes when retention rewrites it, ADR 0037).
async fn reports(
    r: &TestRelay,
) -> std::collections::BTreeMap<ReportId, nabo_core::model::activity::GoalReport> {
    let act = doc_id(r, "activity", "Lektiecaf").await;
    ActivityDoc::from_doc(NaboDoc::from_automerge(stored(r, act).await, ActorId::random()).unwrap())
        .unwrap()
        .reports()
        .unwrap()
}

/// Issue 11 item 4, reports: five years after the end of its period a goal-fulfilment
/// report's text (narrative, goal comments) is blanked by the retention job, its numbers
/// kept; a legal hold on the report, set on the report's page, keeps it until lifted; a
/// report whose period has not long ended stays; a class that says delete removes them.
#[tokio::test(flavor = "multi_thread")]
async fn a_reports_text_is_blanked_five_years_after_its_period_unless_held() {
    for backend in Backend::all() {
        let start = Timestamp::now();
        let today = start.date_dk();
        let r = relay_at(backend, start).await;
        let state = r.relay().state.clone();
        let act = doc_id(&r, "activity", "Lektiecaf").await;
        // The demo's report of last term (A), with a narrative and comments.
        let demo = reports(&r).await;
        assert_eq!(demo.len(), 1, "{backend:?}");
        let (a_id, a) = demo.into_iter().next().unwrap();
        assert!(a.has_text() && a.anonymised.is_none());
        let goals: Vec<GoalId> = a.goals.keys().cloned().collect();

        // Two more on the page: B, the last month of A's period but one day, and C, a
        // period ending two years from now.
        let b = Browser::login(&r, "central").await;
        let write = |from: Date, to: Date, text: &'static str| {
            let (b, goals) = (&b, goals.clone());
            async move {
                let (from, to) = (from.to_string(), to.to_string());
                let mut form: Vec<(String, String)> = vec![
                    ("aktivitet".into(), "act-lektiecafe".into()),
                    ("fra".into(), from),
                    ("til".into(), to),
                    (
                        "vurdering".into(),
                        format!("{text}: Karim og Sara kom hver uge."),
                    ),
                ];
                for g in &goals {
                    form.push((format!("status-{g}"), "achieved".into()));
                    form.push((format!("kommentar-{g}"), format!("{text}: Sara hjalp.")));
                }
                let form: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let res = b.post("/rapporter/maalopfyldelse", &b.base, &form).await;
                assert!(res.status().is_redirection(), "{}", res.status());
            }
        };
        write(a.to.add_days(-30), a.to.add_days(-1), "B").await;
        write(today, today.add_days(730), "C").await;
        let all = reports(&r).await;
        assert_eq!(all.len(), 3, "{backend:?}");
        let find = |all: &std::collections::BTreeMap<ReportId, _>, to: Date| {
            all.iter()
                .find(|(_, x): &(&ReportId, &nabo_core::model::activity::GoalReport)| x.to == to)
                .map(|(id, _)| id.clone())
                .unwrap()
        };
        let (b_id, c_id) = (
            find(&all, a.to.add_days(-1)),
            find(&all, today.add_days(730)),
        );
        let was_b = all[&b_id].clone();
        assert!(was_b.has_text(), "{backend:?}");
        // The test can fail: B's text is in the database files now.
        assert!(
            !files_holding(&r, b"B: Karim og Sara kom hver uge.")
                .await
                .is_empty(),
            "{backend:?}: the text is stored"
        );

        // Nothing is due today.
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.reports, 0, "{backend:?}: {run:?}");

        // Central staff hold report A on its page (the journaling duty), and are sent back.
        let page = format!(
            "/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra={}&til={}",
            a.from, a.to
        );
        let html = b.text(&page).await;
        assert!(html.contains("Opbevaring af rapporten"), "{backend:?}");
        assert!(html.contains("Sæt tilbagehold på rapporten"), "{backend:?}");
        let back = format!("{page}#opbevaring");
        let res = b
            .post(
                "/indsigt/tilbagehold",
                &b.base,
                &[
                    ("emne", a_id.as_str()),
                    ("aarsag", "journaling-duty"),
                    ("tilbage", back.as_str()),
                ],
            )
            .await;
        assert!(res.status().is_redirection(), "{backend:?}");
        assert_eq!(
            res.headers()[reqwest::header::LOCATION].to_str().unwrap(),
            back
        );
        let html = b.text(&page).await;
        assert!(
            html.contains("Der er tilbagehold på rapporten"),
            "{backend:?}"
        );

        // Five years on: B is blanked, A held, C not due.
        r.clock.set(Timestamp(start.0 + 1830 * DAY));
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.reports, 1, "{backend:?}: {run:?}");
        assert!(run.held >= 1, "{backend:?}: {run:?}");
        let all = reports(&r).await;
        let now_b = &all[&b_id];
        assert!(!now_b.has_text(), "{backend:?}: {now_b:?}");
        assert!(now_b.anonymised.is_some());
        assert_eq!(
            (now_b.from, now_b.to, &now_b.intervention_area, now_b.state),
            (was_b.from, was_b.to, &was_b.intervention_area, was_b.state),
            "{backend:?}: the numbers stay"
        );
        for (g, x) in now_b.goals.iter() {
            assert_eq!(x.status, GoalStatus::Achieved, "{backend:?}: {g}");
        }
        assert_eq!(all[&a_id], a, "{backend:?}: held, intact");
        assert!(all[&c_id].has_text(), "{backend:?}: not due");
        // B's text was in the activity's change history: the activity was rewritten under a
        // new id (ADR 0037), and the text is in no database file.
        let new_act = doc_id(&r, "activity", "Lektiecaf").await;
        assert_ne!(new_act, act, "{backend:?}: a new id");
        let replaced = r.storage().replacement(act).await.unwrap().unwrap();
        assert_eq!(
            (replaced.new, replaced.reason.as_str()),
            (new_act, "retention")
        );
        let holding = files_holding(&r, b"B: Karim og Sara kom hver uge.").await;
        assert!(
            holding.is_empty(),
            "{backend:?}: the blanked text survived in {holding:?}"
        );
        // The disposal is in the access log, by the report's id.
        let entries = r
            .storage()
            .access_entries(&tenant(), 0, 100_000)
            .await
            .unwrap();
        assert!(
            entries
                .iter()
                .any(|(e, _)| e.subject.as_deref() == Some(b_id.as_str())
                    && e.kind == "retention"
                    && e.user_id == nabo_server::retention::SYSTEM_USER),
            "{backend:?}"
        );

        // Lifted: the next run blanks A; C stays; again is nothing.
        let (status, _) = api(
            &r,
            reqwest::Method::POST,
            &format!("/api/v1/legal-holds/{a_id}/release"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{backend:?}");
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.reports, 1, "{backend:?}: {run:?}");
        let all = reports(&r).await;
        assert!(!all[&a_id].has_text() && all[&a_id].anonymised.is_some());
        assert_eq!(all[&a_id].goals.len(), a.goals.len());
        for (g, x) in all[&a_id].goals.iter() {
            assert_eq!(
                (x.status, &x.reasons, &x.measurements),
                (
                    a.goals[g].status,
                    &a.goals[g].reasons,
                    &a.goals[g].measurements
                ),
                "{backend:?}"
            );
        }
        assert!(all[&c_id].has_text(), "{backend:?}");
        let again = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(again.reports, 0, "{backend:?}: {again:?}");
        let b = Browser::login(&r, "central").await;
        let html = b.text(&page).await;
        assert!(html.contains("teksten er fjernet"), "{backend:?}");
        // Rewriting the period on the page brings no text back.
        let (from, to) = (a.from.to_string(), a.to.to_string());
        let mut form = vec![
            ("aktivitet".to_owned(), "act-lektiecafe".to_owned()),
            ("fra".into(), from),
            ("til".into(), to),
            ("vurdering".into(), "Karim kom igen.".into()),
        ];
        form.extend(
            goals
                .iter()
                .map(|g| (format!("status-{g}"), "achieved".into())),
        );
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = b.post("/rapporter/maalopfyldelse", &b.base, &form).await;
        assert_eq!(res.status(), 400, "{backend:?}");
        assert!(res.text().await.unwrap().contains("kan ikke skrives igen"));
        assert!(!reports(&r).await[&a_id].has_text(), "{backend:?}");

        // The runs count the reports, over the API and on the administration page.
        let (_, runs) = api(&r, reqwest::Method::GET, "/api/v1/retention/runs", None).await;
        let counts: Vec<i64> = runs
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["reports"].as_i64().unwrap())
            .collect();
        assert_eq!(counts, vec![0, 1, 1, 0], "{backend:?}: {runs}");
        let admin = Browser::login(&r, "central")
            .await
            .text("/administration")
            .await;
        assert!(
            admin.contains("0 rapporter anonymiseret eller slettet"),
            "{backend:?}"
        );

        // A class that says delete removes the reports, C too once its shorter time is up.
        let mut settings = PrivacySettings::default();
        settings
            .retention
            .set(
                RecordKind::Report,
                Class {
                    months: 1,
                    then: Disposal::Delete,
                },
            )
            .unwrap();
        nabo_server::retention::put_settings(r.storage().as_ref(), &tenant(), &settings)
            .await
            .unwrap();
        // A hold on the whole activity, set on a report's page, keeps all three.
        let c_page = format!(
            "/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra={}&til={}",
            today,
            today.add_days(730)
        );
        let b = Browser::login(&r, "central").await;
        let html = b.text(&c_page).await;
        assert!(
            html.contains("Sæt tilbagehold på alle aktivitetens rapporter"),
            "{backend:?}"
        );
        let res = b
            .post(
                "/indsigt/tilbagehold",
                &b.base,
                &[
                    ("emne", "act-lektiecafe"),
                    ("aarsag", "journaling-duty"),
                    ("tilbage", "/rapporter"),
                ],
            )
            .await;
        assert!(res.status().is_redirection(), "{backend:?}");
        let html = b.text(&c_page).await;
        assert!(
            html.contains("Der er tilbagehold på alle aktivitetens rapporter"),
            "{backend:?}"
        );
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.reports, 0, "{backend:?}: {run:?}");
        assert_eq!(reports(&r).await.len(), 3, "{backend:?}: held");
        // Lifted on the page: the next run deletes them.
        let res = b
            .post(
                "/indsigt/tilbagehold/ophaev",
                &b.base,
                &[("emne", "act-lektiecafe"), ("tilbage", "/rapporter")],
            )
            .await;
        assert!(res.status().is_redirection(), "{backend:?}");
        let run = nabo_server::retention::run_tenant(&state, &tenant())
            .await
            .unwrap();
        assert_eq!(run.reports, 3, "{backend:?}: {run:?}");
        assert!(reports(&r).await.is_empty(), "{backend:?}");
    }
}
