//! Reading schedules and dose logs from FHIR, tolerant of variations.
//!
//! * **Schedule**: `MedicationStatement.dosage` or `MedicationRequest.dosageInstruction`, the
//!   first dosage whose `timing.repeat` has `timeOfDay`; `dayOfWeek` restricts the days. The
//!   start is `timing.repeat.boundsPeriod.start`, else `effectivePeriod.start`,
//!   `effectiveDateTime`, `authoredOn` or `dateAsserted`; the end is `boundsPeriod.end` or
//!   `effectivePeriod.end` (a date-only end includes that whole day). Date-times with an offset are
//!   converted to the patient's wall clock with the zone; without one they are read as wall-clock
//!   times. A dosage that says how often but not at what times (`frequency`/`period`, `BID`) is an
//!   error the app turns into "choose the times you take it": this crate does not invent times.
//! * **Dose log**: `MedicationAdministration` with status `completed` (taken) or `not-done`
//!   (skipped); `entered-in-error` entries are ignored. An entry belongs to the regimen when
//!   `supportingInformation`, `partOf`, `request` or an extension's `valueReference` points at it.
//!   The slot it answers is read from an extension whose URL mentions `slot` or `scheduled`
//!   (e.g. the record crate's `…/scheduled-dose`), either with `date` (valueDate) and `time`
//!   (valueTime) sub-extensions, or with one `valueDateTime`/`valueString`. The time taken is
//!   `effectiveDateTime` (or `effectivePeriod.start`).

use phr_fhir::types::{Dosage, Period, Reference};
use phr_fhir::Resource;
use serde::Deserialize;

use super::{DoseAction, DoseLogEntry, DoseSchedule, LocalZone, Resolved, SlotId};
use crate::index::split_ref;
use crate::time::{Day, LocalDateTime, LocalTime, Timestamp, Weekday, When};

/// Why no schedule could be read. Each message says what the patient can do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("this entry is a {0}, not a medication, so it has no dose schedule")]
    NotAMedication(String),
    #[error("this medication's details could not be read; you can add the schedule yourself to track doses")]
    Unreadable,
    #[error("this medication has no dose schedule; add the times you take it to track doses")]
    NoSchedule,
    #[error("this medication is taken only as needed, so there are no scheduled doses to track")]
    AsNeeded,
    #[error("this medication says how often to take it ({how_often}) but not at what times; choose the times you take it to track doses")]
    NoTimesOfDay { how_often: String },
    #[error("the time of day \"{0}\" in this medication's schedule is not a valid time; edit the schedule to fix it")]
    BadTimeOfDay(String),
    #[error("this medication's schedule has no start date; set when you started taking it")]
    NoStart,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Regimen {
    dosage: Vec<Dosage>,
    dosage_instruction: Vec<Dosage>,
    effective_period: Option<Period>,
    effective_date_time: Option<String>,
    authored_on: Option<String>,
    date_asserted: Option<String>,
}

/// A FHIR date/dateTime as a wall-clock reading in `zone`. Date-only values are midnight, or the
/// next midnight when `end_of_day`.
fn wall_clock(s: &str, zone: &dyn LocalZone, end_of_day: bool) -> Option<LocalDateTime> {
    let w = When::parse(s)?;
    if w.has_time() {
        let t = w.local_time()?;
        return Some(match w.offset_seconds() {
            Some(_) => zone.to_local(w.timestamp()),
            None => LocalDateTime::new(w.day(), t),
        });
    }
    let day = if end_of_day {
        w.day().add_days(1)
    } else {
        w.day()
    };
    Some(LocalDateTime::new(day, LocalTime::MIDNIGHT))
}

fn how_often(d: &Dosage) -> String {
    let r = d.timing.as_ref().and_then(|t| t.repeat.as_ref());
    let code = d
        .timing
        .as_ref()
        .and_then(|t| t.code.as_ref())
        .and_then(|c| c.display());
    if let Some(c) = code {
        return c.to_string();
    }
    if let Some(r) = r {
        if let (Some(f), Some(p), Some(u)) =
            (r.frequency, r.period.as_ref(), r.period_unit.as_deref())
        {
            let unit = match u {
                "d" => "day",
                "h" => "hour",
                "wk" => "week",
                "mo" => "month",
                other => other,
            };
            let per = if p.as_str() == "1" {
                format!("a {unit}")
            } else {
                format!("every {p} {unit}s")
            };
            return format!("{f} time{} {per}", if f == 1 { "" } else { "s" });
        }
    }
    d.text.clone().unwrap_or_else(|| "a schedule".into())
}

/// A schedule from one Dosage, with a start and optional end on the wall clock.
pub fn schedule_from_dosage(
    dosage: &Dosage,
    start: LocalDateTime,
    end: Option<LocalDateTime>,
) -> Result<DoseSchedule, ScheduleError> {
    let repeat = dosage.timing.as_ref().and_then(|t| t.repeat.as_ref());
    let Some(repeat) = repeat.filter(|r| !r.time_of_day.is_empty()) else {
        if dosage.as_needed_boolean == Some(true) {
            return Err(ScheduleError::AsNeeded);
        }
        if dosage.timing.is_some() {
            return Err(ScheduleError::NoTimesOfDay {
                how_often: how_often(dosage),
            });
        }
        return Err(ScheduleError::NoSchedule);
    };
    let mut times = Vec::new();
    for t in &repeat.time_of_day {
        times.push(LocalTime::parse(t).ok_or_else(|| ScheduleError::BadTimeOfDay(t.clone()))?);
    }
    times.sort();
    times.dedup();
    let mut days: Vec<Weekday> = repeat
        .day_of_week
        .iter()
        .filter_map(|d| Weekday::from_code(d))
        .collect();
    days.sort();
    days.dedup();
    Ok(DoseSchedule {
        times,
        days_of_week: days,
        start,
        end,
    })
}

fn regimen_of(res: &Resource) -> Result<Regimen, ScheduleError> {
    if !matches!(
        res.resource_type(),
        "MedicationStatement" | "MedicationRequest"
    ) {
        return Err(ScheduleError::NotAMedication(
            res.resource_type().to_string(),
        ));
    }
    res.view().map_err(|_| ScheduleError::Unreadable)
}

fn has_times(d: &Dosage) -> bool {
    d.timing
        .as_ref()
        .and_then(|t| t.repeat.as_ref())
        .is_some_and(|r| !r.time_of_day.is_empty())
}

/// One dosage's schedule, bounded by its `boundsPeriod`, else by the resource's dates.
fn bounded_schedule(
    r: &Regimen,
    dosage: &Dosage,
    zone: &dyn LocalZone,
) -> Result<DoseSchedule, ScheduleError> {
    let bounds = dosage
        .timing
        .as_ref()
        .and_then(|t| t.repeat.as_ref())
        .and_then(|r| r.bounds_period.as_ref());
    let start_text = bounds
        .and_then(|b| b.start.as_deref())
        .or(r.effective_period.as_ref().and_then(|p| p.start.as_deref()))
        .or(r.effective_date_time.as_deref())
        .or(r.authored_on.as_deref())
        .or(r.date_asserted.as_deref());
    let end_text = bounds
        .and_then(|b| b.end.as_deref())
        .or(r.effective_period.as_ref().and_then(|p| p.end.as_deref()));
    // Check the timing before the start, so the more useful error comes first.
    let probe = LocalDateTime::new(Day(0), LocalTime::MIDNIGHT);
    schedule_from_dosage(dosage, probe, None)?;
    let start = start_text
        .and_then(|s| wall_clock(s, zone, false))
        .ok_or(ScheduleError::NoStart)?;
    let mut end = end_text.and_then(|s| wall_clock(s, zone, true));
    // A dosage bounded by its own period also ends where the whole regimen ends.
    if let Some(overall) = r
        .effective_period
        .as_ref()
        .and_then(|p| p.end.as_deref())
        .and_then(|s| wall_clock(s, zone, true))
    {
        end = Some(end.map_or(overall, |e| e.min(overall)));
    }
    schedule_from_dosage(dosage, start, end)
}

/// The schedule of a MedicationStatement or MedicationRequest.
pub fn schedule_from_resource(
    res: &Resource,
    zone: &dyn LocalZone,
) -> Result<DoseSchedule, ScheduleError> {
    let r = regimen_of(res)?;
    let dosages = if res.resource_type() == "MedicationStatement" {
        &r.dosage
    } else {
        &r.dosage_instruction
    };
    let Some(first) = dosages.first() else {
        return Err(ScheduleError::NoSchedule);
    };
    let dosage = dosages.iter().find(|d| has_times(d)).unwrap_or(first);
    bounded_schedule(&r, dosage, zone)
}

/// Every schedule of a MedicationStatement or MedicationRequest: one per dosage that has times
/// of day, each bounded by its `timing.repeat.boundsPeriod` (else by the resource's dates). A
/// regimen whose times changed keeps the earlier times as a dosage bounded to the past, so the
/// doses of those days are counted against the times that applied then (pass the result to
/// [`super::doses_all`]). Errors as [`schedule_from_resource`] when no dosage has times.
pub fn schedules_from_resource(
    res: &Resource,
    zone: &dyn LocalZone,
) -> Result<Vec<DoseSchedule>, ScheduleError> {
    let r = regimen_of(res)?;
    let dosages = if res.resource_type() == "MedicationStatement" {
        &r.dosage
    } else {
        &r.dosage_instruction
    };
    if !dosages.iter().any(has_times) {
        return schedule_from_resource(res, zone).map(|s| vec![s]);
    }
    dosages
        .iter()
        .filter(|d| has_times(d))
        .map(|d| bounded_schedule(&r, d, zone))
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Ext {
    url: String,
    extension: Vec<Ext>,
    value_date: Option<String>,
    value_time: Option<String>,
    value_date_time: Option<String>,
    value_string: Option<String>,
    value_reference: Option<Reference>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Administration {
    status: Option<String>,
    effective_date_time: Option<String>,
    effective_period: Option<Period>,
    supporting_information: Vec<Reference>,
    part_of: Vec<Reference>,
    request: Option<Reference>,
    extension: Vec<Ext>,
}

/// A dose-log entry that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogIssue {
    pub key: String,
    pub problem: String,
}

/// The dose log of one regimen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DoseLogExtract {
    pub entries: Vec<DoseLogEntry>,
    pub issues: Vec<LogIssue>,
}

fn same_target(reference: &str, target: &str) -> bool {
    reference == target
        || match (split_ref(reference), split_ref(target)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
}

fn slot_of(ext: &[Ext], zone: &dyn LocalZone) -> Option<SlotId> {
    let e = ext.iter().find(|e| {
        let u = e.url.to_ascii_lowercase();
        u.contains("slot") || u.contains("scheduled")
    })?;
    if !e.extension.is_empty() {
        let sub = |name: &str| {
            e.extension
                .iter()
                .find(|s| s.url.eq_ignore_ascii_case(name))
        };
        let day = sub("date").and_then(|s| {
            s.value_date
                .as_deref()
                .or(s.value_date_time.as_deref())
                .or(s.value_string.as_deref())
                .and_then(Day::parse)
        })?;
        let time = sub("time").and_then(|s| {
            s.value_time
                .as_deref()
                .or(s.value_string.as_deref())
                .and_then(LocalTime::parse)
        })?;
        return Some(SlotId { day, time });
    }
    let text = e.value_date_time.as_deref().or(e.value_string.as_deref())?;
    let w = When::parse(text)?;
    if !w.has_time() {
        return None;
    }
    let local = match w.offset_seconds() {
        Some(_) => zone.to_local(w.timestamp()),
        None => LocalDateTime::new(w.day(), w.local_time()?),
    };
    Some(SlotId {
        day: local.day,
        time: local.time,
    })
}

fn instant_of(text: &str, zone: &dyn LocalZone) -> Option<Timestamp> {
    let w = When::parse(text)?;
    if !w.has_time() {
        return None;
    }
    if w.offset_seconds().is_some() {
        return Some(w.timestamp());
    }
    Some(
        match zone.resolve(LocalDateTime::new(w.day(), w.local_time()?)) {
            Resolved::Unique(t) => t,
            Resolved::Repeated { first, .. } => first,
            Resolved::Skipped { shifted, .. } => shifted,
        },
    )
}

/// The dose-log entries (MedicationAdministration) of one regimen, given as `(key, resource)`
/// pairs; `regimen` is its reference (`MedicationStatement/123`, absolute URLs work too).
/// Resources of other types or for other regimens are ignored; unusable entries are reported.
pub fn dose_log<'a>(
    resources: impl IntoIterator<Item = (&'a str, &'a Resource)>,
    regimen: &str,
    zone: &dyn LocalZone,
) -> DoseLogExtract {
    let mut out = DoseLogExtract::default();
    for (key, res) in resources {
        if res.resource_type() != "MedicationAdministration" {
            continue;
        }
        let Ok(a) = res.view::<Administration>() else {
            // Only report it if it plausibly belongs here.
            if res
                .raw()
                .contains(regimen.rsplit('/').next().unwrap_or(regimen))
            {
                out.issues.push(LogIssue {
                    key: key.to_string(),
                    problem: "This dose-log entry could not be read, so it is not counted.".into(),
                });
            }
            continue;
        };
        let linked = a
            .supporting_information
            .iter()
            .chain(a.part_of.iter())
            .chain(a.request.iter())
            .chain(
                a.extension
                    .iter()
                    .filter_map(|e| e.value_reference.as_ref()),
            )
            .filter_map(|r| r.reference.as_deref())
            .any(|r| same_target(r, regimen));
        if !linked {
            continue;
        }
        let action = match a.status.as_deref() {
            Some("completed") => DoseAction::Taken,
            Some("not-done") => DoseAction::Skipped,
            Some("entered-in-error") => continue,
            other => {
                out.issues.push(LogIssue {
                    key: key.to_string(),
                    problem: format!(
                        "This dose-log entry has status \"{}\", which is neither taken nor skipped, so it is not counted.",
                        other.unwrap_or("none")
                    ),
                });
                continue;
            }
        };
        let slot = slot_of(&a.extension, zone);
        let when_text = a
            .effective_date_time
            .as_deref()
            .or(a.effective_period.as_ref().and_then(|p| p.start.as_deref()));
        let at = when_text.and_then(|t| instant_of(t, zone)).or_else(|| {
            slot.map(|s| match zone.resolve(LocalDateTime::new(s.day, s.time)) {
                Resolved::Unique(t) => t,
                Resolved::Repeated { first, .. } => first,
                Resolved::Skipped { shifted, .. } => shifted,
            })
        });
        let Some(at) = at else {
            out.issues.push(LogIssue {
                key: key.to_string(),
                problem: "This dose-log entry has no time, so it cannot be matched to a dose."
                    .into(),
            });
            continue;
        };
        out.entries.push(DoseLogEntry {
            slot,
            at,
            action,
            key: Some(key.to_string()),
        });
    }
    out
}
