//! What the tracking screen shows, read from the record once per change: the patient's own
//! medications with their dose logs and adherence, goals with their progress, and their own
//! measurements. The arithmetic is `phr_views::adherence` and `phr_views::goals`; this module
//! only gathers the inputs.

use phr_fhir::types::CodeableConcept;
use phr_record::patient::{self, GoalInput, MedicationInput, MedicationStatus};
use phr_record::{EntryKey, Record, SourceId};
use phr_views::adherence::fhir::{dose_log, schedules_from_resource};
use phr_views::adherence::{
    doses_all, week_all, AdherenceOptions, AdherenceStats, DoseAction, DoseLogEntry, DoseSchedule,
    LocalZone, ScheduledDose,
};
use phr_views::goals::{goal_progress, GoalProgress, GoalProgressOptions};
use phr_views::{Day, Index, Row, Timestamp, Weekday, When};

use crate::record_util::key_string;

/// How many past weeks of adherence to show besides this one.
pub const PAST_WEEKS: i32 = 3;

/// A scheduled dose as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct DoseView {
    pub dose: ScheduledDose,
    /// When the answer was logged, on the patient's clock (`08:05`, or with the date when it
    /// was another day).
    pub answered_at: Option<String>,
    /// The dose-log entry that answered it.
    pub entry_key: Option<EntryKey>,
}

fn dose_view(dose: ScheduledDose, log: &[DoseLogEntry], zone: &dyn LocalZone) -> DoseView {
    let entry = dose.entry.and_then(|i| log.get(i));
    DoseView {
        answered_at: entry.map(|e| crate::tracking::zone::clock_text(zone, e.at, dose.slot.day)),
        entry_key: entry
            .and_then(|e| e.key.as_deref())
            .and_then(crate::record_util::parse_key),
        dose,
    }
}

/// One of the patient's medications and its doses.
#[derive(Clone, Debug, PartialEq)]
pub struct Med {
    pub key: EntryKey,
    /// `MedicationStatement/<id>`: what dose-log entries point at.
    pub reference: String,
    pub id: String,
    pub input: MedicationInput,
    pub concept: CodeableConcept,
    /// The dosage text as stored (e.g. `1 tablet at 08:00, 20:00`).
    pub schedule_text: String,
    /// Why doses can't be tracked, when they can't (e.g. taken only as needed).
    pub untracked: Option<String>,
    pub log: Vec<DoseLogEntry>,
    /// Today's scheduled doses.
    pub today: Vec<DoseView>,
    /// Doses of the last seven days before today that were neither taken nor skipped.
    pub unlogged: Vec<DoseView>,
    /// This week first, then earlier weeks: (first day, stats).
    pub weeks: Vec<(Day, AdherenceStats)>,
    /// Dose-log entries that answer no scheduled dose (reported, never counted).
    pub unmatched: usize,
    /// Keys of every dose-log entry of this medication.
    pub log_keys: Vec<EntryKey>,
    /// Doses taken as needed (answering no scheduled dose) in the last seven days, newest first.
    pub as_needed: Vec<AsNeededDose>,
    /// The item key of the provider's prescription this tracks (`basedOn`), when it is in the
    /// record.
    pub prescription: Option<String>,
}

/// A provider's prescription (an imported MedicationRequest) the patient can track the doses of.
#[derive(Clone, Debug, PartialEq)]
pub struct Prescription {
    /// What the tracking form starts from; [`MedicationInput::based_on`] names the prescription.
    pub input: MedicationInput,
    /// The name of the patient's medication that already tracks it, if one does.
    pub tracked_as: Option<String>,
}

/// The prescription behind item `key`, to track its doses. None when the item is not an
/// imported MedicationRequest with a name.
pub fn prescription(record: &Record, index: Option<&Index>, key: &str) -> Option<Prescription> {
    let entry_key = crate::record_util::parse_key(key)?;
    if entry_key.source.is_patient() || entry_key.resource.resource_type() != "MedicationRequest" {
        return None;
    }
    let entry = record.get(&entry_key)?;
    let reference = record.reference_to(&entry_key)?;
    let title = index
        .and_then(|i| i.find(key).map(|id| i.item(id).title().to_string()))
        .filter(|t| !t.trim().is_empty());
    let mut input = patient::medication_from_request(entry.resource(), title.as_deref())?;
    input.based_on = Some(reference.clone());
    let tracked_as = record
        .source_entries(&SourceId::patient())
        .filter(|(_, e)| e.resource().resource_type() == "MedicationStatement")
        .filter_map(|(_, e)| patient::read_medication(e.resource()))
        .find(|m| m.based_on.as_deref() == Some(reference.as_str()))
        .map(|m| m.name);
    Some(Prescription { input, tracked_as })
}

/// The item keys of the imported MedicationRequests, by the reference a `basedOn` names them with.
fn prescription_keys(record: &Record) -> std::collections::HashMap<String, String> {
    record
        .entries()
        .filter(|(s, k, _)| !s.is_patient() && k.resource_type() == "MedicationRequest")
        .map(|(s, k, _)| EntryKey::new(s.clone(), k.clone()))
        .filter_map(|k| Some((record.reference_to(&k)?, key_string(&k))))
        .collect()
}

/// A dose taken as needed.
#[derive(Clone, Debug, PartialEq)]
pub struct AsNeededDose {
    /// When, on the patient's clock (`14:05` today, else `2026-11-20 14:05`).
    pub when: String,
    pub entry_key: Option<EntryKey>,
}

impl Med {
    pub fn is_active(&self) -> bool {
        self.input.status != MedicationStatus::Stopped
    }
}

/// A goal and its progress.
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    pub key: EntryKey,
    pub reference: String,
    pub id: String,
    pub input: GoalInput,
    pub row: Option<Row>,
    pub progress: GoalProgress,
    /// Measurements logged for this goal (rows, newest first).
    pub measurements: Vec<Row>,
}

impl Goal {
    pub fn is_open(&self) -> bool {
        matches!(
            self.input.status,
            patient::GoalStatus::Active
                | patient::GoalStatus::Proposed
                | patient::GoalStatus::OnHold
        )
    }
}

/// Everything the tracking screen shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Tracking {
    pub today: Day,
    pub now: Timestamp,
    pub meds: Vec<Med>,
    pub goals: Vec<Goal>,
    /// The patient's own observations (goal measurements included), newest first.
    pub measurements: Vec<Row>,
}

fn row_of(index: &Index, key: &str) -> Option<Row> {
    index.find(key).and_then(|id| index.row_of(id, true))
}

/// Reads the tracking data of a record. `zone` is the patient's clock, `now` the instant.
pub fn read(record: &Record, index: &Index, zone: &dyn LocalZone, now: Timestamp) -> Tracking {
    let today = zone.to_local(now).day;
    let patient = SourceId::patient();
    let entries: Vec<(String, EntryKey, &phr_fhir::Resource)> = record
        .source_entries(&patient)
        .map(|(k, e)| {
            let key = EntryKey::new(patient.clone(), k.clone());
            (key_string(&key), key, e.resource())
        })
        .collect();
    let opts = AdherenceOptions::default();
    let this_week = today.week_start(Weekday::Mon);

    let mut meds = Vec::new();
    // Built once, and only when a medication tracks a prescription.
    let mut prescriptions: Option<std::collections::HashMap<String, String>> = None;
    for (_, key, res) in &entries {
        if res.resource_type() != "MedicationStatement" {
            continue;
        }
        let (Some(id), Some(input)) = (res.id(), patient::read_medication(res)) else {
            continue;
        };
        let reference = format!("MedicationStatement/{id}");
        let view: phr_fhir::views::MedicationStatement = res.view().unwrap_or_default();
        let concept = view
            .medication_codeable_concept
            .clone()
            .unwrap_or_else(|| CodeableConcept {
                coding: vec![],
                text: Some(input.name.clone()),
            });
        let schedule_text = view
            .dosage
            .first()
            .and_then(|d| d.text.clone())
            .unwrap_or_default();
        let extract = dose_log(
            entries.iter().map(|(k, _, r)| (k.as_str(), *r)),
            &reference,
            zone,
        );
        let log_keys = extract
            .entries
            .iter()
            .filter_map(|e| crate::record_util::parse_key(e.key.as_deref()?))
            .chain(
                extract
                    .issues
                    .iter()
                    .filter_map(|i| crate::record_util::parse_key(&i.key)),
            )
            .collect();
        let log = extract.entries;
        let week_ago = Timestamp(now.0 - 7 * 86_400);
        let mut recent: Vec<&DoseLogEntry> = log
            .iter()
            .filter(|e| e.slot.is_none() && e.action == DoseAction::Taken && e.at >= week_ago)
            .collect();
        recent.sort_by_key(|e| std::cmp::Reverse(e.at));
        let as_needed = recent
            .into_iter()
            .map(|e| AsNeededDose {
                when: crate::tracking::zone::clock_text(zone, e.at, today),
                entry_key: e.key.as_deref().and_then(crate::record_util::parse_key),
            })
            .collect();
        let schedules: Result<Vec<DoseSchedule>, _> = schedules_from_resource(res, zone);
        let prescription = input.based_on.as_deref().and_then(|r| {
            prescriptions
                .get_or_insert_with(|| prescription_keys(record))
                .get(r)
                .cloned()
        });
        let mut med = Med {
            key: key.clone(),
            reference,
            id: id.to_string(),
            input,
            concept,
            schedule_text,
            untracked: None,
            log,
            today: Vec::new(),
            unlogged: Vec::new(),
            weeks: Vec::new(),
            unmatched: 0,
            log_keys,
            as_needed,
            prescription,
        };
        match schedules {
            Ok(schedules) => {
                let r = doses_all(
                    &schedules,
                    &med.log,
                    zone,
                    today.add_days(-7),
                    today,
                    now,
                    &opts,
                );
                med.unmatched = r.unmatched.len();
                let mut days = r.days;
                if let Some(d) = days.pop() {
                    med.today = d
                        .doses
                        .into_iter()
                        .map(|x| dose_view(x, &med.log, zone))
                        .collect();
                }
                med.unlogged = days
                    .into_iter()
                    .flat_map(|d| d.doses)
                    .filter(|d| d.status == phr_views::adherence::DoseStatus::Missed)
                    .map(|x| dose_view(x, &med.log, zone))
                    .collect();
                med.weeks = (0..=PAST_WEEKS)
                    .map(|n| {
                        let start = this_week.add_days(-7 * n);
                        let w = week_all(&schedules, &med.log, zone, start, now, &opts);
                        (start, w.stats)
                    })
                    .collect();
            }
            Err(e) => med.untracked = Some(e.to_string()),
        }
        meds.push(med);
    }
    meds.sort_by(|a, b| {
        (!a.is_active(), a.input.name.to_lowercase())
            .cmp(&(!b.is_active(), b.input.name.to_lowercase()))
    });

    // Measurements, and which goal each one is for.
    let mut measurements: Vec<(Row, Option<String>)> = entries
        .iter()
        .filter(|(_, _, r)| r.resource_type() == "Observation")
        .filter_map(|(k, _, r)| Some((row_of(index, k)?, patient::goal_of(r))))
        .collect();
    measurements.sort_by(|a, b| {
        b.0.date
            .map(|d| d.sort_key())
            .cmp(&a.0.date.map(|d| d.sort_key()))
    });

    let mut goals = Vec::new();
    for (key_str, key, res) in &entries {
        if res.resource_type() != "Goal" {
            continue;
        }
        let (Some(id), Some(input)) = (res.id(), patient::read_goal(res)) else {
            continue;
        };
        let reference = format!("Goal/{id}");
        let linked: Vec<Row> = measurements
            .iter()
            .filter(|(_, g)| {
                g.as_deref()
                    .is_some_and(|g| g == reference || g.ends_with(&format!("/{reference}")))
            })
            .map(|(r, _)| r.clone())
            .collect();
        let progress = goal_progress(
            index,
            res,
            &GoalProgressOptions {
                linked_dates: linked.iter().filter_map(|r| r.date).collect::<Vec<When>>(),
                include_hidden: false,
            },
        );
        goals.push(Goal {
            key: key.clone(),
            reference,
            id: id.to_string(),
            input,
            row: row_of(index, key_str),
            progress,
            measurements: linked,
        });
    }
    goals.sort_by(|a, b| {
        (
            !a.is_open(),
            a.input.due_date.is_none(),
            a.input.due_date.clone(),
        )
            .cmp(&(
                !b.is_open(),
                b.input.due_date.is_none(),
                b.input.due_date.clone(),
            ))
    });

    Tracking {
        today,
        now,
        meds,
        goals,
        measurements: measurements.into_iter().map(|(r, _)| r).collect(),
    }
}
