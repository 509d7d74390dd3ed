//! Dates, times and periods as they are stored in documents.
//!
//! Dates are stored as ISO strings (`2026-11-22`), clock times as `HH:MM`, and instants as
//! Automerge timestamps (milliseconds since the Unix epoch, UTC). Strings keep documents
//! readable from the JavaScript client and in the review pages' history view.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, reconcile::NoKey};
use chrono::{Datelike, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;

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

thread_local! {
    /// This thread's simulated clock (milliseconds since the epoch), if it set one.
    static THREAD_CLOCK: std::cell::Cell<Option<fn() -> i64>> = const { std::cell::Cell::new(None) };
}

/// Makes [`Timestamp::now`] on this thread read `now` (milliseconds since the epoch) instead
/// of the system clock, or the system clock again with None. For the deterministic
/// simulation (ADR 0036), whose phones and relay share one thread and one simulated clock.
#[cfg(feature = "sim")]
pub fn set_thread_clock(now: Option<fn() -> i64>) {
    THREAD_CLOCK.with(|c| c.set(now));
}

/// An instant, milliseconds since the Unix epoch (UTC).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time of the system clock (or of this thread's simulated clock, see
    /// [`set_thread_clock`]). Code that stamps records or asks for today's date takes a
    /// [`Clock`] instead, so tests can set it.
    pub fn now() -> Self {
        match THREAD_CLOCK.with(std::cell::Cell::get) {
            Some(now) => Timestamp(now()),
            None => Timestamp(Utc::now().timestamp_millis()),
        }
    }

    /// Seconds since the epoch, as Automerge change metadata wants them.
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The date in Denmark (Europe/Copenhagen: CET, CEST in summer). What "today"
    /// means on a Danish phone, in a Danish report and in every rule that speaks of a day:
    /// the one calendar Nabo uses.
    pub fn date_dk(self) -> Date {
        Date(self.local_dk().date())
    }

    /// The Danish wall-clock date and time of this instant (Europe/Copenhagen in the IANA
    /// time zone database).
    pub fn local_dk(self) -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .with_timezone(&Copenhagen)
            .naive_local()
    }

    /// The instant of a Danish wall-clock date and time. A time that does not exist (the
    /// hour skipped when summer time starts) is read in winter time, i.e. it lands one hour
    /// later on the clock; a time that occurs twice (the hour repeated when it ends) is the
    /// first of the two (summer time).
    pub fn from_dk(date: Date, time: Time) -> Self {
        let wall = date.0.and_time(time.0);
        match Copenhagen.from_local_datetime(&wall) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                Timestamp(t.timestamp_millis())
            }
            LocalResult::None => Timestamp(wall.and_utc().timestamp_millis() - 3_600_000),
        }
    }

    /// An instant from a UTC date and time (protocol fixtures and tests; a day a user picks
    /// is Danish: [`Self::from_dk`]).
    pub fn from_utc(date: Date, time: Time) -> Self {
        Timestamp(date.0.and_time(time.0).and_utc().timestamp_millis())
    }

    /// Whole minutes from `self` to `later` (0 if `later` is earlier).
    pub fn minutes_until(self, later: Timestamp) -> u32 {
        u32::try_from(((later.0 - self.0).max(0)) / 60_000).unwrap_or(u32::MAX)
    }
}

/// Where "now" comes from. Everything that stamps an instant or asks what day it is — the
/// phone's "today's sessions", the relay's pages and its demo — reads a `Clock` it was given
/// instead of the system clock, so a test can run the whole story at 00:30 on the night after
/// a café day, or across a daylight-saving switch.
///
/// [`Clock::system`] (the default) is the system clock. [`Clock::starting_at`] reads a chosen
/// instant now and runs on from there at the system clock's pace, so durations, token expiry
/// and the order of edits still behave; [`Clock::set`] moves it (and every clone: clones
/// share the setting, so a relay and a phone given clones of one clock agree).
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock::default()
    }

    /// A clock that reads `at` now and then runs on.
    pub fn starting_at(at: Timestamp) -> Self {
        let c = Clock::default();
        c.set(at);
        c
    }

    /// Moves this clock and its clones so that it reads `at` now.
    pub fn set(&self, at: Timestamp) {
        self.offset_ms.store(
            at.0 - Timestamp::now().0,
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// Whether this is the system clock (never set).
    pub fn is_system(&self) -> bool {
        self.offset_ms.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        Timestamp(Timestamp::now().0 + self.offset_ms.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Today's date in Denmark.
    pub fn today_dk(&self) -> Date {
        self.now().date_dk()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_system() {
            f.write_str("Clock(system)")
        } else {
            write!(f, "Clock({:?})", self.now().local_dk())
        }
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

    #[cfg(feature = "sim")]
    #[test]
    fn a_thread_clock_is_read_on_its_thread_only() {
        fn fixed() -> i64 {
            4_000_000_000_000
        }
        let real = Timestamp::now();
        set_thread_clock(Some(fixed));
        assert_eq!(Timestamp::now(), Timestamp(4_000_000_000_000));
        let other = std::thread::spawn(Timestamp::now)
            .join()
            .unwrap_or(Timestamp(0));
        assert!(other >= real, "another thread reads the system clock");
        set_thread_clock(None);
        assert!(Timestamp::now() >= real && Timestamp::now() < Timestamp(4_000_000_000_000));
    }

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
        assert_eq!(b.date_dk().to_string(), "2026-11-22");
    }

    fn utc(d: &str, t: &str) -> Timestamp {
        Timestamp::from_utc(d.parse().unwrap(), t.parse().unwrap())
    }

    fn dk(d: &str, t: &str) -> Timestamp {
        Timestamp::from_dk(d.parse().unwrap(), t.parse().unwrap())
    }

    #[test]
    fn danish_wall_clock_times_are_instants_around_midnight() {
        // 00:30 on a winter Wednesday is 23:30 UTC on Tuesday: the Danish day is Wednesday.
        let t = dk("2026-11-25", "00:30");
        assert_eq!(t, utc("2026-11-24", "23:30"));
        assert_eq!(t.date_dk().to_string(), "2026-11-25");
        assert_eq!(t.date_dk().weekday(), Weekday::Wed);
        // In summer the Danish day starts at 22:00 UTC.
        let t = dk("2026-07-02", "01:59");
        assert_eq!(t, utc("2026-07-01", "23:59"));
        assert_eq!(t.date_dk().to_string(), "2026-07-02");
        assert_eq!(
            dk("2026-07-01", "23:59").date_dk().to_string(),
            "2026-07-01"
        );
        // New Year's night: the Danish year, term and quarter change an hour before UTC's.
        let t = dk("2027-01-01", "00:30");
        assert_eq!(Term::of(t.date_dk()).to_string(), "2027H1");
        assert_eq!(Quarter::of(t.date_dk()).to_string(), "2027Q1");
        assert_eq!(
            t.local_dk().format("%Y-%m-%d %H:%M").to_string(),
            "2027-01-01 00:30"
        );
    }

    #[test]
    fn summer_time_starts_at_two_on_the_last_sunday_of_march() {
        // 2027: 28 March, 02:00 CET → 03:00 CEST (01:00 UTC).
        assert_eq!(dk("2027-03-28", "01:59"), utc("2027-03-28", "00:59"));
        assert_eq!(dk("2027-03-28", "03:00"), utc("2027-03-28", "01:00"));
        // 02:30 does not exist that night: read in winter time, it is 03:30 summer time.
        assert_eq!(dk("2027-03-28", "02:30"), utc("2027-03-28", "01:30"));
        assert_eq!(
            dk("2027-03-28", "02:30")
                .local_dk()
                .format("%H:%M")
                .to_string(),
            "03:30"
        );
        // The night before the switch, 00:30 is still winter time; the night after, summer.
        assert_eq!(dk("2027-03-28", "00:30"), utc("2027-03-27", "23:30"));
        assert_eq!(dk("2027-03-29", "00:30"), utc("2027-03-28", "22:30"));
        assert_eq!(
            utc("2027-03-28", "22:30").date_dk().to_string(),
            "2027-03-29"
        );
        // The day of the switch has 23 hours.
        assert_eq!(
            dk("2027-03-28", "00:00").minutes_until(dk("2027-03-29", "00:00")),
            23 * 60
        );
    }

    #[test]
    fn summer_time_ends_at_three_on_the_last_sunday_of_october() {
        // 2026: 25 October, 03:00 CEST → 02:00 CET (01:00 UTC); 02:00–02:59 happens twice.
        assert_eq!(dk("2026-10-25", "01:59"), utc("2026-10-24", "23:59"));
        assert_eq!(
            dk("2026-10-25", "02:30"),
            utc("2026-10-25", "00:30"),
            "the first 02:30"
        );
        assert_eq!(
            utc("2026-10-25", "01:30")
                .local_dk()
                .format("%H:%M")
                .to_string(),
            "02:30"
        );
        assert_eq!(dk("2026-10-25", "03:00"), utc("2026-10-25", "02:00"));
        // Midnight either side: summer time before, winter time after.
        assert_eq!(dk("2026-10-25", "00:30"), utc("2026-10-24", "22:30"));
        assert_eq!(dk("2026-10-26", "00:30"), utc("2026-10-25", "23:30"));
        assert_eq!(
            utc("2026-10-25", "23:30").date_dk().to_string(),
            "2026-10-26"
        );
        // The day of the switch has 25 hours.
        assert_eq!(
            dk("2026-10-25", "00:00").minutes_until(dk("2026-10-26", "00:00")),
            25 * 60
        );
    }

    #[test]
    fn every_danish_minute_of_a_switch_night_round_trips() {
        for day in ["2027-03-28", "2026-10-25", "2026-11-25", "2026-12-31"] {
            let d: Date = day.parse().unwrap();
            for m in 0..24 * 60 {
                let t = Time::hm(m / 60, m % 60).unwrap();
                let at = Timestamp::from_dk(d, t);
                let skipped = day == "2027-03-28" && m / 60 == 2;
                if !skipped {
                    assert_eq!(at.local_dk(), d.0.and_time(t.0), "{day} {t}");
                }
                assert_eq!(at.date_dk(), d, "{day} {t}");
            }
        }
    }

    #[test]
    fn a_set_clock_is_shared_by_its_clones_and_runs_on() {
        let system = Clock::system();
        assert!(system.is_system());
        assert!((system.now().0 - Timestamp::now().0).abs() < 5_000);
        let at = dk("2026-11-25", "00:30");
        let clock = Clock::starting_at(at);
        let phone = clock.clone();
        assert!(!clock.is_system());
        assert!(phone.now() >= at && phone.now().0 - at.0 < 5_000);
        assert_eq!(phone.today_dk().to_string(), "2026-11-25");
        clock.set(dk("2027-03-29", "00:30"));
        assert_eq!(phone.today_dk().to_string(), "2027-03-29");
    }
}
