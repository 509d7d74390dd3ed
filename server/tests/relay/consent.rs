//! Legal basis and consent per person (ADR 0027) on the relay and the review pages: a known
//! person without a basis covering the upgrade and a referral sharing details without a
//! consent covering it are refused by the relay's rules (also when a phone writes around the
//! core's operations, or shares offline after a withdrawal); central staff see the basis and
//! consent on `/samtykke` and withdraw it there; a withdrawal is final; every view and
//! withdrawal is in the access log. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use automerge::{ActorId, ROOT, ReadDoc};
use common::*;
use nabo_core::access_log::AccessKind;
use nabo_core::client::SyncEnd;
use nabo_core::docs::outreach::{NewReferral, OutreachDoc};
use nabo_core::document::{DocumentId, NaboDoc, TypedDoc};
use nabo_core::model::outreach::{Consent, KnownPerson};
use nabo_core::model::{By, LegalBasis, ReferralKind, Set};
use nabo_core::prelude::*;
use nabo_server::testing::{Backend, TestRelay};

const TENANT: &str = "vestbyen";

fn consent(given_on: Date, scope: &[&str]) -> Consent {
    Consent {
        given_on,
        by_guardian: false,
        relation: None,
        scope: scope.iter().map(|s| s.parse().unwrap()).collect(),
        channel: "written".parse().unwrap(),
        withdrawn_on: None,
        partners: Set::new(),
    }
}

/// Writes `value` at `container/key` around the core's operations (as a foreign client could).
fn raw_write<T: autosurgeon::Reconcile>(doc: &mut NaboDoc, container: &str, key: &str, value: &T) {
    let am = doc.automerge_mut();
    let mut tx = am.transaction();
    let (_, obj) = tx.get(ROOT, container).unwrap().unwrap();
    autosurgeon::reconcile_prop(&mut tx, &obj, key, value).unwrap();
    tx.commit();
}

/// Syncs a copy of `doc` carrying an attack made on it, and returns how the relay answered.
async fn attempt(
    r: &TestRelay,
    user: &str,
    id: DocumentId,
    doc: &NaboDoc,
    attack: impl FnOnce(&mut NaboDoc),
) -> SyncEnd {
    let mut copy = NaboDoc::from_automerge(doc.automerge().fork(), ActorId::random()).unwrap();
    attack(&mut copy);
    let mut c = connect(r, user).await;
    let mut st = automerge::sync::State::new();
    c.sync(id, copy.automerge_mut(), &mut st, false)
        .await
        .unwrap()
}

fn refused(end: &SyncEnd, field: &str, reason: &str) {
    assert!(
        matches!(end, SyncEnd::Error(e) if e.contains("refused: ") && e.contains(field) && e.contains(reason)),
        "expected {field} {reason}, got {end:?}"
    );
}

async fn stored_log(r: &TestRelay, id: DocumentId) -> OutreachDoc {
    OutreachDoc::from_doc(NaboDoc::from_automerge(stored(r, id).await, ActorId::random()).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_refuses_upgrades_and_sharing_without_a_covering_basis_and_staff_withdraw_on_the_pages()
 {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let cat = Catalogue::builtin().unwrap();
        let ali = author_of(&r, "outreach1").await;
        let By::Staff(worker) = ali.by.clone() else {
            panic!("outreach1 is staff")
        };
        let today = r.clock.today_dk();
        let tenant: TenantId = TENANT.parse().unwrap();
        let area: AreaId = "a-vestparken".parse().unwrap();
        let mut log = OutreachDoc::create(
            tenant.clone(),
            worker,
            area.clone(),
            Quarter::of(today),
            ActorId::random(),
        )
        .unwrap();
        let id = log.doc().id();
        // Amir agreed to be followed and to have details shared; Bo is followed under the
        // municipality's task and agreed to nothing.
        let amir = ParticipantId::random();
        let bo = ParticipantId::random();
        let person = |basis, c: Option<Consent>| KnownPerson {
            age_band: "18-24".parse().unwrap(),
            label: None,
            basis,
            basis_text: None,
            consent: c,
            added_on: today,
            erased: None,
        };
        log.add_person(
            &ali,
            cat,
            &amir,
            person(
                LegalBasis::Consent,
                Some(consent(today, &["follow-up", "share-with-partners"])),
            ),
        )
        .unwrap();
        log.add_person(&ali, cat, &bo, person(LegalBasis::PublicTask, None))
            .unwrap();
        let mut phone = connect(&r, "outreach1").await;
        let mut st = automerge::sync::State::new();
        let end = phone
            .sync(id, log.doc_mut().automerge_mut(), &mut st, false)
            .await
            .unwrap();
        assert_eq!(end, SyncEnd::Synced, "{backend:?}");

        // The core refuses the upgrade without a basis covering it, naming the field …
        let err = log
            .add_person(
                &ali,
                cat,
                &ParticipantId::random(),
                person(LegalBasis::LegitimateInterest, None),
            )
            .unwrap_err();
        assert!(err.to_string().contains("basis: no-legal-basis"), "{err}");
        // … and so does the relay when a client writes around the core.
        let carl = ParticipantId::random();
        let end = attempt(&r, "outreach1", id, log.doc(), |d| {
            raw_write(
                d,
                "people",
                carl.as_str(),
                &person(LegalBasis::LegitimateInterest, None),
            )
        })
        .await;
        refused(&end, &format!("people/{carl}.basis"), "no-legal-basis");
        let end = attempt(&r, "outreach1", id, log.doc(), |d| {
            raw_write(
                d,
                "people",
                carl.as_str(),
                &person(LegalBasis::Consent, Some(consent(today, &["photos"]))),
            )
        })
        .await;
        refused(
            &end,
            &format!("people/{carl}.consent.scope"),
            "no-legal-basis",
        );

        // Sharing Bo's details: no consent covers it (the core refuses; the relay too).
        let share = |p: &ParticipantId| NewReferral {
            at: ali.at,
            from_contact: None,
            from_activity: None,
            participant: Some(p.clone()),
            to: "jobcenter".into(),
            to_org: None,
            to_activity: None,
            kind: ReferralKind::Information,
            consent_to_share: true,
        };
        let err = log.refer(&ali, cat, share(&bo)).unwrap_err();
        assert!(
            err.to_string().contains("consent_to_share: no-legal-basis"),
            "{err}"
        );
        let end = attempt(&r, "outreach1", id, log.doc(), |d| {
            let mut copy = OutreachDoc::from_doc(d.clone()).unwrap();
            // A consent recorded only on this copy lets the core write the referral; the
            // relay checks against the log it holds, where Bo has none.
            let mut fake = person(
                LegalBasis::Consent,
                Some(consent(today, &["follow-up", "share-with-partners"])),
            );
            fake.label = None;
            raw_write(copy.doc_mut(), "people", bo.as_str(), &fake);
            copy.refer(&ali, cat, share(&bo)).unwrap();
            // Put Bo back as the relay has him, keeping the referral.
            raw_write(
                copy.doc_mut(),
                "people",
                bo.as_str(),
                &person(LegalBasis::PublicTask, None),
            );
            *d = copy.doc().clone();
        })
        .await;
        refused(&end, "consent_to_share", "no-legal-basis");

        // Central staff see Amir's basis and consent on the pages; volunteers may not.
        let b = Browser::login(&r, "central").await;
        let page = b.text(&format!("/samtykke?emne={amir}")).await;
        assert!(page.contains("Samtykke og grundlag"), "{page}");
        assert!(page.contains("Deling med samarbejdspartner"), "{page}");
        assert!(page.contains("Træk samtykket tilbage"), "{page}");
        let maja = Browser::login(&r, "volunteer1").await;
        assert_eq!(
            maja.get(&format!("/samtykke?emne={amir}")).await.status(),
            403
        );
        assert_eq!(
            b.get(&format!("/samtykke?emne={}", ParticipantId::random()))
                .await
                .status(),
            404
        );

        // A phone offline during the withdrawal shares Amir's details the same day.
        let mut offline = OutreachDoc::from_doc(
            NaboDoc::from_automerge(log.doc().automerge().fork(), ActorId::random()).unwrap(),
        )
        .unwrap();
        offline.refer(&ali, cat, share(&amir)).unwrap();

        // Central staff withdraw it: from today.
        let res = b
            .post(
                "/samtykke/tilbagetraek",
                &b.base,
                &[("emne", amir.as_str()), ("dokument", &id.to_string())],
            )
            .await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let text = res.text().await.unwrap();
        assert!(text.contains("Samtykket er trukket tilbage"), "{text}");
        assert!(text.contains(&format!("/sletning?emne={amir}")), "{text}");
        let withdrawn = stored_log(&r, id).await.people().unwrap()[&amir]
            .consent
            .clone()
            .unwrap();
        assert_eq!(withdrawn.withdrawn_on, Some(today));
        let page = b.text(&format!("/samtykke?emne={amir}")).await;
        assert!(!page.contains("Træk samtykket tilbage"), "{page}");
        assert!(page.contains("Slet personen"), "{page}");

        // The offline phone's referral reaches the relay after the withdrawal: refused.
        let mut c = connect(&r, "outreach1").await;
        let mut st2 = automerge::sync::State::new();
        let end = c
            .sync(id, offline.doc_mut().automerge_mut(), &mut st2, false)
            .await
            .unwrap();
        refused(&end, "consent_to_share", "consent-withdrawn");

        // The worker's phone syncs the withdrawal; sharing is refused by the core from now on,
        // and writing the consent back as not withdrawn is refused by the relay.
        let end = phone
            .sync(id, log.doc_mut().automerge_mut(), &mut st, false)
            .await
            .unwrap();
        assert_eq!(end, SyncEnd::Synced);
        let err = log.refer(&ali, cat, share(&amir)).unwrap_err();
        assert!(err.to_string().contains("consent-withdrawn"), "{err}");
        let end = attempt(&r, "outreach1", id, log.doc(), |d| {
            raw_write(
                d,
                "people",
                amir.as_str(),
                &person(
                    LegalBasis::Consent,
                    Some(consent(today, &["follow-up", "share-with-partners"])),
                ),
            )
        })
        .await;
        refused(
            &end,
            &format!("people/{amir}.consent.withdrawn_on"),
            "consent-withdrawn",
        );
        // A withdrawal of a withdrawn consent is refused by name.
        let res = b
            .post(
                "/samtykke/tilbagetraek",
                &b.base,
                &[("emne", amir.as_str()), ("dokument", &id.to_string())],
            )
            .await;
        assert_eq!(res.status(), 400, "{backend:?}");
        // A withdrawn consent offers no form to record it again.
        let page = b.text(&format!("/samtykke?emne={amir}")).await;
        assert!(
            !page.contains("Registrér samtykke") && !page.contains("Ret samtykket"),
            "{page}"
        );

        // Bo agrees later: central staff record his consent on the pages; his basis stays the
        // municipality's task, and the worker's phone may share his details after its sync.
        let page = b.text(&format!("/samtykke?emne={bo}")).await;
        assert!(page.contains("Registrér samtykke"), "{backend:?}: {page}");
        assert!(
            !page.contains("samtykket gives af en forælder eller værge"),
            "{page}"
        );
        let form = with(
            &shown_form(&page, "/samtykke/registrer"),
            "omfang",
            &["follow-up", "share-with-partners"],
        );
        let (status, text) = post_form(&b, "/samtykke/registrer", &form).await;
        assert_eq!(status, 200, "{backend:?}: {text}");
        assert!(text.contains("Samtykket er registreret"), "{text}");
        let stored = stored_log(&r, id).await.people().unwrap()[&bo].clone();
        assert_eq!(stored.basis, LegalBasis::PublicTask);
        let c = stored.consent.expect("Bo's consent is stored");
        assert_eq!(
            (c.given_on, c.by_guardian, c.withdrawn_on),
            (today, false, None)
        );
        assert_eq!(
            c.scope.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["follow-up", "share-with-partners"]
        );
        let end = phone
            .sync(id, log.doc_mut().automerge_mut(), &mut st, false)
            .await
            .unwrap();
        assert_eq!(end, SyncEnd::Synced);
        log.refer(&ali, cat, share(&bo)).unwrap();
        let end = phone
            .sync(id, log.doc_mut().automerge_mut(), &mut st, false)
            .await
            .unwrap();
        assert_eq!(
            end,
            SyncEnd::Synced,
            "{backend:?}: the relay takes the sharing"
        );
        assert!(
            stored_log(&r, id)
                .await
                .referrals()
                .unwrap()
                .values()
                .any(|v| v.current.participant.as_ref() == Some(&bo) && v.current.consent_to_share),
            "{backend:?}"
        );

        // Every view and the withdrawal are in the access log, without names.
        let entries: Vec<_> = r
            .storage()
            .access_of_subject(&tenant, amir.as_str(), &[])
            .await
            .unwrap();
        let reads = entries
            .iter()
            .filter(|e| e.kind == AccessKind::Read.code() && e.user_id == "u-central")
            .count();
        assert!(reads >= 2, "{entries:?}");
        assert!(
            entries.iter().any(|e| e.kind == AccessKind::Update.code()
                && e.document.as_deref() == Some(&id.to_string()[..])),
            "{entries:?}"
        );
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concern_is_seen_by_its_reporter_and_central_staff_only_and_every_view_is_logged() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let cat = Catalogue::builtin().unwrap();
        let ali = author_of(&r, "outreach1").await;
        let By::Staff(worker) = ali.by.clone() else {
            panic!("outreach1 is staff")
        };
        let today = r.clock.today_dk();
        let tenant: TenantId = TENANT.parse().unwrap();
        let mut log = OutreachDoc::create(
            tenant.clone(),
            worker,
            "a-vestparken".parse().unwrap(),
            Quarter::of(today),
            ActorId::random(),
        )
        .unwrap();
        let id = log.doc().id();
        let mut c = nabo_core::docs::outreach::NewContact::anonymous(
            ali.at,
            "faellesareal",
            "uformelt-moede",
            1,
            "10-12",
        );
        // The authority is a code; anything else is refused by name.
        c.concern = Some(nabo_core::model::outreach::ConcernReport {
            reported_on: today,
            to: "naboen".parse().unwrap(),
        });
        let err = log.log_contact(&ali, cat, false, c.clone()).unwrap_err();
        assert!(
            err.to_string().contains("concern.to: unknown-code"),
            "{err}"
        );
        c.concern = Some(nabo_core::model::outreach::ConcernReport {
            reported_on: today,
            to: "kommune-boernefamilie".parse().unwrap(),
        });
        c.followup = Some(today.add_days(14));
        log.log_contact(&ali, cat, false, c).unwrap();
        let mut phone = connect(&r, "outreach1").await;
        let mut st = automerge::sync::State::new();
        assert_eq!(
            phone
                .sync(id, log.doc_mut().automerge_mut(), &mut st, false)
                .await
                .unwrap(),
            SyncEnd::Synced
        );

        // Central staff see it on the pages, with status and follow-up.
        let b = Browser::login(&r, "central").await;
        let page = b.text("/bekymringer").await;
        assert!(
            page.contains("Kommunens børne- og familieafdeling"),
            "{page}"
        );
        assert!(page.contains("Afventer opfølgning"), "{page}");
        // Nobody else: not a volunteer, not the board, not another outreach worker …
        for user in ["volunteer1", "bestyrelse", "outreach2", "outreach1"] {
            let other = Browser::login(&r, user).await;
            assert_eq!(other.get("/bekymringer").await.status(), 403, "{user}");
        }
        // … and not over sync: the log is unavailable to a volunteer and another worker.
        for user in ["volunteer1", "outreach2"] {
            let mut c = connect(&r, user).await;
            assert_eq!(fetch(&mut c, id).await.0, SyncEnd::Unavailable, "{user}");
        }
        // Every view of the list is in the access log.
        let entries = r
            .storage()
            .access_entries(&tenant, 0, 100_000)
            .await
            .unwrap();
        let views = entries
            .iter()
            .filter(|(e, _)| {
                e.document.as_deref() == Some(&id.to_string()[..])
                    && e.user_id == "u-central"
                    && e.kind == AccessKind::Read.code()
            })
            .count();
        assert_eq!(views, 1, "{backend:?}");
        b.text("/bekymringer").await;
        let entries = r
            .storage()
            .access_entries(&tenant, 0, 100_000)
            .await
            .unwrap();
        assert_eq!(
            entries
                .iter()
                .filter(|(e, _)| e.document.as_deref() == Some(&id.to_string()[..])
                    && e.user_id == "u-central"
                    && e.kind == AccessKind::Read.code())
                .count(),
            2
        );
        r.running.unwrap().shutdown().await;
    }
}

/// The form with `action` as a browser would submit it unchanged: every named input's value
/// (checkboxes only when checked) and every select's selected option.
fn shown_form(page: &str, action: &str) -> Vec<(String, String)> {
    let start = page
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}: {page}"));
    let form = &page[start..start + page[start..].find("</form>").unwrap()];
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        let needle = format!(" {name}=\"");
        tag.find(&needle).map(|i| {
            let rest = &tag[i + needle.len()..];
            unescape(&rest[..rest.find('"').unwrap()])
        })
    };
    let mut out = Vec::new();
    for (i, _) in form.match_indices("<input") {
        let tag = &form[i..i + form[i..].find('>').unwrap()];
        let Some(name) = attr(tag, "name") else {
            continue;
        };
        if attr(tag, "type").as_deref() == Some("checkbox") && !tag.contains(" checked") {
            continue;
        }
        out.push((name, attr(tag, "value").unwrap_or_default()));
    }
    for (i, _) in form.match_indices("<select") {
        let end = i + form[i..].find("</select>").unwrap();
        let tag = &form[i..i + form[i..].find('>').unwrap()];
        let name = attr(tag, "name").unwrap();
        let options: Vec<&str> = form[i..end].split("<option").skip(1).collect();
        let chosen = options
            .iter()
            .find(|o| o[..o.find('>').unwrap()].contains(" selected"))
            .or(options.first())
            .unwrap();
        out.push((name, attr(chosen, "value").unwrap()));
    }
    out
}

/// `form` with `name` set to `values` (replacing what the page showed).
fn with(form: &[(String, String)], name: &str, values: &[&str]) -> Vec<(String, String)> {
    let mut f: Vec<_> = form.iter().filter(|(n, _)| n != name).cloned().collect();
    f.extend(values.iter().map(|v| (name.to_owned(), (*v).to_owned())));
    f
}

async fn post_form(b: &Browser, action: &str, form: &[(String, String)]) -> (u16, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = b.post(action, &b.base, &pairs).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn stored_register(r: &TestRelay, id: DocumentId) -> nabo_core::docs::register::RegisterDoc {
    nabo_core::docs::register::RegisterDoc::from_doc(
        NaboDoc::from_automerge(stored(r, id).await, ActorId::random()).unwrap(),
    )
    .unwrap()
}

async fn consent_of(r: &TestRelay, reg: DocumentId, pid: &ParticipantId) -> Option<Consent> {
    stored_register(r, reg)
        .await
        .participant(pid)
        .unwrap()
        .consent
}

async fn activity_of(r: &TestRelay, act: DocumentId) -> nabo_core::model::activity::Activity {
    nabo_core::docs::activity::ActivityDoc::from_doc(
        NaboDoc::from_automerge(stored(r, act).await, ActorId::random()).unwrap(),
    )
    .unwrap()
    .activity()
    .unwrap()
    .current
}

/// Central staff record a child's consent on the pages and correct it (ADR 0034): it goes
/// through the register's validated operation, bad input is refused naming the field and
/// stores nothing, a form shown before a change is refused as stale, a withdrawn consent
/// cannot be edited back, and every edit is in the access log.
#[tokio::test(flavor = "multi_thread")]
async fn central_staff_record_and_correct_a_childs_consent_on_the_pages() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let cat = Catalogue::builtin().unwrap();
        let tenant: TenantId = TENANT.parse().unwrap();
        let today = r.clock.today_dk();
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        // A child under the tenant's guardian age (15) with no consent recorded.
        let view = stored_register(&r, reg).await.view().unwrap();
        let (pid, _) = view
            .participants
            .iter()
            .find(|(_, p)| {
                p.current.consent.is_none()
                    && p.current.erased.is_none()
                    && nabo_core::consent::needs_guardian(cat, p.current.age_band.as_str(), 15)
            })
            .expect("a child under 15 in the demo");
        let pid = pid.clone();
        let b = Browser::login(&r, "central").await;
        let view_path = format!("/samtykke?emne={pid}");
        let page = b.text(&view_path).await;
        assert!(page.contains("Registrér samtykke"), "{page}");
        assert!(
            page.contains("samtykket gives af en forælder eller værge"),
            "{page}"
        );
        let shown = shown_form(&page, "/samtykke/registrer");
        let org = {
            let needle = "name=\"partner\" value=\"";
            let i = page.find(needle).expect("partners offered") + needle.len();
            page[i..].split('"').next().unwrap().to_owned()
        };
        let good = with(
            &with(
                &with(
                    &shown,
                    "omfang",
                    &["named-roll-call", "share-with-partners"],
                ),
                "partner",
                &[&org],
            ),
            "givet_af",
            &["parent"],
        );

        // Bad input: refused with the field named, nothing stored.
        for (form, field) in [
            (with(&good, "givet_af", &["self"]), "«Samtykke givet af»"),
            (with(&good, "givet_af", &["nabo"]), "«Samtykke givet af»"),
            (with(&good, "dato", &["i går"]), "«Dato»"),
            (
                with(&good, "dato", &[&today.add_days(3).to_string()]),
                "«Dato»",
            ),
            (with(&good, "kanal", &["brevdue"]), "«Kanal»"),
            (with(&good, "omfang", &[]), "«Omfatter»"),
            (with(&good, "omfang", &["salg"]), "«Omfatter»"),
            (
                with(&good, "partner", &["org-findes-ikke"]),
                "«Samarbejdspartnere»",
            ),
        ] {
            let (status, text) = post_form(&b, "/samtykke/registrer", &form).await;
            assert_eq!(status, 400, "{backend:?} {field}: {text}");
            assert!(text.contains(field), "{field}: {text}");
            assert_eq!(consent_of(&r, reg, &pid).await, None, "{field}");
        }

        // Recorded: the parent's written consent to the name and to sharing with one partner.
        let (status, text) = post_form(&b, "/samtykke/registrer", &good).await;
        assert_eq!(status, 200, "{backend:?}: {text}");
        assert!(text.contains("Samtykket er registreret"), "{text}");
        let c = consent_of(&r, reg, &pid).await.expect("stored");
        assert_eq!(c.given_on, today);
        assert!(c.by_guardian);
        assert_eq!(c.relation, Some(nabo_core::consent::Relation::Parent));
        assert_eq!(c.channel.as_str(), "written");
        assert_eq!(
            c.scope.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["named-roll-call", "share-with-partners"]
        );
        assert_eq!(
            c.partners.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            [org.as_str()]
        );
        assert_eq!(c.withdrawn_on, None);
        let page = b.text(&view_path).await;
        assert!(page.contains("Ret samtykket"), "{page}");
        assert!(page.contains("Navn på fremmødelisten"), "{page}");

        // The form shown before it was recorded is stale now: refused, nothing changes.
        let (status, text) =
            post_form(&b, "/samtykke/registrer", &with(&good, "kanal", &["oral"])).await;
        assert_eq!(status, 409, "{backend:?}: {text}");
        assert!(text.contains("ændret, siden du åbnede siden"), "{text}");
        assert_eq!(consent_of(&r, reg, &pid).await, Some(c.clone()));

        // Corrected from the page as it is now: given orally, the name only, no partners.
        let shown = shown_form(&page, "/samtykke/registrer");
        assert!(
            shown.contains(&("givet_af".into(), "parent".into())),
            "{shown:?}"
        );
        let fixed = with(
            &with(
                &with(&shown, "kanal", &["oral"]),
                "omfang",
                &["named-roll-call"],
            ),
            "partner",
            &[],
        );
        let (status, text) = post_form(&b, "/samtykke/registrer", &fixed).await;
        assert_eq!(status, 200, "{backend:?}: {text}");
        assert!(text.contains("Samtykket er rettet"), "{text}");
        let c = consent_of(&r, reg, &pid).await.expect("stored");
        assert_eq!(c.channel.as_str(), "oral");
        assert_eq!(
            c.scope.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["named-roll-call"]
        );
        assert!(c.partners.is_empty());

        // Withdrawn: the page offers no form, and a form shown before cannot write it back.
        let page = b.text(&view_path).await;
        let before_withdrawal = shown_form(&page, "/samtykke/registrer");
        let res = b
            .post(
                "/samtykke/tilbagetraek",
                &b.base,
                &[("emne", pid.as_str()), ("dokument", &reg.to_string())],
            )
            .await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let page = b.text(&view_path).await;
        assert!(!page.contains("/samtykke/registrer"), "{page}");
        assert!(page.contains("kan ikke rettes"), "{page}");
        let withdrawn = consent_of(&r, reg, &pid).await.expect("stored");
        assert_eq!(withdrawn.withdrawn_on, Some(today));
        // The form shown before the withdrawal is stale; with a fingerprint matching the
        // withdrawn record, the core refuses it (a withdrawal is final).
        let (status, _) = post_form(&b, "/samtykke/registrer", &before_withdrawal).await;
        assert_eq!(status, 409, "{backend:?}");
        let fresh = {
            // The fingerprint the page would have shown for the withdrawn consent.
            let page = b.text(&view_path).await;
            assert!(!page.contains("name=\"aftryk\""));
            use sha2::Digest;
            hex::encode(&sha2::Sha256::digest(format!("{:?}", Some(&withdrawn)).as_bytes())[..12])
        };
        let again = with(&before_withdrawal, "aftryk", &[&fresh]);
        let (status, text) = post_form(&b, "/samtykke/registrer", &again).await;
        assert_eq!(status, 400, "{backend:?}: {text}");
        assert!(text.contains("«Trukket tilbage»"), "{text}");
        assert_eq!(consent_of(&r, reg, &pid).await, Some(withdrawn));

        // A volunteer may not record one.
        let maja = Browser::login(&r, "volunteer1").await;
        let (status, _) = post_form(&maja, "/samtykke/registrer", &fixed).await;
        assert_eq!(status, 403);

        // Both edits and the withdrawal are in the access log, against the register.
        let entries = r
            .storage()
            .access_of_subject(&tenant, pid.as_str(), &[])
            .await
            .unwrap();
        let updates = entries
            .iter()
            .filter(|e| {
                e.kind == AccessKind::Update.code()
                    && e.document.as_deref() == Some(&reg.to_string()[..])
            })
            .count();
        assert_eq!(updates, 3, "{entries:?}");
        r.running.unwrap().shutdown().await;
    }
}

/// Another statutory basis with its statute (ADR 0034): chosen on the activity's edit form,
/// refused without the statute (naming the field, nothing stored), shown on the consent page.
#[tokio::test(flavor = "multi_thread")]
async fn another_statutory_basis_is_chosen_with_its_statute_and_shown() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let act = doc_id(&r, "activity", "Lektiecaféen").await;
        let b = Browser::login(&r, "central").await;
        let path = "/administration/aktiviteter/act-lektiecafe";
        let page = b.text(path).await;
        assert!(page.contains("Anden lovhjemmel"), "{page}");
        let shown = shown_form(&page, path);
        let other = with(&shown, "grundlag", &["other-statutory"]);
        let res = b
            .post(path, &b.base, &{
                let p: Vec<(&str, &str)> = other
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                p
            })
            .await;
        assert_eq!(res.status(), 400, "{backend:?}");
        let text = res.text().await.unwrap();
        assert!(text.contains("«Lovhjemmel»"), "{text}");
        assert_eq!(
            activity_of(&r, act).await.legal_basis,
            LegalBasis::LegitimateInterest
        );

        let statute = "Serviceloven § 11, stk. 3";
        let form = with(&other, "lovhjemmel", &[statute]);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = b.post(path, &b.base, &pairs).await;
        assert_eq!(res.status(), 303, "{backend:?}");
        let a = activity_of(&r, act).await;
        assert_eq!(a.legal_basis, LegalBasis::OtherStatutory);
        assert_eq!(a.legal_basis_text.as_deref(), Some(statute));

        // Shown on a child's consent page, and on the edit form again.
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let view = stored_register(&r, reg).await.view().unwrap();
        let (pid, _) = view
            .participants
            .iter()
            .find(|(_, p)| p.current.consent.is_none() && p.current.erased.is_none())
            .unwrap();
        let page = b.text(&format!("/samtykke?emne={pid}")).await;
        assert!(
            page.contains("Anden lovhjemmel: Serviceloven § 11, stk. 3"),
            "{page}"
        );
        let page = b.text(path).await;
        assert!(page.contains(statute), "{page}");

        // Back to a basis without a statute: the text goes with it.
        let form = with(&shown_form(&page, path), "grundlag", &["public-task"]);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(b.post(path, &b.base, &pairs).await.status(), 303);
        let a = activity_of(&r, act).await;
        assert_eq!(a.legal_basis, LegalBasis::PublicTask);
        assert_eq!(a.legal_basis_text, None);
        r.running.unwrap().shutdown().await;
    }
}
