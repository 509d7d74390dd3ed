//! A realistic small tenant for the core's tests: a homework café (lektiecafé) on Tuesdays
//! and Thursdays in the autumn term 2026, two volunteers (one with a valid child certificate,
//! one without), and its register.
#![allow(dead_code, clippy::unwrap_used)]

use automerge::ActorId;
use nabo_core::docs::activity::ActivitySnapshot;
use nabo_core::docs::register::RegisterDoc;
use nabo_core::model::activity::RosterVolunteer;
use nabo_core::prelude::*;
use nabo_core::seal::{MemoryKeyRing, SubjectKey, seal};

pub fn date(s: &str) -> Date {
    Date::parse(s).expect("date")
}

/// A Danish wall-clock date and time.
pub fn at(d: &str, hm: &str) -> Timestamp {
    Timestamp::from_dk(date(d), Time::parse(hm).expect("time"))
}

pub fn staff(id: &str) -> By {
    By::Staff(id.parse().expect("id"))
}

pub fn volunteer(id: &str) -> By {
    By::Volunteer(id.parse().expect("id"))
}

/// "Now" in the tests: Sunday 22 November 2026, 16:00 Danish time.
pub fn now() -> Timestamp {
    at("2026-11-22", "16:00")
}

pub struct Fixture {
    pub cat: &'static Catalogue,
    pub tenant: TenantId,
    pub activity: ActivityDoc,
    pub snapshot: ActivitySnapshot,
    pub register: RegisterDoc,
    pub central: Author,
    /// Volunteer with a valid child certificate.
    pub vol_ok: VolunteerId,
    /// Volunteer whose certificate is missing.
    pub vol_missing: VolunteerId,
    /// The current certificates (as the volunteer directory holds them): `vol_ok`'s.
    pub certificates: nabo_core::docs::volunteers::Certificates,
    pub keys: MemoryKeyRing,
}

impl Fixture {
    pub fn lektiecafe() -> Self {
        Self::with_mode(AttendanceMode::Pseudonymous)
    }

    pub fn with_mode(mode: AttendanceMode) -> Self {
        let cat = Catalogue::builtin().expect("catalogue");
        let tenant: TenantId = "t-vestbyen".parse().unwrap();
        let central = Author {
            by: staff("central"),
            at: at("2026-08-01", "09:00"),
        };
        let mut input = NewActivity::new(
            "Lektiecaféen i Beboerhuset",
            "p-helhedsplan".parse().unwrap(),
            "a-vestparken".parse().unwrap(),
            "lbf-2006-2010",
            "BE.lektiecafe",
        );
        input.attendance_mode = mode;
        input.start = Some(date("2026-08-11"));
        let mut activity = ActivityDoc::create(
            tenant.clone(),
            "act-lektiecafe".parse().unwrap(),
            ActorId::random(),
            &central,
            cat,
            input,
        )
        .expect("activity");
        for wd in [Weekday::Tue, Weekday::Thu] {
            activity
                .add_series(
                    &central,
                    NewSeries {
                        weekday: wd,
                        start: Time::hm(15, 0).unwrap(),
                        end: Time::hm(17, 0).unwrap(),
                        from: date("2026-08-11"),
                        until: Some(date("2026-12-17")),
                        venue: None,
                    },
                )
                .expect("series");
        }
        let vol_ok: VolunteerId = "v-maja".parse().unwrap();
        let vol_missing: VolunteerId = "v-jonas".parse().unwrap();
        activity
            .set_roster(
                &central,
                cat,
                &vol_ok,
                RosterVolunteer {
                    role: "lektiehjaelper".parse().unwrap(),
                    // The roster's old copy of the dates is not read (ADR 0023).
                    cleared_for_children_until: None,
                    active: true,
                },
            )
            .expect("roster");
        activity
            .set_roster(
                &central,
                cat,
                &vol_missing,
                RosterVolunteer {
                    role: "lektiehjaelper".parse().unwrap(),
                    cleared_for_children_until: None,
                    active: true,
                },
            )
            .expect("roster");
        let snapshot = activity.snapshot().expect("snapshot");
        let ctx = RegisterContext {
            catalogue: cat,
            activity: &snapshot,
            certificates: &nabo_core::docs::volunteers::NO_CERTIFICATES,
        };
        let register = RegisterDoc::create(
            tenant.clone(),
            activity.id().clone(),
            "2026H2".parse().unwrap(),
            ActorId::random(),
            &central,
            ctx,
        )
        .expect("register");
        Fixture {
            cat,
            tenant,
            activity,
            snapshot,
            register,
            central,
            certificates: nabo_core::docs::volunteers::Certificates::one(
                vol_ok.clone(),
                Some(nabo_core::model::volunteer::ChildCertificate {
                    obtained: date("2026-01-05"),
                    renewal_due: date("2028-06-01"),
                }),
            ),
            vol_ok,
            vol_missing,
            keys: MemoryKeyRing::default(),
        }
    }

    pub fn ctx(&self) -> RegisterContext<'_> {
        RegisterContext {
            catalogue: self.cat,
            activity: &self.snapshot,
            certificates: &self.certificates,
        }
    }

    /// Another phone's copy of the register (as after a sync).
    pub fn replica(&self) -> RegisterDoc {
        RegisterDoc::load(&self.register.doc().save(), ActorId::random()).expect("replica")
    }

    /// A session of the series on a date.
    pub fn session_on(&self, reg: &RegisterDoc, d: &str) -> SessionId {
        let view = reg.view().expect("view");
        view.sessions
            .iter()
            .find(|(_, s)| s.current.date == date(d))
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no session on {d}"))
    }

    /// Seals a label for a new participant id and remembers the key.
    pub fn sealed_label(&mut self, id: &ParticipantId, label: &str) -> Sealed {
        let key = SubjectKey::generate();
        let sealed = seal(&key, id.as_str(), label).expect("seal");
        self.keys.0.insert(id.to_string(), key);
        sealed
    }

    pub fn child(age_band: &str, label: Option<Sealed>) -> NewParticipant {
        NewParticipant {
            age_band: age_band.into(),
            gender: None,
            resident: Some(true),
            label,
            recruitment: None,
        }
    }
}

pub fn merge(a: &mut RegisterDoc, b: &mut RegisterDoc) {
    a.doc_mut().merge(b.doc_mut()).expect("merge a<-b");
    b.doc_mut().merge(a.doc_mut()).expect("merge b<-a");
}
