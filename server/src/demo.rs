//! `nabo-server --demo`: a realistic synthetic tenant — one helhedsplan, three housing areas,
//! a homework café with 20 children and 5 volunteers, a street outreach activity, two outreach
//! workers and one central staff member, with Danish names. Every name of a person is
//! invented. Children's first names are sealed with their own keys (ADR 0004); the keys are
//! stored in the relay's key store.

mod cooperation;
pub mod national;
mod resident;

use std::collections::{BTreeMap, BTreeSet};

use automerge::ActorId;
use chrono::Datelike;
use nabo_core::docs::outreach::{NewContact, NewReferral, OutreachDoc};
use nabo_core::docs::staff::StaffDoc;
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::model::activity::Goal;
use nabo_core::model::activity::RosterVolunteer;
use nabo_core::model::org::{Department, HousingArea, Organisation, Venue};
use nabo_core::model::programme::{Board, BoardMember, FundingShare, Programme};
use nabo_core::model::staff::{Placement, PlacementDay, RoleAssignment, RoleScope, StaffMember};
use nabo_core::model::volunteer::ChildCertificate;
use nabo_core::prelude::*;
use nabo_core::seal::{SubjectKey, seal};
use nabo_core::time::Clock;

use crate::storage::{Scopes, Storage};
use crate::vault::Vault;

/// The demo tenant's id.
pub const TENANT: &str = "vestbyen";

/// A demo login.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// Login name.
    pub username: &'static str,
    /// What they are.
    pub description: &'static str,
}

/// The demo logins, in the order the banner prints them.
pub const USERS: &[DemoUser] = &[
    DemoUser {
        username: "central",
        description: "Mette Sørensen, programleder (central)",
    },
    DemoUser {
        username: "bestyrelse",
        description: "Lars Holm, formand for den boligsociale bestyrelse (kun bestyrelsens overblik)",
    },
    DemoUser {
        username: "outreach1",
        description: "Ali Hassan, gadeplansmedarbejder i Vestparken",
    },
    DemoUser {
        username: "outreach2",
        description: "Camilla Nielsen, social vicevært i Solbakken",
    },
    DemoUser {
        username: "volunteer1",
        description: "Maja Kristensen, lektiehjælper",
    },
    DemoUser {
        username: "volunteer2",
        description: "Jonas Petersen, lektiehjælper",
    },
    DemoUser {
        username: "volunteer3",
        description: "Fatima Ali, lektiehjælper",
    },
    DemoUser {
        username: "volunteer4",
        description: "Peter Madsen, lektiehjælper",
    },
    DemoUser {
        username: "volunteer5",
        description: "Sara Jensen, lektiehjælper",
    },
    DemoUser {
        username: "volunteer6",
        description: "Hanne Larsen, sundhedsambassadør og kok i madklubben (beboerfrivillig)",
    },
];

/// The demo children: first name (fictional) and age band, in the order they are added to
/// the lektiecafé register. Their labels are sealed, and their keys are in the relay.
pub const CHILDREN: &[(&str, &str)] = &[
    ("Aisha", "10-12"),
    ("Mohammed", "13-14"),
    ("Sofie", "7-9"),
    ("Emil", "10-12"),
    ("Yasmin", "13-14"),
    ("Noah", "7-9"),
    ("Ida", "10-12"),
    ("Omar", "15-17"),
    ("Freja", "13-14"),
    ("Ahmed", "10-12"),
    ("Laura", "7-9"),
    ("Hamza", "13-14"),
    ("Clara", "10-12"),
    ("William", "15-17"),
    ("Maryam", "10-12"),
    ("Oscar", "7-9"),
    ("Zainab", "13-14"),
    ("Victor", "10-12"),
    ("Amina", "7-9"),
    ("Lucas", "13-14"),
];

fn hm(h: u32, m: u32) -> Time {
    Time(chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default())
}

fn id<T: std::str::FromStr>(s: &str) -> anyhow::Result<T> {
    s.parse().map_err(|_| anyhow::anyhow!("bad demo id {s}"))
}

/// A stored document of the demo tenant with its heads (to append what the demo adds).
async fn stored<D: TypedDoc>(
    storage: &dyn Storage,
    scope: &Scope,
) -> anyhow::Result<(crate::storage::DocMeta, D, Vec<automerge::ChangeHash>)> {
    let meta = storage
        .document(scope.document_id())
        .await?
        .ok_or_else(|| anyhow::anyhow!("{scope} was not created"))?;
    let loaded = crate::relay::doc::load(storage, meta.id).await?;
    Ok((meta, D::from_doc(loaded.doc)?, loaded.stored_heads))
}

/// Appends what the demo added to a stored document.
async fn save(
    storage: &dyn Storage,
    meta: &crate::storage::DocMeta,
    doc: &NaboDoc,
    heads: &[automerge::ChangeHash],
) -> anyhow::Result<()> {
    storage.append(meta.id, &doc.save_after(heads)).await?;
    bind_to_office(storage, &meta.tenant, doc, heads).await
}

async fn store(storage: &dyn Storage, doc: &NaboDoc) -> anyhow::Result<()> {
    let meta = crate::meta::derive(doc, storage).await?;
    storage.create_document(&meta, &doc.save()).await?;
    bind_to_office(storage, &meta.tenant, doc, &[]).await
}

/// The login the office's seeded edits are bound to.
const OFFICE_LOGIN: &str = "u-central";

/// Binds the actors of the changes after `heads` that no phone claimed to the office's login
/// (no device), as the relay binds every change it stores (ADR 0013): the pages then say
/// "(kontoret)" or the phone's name, never "ukendt enhed", for seeded history.
async fn bind_to_office(
    storage: &dyn Storage,
    tenant: &TenantId,
    doc: &NaboDoc,
    heads: &[automerge::ChangeHash],
) -> anyhow::Result<()> {
    let actors: BTreeSet<String> = doc
        .automerge()
        .get_changes(heads)
        .iter()
        .map(|c| c.actor_id().to_hex_string())
        .collect();
    for a in actors {
        // Already bound (a demo phone's actor): the binding stays.
        storage.bind_actor(tenant, &a, OFFICE_LOGIN, None).await?;
    }
    Ok(())
}

/// "Majas telefon", "Jonas' telefon": the name a volunteer gives their phone at enrolment.
fn phone_name(full_name: &str) -> String {
    let first = full_name.split_whitespace().next().unwrap_or(full_name);
    if first.ends_with(['s', 'x', 'z']) {
        format!("{first}' telefon")
    } else {
        format!("{first}s telefon")
    }
}

/// The homework café's change theory (S004 figure 4, shortened), two library indicators, a
/// measurement and last term's goal-fulfilment report with reasons for the unmet goal.
fn change_theory(
    cafe: &mut ActivityDoc,
    central: &Author,
    cat: &Catalogue,
    today: Date,
) -> anyhow::Result<()> {
    use nabo_core::model::activity::{GoalAssessment, GoalReport, IndicatorDef, Measurement};
    cafe.add_challenge(central, "Mange børn får ikke lektiehjælp derhjemme")?;
    cafe.add_challenge(
        central,
        "Lav tilknytning til fritidslivet og dårlig trivsel i skolen",
    )?;
    let mut indicator = |code: &str, baseline: f64, target: f64| -> anyhow::Result<IndicatorId> {
        let lib = cat
            .indicator(code)
            .ok_or_else(|| anyhow::anyhow!("indicator {code} missing from the catalogue"))?;
        Ok(cafe.add_indicator(
            central,
            cat,
            IndicatorDef {
                library: Some(id(code)?),
                name: lib.name_da.clone(),
                unit: lib.unit,
                source: lib.source,
                hardness: lib.hardness,
                baseline: Some(baseline),
                target: Some(target),
                periodicity: "halvår".into(),
                retired: None,
            },
        )?)
    };
    let unique = indicator("attendance.unique-participants", 12.0, 25.0)?;
    let hours = indicator("volunteers.hours", 120.0, 200.0)?;
    let set = |ids: &[&IndicatorId]| ids.iter().map(|i| (*i).clone()).collect::<Set<_>>();
    let deliver = cafe.add_goal(
        central,
        Goal {
            level: GoalLevel::Deliverable,
            text: "Lektiecafé to eftermiddage om ugen med faste frivillige".into(),
            step: 1,
            leads_to: Set::new(),
            indicators: set(&[&hours]),
            retired: None,
        },
    )?;
    let short = cafe.add_goal(
        central,
        Goal {
            level: GoalLevel::ShortTerm,
            text: "Flere børn laver lektier og kommer fast i caféen".into(),
            step: 3,
            leads_to: Set::new(),
            indicators: set(&[&unique]),
            retired: None,
        },
    )?;
    let long = cafe.add_goal(
        central,
        Goal {
            level: GoalLevel::LongTerm,
            text: "Bedre skolegang og brudt negativ social arv".into(),
            step: 4,
            leads_to: Set::new(),
            indicators: Set::new(),
            retired: None,
        },
    )?;
    let last_term = nabo_core::time::Term::of(today).first_day().add_days(-1);
    let from = nabo_core::time::Term::of(last_term).first_day();
    let m = cafe.record_measurement(
        central,
        Measurement {
            indicator: unique.clone(),
            from,
            to: last_term,
            value: 18.0,
            evidence: "Fremmøderegistrering i Nabo".into(),
            by: central.by.clone(),
        },
    )?;
    let mut goals = IdMap::new();
    goals.insert(
        deliver,
        GoalAssessment {
            status: GoalStatus::Achieved,
            measurements: Set::new(),
            reasons: Set::new(),
            comment: "Caféen har været åben alle planlagte eftermiddage.".into(),
        },
    );
    goals.insert(
        short,
        GoalAssessment {
            status: GoalStatus::Partly,
            measurements: [m].into_iter().collect(),
            reasons: [id("frivillige-faldet-fra")?].into_iter().collect(),
            comment: "18 af de ønskede 25 børn; to frivillige stoppede i marts.".into(),
        },
    );
    goals.insert(
        long,
        GoalAssessment {
            status: GoalStatus::NotMeasurable,
            measurements: Set::new(),
            reasons: [id("maaleteknisk")?].into_iter().collect(),
            comment: "Skoledata kan ikke indhentes for enkelte børn.".into(),
        },
    );
    cafe.write_report(
        central,
        cat,
        None,
        GoalReport {
            from,
            to: last_term,
            intervention_area: id("UL")?,
            goals,
            narrative: "Caféen er kommet godt i gang og har faste deltagere. Rekruttering af frivillige er den største udfordring.".into(),
            success_themes: [id("beboerdrevne-aktiviteter")?].into_iter().collect(),
            state: ReportState::Submitted,
            by: central.by.clone(),
            anonymised: None,
        },
    )?;
    Ok(())
}

/// What the review pages have to show in a demo: the same child added again on a second
/// phone, two phones disagreeing about a mark (both offline, merged since). Returns the day
/// up to which the office has reviewed the roll calls, and the second child's id and key.
fn review_examples(
    reg: &mut RegisterDoc,
    ctx: RegisterContext<'_>,
    sessions: &[(SessionId, Date)],
    children: &[(ParticipantId, Date)],
    second_phone: ActorId,
) -> anyhow::Result<(Date, Option<(ParticipantId, SubjectKey)>)> {
    let Some((last, date)) = sessions.iter().max_by_key(|(_, d)| *d).cloned() else {
        return Ok((
            Date::ymd(2000, 1, 1).unwrap_or_else(|| unreachable!()),
            None,
        ));
    };
    // A second phone (volunteer 2's): a copy of the register with its own actor.
    let mut other = RegisterDoc::load(&reg.doc().save(), second_phone)?;
    let v1 = Author {
        by: By::Volunteer(id("v-1")?),
        at: Timestamp::from_dk(date, hm(15, 20)),
    };
    let v2 = Author {
        by: By::Volunteer(id("v-2")?),
        at: Timestamp::from_dk(date, hm(15, 25)),
    };
    // Aisha was added again on the other phone, as "aisha", and marked present there.
    let key = SubjectKey::generate();
    let dup = ParticipantId::random();
    other.add_participant_with_id(
        &v2,
        ctx,
        date,
        dup.clone(),
        NewParticipant {
            age_band: "10-12".into(),
            gender: None,
            resident: Some(true),
            label: Some(seal(&key, dup.as_str(), "aisha")?),
            recruitment: None,
        },
    )?;
    other.mark(&v2, ctx, &last, &dup, AttendanceStatus::Present)?;
    // Emil (or, early in a term, the last child on the list that afternoon): the two phones
    // wrote different marks (neither the one he had).
    let on_list: Vec<_> = children
        .iter()
        .filter(|(_, added)| *added <= date)
        .collect();
    if let Some((emil, _)) = on_list.get(3).or(on_list.last()) {
        let had = reg
            .view()?
            .attendance
            .get(&(last.clone(), emil.clone()))
            .map(|m| m.current);
        let mut others = AttendanceStatus::ALL.iter().filter(|s| Some(**s) != had);
        if let (Some(a), Some(b)) = (others.next(), others.next()) {
            reg.mark(&v1, ctx, &last, emil, *a)?;
            other.mark(&v2, ctx, &last, emil, *b)?;
        }
    }
    reg.doc_mut().merge(other.doc_mut())?;
    Ok((date.add_days(-14), Some((dup, key))))
}

/// The office reviewed the roll calls up to two weeks ago and flagged one of them.
async fn seed_reviews(
    storage: &dyn Storage,
    vault: &Vault,
    reg: &RegisterDoc,
    until: Date,
    duplicate: Option<(ParticipantId, SubjectKey)>,
) -> anyhow::Result<()> {
    if let Some((dup, key)) = duplicate {
        vault
            .accept(
                storage,
                reg.doc().scope().tenant(),
                reg.doc().id(),
                dup.as_str(),
                key.as_bytes(),
            )
            .await?;
    }
    let view = reg.view()?;
    // The central user (inserted with the other logins at the end of the seed).
    let reviewer = "u-central".to_owned();
    let mut held: Vec<(&SessionId, Date)> = view
        .sessions
        .iter()
        .map(|(id, s)| (id, s.current.date))
        .filter(|(_, d)| *d <= until)
        .collect();
    held.sort_by_key(|(_, d)| *d);
    let flagged = held.len().saturating_sub(2);
    for (i, (sid, date)) in held.iter().enumerate() {
        let (state, comment) = if i == flagged {
            ("flagged", "Fremmødet virker lavt – tjek med de frivillige")
        } else {
            ("reviewed", "")
        };
        storage
            .put_review(&crate::storage::ReviewRow {
                doc_id: reg.doc().id(),
                record: format!("moede:{sid}"),
                tenant: reg.doc().scope().tenant().clone(),
                state: state.into(),
                comment: comment.into(),
                fingerprint: crate::web::records::session_fingerprint(&view, sid),
                user_id: reviewer.clone(),
                at: Timestamp::from_dk(date.add_days(3), hm(10, 0)).0,
            })
            .await?;
    }
    Ok(())
}

/// Seeds the demo tenant unless it is there, as of `clock`'s now: the café's past sessions
/// are those before today's Danish date, and every time in it is Danish wall-clock time.
/// Returns false if it existed.
pub async fn seed(
    storage: &dyn Storage,
    vault: &Vault,
    password: &str,
    clock: &Clock,
) -> anyhow::Result<bool> {
    let tenant: TenantId = id(TENANT)?;
    let tenant_scope = Scope::Tenant {
        tenant: tenant.clone(),
    };
    if storage
        .document(tenant_scope.document_id())
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let cat = Catalogue::builtin()?;
    let now = clock.now();
    let today = now.date_dk();
    let actor = nabo_core::entropy::actor;
    let central = Author {
        by: By::Staff(id("s-mette")?),
        at: Timestamp(now.0 - 90 * 86_400_000),
    };

    // The tenant and its first central administrator, made the way every tenant is made
    // (`nabo-server tenant create`), then every other login through the same operations.
    let ops = |by: &Author| crate::people::People {
        storage,
        vault,
        docs: crate::people::Docs::Storage,
        by: by.by.clone(),
        at: by.at,
    };
    let staff_login = |user: &str, login: &str, name: &str, title: &str, role, staff: &str| {
        crate::people::NewStaff {
            name: name.into(),
            title: title.into(),
            role: Some(role),
            username: login.into(),
            email: format!("{login}@vestbyen.example"),
            user_id: Some(user.into()),
            staff_id: (!staff.is_empty())
                .then(|| id(staff))
                .transpose()
                .ok()
                .flatten(),
            ..Default::default()
        }
    };
    crate::people::create_tenant(
        &ops(&central),
        crate::people::NewTenant {
            id: Some(TENANT.into()),
            name: "Boligsocial Vestbyen".into(),
            admin: staff_login(
                "u-central",
                "central",
                "Mette Sørensen",
                "Programleder",
                AppRole::Central,
                "s-mette",
            ),
        },
    )
    .await?;

    // Tenant: organisations, areas, programme.
    let (tmeta, mut t, heads) = stored::<TenantDoc>(storage, &tenant_scope).await?;
    let kommune: OrgId = id("o-vestby-kommune")?;
    let bo: OrgId = id("o-vesthus")?;
    let rk: OrgId = id("o-roede-kors")?;
    let politi: OrgId = id("o-politi")?;
    for (oid, name, kind, parent) in [
        (&kommune, "Vestby Kommune", OrgKind::Kommune, None),
        (
            &bo,
            "Boligselskabet Vesthus",
            OrgKind::HousingOrganisation,
            None,
        ),
        (&rk, "Røde Kors Vestby (lektiehjælp)", OrgKind::Ngo, None),
        (&politi, "Vestegnens Politi", OrgKind::Police, None),
    ] {
        t.put_organisation(
            &central,
            oid,
            Organisation {
                name: name.into(),
                kind,
                parent,
                archived: false,
            },
        )?;
    }
    let jobcenter: OrgId = id("o-jobcenter")?;
    t.put_organisation(
        &central,
        &jobcenter,
        Organisation {
            name: "Jobcenter Vestby".into(),
            kind: OrgKind::KommuneDepartment,
            parent: Some(kommune.clone()),
            archived: false,
        },
    )?;
    let areas = [
        ("a-vestparken", "Vestparken", 2400u32),
        ("a-solbakken", "Solbakken", 1300),
        ("a-engtoften", "Engtoften", 800),
    ];
    for (i, (aid, name, residents)) in areas.iter().enumerate() {
        let mut departments = IdMap::new();
        departments.insert(
            id(&format!("d-{}", 10 + i))?,
            Department {
                name: format!("Afd. {}", 10 + i),
                housing_org: Some(bo.clone()),
            },
        );
        let mut venues = IdMap::new();
        venues.insert(
            id(&format!("v-beboerhus-{i}"))?,
            Venue {
                name: format!("Beboerhuset {name}"),
            },
        );
        t.put_area(
            &central,
            &id(aid)?,
            HousingArea {
                name: (*name).into(),
                tenure: Tenure::Almen,
                disadvantaged: i == 0,
                municipality: Some(kommune.clone()),
                residents: Some(*residents),
                departments,
                venues,
                blocks: Set::new(),
                archived: false,
            },
        )?;
    }
    let mut funding = IdMap::new();
    funding.insert(
        id("f-lbf")?,
        FundingShare {
            kind: FunderKind::Lbf,
            org: None,
            share_pct: 60,
            amount_dkk: Some(9_600_000),
        },
    );
    funding.insert(
        id("f-kommune")?,
        FundingShare {
            kind: FunderKind::Kommune,
            org: Some(kommune.clone()),
            share_pct: 25,
            amount_dkk: Some(4_000_000),
        },
    );
    funding.insert(
        id("f-bo")?,
        FundingShare {
            kind: FunderKind::HousingOrganisation,
            org: Some(bo.clone()),
            share_pct: 15,
            amount_dkk: Some(2_400_000),
        },
    );
    let mut members = IdMap::new();
    members.insert(
        id("bm-1")?,
        BoardMember {
            org: kommune.clone(),
            function: "Direktør for Børn og Unge".into(),
            chair: true,
        },
    );
    members.insert(
        id("bm-2")?,
        BoardMember {
            org: bo.clone(),
            function: "Direktør, Boligselskabet Vesthus".into(),
            chair: false,
        },
    );
    members.insert(
        id("bm-3")?,
        BoardMember {
            org: politi.clone(),
            function: "Lokalpolitileder".into(),
            chair: false,
        },
    );
    let programme: ProgrammeId = id("p-helhedsplan")?;
    t.put_programme(
        &central,
        cat,
        &programme,
        Programme {
            name: format!(
                "Helhedsplan Vestbyen {}–{}",
                today.0.year() - 1,
                today.0.year() + 2
            ),
            start: Date::ymd(today.0.year() - 1, 1, 1).unwrap_or(today),
            end: Date::ymd(today.0.year() + 2, 12, 31).unwrap_or(today),
            funding_round: Some("2019-2026".into()),
            taxonomy: id("lbf-2019-2026")?,
            funding,
            board: Some(Board {
                kind: BoardType::Boligsocial,
                members,
            }),
            areas: areas
                .iter()
                .map(|(a, _, _)| id(a))
                .collect::<anyhow::Result<_>>()?,
            sites: IdMap::new(),
            selected_citizens: false,
            typologies: [GeographyTypology::SeveralAlmeneAreas]
                .into_iter()
                .collect(),
            signatories: [kommune.clone(), bo.clone()].into_iter().collect(),
            resident_approval: Date::ymd(today.0.year() - 2, 11, 15),
            public_framing_pct: 55,
            continuation: [ContinuationApproach::Anchoring].into_iter().collect(),
            org_model: Some(OrgModel::Secretariat),
            process_phase: Some(3),
            archived: false,
        },
    )?;
    save(storage, &tmeta, t.doc(), &heads).await?;

    // Staff: the logins, then their placements and roles.
    for (user, login, name, title, role, staff, scopes) in [
        (
            "u-outreach1",
            "outreach1",
            "Ali Hassan",
            "Gadeplansmedarbejder",
            AppRole::Outreach,
            "s-ali",
            Scopes {
                areas: vec!["a-vestparken".into()],
                activities: vec!["act-gadeplan".into()],
                ..Scopes::default()
            },
        ),
        (
            "u-outreach2",
            "outreach2",
            "Camilla Nielsen",
            "Social vicevært",
            AppRole::Outreach,
            "s-camilla",
            Scopes {
                areas: vec!["a-solbakken".into()],
                ..Scopes::default()
            },
        ),
        (
            "u-board",
            "bestyrelse",
            "Lars Holm",
            "Formand for den boligsociale bestyrelse",
            AppRole::Board,
            "",
            Scopes::default(),
        ),
    ] {
        crate::people::create_staff(
            &ops(&central),
            &tenant,
            crate::people::NewStaff {
                scopes,
                ..staff_login(user, login, name, title, role, staff)
            },
        )
        .await?;
    }
    let staff_scope = Scope::Staff {
        tenant: tenant.clone(),
    };
    let (smeta, mut staff, heads) = stored::<StaffDoc>(storage, &staff_scope).await?;
    for (sid, name, title, role, area) in [
        (
            "s-mette",
            "Mette Sørensen",
            "Programleder",
            AppRole::Central,
            None,
        ),
        (
            "s-ali",
            "Ali Hassan",
            "Gadeplansmedarbejder",
            AppRole::Outreach,
            Some("a-vestparken"),
        ),
        (
            "s-camilla",
            "Camilla Nielsen",
            "Social vicevært",
            AppRole::Outreach,
            Some("a-solbakken"),
        ),
    ] {
        let mut days = IdMap::new();
        for wd in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu] {
            days.insert(
                wd,
                PlacementDay {
                    kind: if area.is_some() {
                        PlacementKind::Local
                    } else {
                        PlacementKind::Central
                    },
                    area: area.map(id).transpose()?,
                },
            );
        }
        let mut placements = IdMap::new();
        placements.insert(
            id(&format!("pl-{sid}"))?,
            Placement {
                from: today.add_days(-400),
                to: None,
                days,
            },
        );
        staff.put_staff(
            &central,
            &id(sid)?,
            StaffMember {
                name: name.into(),
                title: title.into(),
                employer: Some(bo.clone()),
                app_role: role,
                placements,
                active: true,
                left: None,
                erased: None,
            },
        )?;
    }
    for (sid, role, practice) in [
        ("s-mette", Role::ProgrammeLeader, PracticeRole::Coordinating),
        ("s-ali", Role::Delivering, PracticeRole::Delivering),
        ("s-ali", Role::BridgeBuilder, PracticeRole::BridgeBuilding),
        ("s-camilla", Role::Supporting, PracticeRole::Facilitating),
    ] {
        staff.assign_role(
            &central,
            RoleAssignment {
                staff: id(sid)?,
                scope: RoleScope::Programme(programme.clone()),
                role: Some(role),
                practice_role: Some(practice),
                from: today.add_days(-400),
                to: None,
            },
        )?;
    }
    save(storage, &smeta, staff.doc(), &heads).await?;

    // Volunteers (names sealed) with child certificates.
    let volunteer_names = [
        "Maja Kristensen",
        "Jonas Petersen",
        "Fatima Ali",
        "Peter Madsen",
        "Sara Jensen",
    ];
    let lektiecafe: ActivityId = id("act-lektiecafe")?;
    let joined = Author {
        by: central.by.clone(),
        at: Timestamp(now.0 - 200 * 86_400_000),
    };
    for (i, name) in volunteer_names.iter().enumerate() {
        crate::people::create_volunteer(
            &ops(&joined),
            &tenant,
            cat,
            crate::people::NewVolunteer {
                name: (*name).into(),
                email: String::new(),
                phone: format!("+45 20 00 00 0{}", i + 1),
                source: if i % 2 == 0 {
                    VolunteerSource::Resident
                } else {
                    VolunteerSource::NationalOrganisation
                },
                resident: i % 2 == 0,
                activities: vec![lektiecafe.clone()],
                role: id("lektiehjaelper")?,
                username: Some(format!("volunteer{}", i + 1)),
                user_id: Some(format!("u-volunteer{}", i + 1)),
                volunteer_id: Some(id(&format!("v-{}", i + 1))?),
            },
        )
        .await?;
    }
    // Each volunteer's phone is an enrolled device, and the roll calls below are written
    // with the actor of the phone that took them, bound to its login and phone the way the
    // relay binds a phone's first change: the history says which phone (issue 12 item 9).
    let mut phones: BTreeMap<VolunteerId, ActorId> = BTreeMap::new();
    for (i, name) in volunteer_names.iter().enumerate() {
        let user = format!("u-volunteer{}", i + 1);
        let device = format!("d-demo-volunteer{}", i + 1);
        storage
            .insert_device(&crate::storage::DeviceRow {
                id: device.clone(),
                user_id: user.clone(),
                name: phone_name(name),
                revoked: false,
                last_seen: None,
                wiped: None,
            })
            .await?;
        let actor = nabo_core::entropy::actor();
        storage
            .bind_actor(&tenant, &actor.to_hex_string(), &user, Some(&device))
            .await?;
        phones.insert(id(&format!("v-{}", i + 1))?, actor);
    }
    let vols_scope = Scope::Volunteers {
        tenant: tenant.clone(),
    };
    let (vmeta, mut vols, heads) = stored::<VolunteersDoc>(storage, &vols_scope).await?;
    for i in 0..volunteer_names.len() {
        let vid: VolunteerId = id(&format!("v-{}", i + 1))?;
        // Volunteer 4's certificate is due for renewal soon: the review pages warn about it.
        // Obtained before the term began: the check reads these dates (ADR 0023).
        let obtained = today.add_days(if i == 3 { -700 } else { -200 });
        vols.set_child_certificate(
            &central,
            &vid,
            ChildCertificate {
                obtained,
                renewal_due: if i == 3 {
                    obtained.add_days(730)
                } else {
                    today.add_days(610)
                },
            },
        )?;
        if i % 2 == 1 {
            let mut v = vols.volunteer(&vid)?;
            v.source_org = Some(rk.clone());
            vols.put_volunteer(&central, &vid, v)?;
        }
    }
    save(storage, &vmeta, vols.doc(), &heads).await?;

    // The homework café.
    let mut input = NewActivity::new(
        "Lektiecaféen i Beboerhuset",
        programme.clone(),
        id("a-vestparken")?,
        "lbf-2019-2026",
        "BE.lektiecafe",
    );
    input.attendance_mode = AttendanceMode::Pseudonymous;
    input.main_activity = true;
    input.start = Some(today.add_days(-200));
    input.methods = vec!["praksisnaer-laering".into()];
    input.formats = vec!["gruppebaseret".into()];
    let mut cafe = ActivityDoc::create(
        tenant.clone(),
        lektiecafe.clone(),
        actor(),
        &central,
        cat,
        input,
    )?;
    let term = nabo_core::time::Term::of(today);
    for wd in [Weekday::Tue, Weekday::Thu] {
        cafe.add_series(
            &central,
            NewSeries {
                weekday: wd,
                start: hm(15, 0),
                end: hm(17, 0),
                from: term.first_day(),
                until: None,
                venue: Some(id("v-beboerhus-0")?),
            },
        )?;
    }
    for i in 0..5 {
        // The certificates are in the volunteer directory; the roster says who helps.
        cafe.set_roster(
            &central,
            cat,
            &id(&format!("v-{}", i + 1))?,
            RosterVolunteer {
                role: id("lektiehjaelper")?,
                cleared_for_children_until: None,
                active: true,
            },
        )?;
    }
    change_theory(&mut cafe, &central, cat, today)?;
    store(storage, cafe.doc()).await?;

    // Street outreach (gadeplansarbejde), counted by heads.
    let mut input = NewActivity::new(
        "Gadeplansarbejde i Vestparken",
        programme.clone(),
        id("a-vestparken")?,
        "lbf-2019-2026",
        "BU.gadeplansarbejde",
    );
    input.start = Some(today.add_days(-300));
    let street = ActivityDoc::create(
        tenant.clone(),
        id("act-gadeplan")?,
        actor(),
        &central,
        cat,
        input,
    )?;
    store(storage, street.doc()).await?;

    // This term's register with the roll calls so far.
    let snap = cafe.snapshot()?;
    let certificates = vols.certificates()?;
    let ctx = RegisterContext {
        catalogue: cat,
        activity: &snap,
        certificates: &certificates,
    };
    let mut reg = RegisterDoc::create(
        tenant.clone(),
        lektiecafe.clone(),
        term,
        actor(),
        &central,
        ctx,
    )?;
    let mut children = Vec::new();
    for (i, (name, band)) in CHILDREN.iter().enumerate() {
        let pid = ParticipantId::random();
        let key = SubjectKey::generate();
        vault
            .accept(
                storage,
                &tenant,
                reg.doc().id(),
                pid.as_str(),
                key.as_bytes(),
            )
            .await?;
        let added = term.first_day().add_days((i as i64 % 4) * 7).min(today);
        reg.add_participant_with_id(
            &central,
            ctx,
            added,
            pid.clone(),
            NewParticipant {
                age_band: (*band).into(),
                gender: None,
                resident: Some(i % 7 != 0),
                label: Some(seal(&key, pid.as_str(), name)?),
                recruitment: Some(
                    if i % 3 == 0 {
                        "mund-til-mund"
                    } else {
                        "skole-institution"
                    }
                    .into(),
                ),
            },
        )?;
        children.push((pid, added));
    }
    let sessions: Vec<(SessionId, Date)> = reg
        .view()?
        .sessions
        .iter()
        .map(|(k, v)| (k.clone(), v.current.date))
        .filter(|(_, d)| *d < today)
        .collect();
    let office = reg.doc().automerge().get_actor().clone();
    for (n, (sid, date)) in sessions.iter().enumerate() {
        let vid: VolunteerId = id(&format!("v-{}", n % 5 + 1))?;
        if let Some(phone) = phones.get(&vid) {
            reg.doc_mut().automerge_mut().set_actor(phone.clone());
        }
        let by = Author {
            by: By::Volunteer(vid.clone()),
            at: Timestamp::from_dk(*date, hm(15, 5)),
        };
        for (i, (pid, added)) in children.iter().enumerate() {
            if added > date {
                continue;
            }
            let status = match (i * 7 + n * 3) % 10 {
                0 | 1 => AttendanceStatus::Absent,
                2 => AttendanceStatus::Excused,
                _ => AttendanceStatus::Present,
            };
            reg.mark(&by, ctx, sid, pid, status)?;
        }
        let second: VolunteerId = id(&format!("v-{}", (n + 2) % 5 + 1))?;
        for v in [&vid, &second] {
            reg.check_in(&by, ctx, sid, v, Timestamp::from_dk(*date, hm(14, 45)))?;
            reg.check_out(&by, sid, v, Timestamp::from_dk(*date, hm(17, 10)))?;
        }
    }
    let phone_of = |v: &str| -> anyhow::Result<ActorId> {
        phones
            .get(&id::<VolunteerId>(v)?)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no demo phone for {v}"))
    };
    reg.doc_mut().automerge_mut().set_actor(phone_of("v-1")?);
    let (review_until, duplicate) =
        review_examples(&mut reg, ctx, &sessions, &children, phone_of("v-2")?)?;
    reg.doc_mut().automerge_mut().set_actor(office);
    store(storage, reg.doc()).await?;
    seed_reviews(storage, vault, &reg, review_until, duplicate).await?;

    // Outreach logs for this quarter.
    let quarter = Quarter::of(today);
    let quarter_start =
        Date::ymd(today.0.year(), u32::from(quarter.q - 1) * 3 + 1, 1).unwrap_or(today);
    for (worker, area, kind, topics) in [
        (
            "s-ali",
            "a-vestparken",
            "uformelt-moede",
            ["skole-uddannelse", "fritid", "job"],
        ),
        (
            "s-camilla",
            "a-solbakken",
            "hjemmebesoeg",
            ["bolig-husleje", "oekonomi", "trivsel"],
        ),
    ] {
        let mut log =
            OutreachDoc::create(tenant.clone(), id(worker)?, id(area)?, quarter, actor())?;
        let days = (today.0 - quarter_start.0).num_days().max(1);
        let mut first_contact = None;
        for i in 0..15i64 {
            let day = quarter_start.add_days(i * days / 15);
            let at = Timestamp::from_dk(day, hm(18, 30));
            let who = Author {
                by: By::Staff(id(worker)?),
                at,
            };
            let mut c = NewContact::anonymous(
                at,
                if kind == "hjemmebesoeg" {
                    "hjemmebesoeg"
                } else {
                    "legeplads"
                },
                kind,
                1 + (i % 4) as u32,
                if kind == "hjemmebesoeg" {
                    "25-64"
                } else {
                    "15-17"
                },
            );
            c.topics = vec![topics[(i % 3) as usize].into()];
            c.outcomes = vec![
                if i % 4 == 0 {
                    "henvisning"
                } else {
                    "raad-vejledning"
                }
                .into(),
            ];
            let cid = log.log_contact(&who, cat, false, c)?;
            first_contact.get_or_insert(cid.clone());
            if i % 4 == 0 {
                let r = log.refer(
                    &who,
                    cat,
                    NewReferral {
                        at,
                        from_contact: Some(cid),
                        from_activity: None,
                        participant: None,
                        to: if kind == "hjemmebesoeg" {
                            "boligorganisation"
                        } else {
                            "uu-vejleder"
                        }
                        .into(),
                        to_org: None,
                        to_activity: None,
                        kind: ReferralKind::Information,
                        consent_to_share: false,
                    },
                )?;
                if i < 8 {
                    log.set_referral_status(
                        &Author {
                            by: who.by.clone(),
                            at: Timestamp(at.0 + 86_400_000),
                        },
                        &r,
                        ReferralStatus::Contacted,
                    )?;
                }
            }
        }
        store(storage, log.doc()).await?;
    }

    // Resident-run activities (ADR 0030): a resident volunteer who is a health ambassador
    // and cooks in the food club, with her phone, and what she logged this term.
    crate::people::create_volunteer(
        &ops(&joined),
        &tenant,
        cat,
        crate::people::NewVolunteer {
            name: "Hanne Larsen".into(),
            email: String::new(),
            phone: "+45 20 00 00 06".into(),
            source: VolunteerSource::Resident,
            resident: true,
            activities: vec![id(resident::AMBASSADORS)?, id(resident::FOOD_CLUB)?],
            role: id("sundhedsambassadoer")?,
            username: Some("volunteer6".into()),
            user_id: Some("u-volunteer6".into()),
            volunteer_id: Some(id(resident::VOLUNTEER)?),
        },
    )
    .await?;
    storage
        .insert_device(&crate::storage::DeviceRow {
            id: "d-demo-volunteer6".into(),
            user_id: "u-volunteer6".into(),
            name: phone_name("Hanne Larsen"),
            revoked: false,
            last_seen: None,
            wiped: None,
        })
        .await?;
    let hannes_phone = nabo_core::entropy::actor();
    storage
        .bind_actor(
            &tenant,
            &hannes_phone.to_hex_string(),
            "u-volunteer6",
            Some("d-demo-volunteer6"),
        )
        .await?;
    resident::seed(
        storage,
        &tenant,
        &programme,
        cat,
        &central,
        today,
        hannes_phone,
    )
    .await?;

    // Networks with their meetings, and a safety walk's observations for the estate office.
    cooperation::seed(
        storage,
        &tenant,
        &cooperation::Orgs {
            kommune: kommune.clone(),
            housing: bo.clone(),
            police: politi.clone(),
        },
        cat,
        today,
    )
    .await?;

    // Passwords, under the same rules as every password (one for the demo's logins).
    let logins: Vec<&str> = USERS.iter().map(|u| u.username).collect();
    crate::people::set_passwords(storage, &logins, password).await?;
    Ok(true)
}
