//! The demo's cooperation (issue 10 item 5): the safety network of Vestparken with its member
//! roles, meetings and actions to follow up; the municipality's cross-department team (seed
//! 003: a building surveyor from the technical administration, a social worker, a case
//! worker from children and families, an educator from integration) with the housing
//! organisation, as a network; and observations from a safety walk routed to the estate
//! office, in every status. Made with the core's operations, like the rest of the demo.

use nabo_core::docs::network::NetworkDoc;
use nabo_core::docs::outreach::OutreachDoc;
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::model::network::{AgreedAction, Membership, Network, NetworkMeeting, NetworkRole};
use nabo_core::model::org::Organisation;
use nabo_core::model::outreach::{Observation, ObservationStatus};
use nabo_core::prelude::*;

use super::{hm, id, save, store, stored};
use crate::storage::Storage;

/// The organisations the demo's programme already has.
pub(super) struct Orgs {
    pub kommune: OrgId,
    pub housing: OrgId,
    pub police: OrgId,
}

fn at(day: Date, h: u32) -> Timestamp {
    Timestamp::from_dk(day, hm(h, 0))
}

fn action(text: &str, owner: &OrgId, due: Date) -> AgreedAction {
    AgreedAction {
        text: text.into(),
        owner: Some(owner.clone()),
        due: Some(due),
        done: false,
        done_on: None,
        done_by: None,
    }
}

fn actions(list: Vec<AgreedAction>) -> anyhow::Result<IdMap<ActionId, AgreedAction>> {
    list.into_iter()
        .enumerate()
        .map(|(i, a)| Ok((id(&format!("h{}", i + 1))?, a)))
        .collect()
}

fn member(role: NetworkRole, function: &str) -> Membership {
    Membership {
        role,
        function: function.into(),
    }
}

pub(super) async fn seed(
    storage: &dyn Storage,
    tenant: &TenantId,
    orgs: &Orgs,
    cat: &Catalogue,
    today: Date,
) -> anyhow::Result<()> {
    let actor = nabo_core::entropy::actor;
    let mette = |day: Date| Author {
        by: By::Staff("s-mette".parse().unwrap_or_else(|_| unreachable!())),
        at: at(day, 10),
    };
    let ali = |day: Date, h: u32| Author {
        by: By::Staff("s-ali".parse().unwrap_or_else(|_| unreachable!())),
        at: at(day, h),
    };
    let long_ago = today.add_days(-90);

    // The estate office and the municipality's departments.
    let office: OrgId = id("o-ejendomskontor-vestparken")?;
    let teknik: OrgId = id("o-teknisk-forvaltning")?;
    let social: OrgId = id("o-socialforvaltningen")?;
    let family: OrgId = id("o-boern-familie")?;
    let integration: OrgId = id("o-integration")?;
    let tenant_scope = Scope::Tenant {
        tenant: tenant.clone(),
    };
    let (tmeta, mut t, heads) = stored::<TenantDoc>(storage, &tenant_scope).await?;
    for (oid, name, kind, parent) in [
        (
            &office,
            "Ejendomskontoret Vestparken",
            OrgKind::Other,
            &orgs.housing,
        ),
        (
            &teknik,
            "Teknisk Forvaltning",
            OrgKind::KommuneDepartment,
            &orgs.kommune,
        ),
        (
            &social,
            "Socialforvaltningen",
            OrgKind::KommuneDepartment,
            &orgs.kommune,
        ),
        (
            &family,
            "Børne- og Familieafdelingen",
            OrgKind::KommuneDepartment,
            &orgs.kommune,
        ),
        (
            &integration,
            "Integrationsafdelingen",
            OrgKind::KommuneDepartment,
            &orgs.kommune,
        ),
    ] {
        t.put_organisation(
            &mette(long_ago),
            oid,
            Organisation {
                name: name.into(),
                kind,
                parent: Some(parent.clone()),
                archived: false,
            },
        )?;
    }
    save(storage, &tmeta, t.doc(), &heads).await?;

    // A coordination network led by the street outreach worker.
    let mut net = NetworkDoc::create(
        tenant.clone(),
        id("n-tryghed")?,
        actor(),
        &mette(long_ago),
        Network {
            name: "Tryghedsnetværk Vestparken".into(),
            leader: Some(id("s-ali")?),
            focus: NetworkFocus::Coordination,
            cadence: "hver 6. uge".into(),
            funded_by_lbf: true,
            areas: [id("a-vestparken")?].into_iter().collect(),
            members: Set::new(),
            roles: IdMap::new(),
        },
    )?;
    for (org, m) in [
        (
            &orgs.housing,
            member(NetworkRole::Convener, "Gadeplansmedarbejder, helhedsplanen"),
        ),
        (&orgs.kommune, member(NetworkRole::Member, "SSP-konsulent")),
        (&orgs.police, member(NetworkRole::Member, "Lokalbetjent")),
        (&office, member(NetworkRole::Member, "Ejendomsleder")),
    ] {
        net.set_member(&mette(long_ago), org, m)?;
    }
    let first = today.add_days(-44);
    let m1 = net.record_meeting(
        &ali(first, 9),
        NetworkMeeting {
            date: first,
            attendees: [
                orgs.housing.clone(),
                orgs.kommune.clone(),
                orgs.police.clone(),
                office.clone(),
            ]
            .into_iter()
            .collect(),
            agenda: "Tryghedsvandring i Vestparken: belysning ved stien, knallertkørsel om aftenen"
                .into(),
            actions: actions(vec![
                action(
                    "Nye lamper langs stien ved Blok C",
                    &office,
                    first.add_days(21),
                ),
                action(
                    "Ekstra patruljering fredag og lørdag aften",
                    &orgs.police,
                    first.add_days(14),
                ),
                action(
                    "Fritidstilbud til de unge om aftenen undersøges",
                    &orgs.kommune,
                    today.add_days(-5),
                ),
            ])?,
            cancelled: false,
        },
    )?;
    net.complete_action(&ali(first.add_days(20), 14), &m1, &id("h1")?)?;
    net.complete_action(&ali(first.add_days(15), 14), &m1, &id("h2")?)?;
    let second = today.add_days(-2);
    net.record_meeting(
        &ali(second, 9),
        NetworkMeeting {
            date: second,
            attendees: [orgs.housing.clone(), orgs.police.clone(), office.clone()]
                .into_iter()
                .collect(),
            agenda: "Opfølgning på tryghedsvandringen; hærværk i kælderen i Blok A".into(),
            actions: actions(vec![action(
                "Kælderdøren i Blok A udskiftes og får kodelås",
                &office,
                today.add_days(14),
            )])?,
            cancelled: false,
        },
    )?;
    store(storage, net.doc()).await?;

    // The municipality's cross-department team with the housing organisation (seed 003).
    let mut team = NetworkDoc::create(
        tenant.clone(),
        id("n-boligsocialt-team")?,
        actor(),
        &mette(long_ago),
        Network {
            name: "Boligsocialt team på tværs af forvaltninger".into(),
            leader: None,
            focus: NetworkFocus::IndividualCases,
            cadence: "hver 14. dag og ved akutte sager".into(),
            funded_by_lbf: false,
            areas: [id("a-vestparken")?, id("a-solbakken")?]
                .into_iter()
                .collect(),
            members: Set::new(),
            roles: IdMap::new(),
        },
    )?;
    for (org, m) in [
        (
            &teknik,
            member(NetworkRole::Convener, "Bygningskonstruktør (gruppeleder)"),
        ),
        (&social, member(NetworkRole::Member, "Socialrådgiver")),
        (&family, member(NetworkRole::Member, "Sagsbehandler")),
        (&integration, member(NetworkRole::Member, "Pædagog")),
        (
            &orgs.housing,
            member(NetworkRole::AdHoc, "Boligsocial medarbejder"),
        ),
    ] {
        team.set_member(&mette(long_ago), org, m)?;
    }
    let case = today.add_days(-9);
    team.record_meeting(
        &mette(case),
        NetworkMeeting {
            date: case,
            attendees: [
                teknik.clone(),
                social.clone(),
                family.clone(),
                integration.clone(),
            ]
            .into_iter()
            .collect(),
            agenda:
                "Sag 2026-14: henvendelse om en bolig i dårlig stand; behov for genhusning vurderes"
                    .into(),
            actions: actions(vec![
                action(
                    "Besigtigelse af boligen samme uge",
                    &teknik,
                    case.add_days(3),
                ),
                action(
                    "Tilbud om genhusning og hjælp til flytning",
                    &social,
                    today.add_days(10),
                ),
            ])?,
            cancelled: false,
        },
    )?;
    let m = team
        .meetings()?
        .into_keys()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the team's meeting was not recorded"))?;
    team.complete_action(&mette(case.add_days(2)), &m, &id("h1")?)?;
    store(storage, team.doc()).await?;

    // A safety walk's observations in the street outreach worker's log, routed to the estate
    // office: one new, one in progress, one resolved, one not routed yet.
    let log_scope = Scope::Outreach {
        tenant: tenant.clone(),
        worker: id("s-ali")?,
        area: id("a-vestparken")?,
        quarter: Quarter::of(today),
    };
    let (lmeta, mut log, heads) = stored::<OutreachDoc>(storage, &log_scope).await?;
    // In this quarter (the log's), a few days back where the quarter allows.
    let walk = (1..=6)
        .rev()
        .map(|n| today.add_days(-n))
        .find(|d| Quarter::of(*d) == Quarter::of(today))
        .unwrap_or(today);
    let observe = |kind: &str,
                   location: &str,
                   block: Option<&str>,
                   routed: bool|
     -> anyhow::Result<Observation> {
        Ok(Observation {
            at: at(walk, 19),
            kind: id(kind)?,
            location: id(location)?,
            block: block.map(str::to_owned),
            routed_to: routed.then(|| office.clone()),
            resolved: false,
            handling: IdMap::new(),
        })
    };
    let walker = ali(walk, 20);
    log.observe(
        &walker,
        cat,
        observe("belysning", "faellesareal", Some("Stien ved Blok C"), true)?,
    )?;
    let vandal = log.observe(
        &walker,
        cat,
        observe("haervaerk", "opgang", Some("Blok A, kælderdør"), true)?,
    )?;
    let waste = log.observe(&walker, cat, observe("affald", "legeplads", None, true)?)?;
    log.observe(
        &walker,
        cat,
        observe("utryg-adfaerd", "butik-torv", None, false)?,
    )?;
    let next = |h| mette(walk.add_days(1)).at.0 + i64::from(h) * 3_600_000;
    log.set_observation_status(
        &Author {
            at: Timestamp(next(0)),
            ..mette(walk)
        },
        &vandal,
        ObservationStatus::InProgress,
    )?;
    log.set_observation_status(
        &Author {
            at: Timestamp(next(1)),
            ..mette(walk)
        },
        &waste,
        ObservationStatus::InProgress,
    )?;
    log.set_observation_status(
        &Author {
            at: Timestamp(next(26)),
            ..mette(walk)
        },
        &waste,
        ObservationStatus::Resolved,
    )?;
    save(storage, &lmeta, log.doc(), &heads).await?;
    Ok(())
}
