//! The signed-in volunteer's own shifts: resuming a shift checked out by mistake, and the
//! hours history per session and per month (user story 13). The rules are
//! `nabo_core::shifts`.

use automerge::ActorId;
use nabo_core::model::register::Shift;
use nabo_core::prelude::*;
use nabo_core::shifts;

use crate::api;
use crate::client::{Inner, NaboClient, on_runtime};
use crate::error::Result;
use crate::runtime::run;

/// The API view of a volunteer's shift (`None`: nothing recorded).
pub(crate) fn shift_info(s: Option<&Shift>) -> api::ShiftInfo {
    api::ShiftInfo {
        state: match shifts::state(s) {
            shifts::ShiftState::NotCheckedIn => api::ShiftState::NotCheckedIn,
            shifts::ShiftState::CheckedIn => api::ShiftState::CheckedIn,
            shifts::ShiftState::Done => api::ShiftState::Done,
        },
        signed_up: s.is_some_and(|s| s.signed_up && !s.cancelled),
        check_in_ms: s.and_then(|s| s.check_in).map(|t| t.0),
        check_out_ms: s.and_then(|s| s.check_out).map(|t| t.0),
        minutes: s.and_then(Shift::minutes),
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl NaboClient {
    /// Reopens the signed-in volunteer's shift after a check-out by mistake: the shift runs
    /// from its first check-in again. A second `check_in` is refused instead (`Invalid`,
    /// field `check_in` while checked in, `check_out` after checking out), so the app asks
    /// "resume the shift?" and calls this.
    pub async fn resume_shift(&self, session_id: String) -> Result<()> {
        on_runtime!(self, |inner| {
            let vid = inner.volunteer()?;
            inner
                .edit_register(&session_id, |reg, ctx, sid, author| {
                    reg.resume_shift(author, ctx, sid, &vid, author.at)
                })
                .await
        })
    }

    /// The signed-in volunteer's own hours on this device: every shift checked in, newest
    /// session first, and the minutes per month. Cancelled sessions count nothing.
    pub async fn my_hours(&self) -> Result<api::HoursHistory> {
        on_runtime!(self, |inner| my_hours(&inner).await)
    }
}

async fn my_hours(inner: &Inner) -> Result<api::HoursHistory> {
    let vid: VolunteerId = inner.volunteer()?;
    let names = inner.activity_names().await?;
    let mut found: Vec<(Date, api::SessionInfo, Shift)> = Vec::new();
    for (id, _) in inner.docs_of(DocKind::Register).await? {
        let Some(doc) = inner.store.load(id, ActorId::random()).await? else {
            continue;
        };
        let reg = RegisterDoc::from_doc(doc)?;
        let act = reg.activity_id().clone();
        let name = names.get(&act).cloned().unwrap_or_default();
        let view = reg.view()?;
        for ((sid, v), shift) in view.shifts {
            if v != vid || shift.current.check_in.is_none() {
                continue;
            }
            let Some(session) = view.sessions.get(&sid) else {
                continue;
            };
            if session.current.cancelled {
                continue;
            }
            let info = Inner::session_info(id, &act, &name, &sid, &session.current);
            found.push((session.current.date, info, shift.current));
        }
    }
    found.sort_by(|a, b| (b.0, &b.1.start).cmp(&(a.0, &a.1.start)));
    let months = shifts::by_month(found.iter().map(|(d, _, s)| (*d, s)));
    let total_minutes = months.iter().map(|m| m.minutes).sum();
    Ok(api::HoursHistory {
        shifts: found
            .iter()
            .map(|(_, session, s)| api::ShiftRecord {
                session: session.clone(),
                shift: shift_info(Some(s)),
            })
            .collect(),
        months: months
            .into_iter()
            .map(|m| api::MonthHours {
                month: m.month,
                minutes: m.minutes,
                shifts: m.shifts,
            })
            .collect(),
        total_minutes,
    })
}
