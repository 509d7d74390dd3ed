//! Access control per document: every role × document kind × read/write, table-driven; what
//! a caller may not see looks exactly like what does not exist; access changes and
//! revocation take effect on live connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use automerge::ActorId;
use common::*;
use nabo_core::client::{self, Client, SyncEnd};
use nabo_core::docs::tenant::{Settings, TenantDoc};
use nabo_core::document::DocumentId;
use nabo_core::prelude::*;
use nabo_core::wire::WireMessage;
use nabo_server::storage::{Scopes, UserRow};
use nabo_server::testing::{Backend, TestRelay};

/// The documents of the table, found by kind and title.
const DOCS: &[(&str, &str, &str)] = &[
    ("tenant", "tenant", "Organisation"),
    ("staff", "staff", "Medarbejdere"),
    ("volunteers", "volunteers", "Frivillige"),
    ("act-cafe", "activity", "Lektiecaféen"),
    ("act-street", "activity", "Gadeplansarbejde"),
    ("register", "register", "Lektiecaféen"),
    ("log-ali", "outreach", "#ali"),
    ("log-camilla", "outreach", "#camilla"),
    ("network", "network", "Tryghedsnetværk"),
    ("other-tenant", "tenant", "#other"),
];

/// Expected access: W write, R read, - none. Columns in the order of DOCS.
const TABLE: &[(&str, &str)] = &[
    ("central", "W W W W W W W W W -"),
    ("outreach1", "R - - R W W W - W -"),
    ("outreach2", "R - - - - - - W - -"),
    ("volunteer1", "R - - R - W - - - -"),
    ("board", "R - - - - - - - - -"),
    ("nordby", "- - - - - - - - - W"),
];

async fn add_users_and_other_tenant(r: &TestRelay) -> DocumentId {
    let hash = nabo_server::auth::hash_password(PASSWORD).unwrap();
    let row = |id: &str, tenant: &str, username: &str, role: AppRole| UserRow {
        id: id.into(),
        tenant: tenant.parse().unwrap(),
        username: username.into(),
        display_name: username.into(),
        password_hash: Some(hash.clone()),
        role,
        staff_id: None,
        volunteer_id: None,
        disabled: false,
    };
    let s = r.storage();
    s.insert_user(
        &row("u-board-test", "vestbyen", "board", AppRole::Board),
        &Scopes::default(),
    )
    .await
    .unwrap();
    s.insert_user(
        &row("u-nordby", "nordby", "nordby", AppRole::Central),
        &Scopes::default(),
    )
    .await
    .unwrap();
    let author = Author {
        by: By::System,
        at: Timestamp::now(),
    };
    let t = TenantDoc::create(
        "nordby".parse().unwrap(),
        ActorId::random(),
        &author,
        Settings {
            name: "Nordby".into(),
            ..Settings::default()
        },
    )
    .unwrap();
    let meta = nabo_server::meta::derive(t.doc(), s.as_ref())
        .await
        .unwrap();
    s.create_document(&meta, &t.doc().save()).await.unwrap();
    meta.id
}

async fn ids(r: &TestRelay, other: DocumentId) -> Vec<DocumentId> {
    let log_of = |worker: &str| Scope::Outreach {
        tenant: "vestbyen".parse().unwrap(),
        worker: worker.parse().unwrap(),
        area: if worker == "s-ali" {
            "a-vestparken"
        } else {
            "a-solbakken"
        }
        .parse()
        .unwrap(),
        quarter: Quarter::of(Timestamp::now().date_dk()),
    };
    let mut out = Vec::new();
    for (name, kind, title) in DOCS {
        out.push(match *name {
            "log-ali" => log_of("s-ali").document_id(),
            "log-camilla" => log_of("s-camilla").document_id(),
            "other-tenant" => other,
            _ => doc_id(r, kind, title).await,
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_and_document_kind_reads_and_writes_as_the_table_says() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let other = add_users_and_other_tenant(&r).await;
        let ids = ids(&r, other).await;
        for (user, row) in TABLE {
            let expected: Vec<&str> = row.split(' ').collect();
            let t = token(&r, user).await;
            let listed = client::documents(&r.http(), &t).await.unwrap();
            let mut c = Client::connect(&r.ws(), &t, Some(&format!("s-{user}")))
                .await
                .unwrap();
            for (i, id) in ids.iter().enumerate() {
                let cell = format!("{backend:?} {user} × {}", DOCS[i].0);
                let want = expected[i];
                // 1. The document list.
                let entry = listed.iter().find(|d| d["url"] == id.url());
                match want {
                    "-" => assert!(entry.is_none(), "{cell}: listed"),
                    "R" => assert_eq!(
                        entry.map(|e| e["access"].clone()),
                        Some("read".into()),
                        "{cell}"
                    ),
                    _ => assert_eq!(
                        entry.map(|e| e["access"].clone()),
                        Some("write".into()),
                        "{cell}"
                    ),
                }
                // 2. Reading over the protocol.
                let (end, mut doc, mut state) = fetch(&mut c, *id).await;
                if want == "-" {
                    assert_eq!(
                        end,
                        SyncEnd::Unavailable,
                        "{cell}: an invisible document answers like a missing one"
                    );
                    continue;
                }
                assert_eq!(end, SyncEnd::Synced, "{cell}");
                // 3. Writing.
                let mark = format!("written by {user}");
                let written = scribble(&mut doc, &mark);
                let end = c.sync(*id, &mut doc, &mut state, false).await.unwrap();
                if want == "W" {
                    assert_eq!(end, SyncEnd::Synced, "{cell}");
                } else {
                    // A reader's write is refused by name, not dropped silently (ADR 0013 §7).
                    assert!(
                        matches!(&end, SyncEnd::Error(e) if e.starts_with("refused: ")
                            && e.contains("not-permitted (the sender may only read this document)")),
                        "{cell}: {end:?}"
                    );
                }
                let stored_doc = stored(&r, *id).await;
                assert_eq!(
                    scribbled(&stored_doc, &written),
                    want == "W",
                    "{cell}: stored write"
                );
            }
        }
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_changes_and_revocation_reach_live_connections() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let reg = doc_id(&r, "register", "Lektiecaféen").await;
        let central = token(&r, "central").await;
        let mut maja = connect(&r, "volunteer1").await;
        assert_eq!(fetch(&mut maja, reg).await.0, SyncEnd::Synced);

        // Central staff take the café out of Maja's scope: the open register goes away.
        let http = reqwest::Client::new();
        let res = http
            .put(format!("{}/api/v1/users/u-volunteer1/scopes", r.http()))
            .bearer_auth(&central)
            .json(&serde_json::json!({"activities": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        let got = maja.recv(Duration::from_secs(5)).await;
        assert!(
            matches!(got, Some(WireMessage::DocUnavailable { ref document_id, .. }) if *document_id == reg.to_string()),
            "{backend:?}: {got:?}"
        );
        assert_eq!(fetch(&mut maja, reg).await.0, SyncEnd::Unavailable);
        // And back.
        http.put(format!("{}/api/v1/users/u-volunteer1/scopes", r.http()))
            .bearer_auth(&central)
            .json(&serde_json::json!({"activities": ["act-lektiecafe"]}))
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(fetch(&mut maja, reg).await.0, SyncEnd::Synced);

        // Revoking the user closes the connection at once and ends every token.
        let t = token(&r, "volunteer1").await;
        let res = http
            .post(format!("{}/api/v1/users/u-volunteer1/revoke", r.http()))
            .bearer_auth(&central)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        let (code, reason) = maja.closed(Duration::from_secs(5)).await;
        assert_eq!(code, Some(4003));
        assert_eq!(reason.as_deref(), Some("access revoked"));
        let me = http
            .get(format!("{}/api/v1/me", r.http()))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 401);
        assert!(
            client::login(&r.http(), "volunteer1", PASSWORD)
                .await
                .is_err()
        );

        // Only central staff manage access.
        let ali = token(&r, "outreach1").await;
        let res = http
            .put(format!("{}/api/v1/users/u-volunteer2/scopes", r.http()))
            .bearer_auth(&ali)
            .json(&serde_json::json!({"activities": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        r.running.unwrap().shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_creates_next_terms_register_but_not_what_it_may_not_write() {
    for backend in Backend::all() {
        let r = relay(backend).await;
        let cat = Catalogue::builtin().unwrap();
        let mut maja = connect(&r, "volunteer1").await;
        let act_id = doc_id(&r, "activity", "Lektiecaféen").await;
        let (act, _) = fetch_nabo(&mut maja, act_id).await;
        let act = ActivityDoc::from_doc(act).unwrap();
        let snap = act.snapshot().unwrap();
        let ctx = RegisterContext {
            catalogue: cat,
            activity: &snap,
            certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
        };
        let term = nabo_core::time::Term::of(Timestamp::now().date_dk());
        let next = if term.half == 1 {
            nabo_core::time::Term {
                year: term.year,
                half: 2,
            }
        } else {
            nabo_core::time::Term {
                year: term.year + 1,
                half: 1,
            }
        };
        let me = Author {
            by: By::Volunteer("v-1".parse().unwrap()),
            at: Timestamp::now(),
        };
        let mut reg = RegisterDoc::create(
            "vestbyen".parse().unwrap(),
            "act-lektiecafe".parse().unwrap(),
            next,
            ActorId::random(),
            &me,
            ctx,
        )
        .unwrap();
        let id = reg.doc().id();
        let mut state = automerge::sync::State::new();
        let end = maja
            .sync(id, reg.doc_mut().automerge_mut(), &mut state, false)
            .await
            .unwrap();
        assert_eq!(end, SyncEnd::Synced, "{backend:?}");
        let meta = r.storage().document(id).await.unwrap().expect("stored");
        assert!(
            meta.title.starts_with("Fremmøde: Lektiecaféen"),
            "{}",
            meta.title
        );
        // A second phone that created the same register offline merges into it.
        let mut jonas = connect(&r, "volunteer2").await;
        let me2 = Author {
            by: By::Volunteer("v-2".parse().unwrap()),
            at: Timestamp::now(),
        };
        let mut reg2 = RegisterDoc::create(
            "vestbyen".parse().unwrap(),
            "act-lektiecafe".parse().unwrap(),
            next,
            ActorId::random(),
            &me2,
            ctx,
        )
        .unwrap();
        let p = reg2
            .add_participant(
                &me2,
                ctx,
                next.first_day(),
                NewParticipant {
                    age_band: "10-12".into(),
                    gender: None,
                    resident: None,
                    label: None,
                    recruitment: None,
                },
            )
            .unwrap();
        let mut st2 = automerge::sync::State::new();
        assert_eq!(
            jonas
                .sync(id, reg2.doc_mut().automerge_mut(), &mut st2, false)
                .await
                .unwrap(),
            SyncEnd::Synced
        );
        let merged = RegisterDoc::from_doc(
            NaboDoc::from_automerge(stored(&r, id).await, ActorId::random()).unwrap(),
        )
        .unwrap();
        assert!(merged.view().unwrap().participants.contains_key(&p));

        // A volunteer may not create an activity: the relay answers doc-unavailable and
        // stores nothing.
        let before = r
            .storage()
            .documents(&"vestbyen".parse().unwrap())
            .await
            .unwrap()
            .len();
        let input = NewActivity::new(
            "Hemmelig aktivitet",
            "p-helhedsplan".parse().unwrap(),
            "a-vestparken".parse().unwrap(),
            "lbf-2006-2010",
            "SL.fester",
        );
        let mut a = ActivityDoc::create(
            "vestbyen".parse().unwrap(),
            ActivityId::random(),
            ActorId::random(),
            &me,
            cat,
            input,
        )
        .unwrap();
        let aid = DocumentId::random();
        let mut st = automerge::sync::State::new();
        assert_eq!(
            maja.sync(aid, a.doc_mut().automerge_mut(), &mut st, false)
                .await
                .unwrap(),
            SyncEnd::Unavailable
        );
        // Nor a register of another tenant, or under a id that does not match its scope.
        let mut fake = RegisterDoc::create(
            "vestbyen".parse().unwrap(),
            "act-gadeplan".parse().unwrap(),
            next,
            ActorId::random(),
            &me,
            ctx,
        )
        .unwrap();
        let mut st = automerge::sync::State::new();
        assert_eq!(
            maja.sync(
                fake.doc().id(),
                fake.doc_mut().automerge_mut(),
                &mut st,
                false
            )
            .await
            .unwrap(),
            SyncEnd::Unavailable
        );
        let mut st = automerge::sync::State::new();
        assert_eq!(
            maja.sync(
                DocumentId::random(),
                fake.doc_mut().automerge_mut(),
                &mut st,
                false
            )
            .await
            .unwrap(),
            SyncEnd::Unavailable
        );
        assert_eq!(
            r.storage()
                .documents(&"vestbyen".parse().unwrap())
                .await
                .unwrap()
                .len(),
            before
        );
        r.running.unwrap().shutdown().await;
    }
}
