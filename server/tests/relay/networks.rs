//! Issue 10 items 4 and 5 on the pages and the relay, on both databases (ADR 0023): the check
//! that blocks an uncertified volunteer reads the volunteer directory's current certificate —
//! on the relay before it stores a volunteer's check-in, and on the phone from its own entry
//! — never a roster's copy; ending an engagement asks first and is undone by engaging again;
//! networks with members by organisation and role, meetings with agreed actions and their
//! follow-up; the programmes' boards; observations worked through by the estate office.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use automerge::ActorId;
use common::{Browser, connect, doc_id, fetch, fetch_nabo, relay, stored, token};
use nabo_core::client::SyncEnd;
use nabo_core::docs::network::NetworkDoc;
use nabo_core::docs::volunteers::{Certificates, VolunteersDoc};
use nabo_core::model::volunteer::ChildCertificate;
use nabo_core::prelude::*;
use nabo_server::testing::{Backend, TestRelay};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

fn today() -> Date {
    Timestamp::now().date_dk()
}

fn day(n: i64) -> String {
    today().add_days(n).to_string()
}

async fn directory(r: &TestRelay) -> VolunteersDoc {
    let id = doc_id(r, "volunteers", "").await;
    VolunteersDoc::from_doc(
        NaboDoc::from_automerge(stored(r, id).await, ActorId::random()).unwrap(),
    )
    .unwrap()
}

async fn activity(r: &TestRelay, title: &str) -> ActivityDoc {
    let id = doc_id(r, "activity", title).await;
    ActivityDoc::from_doc(NaboDoc::from_automerge(stored(r, id).await, ActorId::random()).unwrap())
        .unwrap()
}

/// The volunteer's own certificate as the relay answers their phone.
async fn my_certificate(r: &TestRelay, user: &str) -> serde_json::Value {
    let t = token(r, user).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/me/child-certificate", r.http()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// What the phone holds of its certificate, as the core's certificates.
fn held(v: &VolunteerId, answer: &serde_json::Value) -> Certificates {
    let c = &answer["child_certificate"];
    Certificates::one(
        v.clone(),
        c.is_object().then(|| ChildCertificate {
            obtained: Date::parse(c["obtained"].as_str().unwrap()).unwrap(),
            renewal_due: Date::parse(c["renewal_due"].as_str().unwrap()).unwrap(),
        }),
    )
}

/// Volunteer 1's phone adds a session today to the café's register of this term and checks
/// in, believing its certificate valid (`phone_view`), and sends it to the relay.
async fn check_in_over_the_wire(r: &TestRelay, phone_view: &Certificates) -> SyncEnd {
    let v: VolunteerId = "v-1".parse().unwrap();
    let mut maja = connect(r, "volunteer1").await;
    let act_id = doc_id(r, "activity", "Lektiecaféen").await;
    let (act, _) = fetch_nabo(&mut maja, act_id).await;
    let snap = ActivityDoc::from_doc(act).unwrap().snapshot().unwrap();
    let reg_id = Scope::Register {
        tenant: "vestbyen".parse().unwrap(),
        activity: "act-lektiecafe".parse().unwrap(),
        term: nabo_core::time::Term::of(today()),
    }
    .document_id();
    let (end, doc, mut state) = fetch(&mut maja, reg_id).await;
    assert_eq!(end, SyncEnd::Synced);
    let mut reg =
        RegisterDoc::from_doc(NaboDoc::from_automerge(doc, ActorId::random()).unwrap()).unwrap();
    let ctx = RegisterContext {
        catalogue: Catalogue::builtin().unwrap(),
        activity: &snap,
        certificates: phone_view,
    };
    let me = Author {
        by: By::Volunteer(v.clone()),
        at: Timestamp::now(),
    };
    let s = reg
        .add_session(
            &me,
            NewSession {
                date: today(),
                start: Time::hm(0, 0).unwrap(),
                end: Time::hm(23, 59).unwrap(),
                venue: None,
                title: Some("Ekstra lektiehjælp".into()),
            },
        )
        .unwrap();
    reg.check_in(&me, ctx, &s, &v, me.at).unwrap();
    maja.sync(reg_id, reg.doc_mut().automerge_mut(), &mut state, false)
        .await
        .unwrap()
}

/// Issue 10 item 4: renewing in the directory only (the roster untouched) unblocks; expiring
/// blocks — on the relay, before it stores the check-in, and on the phone, which holds its
/// own current certificate from the relay.
#[tokio::test(flavor = "multi_thread")]
async fn the_current_certificate_decides_on_the_relay_and_the_phone() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let v: VolunteerId = "v-1".parse().unwrap();
        let roster_before = activity(&r, "Lektiecaféen").await.roster().unwrap();
        let valid = my_certificate(&r, "volunteer1").await;
        assert!(
            valid["child_certificate"]["renewal_due"].is_string(),
            "{valid}"
        );

        // The office records that the certificate ran out.
        let resp = b
            .post(
                "/administration/boerneattest",
                &base,
                &[
                    ("frivillig", "v-1"),
                    ("indhentet", &day(-800)),
                    ("fornyes", &day(-70)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            activity(&r, "Lektiecaféen").await.roster().unwrap(),
            roster_before,
            "nothing is copied to the roster"
        );
        // The relay refuses the check-in of a phone that still believes it valid.
        let end = check_in_over_the_wire(&r, &held(&v, &valid)).await;
        assert!(
            matches!(&end, SyncEnd::Error(e) if e.starts_with("refused: shifts/")
                && e.contains("child-certificate-required")),
            "{end:?}"
        );
        // The phone learns the current certificate and blocks the check-in offline.
        let expired = my_certificate(&r, "volunteer1").await;
        assert_eq!(expired["child_certificate"]["renewal_due"], day(-70));
        assert!(!held(&v, &expired).valid_on(&v, today()));

        // Renewed in the directory only: the relay accepts, the phone agrees.
        let resp = b
            .post(
                "/administration/boerneattest",
                &base,
                &[
                    ("frivillig", "v-1"),
                    ("indhentet", &day(0)),
                    ("fornyes", &day(730)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            activity(&r, "Lektiecaféen").await.roster().unwrap(),
            roster_before
        );
        let renewed = my_certificate(&r, "volunteer1").await;
        assert_eq!(renewed["child_certificate"]["renewal_due"], day(730));
        assert!(held(&v, &renewed).valid_on(&v, today()));
        let end = check_in_over_the_wire(&r, &held(&v, &renewed)).await;
        assert_eq!(end, SyncEnd::Synced, "a renewed certificate unblocks");
        assert_eq!(
            directory(&r)
                .await
                .volunteer(&v)
                .unwrap()
                .child_certificate
                .unwrap()
                .renewal_due,
            today().add_days(730)
        );
        // Staff logins have no certificate of their own.
        let staff = my_certificate(&r, "outreach1").await;
        assert!(staff["child_certificate"].is_null());
    }
}

/// Issue 10 item 4: ending an engagement asks first, says what happened, takes the volunteer
/// off the roster, and is undone by engaging again.
#[tokio::test(flavor = "multi_thread")]
async fn an_engagement_ends_after_asking_and_is_undone_by_engaging_again() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let resp = b
            .post(
                "/administration/tilknytning",
                &base,
                &[
                    ("frivillig", "v-2"),
                    ("aktivitet", "act-gadeplan"),
                    ("rolle", "tovholder"),
                    ("fra", &day(-10)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let admin = b.text("/administration").await;
        assert!(admin.contains("/vagtplan/act-gadeplan/v-2/afslut"));
        let ask = b.text("/vagtplan/act-gadeplan/v-2/afslut").await;
        assert!(
            ask.contains("Afslut tilknytningen") && ask.contains("fortryde"),
            "{ask}"
        );
        // A last day before the start is refused, naming the field.
        let resp = b
            .post(
                "/vagtplan/act-gadeplan/v-2/afslut",
                &base,
                &[("slut", &day(-20))],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«Sidste dag»"));
        let resp = b
            .post(
                "/vagtplan/act-gadeplan/v-2/afslut",
                &base,
                &[("slut", &day(0))],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let said = resp.text().await.unwrap();
        assert!(
            said.contains("Tilknytningen er afsluttet") && said.contains("Fortryd"),
            "{said}"
        );
        let v2: VolunteerId = "v-2".parse().unwrap();
        let entry = activity(&r, "Gadeplansarbejde").await.roster().unwrap()[&v2].clone();
        assert!(!entry.active, "off the roster");
        let dir = directory(&r).await;
        let ended: Vec<_> = dir
            .engagements()
            .unwrap()
            .into_values()
            .filter(|e| e.volunteer == v2 && e.activity.as_str() == "act-gadeplan")
            .collect();
        assert!(ended.iter().all(|e| e.end == Some(today())), "{ended:?}");
        // Nothing left to end: the page says so.
        let again = b.text("/vagtplan/act-gadeplan/v-2/afslut").await;
        assert!(again.contains("står ikke på vagtplanen"), "{again}");
        // Undo: the form on the answer engages again.
        let resp = b
            .post(
                "/administration/tilknytning",
                &base,
                &[
                    ("frivillig", "v-2"),
                    ("aktivitet", "act-gadeplan"),
                    ("rolle", "tovholder"),
                    ("fra", &day(0)),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert!(activity(&r, "Gadeplansarbejde").await.roster().unwrap()[&v2].active);
        assert!(
            directory(&r)
                .await
                .engagements()
                .unwrap()
                .values()
                .any(|e| e.volunteer == v2 && e.end.is_none())
        );
        // Other roles may not.
        let maja = Browser::login(&r, "volunteer1").await;
        assert_eq!(
            maja.get("/vagtplan/act-gadeplan/v-2/afslut").await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

/// Follows a redirect after a form and answers the page with its notice.
async fn after(b: &Browser, resp: reqwest::Response) -> String {
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "{:?}",
        resp.text().await
    );
    let to = resp.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(to.contains("besked="), "{to}");
    b.text(&to).await
}

/// The path of the network titled `name` on the list.
fn network_path(list: &str, name: &str) -> String {
    let i = list
        .find(&format!(">{name}<"))
        .unwrap_or_else(|| panic!("{list}"));
    let a = list[..i].rfind("href=\"").unwrap() + "href=\"".len();
    list[a..].split('"').next().unwrap().to_owned()
}

/// Issue 10 item 5: networks with members by organisation and role, meetings with agreed
/// actions and their follow-up; every change reaches the network leader's phone.
#[tokio::test(flavor = "multi_thread")]
async fn networks_meetings_and_the_follow_up_of_actions() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let list = b.text("/netvaerk").await;
        assert!(list.contains("Tryghedsnetværk Vestparken"), "{list}");
        // Seed 003's cross-department team, a network of municipal departments.
        let team = b
            .text(&network_path(
                &list,
                "Boligsocialt team på tværs af forvaltninger",
            ))
            .await;
        for text in [
            "Teknisk Forvaltning (Vestby Kommune)",
            "Tovholder",
            "Bygningskonstruktør",
            "Socialrådgiver",
            "Efter behov",
            "sagsnumre",
        ] {
            assert!(team.contains(text), "{text}: {team}");
        }
        let tryg_path = network_path(&list, "Tryghedsnetværk Vestparken");
        let tryg = b.text(&tryg_path).await;
        assert!(tryg.contains("Overskredet"), "an overdue action is flagged");
        assert!(tryg.contains("Fritidstilbud til de unge"));

        // A new network: a missing name is refused by the field's name.
        let resp = b
            .post(
                "/netvaerk",
                &base,
                &[("navn", ""), ("fokus", "coordination")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«Navn»"));
        let resp = b
            .post(
                "/netvaerk",
                &base,
                &[
                    ("navn", "Forældrenetværk Solbakken"),
                    ("fokus", "development"),
                    ("kadence", "hver måned"),
                    ("leder", "s-camilla"),
                    ("omraade", "a-solbakken"),
                ],
            )
            .await;
        let page = after(&b, resp).await;
        assert!(page.contains("Netværket er oprettet"), "{page}");
        let path = network_path(&b.text("/netvaerk").await, "Forældrenetværk Solbakken");
        let members = format!("{path}/medlemmer");
        for (org, role, function) in [
            ("o-vestby-kommune", "tovholder", "Sundhedsplejerske"),
            ("o-roede-kors", "medlem", "Frivilligkoordinator"),
        ] {
            let resp = b
                .post(
                    &members,
                    &base,
                    &[
                        ("organisation", org),
                        ("rolle", role),
                        ("funktion", function),
                    ],
                )
                .await;
            assert!(after(&b, resp).await.contains("Medlemmet er gemt"));
        }
        let resp = b
            .post(
                &members,
                &base,
                &[("organisation", "o-nope"), ("rolle", "medlem")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«Organisation»"));
        // A meeting whose action is due before it: refused by the field's name.
        let meeting = |due: String| {
            vec![
                ("dato".to_owned(), day(0)),
                ("deltager".to_owned(), "o-vestby-kommune".to_owned()),
                ("deltager".to_owned(), "o-roede-kors".to_owned()),
                ("dagsorden".to_owned(), "Opstart".to_owned()),
                (
                    "handling-1".to_owned(),
                    "Invitation til forældremøde".to_owned(),
                ),
                ("ansvarlig-1".to_owned(), "o-roede-kors".to_owned()),
                ("frist-1".to_owned(), due),
            ]
        };
        let form = meeting(day(-1));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resp = b.post(&format!("{path}/moeder"), &base, &form).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«Frist»"));
        let form = meeting(day(7));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let resp = b.post(&format!("{path}/moeder"), &base, &form).await;
        let page = after(&b, resp).await;
        assert!(page.contains("Mødet er gemt"));
        assert!(page.contains("Invitation til forældremøde") && page.contains("Åben"));
        // Done, then reopened.
        let moede = hidden_after(&page, "Til opfølgning", "moede");
        let handling = hidden_after(&page, "Til opfølgning", "handling");
        let act = format!("{path}/handlinger");
        let resp = b
            .post(
                &act,
                &base,
                &[
                    ("moede", &moede),
                    ("handling", &handling),
                    ("udfoert", "ja"),
                ],
            )
            .await;
        let page = after(&b, resp).await;
        assert!(page.contains("Handlingen er markeret som udført"));
        assert!(page.contains("Ingen åbne handlinger"));
        assert!(page.contains("af Mette Sørensen"), "who marked it done");
        let resp = b
            .post(
                &act,
                &base,
                &[
                    ("moede", &moede),
                    ("handling", &handling),
                    ("udfoert", "ja"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«Udført»"));
        let resp = b
            .post(
                &act,
                &base,
                &[
                    ("moede", &moede),
                    ("handling", &handling),
                    ("udfoert", "nej"),
                ],
            )
            .await;
        assert!(after(&b, resp).await.contains("Handlingen er åbnet igen"));
        // Taking a member out asks first and can be undone.
        let remove = format!("{path}/medlemmer/o-roede-kors/fjern");
        let ask = b.text(&remove).await;
        assert!(
            ask.contains("1 åben handling") && ask.contains("fortryde"),
            "{ask}"
        );
        let page = after(&b, b.post(&remove, &base, &[]).await).await;
        assert!(page.contains("taget ud af netværket"));
        let resp = b
            .post(
                &members,
                &base,
                &[
                    ("organisation", "o-roede-kors"),
                    ("rolle", "efter-behov"),
                    ("funktion", ""),
                ],
            )
            .await;
        assert!(after(&b, resp).await.contains("Efter behov"));

        // The network leader's phone has it all.
        let id = doc_id(&r, "network", "Forældrenetværk").await;
        let mut camilla = connect(&r, "outreach2").await;
        let (doc, _) = fetch_nabo(&mut camilla, id).await;
        let n = NetworkDoc::from_doc(doc).unwrap();
        let net = n.network().unwrap();
        assert_eq!(net.members.len(), 2);
        assert_eq!(n.meetings().unwrap().len(), 1);
        // Other roles: no pages.
        let board = Browser::login(&r, "bestyrelse").await;
        assert_eq!(board.get("/netvaerk").await.status(), StatusCode::FORBIDDEN);
    }
}

/// The value of the first hidden input `name` after `marker`.
fn hidden_after(html: &str, marker: &str, name: &str) -> String {
    let start = html.find(marker).unwrap();
    let needle = format!("name=\"{name}\" value=\"");
    let i = html[start..].find(&needle).unwrap() + start + needle.len();
    html[i..].split('"').next().unwrap().to_owned()
}

/// Issue 10 item 5: the board of a programme, with its type and members.
#[tokio::test(flavor = "multi_thread")]
async fn the_board_of_a_programme() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let b = Browser::login(&r, "central").await;
        let page = b.text("/bestyrelser").await;
        for text in [
            "Boligsocial bestyrelse",
            "Direktør for Børn og Unge",
            "Lokalpolitileder",
            "formand",
            "Underskrivere: Vestby Kommune",
        ] {
            assert!(page.contains(text), "{text}: {page}");
        }
        let board = Browser::login(&r, "bestyrelse").await;
        assert_eq!(
            board.get("/bestyrelser").await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

/// Issue 10 item 5: the estate office's list of observations from safety walks: filtered,
/// moved on with who and when, routed, exported.
#[tokio::test(flavor = "multi_thread")]
async fn observations_are_worked_through_by_the_estate_office() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let base = r.http();
        let b = Browser::login(&r, "central").await;
        let office = "o-ejendomskontor-vestparken";
        // Open ones by default: new and in progress, not the resolved one.
        let open = b.text("/observationer").await;
        assert!(
            open.contains("Belysning") && open.contains("Hærværk"),
            "{open}"
        );
        assert!(!open.contains(">Affald<"), "{open}");
        let resolved = b.text("/observationer?status=loest").await;
        assert!(resolved.contains("Affald"));
        // The office's list as CSV.
        let csv = b
            .text(&format!(
                "/observationer?kontor={office}&status=aabne&eksport=csv&tabel=observationer"
            ))
            .await;
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 2, "{csv}");
        assert!(
            rows.iter()
                .all(|r| r.contains("Ejendomskontoret Vestparken")),
            "{csv}"
        );
        assert!(csv.contains(";I gang;") && csv.contains(";Ny;"), "{csv}");
        // Moving one on.
        let page = b
            .text(&format!("/observationer?kontor={office}&status=ny"))
            .await;
        let doc = hidden_after(&page, "<tbody", "dokument");
        let obs = hidden_after(&page, "<tbody", "observation");
        let back = format!("kontor={office}&status=alle");
        let status = |s: &'static str| {
            vec![
                ("dokument", doc.clone()),
                ("observation", obs.clone()),
                ("status", s.to_owned()),
                ("tilbage", back.clone()),
            ]
        };
        let form = status("i-gang");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = b.post("/observationer/status", &base, &form).await;
        let page = after(&b, resp).await;
        assert!(page.contains("Observationens status er gemt"));
        let resp = b.post("/observationer/status", &base, &form).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("«Status»"));
        let csv = b
            .text(&format!(
                "/observationer?kontor={office}&status=i-gang&eksport=csv&tabel=observationer"
            ))
            .await;
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.contains("Mette Sørensen"), "who moved it: {csv}");
        let form = status("bogus");
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = b.post("/observationer/status", &base, &form).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        // The one not yet routed goes to the office.
        let page = b.text("/observationer?kontor=ingen&status=alle").await;
        let doc = hidden_after(&page, "<tbody", "dokument");
        let obs = hidden_after(&page, "<tbody", "observation");
        let resp = b
            .post(
                "/observationer/send",
                &base,
                &[
                    ("dokument", &doc),
                    ("observation", &obs),
                    ("kontor", office),
                    ("tilbage", ""),
                ],
            )
            .await;
        assert!(
            after(&b, resp)
                .await
                .contains("Observationen er sendt videre")
        );
        let none = b.text("/observationer?kontor=ingen&status=alle").await;
        assert!(
            none.contains("Ingen observationer med dette filter"),
            "{none}"
        );
        let maja = Browser::login(&r, "volunteer1").await;
        assert_eq!(
            maja.get("/observationer").await.status(),
            StatusCode::FORBIDDEN
        );
    }
}
