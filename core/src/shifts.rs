//! A volunteer's own shifts (user story 13): what a check-in does to the shift already in the
//! register, and the volunteer's hours per session and per month. Pure functions: the
//! register and the phone call them with what they hold.

use std::collections::BTreeMap;

use crate::error::{Reason, Result, invalid};
use crate::model::register::{CancelReason, Shift};
use crate::time::{Date, Timestamp};

/// The shift after checking in at `at`, given the shift already recorded (`None`: none).
///
/// A second check-in never moves the first one (that silently shortened the shift):
/// - checked in and not out: refused (`check_in`, `already-exists`), naming the time;
/// - checked in and out: refused (`check_out`, `already-exists`) unless `resume`, which
///   reopens the shift from its first check-in (the phone asks "resume?" first);
/// - not checked in (none, or only signed up): checks in at `at`, keeping the sign-up.
pub fn check_in(old: Option<&Shift>, at: Timestamp, resume: bool) -> Result<Shift> {
    let mut shift = old.cloned().unwrap_or(NONE);
    match (shift.check_in, shift.check_out) {
        (None, _) => {
            shift.check_in = Some(at);
            shift.check_out = None;
        }
        (Some(i), None) => {
            return invalid(
                "check_in",
                Reason::AlreadyExists,
                format!("already checked in at {} (check out first)", hm(i)),
            );
        }
        (Some(i), Some(o)) if !resume => {
            return invalid(
                "check_out",
                Reason::AlreadyExists,
                format!(
                    "already checked in at {} and out at {}: resume the shift instead",
                    hm(i),
                    hm(o)
                ),
            );
        }
        (Some(i), Some(_)) => {
            if at < i {
                return invalid("at", Reason::EndBeforeStart, "before the shift's check-in");
            }
            shift.check_out = None;
        }
    }
    Ok(shift)
}

/// No shift recorded yet.
const NONE: Shift = Shift {
    signed_up: false,
    cancelled: false,
    check_in: None,
    check_out: None,
    cancel_reason: None,
};

/// The shift after signing up (user story 14): a cancelled sign-up is signed up again. (A
/// sign-up after the day is allowed: staff record who was booked after the fact.)
pub fn sign_up(old: Option<&Shift>) -> Result<Shift> {
    let mut shift = old.cloned().unwrap_or(NONE);
    shift.signed_up = true;
    shift.cancelled = false;
    shift.cancel_reason = None;
    Ok(shift)
}

/// The shift after cancelling the sign-up for `reason`: refused when not signed up, once
/// checked in (check out instead) or once the session's day has passed.
pub fn cancel(
    old: Option<&Shift>,
    reason: CancelReason,
    session_date: Date,
    today: Date,
) -> Result<Shift> {
    let Some(old) = old.filter(|s| s.signed_up) else {
        return invalid(
            "volunteer",
            Reason::NotFound,
            "not signed up for this session",
        );
    };
    if let Some(i) = old.check_in {
        return invalid(
            "check_in",
            Reason::NotAllowed,
            format!("already checked in at {}: check out instead", hm(i)),
        );
    }
    if session_date < today {
        return invalid("session", Reason::OutOfRange, "the session is over");
    }
    let mut shift = old.clone();
    shift.signed_up = false;
    shift.cancelled = true;
    shift.cancel_reason = Some(reason);
    Ok(shift)
}

/// `HH:MM` in Danish time.
fn hm(t: Timestamp) -> String {
    t.local_dk().format("%H:%M").to_string()
}

/// Where a shift stands, for the phone's check-in button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftState {
    /// Not checked in (maybe signed up).
    NotCheckedIn,
    /// Checked in, not yet out.
    CheckedIn,
    /// Checked in and out.
    Done,
}

/// Where `shift` stands.
pub fn state(shift: Option<&Shift>) -> ShiftState {
    match shift.map(|s| (s.check_in, s.check_out)) {
        Some((Some(_), None)) => ShiftState::CheckedIn,
        Some((Some(_), Some(_))) => ShiftState::Done,
        _ => ShiftState::NotCheckedIn,
    }
}

/// One month of a volunteer's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthHours {
    /// The month, `YYYY-MM` (of the session's date).
    pub month: String,
    /// Minutes of completed shifts.
    pub minutes: u32,
    /// Completed shifts.
    pub shifts: u32,
}

/// Minutes per month of the sessions' (Danish) dates, newest month first. Shifts not yet
/// checked out count nothing.
pub fn by_month<'a>(shifts: impl IntoIterator<Item = (Date, &'a Shift)>) -> Vec<MonthHours> {
    let mut months: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for (date, s) in shifts {
        if let Some(m) = s.minutes() {
            let e = months
                .entry(date.0.format("%Y-%m").to_string())
                .or_default();
            e.0 = e.0.saturating_add(m);
            e.1 += 1;
        }
    }
    months
        .into_iter()
        .rev()
        .map(|(month, (minutes, shifts))| MonthHours {
            month,
            minutes,
            shifts,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::time::Time;

    fn at(d: &str, t: &str) -> Timestamp {
        Timestamp::from_dk(Date::parse(d).unwrap(), Time::parse(t).unwrap())
    }

    fn reason(r: Result<Shift>) -> (String, Reason, String) {
        match r {
            Err(crate::Error::Invalid(i)) => (i.field.to_string(), i.reason, i.detail.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_second_check_in_is_refused_and_keeps_the_first() {
        let first = check_in(None, at("2026-11-19", "15:02"), false).unwrap();
        assert_eq!(first.check_in, Some(at("2026-11-19", "15:02")));
        assert_eq!(state(Some(&first)), ShiftState::CheckedIn);
        let (field, r, detail) = reason(check_in(Some(&first), at("2026-11-19", "16:10"), false));
        assert_eq!((field.as_str(), r), ("check_in", Reason::AlreadyExists));
        assert!(detail.contains("15:02"), "{detail}");
        // Resuming does not help while the shift is open.
        assert!(check_in(Some(&first), at("2026-11-19", "16:10"), true).is_err());
    }

    #[test]
    fn after_check_out_a_check_in_is_refused_unless_resumed() {
        let mut done = check_in(None, at("2026-11-19", "15:00"), false).unwrap();
        done.check_out = Some(at("2026-11-19", "16:00"));
        assert_eq!(state(Some(&done)), ShiftState::Done);
        let (field, r, detail) = reason(check_in(Some(&done), at("2026-11-19", "16:05"), false));
        assert_eq!((field.as_str(), r), ("check_out", Reason::AlreadyExists));
        assert!(
            detail.contains("15:00") && detail.contains("16:00"),
            "{detail}"
        );
        let resumed = check_in(Some(&done), at("2026-11-19", "16:05"), true).unwrap();
        assert_eq!(resumed.check_in, Some(at("2026-11-19", "15:00")));
        assert_eq!(resumed.check_out, None);
    }

    #[test]
    fn a_sign_up_is_kept_when_checking_in() {
        let signed = Shift {
            signed_up: true,
            cancelled: false,
            check_in: None,
            check_out: None,
            cancel_reason: None,
        };
        assert_eq!(state(Some(&signed)), ShiftState::NotCheckedIn);
        let s = check_in(Some(&signed), at("2026-11-19", "15:00"), false).unwrap();
        assert!(s.signed_up);
        assert_eq!(s.check_in, Some(at("2026-11-19", "15:00")));
    }

    #[test]
    fn sign_up_and_cancel_with_a_reason() {
        let d = |s: &str| Date::parse(s).unwrap();
        let (field, r, _) = reason(cancel(
            None,
            CancelReason::Illness,
            d("2026-11-20"),
            d("2026-11-19"),
        ));
        assert_eq!((field.as_str(), r), ("volunteer", Reason::NotFound));
        let s = sign_up(None).unwrap();
        assert!(s.signed_up && !s.cancelled);
        let c = cancel(
            Some(&s),
            CancelReason::Illness,
            d("2026-11-20"),
            d("2026-11-19"),
        )
        .unwrap();
        assert!(!c.signed_up && c.cancelled);
        assert_eq!(c.cancel_reason, Some(CancelReason::Illness));
        // Signing up again clears the cancellation.
        let again = sign_up(Some(&c)).unwrap();
        // After the day, an afbud is too late.
        let (field, r, _) = reason(cancel(
            Some(&again),
            CancelReason::Illness,
            d("2026-11-20"),
            d("2026-11-21"),
        ));
        assert_eq!((field.as_str(), r), ("session", Reason::OutOfRange));
        assert!(again.signed_up && !again.cancelled && again.cancel_reason.is_none());
        // Once checked in, a cancellation is refused.
        let mut inside = again.clone();
        inside.check_in = Some(at("2026-11-20", "15:00"));
        let (field, r, _) = reason(cancel(
            Some(&inside),
            CancelReason::Other,
            d("2026-11-20"),
            d("2026-11-20"),
        ));
        assert_eq!((field.as_str(), r), ("check_in", Reason::NotAllowed));
    }

    #[test]
    fn hours_add_up_per_month_newest_first() {
        let shift = |i: &str, o: Option<&str>, d: &str| Shift {
            signed_up: false,
            cancelled: false,
            check_in: Some(at(d, i)),
            check_out: o.map(|o| at(d, o)),
            cancel_reason: None,
        };
        let a = shift("15:00", Some("17:00"), "2026-10-30");
        let b = shift("15:00", Some("16:30"), "2026-11-03");
        let c = shift("15:00", Some("15:45"), "2026-11-30");
        let open = shift("15:00", None, "2026-11-30");
        let d = |s: &str| Date::parse(s).unwrap();
        let months = by_month([
            (d("2026-10-30"), &a),
            (d("2026-11-03"), &b),
            (d("2026-11-30"), &c),
            (d("2026-11-30"), &open),
        ]);
        assert_eq!(
            months,
            vec![
                MonthHours {
                    month: "2026-11".into(),
                    minutes: 135,
                    shifts: 2
                },
                MonthHours {
                    month: "2026-10".into(),
                    minutes: 120,
                    shifts: 1
                },
            ]
        );
    }
}
