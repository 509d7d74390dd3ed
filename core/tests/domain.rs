//! Every entity of DOMAIN.md §1, written and read back through its document, and every
//! validation rule answered with the field and the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use automerge::ActorId;
use common::*;
use nabo_core::docs::network::NetworkDoc;
use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
use nabo_core::docs::register::NewSession;
use nabo_core::docs::staff::StaffDoc;
use nabo_core::docs::tenant::{LocalActivityType, Settings, TenantDoc};
use nabo_core::docs::volunteers::{CertificateState, VolunteersDoc};
use nabo_core::model::activity::{Goal, GoalAssessment, GoalReport, IndicatorDef, Measurement};
use nabo_core::model::network::{AgreedAction, Network, NetworkMeeting};
use nabo_core::model::org::{Department, HousingArea, Organisation, Venue};
use nabo_core::model::outreach::{Consent, KnownPerson, Observation};
use nabo_core::model::programme::{Board, BoardMember, FundingShare, Programme};
use nabo_core::model::register::HeadcountBucket;
use nabo_core::model::staff::{Placement, PlacementDay, RoleAssignment, RoleScope, StaffMember};
use nabo_core::model::volunteer::{ChildCertificate, Engagement, Training, Volunteer};
use nabo_core::prelude::*;

fn refused<T: std::fmt::Debug>(r: Result<T>, field: &str, reason: Reason) {
    match r {
        Err(Error::Invalid(v)) => {
            assert_eq!((v.field, v.reason), (field, reason), "{}", v.detail);
        }
        other => panic!("expected {field}/{reason}, got {other:?}"),
    }
}

fn code(s: &str) -> Code {
    s.parse().expect("code")
}

#[test]
fn tenant_organisations_areas_and_programmes() {
    let cat = Catalogue::builtin().unwrap();
    let central = Author {
        by: staff("central"),
        at: now(),
    };
    let mut t = TenantDoc::create(
        "t1".parse().unwrap(),
        ActorId::random(),
        &central,
        Settings {
            name: "Boligselskabet Vest".into(),
            ..Settings::default()
        },
    )
    .unwrap();
    assert!(
        !t.settings().unwrap().free_text_notes,
        "free-text notes are off by default"
    );
    let kommune: OrgId = "o-kommune".parse().unwrap();
    let ppr: OrgId = "o-ppr".parse().unwrap();
    let bo: OrgId = "o-bo".parse().unwrap();
    t.put_organisation(
        &central,
        &kommune,
        Organisation {
            name: "Vestby Kommune".into(),
            kind: OrgKind::Kommune,
            parent: None,
            archived: false,
        },
    )
    .unwrap();
    t.put_organisation(
        &central,
        &ppr,
        Organisation {
            name: "PPR".into(),
            kind: OrgKind::KommuneDepartment,
            parent: Some(kommune.clone()),
            archived: false,
        },
    )
    .unwrap();
    t.put_organisation(
        &central,
        &bo,
        Organisation {
            name: "Boligselskabet Vest".into(),
            kind: OrgKind::HousingOrganisation,
            parent: None,
            archived: false,
        },
    )
    .unwrap();
    refused(
        t.put_organisation(
            &central,
            &"o-x".parse().unwrap(),
            Organisation {
                name: "X".into(),
                kind: OrgKind::Ngo,
                parent: Some("o-none".parse().unwrap()),
                archived: false,
            },
        ),
        "parent",
        Reason::NotFound,
    );
    let area: AreaId = "a-vest".parse().unwrap();
    let mut ha = HousingArea {
        name: "Vestparken".into(),
        tenure: Tenure::Almen,
        disadvantaged: true,
        municipality: Some(kommune.clone()),
        residents: Some(2400),
        departments: IdMap::new(),
        venues: IdMap::new(),
        blocks: Set::new(),
        archived: false,
    };
    ha.departments.insert(
        "d-12".parse().unwrap(),
        Department {
            name: "Afd. 12".into(),
            housing_org: Some(bo.clone()),
        },
    );
    ha.venues.insert(
        "v-beboerhus".parse().unwrap(),
        Venue {
            name: "Beboerhuset".into(),
        },
    );
    t.put_area(&central, &area, ha.clone()).unwrap();
    let private: AreaId = "a-privat".parse().unwrap();
    t.put_area(
        &central,
        &private,
        HousingArea {
            name: "Søhusene".into(),
            tenure: Tenure::Privat,
            disadvantaged: false,
            ..ha.clone()
        },
    )
    .unwrap();

    let mut funding = IdMap::new();
    funding.insert(
        "f-lbf".parse().unwrap(),
        FundingShare {
            kind: FunderKind::Lbf,
            org: None,
            share_pct: 75,
            amount_dkk: Some(7_400_000),
        },
    );
    funding.insert(
        "f-kommune".parse().unwrap(),
        FundingShare {
            kind: FunderKind::Kommune,
            org: Some(kommune.clone()),
            share_pct: 15,
            amount_dkk: None,
        },
    );
    funding.insert(
        "f-bo".parse().unwrap(),
        FundingShare {
            kind: FunderKind::HousingOrganisation,
            org: Some(bo.clone()),
            share_pct: 10,
            amount_dkk: None,
        },
    );
    let mut board_members = IdMap::new();
    board_members.insert(
        "bm-1".parse().unwrap(),
        BoardMember {
            org: kommune.clone(),
            function: "Direktør, Børn og Unge".into(),
            chair: true,
        },
    );
    let prog = Programme {
        name: "Helhedsplan Vestbyen 2023–2026".into(),
        start: date("2023-01-01"),
        end: date("2026-12-31"),
        funding_round: Some("2019-2026".into()),
        taxonomy: code("lbf-2019-2026"),
        funding,
        board: Some(Board {
            kind: BoardType::Boligsocial,
            members: board_members,
        }),
        areas: [area.clone(), private.clone()].into_iter().collect(),
        sites: IdMap::new(),
        selected_citizens: true,
        typologies: [
            GeographyTypology::AlmenPrivateMunicipal,
            GeographyTypology::AreasAndSelectedCitizens,
        ]
        .into_iter()
        .collect(),
        signatories: [kommune.clone(), bo.clone()].into_iter().collect(),
        resident_approval: Some(date("2022-11-01")),
        public_framing_pct: 60,
        continuation: [ContinuationApproach::Anchoring].into_iter().collect(),
        org_model: Some(OrgModel::Secretariat),
        process_phase: Some(3),
        archived: false,
    };
    let pid: ProgrammeId = "p1".parse().unwrap();
    t.put_programme(&central, cat, &pid, prog.clone()).unwrap();
    assert_eq!(t.programmes().unwrap()[&pid], prog);
    let mut over = prog.clone();
    over.funding.insert(
        "f-fond".parse().unwrap(),
        FundingShare {
            kind: FunderKind::Foundation,
            org: None,
            share_pct: 5,
            amount_dkk: None,
        },
    );
    refused(
        t.put_programme(&central, cat, &pid, over),
        "funding",
        Reason::OutOfRange,
    );
    let mut bad = prog.clone();
    bad.taxonomy = code("lbf-1999");
    refused(
        t.put_programme(&central, cat, &pid, bad),
        "taxonomy",
        Reason::UnknownCode,
    );
    let mut bad = prog.clone();
    bad.end = date("2022-01-01");
    refused(
        t.put_programme(&central, cat, &pid, bad),
        "end",
        Reason::EndBeforeStart,
    );
    let mut bad = prog;
    bad.areas.insert("a-nowhere".parse().unwrap());
    refused(
        t.put_programme(&central, cat, &pid, bad),
        "areas",
        Reason::NotFound,
    );

    // A local activity type, used by an activity through the extended catalogue.
    let local = LocalActivityType {
        taxonomy: code("lbf-2006-2010"),
        area: code("BU"),
        name_da: "Mødregruppe".into(),
        target_groups: [(code("kvinder"), Priority::Primary)].into_iter().collect(),
    };
    t.add_local_activity_type(&central, cat, &code("BU.moedregruppe"), local.clone())
        .unwrap();
    refused(
        t.add_local_activity_type(&central, cat, &code("SL.moedregruppe"), local.clone()),
        "code",
        Reason::Inconsistent,
    );
    refused(
        t.add_local_activity_type(
            &central,
            cat,
            &code("BE.lektiecafe"),
            LocalActivityType {
                area: code("BE"),
                ..local
            },
        ),
        "code",
        Reason::AlreadyExists,
    );
    let ext = t.catalogue(cat).unwrap();
    let a = ActivityDoc::create(
        "t1".parse().unwrap(),
        ActivityId::random(),
        ActorId::random(),
        &central,
        &ext,
        NewActivity::new(
            "Mødregruppen",
            pid.clone(),
            area.clone(),
            "lbf-2006-2010",
            "BU.moedregruppe",
        ),
    )
    .unwrap();
    assert!(!a.activity().unwrap().current.children_under_15);
    refused(
        ActivityDoc::create(
            "t1".parse().unwrap(),
            ActivityId::random(),
            ActorId::random(),
            &central,
            cat,
            NewActivity::new("x", pid, area, "lbf-2006-2010", "BU.moedregruppe"),
        ),
        "primary_type",
        Reason::UnknownCode,
    );
}

#[test]
fn staff_placement_history_and_the_twelve_roles() {
    let central = Author {
        by: staff("central"),
        at: now(),
    };
    let mut d = StaffDoc::create("t1".parse().unwrap(), ActorId::random()).unwrap();
    let ali: StaffId = "s-ali".parse().unwrap();
    let a1: AreaId = "a-1".parse().unwrap();
    let a2: AreaId = "a-2".parse().unwrap();
    let mut days = IdMap::new();
    days.insert(
        Weekday::Mon,
        PlacementDay {
            kind: PlacementKind::Local,
            area: Some(a1.clone()),
        },
    );
    days.insert(
        Weekday::Wed,
        PlacementDay {
            kind: PlacementKind::Central,
            area: None,
        },
    );
    let first = Placement {
        from: date("2025-01-01"),
        to: None,
        days,
    };
    let mut members = IdMap::new();
    members.insert("pl-1".parse().unwrap(), first);
    d.put_staff(
        &central,
        &ali,
        StaffMember {
            name: "Ali Hassan".into(),
            title: "Gadeplansmedarbejder".into(),
            employer: None,
            app_role: AppRole::Outreach,
            placements: members,
            active: true,
            left: None,
            erased: None,
        },
    )
    .unwrap();
    assert_eq!(
        d.placement_on(&ali, date("2026-03-01"))
            .unwrap()
            .unwrap()
            .summary(),
        Some(PlacementKind::Mix)
    );

    let mut days = IdMap::new();
    days.insert(
        Weekday::Mon,
        PlacementDay {
            kind: PlacementKind::Local,
            area: Some(a2.clone()),
        },
    );
    d.move_placement(
        &central,
        &ali,
        date("2026-09-01"),
        Placement {
            from: date("2026-09-01"),
            to: None,
            days,
        },
    )
    .unwrap();
    let before = d.placement_on(&ali, date("2026-08-31")).unwrap().unwrap();
    let after = d.placement_on(&ali, date("2026-09-01")).unwrap().unwrap();
    assert_eq!(
        before.days[&Weekday::Mon].area.as_ref(),
        Some(&a1),
        "history kept"
    );
    assert_eq!(after.days[&Weekday::Mon].area.as_ref(), Some(&a2));
    assert_eq!(before.to, Some(date("2026-08-31")));

    let mut bad = IdMap::new();
    bad.insert(
        Weekday::Tue,
        PlacementDay {
            kind: PlacementKind::Local,
            area: None,
        },
    );
    refused(
        d.move_placement(
            &central,
            &ali,
            date("2026-10-01"),
            Placement {
                from: date("2026-10-01"),
                to: None,
                days: bad,
            },
        ),
        "area",
        Reason::Missing,
    );

    for role in Role::ALL {
        d.assign_role(
            &central,
            RoleAssignment {
                staff: ali.clone(),
                scope: RoleScope::Programme("p1".parse().unwrap()),
                role: Some(*role),
                practice_role: None,
                from: date("2026-01-01"),
                to: None,
            },
        )
        .unwrap();
    }
    for pr in PracticeRole::ALL {
        d.assign_role(
            &central,
            RoleAssignment {
                staff: ali.clone(),
                scope: RoleScope::Activity("act-1".parse().unwrap()),
                role: None,
                practice_role: Some(*pr),
                from: date("2026-01-01"),
                to: None,
            },
        )
        .unwrap();
    }
    assert_eq!(d.assignments().unwrap().len(), 12);
    assert_eq!(
        Role::ALL.iter().filter(|r| r.is_organisational()).count(),
        5
    );
    refused(
        d.assign_role(
            &central,
            RoleAssignment {
                staff: ali.clone(),
                scope: RoleScope::Network("n1".parse().unwrap()),
                role: None,
                practice_role: None,
                from: date("2026-01-01"),
                to: None,
            },
        ),
        "role",
        Reason::Missing,
    );
    refused(
        d.assign_role(
            &central,
            RoleAssignment {
                staff: "s-nobody".parse().unwrap(),
                scope: RoleScope::Network("n1".parse().unwrap()),
                role: Some(Role::NetworkLeader),
                practice_role: None,
                from: date("2026-01-01"),
                to: None,
            },
        ),
        "staff",
        Reason::NotFound,
    );
}

#[test]
fn volunteers_child_certificates_engagements_and_warnings() {
    let cat = Catalogue::builtin().unwrap();
    let central = Author {
        by: staff("central"),
        at: now(),
    };
    let mut d = VolunteersDoc::create("t1".parse().unwrap(), ActorId::random()).unwrap();
    let maja: VolunteerId = "v-maja".parse().unwrap();
    let v = Volunteer {
        name: None,
        source: VolunteerSource::NationalOrganisation,
        source_org: None,
        status: VolunteerStatus::Active,
        joined: date("2026-08-01"),
        resident: false,
        child_certificate: Some(ChildCertificate {
            obtained: date("2026-08-05"),
            renewal_due: date("2027-01-10"),
        }),
        trainings: IdMap::new(),
        erased: None,
    };
    d.put_volunteer(&central, &maja, v.clone()).unwrap();
    // Warned 30 days ahead: due 10 January, warned from 11 December.
    assert_eq!(
        d.certificate_states(date("2026-12-11")).unwrap()[&maja],
        CertificateState::RenewalSoon
    );
    assert_eq!(
        d.certificate_states(date("2026-12-10")).unwrap()[&maja],
        CertificateState::Valid
    );
    assert_eq!(
        d.certificate_states(date("2026-09-01")).unwrap()[&maja],
        CertificateState::Valid
    );
    assert_eq!(
        d.certificate_states(date("2027-02-01")).unwrap()[&maja],
        CertificateState::Expired
    );
    refused(
        d.set_child_certificate(
            &central,
            &maja,
            ChildCertificate {
                obtained: date("2026-08-05"),
                renewal_due: date("2026-08-01"),
            },
        ),
        "renewal_due",
        Reason::EndBeforeStart,
    );
    refused(
        d.set_child_certificate(
            &central,
            &maja,
            ChildCertificate {
                obtained: date("2027-08-05"),
                renewal_due: date("2028-08-01"),
            },
        ),
        "obtained",
        Reason::OutOfRange,
    );
    d.add_training(
        &central,
        &maja,
        Training {
            name: "Konflikthåndtering".into(),
            date: date("2026-09-10"),
        },
    )
    .unwrap();
    let e = d
        .engage(
            &central,
            cat,
            Engagement {
                volunteer: maja.clone(),
                activity: "act-lektiecafe".parse().unwrap(),
                role: code("lektiehjaelper"),
                start: date("2026-08-11"),
                end: None,
            },
        )
        .unwrap();
    refused(
        d.engage(
            &central,
            cat,
            Engagement {
                volunteer: maja.clone(),
                activity: "act-x".parse().unwrap(),
                role: code("astronaut"),
                start: date("2026-08-11"),
                end: None,
            },
        ),
        "role",
        Reason::UnknownCode,
    );
    d.end_engagement(&central, &e, date("2026-12-17")).unwrap();
    assert!(!d.engagements().unwrap()[&e].active_on(date("2026-12-18")));
    d.set_status(&central, &maja, VolunteerStatus::Archived)
        .unwrap();
    refused(
        d.engage(
            &central,
            cat,
            Engagement {
                volunteer: maja,
                activity: "act-x".parse().unwrap(),
                role: code("lektiehjaelper"),
                start: date("2026-08-11"),
                end: None,
            },
        ),
        "volunteer",
        Reason::NotActive,
    );
}

#[test]
fn sessions_recurring_and_one_off_attendance_modes_and_hours() {
    let f = Fixture::lektiecafe();
    let ctx = f.ctx();
    let mut reg = f.replica();
    let v = reg.view().unwrap();
    // Tuesdays 11 Aug – 15 Dec (19) and Thursdays 13 Aug – 17 Dec (19) of 2026.
    assert_eq!(v.sessions.len(), 38);
    assert!(v.sessions.values().all(|s| s.current.series.is_some()));
    let party = reg
        .add_session(
            &f.central,
            NewSession {
                date: date("2026-12-18"),
                start: Time::hm(16, 0).unwrap(),
                end: Time::hm(19, 0).unwrap(),
                venue: None,
                title: Some("Juleafslutning".into()),
            },
        )
        .unwrap();
    refused(
        reg.add_session(
            &f.central,
            NewSession {
                date: date("2027-01-05"),
                start: Time::hm(16, 0).unwrap(),
                end: Time::hm(19, 0).unwrap(),
                venue: None,
                title: None,
            },
        ),
        "date",
        Reason::OutsidePeriod,
    );
    refused(
        reg.add_session(
            &f.central,
            NewSession {
                date: date("2026-12-18"),
                start: Time::hm(16, 0).unwrap(),
                end: Time::hm(15, 0).unwrap(),
                venue: None,
                title: None,
            },
        ),
        "end",
        Reason::EndBeforeStart,
    );
    let s = f.session_on(&reg, "2026-11-19");
    let maja = Author {
        by: volunteer("v-maja"),
        at: at("2026-11-19", "15:00"),
    };
    let p = reg
        .add_participant(
            &maja,
            ctx,
            date("2026-11-19"),
            Fixture::child("10-12", None),
        )
        .unwrap();
    refused(
        reg.add_participant(
            &maja,
            ctx,
            date("2026-11-19"),
            Fixture::child("11-12", None),
        ),
        "age_band",
        Reason::OutOfRange,
    );
    refused(
        reg.add_participant(
            &maja,
            ctx,
            date("2026-11-19"),
            NewParticipant {
                recruitment: Some("telepati".into()),
                ..Fixture::child("10-12", None)
            },
        ),
        "recruitment",
        Reason::UnknownCode,
    );
    reg.mark(&maja, ctx, &s, &p, AttendanceStatus::Present)
        .unwrap();
    refused(
        reg.mark(
            &maja,
            ctx,
            &"nope".parse().unwrap(),
            &p,
            AttendanceStatus::Present,
        ),
        "session",
        Reason::NotFound,
    );
    refused(
        reg.mark(
            &maja,
            ctx,
            &s,
            &"nobody".parse().unwrap(),
            AttendanceStatus::Present,
        ),
        "participant",
        Reason::NotFound,
    );
    let future = f.session_on(&reg, "2026-12-15");
    refused(
        reg.mark(&maja, ctx, &future, &p, AttendanceStatus::Present),
        "session",
        Reason::OutOfRange,
    );
    reg.mark(&maja, ctx, &future, &p, AttendanceStatus::Excused)
        .unwrap();

    // Volunteer hours.
    reg.check_in(&maja, ctx, &s, &f.vol_ok, at("2026-11-19", "14:50"))
        .unwrap();
    refused(
        reg.check_out(&maja, &s, &f.vol_ok, at("2026-11-19", "14:00")),
        "at",
        Reason::EndBeforeStart,
    );
    reg.check_out(&maja, &s, &f.vol_ok, at("2026-11-19", "17:20"))
        .unwrap();
    let v = reg.view().unwrap();
    assert_eq!(v.volunteer_minutes()[&f.vol_ok], 150);
    refused(
        reg.check_out(&maja, &s, &f.vol_missing, at("2026-11-19", "17:00")),
        "volunteer",
        Reason::NotFound,
    );
    refused(
        reg.check_in(
            &maja,
            ctx,
            &s,
            &"v-stranger".parse().unwrap(),
            at("2026-11-19", "15:00"),
        ),
        "volunteer",
        Reason::NotFound,
    );

    // The child certificate rule: the café's target groups include children under 15.
    refused(
        reg.check_in(&maja, ctx, &s, &f.vol_missing, at("2026-11-19", "15:00")),
        "volunteer",
        Reason::ChildCertificateRequired,
    );
    refused(
        reg.sign_up(&maja, ctx, &future, &f.vol_missing),
        "volunteer",
        Reason::ChildCertificateRequired,
    );
    reg.sign_up(&maja, ctx, &future, &f.vol_ok).unwrap();
    // A certificate that expires before the session does not count.
    let expiring = nabo_core::docs::volunteers::Certificates::one(
        f.vol_ok.clone(),
        Some(nabo_core::model::volunteer::ChildCertificate {
            obtained: date("2025-01-05"),
            renewal_due: date("2026-12-01"),
        }),
    );
    let ctx2 = RegisterContext {
        certificates: &expiring,
        ..f.ctx()
    };
    refused(
        reg.sign_up(&maja, ctx2, &future, &f.vol_ok),
        "volunteer",
        Reason::ChildCertificateRequired,
    );

    reg.staff_present(&f.central, &party, &"s-ali".parse().unwrap(), 180)
        .unwrap();
    refused(
        reg.staff_present(&f.central, &party, &"s-ali".parse().unwrap(), 0),
        "minutes",
        Reason::OutOfRange,
    );
}

#[test]
fn headcount_mode_refuses_names_and_counts_by_bucket() {
    let f = Fixture::with_mode(AttendanceMode::Headcount);
    let ctx = f.ctx();
    let mut reg = f.replica();
    let s = f.session_on(&reg, "2026-11-19");
    refused(
        reg.add_participant(
            &f.central,
            ctx,
            date("2026-11-19"),
            Fixture::child("10-12", None),
        ),
        "participant",
        Reason::NotAllowedInMode,
    );
    let b = HeadcountBucket {
        age_band: "7-9".into(),
        gender: Some(Gender::Female),
        resident: Some(true),
        first_time: false,
    };
    reg.set_headcount(&f.central, ctx, &s, b.clone(), 12)
        .unwrap();
    reg.set_headcount(&f.central, ctx, &s, HeadcountBucket::all(), 30)
        .unwrap();
    refused(
        reg.set_headcount(
            &f.central,
            ctx,
            &s,
            HeadcountBucket {
                age_band: "99-100".into(),
                ..b.clone()
            },
            1,
        ),
        "age_band",
        Reason::OutOfRange,
    );
    refused(
        reg.set_headcount(&f.central, ctx, &s, b.clone(), 100_000),
        "count",
        Reason::OutOfRange,
    );
    let v = reg.view().unwrap();
    assert_eq!(v.headcounts[&(s.clone(), b)].current, 12);
    assert_eq!(v.headcounts.len(), 2);
}

#[test]
fn a_child_on_the_register_triggers_the_certificate_rule_even_for_an_adult_activity() {
    let cat = Catalogue::builtin().unwrap();
    let central = Author {
        by: staff("central"),
        at: at("2026-08-01", "09:00"),
    };
    let mut input = NewActivity::new(
        "Fællesspisning",
        "p1".parse().unwrap(),
        "a1".parse().unwrap(),
        "lbf-2006-2010",
        "SL.faellesspisning",
    );
    input.attendance_mode = AttendanceMode::Pseudonymous;
    let mut act = ActivityDoc::create(
        "t1".parse().unwrap(),
        ActivityId::random(),
        ActorId::random(),
        &central,
        cat,
        input,
    )
    .unwrap();
    assert!(!act.activity().unwrap().current.children_under_15);
    let vol: VolunteerId = "v-kok".parse().unwrap();
    act.set_roster(
        &central,
        cat,
        &vol,
        nabo_core::model::activity::RosterVolunteer {
            role: code("kok-madklub"),
            cleared_for_children_until: None,
            active: true,
        },
    )
    .unwrap();
    let snap = act.snapshot().unwrap();
    let ctx = RegisterContext {
        catalogue: cat,
        activity: &snap,
        certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
    };
    let mut reg = nabo_core::docs::register::RegisterDoc::create(
        "t1".parse().unwrap(),
        act.id().clone(),
        "2026H2".parse().unwrap(),
        ActorId::random(),
        &central,
        ctx,
    )
    .unwrap();
    let s = reg
        .add_session(
            &central,
            NewSession {
                date: date("2026-11-20"),
                start: Time::hm(17, 0).unwrap(),
                end: Time::hm(20, 0).unwrap(),
                venue: None,
                title: None,
            },
        )
        .unwrap();
    reg.check_in(&central, ctx, &s, &vol, at("2026-11-20", "16:30"))
        .unwrap();
    reg.add_participant(
        &central,
        ctx,
        date("2026-11-20"),
        Fixture::child("7-9", None),
    )
    .unwrap();
    refused(
        reg.sign_up(&central, ctx, &s, &vol),
        "volunteer",
        Reason::ChildCertificateRequired,
    );
}

#[test]
fn change_theory_measurements_and_goal_reports() {
    let f = Fixture::lektiecafe();
    let mut act = f.activity.clone();
    let c = &f.central;
    act.add_challenge(c, "Mange børn får ikke hjælp til lektier derhjemme")
        .unwrap();
    let ind = act
        .add_indicator(
            c,
            f.cat,
            IndicatorDef {
                library: Some(code("attendance.unique-participants")),
                name: String::new(),
                unit: IndicatorUnit::Count,
                source: IndicatorSource::Registration,
                hardness: Hardness::Hard,
                baseline: Some(10.0),
                target: Some(25.0),
                periodicity: "term".into(),
                retired: None,
            },
        )
        .unwrap();
    assert_eq!(act.indicators().unwrap()[&ind].name, "Unikke deltagere");
    refused(
        act.add_indicator(
            c,
            f.cat,
            IndicatorDef {
                library: Some(code("no.such")),
                name: "x".into(),
                unit: IndicatorUnit::Count,
                source: IndicatorSource::Survey,
                hardness: Hardness::Soft,
                baseline: None,
                target: None,
                periodicity: "year".into(),
                retired: None,
            },
        ),
        "library",
        Reason::UnknownCode,
    );
    let long = act
        .add_goal(
            c,
            Goal {
                level: GoalLevel::LongTerm,
                text: "Flere unge gennemfører en ungdomsuddannelse".into(),
                step: 4,
                leads_to: Set::new(),
                indicators: Set::new(),
                retired: None,
            },
        )
        .unwrap();
    let short = act
        .add_goal(
            c,
            Goal {
                level: GoalLevel::ShortTerm,
                text: "Børnene laver lektier regelmæssigt".into(),
                step: 3,
                leads_to: [long.clone()].into_iter().collect(),
                indicators: [ind.clone()].into_iter().collect(),
                retired: None,
            },
        )
        .unwrap();
    let deliv = act
        .add_goal(
            c,
            Goal {
                level: GoalLevel::Deliverable,
                text: "To caféaftener om ugen".into(),
                step: 1,
                leads_to: [short.clone()].into_iter().collect(),
                indicators: Set::new(),
                retired: None,
            },
        )
        .unwrap();
    refused(
        act.add_goal(
            c,
            Goal {
                level: GoalLevel::LongTerm,
                text: "x".into(),
                step: 5,
                leads_to: [deliv.clone()].into_iter().collect(),
                indicators: Set::new(),
                retired: None,
            },
        ),
        "leads_to",
        Reason::Inconsistent,
    );
    refused(
        act.add_goal(
            c,
            Goal {
                level: GoalLevel::LongTerm,
                text: "x".into(),
                step: 12,
                leads_to: Set::new(),
                indicators: Set::new(),
                retired: None,
            },
        ),
        "step",
        Reason::OutOfRange,
    );
    assert_eq!(act.short_term_step().unwrap(), Some(3));
    let m = act
        .record_measurement(
            c,
            Measurement {
                indicator: ind.clone(),
                from: date("2026-08-01"),
                to: date("2026-12-31"),
                value: 19.0,
                evidence: "Nabo-registrering".into(),
                by: c.by.clone(),
            },
        )
        .unwrap();
    refused(
        act.record_measurement(
            c,
            Measurement {
                indicator: ind.clone(),
                from: date("2026-08-01"),
                to: date("2026-07-31"),
                value: 1.0,
                evidence: String::new(),
                by: c.by.clone(),
            },
        ),
        "to",
        Reason::EndBeforeStart,
    );
    refused(
        act.record_measurement(
            c,
            Measurement {
                indicator: ind,
                from: date("2026-08-01"),
                to: date("2026-12-31"),
                value: f64::NAN,
                evidence: String::new(),
                by: c.by.clone(),
            },
        ),
        "value",
        Reason::OutOfRange,
    );

    let mut goals = IdMap::new();
    goals.insert(
        short.clone(),
        GoalAssessment {
            status: GoalStatus::Partly,
            measurements: [m.clone()].into_iter().collect(),
            reasons: [code("frivillige-faldet-fra")].into_iter().collect(),
            comment: String::new(),
        },
    );
    let report = GoalReport {
        from: date("2026-08-01"),
        to: date("2026-12-31"),
        intervention_area: code("BE"),
        goals: goals.clone(),
        narrative: "Caféen har kørt stabilt.".into(),
        success_themes: Set::new(),
        state: ReportState::Draft,
        by: c.by.clone(),
        anonymised: None,
    };
    let rid = act.write_report(c, f.cat, None, report.clone()).unwrap();
    assert_eq!(act.reports().unwrap()[&rid], report);
    let mut no_reason = report.clone();
    no_reason.goals.get_mut(&short).unwrap().reasons = Set::new();
    refused(
        act.write_report(c, f.cat, None, no_reason),
        "reasons",
        Reason::Missing,
    );
    let mut bad_area = report.clone();
    bad_area.intervention_area = code("XX");
    refused(
        act.write_report(c, f.cat, None, bad_area),
        "intervention_area",
        Reason::UnknownCode,
    );
    let mut bad_reason = report;
    bad_reason.goals.get_mut(&short).unwrap().reasons = [code("vejret")].into_iter().collect();
    refused(
        act.write_report(c, f.cat, None, bad_reason),
        "reasons",
        Reason::UnknownCode,
    );

    // Moving the activity keeps the area its earlier records were captured in.
    let old = act.activity().unwrap().current.area;
    act.move_to_area(c, f.cat, "a-oest".parse().unwrap(), date("2027-01-01"))
        .unwrap();
    let a = act.activity().unwrap().current;
    assert_eq!(a.area_on(date("2026-10-01")), &old);
    assert_eq!(a.area_on(date("2027-02-01")).as_str(), "a-oest");
}

#[test]
fn outreach_contacts_are_anonymous_by_default_and_referrals_follow_consent() {
    let cat = Catalogue::builtin().unwrap();
    let worker: StaffId = "s-ali".parse().unwrap();
    let ali = Author {
        by: By::Staff(worker.clone()),
        at: at("2026-11-10", "19:30"),
    };
    let mut log = OutreachDoc::create(
        "t1".parse().unwrap(),
        worker,
        "a1".parse().unwrap(),
        "2026Q4".parse().unwrap(),
        ActorId::random(),
    )
    .unwrap();
    let mut c = NewContact::anonymous(ali.at, "legeplads", "uformelt-moede", 3, "15-17");
    c.topics = vec!["skole-uddannelse".into(), "fritid".into()];
    c.outcomes = vec!["raad-vejledning".into()];
    c.activity_type = Some("BU.gadeplansarbejde".into());
    let cid = log.log_contact(&ali, cat, false, c.clone()).unwrap();
    let stored = &log.contacts().unwrap()[&cid];
    assert!(stored.participant.is_none() && stored.note.is_none());
    assert_eq!(stored.count, 3);
    refused(
        log.log_contact(
            &ali,
            cat,
            false,
            NewContact {
                note: Some(Sealed(vec![1; 40])),
                ..c.clone()
            },
        ),
        "note",
        Reason::FreeTextDisabled,
    );
    log.log_contact(
        &ali,
        cat,
        true,
        NewContact {
            note: Some(Sealed(vec![1; 40])),
            ..c.clone()
        },
    )
    .unwrap();
    refused(
        log.log_contact(
            &ali,
            cat,
            false,
            NewContact {
                location: "adresse".into(),
                ..c.clone()
            },
        ),
        "location",
        Reason::UnknownCode,
    );
    refused(
        log.log_contact(
            &ali,
            cat,
            false,
            NewContact {
                topics: vec!["politik".into()],
                ..c.clone()
            },
        ),
        "topics",
        Reason::UnknownCode,
    );
    refused(
        log.log_contact(
            &ali,
            cat,
            false,
            NewContact {
                count: 0,
                ..c.clone()
            },
        ),
        "count",
        Reason::OutOfRange,
    );
    refused(
        log.log_contact(
            &ali,
            cat,
            false,
            NewContact {
                at: at("2027-01-02", "12:00"),
                ..c.clone()
            },
        ),
        "at",
        Reason::OutsidePeriod,
    );
    refused(
        log.log_contact(
            &ali,
            cat,
            false,
            NewContact {
                activity_type: Some("BU.raketbyg".into()),
                ..c.clone()
            },
        ),
        "activity_type",
        Reason::UnknownCode,
    );

    // Upgrade to a known person with consent, then a referral that shares details.
    let p: ParticipantId = ParticipantId::random();
    refused(
        log.add_person(
            &ali,
            cat,
            &p,
            KnownPerson {
                age_band: code("15-17"),
                label: None,
                basis: LegalBasis::Consent,
                basis_text: None,
                consent: None,
                added_on: date("2026-11-10"),
                erased: None,
            },
        ),
        "consent",
        Reason::Missing,
    );
    let consent = Consent {
        given_on: date("2026-11-10"),
        by_guardian: false,
        scope: [code("follow-up"), code("share-with-partners")]
            .into_iter()
            .collect(),
        channel: code("oral"),
        withdrawn_on: None,
        relation: None,
        partners: nabo_core::model::Set::new(),
    };
    log.add_person(
        &ali,
        cat,
        &p,
        KnownPerson {
            age_band: code("15-17"),
            label: None,
            basis: LegalBasis::Consent,
            basis_text: None,
            consent: Some(consent.clone()),
            added_on: date("2026-11-10"),
            erased: None,
        },
    )
    .unwrap();
    log.log_contact(
        &ali,
        cat,
        false,
        NewContact {
            participant: Some(p.clone()),
            count: 1,
            ..c.clone()
        },
    )
    .unwrap();
    let referral = NewReferral {
        at: ali.at,
        from_contact: Some(cid),
        from_activity: None,
        participant: Some(p.clone()),
        to: "uu-vejleder".into(),
        to_org: None,
        to_activity: None,
        kind: ReferralKind::Bisidder,
        consent_to_share: true,
    };
    let r = log.refer(&ali, cat, referral.clone()).unwrap();
    log.set_referral_status(&ali, &r, ReferralStatus::Completed)
        .unwrap();
    refused(
        log.set_referral_status(&ali, &r, ReferralStatus::Ongoing),
        "status",
        Reason::NotAllowed,
    );
    refused(
        log.refer(
            &ali,
            cat,
            NewReferral {
                to: "nasa".into(),
                ..referral.clone()
            },
        ),
        "to",
        Reason::UnknownCode,
    );
    refused(
        log.refer(
            &ali,
            cat,
            NewReferral {
                kind: ReferralKind::Recruitment,
                ..referral.clone()
            },
        ),
        "to_activity",
        Reason::Missing,
    );
    // A withdrawal counts from its day (ADR 0027): sharing on that day is refused.
    log.withdraw_consent(&ali, &p, ali.at.date_dk()).unwrap();
    refused(
        log.refer(&ali, cat, referral.clone()),
        "consent_to_share",
        Reason::ConsentWithdrawn,
    );
    refused(
        log.refer(
            &ali,
            cat,
            NewReferral {
                participant: None,
                ..referral.clone()
            },
        ),
        "consent_to_share",
        Reason::Inconsistent,
    );
    // A withdrawn consent is not given again in the same record (ADR 0027) …
    refused(
        log.record_consent(&ali, cat, &p, consent.clone(), 15),
        "consent.withdrawn_on",
        Reason::ConsentWithdrawn,
    );
    // … while a person followed on the organisation's task may consent later (recorded on
    // the review pages), and from then on their details may be shared.
    let q = ParticipantId::random();
    log.add_person(
        &ali,
        cat,
        &q,
        KnownPerson {
            age_band: code("15-17"),
            label: None,
            basis: LegalBasis::PublicTask,
            basis_text: None,
            consent: None,
            added_on: date("2026-11-10"),
            erased: None,
        },
    )
    .unwrap();
    let share_q = NewReferral {
        participant: Some(q.clone()),
        from_contact: None,
        ..referral
    };
    refused(
        log.refer(&ali, cat, share_q.clone()),
        "consent_to_share",
        Reason::NoLegalBasis,
    );
    refused(
        log.record_consent(&ali, cat, &ParticipantId::random(), consent.clone(), 15),
        "participant",
        Reason::NotFound,
    );
    log.record_consent(&ali, cat, &q, consent.clone(), 15)
        .unwrap();
    assert_eq!(log.people().unwrap()[&q].basis, LegalBasis::PublicTask);
    log.refer(&ali, cat, share_q).unwrap();

    log.observe(
        &ali,
        cat,
        Observation {
            at: ali.at,
            kind: code("belysning"),
            location: code("opgang"),
            block: Some("Blok C".into()),
            routed_to: None,
            resolved: false,
            handling: IdMap::new(),
        },
    )
    .unwrap();
    refused(
        log.observe(
            &ali,
            cat,
            Observation {
                at: ali.at,
                kind: code("naboer"),
                location: code("opgang"),
                block: None,
                routed_to: None,
                resolved: false,
                handling: IdMap::new(),
            },
        ),
        "kind",
        Reason::UnknownCode,
    );
    assert_eq!(log.view().unwrap().observations.len(), 1);
}

/// A day in a rule is the Danish calendar day: a contact logged at 00:30 on the first night
/// of a quarter belongs to the new quarter (its UTC date is still in the old one), and a
/// follow-up "today" is not in the past.
#[test]
fn rules_use_the_danish_day_around_midnight_and_the_summer_time_switches() {
    let cat = Catalogue::builtin().unwrap();
    let worker: StaffId = "s-ali".parse().unwrap();
    let log_for = |q: &str| {
        OutreachDoc::create(
            "t1".parse().unwrap(),
            worker.clone(),
            "a1".parse().unwrap(),
            q.parse().unwrap(),
            ActorId::random(),
        )
        .unwrap()
    };
    // New Year's night (winter time), the first night of Q2 and of Q4 (summer time).
    for (day, time, new_q, old_q) in [
        ("2027-01-01", "00:30", "2027Q1", "2026Q4"),
        ("2026-04-01", "01:30", "2026Q2", "2026Q1"),
        ("2026-10-01", "01:59", "2026Q4", "2026Q3"),
    ] {
        let ali = Author {
            by: By::Staff(worker.clone()),
            at: at(day, time),
        };
        let mut c = NewContact::anonymous(ali.at, "legeplads", "uformelt-moede", 2, "15-17");
        c.followup = Some(date(day));
        log_for(new_q)
            .log_contact(&ali, cat, false, c.clone())
            .unwrap_or_else(|e| panic!("{day} {time} in {new_q}: {e}"));
        refused(
            log_for(old_q).log_contact(&ali, cat, false, c),
            "at",
            Reason::OutsidePeriod,
        );
    }
}

#[test]
fn networks_and_meetings_at_organisation_level() {
    let central = Author {
        by: staff("central"),
        at: now(),
    };
    let police: OrgId = "o-politi".parse().unwrap();
    let kommune: OrgId = "o-kommune".parse().unwrap();
    let mut n = NetworkDoc::create(
        "t1".parse().unwrap(),
        NetworkId::random(),
        ActorId::random(),
        &central,
        Network {
            name: "Tryghedsnetværk Vest".into(),
            leader: Some("s-ali".parse().unwrap()),
            focus: NetworkFocus::Coordination,
            cadence: "hver 6. uge".into(),
            funded_by_lbf: false,
            areas: Set::new(),
            members: [police.clone(), kommune.clone()].into_iter().collect(),
            roles: IdMap::new(),
        },
    )
    .unwrap();
    let mut actions = IdMap::new();
    let aid: ActionId = "x1".parse().unwrap();
    actions.insert(
        aid.clone(),
        AgreedAction {
            text: "Bedre belysning ved stien".into(),
            owner: Some(kommune.clone()),
            due: Some(date("2026-12-15")),
            done: false,
            done_on: None,
            done_by: None,
        },
    );
    let m = n
        .record_meeting(
            &central,
            NetworkMeeting {
                date: date("2026-11-18"),
                attendees: [police.clone()].into_iter().collect(),
                agenda: "Status".into(),
                actions,
                cancelled: false,
            },
        )
        .unwrap();
    n.complete_action(&central, &m, &aid).unwrap();
    assert!(n.meetings().unwrap()[&m].actions[&aid].done);
    refused(
        n.record_meeting(
            &central,
            NetworkMeeting {
                date: date("2026-11-18"),
                attendees: ["o-fremmed".parse().unwrap()].into_iter().collect(),
                agenda: String::new(),
                actions: IdMap::new(),
                cancelled: false,
            },
        ),
        "attendees",
        Reason::NotFound,
    );
}

#[test]
fn documents_refuse_the_wrong_kind_and_record_their_history() {
    let f = Fixture::lektiecafe();
    let bytes = f.register.doc().save();
    match ActivityDoc::load(&bytes, ActorId::random()) {
        Err(Error::WrongKind {
            expected: DocKind::Activity,
            found: DocKind::Register,
        }) => {}
        other => panic!("{other:?}"),
    }
    // History names the operation and the author, never a person's data.
    let h = f.register.doc().history();
    assert!(
        h.iter()
            .any(|e| e.note.as_ref().is_some_and(|n| n.op == "generate-sessions"))
    );
    assert_eq!(h[0].time, 0, "the skeleton change is timeless");
}
