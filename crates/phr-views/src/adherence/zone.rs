//! Time zones as the adherence arithmetic needs them: the offset in force at an instant.
//!
//! The browser implements [`LocalZone`] with JS (`-new Date(ms).getTimezoneOffset() * 60` for the
//! device zone, or `Intl.DateTimeFormat` for a named one). Everything else — turning a wall-clock
//! dose time into an instant, including gaps and overlaps — is derived here from `offset_at`, so
//! it is the same, tested code in every browser.

use crate::time::{Day, LocalDateTime, Timestamp, Weekday};

/// How a wall-clock time maps to instants in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The usual case: exactly one instant.
    Unique(Timestamp),
    /// The clock was set back and this time happened twice (e.g. 01:30 on a fall-back day).
    Repeated { first: Timestamp, second: Timestamp },
    /// The clock jumped forward over this time (e.g. 02:30 on a spring-forward day). `shifted` is
    /// the instant the same wall-clock reading means under the offset before the jump, i.e. the
    /// time moved forward by the gap (02:30 → 03:30), as JavaScript's `Date` and RFC 5545 do.
    Skipped {
        shifted: Timestamp,
        gap_seconds: i64,
    },
}

/// A time zone: the offset from UTC in force at each instant.
pub trait LocalZone {
    /// Seconds east of UTC at instant `t` (New York in winter: −18 000).
    fn offset_at(&self, t: Timestamp) -> i32;

    /// The wall-clock reading at instant `t`.
    fn to_local(&self, t: Timestamp) -> LocalDateTime {
        LocalDateTime::from_wall_seconds(t.0 + i64::from(self.offset_at(t)))
    }

    /// The instants a wall-clock reading denotes. Assumes at most one offset change within a day
    /// either side of it (true of every real zone).
    fn resolve(&self, local: LocalDateTime) -> Resolved {
        let wall = local.wall_seconds();
        let before = self.offset_at(Timestamp(wall - 86_400));
        let after = self.offset_at(Timestamp(wall + 86_400));
        let t_before = Timestamp(wall - i64::from(before));
        let t_after = Timestamp(wall - i64::from(after));
        let ok_before = self.offset_at(t_before) == before;
        let ok_after = self.offset_at(t_after) == after;
        match (ok_before, ok_after) {
            _ if before == after => Resolved::Unique(t_before),
            (true, true) => Resolved::Repeated {
                first: t_before.min(t_after),
                second: t_before.max(t_after),
            },
            (true, false) => Resolved::Unique(t_before),
            (false, true) => Resolved::Unique(t_after),
            (false, false) => Resolved::Skipped {
                shifted: t_before,
                gap_seconds: i64::from(after - before),
            },
        }
    }
}

/// A zone with one fixed offset (UTC, or a traveller's hotel zone in tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedZone {
    pub offset_seconds: i32,
}

impl FixedZone {
    pub const UTC: FixedZone = FixedZone { offset_seconds: 0 };

    /// A fixed offset of `h` whole hours east of UTC.
    pub fn hours(h: i32) -> FixedZone {
        FixedZone {
            offset_seconds: h * 3600,
        }
    }
}

impl LocalZone for FixedZone {
    fn offset_at(&self, _t: Timestamp) -> i32 {
        self.offset_seconds
    }
}

/// When in the year a daylight-saving change happens (POSIX `Mm.w.d/time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransitionRule {
    pub month: u32,
    /// 1–4: the n-th such weekday of the month; 5: the last.
    pub week: u32,
    pub weekday: Weekday,
    /// Wall-clock time of the change, in seconds after midnight, read in the offset in force
    /// just before it.
    pub at_seconds: i32,
}

impl TransitionRule {
    fn day(&self, year: i32) -> Option<Day> {
        let first = Day::from_ymd(year, self.month, 1)?;
        let shift = (self.weekday.index() + 7 - first.weekday().index()) % 7;
        let mut d = first.add_days(shift as i32 + 7 * (self.week.clamp(1, 5) as i32 - 1));
        while d.ymd().1 != self.month {
            d = d.add_days(-7);
        }
        Some(d)
    }
}

/// A zone with a standard offset and yearly daylight-saving rules (like a POSIX TZ string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleZone {
    pub standard_offset: i32,
    pub daylight_offset: i32,
    /// When daylight time starts (read in standard time).
    pub start: TransitionRule,
    /// When it ends (read in daylight time).
    pub end: TransitionRule,
}

impl RuleZone {
    /// America/New_York since 2007: EST −5, EDT −4 from the 2nd Sunday of March 02:00 to the
    /// 1st Sunday of November 02:00.
    pub fn new_york() -> RuleZone {
        RuleZone {
            standard_offset: -5 * 3600,
            daylight_offset: -4 * 3600,
            start: TransitionRule {
                month: 3,
                week: 2,
                weekday: Weekday::Sun,
                at_seconds: 2 * 3600,
            },
            end: TransitionRule {
                month: 11,
                week: 1,
                weekday: Weekday::Sun,
                at_seconds: 2 * 3600,
            },
        }
    }

    /// Europe/London since 1996: GMT 0, BST +1 from the last Sunday of March 01:00 GMT to the
    /// last Sunday of October 02:00 BST (both 01:00 UTC).
    pub fn london() -> RuleZone {
        RuleZone {
            standard_offset: 0,
            daylight_offset: 3600,
            start: TransitionRule {
                month: 3,
                week: 5,
                weekday: Weekday::Sun,
                at_seconds: 3600,
            },
            end: TransitionRule {
                month: 10,
                week: 5,
                weekday: Weekday::Sun,
                at_seconds: 2 * 3600,
            },
        }
    }

    fn transitions(&self, year: i32) -> Option<(i64, i64)> {
        let s = self.start.day(year)?;
        let e = self.end.day(year)?;
        let start = i64::from(s.0) * 86_400 + i64::from(self.start.at_seconds)
            - i64::from(self.standard_offset);
        let end = i64::from(e.0) * 86_400 + i64::from(self.end.at_seconds)
            - i64::from(self.daylight_offset);
        Some((start, end))
    }
}

impl LocalZone for RuleZone {
    fn offset_at(&self, t: Timestamp) -> i32 {
        let year = Timestamp(t.0 + i64::from(self.standard_offset))
            .utc_day()
            .year();
        let Some((start, end)) = self.transitions(year) else {
            return self.standard_offset;
        };
        let dst = if start < end {
            t.0 >= start && t.0 < end
        } else {
            // Southern hemisphere: daylight time spans the new year.
            t.0 >= start || t.0 < end
        };
        if dst {
            self.daylight_offset
        } else {
            self.standard_offset
        }
    }
}

/// The zones a traveller was in: `initial` until the first change, then each zone from its
/// instant on. Doses follow the wall clock of wherever the patient is (see
/// [`crate::adherence`]).
pub struct ZoneHistory {
    pub initial: Box<dyn LocalZone>,
    /// `(from, zone)`, in increasing order of `from`.
    pub changes: Vec<(Timestamp, Box<dyn LocalZone>)>,
}

impl LocalZone for ZoneHistory {
    fn offset_at(&self, t: Timestamp) -> i32 {
        self.changes
            .iter()
            .rev()
            .find(|(from, _)| *from <= t)
            .map_or_else(|| self.initial.offset_at(t), |(_, z)| z.offset_at(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::LocalTime;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn new_york_transitions_2024() {
        let ny = RuleZone::new_york();
        assert_eq!(ny.offset_at(ts("2024-03-10T06:59:59Z")), -5 * 3600);
        assert_eq!(ny.offset_at(ts("2024-03-10T07:00:00Z")), -4 * 3600);
        assert_eq!(ny.offset_at(ts("2024-11-03T05:59:59Z")), -4 * 3600);
        assert_eq!(ny.offset_at(ts("2024-11-03T06:00:00Z")), -5 * 3600);
        assert_eq!(ny.offset_at(ts("2024-01-15T12:00:00Z")), -5 * 3600);
        assert_eq!(ny.offset_at(ts("2024-07-15T12:00:00Z")), -4 * 3600);
        // 2025: March 9 and November 2.
        assert_eq!(ny.offset_at(ts("2025-03-09T07:00:00Z")), -4 * 3600);
        assert_eq!(ny.offset_at(ts("2025-11-02T06:00:00Z")), -5 * 3600);
    }

    #[test]
    fn london_transitions_2024() {
        let l = RuleZone::london();
        assert_eq!(l.offset_at(ts("2024-03-31T00:59:59Z")), 0);
        assert_eq!(l.offset_at(ts("2024-03-31T01:00:00Z")), 3600);
        assert_eq!(l.offset_at(ts("2024-10-27T00:59:59Z")), 3600);
        assert_eq!(l.offset_at(ts("2024-10-27T01:00:00Z")), 0);
    }

    #[test]
    fn resolves_gaps_and_overlaps() {
        let ny = RuleZone::new_york();
        let day = |y, m, d| Day::from_ymd(y, m, d).unwrap();
        let at = |d: Day, h, m| LocalDateTime::new(d, LocalTime::hm(h, m).unwrap());
        assert_eq!(
            ny.resolve(at(day(2024, 3, 10), 2, 30)),
            Resolved::Skipped {
                shifted: ts("2024-03-10T07:30:00Z"),
                gap_seconds: 3600
            }
        );
        assert_eq!(
            ny.resolve(at(day(2024, 11, 3), 1, 30)),
            Resolved::Repeated {
                first: ts("2024-11-03T05:30:00Z"),
                second: ts("2024-11-03T06:30:00Z")
            }
        );
        assert_eq!(
            ny.resolve(at(day(2024, 3, 10), 8, 0)),
            Resolved::Unique(ts("2024-03-10T12:00:00Z"))
        );
        assert_eq!(
            ny.to_local(ts("2024-03-10T12:00:00Z")),
            at(day(2024, 3, 10), 8, 0)
        );
        let l = RuleZone::london();
        assert_eq!(
            l.resolve(at(day(2024, 3, 31), 1, 30)),
            Resolved::Skipped {
                shifted: ts("2024-03-31T01:30:00Z"),
                gap_seconds: 3600
            }
        );
    }
}
