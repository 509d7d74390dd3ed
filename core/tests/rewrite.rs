//! The document-rewrite path of erasure (issue 11): the relay makes a new document from the
//! current state of an old one with a history of one change ([`NaboDoc::rewritten`]), and a
//! phone that still holds the old document carries its late edits over to the new one
//! ([`rules::carry_over`]) without bringing the old history back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use automerge::transaction::Transactable;
use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use common::*;
use nabo_core::docs::register::RegisterDoc;
use nabo_core::prelude::*;
use nabo_core::rules::{self, Context, Editor};
use serde_json::{Value as Json, json};

fn volunteer_editor(id: &VolunteerId) -> Editor {
    Editor {
        role: AppRole::Volunteer,
        staff: None,
        volunteer: Some(id.clone()),
    }
}

fn ctx(fx: &Fixture) -> Context<'_> {
    Context {
        catalogue: fx.cat,
        free_text_notes: false,
        shifts: None,
    }
}

/// The state of a document with every type spelled out (a counter is not an integer, a
/// text is not a string), the shown value of each key.
fn state(am: &Automerge) -> Json {
    object(am, &ROOT, ObjType::Map)
}

fn object(am: &Automerge, obj: &ObjId, t: ObjType) -> Json {
    match t {
        ObjType::Map | ObjType::Table => {
            let mut m = serde_json::Map::new();
            for k in am.keys(obj) {
                let (v, id) = am.get(obj, k.as_str()).unwrap().unwrap();
                m.insert(k, value(am, v, &id));
            }
            if t == ObjType::Table {
                json!({ "table": m })
            } else {
                Json::Object(m)
            }
        }
        ObjType::List => Json::Array(
            (0..am.length(obj))
                .map(|i| {
                    let (v, id) = am.get(obj, i).unwrap().unwrap();
                    value(am, v, &id)
                })
                .collect(),
        ),
        ObjType::Text => json!({ "text": am.text(obj).unwrap() }),
    }
}

fn value(am: &Automerge, v: Value<'_>, id: &ObjId) -> Json {
    match v {
        Value::Object(t) => object(am, id, t),
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => json!(s.to_string()),
            ScalarValue::Int(i) => json!({ "int": i }),
            ScalarValue::Uint(u) => json!({ "uint": u }),
            ScalarValue::F64(f) => json!({ "f64": f }),
            ScalarValue::Counter(c) => json!({ "counter": i64::from(c) }),
            ScalarValue::Timestamp(t) => json!({ "timestamp": t }),
            ScalarValue::Boolean(b) => json!(b),
            ScalarValue::Bytes(b) => json!({ "bytes": b }),
            ScalarValue::Null => Json::Null,
            ScalarValue::Unknown { type_code, bytes } => {
                json!({ "unknown": type_code, "bytes": bytes })
            }
        },
    }
}

fn hashes(am: &Automerge) -> HashSet<ChangeHash> {
    am.get_changes(&[]).iter().map(|c| c.hash()).collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn register(doc: NaboDoc) -> RegisterDoc {
    RegisterDoc::from_doc(doc).unwrap()
}

/// A register with a history: children added, one label erased, marks set, overwritten and
/// cleared, a session cancelled, a one-off session whose title named a person and was
/// corrected.
fn busy_register(fx: &mut Fixture) -> (SessionId, Vec<ParticipantId>) {
    let central = fx.central.clone();
    let by = Author {
        by: By::Volunteer(fx.vol_ok.clone()),
        at: at("2026-11-17", "15:10"),
    };
    let session = fx.session_on(&fx.register, "2026-11-17");
    let other = fx.session_on(&fx.register, "2026-11-19");
    let mut kids = Vec::new();
    for band in ["7-9", "10-12", "13-14"] {
        let id = ParticipantId::random();
        let label = fx.sealed_label(&id, "Aisha");
        let ctx = RegisterContext {
            catalogue: fx.cat,
            activity: &fx.snapshot,
            certificates: &fx.certificates,
        };
        fx.register
            .add_participant_with_id(
                &by,
                ctx,
                date("2026-11-17"),
                id.clone(),
                Fixture::child(band, Some(label)),
            )
            .unwrap();
        kids.push(id);
    }
    let ctx = RegisterContext {
        catalogue: fx.cat,
        activity: &fx.snapshot,
        certificates: &fx.certificates,
    };
    let reg = &mut fx.register;
    reg.mark(&by, ctx, &session, &kids[0], AttendanceStatus::Absent)
        .unwrap();
    reg.mark(&by, ctx, &session, &kids[0], AttendanceStatus::Present)
        .unwrap();
    reg.mark(&by, ctx, &session, &kids[1], AttendanceStatus::Present)
        .unwrap();
    reg.mark(&by, ctx, &session, &kids[2], AttendanceStatus::Present)
        .unwrap();
    reg.clear_mark(&by, &session, &kids[2]).unwrap();
    reg.update_participant(&by, ctx, &kids[1], |p| p.resident = Some(false))
        .unwrap();
    reg.set_cancelled(&central, &other, true).unwrap();
    let party = reg
        .add_session(
            &central,
            NewSession {
                date: date("2026-12-18"),
                start: Time::hm(17, 0).unwrap(),
                end: Time::hm(20, 0).unwrap(),
                venue: None,
                title: Some("Juleafslutning hos Birthe Mikkelsen".into()),
            },
        )
        .unwrap();
    reg.change_session(&central, &party, |s| {
        s.title = Some("Juleafslutning".into())
    })
    .unwrap();
    let erased: std::collections::BTreeSet<_> = [kids[2].clone()].into();
    reg.erase_participants(&central, &erased, date("2026-12-01"))
        .unwrap();
    (session, kids)
}

#[test]
fn a_rewritten_register_holds_the_same_state_in_one_fresh_change() {
    let mut fx = Fixture::lektiecafe();
    busy_register(&mut fx);
    let old = fx.register.doc();
    let new = old.rewritten(ActorId::random(), 1_790_000_000_000).unwrap();

    assert_eq!(new.kind(), old.kind());
    assert_eq!(new.scope(), old.scope());
    assert_eq!(new.schema(), old.schema());
    assert_eq!(state(new.automerge()), state(old.automerge()));
    // Automerge's own JSON view of the documents agrees too.
    assert_eq!(
        serde_json::to_value(automerge::AutoSerde::from(new.automerge())).unwrap(),
        serde_json::to_value(automerge::AutoSerde::from(old.automerge())).unwrap()
    );
    // And the register reads the same.
    let old_view = fx.register.view().unwrap();
    let new_reg = register(new.clone());
    assert_eq!(new_reg.view().unwrap(), old_view);

    let changes = new.automerge().get_changes(&[]);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].message(), Some("rewritten"));
    assert_eq!(changes[0].timestamp(), 1_790_000_000_000);
    assert!(hashes(new.automerge()).is_disjoint(&hashes(old.automerge())));

    // The name once in the party's title is in the old document's bytes, not in the new.
    // (Searched in uncompressed saves: `save` deflates larger columns, which hides it from
    // a byte search in the old document too.)
    let name = "Birthe Mikkelsen";
    assert!(contains(&old.automerge().save_nocompress(), name));
    assert!(!contains(&new.automerge().save_nocompress(), name));
    assert!(!contains(&new.save(), name));
    // Nor is the overwritten mark: the new document holds no `absent` at all.
    assert!(contains(&old.automerge().save_nocompress(), "absent"));
    assert!(!contains(&new.automerge().save_nocompress(), "absent"));
    // The bytes load back as the same document.
    let loaded = NaboDoc::load(&new.save(), ActorId::random()).unwrap();
    assert_eq!(state(loaded.automerge()), state(old.automerge()));
}

#[test]
fn a_rewrite_copies_every_kind_of_value_and_only_the_winning_one() {
    let fx = Fixture::lektiecafe();
    let mut doc = fx.register.doc().clone();
    let info = doc.automerge().get(ROOT, "info").unwrap().unwrap().1;
    {
        let mut tx = doc.automerge_mut().transaction();
        tx.put(&info, "str", "tekst").unwrap();
        tx.put(&info, "int", -7_i64).unwrap();
        tx.put(&info, "uint", 7_u64).unwrap();
        tx.put(&info, "f64", 1.5_f64).unwrap();
        tx.put(&info, "bool", true).unwrap();
        tx.put(&info, "null", ScalarValue::Null).unwrap();
        tx.put(&info, "at", ScalarValue::Timestamp(1_700_000_000_000))
            .unwrap();
        tx.put(&info, "bytes", ScalarValue::Bytes(vec![0, 1, 254]))
            .unwrap();
        tx.put(&info, "counter", ScalarValue::counter(3)).unwrap();
        let text = tx.put_object(&info, "text", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, "hej verden").unwrap();
        tx.put_object(&info, "empty_text", ObjType::Text).unwrap();
        // Automerge 0.12 makes tables but writes nothing into them.
        tx.put_object(&info, "table", ObjType::Table).unwrap();
        let list = tx.put_object(&info, "list", ObjType::List).unwrap();
        tx.insert(&list, 0, "a").unwrap();
        let inner = tx.insert_object(&list, 1, ObjType::Map).unwrap();
        let deep = tx.put_object(&inner, "deep", ObjType::List).unwrap();
        let t = tx.insert_object(&deep, 0, ObjType::Text).unwrap();
        tx.splice_text(&t, 0, 0, "dybt").unwrap();
        tx.insert(&deep, 1, ScalarValue::counter(0)).unwrap();
        tx.insert(&list, 2, ScalarValue::Null).unwrap();
        tx.insert_object(&list, 3, ObjType::List).unwrap();
        tx.commit();
    }
    {
        let mut tx = doc.automerge_mut().transaction();
        tx.increment(&info, "counter", 4).unwrap();
        tx.put(&info, "str", "rettet").unwrap();
        tx.delete(&info, "bool").unwrap();
        let list = tx.get(&info, "list").unwrap().unwrap().1;
        tx.delete(&list, 0).unwrap();
        tx.commit();
    }
    // A conflict: two devices write the same key concurrently.
    let mut other = doc.automerge().fork();
    other.set_actor(ActorId::random());
    {
        let mut tx = doc.automerge_mut().transaction();
        tx.put(&info, "conflict", "here").unwrap();
        tx.commit();
        let mut tx = other.transaction();
        tx.put(&info, "conflict", "there").unwrap();
        tx.commit();
    }
    doc.automerge_mut().merge(&mut other).unwrap();
    assert_eq!(
        doc.automerge().get_all(&info, "conflict").unwrap().len(),
        2,
        "a conflict"
    );

    let new = doc.rewritten(ActorId::random(), 5).unwrap();
    let want = state(doc.automerge());
    assert_eq!(state(new.automerge()), want);
    assert_eq!(want["info"]["counter"], json!({ "counter": 7 }));
    assert_eq!(
        want["info"]["list"][0]["deep"][0],
        json!({ "text": "dybt" })
    );
    let new_info = new.automerge().get(ROOT, "info").unwrap().unwrap().1;
    assert_eq!(
        new.automerge()
            .get_all(&new_info, "conflict")
            .unwrap()
            .len(),
        1,
        "only the winning value"
    );
    // The counter is still a counter: it counts on.
    let mut counted = new.automerge().clone();
    let mut tx = counted.transaction();
    tx.increment(&new_info, "counter", 1).unwrap();
    tx.commit();
    assert_eq!(state(&counted)["info"]["counter"], json!({ "counter": 8 }));
    assert_eq!(new.automerge().get_changes(&[]).len(), 1);
}

/// Two phones that make the same container concurrently leave two maps at one key; Nabo
/// reads their union, and so must the rewritten document hold it.
#[test]
fn a_rewrite_keeps_the_records_of_conflicting_containers() {
    let fx = Fixture::lektiecafe();
    let mut a = fx.register.doc().automerge().fork();
    let mut b = fx.register.doc().automerge().fork();
    for (am, key) in [(&mut a, "x-1"), (&mut b, "x-2")] {
        let mut tx = am.transaction();
        let c = tx.put_object(ROOT, "headcounts", ObjType::Map).unwrap();
        tx.put(&c, key, 1_u64).unwrap();
        tx.commit();
    }
    a.merge(&mut b).unwrap();
    assert_eq!(a.get_all(ROOT, "headcounts").unwrap().len(), 2);
    let doc = NaboDoc::from_automerge(a, ActorId::random()).unwrap();
    let new = doc.rewritten(ActorId::random(), 0).unwrap();
    let c = new.automerge().get(ROOT, "headcounts").unwrap().unwrap().1;
    let keys: Vec<String> = new.automerge().keys(&c).collect();
    assert_eq!(keys, ["x-1", "x-2"]);
}

/// The relay rewrites the register of `fx` now; answers the new document and `known`.
fn rewrite(fx: &Fixture) -> (NaboDoc, HashSet<ChangeHash>) {
    let old = fx.register.doc();
    let known = hashes(old.automerge());
    (old.rewritten(ActorId::random(), 0).unwrap(), known)
}

/// (a) A phone's offline edits reach the rewritten document; the relay's own later changes
/// stay, and nothing of the old history comes back.
#[test]
fn a_stale_phone_carries_its_offline_edits_over_to_the_rewritten_document() {
    let mut fx = Fixture::lektiecafe();
    let (session, kids) = busy_register(&mut fx);
    let maja = volunteer_editor(&fx.vol_ok);
    let by = Author {
        by: By::Volunteer(fx.vol_ok.clone()),
        at: at("2026-11-19", "15:20"),
    };
    let thursday = fx.session_on(&fx.register, "2026-11-24");
    // The phone goes offline and marks the roll call, adding a new child.
    let mut phone = fx.replica();
    let new_kid = phone
        .add_participant(
            &by,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    phone
        .mark(&by, fx.ctx(), &session, &new_kid, AttendanceStatus::Present)
        .unwrap();
    phone
        .mark(&by, fx.ctx(), &session, &kids[1], AttendanceStatus::Excused)
        .unwrap();
    // Meanwhile the relay clears a mark and cancels another session.
    let central = fx.central.clone();
    fx.register
        .clear_mark(&central, &session, &kids[0])
        .unwrap();
    fx.register
        .set_cancelled(&central, &thursday, true)
        .unwrap();
    let (rewritten, known) = rewrite(&fx);

    let out = rules::carry_over(
        phone.doc().automerge(),
        rewritten.automerge().clone(),
        &known,
        ActorId::random(),
        &maja,
        &ctx(&fx),
    );
    assert!(out.refused.is_empty(), "{:?}", out.refused);
    assert_eq!(out.replayed, 3);
    let changes = out.doc.get_changes(&[]);
    assert_eq!(changes.len(), 1 + out.replayed);
    assert!(hashes(&out.doc).is_disjoint(&hashes(fx.register.doc().automerge())));
    assert!(hashes(&out.doc).is_disjoint(&hashes(phone.doc().automerge())));
    let carried = register(NaboDoc::from_automerge(out.doc, ActorId::random()).unwrap());
    let view = carried.view().unwrap();
    assert!(view.participants.contains_key(&new_kid));
    assert_eq!(
        view.attendance[&(session.clone(), new_kid.clone())].current,
        AttendanceStatus::Present
    );
    assert_eq!(
        view.attendance[&(session.clone(), kids[1].clone())].current,
        AttendanceStatus::Excused
    );
    // The relay's clearing and cancellation are not undone.
    assert!(
        !view
            .attendance
            .contains_key(&(session.clone(), kids[0].clone()))
    );
    assert!(view.sessions[&thursday].current.cancelled);
    // Who marked and when comes from the phone's change.
    let h = carried.mark_history(&session, &new_kid).unwrap();
    assert_eq!(h[0].by, Some(By::Volunteer(fx.vol_ok.clone())));
    assert_eq!(h[0].time, by.at.as_secs());
}

/// (b) A phone that made the same register offline from scratch (the same skeleton change,
/// which the relay's document also started with) carries its child and mark over without
/// wiping or undoing what the rewritten document holds: its own skeleton and generated
/// sessions are adopted, not re-made.
#[test]
fn a_register_made_offline_is_carried_over_without_wiping_the_records() {
    let mut fx = Fixture::lektiecafe();
    let (session, kids) = busy_register(&mut fx);
    let maja = volunteer_editor(&fx.vol_ok);
    let by = Author {
        by: By::Volunteer(fx.vol_ok.clone()),
        at: at("2026-11-17", "15:30"),
    };
    let cancelled = fx.session_on(&fx.register, "2026-11-19");
    let mut phone = RegisterDoc::create(
        fx.tenant.clone(),
        fx.activity.id().clone(),
        "2026H2".parse().unwrap(),
        ActorId::random(),
        &by,
        fx.ctx(),
    )
    .unwrap();
    let kid = phone
        .add_participant(
            &by,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("7-9", None),
        )
        .unwrap();
    phone
        .mark(&by, fx.ctx(), &session, &kid, AttendanceStatus::Present)
        .unwrap();
    let (rewritten, known) = rewrite(&fx);
    assert!(
        known.contains(&phone.doc().automerge().get_changes(&[])[0].hash()),
        "the same skeleton"
    );
    let before = register(rewritten.clone()).view().unwrap();

    let out = rules::carry_over(
        phone.doc().automerge(),
        rewritten.automerge().clone(),
        &known,
        ActorId::random(),
        &maja,
        &ctx(&fx),
    );
    assert!(out.refused.is_empty(), "{:?}", out.refused);
    // The child and the mark; `create-register` and `generate-sessions` wrote nothing new.
    assert_eq!(out.replayed, 2);
    assert_eq!(out.doc.get_changes(&[]).len(), 3);
    let view = register(NaboDoc::from_automerge(out.doc, ActorId::random()).unwrap())
        .view()
        .unwrap();
    for k in &kids {
        assert_eq!(view.participants[k], before.participants[k]);
    }
    assert!(view.participants.contains_key(&kid));
    assert_eq!(view.sessions, before.sessions);
    assert!(view.sessions[&cancelled].current.cancelled);
    assert_eq!(
        view.attendance[&(session.clone(), kid.clone())].current,
        AttendanceStatus::Present
    );
    for (k, v) in &before.attendance {
        assert_eq!(&view.attendance[k], v);
    }
}

/// (c) An edit of a record the rewritten document no longer has is dropped and reported; a
/// later independent edit survives.
#[test]
fn an_edit_of_a_record_gone_before_the_rewrite_is_dropped_and_the_rest_survives() {
    let mut fx = Fixture::lektiecafe();
    let (session, kids) = busy_register(&mut fx);
    let maja = volunteer_editor(&fx.vol_ok);
    let by = Author {
        by: By::Volunteer(fx.vol_ok.clone()),
        at: at("2026-11-17", "15:40"),
    };
    let mut phone = fx.replica();
    phone
        .update_participant(&by, fx.ctx(), &kids[1], |p| {
            p.age_band = "13-14".parse().unwrap()
        })
        .unwrap();
    let later = phone
        .add_participant(
            &by,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("7-9", None),
        )
        .unwrap();
    // The relay's sanitising removes the child's record before the rewrite.
    {
        let am = fx.register.doc_mut().automerge_mut();
        let participants = am.get(ROOT, "participants").unwrap().unwrap().1;
        let mut tx = am.transaction();
        tx.delete(&participants, kids[1].as_str()).unwrap();
        tx.commit();
    }
    let (rewritten, known) = rewrite(&fx);

    let out = rules::carry_over(
        phone.doc().automerge(),
        rewritten.automerge().clone(),
        &known,
        ActorId::random(),
        &maja,
        &ctx(&fx),
    );
    assert_eq!(out.refused.len(), 1, "{:?}", out.refused);
    assert_eq!(
        out.refused[0].reason,
        Reason::NotFound,
        "{}",
        out.refused[0]
    );
    assert_eq!(out.replayed, 1);
    let view = register(NaboDoc::from_automerge(out.doc, ActorId::random()).unwrap())
        .view()
        .unwrap();
    assert!(!view.participants.contains_key(&kids[1]));
    assert!(view.participants.contains_key(&later));
    assert!(view.participants.contains_key(&kids[0]));
    assert!(view.attendance.contains_key(&(session, kids[0].clone())));
}

/// (d) A phone the relay has seen everything of carries nothing over.
#[test]
fn a_phone_with_nothing_late_carries_nothing_over() {
    let mut fx = Fixture::lektiecafe();
    busy_register(&mut fx);
    let maja = volunteer_editor(&fx.vol_ok);
    let phone = fx.replica();
    let (rewritten, known) = rewrite(&fx);
    let out = rules::carry_over(
        phone.doc().automerge(),
        rewritten.automerge().clone(),
        &known,
        ActorId::random(),
        &maja,
        &ctx(&fx),
    );
    assert_eq!(out.replayed, 0);
    assert!(out.refused.is_empty());
    assert_eq!(out.doc.get_heads(), rewritten.heads());
    assert_eq!(state(&out.doc), state(rewritten.automerge()));
}

/// A phone whose document a foreign client made offline (its own skeleton, under its own
/// actor, so not in `known`): its skeleton writes the identity the rewritten document holds
/// (no operation, so not refused as an identity change) and makes containers it already has
/// (adopted, not replaced); the phone's child is carried over.
#[test]
fn a_foreign_skeleton_is_adopted_and_its_identity_is_no_change() {
    let mut fx = Fixture::lektiecafe();
    let (_, kids) = busy_register(&mut fx);
    let maja = volunteer_editor(&fx.vol_ok);
    let by = Author {
        by: By::Volunteer(fx.vol_ok.clone()),
        at: at("2026-11-17", "15:50"),
    };
    let scope = fx.register.doc().scope().to_string();
    let mut foreign = Automerge::new().with_actor(ActorId::random());
    {
        let mut tx = foreign.transaction();
        tx.put(ROOT, "kind", "register").unwrap();
        tx.put(ROOT, "schema", 2_u64).unwrap();
        tx.put(ROOT, "tenant", fx.tenant.as_str()).unwrap();
        tx.put(ROOT, "scope", scope.as_str()).unwrap();
        tx.put_object(ROOT, "info", ObjType::Map).unwrap();
        for c in [
            "sessions",
            "participants",
            "attendance",
            "headcounts",
            "shifts",
            "staff_presence",
        ] {
            tx.put_object(ROOT, c, ObjType::Map).unwrap();
        }
        tx.commit();
    }
    let mut phone = register(NaboDoc::from_automerge(foreign, ActorId::random()).unwrap());
    let kid = phone
        .add_participant(
            &by,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("7-9", None),
        )
        .unwrap();
    let (rewritten, known) = rewrite(&fx);
    let before = register(rewritten.clone()).view().unwrap();
    let out = rules::carry_over(
        phone.doc().automerge(),
        rewritten.automerge().clone(),
        &known,
        ActorId::random(),
        &maja,
        &ctx(&fx),
    );
    assert!(out.refused.is_empty(), "{:?}", out.refused);
    assert_eq!(out.replayed, 1);
    let view = register(NaboDoc::from_automerge(out.doc, ActorId::random()).unwrap())
        .view()
        .unwrap();
    assert!(view.participants.contains_key(&kid));
    for k in &kids {
        assert_eq!(view.participants[k], before.participants[k]);
    }
    assert_eq!(view.sessions, before.sessions);
    assert_eq!(view.attendance, before.attendance);
}
