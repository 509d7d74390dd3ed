//! The signed-in volunteer's own shifts: resuming a shift checked out by mistake, and the
//! hours history per session and per month (user story 13). The rules are
//! `nabo_core::shifts`.

use nabo_core::model::register::{CancelReason, Shift};
use nabo_core::prelude::*;
use nabo_core::shifts;

use crate::api;
use crate::client::{Inner, NaboClient, on_runtime, parse};
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
        cancelled: s.is_some_and(|s| s.cancelled),
        cancel_reason: s.and_then(|s| s.cancel_reason).map(|r| r.code().to_owned()),
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

    /// Coming sessions (today and the next `days` days, Danish dates) of the activities on this
    /// device, not cancelled, by date and start, with the volunteer's own sign-up.
    pub async fn upcoming_sessions(&self, days: u32) -> Result<Vec<api::UpcomingSession>> {
        on_runtime!(self, |inner| upcoming(&inner, days).await)
    }

    /// Signs the volunteer up for a coming session (a cancelled sign-up is renewed).
    pub async fn sign_up(&self, session_id: String) -> Result<()> {
        on_runtime!(self, |inner| {
            let vid = inner.volunteer()?;
            inner
                .edit_register(&session_id, |reg, ctx, sid, author| {
                    reg.sign_up(author, ctx, sid, &vid)
                })
                .await
        })
    }

    /// Cancels the volunteer's sign-up with a reason code (`cancel_reasons`), so the
    /// coordinator knows who is coming.
    pub async fn cancel_sign_up(&self, session_id: String, reason: String) -> Result<()> {
        on_runtime!(self, |inner| {
            let vid = inner.volunteer()?;
            let reason: CancelReason = parse("reason", &reason)?;
            inner
                .edit_register(&session_id, |reg, _ctx, sid, author| {
                    reg.cancel_sign_up(author, sid, &vid, reason)
                })
                .await
        })
    }

    /// The reasons for cancelling a sign-up, with Danish labels.
    pub fn cancel_reasons(&self) -> Vec<api::CodeLabel> {
        CancelReason::ALL
            .iter()
            .map(|r| api::CodeLabel {
                code: r.code().to_owned(),
                label: r.name_da().to_owned(),
            })
            .collect()
    }

    /// The signed-in volunteer's own hours on this device: every shift checked in, newest
    /// session first, and the minutes per month. Cancelled sessions count nothing.
    pub async fn my_hours(&self) -> Result<api::HoursHistory> {
        on_runtime!(self, |inner| my_hours(&inner).await)
    }
}

/// Every register on this device, merged: its document, activity and activity name.
async fn registers(
    inner: &Inner,
) -> Result<
    Vec<(
        DocumentId,
        ActivityId,
        String,
        nabo_core::docs::register::RegisterView,
    )>,
> {
    let names = inner.activity_names().await?;
    let mut out = Vec::new();
    for (id, _) in inner.docs_of(DocKind::Register).await? {
        let Some(doc) = inner.store.load(id, nabo_core::entropy::actor()).await? else {
            continue;
        };
        let reg = RegisterDoc::from_doc(doc)?;
        let act = reg.activity_id().clone();
        let name = names.get(&act).cloned().unwrap_or_default();
        out.push((id, act, name, reg.view()?));
    }
    Ok(out)
}

async fn upcoming(inner: &Inner, days: u32) -> Result<Vec<api::UpcomingSession>> {
    let vid: VolunteerId = inner.volunteer()?;
    let today = inner.clock.today_dk();
    let last = today.add_days(i64::from(days.min(366)));
    let mut out = Vec::new();
    for (id, act, name, view) in registers(inner).await? {
        for (sid, s) in &view.sessions {
            let s = &s.current;
            if s.cancelled || s.date < today || s.date > last {
                continue;
            }
            let coming = view
                .shifts
                .iter()
                .filter(|((x, _), sh)| x == sid && sh.current.signed_up && !sh.current.cancelled)
                .count();
            out.push(api::UpcomingSession {
                session: Inner::session_info(id, &act, &name, sid, s),
                my_shift: shift_info(
                    view.shifts
                        .get(&(sid.clone(), vid.clone()))
                        .map(|x| &x.current),
                ),
                signed_up: u32::try_from(coming).unwrap_or(u32::MAX),
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.session.date, &a.session.start, &a.session.activity_name).cmp(&(
            &b.session.date,
            &b.session.start,
            &b.session.activity_name,
        ))
    });
    Ok(out)
}

async fn my_hours(inner: &Inner) -> Result<api::HoursHistory> {
    let vid: VolunteerId = inner.volunteer()?;
    let mut found: Vec<(Date, api::SessionInfo, Shift)> = Vec::new();
    for (id, act, name, view) in registers(inner).await? {
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
