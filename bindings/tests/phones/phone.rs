//! The bindings' client against a real relay: enrolment, an offline roll call that syncs
//! when the relay is back, a second phone that sees it, the outreach log, change listeners,
//! errors with fields, the encrypted store holding only what the user may see, and a revoked
//! device wiping itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::*;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nabo_bindings::api::{
    ChangeEvent, ChangeKind, ChangeListener, ConsentInput, ContactInput, HeadcountSplit,
    KnownPersonInput, Mark, ReferralInput, ReferralKind, ReferralStatus, ShiftState,
};
use nabo_bindings::{ListenerError, NaboClient, NaboError};
use nabo_core::document::DocKind;
use nabo_core::store::{Store, StoreError};
use nabo_server::relay::Limits;
use nabo_server::testing::{Backend, TestRelay};

#[derive(Default)]
struct Events(Mutex<Vec<ChangeEvent>>);

impl ChangeListener for Events {
    fn on_change(&self, event: ChangeEvent) -> Result<(), ListenerError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

impl Events {
    fn kinds(&self) -> Vec<ChangeKind> {
        self.0.lock().unwrap().iter().map(|e| e.kind).collect()
    }
}

async fn open(r: &TestRelay, dir: &std::path::Path, key: u8) -> Arc<NaboClient> {
    NaboClient::open(dir.display().to_string(), r.http(), vec![key; 32])
        .await
        .unwrap()
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offline_roll_call_reaches_the_office_and_a_revoked_phone_wipes_itself() {
    let mut r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();

    // Maja's phone is enrolled with a one-time code and syncs what she may see.
    let maja_dir = tempfile::tempdir().unwrap();
    let maja = open(&r, maja_dir.path(), 1).await;
    let events = Arc::new(Events::default());
    let sub = maja.subscribe(events.clone());
    let code = enrolment_code(&r, "u-volunteer1").await;
    let me = maja
        .enrol(code.clone(), "Majas telefon".into())
        .await
        .unwrap();
    assert_eq!(me.role, "volunteer");
    assert!(me.device_id.is_some());
    // A used code does not work twice.
    let other_dir = tempfile::tempdir().unwrap();
    let other = open(&r, other_dir.path(), 9).await;
    assert!(matches!(
        other.enrol(code, "x".into()).await,
        Err(NaboError::Unauthorized { .. })
    ));

    let report = maja.sync_now().await.unwrap();
    assert!(report.documents >= 3, "{report:?}");
    let acts = maja.my_activities().await.unwrap();
    assert_eq!(
        acts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["act-lektiecafe"],
        "a volunteer's phone holds only her own activity"
    );
    assert!(matches!(
        maja.my_outreach_log().await,
        Ok(log) if log.contacts.is_empty()
    ));

    // The relay goes away; the roll call happens offline.
    r.stop().await;
    let session = maja
        .add_session(
            "act-lektiecafe".into(),
            today(),
            "15:00".into(),
            "17:00".into(),
            Some("Ekstra lektiecafé".into()),
        )
        .await
        .unwrap();
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert!(
        call.entries.len() >= 15,
        "the term's children are on the list"
    );
    assert!(
        call.entries.iter().all(|e| e.mark.is_none()),
        "a new session starts unmarked"
    );
    // The names were sealed in the office; the keys came with the sync (ADR 0011).
    let mut names: Vec<_> = call
        .entries
        .iter()
        .filter_map(|e| e.label.clone())
        .collect();
    names.sort();
    let mut demo: Vec<_> = nabo_server::demo::CHILDREN
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    demo.push("aisha".into()); // the demo's child added a second time on another phone
    demo.sort();
    assert_eq!(names, demo, "every child is named on the volunteer's phone");
    for (i, e) in call.entries.iter().take(6).enumerate() {
        let m = if i == 5 { Mark::Absent } else { Mark::Present };
        maja.mark(session.id.clone(), e.participant_id.clone(), m)
            .await
            .unwrap();
    }
    let zainab = maja
        .add_child(session.id.clone(), Some("Zainab".into()), "7-9".into())
        .await
        .unwrap();
    maja.check_in(session.id.clone()).await.unwrap();
    maja.check_out(session.id.clone()).await.unwrap();

    // Errors name the field and the reason.
    match maja
        .add_child(session.id.clone(), None, "99-120".into())
        .await
    {
        Err(NaboError::Invalid { field, reason, .. }) => {
            assert_eq!(field, "age_band");
            assert!(!reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match maja
        .mark(session.id.clone(), "p-nobody".into(), Mark::Present)
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "participant"),
        other => panic!("{other:?}"),
    }

    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(call.present, 6, "five marked present and the new child");
    let new = call
        .entries
        .iter()
        .find(|e| e.participant_id == zainab)
        .unwrap();
    assert_eq!(new.label.as_deref(), Some("Zainab"));
    assert_eq!(new.mark, Some(Mark::Present));

    let offline = maja.sync_now().await;
    assert!(
        matches!(offline, Err(NaboError::Offline { .. })),
        "{offline:?}"
    );
    let status = maja.sync_status().await.unwrap();
    assert!(status.pending_changes >= 9, "{status:?}");
    assert!(status.last_error.is_some());
    eventually("local-edit events", || {
        events.kinds().contains(&ChangeKind::LocalEdit)
    })
    .await;

    // The relay is back: the changes go up, nothing is pending.
    r.restart(Limits::default()).await.unwrap();
    maja.sync_now().await.unwrap();
    let status = maja.sync_status().await.unwrap();
    assert_eq!(status.pending_changes, 0, "{status:?}");
    assert!(status.last_error.is_none() && status.last_sync_ms.is_some());

    // The office sees the roll call from Maja's phone.
    let office_dir = tempfile::tempdir().unwrap();
    let office = open(&r, office_dir.path(), 2).await;
    office
        .login("central".into(), PASSWORD.into())
        .await
        .unwrap();
    office.sync_now().await.unwrap();
    let seen = office.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(seen.present, 6);
    assert_eq!(seen.entries.len(), call.entries.len());
    let marks = |c: &nabo_bindings::api::RollCall| {
        c.entries
            .iter()
            .map(|e| (e.participant_id.clone(), format!("{:?}", e.mark)))
            .collect::<Vec<_>>()
    };
    let mut a = marks(&seen);
    let mut b = marks(&call);
    a.sort();
    b.sort();
    assert_eq!(a, b, "the office sees exactly Maja's marks");

    // Wrong credentials are Unauthorized, not Offline.
    let nobody_dir = tempfile::tempdir().unwrap();
    let nobody = open(&r, nobody_dir.path(), 3).await;
    assert!(matches!(
        nobody.login("central".into(), "wrong".into()).await,
        Err(NaboError::Unauthorized { .. })
    ));

    // The phone's store is encrypted: another key does not open it.
    drop(sub);
    let seen_before = events.kinds().len();
    let db = maja_dir.path().join("nabo.sqlite");
    assert!(matches!(
        Store::open_encrypted(&db, &[7u8; 32]).await,
        Err(StoreError::WrongKey)
    ));
    let store = Store::open_encrypted(&db, &[1u8; 32]).await.unwrap();
    let kinds: Vec<DocKind> = store.list().await.unwrap().iter().map(|d| d.kind).collect();
    assert!(
        !kinds.contains(&DocKind::Outreach) && !kinds.contains(&DocKind::Staff),
        "only what a volunteer may see: {kinds:?}"
    );
    store.close().await;

    // Central revokes the device: the next sync wipes the phone.
    let device = me.device_id.unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/devices/{device}/revoke", r.http()))
        .bearer_auth(central_token(&r).await)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let events2 = Arc::new(Events::default());
    let _sub2 = maja.subscribe(events2.clone());
    assert!(matches!(maja.sync_now().await, Err(NaboError::Revoked)));
    assert!(maja.me().is_none());
    assert!(matches!(
        maja.my_activities().await,
        Ok(v) if v.is_empty()
    ));
    let store = Store::open_encrypted(&db, &[1u8; 32]).await.unwrap();
    assert!(
        store.list().await.unwrap().is_empty(),
        "the phone holds nothing"
    );
    assert!(store.key_ring().await.unwrap().0.is_empty());
    eventually("the wiped event", || {
        events2.kinds().contains(&ChangeKind::Wiped)
    })
    .await;
    assert_eq!(
        events.kinds().len(),
        seen_before,
        "a dropped subscription hears nothing"
    );
}

/// The participant's name in a roll call, if this phone can open it.
fn label_of(call: &nabo_bindings::api::RollCall, participant: &str) -> Option<String> {
    call.entries
        .iter()
        .find(|e| e.participant_id == participant)
        .unwrap_or_else(|| panic!("participant not in the roll call"))
        .label
        .clone()
}

async fn has_key(dir: &std::path::Path, key: u8, subject: &str) -> bool {
    let store = Store::open_encrypted(&dir.join("nabo.sqlite"), &[key; 32])
        .await
        .unwrap();
    let has = store.key_ring().await.unwrap().0.contains_key(subject);
    store.close().await;
    has
}

#[tokio::test(flavor = "multi_thread")]
async fn a_child_added_offline_is_named_on_every_phone_that_may_read_the_register() {
    let mut r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();

    // Phone A (volunteer 1) adds a child while offline.
    let a_dir = tempfile::tempdir().unwrap();
    let a = open(&r, a_dir.path(), 1).await;
    a.enrol(enrolment_code(&r, "u-volunteer1").await, "A".into())
        .await
        .unwrap();
    a.sync_now().await.unwrap();
    r.stop().await;
    let session = lektiecafe_today(&a).await;
    let child = a
        .add_child(session.id.clone(), Some("Zainab".into()), "7-9".into())
        .await
        .unwrap();
    assert!(matches!(a.sync_now().await, Err(NaboError::Offline { .. })));
    r.restart(Limits::default()).await.unwrap();
    assert_eq!(
        r.storage()
            .subject_key(&"vestbyen".parse().unwrap(), &child)
            .await
            .unwrap(),
        None,
        "the key has not left the phone yet"
    );

    // The next sync takes the child and its key to the relay.
    a.sync_now().await.unwrap();
    r.storage()
        .subject_key(&"vestbyen".parse().unwrap(), &child)
        .await
        .unwrap()
        .expect("the key reached the relay, for the phone's tenant");

    // Phone B (volunteer 2, same activity) and the office see the child's name.
    let b_dir = tempfile::tempdir().unwrap();
    let b = open(&r, b_dir.path(), 2).await;
    b.enrol(enrolment_code(&r, "u-volunteer2").await, "B".into())
        .await
        .unwrap();
    b.sync_now().await.unwrap();
    let call = b.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(label_of(&call, &child).as_deref(), Some("Zainab"));
    assert!(
        call.entries.iter().all(|e| e.label.is_some()),
        "every child is named on phone B"
    );
    let office_dir = tempfile::tempdir().unwrap();
    let office = open(&r, office_dir.path(), 3).await;
    office
        .login("central".into(), PASSWORD.into())
        .await
        .unwrap();
    office.sync_now().await.unwrap();
    let call = office.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(label_of(&call, &child).as_deref(), Some("Zainab"));

    // An outreach worker of another area may not read the register: no register, no key,
    // and the relay answers as if it did not exist.
    let c_dir = tempfile::tempdir().unwrap();
    let c = open(&r, c_dir.path(), 4).await;
    c.login("outreach2".into(), PASSWORD.into()).await.unwrap();
    c.sync_now().await.unwrap();
    assert!(matches!(
        c.roll_call(session.id.clone()).await,
        Err(NaboError::NotFound { .. })
    ));
    assert!(!has_key(c_dir.path(), 4, &child).await);
    let register = session.id.split_once('/').unwrap().0.to_owned();
    let token = nabo_core::client::login(&r.http(), "outreach2", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let res = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/documents/{register}/subject-keys",
            r.http()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // Volunteer 2 leaves the activity: at the next sync the register and its keys leave
    // phone B.
    assert!(has_key(b_dir.path(), 2, &child).await);
    let res = reqwest::Client::new()
        .put(format!("{}/api/v1/users/u-volunteer2/scopes", r.http()))
        .bearer_auth(central_token(&r).await)
        .json(&serde_json::json!({"areas": [], "activities": []}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let report = b.sync_now().await.unwrap();
    assert!(report.removed >= 1, "{report:?}");
    assert!(matches!(
        b.roll_call(session.id.clone()).await,
        Err(NaboError::NotFound { .. })
    ));
    assert!(
        !has_key(b_dir.path(), 2, &child).await,
        "the key left with the register"
    );
    let store = Store::open_encrypted(&b_dir.path().join("nabo.sqlite"), &[2; 32])
        .await
        .unwrap();
    assert!(
        store.key_ring().await.unwrap().0.is_empty(),
        "no child's key stays on phone B"
    );
    store.close().await;
    // Phone A still names the child.
    let call = a.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(label_of(&call, &child).as_deref(), Some("Zainab"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outreach_worker_logs_a_contact_and_follows_a_referral() {
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ali = open(&r, dir.path(), 4).await;
    ali.login("outreach1".into(), PASSWORD.into())
        .await
        .unwrap();
    ali.sync_now().await.unwrap();
    let before = ali.my_outreach_log().await.unwrap();
    assert!(!before.contacts.is_empty(), "the demo quarter's contacts");

    let topics = ali.vocabulary("outreach-topics".into()).unwrap();
    assert!(topics.iter().any(|t| t.code == "skole-uddannelse"));
    let contact = ali
        .log_contact(ContactInput {
            area_id: "a-vestparken".into(),
            location: "legeplads".into(),
            kind: "uformelt-moede".into(),
            count: 3,
            age_band: "15-17".into(),
            topics: vec!["skole-uddannelse".into(), "fritid".into()],
            outcomes: vec![],
            followup: None,
            participant_id: None,
            concern_reported_on: None,
            concern_to: None,
            note: None,
        })
        .await
        .unwrap();
    let referral = ali
        .refer(ReferralInput {
            area_id: "a-vestparken".into(),
            contact_id: Some(contact.clone()),
            to: "jobcenter".into(),
            kind: ReferralKind::Accompanied,
            consent_to_share: false,
            participant_id: None,
            to_activity_id: None,
        })
        .await
        .unwrap();
    ali.set_referral_status(referral.clone(), ReferralStatus::Contacted)
        .await
        .unwrap();
    match ali
        .log_contact(ContactInput {
            area_id: "a-vestparken".into(),
            location: "legeplads".into(),
            kind: "no-such-kind".into(),
            count: 1,
            age_band: "15-17".into(),
            topics: vec![],
            outcomes: vec![],
            followup: None,
            participant_id: None,
            concern_reported_on: None,
            concern_to: None,
            note: None,
        })
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "kind"),
        other => panic!("{other:?}"),
    }
    ali.sync_now().await.unwrap();
    assert_eq!(ali.sync_status().await.unwrap().pending_changes, 0);

    // The log on another phone of Ali's shows the contact and the referral's status.
    let dir2 = tempfile::tempdir().unwrap();
    let ali2 = open(&r, dir2.path(), 5).await;
    ali2.login("outreach1".into(), PASSWORD.into())
        .await
        .unwrap();
    ali2.sync_now().await.unwrap();
    let log = ali2.my_outreach_log().await.unwrap();
    assert_eq!(log.contacts.len(), before.contacts.len() + 1);
    let c = log.contacts.iter().find(|c| c.id == contact).unwrap();
    assert_eq!((c.count, c.age_band.as_deref()), (3, Some("15-17")));
    let rf = log.referrals.iter().find(|x| x.id == referral).unwrap();
    assert_eq!(rf.status, ReferralStatus::Contacted);
    assert_eq!(rf.kind, ReferralKind::Accompanied);

    // A volunteer's phone has no outreach log to write to.
    let vdir = tempfile::tempdir().unwrap();
    let v = open(&r, vdir.path(), 6).await;
    v.login("volunteer2".into(), PASSWORD.into()).await.unwrap();
    assert!(matches!(
        v.log_contact(ContactInput {
            area_id: "a-vestparken".into(),
            location: "legeplads".into(),
            kind: "uformelt-moede".into(),
            count: 1,
            age_band: "15-17".into(),
            topics: vec![],
            outcomes: vec![],
            followup: None,
            participant_id: None,
            concern_reported_on: None,
            concern_to: None,
            note: None,
        })
        .await,
        Err(NaboError::Forbidden { .. })
    ));
}

/// One Danish calendar (issue 12, item 13): a phone and the relay on one clock set to 00:30
/// on the night after a café afternoon (winter: 23:30 UTC on the café's day; summer: 01:30,
/// still the café's day in UTC). "Today" on the phone is the Danish date, today's sessions are
/// that day's, and "yesterday's" café afternoon is the one the demo seeded with the
/// disagreeing marks — the same session the pages show.
#[tokio::test(flavor = "multi_thread")]
async fn at_half_past_midnight_the_phone_and_the_relay_agree_on_the_day() {
    use nabo_core::time::{Clock, Timestamp};
    for (day, time, yesterday) in [
        ("2026-11-25", "00:30", "2026-11-24"),
        ("2026-07-03", "01:30", "2026-07-02"),
    ] {
        let now = Timestamp::from_dk(day.parse().unwrap(), time.parse().unwrap());
        let clock = Clock::starting_at(now);
        let r = TestRelay::start_with_clock(Backend::Sqlite, Limits::default(), clock.clone())
            .await
            .unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let maja = NaboClient::open_with_clock(
            dir.path().display().to_string(),
            r.http(),
            vec![3; 32],
            clock.clone(),
        )
        .await
        .unwrap();
        maja.enrol(
            enrolment_code(&r, "u-volunteer1").await,
            "Majas telefon".into(),
        )
        .await
        .unwrap();
        maja.sync_now().await.unwrap();
        assert_eq!(maja.today(), day);
        assert!(
            maja.todays_sessions().await.unwrap().is_empty(),
            "{day}: no café today"
        );
        let cafe = maja.sessions_on(yesterday.into()).await.unwrap();
        assert_eq!(cafe.len(), 1, "{day}: yesterday's café afternoon");
        let call = maja.roll_call(cafe[0].id.clone()).await.unwrap();
        assert_eq!(
            call.entries.iter().filter(|e| e.conflict).count(),
            1,
            "{day}: yesterday's café holds the demo's disagreeing marks"
        );
        // A session added "today" on the phone is today's, and the roll call can start.
        let extra = maja
            .add_session(
                "act-lektiecafe".into(),
                maja.today(),
                "00:00".into(),
                "02:00".into(),
                Some("Nattevandring".into()),
            )
            .await
            .unwrap();
        assert_eq!(maja.todays_sessions().await.unwrap(), vec![extra.clone()]);
        maja.check_in(extra.id.clone()).await.unwrap();
    }
}

/// Referrals from a contact (issue 12, item 1): a recruitment names the activity, a referral
/// with consent to share carries the known person (named, or the contact's), bisidder and
/// letter help are kinds of their own, and the status moves on to "mødte op" and "afsluttet"
/// with its history, also on the worker's second phone.
#[tokio::test(flavor = "multi_thread")]
async fn referrals_from_a_contact_carry_the_person_and_the_activity() {
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ali = open(&r, dir.path(), 11).await;
    ali.login("outreach1".into(), PASSWORD.into())
        .await
        .unwrap();
    ali.sync_now().await.unwrap();
    let area = "a-vestparken".to_owned();
    let contact = |participant_id: Option<String>, count: u32| ContactInput {
        area_id: area.clone(),
        location: "legeplads".into(),
        kind: "uformelt-moede".into(),
        count,
        age_band: "15-17".into(),
        topics: vec!["job".into()],
        outcomes: vec![],
        followup: None,
        participant_id,
        concern_reported_on: None,
        concern_to: None,
        note: None,
    };
    let referral = |contact_id: Option<String>, kind: ReferralKind| ReferralInput {
        area_id: area.clone(),
        contact_id,
        to: "jobcenter".into(),
        kind,
        consent_to_share: false,
        participant_id: None,
        to_activity_id: None,
    };

    // A young man agrees to be followed and to have details shared with the jobcenter.
    let omar = ali
        .add_known_person(KnownPersonInput {
            area_id: area.clone(),
            label: Some("Omar".into()),
            age_band: "18-24".into(),
            consent: Some(ConsentInput {
                given_on: ali.today(),
                by_guardian: false,
                channel: "oral".into(),
                share_with_partners: true,
                relation: None,
                named_roll_call: false,
                photos: false,
                partner_org_ids: Vec::new(),
            }),
            basis: None,
            basis_text: None,
        })
        .await
        .unwrap();
    let people = ali.known_people(area.clone()).await.unwrap();
    let p = people.iter().find(|p| p.participant_id == omar).unwrap();
    assert_eq!((p.label.as_deref(), p.consent), (Some("Omar"), true));
    let met = ali
        .log_contact(contact(Some(omar.clone()), 1))
        .await
        .unwrap();

    // Consent to share, from the contact: the person comes with the contact.
    let shared = ali
        .refer(ReferralInput {
            consent_to_share: true,
            ..referral(Some(met.clone()), ReferralKind::Bisidder)
        })
        .await
        .unwrap();
    // An anonymous contact shares nothing: refused, naming the field.
    let anon = ali.log_contact(contact(None, 2)).await.unwrap();
    match ali
        .refer(ReferralInput {
            consent_to_share: true,
            ..referral(Some(anon.clone()), ReferralKind::Information)
        })
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "consent_to_share"),
        other => panic!("{other:?}"),
    }
    // A person followed without consent: nothing may be shared.
    let no_consent = ali
        .add_known_person(KnownPersonInput {
            area_id: area.clone(),
            label: None,
            age_band: "15-17".into(),
            consent: None,
            basis: None,
            basis_text: None,
        })
        .await
        .unwrap();
    match ali
        .refer(ReferralInput {
            consent_to_share: true,
            participant_id: Some(no_consent.clone()),
            ..referral(None, ReferralKind::Accompanied)
        })
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "consent_to_share"),
        other => panic!("{other:?}"),
    }

    // A basis other than consent or the organisation's task: another statutory basis names
    // its statute; what is missing, too long or unknown is refused naming the field.
    let with_basis = |basis: &str, basis_text: Option<String>| KnownPersonInput {
        area_id: area.clone(),
        label: None,
        age_band: "18-24".into(),
        consent: None,
        basis: Some(basis.into()),
        basis_text,
    };
    let known_before = ali.known_people(area.clone()).await.unwrap().len();
    for (input, want) in [
        (
            with_basis("other-statutory", None),
            ("basis_text", "missing"),
        ),
        (
            with_basis("other-statutory", Some("   ".into())),
            ("basis_text", "missing"),
        ),
        (
            with_basis("other-statutory", Some("§".repeat(201))),
            ("basis_text", "too-long"),
        ),
        (
            with_basis("public-task", Some("x".repeat(201))),
            ("basis_text", "too-long"),
        ),
        (with_basis("samtykke", None), ("basis", "unknown-code")),
        (with_basis("consent", None), ("consent", "missing")),
    ] {
        match ali.add_known_person(input.clone()).await {
            Err(NaboError::Invalid { field, reason, .. }) => {
                assert_eq!((field.as_str(), reason.as_str()), want, "{input:?}")
            }
            other => panic!("{input:?}: {other:?}"),
        }
    }
    let statute = "Serviceloven § 11, stk. 3";
    let by_statute = ali
        .add_known_person(with_basis("other-statutory", Some(statute.into())))
        .await
        .unwrap();
    let people = ali.known_people(area.clone()).await.unwrap();
    let basis = |id: &str| {
        let p = people.iter().find(|p| p.participant_id == id).unwrap();
        (p.basis.clone(), p.basis_text.clone())
    };
    assert_eq!(
        basis(&by_statute),
        ("other-statutory".into(), Some(statute.into()))
    );
    assert_eq!(basis(&omar), ("consent".into(), None));
    assert_eq!(basis(&no_consent), ("public-task".into(), None));
    // The refused ones left nothing behind.
    assert_eq!(people.len(), known_before + 1, "{people:?}");

    // Recruitment into an activity in the area: names the activity, which must be one the
    // phone knows.
    let acts = ali.my_activities().await.unwrap();
    let target = acts.iter().find(|a| a.area_id == area).unwrap();
    let recruited = ali
        .refer(ReferralInput {
            to: "boligsocial-aktivitet".into(),
            participant_id: Some(omar.clone()),
            to_activity_id: Some(target.id.clone()),
            ..referral(Some(met.clone()), ReferralKind::Recruitment)
        })
        .await
        .unwrap();
    match ali
        .refer(referral(Some(anon.clone()), ReferralKind::Recruitment))
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "to_activity"),
        other => panic!("{other:?}"),
    }
    match ali
        .refer(ReferralInput {
            to_activity_id: Some("act-nowhere".into()),
            ..referral(Some(anon.clone()), ReferralKind::Recruitment)
        })
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "to_activity_id"),
        other => panic!("{other:?}"),
    }
    let letter = ali
        .refer(referral(Some(anon.clone()), ReferralKind::LetterHelp))
        .await
        .unwrap();

    // Later: he turned up ("mødte op"), and the referral was completed ("afsluttet").
    ali.set_referral_status(recruited.clone(), ReferralStatus::FirstMeeting)
        .await
        .unwrap();
    ali.set_referral_status(recruited.clone(), ReferralStatus::Completed)
        .await
        .unwrap();
    assert!(matches!(
        ali.set_referral_status(recruited.clone(), ReferralStatus::Ongoing)
            .await,
        Err(NaboError::Invalid { .. })
    ));
    ali.sync_now().await.unwrap();

    let dir2 = tempfile::tempdir().unwrap();
    let ali2 = open(&r, dir2.path(), 12).await;
    ali2.login("outreach1".into(), PASSWORD.into())
        .await
        .unwrap();
    ali2.sync_now().await.unwrap();
    let log = ali2.my_outreach_log().await.unwrap();
    let find = |id: &str| log.referrals.iter().find(|x| x.id == id).unwrap().clone();
    let s = find(&shared);
    assert_eq!(s.kind, ReferralKind::Bisidder);
    assert_eq!(s.participant_id.as_deref(), Some(omar.as_str()));
    assert_eq!(s.contact_id.as_deref(), Some(met.as_str()));
    assert!(s.consent_to_share);
    let rc = find(&recruited);
    assert_eq!(rc.to_activity_id.as_deref(), Some(target.id.as_str()));
    assert_eq!(rc.status, ReferralStatus::Completed);
    assert_eq!(
        rc.history.iter().map(|c| c.status).collect::<Vec<_>>(),
        [
            ReferralStatus::Suggested,
            ReferralStatus::FirstMeeting,
            ReferralStatus::Completed
        ]
    );
    assert_eq!(find(&letter).kind, ReferralKind::LetterHelp);
    let c = log.contacts.iter().find(|c| c.id == met).unwrap();
    assert_eq!(c.participant_id.as_deref(), Some(omar.as_str()));
    // The label is readable where the key is: the phone that added him.
    let own = ali.my_outreach_log().await.unwrap();
    let s = own.referrals.iter().find(|x| x.id == shared).unwrap();
    assert_eq!(s.participant_label.as_deref(), Some("Omar"));
}

/// Check-in and out (issue 12, item 2): the state comes back from the register when the
/// screen (or the app) is opened again, a second check-in is refused naming the time instead
/// of moving the first, a shift checked out by mistake is resumed, and the volunteer sees
/// her hours per session and per month.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_check_in_is_refused_and_the_hours_history_adds_up() {
    let day: nabo_core::time::Date = "2026-11-19".parse().unwrap();
    let at = |t: &str| nabo_core::time::Timestamp::from_dk(day, t.parse().unwrap());
    let clock = nabo_core::time::Clock::starting_at(at("14:00"));
    let r = TestRelay::start_with_clock(Backend::Sqlite, Limits::default(), clock.clone())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let open_phone = || {
        NaboClient::open_with_clock(
            dir.path().display().to_string(),
            r.http(),
            vec![13; 32],
            clock.clone(),
        )
    };
    let maja = open_phone().await.unwrap();
    maja.enrol(
        enrolment_code(&r, "u-volunteer1").await,
        "Majas telefon".into(),
    )
    .await
    .unwrap();
    maja.sync_now().await.unwrap();
    let session = maja
        .add_session(
            "act-lektiecafe".into(),
            maja.today(),
            "18:00".into(),
            "20:00".into(),
            Some("Ekstra lektiecafé".into()),
        )
        .await
        .unwrap();
    let before = maja.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(
        before.my_shift.as_ref().map(|s| s.state),
        Some(ShiftState::NotCheckedIn)
    );

    clock.set(at("17:55"));
    maja.check_in(session.id.clone()).await.unwrap();
    // The app is closed and opened again: the register says she is checked in.
    drop(maja);
    let maja = open_phone().await.unwrap();
    let shift = maja
        .roll_call(session.id.clone())
        .await
        .unwrap()
        .my_shift
        .unwrap();
    assert_eq!(shift.state, ShiftState::CheckedIn);
    // The test clock runs on from each `set` in real time: 17:55 and the milliseconds the
    // phone took (an exact comparison failed on a loaded machine).
    let kept = shift.check_in_ms.unwrap_or_default();
    assert!(
        (at("17:55").0..at("17:56").0).contains(&kept),
        "the check-in is at 17:55: {kept}"
    );

    // Checking in again is refused and keeps 17:55.
    clock.set(at("18:40"));
    match maja.check_in(session.id.clone()).await {
        Err(NaboError::Invalid {
            field,
            reason,
            detail,
        }) => {
            assert_eq!(
                (field.as_str(), reason.as_str()),
                ("check_in", "already-exists")
            );
            assert!(detail.contains("17:55"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    clock.set(at("19:00"));
    maja.check_out(session.id.clone()).await.unwrap();
    // After checking out, a check-in is refused too; the phone asks and resumes instead.
    clock.set(at("19:05"));
    match maja.check_in(session.id.clone()).await {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "check_out"),
        other => panic!("{other:?}"),
    }
    maja.resume_shift(session.id.clone()).await.unwrap();
    // Half a minute past 20:10: the check-in above was kept a few milliseconds after 17:55
    // (the clock runs on), and the check-out must not come out a few milliseconds short of
    // 135 whole minutes when the check-in call took longer than this one (seen in CI: 134).
    clock.set(nabo_core::time::Timestamp(at("20:10").0 + 30_000));
    maja.check_out(session.id.clone()).await.unwrap();
    let shift = maja
        .roll_call(session.id.clone())
        .await
        .unwrap()
        .my_shift
        .unwrap();
    assert_eq!((shift.state, shift.minutes), (ShiftState::Done, Some(135)));

    // Her history: this evening, and the month's total with the demo's earlier shifts.
    let hours = maja.my_hours().await.unwrap();
    let row = hours
        .shifts
        .iter()
        .find(|s| s.session.id == session.id)
        .unwrap();
    assert_eq!(row.shift.minutes, Some(135));
    let month = hours.months.iter().find(|m| m.month == "2026-11").unwrap();
    let in_month: u32 = hours
        .shifts
        .iter()
        .filter(|s| s.session.date.starts_with("2026-11"))
        .filter_map(|s| s.shift.minutes)
        .sum();
    assert_eq!(month.minutes, in_month);
    assert!(month.shifts >= 1 && month.minutes >= 135);
    assert_eq!(
        hours.total_minutes,
        hours.months.iter().map(|m| m.minutes).sum::<u32>()
    );
    let dates: Vec<_> = hours
        .shifts
        .iter()
        .map(|s| s.session.date.clone())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "newest first");
    maja.sync_now().await.unwrap();
    assert_eq!(maja.sync_status().await.unwrap().pending_changes, 0);
}

/// Shifts (issue 12, item 3; story 14): a volunteer sees the coming sessions of her activity,
/// signs up and cancels with a coded reason on her phone; the coordinator's activity page
/// lists who is coming and who cancelled, and why.
#[tokio::test(flavor = "multi_thread")]
async fn a_volunteer_signs_up_and_cancels_and_the_coordinator_sees_who_is_coming() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let phone = |n: u8| {
            let dir = tempfile::tempdir().unwrap();
            let http = r.http();
            async move {
                let c = NaboClient::open(dir.path().display().to_string(), http, vec![n; 32])
                    .await
                    .unwrap();
                (dir, c)
            }
        };
        let (_d1, maja) = phone(14).await;
        maja.enrol(
            enrolment_code(&r, "u-volunteer1").await,
            "Majas telefon".into(),
        )
        .await
        .unwrap();
        maja.sync_now().await.unwrap();
        let today: nabo_core::time::Date = maja.today().parse().unwrap();
        let trip = maja
            .add_session(
                "act-lektiecafe".into(),
                today.add_days(2).to_string(),
                "10:00".into(),
                "15:00".into(),
                Some("Udflugt til skoven".into()),
            )
            .await
            .unwrap();
        let find = |v: Vec<nabo_bindings::api::UpcomingSession>| {
            v.into_iter().find(|u| u.session.id == trip.id).unwrap()
        };
        let before = find(maja.upcoming_sessions(7).await.unwrap());
        assert!(!before.my_shift.signed_up && before.signed_up == 0);
        // A session outside the window is not listed.
        assert!(
            maja.upcoming_sessions(1)
                .await
                .unwrap()
                .iter()
                .all(|u| u.session.id != trip.id)
        );
        maja.sign_up(trip.id.clone()).await.unwrap();
        let after = find(maja.upcoming_sessions(7).await.unwrap());
        assert!(after.my_shift.signed_up && after.signed_up == 1);

        // A second volunteer signs up and then cancels: ill.
        let (_d2, ahmed) = phone(15).await;
        ahmed
            .enrol(
                enrolment_code(&r, "u-volunteer2").await,
                "Ahmeds telefon".into(),
            )
            .await
            .unwrap();
        maja.sync_now().await.unwrap();
        ahmed.sync_now().await.unwrap();
        match ahmed.cancel_sign_up(trip.id.clone(), "sygdom".into()).await {
            Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "volunteer"),
            other => panic!("{other:?}"),
        }
        ahmed.sign_up(trip.id.clone()).await.unwrap();
        match ahmed
            .cancel_sign_up(trip.id.clone(), "keine-lust".into())
            .await
        {
            Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "reason"),
            other => panic!("{other:?}"),
        }
        ahmed
            .cancel_sign_up(trip.id.clone(), "sygdom".into())
            .await
            .unwrap();
        let off = find(ahmed.upcoming_sessions(7).await.unwrap());
        assert!(off.my_shift.cancelled);
        assert_eq!(off.my_shift.cancel_reason.as_deref(), Some("sygdom"));
        assert_eq!(off.signed_up, 1, "Maja is still coming");
        ahmed.sync_now().await.unwrap();

        // The coordinator's page: who is coming, who cancelled and why.
        let page = web_page(&r, "central", "/aktiviteter/act-lektiecafe").await;
        let coming = page
            .split("Kommende møder")
            .nth(1)
            .expect("the coming sessions are listed");
        let row = coming
            .split("<tr>")
            .find(|row| row.contains("Udflugt til skoven"))
            .unwrap();
        assert!(row.contains("1 frivillig: "), "{row}");
        assert!(row.contains("(sygdom)"), "{row}");
    }
}

/// The relay's copy of a document, read as central staff.
async fn on_relay(r: &TestRelay, id: nabo_core::document::DocumentId) -> automerge::Automerge {
    let token = central_token(r).await;
    let mut c = nabo_core::client::Client::connect(&r.ws(), &token, None)
        .await
        .unwrap();
    let mut doc = automerge::Automerge::new();
    let end = c
        .sync(id, &mut doc, &mut automerge::sync::State::new(), true)
        .await
        .unwrap();
    assert_eq!(end, nabo_core::client::SyncEnd::Synced);
    doc
}

fn map_value(doc: &automerge::Automerge, root_key: &str, key: &str) -> Option<String> {
    use automerge::ReadDoc;
    let (_, obj) = doc.get(automerge::ROOT, root_key).unwrap()?;
    let (v, _) = doc.get(&obj, key).unwrap()?;
    Some(match v {
        automerge::Value::Scalar(s) => match s.as_ref() {
            automerge::ScalarValue::Str(x) => x.to_string(),
            other => other.to_string(),
        },
        automerge::Value::Object(_) => "record".into(),
    })
}

/// A change the relay refuses does not stall the phone (issue 9, ADR 0013). Between two
/// honest marks, a tampered app writes another volunteer's shift into the phone's store;
/// the relay refuses the batch. The phone takes the relay's copy, re-makes both marks on
/// it, drops the forged shift, replaces its stored document, sends the marks, and tells
/// its listeners which record was refused. Before the fix the sync failed with the relay's
/// error at every attempt and nothing of the phone's reached the relay again.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_edit_is_dropped_and_every_other_pending_edit_reaches_the_relay() {
    use automerge::transaction::Transactable;
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let maja = open(&r, dir.path(), 7).await;
    let events = Arc::new(Events::default());
    let _sub = maja.subscribe(events.clone());
    maja.login("volunteer1".into(), PASSWORD.into())
        .await
        .unwrap();
    maja.sync_now().await.unwrap();
    let session = lektiecafe_today(&maja).await;
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    let (kid1, kid2) = (
        call.entries[0].participant_id.clone(),
        call.entries[1].participant_id.clone(),
    );
    maja.mark(session.id.clone(), kid1.clone(), Mark::Present)
        .await
        .unwrap();

    // The tampered write: volunteer2's shift, cancelled, from Maja's phone.
    let (reg, sid) = session.id.split_once('/').unwrap();
    let reg: nabo_core::document::DocumentId = reg.parse().unwrap();
    let shift = format!("{sid}/v-2");
    {
        let store = Store::open_encrypted(&dir.path().join("nabo.sqlite"), &[7; 32])
            .await
            .unwrap();
        let mut doc = store
            .load(reg, automerge::ActorId::random())
            .await
            .unwrap()
            .unwrap();
        let before = doc.heads();
        let am = doc.automerge_mut();
        let mut tx = am.transaction();
        let (_, shifts) = automerge::ReadDoc::get(&tx, automerge::ROOT, "shifts")
            .unwrap()
            .unwrap();
        let s = tx
            .put_object(&shifts, shift.as_str(), automerge::ObjType::Map)
            .unwrap();
        tx.put(&s, "signed_up", true).unwrap();
        tx.put(&s, "cancelled", true).unwrap();
        tx.put(&s, "check_in", automerge::ScalarValue::Null)
            .unwrap();
        tx.put(&s, "check_out", automerge::ScalarValue::Null)
            .unwrap();
        tx.commit();
        store.append(reg, &doc.save_after(&before)).await.unwrap();
        store.close().await;
    }
    // An honest mark on top of the forged change.
    maja.mark(session.id.clone(), kid2.clone(), Mark::Absent)
        .await
        .unwrap();

    let report = maja.sync_now().await.unwrap();
    assert!(report.documents >= 3, "{report:?}");
    let refused: Vec<ChangeEvent> = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == ChangeKind::Refused)
        .cloned()
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        refused[0].document_id.as_deref(),
        Some(reg.to_string().as_str())
    );
    let detail = refused[0].detail.clone().unwrap();
    assert!(
        detail.contains(&format!("shifts/{shift}")) && detail.contains("not-permitted"),
        "{detail}"
    );

    // The relay has both marks and not the shift.
    let relay = on_relay(&r, reg).await;
    let key = |kid: &str| format!("{sid}/{kid}");
    assert_eq!(
        map_value(&relay, "attendance", &key(&kid1)).as_deref(),
        Some("present")
    );
    assert_eq!(
        map_value(&relay, "attendance", &key(&kid2)).as_deref(),
        Some("absent")
    );
    assert_eq!(map_value(&relay, "shifts", &shift), None);
    // The phone agrees with the relay, holds no forged shift, and has nothing pending.
    assert_eq!(maja.sync_status().await.unwrap().pending_changes, 0);
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    let mark_of = |p: &str| {
        call.entries
            .iter()
            .find(|e| e.participant_id == p)
            .unwrap()
            .mark
    };
    assert_eq!(
        (mark_of(&kid1), mark_of(&kid2)),
        (Some(Mark::Present), Some(Mark::Absent))
    );
    let store = Store::open_encrypted(&dir.path().join("nabo.sqlite"), &[7; 32])
        .await
        .unwrap();
    let local = store
        .load(reg, automerge::ActorId::random())
        .await
        .unwrap()
        .unwrap();
    store.close().await;
    assert_eq!(map_value(local.automerge(), "shifts", &shift), None);
    assert_eq!(local.heads(), relay.get_heads());
    // The next sync is quiet, and the phone goes on recording.
    maja.mark(session.id.clone(), kid1.clone(), Mark::Excused)
        .await
        .unwrap();
    maja.sync_now().await.unwrap();
    assert_eq!(
        events
            .kinds()
            .iter()
            .filter(|k| **k == ChangeKind::Refused)
            .count(),
        1
    );
    let relay = on_relay(&r, reg).await;
    assert_eq!(
        map_value(&relay, "attendance", &key(&kid1)).as_deref(),
        Some("excused")
    );
}

/// Records volunteer 1's child certificate on the administration page as central staff.
async fn record_certificate(r: &TestRelay, obtained: &str, due: &str) {
    let (http, cookies) = web_session(r, "central").await;
    let res = http
        .post(format!("{}/administration/boerneattest", r.http()))
        .header(reqwest::header::ORIGIN, r.http())
        .header(reqwest::header::COOKIE, cookies)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        // Dates are URL-safe as they stand.
        .body(format!("frivillig=v-1&indhentet={obtained}&fornyes={due}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
}

/// Issue 10 item 4 (ADR 0023): the phone checks a check-in against the volunteer's own
/// current child certificate, fetched from the relay at every sync: the office expires it in
/// the volunteer directory and the phone blocks the check-in offline; the office renews it and
/// the phone and the relay accept.
#[tokio::test(flavor = "multi_thread")]
async fn the_phone_blocks_a_check_in_with_the_certificate_the_office_recorded() {
    let day = |n: i64| {
        nabo_core::time::Timestamp::now()
            .date_dk()
            .add_days(n)
            .to_string()
    };
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let maja = open(&r, dir.path(), 7).await;
        maja.enrol(
            enrolment_code(&r, "u-volunteer1").await,
            "Majas telefon".into(),
        )
        .await
        .unwrap();
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
            Err(NaboError::Invalid { field, reason, .. }) => assert_eq!(
                (field.as_str(), reason.as_str()),
                ("volunteer", "child-certificate-required")
            ),
            other => panic!("{other:?}"),
        }
        // Renewed in the directory: the phone accepts after its next sync, and the relay too.
        record_certificate(&r, &day(0), &day(730)).await;
        maja.sync_now().await.unwrap();
        maja.check_in(session.id.clone()).await.unwrap();
        maja.sync_now().await.unwrap();
        assert!(maja.sync_status().await.unwrap().last_error.is_none());
    }
}

/// Issue 12 item 4 (stories 12 and 17): a volunteer counts a party by group offline, and the
/// office's overview and figure-1 table show the groups and the first-timers.
#[tokio::test(flavor = "multi_thread")]
async fn a_headcount_by_group_taken_offline_reaches_the_overview_and_the_figure_1_table() {
    let mut r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let maja = open(&r, dir.path(), 21).await;
    maja.enrol(
        enrolment_code(&r, "u-volunteer1").await,
        "Majas telefon".into(),
    )
    .await
    .unwrap();
    maja.sync_now().await.unwrap();

    r.stop().await;
    let session = maja
        .add_session(
            "act-lektiecafe".into(),
            today(),
            "17:00".into(),
            "20:00".into(),
            Some("Sommerfest".into()),
        )
        .await
        .unwrap();
    let party = HeadcountSplit {
        children_residents: 23,
        children_outsiders: 6,
        adults_residents: 11,
        adults_outsiders: 7,
        first_timers: 9,
    };
    // More first-timers than came: refused on the phone, naming the field.
    match maja
        .set_headcounts(
            session.id.clone(),
            HeadcountSplit {
                first_timers: 48,
                ..party
            },
        )
        .await
    {
        Err(NaboError::Invalid { field, .. }) => assert_eq!(field, "first_timers"),
        other => panic!("{other:?}"),
    }
    maja.set_headcounts(session.id.clone(), party)
        .await
        .unwrap();
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert_eq!(call.headcount, Some(47), "first-timers are among the 47");
    assert_eq!(call.headcount_split, Some(party));

    r.restart(Limits::default()).await.unwrap();
    maja.sync_now().await.unwrap();
    assert_eq!(maja.sync_status().await.unwrap().pending_changes, 0);

    let day = today();
    let overview = web_page(&r, "central", &format!("/oversigt?fra={day}&til={day}")).await;
    let grid = overview
        .split("Fremmøde talt i grupper")
        .nth(1)
        .expect("the overview shows the headcount by group")
        .split("</table>")
        .next()
        .unwrap()
        .to_owned();
    for n in ["23", "6", "29", "11", "7", "18", "34", "13", "47", "9"] {
        assert!(grid.contains(&format!(">{n}<")), "{n} in {grid}");
    }
    let csv = web_page(
        &r,
        "central",
        &format!("/rapporter/maalgrupper?eksport=csv&tabel=maalgrupper&fra={day}&til={day}"),
    )
    .await;
    let cafe_groups: Vec<&str> = csv.lines().filter(|l| l.ends_with(";29;18")).collect();
    assert!(
        !cafe_groups.is_empty(),
        "the café's target groups count 29 children and 18 adults: {csv}"
    );
}

/// A form posted on the review pages as central staff; where it leads (303).
async fn web_post(r: &TestRelay, path: &str, form: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.:".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let (http, cookies) = web_session(r, "central").await;
    let res = http
        .post(format!("{}{path}", r.http()))
        .header(reqwest::header::COOKIE, cookies)
        .header(reqwest::header::ORIGIN, r.http())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.join("&"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER, "{path}");
    res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A one-off session made on the activity page in a term no phone has a register for yet
/// (the page creates it through the relay's path for new documents), then moved: the
/// volunteer's phone sees both after syncing. An archived activity leaves the phone's list.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_made_on_the_pages_in_a_new_term_reaches_the_phone() {
    for backend in Backend::all() {
        let r = TestRelay::start(backend, Limits::default()).await.unwrap();
        r.seed_demo(PASSWORD).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let maja = open(&r, dir.path(), 16).await;
        maja.enrol(
            enrolment_code(&r, "u-volunteer1").await,
            "Majas telefon".into(),
        )
        .await
        .unwrap();
        maja.sync_now().await.unwrap();
        // The first day of the next term: the demo made this term's register only.
        let today: nabo_core::time::Date = maja.today().parse().unwrap();
        let next = nabo_core::time::Term::of(today).last_day().add_days(1);
        let day = next.to_string();
        assert!(maja.sessions_on(day.clone()).await.unwrap().is_empty());
        let to = web_post(
            &r,
            "/aktiviteter/act-lektiecafe/moeder",
            &[
                ("dato", &day),
                ("start", "10:00"),
                ("slut", "14:00"),
                ("titel", "Nytårsudflugt"),
            ],
        )
        .await;
        assert!(to.contains("besked=moede-oprettet"), "{to}");
        maja.sync_now().await.unwrap();
        let on_phone = maja.sessions_on(day.clone()).await.unwrap();
        let trip = on_phone
            .iter()
            .find(|s| s.title.as_deref() == Some("Nytårsudflugt"))
            .unwrap_or_else(|| panic!("{on_phone:?}"));
        assert_eq!((trip.start.as_str(), trip.end.as_str()), ("10:00", "14:00"));
        // Moved to the next day on the page: the phone follows.
        let moved = next.add_days(1).to_string();
        let session = to
            .split("moede=")
            .nth(1)
            .unwrap()
            .split(['&', '#'])
            .next()
            .unwrap();
        let doc = to
            .split("register=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        web_post(
            &r,
            &format!("/registre/{doc}/moeder/{session}/aendr"),
            &[
                ("dato", &moved),
                ("start", "11:00"),
                ("slut", "15:00"),
                ("titel", "Nytårsudflugt"),
            ],
        )
        .await;
        maja.sync_now().await.unwrap();
        assert!(
            maja.sessions_on(day)
                .await
                .unwrap()
                .iter()
                .all(|s| s.id != trip.id),
            "moved away"
        );
        let after = maja.sessions_on(moved).await.unwrap();
        let trip = after.iter().find(|s| s.id == trip.id).unwrap();
        assert_eq!(trip.start, "11:00");

        // Archived on the pages: gone from the phone's activity list.
        assert!(
            maja.my_activities()
                .await
                .unwrap()
                .iter()
                .any(|a| a.id == "act-lektiecafe")
        );
        web_post(
            &r,
            "/administration/aktiviteter/act-lektiecafe/arkiver",
            &[],
        )
        .await;
        maja.sync_now().await.unwrap();
        assert!(
            maja.my_activities()
                .await
                .unwrap()
                .iter()
                .all(|a| a.id != "act-lektiecafe")
        );
    }
}

/// The målopfyldelse report's computed value of an indicator, read from its CSV export.
async fn report_value(r: &TestRelay, indicator: &str, day: &str) -> Option<String> {
    let csv = web_page(
        r,
        "central",
        &format!(
            "/rapporter/maalopfyldelse?aktivitet=act-lektiecafe&fra={day}&til={day}&eksport=csv&tabel=indikatorer"
        ),
    )
    .await;
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{indicator};")))?;
    row.rsplit(';').next().map(str::to_owned)
}

/// Issue 12 item 11: library indicators beyond attendance are computed from the records (here
/// the area's outreach contacts), and one Nabo cannot compute says it is entered by hand.
#[tokio::test(flavor = "multi_thread")]
async fn the_goal_report_computes_outreach_indicators_and_names_those_entered_by_hand() {
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    // Central staff add two library indicators to the café's change theory.
    for (step, code) in [("5", "outreach.contacts"), ("6", "housing.evictions")] {
        web_post(
            &r,
            "/administration/forandringsteori",
            &[
                ("aktivitet", "act-lektiecafe"),
                ("led", "short-term"),
                ("trin", step),
                ("tekst", "Flere unge i kontakt med en medarbejder"),
                ("indikator", code),
            ],
        )
        .await;
    }
    let day = today();
    let before = report_value(&r, "Opsøgende kontakter", &day)
        .await
        .expect("the indicator is on the report");
    let n = |s: &str| {
        s.replace(',', ".")
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("{s}"))
    };

    // Two quick contacts in the café's area from the outreach worker's phone.
    let dir = tempfile::tempdir().unwrap();
    let ali = open(&r, dir.path(), 22).await;
    ali.login("outreach1".into(), PASSWORD.into())
        .await
        .unwrap();
    ali.sync_now().await.unwrap();
    for count in [3, 1] {
        ali.log_contact(ContactInput {
            area_id: "a-vestparken".into(),
            location: "legeplads".into(),
            kind: "uformelt-moede".into(),
            count,
            age_band: "15-17".into(),
            topics: vec!["fritid".into()],
            outcomes: vec![],
            followup: None,
            participant_id: None,
            concern_reported_on: None,
            concern_to: None,
            note: None,
        })
        .await
        .unwrap();
    }
    ali.sync_now().await.unwrap();
    let after = report_value(&r, "Opsøgende kontakter", &day).await.unwrap();
    assert_eq!(n(&after) - n(&before), 2.0, "{before} → {after}");
    // Evictions come from the housing organisation: entered by hand, and said so.
    let evictions = report_value(&r, "Udsættelser", &day).await.unwrap();
    assert_eq!(evictions, "indtastes");
}

/// Issue 11 item 6 (ADR 0031): the tenant allows 7 days without contact. A phone offline for
/// 6 days still shows names; after 8 it hides every name and deletes the keys the relay holds,
/// keeping (hidden) the key of a child it added offline; syncing again brings the names back
/// and hands that key over. A revoked phone wipes itself and the office sees that it did.
#[tokio::test(flavor = "multi_thread")]
async fn a_phone_out_of_contact_too_long_hides_names_until_it_syncs_and_reports_its_wipe() {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    let mut r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let mut form: Vec<(String, String)> = nabo_core::retention::RecordKind::ALL
        .iter()
        .flat_map(|k| {
            let c = nabo_core::retention::RetentionSettings::default().class(*k);
            [
                (format!("frist-{}", k.code()), c.months.to_string()),
                (format!("derefter-{}", k.code()), c.then.code().to_owned()),
            ]
        })
        .collect();
    form.push(("max-offline-dage".into(), "7".into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    web_post(&r, "/administration/databeskyttelse", &form).await;

    // The phone runs on a clock of its own; the relay on the system's.
    let start = nabo_core::time::Timestamp::now();
    let clock = nabo_core::time::Clock::starting_at(start);
    let dir = tempfile::tempdir().unwrap();
    let maja = NaboClient::open_with_clock(
        dir.path().display().to_string(),
        r.http(),
        vec![31; 32],
        clock.clone(),
    )
    .await
    .unwrap();
    let me = maja
        .enrol(
            enrolment_code(&r, "u-volunteer1").await,
            "Majas telefon".into(),
        )
        .await
        .unwrap();
    maja.sync_now().await.unwrap();
    let session = maja
        .add_session(
            "act-lektiecafe".into(),
            maja.today(),
            "15:00".into(),
            "17:00".into(),
            Some("Ekstra lektiecafé".into()),
        )
        .await
        .unwrap();
    let named =
        |c: &nabo_bindings::api::RollCall| c.entries.iter().filter(|e| e.label.is_some()).count();
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert!(named(&call) >= 15 && !call.names_hidden, "{call:?}");
    let synced_child = call.entries[0].participant_id.clone();

    // Offline for six days: still within the tenant's seven.
    r.stop().await;
    clock.set(nabo_core::time::Timestamp(start.0 + 6 * DAY));
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert!(named(&call) >= 15 && !call.names_hidden);
    let zainab = maja
        .add_child(session.id.clone(), Some("Zainab".into()), "7-9".into())
        .await
        .unwrap();

    // Eight days: every name hidden, the relay's keys gone from the phone, Zainab's kept.
    clock.set(nabo_core::time::Timestamp(start.0 + 8 * DAY));
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert!(call.names_hidden);
    assert_eq!(named(&call), 0, "no name shown: {call:?}");
    assert!(maja.sync_status().await.unwrap().names_hidden);
    drop(maja);
    assert!(!has_key(dir.path(), 31, &synced_child).await);
    assert!(
        has_key(dir.path(), 31, &zainab).await,
        "a key only this phone holds is kept (hidden)"
    );

    // Back in contact: the names return, and Zainab's key reaches the relay.
    r.restart(Limits::default()).await.unwrap();
    let maja = NaboClient::open_with_clock(
        dir.path().display().to_string(),
        r.http(),
        vec![31; 32],
        clock.clone(),
    )
    .await
    .unwrap();
    maja.sync_now().await.unwrap();
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    assert!(!call.names_hidden);
    assert_eq!(label_of(&call, &zainab).as_deref(), Some("Zainab"));
    assert!(label_of(&call, &synced_child).is_some());
    let page = web_page(&r, "central", "/personer/u-volunteer1").await;
    assert!(page.contains("Sidst i kontakt"), "{page}");

    // Revoked: the next contact wipes the phone, and the relay records that it did.
    let device = me.device_id.unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/devices/{device}/revoke", r.http()))
        .bearer_auth(central_token(&r).await)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert!(
        !web_page(&r, "central", "/personer/u-volunteer1")
            .await
            .contains("data slettet på telefonen")
    );
    assert!(matches!(maja.sync_now().await, Err(NaboError::Revoked)));
    let row = r.storage().device(&device).await.unwrap().unwrap();
    assert!(row.revoked && row.wiped.is_some(), "{row:?}");
    let page = web_page(&r, "central", "/personer/u-volunteer1").await;
    assert!(page.contains("data slettet på telefonen"), "{page}");
}

/// Stories 16 and 17 (ADR 0030). Hanne, a resident volunteer who is a health ambassador
/// and cooks in the food club, logs a round of doorstep conversations by topic and a food
/// club evening on her phone without a connection; too many first-timers are refused on the
/// phone naming the field. After the sync the office's page and the overview count them.
/// Her phone holds her two activities' resident logs and no outreach log; the phone refuses
/// her an outreach contact, and the relay answers her request for a worker's outreach log as
/// if it did not exist.
#[tokio::test(flavor = "multi_thread")]
async fn an_ambassador_logs_offline_the_office_counts_it_and_outreach_logs_stay_closed_to_her() {
    use nabo_bindings::api::{FoodClubInput, RoundInput, TopicCount};
    let mut r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hanne = open(&r, dir.path(), 41).await;
    let me = hanne
        .enrol(
            enrolment_code(&r, "u-volunteer6").await,
            "Hannes telefon".into(),
        )
        .await
        .unwrap();
    assert_eq!(me.role, "volunteer");
    hanne.sync_now().await.unwrap();
    let acts = hanne.my_activities().await.unwrap();
    assert_eq!(
        acts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["act-madklub", "act-sundhedsambassadoerer"],
        "her phone holds her own activities only"
    );
    assert!(
        hanne
            .vocabulary("ambassador-topics".into())
            .unwrap()
            .iter()
            .any(|t| t.code == "sundhed" && t.label == "Sundhed")
    );
    let before = hanne
        .resident_log("act-sundhedsambassadoerer".into())
        .await
        .unwrap();

    // Offline.
    r.stop().await;
    let day = today();
    let round = hanne
        .log_round(RoundInput {
            activity_id: "act-sundhedsambassadoerer".into(),
            date: day.clone(),
            area_id: None,
            conversations: vec![
                TopicCount {
                    topic: "sundhed".into(),
                    count: 17,
                },
                TopicCount {
                    topic: "energi-vand".into(),
                    count: 5,
                },
            ],
        })
        .await
        .unwrap();
    assert!(round.contains('/'));
    let club = |came, first_timers| FoodClubInput {
        activity_id: "act-madklub".into(),
        date: day.clone(),
        area_id: None,
        came,
        first_timers,
    };
    match hanne.log_food_club(club(23, 24)).await {
        Err(NaboError::Invalid { field, reason, .. }) => {
            assert_eq!(
                (field.as_str(), reason.as_str()),
                ("first_timers", "out-of-range")
            );
        }
        other => panic!("{other:?}"),
    }
    match hanne
        .log_round(RoundInput {
            activity_id: "act-sundhedsambassadoerer".into(),
            date: day.clone(),
            area_id: None,
            conversations: vec![TopicCount {
                topic: "misbrug".into(),
                count: 1,
            }],
        })
        .await
    {
        Err(NaboError::Invalid { field, reason, .. }) => {
            assert_eq!(
                (field.as_str(), reason.as_str()),
                ("conversations", "unknown-code")
            );
        }
        other => panic!("{other:?}"),
    }
    hanne.log_food_club(club(23, 7)).await.unwrap();
    // Not her activity: it is not on her phone.
    assert!(matches!(
        hanne
            .log_food_club(FoodClubInput {
                activity_id: "act-lektiecafe".into(),
                ..club(5, 1)
            })
            .await,
        Err(NaboError::NotFound { .. })
    ));
    let after = hanne
        .resident_log("act-sundhedsambassadoerer".into())
        .await
        .unwrap();
    assert_eq!(after.conversations, before.conversations + 22);
    assert_eq!(after.rounds.len(), before.rounds.len() + 1);

    // Back online: everything reaches the relay.
    r.restart(Limits::default()).await.unwrap();
    hanne.sync_now().await.unwrap();
    assert_eq!(hanne.sync_status().await.unwrap().pending_changes, 0);

    let page = web_page(&r, "central", &format!("/beboerdrevet?fra={day}&til={day}")).await;
    assert!(page.contains("Beboerdrevne aktiviteter"), "{page}");
    assert!(page.contains("Sundhedsambassadører i Solbakken"));
    assert!(page.contains("Energi- og vandbesparelse: 5"), "{page}");
    assert!(page.contains("Hanne Larsen"), "who logged it");
    let csv = web_page(
        &r,
        "central",
        &format!("/beboerdrevet?eksport=csv&tabel=beboerdrevet&fra={day}&til={day}"),
    )
    .await;
    assert!(
        csv.lines()
            .any(|l| l.starts_with("Sundhedsambassadører i Solbakken;")
                && l.ends_with(";1;22;0;0;0")),
        "the round's 22 conversations: {csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("Madklubben i Beboerhuset;") && l.ends_with(";0;0;1;23;7")),
        "the evening's 23 with 7 first-timers: {csv}"
    );
    let overview = web_page(&r, "central", &format!("/oversigt?fra={day}&til={day}")).await;
    let reach = overview
        .split("Beboerdrevne aktiviteter")
        .nth(1)
        .expect("the overview counts the reach of resident-run activities")
        .split("</table>")
        .next()
        .unwrap()
        .to_owned();
    for n in ["22", "23", "7"] {
        assert!(reach.contains(&format!(">{n}<")), "{n} in {reach}");
    }

    // The ambassador and the staff's outreach logs.
    match hanne
        .log_contact(ContactInput {
            area_id: "a-vestparken".into(),
            location: "opgang".into(),
            kind: "uformelt-moede".into(),
            count: 1,
            age_band: "25-64".into(),
            topics: vec!["sundhed".into()],
            outcomes: vec![],
            followup: None,
            participant_id: None,
            concern_reported_on: None,
            concern_to: None,
            note: None,
        })
        .await
    {
        Err(NaboError::Forbidden { detail }) => {
            assert!(detail.contains("outreach log"), "{detail}");
            println!("refused on the phone: {detail}");
        }
        other => panic!("an ambassador keeps no outreach log: {other:?}"),
    }
    let ali_log = nabo_core::document::Scope::Outreach {
        tenant: "vestbyen".parse().unwrap(),
        worker: "s-ali".parse().unwrap(),
        area: "a-vestparken".parse().unwrap(),
        quarter: nabo_core::time::Quarter::of(nabo_core::time::Timestamp::now().date_dk()),
    }
    .document_id();
    let token = nabo_core::client::login(&r.http(), "volunteer6", PASSWORD)
        .await
        .unwrap()
        .access_token;
    let mut c = nabo_core::client::Client::connect(&r.ws(), &token, None)
        .await
        .unwrap();
    let mut doc = automerge::Automerge::new();
    let end = c
        .sync(ali_log, &mut doc, &mut automerge::sync::State::new(), true)
        .await
        .unwrap();
    println!("the relay on the ambassador's request for an outreach log: {end:?}");
    assert_eq!(end, nabo_core::client::SyncEnd::Unavailable);
    let store = Store::open_encrypted(&dir.path().join("nabo.sqlite"), &[41u8; 32])
        .await
        .unwrap();
    let kinds: Vec<DocKind> = store.list().await.unwrap().iter().map(|d| d.kind).collect();
    assert!(
        kinds.contains(&DocKind::ResidentLog) && !kinds.contains(&DocKind::Outreach),
        "her phone holds resident logs and no outreach log: {kinds:?}"
    );
    store.close().await;
}

/// A phone's [`nabo_bindings::http::Net`] that dials the relay's TCP address whatever host it
/// is asked for, counts its connections and can be cut off.
#[derive(Debug)]
struct CountingNet {
    relay: std::net::SocketAddr,
    dials: std::sync::atomic::AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl nabo_bindings::http::Net for CountingNet {
    fn connect<'a>(&'a self, host: &'a str, _port: u16) -> nabo_bindings::http::Connecting<'a> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err(std::io::ErrorKind::ConnectionRefused.into());
            }
            assert_eq!(
                host, "relay.sim",
                "the phone dials the host of its relay URL"
            );
            self.dials.fetch_add(1, Ordering::SeqCst);
            let s = tokio::net::TcpStream::connect(self.relay).await?;
            Ok(Box::new(s) as Box<dyn nabo_bindings::http::Io>)
        })
    }
}

/// A phone opened with a `Net` (the deterministic simulation's seam, docs/plans/simulation.md)
/// reaches the relay only through it: sign-in, HTTP and the sync WebSocket go over the
/// streams it opens (HTTP/1.1 by hyper, not the app's reqwest client), a roll call taken on
/// it reaches another phone, and with the `Net` down the phone is offline: there is no other
/// way out. The phone's relay URL names a host that does not resolve (`relay.sim`), so any
/// request or socket that went around the `Net` would fail the test. The transport does not
/// depend on the relay's database, so SQLite only.
#[tokio::test(flavor = "multi_thread")]
async fn a_phone_reaches_the_relay_only_through_the_net_it_is_given() {
    use std::sync::atomic::Ordering;
    let r = TestRelay::start(Backend::Sqlite, Limits::default())
        .await
        .unwrap();
    r.seed_demo(PASSWORD).await.unwrap();
    let net = Arc::new(CountingNet {
        relay: r.relay().addr,
        dials: Default::default(),
        down: Default::default(),
    });
    let dir = tempfile::tempdir().unwrap();
    let maja = NaboClient::open_with_net(
        dir.path().display().to_string(),
        "http://relay.sim:80".into(),
        vec![3; 32],
        nabo_core::time::Clock::system(),
        net.clone(),
    )
    .await
    .unwrap();
    let code = enrolment_code(&r, "u-volunteer1").await;
    maja.enrol(code, "Majas telefon".into()).await.unwrap();
    let signed_in = net.dials.load(Ordering::SeqCst);
    assert!(
        signed_in >= 2,
        "enrolment and /me went over the net: {signed_in}"
    );
    maja.sync_now().await.unwrap();
    assert!(
        net.dials.load(Ordering::SeqCst) > signed_in,
        "the sync did too"
    );

    let session = lektiecafe_today(&maja).await;
    let call = maja.roll_call(session.id.clone()).await.unwrap();
    let first = call.entries[0].participant_id.clone();
    let second = call.entries[1].participant_id.clone();
    maja.mark(session.id.clone(), first.clone(), Mark::Present)
        .await
        .unwrap();
    maja.sync_now().await.unwrap();

    // Cut off: the phone is offline, and its mark waits.
    net.down.store(true, Ordering::SeqCst);
    maja.mark(session.id.clone(), second.clone(), Mark::Absent)
        .await
        .unwrap();
    assert!(matches!(
        maja.sync_now().await,
        Err(NaboError::Offline { .. })
    ));
    net.down.store(false, Ordering::SeqCst);
    maja.sync_now().await.unwrap();

    // Another phone (the app's own client) sees both marks.
    let office_dir = tempfile::tempdir().unwrap();
    let office = enrolled_phone(&r, office_dir.path(), 4, "u-central").await;
    let seen = office.roll_call(session.id.clone()).await.unwrap();
    let mark_of = |p: &str| {
        seen.entries
            .iter()
            .find(|e| e.participant_id == p)
            .and_then(|e| e.mark)
    };
    assert_eq!(mark_of(&first), Some(Mark::Present));
    assert_eq!(mark_of(&second), Some(Mark::Absent));
}
