//! Networks with member roles and meetings with agreed actions and their follow-up, and
//! observations from safety walks worked through on the estate office's list (issue 10
//! item 5, ADR 0023): the operations, and the rules the relay runs on them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, ReadDoc};
use common::*;
use nabo_core::docs::network::NetworkDoc;
use nabo_core::docs::outreach::OutreachDoc;
use nabo_core::model::network::{
    AgreedAction, FollowUp, Membership, Network, NetworkMeeting, NetworkRole,
};
use nabo_core::model::outreach::{Observation, ObservationStatus};
use nabo_core::prelude::*;
use nabo_core::rules::{self, Context, Editor};

fn refused<T: std::fmt::Debug>(r: Result<T>, field: &str, reason: Reason) {
    match r {
        Err(Error::Invalid(v)) => assert_eq!((v.field, v.reason), (field, reason), "{}", v.detail),
        other => panic!("expected {field}/{reason}, got {other:?}"),
    }
}

fn org(s: &str) -> OrgId {
    s.parse().unwrap()
}

fn team(central: &Author) -> NetworkDoc {
    NetworkDoc::create(
        "t1".parse().unwrap(),
        NetworkId::random(),
        ActorId::random(),
        central,
        Network {
            name: "Boligsocialt team".into(),
            leader: None,
            focus: NetworkFocus::IndividualCases,
            cadence: "hver 14. dag".into(),
            funded_by_lbf: false,
            areas: Set::new(),
            members: Set::new(),
            roles: IdMap::new(),
        },
    )
    .unwrap()
}

#[test]
fn members_have_roles_and_actions_are_followed_up() {
    let central = Author {
        by: staff("central"),
        at: at("2026-11-18", "10:00"),
    };
    let mut n = team(&central);
    let teknik = org("o-teknik");
    let social = org("o-social");
    n.set_member(
        &central,
        &teknik,
        Membership {
            role: NetworkRole::Convener,
            function: "Bygningskonstruktør".into(),
        },
    )
    .unwrap();
    n.set_member(
        &central,
        &social,
        Membership {
            role: NetworkRole::Member,
            function: "Socialrådgiver".into(),
        },
    )
    .unwrap();
    let net = n.network().unwrap();
    assert!(net.members.contains(&teknik) && net.members.contains(&social));
    assert_eq!(net.roles[&teknik].role, NetworkRole::Convener);
    assert!(nabo_core::docs::network::has_convener(&net));
    refused(
        n.set_member(
            &central,
            &social,
            Membership {
                role: NetworkRole::Member,
                function: "x".repeat(300),
            },
        ),
        "function",
        Reason::TooLong,
    );

    let action = |text: &str, owner: &OrgId, due: &str| AgreedAction {
        text: text.into(),
        owner: Some(owner.clone()),
        due: Some(date(due)),
        done: false,
        done_on: None,
        done_by: None,
    };
    let a1: ActionId = "a1".parse().unwrap();
    let a2: ActionId = "a2".parse().unwrap();
    let meeting = |actions: IdMap<ActionId, AgreedAction>| NetworkMeeting {
        date: date("2026-11-18"),
        attendees: [teknik.clone(), social.clone()].into_iter().collect(),
        agenda: "Sag 2026-14: genhusning".into(),
        actions,
        cancelled: false,
    };
    refused(
        n.record_meeting(
            &central,
            meeting(
                [(
                    a1.clone(),
                    action("Syn af ejendommen", &teknik, "2026-11-01"),
                )]
                .into_iter()
                .collect(),
            ),
        ),
        "due",
        Reason::EndBeforeStart,
    );
    let m = n
        .record_meeting(
            &central,
            meeting(
                [
                    (
                        a1.clone(),
                        action("Syn af ejendommen", &teknik, "2026-11-20"),
                    ),
                    (
                        a2.clone(),
                        action("Tilbud om genhusning", &social, "2026-12-15"),
                    ),
                ]
                .into_iter()
                .collect(),
            ),
        )
        .unwrap();
    let acts = &n.meetings().unwrap()[&m].actions;
    assert_eq!(acts[&a1].follow_up(date("2026-11-25")), FollowUp::Overdue);
    assert_eq!(acts[&a2].follow_up(date("2026-11-25")), FollowUp::Open);

    let later = Author {
        by: staff("ann-sophie"),
        at: at("2026-11-26", "09:00"),
    };
    n.set_action_done(&later, &m, &a1, true).unwrap();
    let a = n.meetings().unwrap()[&m].actions[&a1].clone();
    assert_eq!(a.follow_up(date("2026-11-27")), FollowUp::Done);
    assert_eq!(a.done_on, Some(date("2026-11-26")));
    assert_eq!(a.done_by, Some(staff("ann-sophie")));
    refused(
        n.set_action_done(&later, &m, &a1, true),
        "done",
        Reason::Inconsistent,
    );
    // Reopened (undo).
    n.set_action_done(&later, &m, &a1, false).unwrap();
    assert!(!n.meetings().unwrap()[&m].actions[&a1].done);
    refused(
        n.set_action_done(&later, &m, &"nope".parse().unwrap(), true),
        "action",
        Reason::NotFound,
    );

    // Leaving the network, and coming back.
    n.remove_member(&central, &social).unwrap();
    assert!(!n.network().unwrap().members.contains(&social));
    assert!(!n.network().unwrap().roles.contains_key(&social));
    refused(
        n.remove_member(&central, &social),
        "member",
        Reason::NotFound,
    );
    n.set_member(
        &central,
        &social,
        Membership {
            role: NetworkRole::AdHoc,
            function: String::new(),
        },
    )
    .unwrap();
    assert_eq!(n.network().unwrap().roles[&social].role, NetworkRole::AdHoc);
}

#[test]
fn a_network_stored_before_roles_still_reads() {
    let central = Author {
        by: staff("central"),
        at: now(),
    };
    let mut n = team(&central);
    // Remove the new field as an older app's document lacks it.
    let am = n.doc_mut().automerge_mut();
    let (_, net) = am.get(automerge::ROOT, "network").unwrap().unwrap();
    let mut tx = am.transaction();
    tx.delete(&net, "roles").unwrap();
    tx.commit();
    assert!(n.network().unwrap().roles.is_empty());
}

fn observation(at: Timestamp) -> Observation {
    Observation {
        at,
        kind: "belysning".parse().unwrap(),
        location: "opgang".parse().unwrap(),
        block: Some("Blok C".into()),
        routed_to: None,
        resolved: false,
        handling: IdMap::new(),
    }
}

#[test]
fn observations_are_worked_through_with_who_and_when() {
    let cat = Catalogue::builtin().unwrap();
    let ali = Author {
        by: staff("s-ali"),
        at: at("2026-11-18", "21:00"),
    };
    let mut log = OutreachDoc::create(
        "t1".parse().unwrap(),
        "s-ali".parse().unwrap(),
        "a-vestparken".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let o = log.observe(&ali, cat, observation(ali.at)).unwrap();
    assert_eq!(
        log.observations().unwrap()[&o].status(),
        ObservationStatus::New
    );
    let office = org("o-ejendomskontor");
    log.route_observation(&ali, &o, Some(office.clone()))
        .unwrap();
    let mette = Author {
        by: staff("s-mette"),
        at: at("2026-11-19", "08:00"),
    };
    log.set_observation_status(&mette, &o, ObservationStatus::InProgress)
        .unwrap();
    refused(
        log.set_observation_status(&mette, &o, ObservationStatus::InProgress),
        "status",
        Reason::Inconsistent,
    );
    let done = Author {
        at: at("2026-11-20", "12:00"),
        ..mette.clone()
    };
    log.set_observation_status(&done, &o, ObservationStatus::Resolved)
        .unwrap();
    let seen = log.observations().unwrap()[&o].clone();
    assert_eq!(seen.status(), ObservationStatus::Resolved);
    assert!(seen.resolved, "kept in step for older readers");
    assert_eq!(seen.routed_to, Some(office));
    let (_, last) = seen.last_update().unwrap();
    assert_eq!((last.by.clone(), last.at), (staff("s-mette"), done.at));
    assert_eq!(seen.handling.len(), 2);
    refused(
        log.set_observation_status(&done, &"o-nope".parse().unwrap(), ObservationStatus::New),
        "observation",
        Reason::NotFound,
    );
}

#[test]
fn the_rules_refuse_a_status_change_signed_by_someone_else() {
    let cat = Catalogue::builtin().unwrap();
    let ali = Author {
        by: staff("s-ali"),
        at: at("2026-11-18", "21:00"),
    };
    let mut log = OutreachDoc::create(
        "t1".parse().unwrap(),
        "s-ali".parse().unwrap(),
        "a-vestparken".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let o = log.observe(&ali, cat, observation(ali.at)).unwrap();
    let before = log.doc().heads();
    // Central staff member Mette's change, sent by Ali's login.
    let mette = Author {
        by: staff("s-mette"),
        at: at("2026-11-19", "08:00"),
    };
    log.set_observation_status(&mette, &o, ObservationStatus::Rejected)
        .unwrap();
    let changes = log.doc().automerge().get_changes(&before);
    let ctx = Context {
        catalogue: cat,
        free_text_notes: false,
        shifts: None,
    };
    let as_ = |s: &str, role| Editor {
        role,
        staff: Some(s.parse().unwrap()),
        volunteer: None,
    };
    rules::check(
        log.doc().automerge(),
        &before,
        &changes,
        &as_("s-mette", AppRole::Central),
        &ctx,
    )
    .expect("signed by the sender");
    assert!(
        rules::check(
            log.doc().automerge(),
            &before,
            &changes,
            &as_("s-ali", AppRole::Outreach),
            &ctx,
        )
        .is_err()
    );
}
