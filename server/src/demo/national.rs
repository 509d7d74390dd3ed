//! `nabo-server seed --profile national|plan`: synthetic tenants at the sizes of DOMAIN.md
//! §2.3, for measuring the review pages (issue 13 item 4, `cargo xtask bench-pages`).
//!
//! - **national**: 162 housing areas, each with its own helhedsplan; 8,000 volunteers;
//!   557 main activities and 5,570 minor ones; 100 homework cafés, each with a register for
//!   each of the last two terms (40 sessions × 25 children and 5 volunteers, which is about
//!   250,000 attendance rows a year); an outreach worker and log per area.
//! - **plan**: one typical plan — 3 areas, 50 volunteers, 4 main and 17 minor activities,
//!   one café.
//!
//! Everything is made with the same core operations as the demo (validated, one author per
//! edit) and stored the way the relay stores it. The records — ids, names, ages, statuses —
//! follow from `--seed`: the same seed gives the same tenant (sealed bytes and change hashes
//! differ, being encrypted with fresh nonces and stamped by fresh actors). Every name of a
//! person is invented.

use automerge::ActorId;
use nabo_core::docs::staff::StaffDoc;
use nabo_core::docs::tenant::TenantDoc;
use nabo_core::docs::volunteers::VolunteersDoc;
use nabo_core::model::activity::RosterVolunteer;
use nabo_core::model::org::{HousingArea, Organisation};
use nabo_core::model::programme::Programme;
use nabo_core::model::staff::StaffMember;
use nabo_core::model::volunteer::{ChildCertificate, Engagement, Volunteer};
use nabo_core::prelude::*;
use nabo_core::seal::{SubjectKey, seal};
use nabo_core::time::Clock;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{hm, id, save, stored};
use crate::storage::Storage;
use crate::vault::Vault;

/// A size of tenant to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Its name on the command line.
    pub name: &'static str,
    /// Housing areas (one helhedsplan each).
    pub areas: usize,
    /// Volunteers in the directory.
    pub volunteers: usize,
    /// Main activities (homework cafés among them).
    pub main_activities: usize,
    /// Minor activities.
    pub minor_activities: usize,
    /// Homework cafés with registers (a register for each of the last two terms).
    pub cafes: usize,
    /// Sessions per term and café.
    pub sessions: usize,
    /// Children per café.
    pub children: usize,
    /// Volunteers checking in per session.
    pub volunteers_per_session: usize,
    /// Outreach contacts per area this quarter.
    pub contacts: usize,
}

/// The profiles, by name.
pub const PROFILES: &[Profile] = &[
    Profile {
        name: "national",
        areas: 162,
        volunteers: 8_000,
        main_activities: 557,
        minor_activities: 5_570,
        cafes: 100,
        sessions: 40,
        children: 25,
        volunteers_per_session: 5,
        contacts: 30,
    },
    Profile {
        name: "plan",
        areas: 3,
        volunteers: 50,
        main_activities: 4,
        minor_activities: 17,
        cafes: 1,
        sessions: 40,
        children: 25,
        volunteers_per_session: 5,
        contacts: 30,
    },
];

/// A profile by name.
pub fn profile(name: &str) -> Option<Profile> {
    PROFILES.iter().copied().find(|p| p.name == name)
}

/// What a seed made.
#[derive(Debug, Default, Clone)]
pub struct Seeded {
    /// Documents stored.
    pub documents: usize,
    /// Attendance rows: roll-call marks and volunteers' check-ins.
    pub attendance_rows: usize,
    /// Stored bytes.
    pub bytes: usize,
}

const FIRST: &[&str] = &[
    "Amira", "Bo", "Cecilie", "Dennis", "Emma", "Faisal", "Gitte", "Hassan", "Ida", "Jakob",
    "Karin", "Leila", "Mads", "Nadia", "Ole", "Pernille", "Rami", "Sofie", "Tobias", "Yusuf",
];
const LAST: &[&str] = &[
    "Andersen",
    "Berg",
    "Christensen",
    "Dahl",
    "Eriksen",
    "Frederiksen",
    "Hansen",
    "Iversen",
    "Jensen",
    "Khan",
    "Larsen",
    "Mortensen",
    "Nielsen",
    "Olsen",
    "Poulsen",
    "Rasmussen",
];
const CHILD: &[&str] = &[
    "Ahmed", "Alma", "Ella", "Hamza", "Isak", "Josefine", "Karla", "Malik", "Noor", "Oskar",
    "Sara", "Zakaria",
];
const BANDS: &[&str] = &["7-9", "10-12", "13-14", "15-17"];
const PLACES: &[&str] = &[
    "Parken",
    "Toften",
    "Haven",
    "Gården",
    "Vængerne",
    "Bakken",
    "Engen",
    "Lunden",
    "Højene",
];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// Seeds tenant `tenant` at `profile` (nothing if it exists; then `None`). The tenant's
/// administrator logs in as [`login`] with `password`.
pub async fn seed(
    storage: &dyn Storage,
    vault: &Vault,
    tenant_id: &str,
    profile: Profile,
    seed: u64,
    password: &str,
    clock: &Clock,
) -> anyhow::Result<Option<Seeded>> {
    let tenant: TenantId = id(tenant_id)?;
    if storage.tenant_exists(&tenant).await? {
        return Ok(None);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let cat = Catalogue::builtin()?;
    let now = clock.now();
    let today = now.date_dk();
    let central = Author {
        by: By::Staff(id("s-central")?),
        at: Timestamp(now.0 - 400 * 86_400_000),
    };
    let ops = crate::people::People {
        storage,
        vault,
        docs: crate::people::Docs::Storage,
        by: central.by.clone(),
        at: central.at,
    };
    crate::people::create_tenant(
        &ops,
        crate::people::NewTenant {
            id: Some(tenant_id.into()),
            name: format!(
                "Boligsocialt arbejde, {} (profil {})",
                tenant_id, profile.name
            ),
            admin: crate::people::NewStaff {
                name: "Hanne Lund".into(),
                title: "Programleder".into(),
                role: Some(AppRole::Central),
                username: login(tenant_id),
                email: format!("central@{tenant_id}.example"),
                user_id: Some(format!("u-{tenant_id}-central")),
                staff_id: Some(id("s-central")?),
                ..Default::default()
            },
        },
    )
    .await?;
    // One actor for the office's edits: its changes are bound to the administrator's login.
    let office = ActorId::from(rng.random::<[u8; 16]>().as_slice());
    storage
        .bind_actor(
            &tenant,
            &office.to_hex_string(),
            &format!("u-{tenant_id}-central"),
            None,
        )
        .await?;

    // The tenant: a municipality and a housing organisation, the areas, a plan per area.
    let tenant_scope = Scope::Tenant {
        tenant: tenant.clone(),
    };
    let (tmeta, mut t, heads) = stored::<TenantDoc>(storage, &tenant_scope).await?;
    t.doc_mut().automerge_mut().set_actor(office.clone());
    let kommune: OrgId = id("o-kommune")?;
    let bo: OrgId = id("o-boligselskab")?;
    for (oid, name, kind) in [
        (&kommune, "Kommunen", OrgKind::Kommune),
        (&bo, "Boligselskabet", OrgKind::HousingOrganisation),
    ] {
        t.put_organisation(
            &central,
            oid,
            Organisation {
                name: name.into(),
                kind,
                parent: None,
                archived: false,
            },
        )?;
    }
    let year = chrono::Datelike::year(&today.0);
    let mut areas = Vec::new();
    for a in 0..profile.areas {
        let aid: AreaId = id(&format!("a-{a:03}"))?;
        t.put_area(
            &central,
            &aid,
            HousingArea {
                name: format!("{} {}", pick(&mut rng, PLACES), a + 1),
                tenure: Tenure::Almen,
                disadvantaged: a % 4 == 0,
                municipality: Some(kommune.clone()),
                residents: Some(rng.random_range(600..3_000)),
                departments: IdMap::new(),
                venues: IdMap::new(),
                blocks: Set::new(),
                archived: false,
            },
        )?;
        let pid: ProgrammeId = id(&format!("p-{a:03}"))?;
        t.put_programme(
            &central,
            cat,
            &pid,
            Programme {
                name: format!("Helhedsplan {} {}–{}", a + 1, year - 1, year + 2),
                start: Date::ymd(year - 1, 1, 1).unwrap_or(today),
                end: Date::ymd(year + 2, 12, 31).unwrap_or(today),
                funding_round: Some("2019-2026".into()),
                taxonomy: id("lbf-2019-2026")?,
                funding: IdMap::new(),
                board: None,
                areas: [aid.clone()].into_iter().collect(),
                sites: IdMap::new(),
                selected_citizens: false,
                typologies: [GeographyTypology::SeveralAlmeneAreas]
                    .into_iter()
                    .collect(),
                signatories: [kommune.clone(), bo.clone()].into_iter().collect(),
                resident_approval: None,
                public_framing_pct: 50,
                continuation: [ContinuationApproach::Anchoring].into_iter().collect(),
                org_model: None,
                process_phase: Some(2),
                archived: false,
            },
        )?;
        areas.push((aid, pid));
    }
    save(storage, &tmeta, t.doc(), &heads).await?;

    // Staff: an outreach worker per area (no logins: they are not the subject here).
    let staff_scope = Scope::Staff {
        tenant: tenant.clone(),
    };
    let (smeta, mut staff, heads) = stored::<StaffDoc>(storage, &staff_scope).await?;
    staff.doc_mut().automerge_mut().set_actor(office.clone());
    for (a, _) in areas.iter().enumerate() {
        staff.put_staff(
            &central,
            &id(&format!("s-{a:03}"))?,
            StaffMember {
                name: format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST)),
                title: "Gadeplansmedarbejder".into(),
                employer: Some(bo.clone()),
                app_role: AppRole::Outreach,
                placements: IdMap::new(),
                active: true,
                left: None,
                erased: None,
            },
        )?;
    }
    save(storage, &smeta, staff.doc(), &heads).await?;

    // Activities: the cafés first (main), then the other main and the minor activities,
    // spread over the areas, of the funding round's types.
    let types: Vec<String> = cat
        .taxonomy("lbf-2019-2026")
        .map(|tx| tx.activity_types.iter().map(|t| t.code.clone()).collect())
        .unwrap_or_default();
    anyhow::ensure!(!types.is_empty(), "the catalogue has no activity types");
    let mut out = Seeded::default();
    let mut cafes = Vec::new();
    // The cafés' year: the last two full terms, every volunteer cleared before it began.
    let this_term = nabo_core::time::Term::of(today);
    let last = nabo_core::time::Term::of(this_term.first_day().add_days(-1));
    let terms = [
        nabo_core::time::Term::of(last.first_day().add_days(-1)),
        last,
    ];
    let year_start = terms[0].first_day();
    let total = profile.main_activities + profile.minor_activities;
    for n in 0..total {
        let (aid, pid) = &areas[n % areas.len()];
        let is_cafe = n < profile.cafes;
        let main = n < profile.main_activities;
        let kind = if is_cafe {
            "BE.lektiecafe".to_owned()
        } else {
            types[rng.random_range(0..types.len())].clone()
        };
        let name = cat
            .activity_type("lbf-2019-2026", &kind)
            .map_or_else(|| kind.clone(), |t| t.name_da.clone());
        let mut input = NewActivity::new(
            &format!("{name} {}", n + 1),
            pid.clone(),
            aid.clone(),
            "lbf-2019-2026",
            &kind,
        );
        input.main_activity = main;
        input.start = Some(year_start.add_days(-rng.random_range(30..800)));
        if is_cafe {
            input.attendance_mode = AttendanceMode::Pseudonymous;
        }
        let act: ActivityId = id(&format!("act-{n:05}"))?;
        let mut doc = ActivityDoc::create(
            tenant.clone(),
            act.clone(),
            office.clone(),
            &central,
            cat,
            input,
        )?;
        if main {
            super::change_theory(&mut doc, &central, cat, today)?;
        }
        if is_cafe {
            for wd in [Weekday::Tue, Weekday::Thu] {
                doc.add_series(
                    &central,
                    NewSeries {
                        weekday: wd,
                        start: hm(15, 0),
                        end: hm(17, 0),
                        from: year_start,
                        until: None,
                        venue: None,
                    },
                )?;
            }
            cafes.push((n, act.clone(), aid.clone()));
        }
        out.bytes += store_new(storage, doc.doc()).await?;
        out.documents += 1;
    }

    // Volunteers (names sealed with their own keys), the cafés' helpers engaged and rostered.
    let vols_scope = Scope::Volunteers {
        tenant: tenant.clone(),
    };
    let (vmeta, mut vols, heads) = stored::<VolunteersDoc>(storage, &vols_scope).await?;
    vols.doc_mut().automerge_mut().set_actor(office.clone());
    let vid = |v: usize| id::<VolunteerId>(&format!("v-{v:05}"));
    for v in 0..profile.volunteers {
        let key = SubjectKey::from_bytes(&rng.random::<[u8; 32]>())
            .ok_or_else(|| anyhow::anyhow!("subject key"))?;
        let volunteer = vid(v)?;
        let name = format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST));
        vault
            .accept(
                storage,
                &tenant,
                vmeta.id,
                volunteer.as_str(),
                key.as_bytes(),
            )
            .await?;
        vols.put_volunteer(
            &central,
            &volunteer,
            Volunteer {
                name: Some(seal(&key, volunteer.as_str(), &name)?),
                source: if v % 3 == 0 {
                    VolunteerSource::NationalOrganisation
                } else {
                    VolunteerSource::Resident
                },
                source_org: None,
                status: VolunteerStatus::Active,
                joined: year_start.add_days(-90),
                resident: v % 3 != 0,
                child_certificate: Some(ChildCertificate {
                    obtained: year_start.add_days(-60),
                    renewal_due: year_start.add_days(670),
                }),
                trainings: IdMap::new(),
                erased: None,
            },
        )?;
    }
    for (c, (_, act, _)) in cafes.iter().enumerate() {
        for k in 0..profile.volunteers_per_session {
            vols.engage(
                &central,
                cat,
                Engagement {
                    volunteer: vid((c * profile.volunteers_per_session + k) % profile.volunteers)?,
                    activity: act.clone(),
                    role: id("lektiehjaelper")?,
                    start: year_start.add_days(-30),
                    end: None,
                },
            )?;
        }
    }
    save(storage, &vmeta, vols.doc(), &heads).await?;
    let certificates = vols.certificates()?;

    // The cafés' registers: the last two full terms.
    for (c, (n, act, _)) in cafes.iter().enumerate() {
        let meta = storage
            .document(
                Scope::Activity {
                    tenant: tenant.clone(),
                    activity: act.clone(),
                }
                .document_id(),
            )
            .await?
            .ok_or_else(|| anyhow::anyhow!("café {n} was not stored"))?;
        let loaded = crate::relay::doc::load(storage, meta.id).await?;
        let mut cafe = ActivityDoc::from_doc(loaded.doc)?;
        cafe.doc_mut().automerge_mut().set_actor(office.clone());
        let helpers: Vec<VolunteerId> = (0..profile.volunteers_per_session)
            .map(|k| vid((c * profile.volunteers_per_session + k) % profile.volunteers))
            .collect::<anyhow::Result<_>>()?;
        for v in &helpers {
            cafe.set_roster(
                &central,
                cat,
                v,
                RosterVolunteer {
                    role: id("lektiehjaelper")?,
                    cleared_for_children_until: None,
                    active: true,
                },
            )?;
        }
        save(storage, &meta, cafe.doc(), &loaded.stored_heads).await?;
        let snap = cafe.snapshot()?;
        let ctx = RegisterContext {
            catalogue: cat,
            activity: &snap,
            certificates: &certificates,
        };
        let children: Vec<(ParticipantId, SubjectKey, &str, &str)> = (0..profile.children)
            .map(|k| {
                let key = SubjectKey::from_bytes(&rng.random::<[u8; 32]>());
                let pid = id::<ParticipantId>(&format!("c{c:03}k{k:02}"));
                (pid, key, pick(&mut rng, CHILD), pick(&mut rng, BANDS))
            })
            .map(|(p, k, name, band)| {
                Ok((
                    p?,
                    k.ok_or_else(|| anyhow::anyhow!("subject key"))?,
                    name,
                    band,
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        for term in terms {
            let mut reg = RegisterDoc::create(
                tenant.clone(),
                act.clone(),
                term,
                office.clone(),
                &central,
                ctx,
            )?;
            for (k, (pid, key, name, band)) in children.iter().enumerate() {
                vault
                    .accept(
                        storage,
                        &tenant,
                        reg.doc().id(),
                        pid.as_str(),
                        key.as_bytes(),
                    )
                    .await?;
                reg.add_participant_with_id(
                    &central,
                    ctx,
                    term.first_day(),
                    pid.clone(),
                    NewParticipant {
                        age_band: (*band).into(),
                        gender: None,
                        resident: Some(k % 7 != 0),
                        label: Some(seal(key, pid.as_str(), name)?),
                        recruitment: None,
                    },
                )?;
            }
            let sessions: Vec<(SessionId, Date)> = reg
                .view()?
                .sessions
                .iter()
                .map(|(k, v)| (k.clone(), v.current.date))
                .take(profile.sessions)
                .collect();
            for (s, (sid, date)) in sessions.iter().enumerate() {
                let v = &helpers[s % helpers.len()];
                let by = Author {
                    by: By::Volunteer(v.clone()),
                    at: Timestamp::from_dk(*date, hm(15, 5)),
                };
                for (pid, ..) in &children {
                    let status = match rng.random_range(0..10) {
                        0 | 1 => AttendanceStatus::Absent,
                        2 => AttendanceStatus::Excused,
                        _ => AttendanceStatus::Present,
                    };
                    reg.mark(&by, ctx, sid, pid, status)?;
                    out.attendance_rows += 1;
                }
                for h in &helpers {
                    reg.check_in(&by, ctx, sid, h, Timestamp::from_dk(*date, hm(14, 45)))?;
                    out.attendance_rows += 1;
                }
            }
            out.bytes += store_new(storage, reg.doc()).await?;
            out.documents += 1;
        }
    }

    // An outreach log per area for this quarter.
    let quarter = Quarter::of(today);
    for (a, (aid, _)) in areas.iter().enumerate() {
        let worker: StaffId = id(&format!("s-{a:03}"))?;
        let mut log = nabo_core::docs::outreach::OutreachDoc::create(
            tenant.clone(),
            worker.clone(),
            aid.clone(),
            quarter,
            office.clone(),
        )?;
        for i in 0..profile.contacts {
            let at = Timestamp(now.0 - (i as i64 + 1) * 7_200_000);
            let who = Author {
                by: By::Staff(worker.clone()),
                at,
            };
            let mut c = nabo_core::docs::outreach::NewContact::anonymous(
                at,
                "legeplads",
                "uformelt-moede",
                1 + (i % 4) as u32,
                pick(&mut rng, &["15-17", "18-24", "25-64"]),
            );
            c.topics = vec![pick(&mut rng, &["skole-uddannelse", "fritid", "job"]).into()];
            log.log_contact(&who, cat, false, c)?;
        }
        out.bytes += store_new(storage, log.doc()).await?;
        out.documents += 1;
    }
    crate::people::set_passwords(storage, &[login(tenant_id).as_str()], password).await?;
    out.documents += 3;
    Ok(Some(out))
}

/// The administrator's login name of a seeded tenant.
pub fn login(tenant: &str) -> String {
    format!("central-{tenant}")
}

/// Stores a new document (its office actor is bound already); returns its size.
async fn store_new(storage: &dyn Storage, doc: &NaboDoc) -> anyhow::Result<usize> {
    let meta = crate::meta::derive(doc, storage).await?;
    let bytes = doc.save();
    storage.create_document(&meta, &bytes).await?;
    Ok(bytes.len())
}
