//! The demo's resident-run activities (ADR 0030, stories 16 and 17): the health ambassadors
//! of Solbakken and the food club in Vestparken's resident house, both run by the resident
//! volunteer Hanne (`volunteer6`), with the rounds and evenings she logged on her phone this
//! term. Counts only, made with the core's operations like the rest of the demo.

use automerge::ActorId;
use nabo_core::docs::resident::{NewEvening, NewRound, ResidentLogDoc};
use nabo_core::model::activity::RosterVolunteer;
use nabo_core::prelude::*;

use super::{hm, id, store};
use crate::storage::Storage;

/// The ambassador corps' activity.
pub const AMBASSADORS: &str = "act-sundhedsambassadoerer";
/// The food club's activity.
pub const FOOD_CLUB: &str = "act-madklub";
/// The resident volunteer who runs both.
pub const VOLUNTEER: &str = "v-6";

/// Makes both activities with Hanne on their rosters, and this term's resident logs,
/// written by her phone's actor (`phone`, bound to her login and phone by the caller).
pub(super) async fn seed(
    storage: &dyn Storage,
    tenant: &TenantId,
    programme: &ProgrammeId,
    cat: &Catalogue,
    central: &Author,
    today: Date,
    phone: ActorId,
) -> anyhow::Result<()> {
    let hanne: VolunteerId = id(VOLUNTEER)?;
    for (act, name, area, kind, role) in [
        (
            AMBASSADORS,
            "Sundhedsambassadører i Solbakken",
            "a-solbakken",
            "SU.sundhedsambassadoerer",
            "sundhedsambassadoer",
        ),
        (
            FOOD_CLUB,
            "Madklubben i Beboerhuset",
            "a-vestparken",
            "SL.faellesspisning",
            "kok-madklub",
        ),
    ] {
        let mut input = NewActivity::new(name, programme.clone(), id(area)?, "lbf-2019-2026", kind);
        input.start = Some(today.add_days(-300));
        input.children_under_15 = Some(false);
        let mut doc = ActivityDoc::create(
            tenant.clone(),
            id(act)?,
            nabo_core::entropy::actor(),
            central,
            cat,
            input,
        )?;
        doc.set_roster(
            central,
            cat,
            &hanne,
            RosterVolunteer {
                role: id(role)?,
                cleared_for_children_until: None,
                active: true,
            },
        )?;
        store(storage, doc.doc()).await?;
    }

    // This term's rounds and evenings, one a week back from today (at most 12 weeks, never
    // before the term began).
    let term = Term::of(today);
    let weeks: Vec<Date> = (0..12i64)
        .map(|w| today.add_days(-7 * w - 1))
        .filter(|d| term.contains(*d))
        .collect();
    let by = |day: Date| Author {
        by: By::Volunteer(hanne.clone()),
        at: Timestamp::from_dk(day, hm(20, 15)),
    };
    let topics = [
        ("sundhed", 6),
        ("kost-motion", 4),
        ("ensomhed", 3),
        ("tilbud-i-omraadet", 2),
    ];
    let mut rounds = ResidentLogDoc::create(tenant.clone(), id(AMBASSADORS)?, term, phone.clone())?;
    for (i, day) in weeks.iter().enumerate() {
        let conversations = topics
            .iter()
            .enumerate()
            .filter(|(k, _)| (i + k) % 3 != 2)
            .map(|(k, (t, n))| ((*t).to_owned(), (*n + (i + k) as u32 % 4)))
            .collect();
        rounds.log_round(
            &by(*day),
            cat,
            NewRound {
                date: *day,
                area: id("a-solbakken")?,
                conversations,
            },
        )?;
    }
    store(storage, rounds.doc()).await?;
    let mut club = ResidentLogDoc::create(tenant.clone(), id(FOOD_CLUB)?, term, phone)?;
    for (i, day) in weeks.iter().enumerate() {
        let came = 18 + (i as u32 * 5) % 11;
        club.log_evening(
            &by(*day),
            NewEvening {
                date: *day,
                area: id("a-vestparken")?,
                came,
                first_timers: if i % 3 == 0 { 4 } else { 1 + i as u32 % 2 },
            },
        )?;
    }
    store(storage, club.doc()).await?;
    Ok(())
}
