//! Change theories edited, reordered and retired; one-off sessions changed; a programme's
//! board checked (ADR 0026). Every operation is validated like creation: an unknown id is
//! refused and never created, a refusal changes nothing, and doing it twice writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use nabo_core::docs::register::NewSession;
use nabo_core::model::activity::{Goal, GoalAssessment, GoalReport, IndicatorDef, Measurement};
use nabo_core::model::programme::{Board, BoardMember};
use nabo_core::prelude::*;

fn refused<T: std::fmt::Debug>(r: Result<T>, field: &str, reason: Reason) {
    match r {
        Err(Error::Invalid(v)) => {
            assert_eq!((v.field, v.reason), (field, reason), "{}", v.detail);
        }
        other => panic!("expected {field}/{reason}, got {other:?}"),
    }
}

fn indicator(name: &str) -> IndicatorDef {
    IndicatorDef {
        library: None,
        name: name.into(),
        unit: IndicatorUnit::Count,
        source: IndicatorSource::Registration,
        hardness: Hardness::Hard,
        baseline: Some(10.0),
        target: Some(20.0),
        periodicity: "halvår".into(),
        retired: None,
    }
}

fn goal(level: GoalLevel, text: &str, step: u8) -> Goal {
    Goal {
        level,
        text: text.into(),
        step,
        leads_to: Set::new(),
        indicators: Set::new(),
        retired: None,
    }
}

/// The document's heads: equal before and after means nothing was written.
fn heads(a: &ActivityDoc) -> Vec<automerge::ChangeHash> {
    a.doc().heads()
}

#[test]
fn goals_are_edited_reordered_and_retired_through_the_rules_of_creation() {
    let mut f = Fixture::lektiecafe();
    let by = f.central.clone();
    let act = &mut f.activity;
    let ind = act
        .add_indicator(&by, f.cat, indicator("Deltagere"))
        .unwrap();
    let long = act
        .add_goal(&by, goal(GoalLevel::LongTerm, "Bedre skolegang", 5))
        .unwrap();
    let mut short = goal(GoalLevel::ShortTerm, "Flere laver lektier", 3);
    short.leads_to.insert(long.clone());
    short.indicators.insert(ind.clone());
    let short = act.add_goal(&by, short).unwrap();

    // Edited like creation: bad text, bad step, a link backwards, a circle, an unknown
    // indicator are refused and change nothing.
    let before = act.goals().unwrap();
    refused(
        act.update_goal(&by, &short, |g| g.text = " ".into()),
        "text",
        Reason::Missing,
    );
    refused(act.move_goal(&by, &short, 10), "step", Reason::OutOfRange);
    refused(
        act.update_goal(&by, &long, |g| {
            g.level = GoalLevel::LongTerm;
            g.leads_to.insert(short.clone());
        }),
        "leads_to",
        Reason::Inconsistent,
    );
    let other_long = act
        .add_goal(&by, goal(GoalLevel::LongTerm, "Trivsel", 6))
        .unwrap();
    act.update_goal(&by, &long, |g| {
        g.leads_to.insert(other_long.clone());
    })
    .unwrap();
    refused(
        act.update_goal(&by, &other_long, |g| {
            g.leads_to.insert(long.clone());
        }),
        "leads_to",
        Reason::Inconsistent,
    );
    refused(
        act.update_goal(&by, &long, |g| {
            g.leads_to.insert(long.clone());
        }),
        "leads_to",
        Reason::NotFound,
    );
    refused(
        act.update_goal(&by, &short, |g| {
            g.indicators.insert(IndicatorId::random());
        }),
        "indicators",
        Reason::NotFound,
    );
    let ghost = GoalId::random();
    refused(
        act.update_goal(&by, &ghost, |g| g.text = "Ny".into()),
        "goal",
        Reason::NotFound,
    );
    refused(
        act.set_goal_retired(&by, &ghost, Some(date("2026-10-01"))),
        "goal",
        Reason::NotFound,
    );
    assert!(!act.goals().unwrap().contains_key(&ghost), "never created");
    let after_refusals = act.goals().unwrap();
    assert_eq!(before[&short], after_refusals[&short], "nothing changed");

    // A good edit and a move; the same edit again writes nothing.
    act.update_goal(&by, &short, |g| g.text = "Flere børn laver lektier".into())
        .unwrap();
    act.move_goal(&by, &short, 2).unwrap();
    let g = &act.goals().unwrap()[&short];
    assert_eq!((g.text.as_str(), g.step), ("Flere børn laver lektier", 2));
    let h = heads(act);
    act.move_goal(&by, &short, 2).unwrap();
    act.update_goal(&by, &short, |g| g.text = "Flere børn laver lektier".into())
        .unwrap();
    assert_eq!(heads(act), h, "an edit that changes nothing writes nothing");

    // Retired: kept, and refused for edits and new links; retiring twice writes nothing.
    act.set_goal_retired(&by, &long, Some(date("2026-10-01")))
        .unwrap();
    let h = heads(act);
    act.set_goal_retired(&by, &long, Some(date("2026-11-01")))
        .unwrap();
    assert_eq!(heads(act), h, "retiring what is retired writes nothing");
    assert_eq!(
        act.goals().unwrap()[&long].retired,
        Some(date("2026-10-01"))
    );
    refused(
        act.update_goal(&by, &long, |g| g.text = "x".into()),
        "goal",
        Reason::NotActive,
    );
    let mut new = goal(GoalLevel::ShortTerm, "Ny", 3);
    new.leads_to.insert(long.clone());
    refused(act.add_goal(&by, new), "leads_to", Reason::NotActive);
    // An existing link to the retired goal is kept through other edits.
    act.update_goal(&by, &short, |g| g.step = 3).unwrap();
    assert!(act.goals().unwrap()[&short].leads_to.contains(&long));
    // Restored: editable again.
    act.set_goal_retired(&by, &long, None).unwrap();
    act.update_goal(&by, &long, |g| g.text = "Bedre skolegang for alle".into())
        .unwrap();
}

#[test]
fn indicators_are_edited_and_retired_and_leave_new_entries_but_not_history() {
    let mut f = Fixture::lektiecafe();
    let by = f.central.clone();
    let cat = f.cat;
    let act = &mut f.activity;
    let ind = act.add_indicator(&by, cat, indicator("Deltagere")).unwrap();
    let g = act
        .add_goal(&by, goal(GoalLevel::Deliverable, "Lektiecafé", 1))
        .unwrap();
    refused(
        act.update_indicator(&by, cat, &ind, |i| i.name = String::new()),
        "name",
        Reason::Missing,
    );
    refused(
        act.update_indicator(&by, cat, &ind, |i| i.target = Some(f64::NAN)),
        "target",
        Reason::OutOfRange,
    );
    refused(
        act.update_indicator(&by, cat, &ind, |i| {
            i.library = Some("findes.ikke".parse().unwrap())
        }),
        "library",
        Reason::UnknownCode,
    );
    let ghost = IndicatorId::random();
    refused(
        act.update_indicator(&by, cat, &ghost, |i| i.name = "x".into()),
        "indicator",
        Reason::NotFound,
    );
    refused(
        act.set_indicator_retired(&by, &ghost, None),
        "indicator",
        Reason::NotFound,
    );
    assert!(!act.indicators().unwrap().contains_key(&ghost));
    act.update_indicator(&by, cat, &ind, |i| {
        i.name = "Unikke deltagere".into();
        i.target = Some(30.0);
    })
    .unwrap();
    assert_eq!(act.indicators().unwrap()[&ind].target, Some(30.0));
    let h = heads(act);
    act.update_indicator(&by, cat, &ind, |i| i.target = Some(30.0))
        .unwrap();
    assert_eq!(heads(act), h);

    // A measurement in its unit: the unit cannot change any more.
    act.record_measurement(
        &by,
        Measurement {
            indicator: ind.clone(),
            from: date("2026-08-01"),
            to: date("2026-09-30"),
            value: 14.0,
            evidence: String::new(),
            by: by.by.clone(),
        },
    )
    .unwrap();
    refused(
        act.update_indicator(&by, cat, &ind, |i| i.unit = IndicatorUnit::Percent),
        "unit",
        Reason::Inconsistent,
    );

    // Retired from 1 October: refused for new goals and for measurements of later periods,
    // still accepted for a period it was live in (a late entry), kept in the history.
    act.set_indicator_retired(&by, &ind, Some(date("2026-10-01")))
        .unwrap();
    let h = heads(act);
    act.set_indicator_retired(&by, &ind, Some(date("2026-10-01")))
        .unwrap();
    assert_eq!(heads(act), h);
    let mut new = goal(GoalLevel::ShortTerm, "Ny", 3);
    new.indicators.insert(ind.clone());
    refused(act.add_goal(&by, new), "indicators", Reason::NotActive);
    refused(
        act.update_goal(&by, &g, |x| {
            x.indicators.insert(ind.clone());
        }),
        "indicators",
        Reason::NotActive,
    );
    let later = Measurement {
        indicator: ind.clone(),
        from: date("2026-10-01"),
        to: date("2026-12-31"),
        value: 3.0,
        evidence: String::new(),
        by: by.by.clone(),
    };
    refused(
        act.record_measurement(&by, later.clone()),
        "indicator",
        Reason::NotActive,
    );
    act.record_measurement(
        &by,
        Measurement {
            from: date("2026-09-01"),
            to: date("2026-09-30"),
            ..later.clone()
        },
    )
    .unwrap();
    refused(
        act.update_indicator(&by, cat, &ind, |i| i.name = "x".into()),
        "indicator",
        Reason::NotActive,
    );
    let def = &act.indicators().unwrap()[&ind];
    assert!(def.live_in(date("2026-09-30")) && !def.live_in(date("2026-10-01")));
    assert_eq!(act.measurements().unwrap().len(), 2, "history kept");
    act.set_indicator_retired(&by, &ind, None).unwrap();
    act.record_measurement(&by, later).unwrap();
}

#[test]
fn a_report_assesses_only_goals_live_in_its_period() {
    let mut f = Fixture::lektiecafe();
    let by = f.central.clone();
    let cat = f.cat;
    let act = &mut f.activity;
    let g = act
        .add_goal(&by, goal(GoalLevel::ShortTerm, "Flere laver lektier", 3))
        .unwrap();
    act.set_goal_retired(&by, &g, Some(date("2026-10-01")))
        .unwrap();
    let report = |from: &str, to: &str| {
        let mut goals = IdMap::new();
        goals.insert(
            g.clone(),
            GoalAssessment {
                status: GoalStatus::Achieved,
                measurements: Set::new(),
                reasons: Set::new(),
                comment: String::new(),
            },
        );
        GoalReport {
            from: date(from),
            to: date(to),
            intervention_area: "BE".parse().unwrap(),
            goals,
            narrative: String::new(),
            success_themes: Set::new(),
            state: ReportState::Submitted,
            by: by.by.clone(),
            anonymised: None,
        }
    };
    // The period it was live in (and overlapping the retirement) can still be reported.
    act.write_report(&by, cat, None, report("2026-08-01", "2026-12-31"))
        .unwrap();
    refused(
        act.write_report(&by, cat, None, report("2026-10-01", "2026-12-31")),
        "goals",
        Reason::NotActive,
    );
}

/// Goals and indicators written before retirement existed (no `retired` field) still read.
#[test]
fn goals_and_indicators_without_a_retirement_field_read_as_live() {
    let mut f = Fixture::lektiecafe();
    let by = f.central.clone();
    let ind = f
        .activity
        .add_indicator(&by, f.cat, indicator("Deltagere"))
        .unwrap();
    let g = f
        .activity
        .add_goal(&by, goal(GoalLevel::Deliverable, "Lektiecafé", 1))
        .unwrap();
    // Remove the field as an older writer would have left it out.
    let mut am = automerge::Automerge::load(&f.activity.doc().save()).unwrap();
    {
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;
        let mut tx = am.transaction();
        for (container, key) in [("goals", g.as_str()), ("indicators", ind.as_str())] {
            let (_, c) = tx.get(automerge::ROOT, container).unwrap().unwrap();
            let (_, r) = tx.get(&c, key).unwrap().unwrap();
            tx.delete(&r, "retired").unwrap();
        }
        tx.commit();
    }
    let old = ActivityDoc::load(&am.save(), automerge::ActorId::random()).unwrap();
    assert_eq!(old.goals().unwrap()[&g].retired, None);
    assert_eq!(old.indicators().unwrap()[&ind].retired, None);
}

#[test]
fn a_one_off_session_is_changed_and_keeps_its_roll_call() {
    let f = Fixture::lektiecafe();
    let by = f.central.clone();
    let mut reg = f.replica();
    let party = reg
        .add_session(
            &by,
            NewSession {
                date: date("2026-12-18"),
                start: Time::parse("17:00").unwrap(),
                end: Time::parse("20:00").unwrap(),
                venue: None,
                title: Some("Juleafslutning".into()),
            },
        )
        .unwrap();
    let ctx = f.ctx();
    let p = reg
        .add_participant(&by, ctx, date("2026-12-18"), Fixture::child("7-9", None))
        .unwrap();
    let evening = Author {
        by: by.by.clone(),
        at: at("2026-12-18", "19:00"),
    };
    reg.mark(&evening, ctx, &party, &p, AttendanceStatus::Present)
        .unwrap();
    // Refused like a new session: outside the term, ending before it starts, unknown id.
    refused(
        reg.change_session(&by, &party, |s| s.date = date("2027-01-08")),
        "date",
        Reason::OutsidePeriod,
    );
    refused(
        reg.change_session(&by, &party, |s| s.end = Time::parse("16:00").unwrap()),
        "end",
        Reason::EndBeforeStart,
    );
    let ghost = SessionId::random();
    refused(
        reg.change_session(&by, &ghost, |s| s.title = None),
        "session",
        Reason::NotFound,
    );
    assert!(!reg.view().unwrap().sessions.contains_key(&ghost));
    // Moved a day with another time and title: the same session, its roll call with it.
    reg.change_session(&by, &party, |s| {
        s.date = date("2026-12-17");
        s.start = Time::parse("16:30").unwrap();
        s.title = Some("  Julefest ".into());
    })
    .unwrap();
    let view = reg.view().unwrap();
    let s = &view.sessions[&party].current;
    assert_eq!(
        (s.date, s.start.to_string(), s.title.as_deref()),
        (date("2026-12-17"), "16:30".to_owned(), Some("Julefest"))
    );
    assert_eq!(
        view.attendance[&(party.clone(), p.clone())].current,
        AttendanceStatus::Present
    );
    assert_eq!(view.present(&party).len(), 1);
    let h = reg.doc().heads();
    reg.change_session(&by, &party, |s| s.date = date("2026-12-17"))
        .unwrap();
    assert_eq!(reg.doc().heads(), h, "no change, nothing written");
    // Cancelled: refused until restored.
    reg.set_cancelled(&by, &party, true).unwrap();
    refused(
        reg.change_session(&by, &party, |s| s.date = date("2026-12-16")),
        "session",
        Reason::NotActive,
    );
    reg.set_cancelled(&by, &party, false).unwrap();
    reg.change_session(&by, &party, |s| s.date = date("2026-12-16"))
        .unwrap();
}

#[test]
fn a_board_names_functions_and_has_at_most_one_chair() {
    let org = |s: &str| -> OrgId { s.parse().unwrap() };
    let member = |o: &str, function: &str, chair: bool| BoardMember {
        org: org(o),
        function: function.into(),
        chair,
    };
    let mut b = Board {
        kind: BoardType::Boligsocial,
        members: IdMap::new(),
    };
    b.members.insert(
        "bm-1".parse().unwrap(),
        member("o-kommune", "Direktør", true),
    );
    b.members
        .insert("bm-2".parse().unwrap(), member("o-bo", "Direktør", false));
    nabo_core::docs::tenant::check_board(&b).unwrap();
    b.members
        .insert("bm-3".parse().unwrap(), member("o-bo", "Formand", true));
    refused(
        nabo_core::docs::tenant::check_board(&b),
        "board.chair",
        Reason::Inconsistent,
    );
    b.members
        .insert("bm-3".parse().unwrap(), member("o-bo", " ", false));
    refused(
        nabo_core::docs::tenant::check_board(&b),
        "board.function",
        Reason::Missing,
    );
}
