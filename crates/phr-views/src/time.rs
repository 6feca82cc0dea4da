//! Calendar dates, FHIR date-times and UTC timestamps, without a clock.
//!
//! FHIR dates come with any precision (`2024`, `2024-03`, `2024-03-05`, `2024-03-05T10:30:00-05:00`).
//! A [`When`] keeps two facts about such a value: the calendar day *as written* (what a patient reads
//! on the provider's paperwork, used for display and date filters) and the UTC instant (used for
//! ordering). A value without a time sorts at the start of its day; a value without an offset is
//! read as if it were UTC for ordering only.

use std::fmt;

use phr_fhir::primitives::{civil_from_days, days_from_civil};

/// A calendar date, stored as days since 1970-01-01 (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

/// Number of days in a month of a year.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Day {
    /// The date `y-m-d`, or None when it does not exist.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Day> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1..=9999).contains(&y) {
            return None;
        }
        Some(Day(days_from_civil(i64::from(y), m, d) as i32))
    }

    /// `(year, month, day)`.
    pub fn ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        (y as i32, m, d)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        Weekday::ALL[(i64::from(self.0) + 3).rem_euclid(7) as usize]
    }

    /// `self + n` days.
    pub fn add_days(self, n: i32) -> Day {
        Day(self.0 + n)
    }

    /// Parses `YYYY-MM-DD` (a longer FHIR dateTime is cut to its date as written).
    pub fn parse(s: &str) -> Option<Day> {
        let w = When::parse(s)?;
        (w.precision() >= Precision::Day).then_some(w.day())
    }

    /// The most recent `start` weekday on or before this day (e.g. the Monday of its week).
    pub fn week_start(self, start: Weekday) -> Day {
        let back = (self.weekday().index() + 7 - start.index()) % 7;
        self.add_days(-(back as i32))
    }

    /// Midnight at the start of this day, in UTC.
    pub fn utc_midnight(self) -> Timestamp {
        Timestamp(i64::from(self.0) * 86_400)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The FHIR `days-of-week` code (`mon` … `sun`), case-insensitive; also accepts full names.
    pub fn from_code(code: &str) -> Option<Weekday> {
        let c = code.trim().to_ascii_lowercase();
        let c = c.get(..3)?;
        Some(match c {
            "mon" => Weekday::Mon,
            "tue" => Weekday::Tue,
            "wed" => Weekday::Wed,
            "thu" => Weekday::Thu,
            "fri" => Weekday::Fri,
            "sat" => Weekday::Sat,
            "sun" => Weekday::Sun,
            _ => return None,
        })
    }

    /// The FHIR `days-of-week` code.
    pub fn code(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index()]
    }
}

/// A point in time: seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses a FHIR `instant`/`dateTime` that has a time and an offset (`Z` or `±hh:mm`).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let w = When::parse(s)?;
        (w.has_time() && w.offset_seconds().is_some()).then_some(w.timestamp())
    }

    /// The UTC calendar day.
    pub fn utc_day(self) -> Day {
        Day(self.0.div_euclid(86_400) as i32)
    }
}

/// A wall-clock time of day, in seconds after midnight (0 ..= 86 399).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u32);

impl LocalTime {
    pub const MIDNIGHT: LocalTime = LocalTime(0);

    /// `hour:minute`, or None when out of range.
    pub fn hm(hour: u32, minute: u32) -> Option<LocalTime> {
        LocalTime::hms(hour, minute, 0)
    }

    /// `hour:minute:second`, or None when out of range.
    pub fn hms(hour: u32, minute: u32, second: u32) -> Option<LocalTime> {
        (hour < 24 && minute < 60 && second < 60)
            .then_some(LocalTime(hour * 3600 + minute * 60 + second))
    }

    /// Seconds after midnight, or None past the end of the day.
    pub fn from_seconds(s: u32) -> Option<LocalTime> {
        (s < 86_400).then_some(LocalTime(s))
    }

    /// Seconds after midnight.
    pub fn seconds(self) -> u32 {
        self.0
    }

    /// The hour (0–23).
    pub fn hour(self) -> u32 {
        self.0 / 3600
    }

    /// The minute (0–59).
    pub fn minute(self) -> u32 {
        self.0 / 60 % 60
    }

    /// Parses a FHIR `time` (`hh:mm:ss`, lenient: `hh:mm`, fractional seconds ignored).
    pub fn parse(s: &str) -> Option<LocalTime> {
        let s = s.trim();
        let b = s.as_bytes();
        let h = two_digits(b, 0)?;
        if b.get(2) != Some(&b':') {
            return None;
        }
        let m = two_digits(b, 3)?;
        let sec = match b.get(5) {
            None => 0,
            Some(b':') => {
                let sec = two_digits(b, 6)?;
                match b.get(8) {
                    None => {}
                    Some(b'.') if b[9..].iter().all(u8::is_ascii_digit) && b.len() > 9 => {}
                    _ => return None,
                }
                sec
            }
            _ => return None,
        };
        LocalTime::hms(h, m, sec)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())?;
        if !self.0.is_multiple_of(60) {
            write!(f, ":{:02}", self.0 % 60)?;
        }
        Ok(())
    }
}

/// A wall-clock date and time, in no particular zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime {
    pub day: Day,
    pub time: LocalTime,
}

impl LocalDateTime {
    /// A wall-clock reading.
    pub fn new(day: Day, time: LocalTime) -> LocalDateTime {
        LocalDateTime { day, time }
    }

    /// Seconds since 1970-01-01T00:00 on this wall clock (as if it were UTC).
    pub fn wall_seconds(self) -> i64 {
        i64::from(self.day.0) * 86_400 + i64::from(self.time.0)
    }

    /// The inverse of [`LocalDateTime::wall_seconds`].
    pub fn from_wall_seconds(s: i64) -> LocalDateTime {
        LocalDateTime {
            day: Day(s.div_euclid(86_400) as i32),
            time: LocalTime(s.rem_euclid(86_400) as u32),
        }
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.day, self.time)
    }
}

/// How much of a FHIR date-time was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Year,
    Month,
    Day,
    /// A time of day was given (to the minute or finer).
    Time,
}

/// A FHIR `date`, `dateTime` or `instant`, normalised for sorting and display (16 bytes).
///
/// Stored as the UTC instant plus the written offset; the day and time as written are derived
/// (`instant + offset`). A value without an offset is stored as if it were UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct When {
    utc: i64,
    /// Offset in minutes east of UTC as written; `i16::MIN` when none was given.
    offset_minutes: i16,
    precision: Precision,
}

fn two_digits(b: &[u8], at: usize) -> Option<u32> {
    let x = *b.get(at)?;
    let y = *b.get(at + 1)?;
    (x.is_ascii_digit() && y.is_ascii_digit())
        .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
}

impl When {
    /// Parses a FHIR date/dateTime/instant. Lenient about missing seconds, a space instead of
    /// `T`, `±hhmm` offsets and fractional seconds; None for anything else.
    pub fn parse(s: &str) -> Option<When> {
        let b = s.trim().as_bytes();
        if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let year = (two_digits(b, 0)? * 100 + two_digits(b, 2)?) as i32;
        if year == 0 {
            return None;
        }
        let date_only = |day: Day, precision: Precision| When {
            utc: day.utc_midnight().0,
            offset_minutes: i16::MIN,
            precision,
        };
        if b.len() == 4 {
            return Some(date_only(Day::from_ymd(year, 1, 1)?, Precision::Year));
        }
        if b[4] != b'-' {
            return None;
        }
        let month = two_digits(b, 5)?;
        let first = Day::from_ymd(year, month, 1)?;
        if b.len() == 7 {
            return Some(date_only(first, Precision::Month));
        }
        if b[7] != b'-' {
            return None;
        }
        let dom = two_digits(b, 8)?;
        let day = Day::from_ymd(year, month, dom)?;
        if b.len() == 10 {
            return Some(date_only(day, Precision::Day));
        }
        if b[10] != b'T' && b[10] != b' ' {
            return None;
        }
        let h = two_digits(b, 11)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let mi = two_digits(b, 14)?;
        let mut i = 16;
        let mut sec = 0;
        if b.get(i) == Some(&b':') {
            sec = two_digits(b, i + 1)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                if i == start {
                    return None;
                }
            }
        }
        // 24:00:00 is not a FHIR time; 60 seconds (leap) is clamped.
        let local = LocalTime::hms(h, mi, sec.min(59))?;
        let offset: Option<i32> = match b.get(i) {
            None => None,
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => Some(0),
            Some(&sign @ (b'+' | b'-')) => {
                let oh = two_digits(b, i + 1)?;
                let om = match b.get(i + 3) {
                    Some(b':') => {
                        let om = two_digits(b, i + 4)?;
                        (i + 6 == b.len()).then_some(om)?
                    }
                    Some(_) => {
                        let om = two_digits(b, i + 3)?;
                        (i + 5 == b.len()).then_some(om)?
                    }
                    None => 0,
                };
                if oh > 18 || om > 59 {
                    return None;
                }
                let m = (oh * 60 + om) as i32;
                Some(if sign == b'-' { -m } else { m })
            }
            _ => return None,
        };
        let wall = i64::from(day.0) * 86_400 + i64::from(local.0);
        Some(When {
            utc: wall - i64::from(offset.unwrap_or(0)) * 60,
            offset_minutes: offset.map_or(i16::MIN, |m| m as i16),
            precision: Precision::Time,
        })
    }

    /// The stored parts: UTC seconds, written offset in minutes (`i16::MIN` for none) and
    /// precision (0 year, 1 month, 2 day, 3 time). For caches.
    pub(crate) fn to_parts(self) -> (i64, i16, u8) {
        (self.utc, self.offset_minutes, self.precision as u8)
    }

    /// The inverse of [`When::to_parts`], refusing values no parse produces (an instant outside
    /// years -9999..=9999 with margin, an offset beyond ±24 h, an unknown precision).
    pub(crate) fn from_parts(utc: i64, offset_minutes: i16, precision: u8) -> Option<When> {
        const LIMIT: i64 = 400_000_000_000; // about ±12,700 years in seconds
        let precision = match precision {
            0 => Precision::Year,
            1 => Precision::Month,
            2 => Precision::Day,
            3 => Precision::Time,
            _ => return None,
        };
        let offset_ok = offset_minutes == i16::MIN || (-1440..=1440).contains(&offset_minutes);
        ((-LIMIT..=LIMIT).contains(&utc) && offset_ok).then_some(When {
            utc,
            offset_minutes,
            precision,
        })
    }

    /// A day-precision value.
    pub fn from_day(day: Day) -> When {
        When {
            utc: day.utc_midnight().0,
            offset_minutes: i16::MIN,
            precision: Precision::Day,
        }
    }

    /// The calendar day as written (for year/month precision, the first day of the period).
    pub fn day(&self) -> Day {
        Day(self.wall().div_euclid(86_400) as i32)
    }

    /// Seconds since the epoch on the wall clock as written.
    fn wall(&self) -> i64 {
        self.utc + i64::from(self.offset_seconds().unwrap_or(0))
    }

    /// How much was given.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Whether a time of day was given.
    pub fn has_time(&self) -> bool {
        self.precision == Precision::Time
    }

    /// The time of day as written, if one was given.
    pub fn local_time(&self) -> Option<LocalTime> {
        self.has_time()
            .then(|| LocalTime(self.wall().rem_euclid(86_400) as u32))
    }

    /// The written offset from UTC in seconds, if one was given.
    pub fn offset_seconds(&self) -> Option<i32> {
        (self.offset_minutes != i16::MIN).then(|| i32::from(self.offset_minutes) * 60)
    }

    /// The UTC instant used for ordering (midnight UTC for values without a time).
    pub fn timestamp(&self) -> Timestamp {
        Timestamp(self.utc)
    }

    /// Ordering key: the day as written, then the instant.
    pub fn sort_key(&self) -> (i32, i64) {
        (self.day().0, self.utc)
    }

    /// The UTC calendar day when a time and offset were given.
    pub fn utc_day(&self) -> Option<Day> {
        (self.has_time() && self.offset_seconds().is_some()).then(|| Timestamp(self.utc).utc_day())
    }
}

impl serde::Serialize for When {
    /// As `[utc_seconds, offset_minutes_or_null, precision]`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (utc, off, p) = self.to_parts();
        (utc, (off != i16::MIN).then_some(off), p).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for When {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (utc, off, p) = <(i64, Option<i16>, u8)>::deserialize(d)?;
        When::from_parts(utc, off.unwrap_or(i16::MIN), p)
            .ok_or_else(|| serde::de::Error::custom("not a valid date"))
    }
}

impl fmt::Display for When {
    /// `2024`, `2024-03`, `2024-03-05` or `2024-03-05 10:30` (the local time as written).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.day();
        let (y, m, _) = day.ymd();
        match self.precision {
            Precision::Year => write!(f, "{y:04}"),
            Precision::Month => write!(f, "{y:04}-{m:02}"),
            Precision::Day => write!(f, "{day}"),
            Precision::Time => {
                let t = LocalTime(self.wall().rem_euclid(86_400) as u32);
                write!(f, "{} {:02}:{:02}", day, t.hour(), t.minute())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-700_000, -1, 0, 1, 19_000, 2_932_000] {
            let (y, m, d) = Day(z).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(z)), "{z}");
        }
        assert_eq!(Day::from_ymd(1970, 1, 1), Some(Day(0)));
        assert_eq!(
            Day::from_ymd(2024, 2, 29).unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(Day::from_ymd(2023, 2, 29), None);
        assert_eq!(Day::from_ymd(2024, 3, 10).unwrap().weekday(), Weekday::Sun);
        assert_eq!(
            Day::from_ymd(2024, 3, 13).unwrap().week_start(Weekday::Mon),
            Day::from_ymd(2024, 3, 11).unwrap()
        );
    }

    #[test]
    fn when_is_compact() {
        assert_eq!(std::mem::size_of::<Option<When>>(), 16);
    }

    #[test]
    fn parses_fhir_dates() {
        let w = When::parse("2024-03-05T10:30:00-05:00").unwrap();
        assert_eq!(w.day().to_string(), "2024-03-05");
        assert_eq!(
            w.timestamp(),
            Timestamp::parse("2024-03-05T15:30:00Z").unwrap()
        );
        assert_eq!(w.to_string(), "2024-03-05 10:30");
        assert_eq!(w.offset_seconds(), Some(-5 * 3600));
        let late = When::parse("2024-03-05T23:30:00.123-05:00").unwrap();
        assert_eq!(late.utc_day().unwrap().to_string(), "2024-03-06");
        assert_eq!(When::parse("2024").unwrap().precision(), Precision::Year);
        assert_eq!(When::parse("2024-03").unwrap().to_string(), "2024-03");
        assert_eq!(
            When::parse("2024-03-05").unwrap().precision(),
            Precision::Day
        );
        assert!(When::parse("2024-03-05T10:30+0130").is_some());
        for bad in [
            "",
            "20",
            "2024-13-01",
            "2024-02-30",
            "2024/03/05",
            "2024-03-05T25:00",
            "2024-03-05Tx",
            "0000",
        ] {
            assert!(When::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(LocalTime::parse("08:05:00"), LocalTime::hm(8, 5));
        assert_eq!(LocalTime::parse("21:30"), LocalTime::hm(21, 30));
        assert_eq!(LocalTime::parse("24:00:00"), None);
    }
}
