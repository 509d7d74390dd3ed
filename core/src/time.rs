//! Dates, times and periods as they are stored in documents.
//!
//! Dates are stored as ISO strings (`2026-11-22`), clock times as `HH:MM`, and instants as
//! Automerge timestamps (milliseconds since the Unix epoch, UTC). Strings keep documents
//! readable from the JavaScript client and in the review pages' history view.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};

/// A calendar date.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Date(pub NaiveDate);

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(Date)
    }

    /// A date from its parts; `None` if it does not exist.
    pub fn ymd(y: i32, m: u32, d: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(y, m, d).map(Date)
    }

    /// The weekday of this date.
    pub fn weekday(self) -> Weekday {
        Weekday::from_chrono(self.0.weekday())
    }

    /// The date `days` later (earlier if negative); saturates at chrono's limits.
    pub fn add_days(self, days: i64) -> Self {
        Date(
            self.0
                .checked_add_signed(chrono::Duration::days(days))
                .unwrap_or(self.0),
        )
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl FromStr for Date {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse(s).ok_or(TimeParseError("a date YYYY-MM-DD"))
    }
}

/// A string that is not the expected date, time or period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {0}")]
pub struct TimeParseError(pub &'static str);

/// A clock time of day, minute precision.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Time(pub NaiveTime);

impl Time {
    /// Parses `HH:MM`.
    pub fn parse(s: &str) -> Option<Self> {
        NaiveTime::parse_from_str(s, "%H:%M").ok().map(Time)
    }

    /// A time from hours and minutes.
    pub fn hm(h: u32, m: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(h, m, 0).map(Time)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Time({self})")
    }
}

impl FromStr for Time {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Time::parse(s).ok_or(TimeParseError("a time HH:MM"))
    }
}

/// An instant, milliseconds since the Unix epoch (UTC).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time of the system clock.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }

    /// Seconds since the epoch, as Automerge change metadata wants them.
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The UTC date of this instant.
    pub fn date_utc(self) -> Date {
        let dt = Utc
            .timestamp_millis_opt(self.0)
            .single()
            .unwrap_or_else(|| Utc.timestamp_millis_opt(0).single().unwrap_or_default());
        Date(dt.date_naive())
    }

    /// The date in Denmark (Europe/Copenhagen): UTC+1, and UTC+2 from the last Sunday of
    /// March 01:00 UTC to the last Sunday of October 01:00 UTC (the EU rule). What "today"
    /// means on a Danish phone or in a Danish report.
    pub fn date_dk(self) -> Date {
        Date(self.local_dk().date())
    }

    /// The Danish wall-clock date and time of this instant (same rule as [`Self::date_dk`]).
    pub fn local_dk(self) -> chrono::NaiveDateTime {
        let year = self.date_utc().0.year();
        // 01:00 UTC on the last Sunday of `month`.
        let switch = |month: u32| -> i64 {
            let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1)
                .and_then(|d| d.pred_opt())
                .unwrap_or_default();
            while d.weekday() != chrono::Weekday::Sun {
                d = d.pred_opt().unwrap_or_default();
            }
            d.and_hms_opt(1, 0, 0)
                .map(|t| t.and_utc().timestamp_millis())
                .unwrap_or_default()
        };
        let summer = self.0 >= switch(3) && self.0 < switch(10);
        let offset_ms = if summer { 2 } else { 1 } * 3_600_000;
        chrono::DateTime::from_timestamp_millis(self.0 + offset_ms)
            .unwrap_or_default()
            .naive_utc()
    }

    /// An instant from a UTC date and time.
    pub fn from_utc(date: Date, time: Time) -> Self {
        Timestamp(date.0.and_time(time.0).and_utc().timestamp_millis())
    }

    /// Whole minutes from `self` to `later` (0 if `later` is earlier).
    pub fn minutes_until(self, later: Timestamp) -> u32 {
        u32::try_from(((later.0 - self.0).max(0)) / 60_000).unwrap_or(u32::MAX)
    }
}

/// A day of the week, Monday first as in Denmark.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Weekday {
    /// Mandag.
    Mon,
    /// Tirsdag.
    Tue,
    /// Onsdag.
    Wed,
    /// Torsdag.
    Thu,
    /// Fredag.
    Fri,
    /// Lørdag.
    Sat,
    /// Søndag.
    Sun,
}

impl Weekday {
    /// All seven days, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    fn from_chrono(w: chrono::Weekday) -> Self {
        Self::ALL[w.num_days_from_monday() as usize]
    }

    /// The stored code: `mon` … `sun`.
    pub fn code(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    /// The Danish name.
    pub fn name_da(self) -> &'static str {
        match self {
            Weekday::Mon => "mandag",
            Weekday::Tue => "tirsdag",
            Weekday::Wed => "onsdag",
            Weekday::Thu => "torsdag",
            Weekday::Fri => "fredag",
            Weekday::Sat => "lørdag",
            Weekday::Sun => "søndag",
        }
    }
}

impl FromStr for Weekday {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|w| w.code() == s)
            .ok_or(TimeParseError("a weekday mon..sun"))
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A half-year term (`2026H1` = January–June, `2026H2` = July–December). An attendance
/// register covers one activity for one term.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// The year.
    pub year: i32,
    /// 1 or 2.
    pub half: u8,
}

impl Term {
    /// The term a date falls in.
    pub fn of(date: Date) -> Self {
        Term {
            year: date.0.year(),
            half: if date.0.month() <= 6 { 1 } else { 2 },
        }
    }

    /// First day of the term.
    pub fn first_day(self) -> Date {
        Date(
            NaiveDate::from_ymd_opt(self.year, if self.half == 1 { 1 } else { 7 }, 1)
                .unwrap_or_default(),
        )
    }

    /// Last day of the term.
    pub fn last_day(self) -> Date {
        let (m, d) = if self.half == 1 { (6, 30) } else { (12, 31) };
        Date(NaiveDate::from_ymd_opt(self.year, m, d).unwrap_or_default())
    }

    /// Whether `date` lies in this term.
    pub fn contains(self, date: Date) -> bool {
        Term::of(date) == self
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}H{}", self.year, self.half)
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Term({self})")
    }
}

impl FromStr for Term {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = TimeParseError("a term like 2026H2");
        let (y, h) = s.split_once('H').ok_or(err.clone())?;
        let year: i32 = y.parse().map_err(|_| err.clone())?;
        let half: u8 = h.parse().map_err(|_| err.clone())?;
        if !(1..=2).contains(&half) || !(1900..=9999).contains(&year) || y.len() != 4 {
            return Err(err);
        }
        Ok(Term { year, half })
    }
}

/// A calendar quarter (`2026Q4`). An outreach log covers one worker in one area for a quarter.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// The year.
    pub year: i32,
    /// 1 to 4.
    pub q: u8,
}

impl Quarter {
    /// The quarter a date falls in.
    pub fn of(date: Date) -> Self {
        Quarter {
            year: date.0.year(),
            q: u8::try_from((date.0.month() - 1) / 3 + 1).unwrap_or(1),
        }
    }

    /// Whether `date` lies in this quarter.
    pub fn contains(self, date: Date) -> bool {
        Quarter::of(date) == self
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

impl fmt::Debug for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quarter({self})")
    }
}

impl FromStr for Quarter {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = TimeParseError("a quarter like 2026Q4");
        let (y, q) = s.split_once('Q').ok_or(err.clone())?;
        let year: i32 = y.parse().map_err(|_| err.clone())?;
        let q: u8 = q.parse().map_err(|_| err.clone())?;
        if !(1..=4).contains(&q) || !(1900..=9999).contains(&year) || y.len() != 4 {
            return Err(err);
        }
        Ok(Quarter { year, q })
    }
}

/// Implements `Reconcile`/`Hydrate` for a type stored as a string with `Display`/`FromStr`.
macro_rules! stored_as_string {
    ($($t:ty),*) => {$(
        impl autosurgeon::Reconcile for $t {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(self.to_string())
            }
        }
        impl autosurgeon::Hydrate for $t {
            fn hydrate_string(s: &str) -> Result<Self, autosurgeon::HydrateError> {
                s.parse::<$t>()
                    .map_err(|e| autosurgeon::HydrateError::unexpected(stringify!($t), e.to_string()))
            }
            fn hydrate_text<D: autosurgeon::ReadDoc>(doc: &D, obj: &automerge::ObjId) -> Result<Self, autosurgeon::HydrateError> {
                Self::hydrate_string(&doc.text(obj)?)
            }
        }
    )*};
}
pub(crate) use stored_as_string;

stored_as_string!(Date, Time, Weekday, Term, Quarter);

impl Reconcile for Timestamp {
    type Key<'a> = NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.timestamp(self.0)
    }
}

impl Hydrate for Timestamp {
    fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
        Ok(Timestamp(t))
    }
    fn hydrate_int(t: i64) -> Result<Self, HydrateError> {
        Ok(Timestamp(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_danish_date_follows_cet_and_cest() {
        let at = |d: &str, t: &str| Timestamp::from_utc(d.parse().unwrap(), t.parse().unwrap());
        let dk = |d: &str, t: &str| at(d, t).date_dk().to_string();
        // Winter: UTC+1.
        assert_eq!(dk("2026-11-22", "22:59"), "2026-11-22");
        assert_eq!(dk("2026-11-22", "23:00"), "2026-11-23");
        // Summer: UTC+2.
        assert_eq!(dk("2026-07-01", "21:59"), "2026-07-01");
        assert_eq!(dk("2026-07-01", "22:00"), "2026-07-02");
        // 2026: CEST from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(dk("2026-03-29", "00:59"), "2026-03-29");
        assert_eq!(dk("2026-03-28", "22:30"), "2026-03-28");
        assert_eq!(dk("2026-10-24", "22:30"), "2026-10-25");
        assert_eq!(dk("2026-12-31", "23:30"), "2027-01-01");
    }

    #[test]
    fn terms_and_quarters_round_trip_and_contain_their_days() {
        let d = Date::parse("2026-07-01").unwrap();
        let t = Term::of(d);
        assert_eq!(t.to_string(), "2026H2");
        assert_eq!("2026H2".parse::<Term>().unwrap(), t);
        assert_eq!(t.first_day(), d);
        assert_eq!(t.last_day().to_string(), "2026-12-31");
        assert!(!t.contains(Date::parse("2026-06-30").unwrap()));
        assert_eq!(Quarter::of(d).to_string(), "2026Q3");
        assert!("2026Q5".parse::<Quarter>().is_err());
        assert!("2026H3".parse::<Term>().is_err());
        assert!("26H1".parse::<Term>().is_err());
    }

    #[test]
    fn weekday_and_minutes() {
        assert_eq!(Date::parse("2026-11-22").unwrap().weekday(), Weekday::Sun);
        let a = Timestamp::from_utc(Date::parse("2026-11-22").unwrap(), Time::hm(14, 0).unwrap());
        let b = Timestamp::from_utc(
            Date::parse("2026-11-22").unwrap(),
            Time::hm(16, 30).unwrap(),
        );
        assert_eq!(a.minutes_until(b), 150);
        assert_eq!(b.minutes_until(a), 0);
        assert_eq!(b.date_utc().to_string(), "2026-11-22");
    }
}
