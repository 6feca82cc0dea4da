//! Medication adherence: scheduled doses per local day, the status of each, weekly percentages.
//!
//! # Semantics (exact)
//!
//! * **A dose slot is a wall-clock reading**: the local date and time of day of the schedule
//!   ([`SlotId`]). A schedule "08:00 and 20:00, Mon–Fri" has one slot per listed time on each
//!   listed weekday, from `start` (inclusive) to `end` (exclusive), both wall-clock readings.
//!   Slot identity never depends on the zone, so a logged answer stays attached to its slot.
//! * **Due instant**: the slot's wall-clock reading resolved in the zone passed in
//!   ([`LocalZone::resolve`]):
//!   - a time the clock skips (02:30 on a spring-forward day in New York) still has its dose; it is
//!     due at the same reading under the old offset, i.e. moved forward by the gap (03:30 EDT).
//!     [`SlotTiming::ShiftedForward`] says so;
//!   - a time that happens twice (01:30 on a fall-back day) has **one** dose, due at the first
//!     occurrence (EDT). [`SlotTiming::FirstOfRepeated`] says so. The 25-hour day has the same
//!     number of doses as any other day, the 23-hour day too.
//!   - **travel**: doses follow the wall clock of wherever the patient is. Pass a zone that knows
//!     where they were ([`zone::ZoneHistory`]): an 08:00 dose is due at 08:00 in New York before
//!     the flight and at 08:00 in London after it. A day whose 08:00 is passed in both zones
//!     (flying west) still has one 08:00 dose; a change of zone that skips a wall-clock time
//!     behaves like a spring-forward gap.
//! * **Answers**: a log entry answers one slot. An entry that names its slot answers that slot
//!   (the latest entry wins when a slot is answered twice, so a patient can correct a mistake);
//!   an entry without a slot answers the unanswered slot whose due instant is nearest to the
//!   entry's time, within `match_window_seconds`. Entries that answer nothing are reported in
//!   [`AdherenceReport::unmatched`], never silently counted.
//! * **Status** of a slot, given `now`: [`DoseStatus::Taken`] or [`DoseStatus::Skipped`] when
//!   answered (even before the due time); otherwise [`DoseStatus::Upcoming`] before the due
//!   instant, [`DoseStatus::Due`] from the due instant until `grace_seconds` after it, then
//!   [`DoseStatus::Missed`].
//! * **Adherence %** = taken ÷ doses already due, where "already due" means the due instant is
//!   at or before `now`, plus doses answered early. Doses still in their grace period count as
//!   due but not taken; upcoming doses do not count. No dose due → no percentage (None), never 0.

pub mod fhir;
pub mod zone;

use crate::time::{Day, LocalDateTime, LocalTime, Timestamp, Weekday};
pub use zone::{FixedZone, LocalZone, Resolved, RuleZone, TransitionRule, ZoneHistory};

/// When a medication is to be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoseSchedule {
    /// Times of day (duplicates are ignored).
    pub times: Vec<LocalTime>,
    /// Days of the week; empty means every day.
    pub days_of_week: Vec<Weekday>,
    /// First moment of the schedule (wall clock), inclusive.
    pub start: LocalDateTime,
    /// End of the schedule (wall clock), exclusive.
    pub end: Option<LocalDateTime>,
}

impl DoseSchedule {
    /// Daily at the given times from the start of `start_day`, without end.
    pub fn daily(times: &[LocalTime], start_day: Day) -> DoseSchedule {
        DoseSchedule {
            times: times.to_vec(),
            days_of_week: Vec::new(),
            start: LocalDateTime::new(start_day, LocalTime::MIDNIGHT),
            end: None,
        }
    }

    /// The slots of one local day, earliest first.
    pub fn slots_on(&self, day: Day) -> Vec<SlotId> {
        if !self.days_of_week.is_empty() && !self.days_of_week.contains(&day.weekday()) {
            return Vec::new();
        }
        let mut times = self.times.clone();
        times.sort();
        times.dedup();
        times
            .into_iter()
            .map(|time| SlotId { day, time })
            .filter(|s| {
                let ldt = LocalDateTime::new(s.day, s.time);
                ldt >= self.start && self.end.is_none_or(|e| ldt < e)
            })
            .collect()
    }
}

/// A dose slot: a local date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId {
    pub day: Day,
    pub time: LocalTime,
}

/// What the patient logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DoseAction {
    Taken,
    Skipped,
}

/// One dose-log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoseLogEntry {
    /// The slot it answers, when recorded.
    pub slot: Option<SlotId>,
    /// When it was taken / logged.
    pub at: Timestamp,
    pub action: DoseAction,
    /// The entry key (to open or edit it).
    pub key: Option<String>,
}

/// The state of a scheduled dose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DoseStatus {
    Taken,
    Skipped,
    /// Not answered and past its grace period.
    Missed,
    /// Due now: past its time, within the grace period, not answered yet.
    Due,
    Upcoming,
}

/// How the slot's wall-clock time mapped to an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotTiming {
    Normal,
    /// The wall-clock time did not exist (clock jumped); due `seconds` later on the wall clock.
    ShiftedForward {
        seconds: i64,
    },
    /// The wall-clock time happened twice; due at the first occurrence.
    FirstOfRepeated,
}

/// One scheduled dose with its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledDose {
    pub slot: SlotId,
    pub due: Timestamp,
    pub timing: SlotTiming,
    pub status: DoseStatus,
    /// Index into the log of the entry that answered it.
    pub entry: Option<usize>,
}

/// The doses of one local day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayDoses {
    pub day: Day,
    pub doses: Vec<ScheduledDose>,
}

/// Counts and the percentage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdherenceStats {
    pub scheduled: u32,
    pub taken: u32,
    pub skipped: u32,
    pub missed: u32,
    pub due: u32,
    pub upcoming: u32,
    /// Doses already due (the denominator).
    pub counted: u32,
    /// Taken ÷ counted, rounded to a whole percent; None when nothing is due yet.
    pub percent: Option<u8>,
}

/// Tuning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdherenceOptions {
    /// How long after its due time an unanswered dose is "due" before it is "missed".
    pub grace_seconds: i64,
    /// How far from a slot's due instant an entry without a slot may be to answer it.
    pub match_window_seconds: i64,
}

impl Default for AdherenceOptions {
    fn default() -> Self {
        AdherenceOptions {
            grace_seconds: 2 * 3600,
            match_window_seconds: 6 * 3600,
        }
    }
}

/// Doses per day over a range, and the log entries that answered nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdherenceReport {
    pub days: Vec<DayDoses>,
    /// Indices of log entries that answer no slot of the range's schedule (or that name a slot
    /// the schedule does not have). Entries outside the range are not listed.
    pub unmatched: Vec<usize>,
}

impl AdherenceReport {
    /// Counts over all days of the report.
    pub fn stats(&self) -> AdherenceStats {
        stats(&self.days)
    }
}

/// A week's doses and stats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeekAdherence {
    pub start: Day,
    pub days: Vec<DayDoses>,
    pub stats: AdherenceStats,
}

fn resolve_slot(zone: &dyn LocalZone, s: SlotId) -> (Timestamp, SlotTiming) {
    match zone.resolve(LocalDateTime::new(s.day, s.time)) {
        Resolved::Unique(t) => (t, SlotTiming::Normal),
        Resolved::Repeated { first, .. } => (first, SlotTiming::FirstOfRepeated),
        Resolved::Skipped {
            shifted,
            gap_seconds,
        } => (
            shifted,
            SlotTiming::ShiftedForward {
                seconds: gap_seconds,
            },
        ),
    }
}

/// Scheduled doses from `from` to `to` (inclusive local days) with their status at `now`.
pub fn doses(
    schedule: &DoseSchedule,
    log: &[DoseLogEntry],
    zone: &dyn LocalZone,
    from: Day,
    to: Day,
    now: Timestamp,
    opts: &AdherenceOptions,
) -> AdherenceReport {
    doses_all(
        std::slice::from_ref(schedule),
        log,
        zone,
        from,
        to,
        now,
        opts,
    )
}

/// The slots of one local day under several schedules (e.g. the times a regimen had before and
/// after a change, each bounded to its period), earliest first; a slot two schedules share
/// counts once.
pub fn slots_on_all(schedules: &[DoseSchedule], day: Day) -> Vec<SlotId> {
    let mut slots: Vec<SlotId> = schedules.iter().flat_map(|s| s.slots_on(day)).collect();
    slots.sort();
    slots.dedup();
    slots
}

/// As [`doses`] for a regimen made of several schedules (see [`fhir::schedules_from_resource`]).
pub fn doses_all(
    schedules: &[DoseSchedule],
    log: &[DoseLogEntry],
    zone: &dyn LocalZone,
    from: Day,
    to: Day,
    now: Timestamp,
    opts: &AdherenceOptions,
) -> AdherenceReport {
    // Slots of the range plus a day either side, so entries near the edges find their slot.
    let mut slots: Vec<(SlotId, Timestamp, SlotTiming)> = Vec::new();
    let mut d = from.add_days(-1);
    while d <= to.add_days(1) {
        for s in slots_on_all(schedules, d) {
            let (due, timing) = resolve_slot(zone, s);
            slots.push((s, due, timing));
        }
        d = d.add_days(1);
    }
    let mut answer: Vec<Option<usize>> = vec![None; slots.len()];
    let in_range = |s: &SlotId| s.day >= from && s.day <= to;
    let mut unmatched = Vec::new();
    // Entries naming their slot: the latest (by time, then log order) wins.
    for (i, e) in log.iter().enumerate() {
        let Some(slot) = e.slot else { continue };
        match slots.iter().position(|(s, _, _)| *s == slot) {
            Some(p) => {
                let replace = match answer[p] {
                    None => true,
                    Some(prev) => (log[prev].at, prev) <= (e.at, i),
                };
                if replace {
                    answer[p] = Some(i);
                }
            }
            None => {
                if in_range(&slot) {
                    unmatched.push(i);
                }
            }
        }
    }
    // Entries without a slot: nearest unanswered slot within the window, in time order.
    let mut loose: Vec<usize> = (0..log.len()).filter(|&i| log[i].slot.is_none()).collect();
    loose.sort_by_key(|&i| (log[i].at, i));
    for i in loose {
        let e = &log[i];
        let best = slots
            .iter()
            .enumerate()
            .filter(|(p, (_, due, _))| {
                answer[*p].is_none() && (due.0 - e.at.0).abs() <= opts.match_window_seconds
            })
            .min_by_key(|(p, (_, due, _))| ((due.0 - e.at.0).abs(), *p))
            .map(|(p, _)| p);
        match best {
            Some(p) => answer[p] = Some(i),
            None => {
                let local_day = zone.to_local(e.at).day;
                if local_day >= from && local_day <= to {
                    unmatched.push(i);
                }
            }
        }
    }
    unmatched.sort_unstable();
    let mut days: Vec<DayDoses> = Vec::new();
    let mut d = from;
    while d <= to {
        days.push(DayDoses {
            day: d,
            doses: Vec::new(),
        });
        d = d.add_days(1);
    }
    for (p, (slot, due, timing)) in slots.into_iter().enumerate() {
        if !in_range(&slot) {
            continue;
        }
        let entry = answer[p];
        let status = match entry.map(|i| log[i].action) {
            Some(DoseAction::Taken) => DoseStatus::Taken,
            Some(DoseAction::Skipped) => DoseStatus::Skipped,
            None if now < due => DoseStatus::Upcoming,
            None if now.0 < due.0 + opts.grace_seconds => DoseStatus::Due,
            None => DoseStatus::Missed,
        };
        let idx = (slot.day.0 - from.0) as usize;
        days[idx].doses.push(ScheduledDose {
            slot,
            due,
            timing,
            status,
            entry,
        });
    }
    AdherenceReport { days, unmatched }
}

/// Counts over days. See the module doc for what "counted" means.
pub fn stats(days: &[DayDoses]) -> AdherenceStats {
    let mut s = AdherenceStats::default();
    for d in days {
        for x in &d.doses {
            s.scheduled += 1;
            match x.status {
                DoseStatus::Taken => s.taken += 1,
                DoseStatus::Skipped => s.skipped += 1,
                DoseStatus::Missed => s.missed += 1,
                DoseStatus::Due => s.due += 1,
                DoseStatus::Upcoming => s.upcoming += 1,
            }
        }
    }
    s.counted = s.taken + s.skipped + s.missed + s.due;
    s.percent = (s.counted > 0).then(|| {
        ((u64::from(s.taken) * 200 + u64::from(s.counted)) / (2 * u64::from(s.counted))) as u8
    });
    s
}

/// The week of 7 local days starting at `week_start`.
pub fn week(
    schedule: &DoseSchedule,
    log: &[DoseLogEntry],
    zone: &dyn LocalZone,
    week_start: Day,
    now: Timestamp,
    opts: &AdherenceOptions,
) -> WeekAdherence {
    week_all(
        std::slice::from_ref(schedule),
        log,
        zone,
        week_start,
        now,
        opts,
    )
}

/// As [`week`] for a regimen made of several schedules.
pub fn week_all(
    schedules: &[DoseSchedule],
    log: &[DoseLogEntry],
    zone: &dyn LocalZone,
    week_start: Day,
    now: Timestamp,
    opts: &AdherenceOptions,
) -> WeekAdherence {
    let r = doses_all(
        schedules,
        log,
        zone,
        week_start,
        week_start.add_days(6),
        now,
        opts,
    );
    WeekAdherence {
        start: week_start,
        stats: stats(&r.days),
        days: r.days,
    }
}

/// Consecutive weeks (starting on `first_weekday`) covering the local days `from ..= to`,
/// oldest first.
pub fn weeks(
    schedule: &DoseSchedule,
    log: &[DoseLogEntry],
    zone: &dyn LocalZone,
    (from, to): (Day, Day),
    first_weekday: Weekday,
    now: Timestamp,
    opts: &AdherenceOptions,
) -> Vec<WeekAdherence> {
    let mut out = Vec::new();
    let mut w = from.week_start(first_weekday);
    while w <= to {
        out.push(week(schedule, log, zone, w, now, opts));
        w = w.add_days(7);
    }
    out
}
