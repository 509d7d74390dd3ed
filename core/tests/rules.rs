//! The rules a relay runs before storing changes (ADR 0013): who may write which records,
//! and that what is written still reads and checks as the core's records. Pure functions,
//! no runtime: each test makes changes on a phone's copy (through the operations, or around
//! them as a foreign client would) and asks the rules about them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, ChangeHash, ObjType, ROOT, ReadDoc};
use common::*;
use nabo_core::docs::register::RegisterDoc;
use nabo_core::model::activity::RosterVolunteer;
use nabo_core::prelude::*;
use nabo_core::rules::{self, Context, Editor, Refusal};

fn volunteer_editor(id: &VolunteerId) -> Editor {
    Editor {
        role: AppRole::Volunteer,
        staff: None,
        volunteer: Some(id.clone()),
    }
}

fn central_editor() -> Editor {
    Editor {
        role: AppRole::Central,
        staff: Some("central".parse().unwrap()),
        volunteer: None,
    }
}

fn ctx(fx: &Fixture) -> Context<'_> {
    Context {
        catalogue: fx.cat,
        free_text_notes: false,
        shifts: None,
    }
}

/// Makes `f` on a phone's copy of the register and asks the rules about the new changes.
fn judge(fx: &Fixture, editor: &Editor, f: impl FnOnce(&mut RegisterDoc)) -> Result<(), Refusal> {
    let mut phone = fx.replica();
    let before: Vec<ChangeHash> = phone.doc().heads();
    f(&mut phone);
    let changes = phone.doc().automerge().get_changes(&before);
    assert!(!changes.is_empty(), "the edit made no change");
    rules::check(phone.doc().automerge(), &before, &changes, editor, &ctx(fx))
}

fn author(by: By) -> Author {
    Author { by, at: now() }
}

/// A raw write around the operations, as a foreign client makes it.
fn raw(reg: &mut RegisterDoc, f: impl FnOnce(&mut automerge::transaction::Transaction<'_>)) {
    let am = reg.doc_mut().automerge_mut();
    let mut tx = am.transaction();
    f(&mut tx);
    tx.commit();
}

fn container(reg: &RegisterDoc, name: &str) -> automerge::ObjId {
    reg.doc().automerge().get(ROOT, name).unwrap().unwrap().1
}

fn refused(r: Result<(), Refusal>, record_prefix: &str, reason: Reason) -> Refusal {
    let e = r.expect_err("refused");
    assert!(
        e.record.starts_with(record_prefix),
        "refusal names {} (expected {record_prefix}…): {e}",
        e.record
    );
    assert_eq!(e.reason, reason, "{e}");
    e
}

#[test]
fn a_volunteer_may_do_what_the_phone_does_in_a_register() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    let session = fx.session_on(&fx.register, "2026-11-17");
    // Sign up, check in and out (her own shift).
    judge(&fx, &maja, |r| {
        r.sign_up(&by, fx.ctx(), &session, &fx.vol_ok).unwrap();
        r.check_in(
            &by,
            fx.ctx(),
            &session,
            &fx.vol_ok,
            at("2026-11-17", "14:55"),
        )
        .unwrap();
        r.check_out(&by, &session, &fx.vol_ok, at("2026-11-17", "17:05"))
            .unwrap();
    })
    .unwrap();
    // Add a child and mark the roll call, mark again, clear a mark.
    judge(&fx, &maja, |r| {
        let p = r
            .add_participant(
                &by,
                fx.ctx(),
                date("2026-11-17"),
                Fixture::child("10-12", None),
            )
            .unwrap();
        r.mark(&by, fx.ctx(), &session, &p, AttendanceStatus::Present)
            .unwrap();
        r.mark(&by, fx.ctx(), &session, &p, AttendanceStatus::Absent)
            .unwrap();
        r.clear_mark(&by, &session, &p).unwrap();
        r.update_participant(&by, fx.ctx(), &p, |p| p.resident = Some(false))
            .unwrap();
    })
    .unwrap();
    // Add a one-off session.
    judge(&fx, &maja, |r| {
        r.add_session(
            &by,
            NewSession {
                date: date("2026-12-18"),
                start: Time::hm(17, 0).unwrap(),
                end: Time::hm(20, 0).unwrap(),
                venue: None,
                title: Some("Juleafslutning".into()),
            },
        )
        .unwrap();
    })
    .unwrap();
}

#[test]
fn a_volunteer_creates_a_register_as_the_phone_does() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    let reg = RegisterDoc::create(
        fx.tenant.clone(),
        fx.activity.id().clone(),
        "2027H1".parse().unwrap(),
        ActorId::random(),
        &by,
        fx.ctx(),
    )
    .unwrap();
    let changes = reg.doc().automerge().get_changes(&[]);
    rules::check(reg.doc().automerge(), &[], &changes, &maja, &ctx(&fx)).unwrap();
    // A second phone generating the same sessions concurrently writes identical records.
    let other = RegisterDoc::create(
        fx.tenant.clone(),
        fx.activity.id().clone(),
        "2027H1".parse().unwrap(),
        ActorId::random(),
        &by,
        fx.ctx(),
    )
    .unwrap();
    let mut relay = reg.clone();
    let before = relay.doc().heads();
    let theirs = other.doc().automerge().get_changes(&[]);
    relay
        .doc_mut()
        .automerge_mut()
        .apply_changes(theirs.clone())
        .unwrap();
    let new: Vec<_> = relay.doc().automerge().get_changes(&before);
    assert!(!new.is_empty());
    rules::check(relay.doc().automerge(), &before, &new, &maja, &ctx(&fx)).unwrap();
}

#[test]
fn a_volunteer_may_not_touch_another_volunteers_shift() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let session = fx.session_on(&fx.register, "2026-11-17");
    let jonas = fx.vol_missing.clone();
    let e = refused(
        judge(&fx, &maja, |r| {
            let shifts = container(r, "shifts");
            raw(r, |tx| {
                let s = tx
                    .put_object(&shifts, format!("{session}/{jonas}"), ObjType::Map)
                    .unwrap();
                tx.put(&s, "signed_up", false).unwrap();
                tx.put(&s, "cancelled", true).unwrap();
                tx.put(&s, "check_in", automerge::ScalarValue::Null)
                    .unwrap();
                tx.put(&s, "check_out", automerge::ScalarValue::Null)
                    .unwrap();
            });
        }),
        "shifts/",
        Reason::NotPermitted,
    );
    assert!(e.detail.contains("themselves"), "{e}");
    // The same edit of her own shift is fine.
    let own = fx.vol_ok.clone();
    judge(&fx, &maja, |r| {
        let shifts = container(r, "shifts");
        raw(r, |tx| {
            let s = tx
                .put_object(&shifts, format!("{session}/{own}"), ObjType::Map)
                .unwrap();
            tx.put(&s, "signed_up", true).unwrap();
            tx.put(&s, "cancelled", false).unwrap();
            tx.put(&s, "check_in", automerge::ScalarValue::Null)
                .unwrap();
            tx.put(&s, "check_out", automerge::ScalarValue::Null)
                .unwrap();
        });
    })
    .unwrap();
}

#[test]
fn a_volunteer_may_not_cancel_a_session_or_change_the_registers_details() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    let session = fx.session_on(&fx.register, "2026-11-17");
    refused(
        judge(&fx, &maja, |r| {
            r.set_cancelled(&by, &session, true).unwrap()
        }),
        "sessions/",
        Reason::NotPermitted,
    );
    // Putting a different session at an existing key without looking (it could win).
    refused(
        judge(&fx, &maja, |r| {
            let sessions = container(r, "sessions");
            let sid = session.clone();
            raw(r, |tx| {
                let s = tx
                    .put_object(&sessions, sid.as_str(), ObjType::Map)
                    .unwrap();
                tx.put(&s, "date", "2026-11-17").unwrap();
                tx.put(&s, "start", "15:00").unwrap();
                tx.put(&s, "end", "17:00").unwrap();
                tx.put(&s, "cancelled", true).unwrap();
                tx.put(&s, "by", "system").unwrap();
                for f in ["venue", "series", "title"] {
                    tx.put(&s, f, automerge::ScalarValue::Null).unwrap();
                }
            });
        }),
        "sessions/",
        Reason::NotPermitted,
    );
    refused(
        judge(&fx, &maja, |r| {
            let info = container(r, "info");
            raw(r, |tx| tx.put(&info, "area", "a-engtoften").unwrap());
        }),
        "info/area",
        Reason::NotPermitted,
    );
    // Central staff may.
    judge(&fx, &central_editor(), |r| {
        r.set_cancelled(&fx.central, &session, true).unwrap()
    })
    .unwrap();
}

#[test]
fn merging_participants_is_for_central_staff() {
    let mut fx = Fixture::lektiecafe();
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    let (a, b) = (ParticipantId::random(), ParticipantId::random());
    for p in [&a, &b] {
        fx.register
            .add_participant_with_id(
                &by,
                RegisterContext {
                    catalogue: fx.cat,
                    activity: &fx.snapshot,
                    certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
                },
                date("2026-11-17"),
                p.clone(),
                Fixture::child("10-12", None),
            )
            .unwrap();
    }
    let e = refused(
        judge(&fx, &volunteer_editor(&fx.vol_ok), |r| {
            r.merge_participants(&by, &a, &b).unwrap()
        }),
        "participants/",
        Reason::NotPermitted,
    );
    assert!(e.record.ends_with(".merged_into"), "{e}");
    judge(&fx, &central_editor(), |r| {
        r.merge_participants(&fx.central, &a, &b).unwrap()
    })
    .unwrap();
}

#[test]
fn a_record_that_does_not_read_is_refused_for_everyone() {
    let fx = Fixture::lektiecafe();
    for editor in [volunteer_editor(&fx.vol_ok), central_editor()] {
        let e = refused(
            judge(&fx, &editor, |r| {
                let participants = container(r, "participants");
                raw(r, |tx| tx.put(&participants, "p-42", 42).unwrap());
            }),
            "participants/p-42",
            Reason::Malformed,
        );
        assert_eq!(e.record, "participants/p-42");
        // A key that is not a key of the container.
        refused(
            judge(&fx, &editor, |r| {
                let attendance = container(r, "attendance");
                raw(r, |tx| tx.put(&attendance, "no-slash", "present").unwrap());
            }),
            "attendance/no-slash",
            Reason::Malformed,
        );
        // A status that is not a status.
        refused(
            judge(&fx, &editor, |r| {
                let attendance = container(r, "attendance");
                raw(r, |tx| tx.put(&attendance, "s1/p1", "sleeping").unwrap());
            }),
            "attendance/s1/p1",
            Reason::Malformed,
        );
    }
}

#[test]
fn a_record_is_checked_like_the_operation_checks_it() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let session = fx.session_on(&fx.register, "2026-11-17");
    // An age band the catalogue does not know.
    let e = refused(
        judge(&fx, &maja, |r| {
            let participants = container(r, "participants");
            raw(r, |tx| {
                let p = tx.put_object(&participants, "p-new", ObjType::Map).unwrap();
                tx.put(&p, "age_band", "200-300").unwrap();
                tx.put(&p, "added_on", "2026-11-17").unwrap();
                tx.put(&p, "added_by", format!("volunteer:{}", fx.vol_ok))
                    .unwrap();
                for f in ["gender", "resident", "label", "recruitment", "merged_into"] {
                    tx.put(&p, f, automerge::ScalarValue::Null).unwrap();
                }
            });
        }),
        "participants/p-new",
        Reason::OutOfRange,
    );
    assert_eq!(e.record, "participants/p-new.age_band");
    // A shift of 30 hours.
    let own = fx.vol_ok.clone();
    let e = refused(
        judge(&fx, &maja, |r| {
            let shifts = container(r, "shifts");
            raw(r, |tx| {
                let s = tx
                    .put_object(&shifts, format!("{session}/{own}"), ObjType::Map)
                    .unwrap();
                tx.put(&s, "signed_up", true).unwrap();
                tx.put(&s, "cancelled", false).unwrap();
                tx.put(&s, "check_in", automerge::ScalarValue::Timestamp(1_000_000))
                    .unwrap();
                tx.put(
                    &s,
                    "check_out",
                    automerge::ScalarValue::Timestamp(1_000_000 + 30 * 3_600_000),
                )
                .unwrap();
            });
        }),
        "shifts/",
        Reason::OutOfRange,
    );
    assert!(e.record.ends_with(".at"), "{e}");
    // A headcount above the bound.
    refused(
        judge(&fx, &maja, |r| {
            let h = container(r, "headcounts");
            let key = format!("{session}/all.all.all");
            raw(r, |tx| tx.put(&h, key.as_str(), 9_999_999_u64).unwrap());
        }),
        "headcounts/",
        Reason::OutOfRange,
    );
}

#[test]
fn a_change_note_must_name_the_sender() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let session = fx.session_on(&fx.register, "2026-11-17");
    let as_jonas = author(By::Volunteer(fx.vol_missing.clone()));
    let e = refused(
        judge(&fx, &maja, |r| {
            let p = ParticipantId::random();
            r.add_participant_with_id(
                &as_jonas,
                fx.ctx(),
                date("2026-11-17"),
                p.clone(),
                Fixture::child("10-12", None),
            )
            .unwrap();
            r.mark(&as_jonas, fx.ctx(), &session, &p, AttendanceStatus::Present)
                .unwrap();
        }),
        "change ",
        Reason::NotPermitted,
    );
    assert!(e.detail.contains("signed by someone other"), "{e}");
    // A change without a Nabo note (a foreign client) is judged by what it does: a mark of
    // a child on the register passes, a mark of a child who is not on it does not.
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    judge(&fx, &maja, |r| {
        let p = r
            .add_participant(
                &by,
                fx.ctx(),
                date("2026-11-17"),
                Fixture::child("10-12", None),
            )
            .unwrap();
        let attendance = container(r, "attendance");
        let key = format!("{session}/{p}");
        raw(r, |tx| {
            tx.put(&attendance, key.as_str(), "present").unwrap()
        });
    })
    .unwrap();
    refused(
        judge(&fx, &maja, |r| {
            let attendance = container(r, "attendance");
            let key = format!("{session}/p-nobody");
            raw(r, |tx| {
                tx.put(&attendance, key.as_str(), "present").unwrap()
            });
        }),
        "attendance/",
        Reason::NotFound,
    );
}

#[test]
fn the_documents_identity_and_skeleton_are_written_once() {
    let fx = Fixture::lektiecafe();
    for editor in [volunteer_editor(&fx.vol_ok), central_editor()] {
        refused(
            judge(&fx, &editor, |r| {
                raw(r, |tx| tx.put(ROOT, "kind", "activity").unwrap())
            }),
            "kind",
            Reason::NotPermitted,
        );
        refused(
            judge(&fx, &editor, |r| {
                raw(r, |tx| tx.put(ROOT, "schema", 99_u64).unwrap())
            }),
            "schema",
            Reason::OutOfRange,
        );
        refused(
            judge(&fx, &editor, |r| {
                raw(r, |tx| {
                    tx.put_object(ROOT, "secrets", ObjType::Map).unwrap();
                })
            }),
            "secrets",
            Reason::Malformed,
        );
    }
    // A change under the skeleton's derived actor that is not the skeleton.
    let mut phone = fx.replica();
    let before = phone.doc().heads();
    let skeleton_actor = phone.doc().automerge().get_changes(&[])[0]
        .actor_id()
        .clone();
    let mut forged = phone.doc().automerge().fork();
    forged.set_actor(skeleton_actor);
    let mut tx = forged.transaction();
    let (_, att) = tx.get(ROOT, "attendance").unwrap().unwrap();
    tx.put(&att, "s1/p1", "present").unwrap();
    tx.commit();
    let changes = forged.get_changes(&before);
    phone
        .doc_mut()
        .automerge_mut()
        .apply_changes(changes.clone())
        .unwrap();
    refused(
        rules::check(
            phone.doc().automerge(),
            &before,
            &changes,
            &central_editor(),
            &ctx(&fx),
        ),
        "change ",
        Reason::NotPermitted,
    );
}

#[test]
fn volunteers_write_registers_only_and_the_board_nothing() {
    let fx = Fixture::lektiecafe();
    let board = Editor {
        role: AppRole::Board,
        staff: None,
        volunteer: None,
    };
    let session = fx.session_on(&fx.register, "2026-11-17");
    refused(
        judge(&fx, &board, |r| {
            let attendance = container(r, "attendance");
            let key = format!("{session}/p1");
            raw(r, |tx| {
                tx.put(&attendance, key.as_str(), "present").unwrap()
            });
        }),
        "attendance/",
        Reason::NotPermitted,
    );
    // An activity document: a volunteer may not rewrite it (the change is signed by her, as
    // her phone would sign it).
    let mut act = fx.activity.clone();
    let before = act.doc().heads();
    act.update(&author(By::Volunteer(fx.vol_ok.clone())), fx.cat, |a| {
        a.name = "Omdøbt".into()
    })
    .unwrap();
    let changes = act.doc().automerge().get_changes(&before);
    refused(
        rules::check(
            act.doc().automerge(),
            &before,
            &changes,
            &Editor {
                role: AppRole::Volunteer,
                staff: None,
                volunteer: Some(fx.vol_ok.clone()),
            },
            &ctx(&fx),
        ),
        "activity",
        Reason::NotPermitted,
    );
}

#[test]
fn a_retired_code_in_a_record_made_offline_is_still_a_record() {
    let fx = Fixture::lektiecafe();
    // The phone added a child recruited by a notice offline; meanwhile that recruitment path
    // was retired.
    let mut phone = fx.replica();
    let before = phone.doc().heads();
    phone
        .add_participant(
            &author(By::Volunteer(fx.vol_ok.clone())),
            fx.ctx(),
            date("2026-11-17"),
            NewParticipant {
                recruitment: Some("opslag".parse().unwrap()),
                ..Fixture::child("10-12", None)
            },
        )
        .unwrap();
    let changes = phone.doc().automerge().get_changes(&before);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue");
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(dir.join("taxonomies")).unwrap() {
        let path = entry.unwrap().path();
        let name = format!("taxonomies/{}", path.file_name().unwrap().to_string_lossy());
        files.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    for f in ["target-groups.toml", "indicators.toml", "vocabularies.toml"] {
        let mut text = std::fs::read_to_string(dir.join(f)).unwrap();
        if f == "vocabularies.toml" {
            text = text.replace(
                "name_en = \"Notice\" }",
                "name_en = \"Notice\", retired = true }",
            );
        }
        files.push((f.to_owned(), text));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let retired = Catalogue::from_files(&refs).unwrap();
    assert!(!retired.has_term(Vocabulary::RecruitmentPaths, "opslag"));
    let judge_with = |cat: &Catalogue| {
        rules::check(
            phone.doc().automerge(),
            &before,
            &changes,
            &volunteer_editor(&fx.vol_ok),
            &Context {
                catalogue: cat,
                free_text_notes: false,
                shifts: None,
            },
        )
    };
    assert_eq!(
        judge_with(&retired).unwrap_err().reason,
        Reason::UnknownCode,
        "as offered for new records, the retired path is refused"
    );
    judge_with(&retired.accepting_retired()).unwrap();
}

#[test]
fn unreadable_records_are_listed_and_skipped_by_the_views() {
    let fx = Fixture::lektiecafe();
    let mut reg = fx.replica();
    let good = reg
        .add_participant(
            &fx.central,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    let participants = container(&reg, "participants");
    let attendance = container(&reg, "attendance");
    raw(&mut reg, |tx| {
        tx.put(&participants, "p-bad", 42).unwrap();
        tx.put(&attendance, "malformed key", "present").unwrap();
    });
    let bad = rules::unreadable(reg.doc(), 100);
    let records: Vec<&str> = bad.iter().map(|u| u.record.as_str()).collect();
    assert_eq!(
        records,
        ["participants/p-bad", "attendance/malformed key"],
        "{bad:?}"
    );
    let view = reg.view().expect("the view reads around the bad records");
    assert!(view.participants.contains_key(&good));
    assert!(!view.participants.keys().any(|k| k.as_str() == "p-bad"));
    assert!(rules::unreadable(fx.register.doc(), 100).is_empty());
}

fn outreach_editor(staff: &str) -> Editor {
    Editor {
        role: AppRole::Outreach,
        staff: Some(staff.parse().unwrap()),
        volunteer: None,
    }
}

/// Applies `f` to a copy of `doc` and asks the rules about the new changes.
fn judge_doc<D: TypedDoc + Clone>(
    doc: &D,
    editor: &Editor,
    f: impl FnOnce(&mut D),
) -> Result<(), Refusal> {
    let mut d = doc.clone();
    let before = d.doc().heads();
    f(&mut d);
    let changes = d.doc().automerge().get_changes(&before);
    assert!(!changes.is_empty(), "the edit made no change");
    let cat = Catalogue::builtin().unwrap();
    rules::check(
        d.doc().automerge(),
        &before,
        &changes,
        editor,
        &Context {
            catalogue: cat,
            free_text_notes: false,
            shifts: None,
        },
    )
}

#[test]
fn staff_record_only_their_own_presence_and_volunteers_none() {
    let fx = Fixture::lektiecafe();
    let session = fx.session_on(&fx.register, "2026-11-17");
    let ali = author(By::Staff("s-ali".parse().unwrap()));
    judge(&fx, &outreach_editor("s-ali"), |r| {
        r.staff_present(&ali, &session, &"s-ali".parse().unwrap(), 120)
            .unwrap()
    })
    .unwrap();
    refused(
        judge(&fx, &outreach_editor("s-ali"), |r| {
            r.staff_present(&ali, &session, &"s-camilla".parse().unwrap(), 120)
                .unwrap()
        }),
        "staff_presence/",
        Reason::NotPermitted,
    );
    let maja = volunteer_editor(&fx.vol_ok);
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    refused(
        judge(&fx, &maja, |r| {
            r.staff_present(&by, &session, &"s-ali".parse().unwrap(), 120)
                .unwrap()
        }),
        "staff_presence/",
        Reason::NotPermitted,
    );
}

#[test]
fn outreach_logs_are_signed_by_their_worker_and_closed_referrals_stay_closed() {
    use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
    let cat = Catalogue::builtin().unwrap();
    let ali = Author {
        by: By::Staff("s-ali".parse().unwrap()),
        at: at("2026-11-10", "19:30"),
    };
    let log = OutreachDoc::create(
        "t1".parse().unwrap(),
        "s-ali".parse().unwrap(),
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let contact = NewContact::anonymous(ali.at, "legeplads", "uformelt-moede", 3, "15-17");
    let worker = outreach_editor("s-ali");
    judge_doc(&log, &worker, |l| {
        l.log_contact(&ali, cat, false, contact.clone()).unwrap();
    })
    .unwrap();
    // Signed by a colleague: refused.
    let camilla = Author {
        by: By::Staff("s-camilla".parse().unwrap()),
        at: ali.at,
    };
    refused(
        judge_doc(&log, &worker, |l| {
            l.log_contact(&camilla, cat, false, contact.clone())
                .unwrap();
        }),
        "change ",
        Reason::NotPermitted,
    );
    // A contact outside the log's quarter, written around the operation: the record check.
    let mut late = log.clone();
    let cid = late.log_contact(&ali, cat, false, contact.clone()).unwrap();
    refused(
        judge_doc(&late, &worker, |l| {
            let am = l.doc_mut().automerge_mut();
            let (_, contacts) = am.get(ROOT, "contacts").unwrap().unwrap();
            let (_, c) = am.get(&contacts, cid.as_str()).unwrap().unwrap();
            let mut tx = am.transaction();
            tx.put(
                &c,
                "at",
                automerge::ScalarValue::Timestamp(at("2027-02-01", "12:00").0),
            )
            .unwrap();
            tx.commit();
        }),
        "contacts/",
        Reason::OutsidePeriod,
    );
    // A completed referral is not reopened.
    let mut closed = log.clone();
    let rid = closed
        .refer(
            &ali,
            cat,
            NewReferral {
                at: ali.at,
                from_contact: None,
                from_activity: None,
                participant: None,
                to: "jobcenter".into(),
                to_org: None,
                to_activity: None,
                kind: ReferralKind::Information,
                consent_to_share: false,
            },
        )
        .unwrap();
    closed
        .set_referral_status(&ali, &rid, ReferralStatus::Completed)
        .unwrap();
    refused(
        judge_doc(&closed, &worker, |l| {
            let am = l.doc_mut().automerge_mut();
            let (_, refs) = am.get(ROOT, "referrals").unwrap().unwrap();
            let (_, r) = am.get(&refs, rid.as_str()).unwrap().unwrap();
            let mut tx = am.transaction();
            tx.put(&r, "status", "suggested").unwrap();
            tx.commit();
        }),
        "referrals/",
        Reason::NotAllowed,
    );
}

#[test]
fn outreach_staff_edit_their_activity_but_not_its_area_legal_basis_or_roster() {
    let fx = Fixture::lektiecafe();
    let ali = author(By::Staff("s-ali".parse().unwrap()));
    let worker = outreach_editor("s-ali");
    judge_doc(&fx.activity, &worker, |a| {
        a.update(&ali, fx.cat, |x| {
            x.name = "Lektiecaféen (tirsdag og torsdag)".into()
        })
        .unwrap()
    })
    .unwrap();
    refused(
        judge_doc(&fx.activity, &worker, |a| {
            a.move_to_area(
                &ali,
                fx.cat,
                "a-engtoften".parse().unwrap(),
                date("2026-12-01"),
            )
            .unwrap()
        }),
        "activity",
        Reason::NotPermitted,
    );
    refused(
        judge_doc(&fx.activity, &worker, |a| {
            a.set_roster(
                &ali,
                fx.cat,
                &"v-ny".parse().unwrap(),
                RosterVolunteer {
                    role: "lektiehjaelper".parse().unwrap(),
                    cleared_for_children_until: Some(date("2030-01-01")),
                    active: true,
                },
            )
            .unwrap()
        }),
        "roster/",
        Reason::NotPermitted,
    );
    judge_doc(&fx.activity, &central_editor(), |a| {
        a.move_to_area(
            &fx.central,
            fx.cat,
            "a-engtoften".parse().unwrap(),
            date("2026-12-01"),
        )
        .unwrap()
    })
    .unwrap();
}

#[test]
fn a_rebase_keeps_every_valid_edit_around_a_refused_one() {
    let fx = Fixture::lektiecafe();
    let maja = volunteer_editor(&fx.vol_ok);
    let by = Author {
        by: By::Volunteer(fx.vol_ok.clone()),
        at: at("2026-11-17", "15:10"),
    };
    let session = fx.session_on(&fx.register, "2026-11-17");
    let other = fx.session_on(&fx.register, "2026-11-19");
    // The relay's copy moves on meanwhile: central staff add a child.
    let mut relay = fx.replica();
    let from_office = relay
        .add_participant(
            &fx.central,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("7-9", None),
        )
        .unwrap();
    // The phone: a valid child and mark, a forbidden cancellation, then more valid work,
    // including a mark of a child that only a refused change made.
    let mut phone = fx.replica();
    let kid = phone
        .add_participant(
            &by,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    phone
        .mark(&by, fx.ctx(), &session, &kid, AttendanceStatus::Present)
        .unwrap();
    phone.set_cancelled(&by, &other, true).unwrap();
    let ghost = ParticipantId::random();
    {
        // A participant "merged" by the volunteer (review's job): refused, and so is the
        // mark that depends on it.
        let participants = container(&phone, "participants");
        let g = ghost.clone();
        let canonical = kid.clone();
        let added_by = format!("volunteer:{}", fx.vol_ok);
        raw(&mut phone, |tx| {
            let p = tx
                .put_object(&participants, g.as_str(), ObjType::Map)
                .unwrap();
            tx.put(&p, "age_band", "10-12").unwrap();
            tx.put(&p, "added_on", "2026-11-17").unwrap();
            tx.put(&p, "added_by", added_by.as_str()).unwrap();
            tx.put(&p, "merged_into", canonical.as_str()).unwrap();
            for f in ["gender", "resident", "label", "recruitment"] {
                tx.put(&p, f, automerge::ScalarValue::Null).unwrap();
            }
        });
    }
    {
        // A mark of the "merged" child itself (the operation would follow `merged_into`).
        let attendance = container(&phone, "attendance");
        let key = format!("{session}/{ghost}");
        raw(&mut phone, |tx| {
            tx.put(&attendance, key.as_str(), "present").unwrap()
        });
    }
    let later = phone
        .add_participant(
            &by,
            fx.ctx(),
            date("2026-11-17"),
            Fixture::child("13-14", None),
        )
        .unwrap();
    phone
        .mark(&by, fx.ctx(), &session, &later, AttendanceStatus::Absent)
        .unwrap();

    let out = rules::rebase(
        phone.doc().automerge(),
        relay.doc().automerge().clone(),
        ActorId::random(),
        &maja,
        &ctx(&fx),
    );
    let reasons: Vec<String> = out.refused.iter().map(ToString::to_string).collect();
    assert_eq!(out.refused.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].starts_with(&format!("sessions/{other}")),
        "{reasons:?}"
    );
    assert!(reasons[1].contains(".merged_into"), "{reasons:?}");
    assert!(reasons[2].starts_with("attendance/"), "{reasons:?}");
    assert_eq!(out.replayed, 4);
    let rebased =
        RegisterDoc::from_doc(NaboDoc::from_automerge(out.doc, ActorId::random()).unwrap())
            .unwrap();
    let view = rebased.view().unwrap();
    assert!(view.participants.contains_key(&kid));
    assert!(view.participants.contains_key(&later));
    assert!(
        view.participants.contains_key(&from_office),
        "the relay's own changes stay"
    );
    assert!(!view.participants.contains_key(&ghost));
    assert!(!view.sessions[&other].current.cancelled);
    assert_eq!(
        view.attendance[&(session.clone(), kid.clone())].current,
        AttendanceStatus::Present
    );
    assert_eq!(
        view.attendance[&(session.clone(), later.clone())].current,
        AttendanceStatus::Absent
    );
    // Who marked and when is kept from the original change.
    let h = rebased.mark_history(&session, &kid).unwrap();
    assert_eq!(h[0].by, Some(By::Volunteer(fx.vol_ok.clone())));
    assert_eq!(h[0].time, by.at.as_secs());
    // And the rebased document is what the relay accepts.
    let before = relay.doc().heads();
    let changes = rebased.doc().automerge().get_changes(&before);
    rules::check(
        rebased.doc().automerge(),
        &before,
        &changes,
        &maja,
        &ctx(&fx),
    )
    .unwrap();
}

/// Erasure (ADR 0019): central staff's, final, and an offline phone's concurrent edit of the
/// child merges without bringing the label back.
#[test]
fn erasing_a_child_is_central_staffs_and_final_and_offline_edits_still_merge() {
    let mut fx = Fixture::lektiecafe();
    let by = author(By::Volunteer(fx.vol_ok.clone()));
    let child = ParticipantId::random();
    let key = nabo_core::seal::SubjectKey::generate();
    let label = nabo_core::seal::seal(&key, child.as_str(), "Aisha").unwrap();
    fx.register
        .add_participant_with_id(
            &by,
            RegisterContext {
                catalogue: fx.cat,
                activity: &fx.snapshot,
                certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
            },
            date("2026-11-17"),
            child.clone(),
            Fixture::child("10-12", Some(label)),
        )
        .unwrap();
    let group: std::collections::BTreeSet<_> = [child.clone()].into();
    let on = date("2026-12-01");
    let e = refused(
        judge(&fx, &volunteer_editor(&fx.vol_ok), |r| {
            r.erase_participants(&by, &group, on).unwrap();
        }),
        "participants/",
        Reason::NotPermitted,
    );
    assert!(e.record.ends_with(".erased"), "{e}");
    judge(&fx, &central_editor(), |r| {
        r.erase_participants(&fx.central, &group, on).unwrap();
    })
    .unwrap();

    // A phone goes offline before the erasure and corrects the child's age band.
    let mut offline = fx.replica();
    let central = fx.central.clone();
    fx.register
        .erase_participants(&central, &group, on)
        .unwrap();
    let before_offline = offline.doc().heads();
    offline
        .update_participant(
            &by,
            RegisterContext {
                catalogue: fx.cat,
                activity: &fx.snapshot,
                certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
            },
            &child,
            |p| p.age_band = "13-14".parse().unwrap(),
        )
        .unwrap();
    let late = offline.doc().automerge().get_changes(&before_offline);
    let mut relay = fx.replica();
    let before = relay.doc().heads();
    relay
        .doc_mut()
        .automerge_mut()
        .apply_changes(late.iter().map(|c| (*c).clone()))
        .unwrap();
    rules::check(
        relay.doc().automerge(),
        &before,
        &relay.doc().automerge().get_changes(&before),
        &volunteer_editor(&fx.vol_ok),
        &ctx(&fx),
    )
    .expect("the offline edit merges");
    let view = relay.view().unwrap();
    let p = &view.participants[&child];
    assert!(nabo_core::erasure::is_erased(p), "still erased");
    assert_eq!(
        p.current.age_band.as_str(),
        "13-14",
        "the offline correction merged"
    );
    assert_eq!(nabo_core::erasure::shown_label(&p.current), None);

    // Clearing the mark, as a foreign client would, is refused even for central staff.
    let e = refused(
        judge(&fx, &central_editor(), |r| {
            let parts = container(r, "participants");
            raw(r, |tx| {
                let (_, obj) = tx.get(&parts, child.as_str()).unwrap().unwrap();
                tx.put(&obj, "erased", automerge::ScalarValue::Null)
                    .unwrap();
            });
        }),
        "participants/",
        Reason::Erased,
    );
    assert!(e.record.ends_with(".erased"), "{e}");
}

/// Issue 11 item 2: a known person in an outreach log is erased like a register's child:
/// by central staff only, finally, and an offline phone's contact with the person merges.
#[test]
fn erasing_a_known_person_is_central_staffs_and_final() {
    use nabo_core::docs::outreach::{NewContact, OutreachDoc};
    use nabo_core::model::outreach::KnownPerson;
    let cat = Catalogue::builtin().unwrap();
    let ali = Author {
        by: By::Staff("s-ali".parse().unwrap()),
        at: at("2026-11-10", "19:30"),
    };
    let mut log = OutreachDoc::create(
        "t1".parse().unwrap(),
        "s-ali".parse().unwrap(),
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let pid = ParticipantId::random();
    let key = nabo_core::seal::SubjectKey::generate();
    log.add_person(
        &ali,
        cat,
        &pid,
        KnownPerson {
            age_band: "15-17".parse().unwrap(),
            label: Some(nabo_core::seal::seal(&key, pid.as_str(), "Hassan").unwrap()),
            basis: LegalBasis::PublicTask,
            basis_text: None,
            consent: None,
            added_on: date("2026-11-10"),
            erased: None,
        },
    )
    .unwrap();
    let person: std::collections::BTreeSet<_> = [pid.clone()].into();
    let on = date("2026-12-01");
    let worker = outreach_editor("s-ali");
    let e = refused(
        judge_doc(&log, &worker, |l| {
            l.erase_people(&ali, &person, on).unwrap();
        }),
        "people/",
        Reason::NotPermitted,
    );
    assert!(e.record.ends_with(".erased"), "{e}");
    let central = author(By::Staff("central".parse().unwrap()));
    judge_doc(&log, &central_editor(), |l| {
        assert_eq!(l.erase_people(&central, &person, on).unwrap(), 1);
    })
    .unwrap();

    // The worker's phone, offline through the erasure, logs a contact with the person.
    let mut offline = OutreachDoc::load(&log.doc().save(), ActorId::random()).unwrap();
    log.erase_people(&central, &person, on).unwrap();
    let before_offline = offline.doc().heads();
    let mut contact = NewContact::anonymous(ali.at, "legeplads", "uformelt-moede", 1, "15-17");
    contact.participant = Some(pid.clone());
    offline.log_contact(&ali, cat, false, contact).unwrap();
    let late = offline.doc().automerge().get_changes(&before_offline);
    let mut relay = log.clone();
    let before = relay.doc().heads();
    relay
        .doc_mut()
        .automerge_mut()
        .apply_changes(late.iter().map(|c| (*c).clone()))
        .unwrap();
    rules::check(
        relay.doc().automerge(),
        &before,
        &relay.doc().automerge().get_changes(&before),
        &worker,
        &Context {
            catalogue: cat,
            free_text_notes: false,
            shifts: None,
        },
    )
    .expect("the offline contact merges");
    let view = relay.view().unwrap();
    assert!(view.people[&pid].erased.is_some() && view.people[&pid].label.is_none());
    assert_eq!(view.contacts.len(), 1);
    // Erasing again changes nothing.
    assert_eq!(relay.erase_people(&central, &person, on).unwrap(), 0);

    // Clearing the mark is refused, even for central staff.
    let e = refused(
        judge_doc(&relay, &central_editor(), |l| {
            let am = l.doc_mut().automerge_mut();
            let (_, people) = am.get(ROOT, "people").unwrap().unwrap();
            let (_, p) = am.get(&people, pid.as_str()).unwrap().unwrap();
            let mut tx = am.transaction();
            tx.put(&p, "erased", automerge::ScalarValue::Null).unwrap();
            tx.commit();
        }),
        "people/",
        Reason::Erased,
    );
    assert!(e.record.ends_with(".erased"), "{e}");
}

/// An erased volunteer stays erased in the directory, even against central staff's client.
#[test]
fn an_erased_volunteer_stays_erased() {
    use nabo_core::docs::volunteers::VolunteersDoc;
    use nabo_core::model::volunteer::Volunteer;
    let central = author(By::Staff("central".parse().unwrap()));
    let mut dir = VolunteersDoc::create("t1".parse().unwrap(), ActorId::random()).unwrap();
    let vid: VolunteerId = "v-jonas".parse().unwrap();
    let key = nabo_core::seal::SubjectKey::generate();
    dir.put_volunteer(
        &central,
        &vid,
        Volunteer {
            name: Some(nabo_core::seal::seal(&key, vid.as_str(), "Jonas").unwrap()),
            source: VolunteerSource::Resident,
            source_org: None,
            status: VolunteerStatus::Active,
            joined: date("2026-01-10"),
            resident: true,
            child_certificate: None,
            trainings: nabo_core::model::IdMap::new(),
            erased: None,
        },
    )
    .unwrap();
    judge_doc(&dir, &central_editor(), |d| {
        assert!(
            d.erase_volunteer(&central, &vid, date("2026-12-01"))
                .unwrap()
        );
    })
    .unwrap();
    dir.erase_volunteer(&central, &vid, date("2026-12-01"))
        .unwrap();
    assert!(
        !dir.erase_volunteer(&central, &vid, date("2026-12-02"))
            .unwrap()
    );
    let v = dir.volunteer(&vid).unwrap();
    assert!(v.name.is_none() && v.erased.is_some());
    let e = refused(
        judge_doc(&dir, &central_editor(), |d| {
            let am = d.doc_mut().automerge_mut();
            let (_, vols) = am.get(ROOT, "volunteers").unwrap().unwrap();
            let (_, v) = am.get(&vols, vid.as_str()).unwrap().unwrap();
            let mut tx = am.transaction();
            tx.put(&v, "erased", automerge::ScalarValue::Null).unwrap();
            tx.commit();
        }),
        "volunteers/",
        Reason::Erased,
    );
    assert!(e.record.ends_with(".erased"), "{e}");
}

/// An activity with one goal and a report on it with text (issue 11 item 4's reports).
fn activity_with_report() -> (ActivityDoc, ReportId, GoalId) {
    use nabo_core::model::activity::{Goal, GoalAssessment, GoalReport};
    let fx = Fixture::lektiecafe();
    let c = fx.central.clone();
    let mut act = fx.activity.clone();
    let goal = act
        .add_goal(
            &c,
            Goal {
                level: GoalLevel::Deliverable,
                text: "To caféaftener om ugen".into(),
                step: 1,
                leads_to: Set::new(),
                indicators: Set::new(),
                retired: None,
            },
        )
        .unwrap();
    let mut goals = nabo_core::model::IdMap::new();
    goals.insert(
        goal.clone(),
        GoalAssessment {
            status: GoalStatus::Partly,
            measurements: Set::new(),
            reasons: ["frivillige-faldet-fra".parse().unwrap()]
                .into_iter()
                .collect(),
            comment: "Ali og hans søster stoppede i marts.".into(),
        },
    );
    let rid = act
        .write_report(
            &c,
            fx.cat,
            None,
            GoalReport {
                from: date("2026-08-01"),
                to: date("2026-12-31"),
                intervention_area: "BE".parse().unwrap(),
                goals,
                narrative: "Caféen har kørt stabilt; Maja fra nr. 12 hjælper.".into(),
                success_themes: Set::new(),
                state: ReportState::Submitted,
                by: c.by.clone(),
                anonymised: None,
            },
        )
        .unwrap();
    (act, rid, goal)
}

/// A raw write into a report's map, as a foreign client makes it.
fn raw_report(
    act: &mut ActivityDoc,
    rid: &ReportId,
    f: impl FnOnce(&mut automerge::transaction::Transaction<'_>, &automerge::ObjId),
) {
    let am = act.doc_mut().automerge_mut();
    let (_, reports) = am.get(ROOT, "reports").unwrap().unwrap();
    let (_, r) = am.get(&reports, rid.as_str()).unwrap().unwrap();
    let mut tx = am.transaction();
    f(&mut tx, &r);
    tx.commit();
}

/// Issue 11 item 4: central staff (the retention job) blank a report's text at the end of its
/// retention; the numbers stay, the mark is final, no text comes back, and only central
/// staff anonymise or delete a report.
#[test]
fn a_report_is_anonymised_or_deleted_by_central_staff_only_and_stays_blank() {
    let (act, rid, goal) = activity_with_report();
    let central = author(By::Staff("central".parse().unwrap()));
    let ids = std::collections::BTreeSet::from([rid.clone()]);
    let on = date("2032-01-01");
    // Outreach staff may change a report, but not anonymise or delete one.
    let (worker, ali) = (
        outreach_editor("s-ali"),
        author(By::Staff("s-ali".parse().unwrap())),
    );
    judge_doc(&act, &worker, |a| {
        let mut r = a.reports().unwrap()[&rid].clone();
        r.narrative = "Rettet af Ali.".into();
        a.write_report(&ali, Catalogue::builtin().unwrap(), Some(rid.clone()), r)
            .unwrap();
    })
    .unwrap();
    let e = refused(
        judge_doc(&act, &worker, |a| {
            assert_eq!(a.anonymise_reports(&ali, &ids, on).unwrap(), 1);
        }),
        "reports/",
        Reason::NotPermitted,
    );
    assert!(e.record.ends_with(".anonymised"), "{e}");
    refused(
        judge_doc(&act, &worker, |a| {
            assert_eq!(a.delete_reports(&ali, &ids).unwrap(), 1);
        }),
        "reports/",
        Reason::NotPermitted,
    );
    // Central staff may do both, and so may the relay's job (central, signed by Nabo).
    let job = Editor {
        role: AppRole::Central,
        staff: None,
        volunteer: None,
    };
    let system = author(By::System);
    for (editor, by) in [(&central_editor(), &central), (&job, &system)] {
        judge_doc(&act, editor, |a| {
            a.anonymise_reports(by, &ids, on).unwrap();
        })
        .unwrap();
        judge_doc(&act, editor, |a| {
            a.delete_reports(by, &ids).unwrap();
        })
        .unwrap();
    }

    let mut blank = act.clone();
    assert_eq!(blank.anonymise_reports(&system, &ids, on).unwrap(), 1);
    let before = act.reports().unwrap()[&rid].clone();
    let after = blank.reports().unwrap()[&rid].clone();
    assert!(after.narrative.is_empty() && after.goals[&goal].comment.is_empty());
    assert_eq!(after.anonymised, Some(on));
    assert_eq!(
        (
            after.from,
            after.to,
            after.goals[&goal].status,
            &after.goals[&goal].reasons,
            after.state
        ),
        (
            before.from,
            before.to,
            before.goals[&goal].status,
            &before.goals[&goal].reasons,
            before.state
        ),
        "the numbers stay"
    );
    // Idempotent: nothing more to write.
    let heads = blank.doc().heads();
    assert_eq!(
        blank
            .anonymise_reports(&system, &ids, date("2033-01-01"))
            .unwrap(),
        0
    );
    assert_eq!(blank.doc().heads(), heads);
    assert_eq!(blank.reports().unwrap()[&rid].anonymised, Some(on));
    // An unknown report is refused.
    let e = blank
        .anonymise_reports(
            &system,
            &std::collections::BTreeSet::from(["nope".parse().unwrap()]),
            on,
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref i) if i.field == "report"),
        "{e}"
    );

    // No text comes back: not through the operation (the page rewriting the period) …
    let mut again = before.clone();
    again.anonymised = None;
    let e = blank
        .clone()
        .write_report(
            &central,
            Catalogue::builtin().unwrap(),
            Some(rid.clone()),
            again.clone(),
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref i) if i.field == "anonymised" && i.reason == Reason::Erased),
        "{e}"
    );
    // … (the numbers may still be corrected, the mark kept) …
    let mut numbers = again;
    numbers.narrative.clear();
    numbers.goals.get_mut(&goal).unwrap().comment.clear();
    numbers.success_themes = ["beboerdrevne-aktiviteter".parse().unwrap()]
        .into_iter()
        .collect();
    let mut fixed = blank.clone();
    fixed
        .write_report(
            &central,
            Catalogue::builtin().unwrap(),
            Some(rid.clone()),
            numbers,
        )
        .unwrap();
    assert_eq!(fixed.reports().unwrap()[&rid].anonymised, Some(on));
    // … nor around it, even from central staff's client; nor is the mark cleared.
    refused(
        judge_doc(&blank, &central_editor(), |a| {
            raw_report(a, &rid, |tx, r| {
                tx.put(r, "narrative", "Maja fra nr. 12").unwrap();
            })
        }),
        "reports/",
        Reason::Erased,
    );
    let e = refused(
        judge_doc(&blank, &central_editor(), |a| {
            raw_report(a, &rid, |tx, r| {
                tx.delete(r, "anonymised").unwrap();
            })
        }),
        "reports/",
        Reason::Erased,
    );
    assert!(e.record.ends_with(".anonymised"), "{e}");

    // Deleting removes the report; again is nothing.
    let mut gone = act.clone();
    assert_eq!(gone.delete_reports(&system, &ids).unwrap(), 1);
    assert!(!gone.reports().unwrap().contains_key(&rid));
    let heads = gone.doc().heads();
    assert_eq!(gone.delete_reports(&system, &ids).unwrap(), 0);
    assert_eq!(gone.doc().heads(), heads);
}
