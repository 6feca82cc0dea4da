//! The patient's own entries, as standard FHIR R4 so they export and share like anything else.
//!
//! Every builder takes plain inputs plus an [`Authoring`] (the new item's id, the patient
//! reference and `now`, all passed in) and returns an [`Authored`]: the resource and its
//! Provenance. Every resource carries `meta.security` PATAST ("patient asserted",
//! `http://terminology.hl7.org/CodeSystem/v3-ObservationValue`), so a receiving system never
//! mistakes it for clinician-verified data, and its Provenance names the Patient as author
//! (`agent.type` = author, `agent.who` = the patient) with `target` = the resource.
//!
//! # FHIR shapes, and why
//!
//! * **A medication the patient takes** (OTC, supplement): `MedicationStatement` with category
//!   `patientspecified`, `informationSource` = the patient, and one `Dosage` whose
//!   `timing.repeat` carries `timeOfDay` / `dayOfWeek` / `frequency` + `period` 1 `d`, with the
//!   dose in `doseAndRate.doseQuantity`. MedicationStatement is FHIR's resource for "what the
//!   patient says they take"; a MedicationRequest would claim a prescriber.
//! * **A dose-log entry**: `MedicationAdministration` (category `community`: taken at home),
//!   status `completed` (taken) or `not-done` (skipped, with `statusReason`),
//!   `effectiveDateTime` = when, `performer` = the patient, `dosage.dose`. The link to the
//!   schedule is `supportingInformation` → the MedicationStatement (R4's `partOf` only allows
//!   MedicationAdministration/Procedure and `request` only MedicationRequest; when the regimen
//!   *is* an EHR MedicationRequest, `request` is set too). The scheduled slot it answers (date +
//!   time of day) is the complex extension [`DOSE_SLOT_EXTENSION`] with `date` (valueDate) and
//!   `time` (valueTime): R4 has no element for "the scheduled dose this answers", and without the
//!   slot a late dose and an extra dose look the same, so adherence could not be computed.
//! * **Goals**: `Goal` with `lifecycleStatus`, `description`, `expressedBy` = the patient, and
//!   `target.measure` (LOINC: body weight 29463-7, systolic 8480-6 and diastolic 8462-4 as two
//!   targets, steps 41950-7, HbA1c 4548-4; free text as a text-only measure) with
//!   `detailQuantity` (with a comparator for "at most"/"at least"), `detailRange` or
//!   `detailString`, and `dueDate`.
//! * **Goal measurements** are ordinary patient Observations that carry the core extension
//!   `http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal` → the Goal. Not
//!   `Observation.focus` (that would say the weight is *of* the goal, not of the patient) and
//!   not `Goal.outcomeReference` (that rewrites the Goal on every measurement and grows it
//!   without bound); the Observation stays a normal weight reading that charts with the rest.
//! * **The patient's own observations**: weight 29463-7, blood pressure panel 85354-9 with
//!   8480-6/8462-4 components, glucose 2339-0 (mg/dL) or 15074-8 (mmol/L), heart rate 8867-4,
//!   steps 41950-7, mood and free text (text-only codes: no standard LOINC code fits a free
//!   mood label), with the observation category and UCUM units, `performer` = the patient.
//! * **Notes on an EHR item**: a separate `DocumentReference` (type LOINC 51855-5 "Patient
//!   Note", author = the patient, the text as a `text/plain` attachment) whose
//!   `context.related` points at the item by its exact reference ([`crate::Record::reference_to`]).
//!   The EHR item itself is never altered. A DocumentReference is FHIR's standalone,
//!   patient-authorable document that can point at any resource, and it travels in IPS and
//!   patient-shared bundles; an `Annotation` would require editing the item, and `Basic` is
//!   not understood by receivers.
//!
//! Patient items use UUIDs as ids (the app draws them) so that their export `fullUrl` is
//! `urn:uuid:<id>`. They reference each other with relative `Type/id` references.

use base64::Engine;
use phr_fhir::types::Decimal;
use phr_fhir::types::{
    systems, Annotation, CodeableConcept, Coding, Dosage, DoseAndRate, Meta, Period, Quantity,
    Range, Reference, Timing, TimingRepeat,
};
use phr_fhir::Resource;
use serde::Serialize;

use crate::error::{invalid, Result};
use crate::ids::{derived_uuid, is_lower_uuid};
use crate::time::{check_date, check_date_time, check_full_date, check_instant, check_time_of_day};

/// The project's base for the few extensions it defines. It must be set once, before the first
/// release, to a URL the project controls; it is written into the patient's own entries.
pub const PHR_CANONICAL_BASE: &str = "https://fhir.phr-app.example/StructureDefinition";

/// The extension on a dose-log MedicationAdministration naming the scheduled dose it answers:
/// sub-extensions `date` (valueDate) and `time` (valueTime).
pub const DOSE_SLOT_EXTENSION: &str =
    "https://fhir.phr-app.example/StructureDefinition/scheduled-dose";

/// The FHIR core extension linking a resource to a Goal.
pub const PERTAINS_TO_GOAL: &str =
    "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal";

/// `meta.security` code marking patient-asserted data.
pub const PATAST: &str = "PATAST";

/// LOINC "Patient Note", the DocumentReference type of the patient's notes.
pub use phr_fhir::types::PATIENT_NOTE_LOINC;

const V3_DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
const MED_STATEMENT_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/medication-statement-category";
const MED_ADMIN_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/medication-admin-category";

/// Whether the item is new or replaces an existing one (recorded in its Provenance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Create,
    Update,
}

/// Who is writing what, when: passed to every builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authoring {
    /// The item's id: a lowercase UUID drawn by the app (the same id again to edit an item).
    pub id: String,
    /// The reference to the patient, e.g. `Patient/123` or an absolute URL.
    pub patient: String,
    /// Now, RFC 3339 with a time zone.
    pub now: String,
    pub activity: Activity,
}

impl Authoring {
    /// A new item.
    pub fn new(id: &str, patient: &str, now: &str) -> Authoring {
        Authoring {
            id: id.into(),
            patient: patient.into(),
            now: now.into(),
            activity: Activity::Create,
        }
    }

    /// The same, as an edit of the existing item with this id.
    pub fn editing(mut self) -> Authoring {
        self.activity = Activity::Update;
        self
    }

    fn check(&self) -> Result<()> {
        if !is_lower_uuid(&self.id) {
            return Err(invalid(
                "The item id",
                "must be a lowercase UUID; this is a bug in the app",
            ));
        }
        if self.patient.trim().is_empty() {
            return Err(invalid("The patient reference", "is missing"));
        }
        check_instant("The time", &self.now)
    }
}

/// A patient-entered resource with its Provenance, ready for
/// [`crate::Record::put_patient_item`].
#[derive(Clone, Debug)]
pub struct Authored {
    pub(crate) resource: Resource,
    pub(crate) provenance: Resource,
    pub(crate) activity: Activity,
    pub(crate) recorded: String,
}

impl Authored {
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    pub fn provenance(&self) -> &Resource {
        &self.provenance
    }

    pub fn activity(&self) -> Activity {
        self.activity
    }
}

// ----------------------------------------------------------------------------- shared shapes

fn patast() -> Coding {
    Coding::new(systems::OBSERVATION_VALUE, PATAST, "patient asserted")
}

fn meta(now: &str) -> Meta {
    Meta {
        last_updated: Some(now.into()),
        security: vec![patast()],
        ..Meta::default()
    }
}

fn text_concept(text: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![],
        text: Some(text.into()),
    }
}

fn coded(system: &str, code: &str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding::new(system, code, display)],
        text: Some(display.into()),
    }
}

fn loinc(code: &str, display: &str) -> CodeableConcept {
    coded(systems::LOINC, code, display)
}

fn annotation(note: &Option<String>, auth: &Authoring) -> Vec<Annotation> {
    note.as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| Annotation {
            author_reference: Some(Reference::to(&auth.patient)),
            time: Some(auth.now.clone()),
            text: Some(n.into()),
            ..Annotation::default()
        })
        .into_iter()
        .collect()
}

fn required_text(field: &'static str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if t.len() > 10_000 {
        return Err(invalid(field, "is too long (at most 10,000 characters)"));
    }
    Ok(t.into())
}

fn decimal(field: &'static str, s: &str) -> Result<Decimal> {
    Decimal::parse(s)
        .filter(|d| d.to_f64().is_some_and(|v| v >= 0.0))
        .ok_or_else(|| invalid(field, "must be a number like 70 or 1.5"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_reference: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_time: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
}

impl Extension {
    fn new(url: &str) -> Extension {
        Extension {
            url: url.into(),
            value_reference: None,
            value_date: None,
            value_time: None,
            extension: vec![],
        }
    }
}

fn finish<T: Serialize>(auth: &Authoring, resource_type: &str, body: &T) -> Result<Authored> {
    let text = serde_json::to_string(body)
        .map_err(|e| invalid("The entry", format!("could not be written ({e})")))?;
    let resource = Resource::from_json(text)
        .map_err(|e| invalid("The entry", format!("is not valid FHIR ({e})")))?;
    let provenance = provenance_for(auth, resource_type)?;
    Ok(Authored {
        resource,
        provenance,
        activity: auth.activity,
        recorded: auth.now.clone(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProvenanceOut<'a> {
    resource_type: &'static str,
    id: String,
    meta: Meta,
    target: Vec<Reference>,
    recorded: &'a str,
    activity: CodeableConcept,
    agent: Vec<AgentOut>,
}

#[derive(Serialize)]
struct AgentOut {
    #[serde(rename = "type")]
    kind: CodeableConcept,
    who: Reference,
}

/// The Provenance of a patient-entered resource: the patient is the author.
fn provenance_for(auth: &Authoring, resource_type: &str) -> Result<Resource> {
    let (code, display) = match auth.activity {
        Activity::Create => ("CREATE", "create"),
        Activity::Update => ("UPDATE", "revise"),
    };
    let p = ProvenanceOut {
        resource_type: "Provenance",
        id: derived_uuid(
            "phr-record/patient-provenance",
            &[
                resource_type.as_bytes(),
                auth.id.as_bytes(),
                auth.now.as_bytes(),
                code.as_bytes(),
            ],
        ),
        meta: Meta {
            security: vec![patast()],
            ..Meta::default()
        },
        target: vec![Reference::to(&format!("{resource_type}/{}", auth.id))],
        recorded: &auth.now,
        activity: coded(V3_DATA_OPERATION, code, display),
        agent: vec![AgentOut {
            kind: coded(systems::PROVENANCE_PARTICIPANT_TYPE, "author", "Author"),
            who: Reference::to(&auth.patient),
        }],
    };
    let text = serde_json::to_string(&p)
        .map_err(|e| invalid("The provenance", format!("could not be written ({e})")))?;
    Resource::from_json(text).map_err(|e| invalid("The provenance", e.to_string()))
}

// ----------------------------------------------------------------------------- units

/// Units the patient can enter, with their UCUM codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Kilogram,
    Pound,
    MillimeterOfMercury,
    MilligramPerDeciliter,
    MillimolePerLiter,
    PerMinute,
    StepsPerDay,
    Percent,
}

impl Unit {
    /// The UCUM code.
    pub fn ucum(self) -> &'static str {
        match self {
            Unit::Kilogram => "kg",
            Unit::Pound => "[lb_av]",
            Unit::MillimeterOfMercury => "mm[Hg]",
            Unit::MilligramPerDeciliter => "mg/dL",
            Unit::MillimolePerLiter => "mmol/L",
            Unit::PerMinute => "/min",
            Unit::StepsPerDay => "/d",
            Unit::Percent => "%",
        }
    }

    /// The unit for a UCUM code (the inverse of [`Unit::ucum`]).
    pub fn from_ucum(code: &str) -> Option<Unit> {
        [
            Unit::Kilogram,
            Unit::Pound,
            Unit::MillimeterOfMercury,
            Unit::MilligramPerDeciliter,
            Unit::MillimolePerLiter,
            Unit::PerMinute,
            Unit::StepsPerDay,
            Unit::Percent,
        ]
        .into_iter()
        .find(|u| u.ucum() == code)
    }

    /// The unit as shown.
    pub fn display(self) -> &'static str {
        match self {
            Unit::Kilogram => "kg",
            Unit::Pound => "lb",
            Unit::MillimeterOfMercury => "mmHg",
            Unit::MilligramPerDeciliter => "mg/dL",
            Unit::MillimolePerLiter => "mmol/L",
            Unit::PerMinute => "beats/minute",
            Unit::StepsPerDay => "steps/day",
            Unit::Percent => "%",
        }
    }
}

/// A number with a unit, as the patient typed it (`"70.5"` keeps its digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    pub value: String,
    pub unit: Unit,
}

impl Amount {
    pub fn new(value: &str, unit: Unit) -> Amount {
        Amount {
            value: value.into(),
            unit,
        }
    }

    fn quantity(&self, field: &'static str, comparator: Option<&str>) -> Result<Quantity> {
        Ok(Quantity {
            value: Some(decimal(field, &self.value)?),
            comparator: comparator.map(Into::into),
            unit: Some(self.unit.display().into()),
            system: Some(systems::UCUM.into()),
            code: Some(self.unit.ucum().into()),
        })
    }

    fn expect_unit(&self, field: &'static str, allowed: &[Unit]) -> Result<()> {
        if allowed.contains(&self.unit) {
            Ok(())
        } else {
            let names: Vec<&str> = allowed.iter().map(|u| u.display()).collect();
            Err(invalid(field, format!("must be in {}", names.join(" or "))))
        }
    }
}

// ----------------------------------------------------------------------------- medications

/// A medication's status as the patient reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MedicationStatus {
    Active,
    Stopped,
    OnHold,
}

impl MedicationStatus {
    fn code(self) -> &'static str {
        match self {
            MedicationStatus::Active => "active",
            MedicationStatus::Stopped => "stopped",
            MedicationStatus::OnHold => "on-hold",
        }
    }
}

/// A day of the week (FHIR `days-of-week` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
    /// Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The day for a FHIR `days-of-week` code (`mon` … `sun`).
    pub fn from_code(code: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.code() == code.trim())
    }

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

    /// `Mon` … `Sun`.
    pub fn label(self) -> &'static str {
        match self {
            Weekday::Mon => "Mon",
            Weekday::Tue => "Tue",
            Weekday::Wed => "Wed",
            Weekday::Thu => "Thu",
            Weekday::Fri => "Fri",
            Weekday::Sat => "Sat",
            Weekday::Sun => "Sun",
        }
    }
}

/// An amount of medication per dose, e.g. `1` `tablet` or `500` `mg` (UCUM `mg`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoseAmount {
    pub value: String,
    /// As shown: `tablet`, `mg`, `drop`.
    pub unit: String,
    /// The UCUM code when the unit has one (`mg`, `mL`, `{tbl}`).
    pub ucum: Option<String>,
}

impl DoseAmount {
    fn quantity(&self) -> Result<Quantity> {
        let unit = required_text("The dose unit", &self.unit)?;
        Ok(Quantity {
            value: Some(decimal("The dose", &self.value)?),
            comparator: None,
            unit: Some(unit),
            system: self.ucum.as_ref().map(|_| systems::UCUM.into()),
            code: self.ucum.clone(),
        })
    }

    /// `1 tablet`, `2 tablets`, `0.5 tablet`, `500 mg`: count nouns take a plural above one.
    pub fn text(&self) -> String {
        const COUNT_NOUNS: &[&str] = &[
            "tablet", "capsule", "drop", "puff", "spray", "patch", "gummy", "sachet", "unit",
        ];
        let value = self.value.trim();
        let unit = self.unit.trim();
        let many = value.parse::<f64>().is_ok_and(|v| v > 1.0);
        match COUNT_NOUNS.iter().find(|n| **n == unit) {
            Some(&"gummy") if many => format!("{value} gummies"),
            Some(n) if many => format!("{value} {n}s"),
            _ => format!("{value} {unit}"),
        }
    }
}

/// When and how much the patient takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DoseSchedule {
    pub dose: Option<DoseAmount>,
    /// Set times, e.g. `08:00` and `20:00`.
    pub times_of_day: Vec<String>,
    /// Days it is taken; empty means every day.
    pub days_of_week: Vec<Weekday>,
    /// Times per day when there are no set times.
    pub times_per_day: Option<u32>,
    /// Taken when needed rather than (or besides) on a schedule.
    pub as_needed: bool,
    /// The patient's own words; generated from the above when absent.
    pub text: Option<String>,
    /// When the patient began following this schedule (date or date-time with a zone), written
    /// as `timing.repeat.boundsPeriod.start`. Adherence counts scheduled doses only from here, so
    /// an app sets it to the moment tracking starts, not to when the medication was started.
    pub from: Option<String>,
    /// When this schedule was replaced by another (`boundsPeriod.end`); set on
    /// [`MedicationInput::earlier_schedules`].
    pub until: Option<String>,
}

impl DoseSchedule {
    fn bounds(&self) -> Result<Option<Period>> {
        for (field, d) in [
            ("When the schedule starts", &self.from),
            ("When the schedule ends", &self.until),
        ] {
            if let Some(d) = d {
                check_date_time(field, d)?;
            }
        }
        Ok(
            (self.from.is_some() || self.until.is_some()).then(|| Period {
                start: self.from.clone(),
                end: self.until.clone(),
            }),
        )
    }

    fn dosage(&self) -> Result<Dosage> {
        let mut times = Vec::new();
        for t in &self.times_of_day {
            let t = check_time_of_day("A time of day", t)?;
            if !times.contains(&t) {
                times.push(t);
            }
        }
        times.sort();
        let mut days = self.days_of_week.clone();
        days.sort();
        days.dedup();
        if self.times_per_day == Some(0) {
            return Err(invalid("Times per day", "must be at least 1"));
        }
        let frequency = if times.is_empty() {
            self.times_per_day
        } else {
            Some(times.len() as u32)
        };
        let bounds = self.bounds()?;
        let repeat =
            (frequency.is_some() || !days.is_empty() || bounds.is_some()).then(|| TimingRepeat {
                frequency,
                period: frequency.and_then(|_| Decimal::parse("1")),
                period_unit: frequency.map(|_| "d".into()),
                time_of_day: times.clone(),
                day_of_week: days.iter().map(|d| d.code().into()).collect(),
                bounds_period: bounds,
            });
        let text = match self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) => t.to_string(),
            None => self.generated_text(&times, &days, frequency),
        };
        Ok(Dosage {
            text: Some(text),
            timing: repeat.map(|r| Timing {
                repeat: Some(r),
                code: None,
            }),
            as_needed_boolean: self.as_needed.then_some(true),
            route: None,
            dose_and_rate: match &self.dose {
                Some(d) => vec![DoseAndRate {
                    dose_quantity: Some(d.quantity()?),
                    dose_range: None,
                }],
                None => vec![],
            },
        })
    }

    fn generated_text(&self, times: &[String], days: &[Weekday], freq: Option<u32>) -> String {
        let mut parts = Vec::new();
        if let Some(d) = &self.dose {
            parts.push(d.text());
        }
        if !times.is_empty() {
            let hm: Vec<&str> = times.iter().map(|t| &t[..5]).collect();
            parts.push(format!("at {}", hm.join(", ")));
        } else if let Some(n) = freq {
            parts.push(match n {
                1 => "once a day".to_string(),
                2 => "twice a day".to_string(),
                n => format!("{n} times a day"),
            });
        }
        if !days.is_empty() && days.len() < 7 {
            let d: Vec<&str> = days.iter().map(|d| d.label()).collect();
            parts.push(format!("on {}", d.join(", ")));
        }
        if self.as_needed {
            parts.push("as needed".into());
        }
        if parts.is_empty() {
            "as the patient takes it".into()
        } else {
            parts.join(" ")
        }
    }
}

/// A medication the patient takes (OTC, supplement, or a prescription they record themselves).
#[derive(Clone, Debug, PartialEq)]
pub struct MedicationInput {
    /// The name as the patient knows it, e.g. `Vitamin D3 1000 IU`.
    pub name: String,
    /// Codes when known (e.g. RxNorm from a picker).
    pub coding: Vec<Coding>,
    pub status: MedicationStatus,
    /// When they started (date or date-time).
    pub started: Option<String>,
    /// When they stopped.
    pub stopped: Option<String>,
    pub schedule: DoseSchedule,
    /// Schedules followed before `schedule`, most recent first, each with its
    /// [`DoseSchedule::until`]. Written as further dosages (`dosage[1..]`) so that changing the
    /// times keeps the adherence of the weeks before as it was.
    pub earlier_schedules: Vec<DoseSchedule>,
    /// Why they take it, in their words.
    pub reason: Option<String>,
    pub note: Option<String>,
    /// The provider's prescription this is the patient's own tracking of (a reference to an
    /// imported MedicationRequest, from [`crate::Record::reference_to`]), written as `basedOn`.
    /// The prescription itself is never changed.
    pub based_on: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MedicationStatementOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    status: &'static str,
    category: CodeableConcept,
    medication_codeable_concept: CodeableConcept,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    based_on: Vec<Reference>,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    effective_period: Option<Period>,
    date_asserted: &'a str,
    information_source: Reference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reason_code: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
    dosage: Vec<Dosage>,
}

/// A MedicationStatement for a medication the patient takes.
pub fn medication_statement(auth: &Authoring, input: &MedicationInput) -> Result<Authored> {
    auth.check()?;
    let name = required_text("The medication name", &input.name)?;
    for (field, d) in [
        ("The start date", &input.started),
        ("The stop date", &input.stopped),
    ] {
        if let Some(d) = d {
            check_date_time(field, d)?;
        }
    }
    let period = (input.started.is_some() || input.stopped.is_some()).then(|| Period {
        start: input.started.clone(),
        end: input.stopped.clone(),
    });
    let body = MedicationStatementOut {
        resource_type: "MedicationStatement",
        id: &auth.id,
        meta: meta(&auth.now),
        status: input.status.code(),
        category: coded(
            MED_STATEMENT_CATEGORY,
            "patientspecified",
            "Patient Specified",
        ),
        medication_codeable_concept: CodeableConcept {
            coding: input.coding.clone(),
            text: Some(name),
        },
        based_on: input
            .based_on
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(Reference::to)
            .into_iter()
            .collect(),
        subject: Reference::to(&auth.patient),
        effective_period: period,
        date_asserted: &auth.now,
        information_source: Reference::to(&auth.patient),
        reason_code: input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(text_concept)
            .into_iter()
            .collect(),
        note: annotation(&input.note, auth),
        dosage: {
            let mut dosage = vec![input.schedule.dosage()?];
            for earlier in &input.earlier_schedules {
                if earlier.until.is_none() {
                    return Err(invalid(
                        "An earlier schedule",
                        "needs the date it ended; this is a bug in the app",
                    ));
                }
                dosage.push(earlier.dosage()?);
            }
            dosage
        },
    };
    finish(auth, "MedicationStatement", &body)
}

// ----------------------------------------------------------------------------- dose log

/// The scheduled dose a log entry answers: a calendar date and a time of day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoseSlot {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `08:00`.
    pub time_of_day: String,
}

/// Whether the dose was taken or skipped, and when that happened or was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DoseOutcome {
    Taken { at: String },
    Skipped { at: String, reason: Option<String> },
}

/// One dose-log entry.
#[derive(Clone, Debug, PartialEq)]
pub struct DoseLogInput {
    /// The medication (copy it from the MedicationStatement or MedicationRequest).
    pub medication: CodeableConcept,
    /// Reference to the regimen: the patient's `MedicationStatement/<id>`, or an EHR
    /// MedicationRequest's reference from [`crate::Record::reference_to`].
    pub regimen: String,
    /// The scheduled dose it answers; None for an as-needed dose.
    pub slot: Option<DoseSlot>,
    pub outcome: DoseOutcome,
    /// The amount actually taken, if the patient says.
    pub dose: Option<DoseAmount>,
    pub note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MedicationAdministrationOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    status_reason: Vec<CodeableConcept>,
    category: CodeableConcept,
    medication_codeable_concept: CodeableConcept,
    subject: Reference,
    supporting_information: Vec<Reference>,
    effective_date_time: &'a str,
    performer: Vec<PerformerOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dosage: Option<AdminDosageOut>,
}

#[derive(Serialize)]
struct PerformerOut {
    actor: Reference,
}

#[derive(Serialize)]
struct AdminDosageOut {
    dose: Quantity,
}

/// A MedicationAdministration recording a scheduled (or as-needed) dose taken or skipped.
pub fn dose_log_entry(auth: &Authoring, input: &DoseLogInput) -> Result<Authored> {
    auth.check()?;
    if input.medication.display().is_none() {
        return Err(invalid("The medication", "needs a name or a code"));
    }
    let regimen = required_text("The medication schedule reference", &input.regimen)?;
    let (status, at, reason) = match &input.outcome {
        DoseOutcome::Taken { at } => ("completed", at, vec![]),
        DoseOutcome::Skipped { at, reason } => (
            "not-done",
            at,
            vec![text_concept(
                reason
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .unwrap_or("Skipped by the patient"),
            )],
        ),
    };
    check_instant("When the dose was taken or skipped", at)?;
    let mut extension = Vec::new();
    if let Some(slot) = &input.slot {
        check_full_date("The scheduled date", &slot.date)?;
        let time = check_time_of_day("The scheduled time", &slot.time_of_day)?;
        let mut date = Extension::new("date");
        date.value_date = Some(slot.date.clone());
        let mut t = Extension::new("time");
        t.value_time = Some(time);
        let mut ext = Extension::new(DOSE_SLOT_EXTENSION);
        ext.extension = vec![date, t];
        extension.push(ext);
    }
    let is_request = Reference::to(&regimen)
        .type_and_id()
        .is_some_and(|(t, _)| t == "MedicationRequest");
    let body = MedicationAdministrationOut {
        resource_type: "MedicationAdministration",
        id: &auth.id,
        meta: meta(&auth.now),
        extension,
        status,
        status_reason: reason,
        category: coded(MED_ADMIN_CATEGORY, "community", "Community"),
        medication_codeable_concept: input.medication.clone(),
        subject: Reference::to(&auth.patient),
        supporting_information: vec![Reference::to(&regimen)],
        effective_date_time: at,
        performer: vec![PerformerOut {
            actor: Reference::to(&auth.patient),
        }],
        request: is_request.then(|| Reference::to(&regimen)),
        note: annotation(&input.note, auth),
        dosage: match &input.dose {
            Some(d) if status == "completed" => Some(AdminDosageOut {
                dose: d.quantity()?,
            }),
            _ => None,
        },
    };
    finish(auth, "MedicationAdministration", &body)
}

// ----------------------------------------------------------------------------- goals

/// A goal's lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoalStatus {
    Proposed,
    Active,
    OnHold,
    Completed,
    Cancelled,
}

impl GoalStatus {
    fn code(self) -> &'static str {
        match self {
            GoalStatus::Proposed => "proposed",
            GoalStatus::Active => "active",
            GoalStatus::OnHold => "on-hold",
            GoalStatus::Completed => "completed",
            GoalStatus::Cancelled => "cancelled",
        }
    }
}

/// A target value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetValue {
    AtMost(Amount),
    AtLeast(Amount),
    Exactly(Amount),
    Between(Amount, Amount),
}

impl TargetValue {
    fn check_units(&self, field: &'static str, allowed: &[Unit]) -> Result<()> {
        match self {
            TargetValue::AtMost(a) | TargetValue::AtLeast(a) | TargetValue::Exactly(a) => {
                a.expect_unit(field, allowed)
            }
            TargetValue::Between(a, b) => {
                a.expect_unit(field, allowed)?;
                b.expect_unit(field, allowed)
            }
        }
    }

    fn to_target(&self, measure: CodeableConcept, due: &Option<String>) -> Result<GoalTargetOut> {
        let mut t = GoalTargetOut {
            measure,
            detail_quantity: None,
            detail_range: None,
            detail_string: None,
            due_date: due.clone(),
        };
        match self {
            TargetValue::AtMost(a) => {
                t.detail_quantity = Some(a.quantity("The target", Some("<="))?)
            }
            TargetValue::AtLeast(a) => {
                t.detail_quantity = Some(a.quantity("The target", Some(">="))?)
            }
            TargetValue::Exactly(a) => t.detail_quantity = Some(a.quantity("The target", None)?),
            TargetValue::Between(lo, hi) => {
                let (l, h) = (
                    decimal("The target", &lo.value)?,
                    decimal("The target", &hi.value)?,
                );
                if l.to_f64() > h.to_f64() {
                    return Err(invalid(
                        "The target range",
                        "its low end is above its high end",
                    ));
                }
                t.detail_range = Some(Range {
                    low: Some(lo.quantity("The target", None)?),
                    high: Some(hi.quantity("The target", None)?),
                });
            }
        }
        Ok(t)
    }
}

/// What the goal is measured by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoalTarget {
    /// Body weight (kg or lb).
    Weight(TargetValue),
    /// Blood pressure: systolic and diastolic targets (mmHg).
    BloodPressure {
        systolic: TargetValue,
        diastolic: TargetValue,
    },
    /// Steps per day.
    Steps(TargetValue),
    /// Hemoglobin A1c (%).
    HemoglobinA1c(TargetValue),
    /// Anything else, in words: what is measured and the target (`Walking`, `30 minutes a day`).
    Text { measure: String, target: String },
}

/// A goal the patient sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalInput {
    /// In the patient's words, e.g. `Get my weight under 80 kg`.
    pub description: String,
    pub target: GoalTarget,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub start_date: Option<String>,
    pub status: GoalStatus,
    pub note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoalTargetOut {
    measure: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail_range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoalOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    lifecycle_status: &'static str,
    description: CodeableConcept,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    target: Vec<GoalTargetOut>,
    status_date: String,
    expressed_by: Reference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
}

/// A Goal with its target measure, target value and due date.
pub fn goal(auth: &Authoring, input: &GoalInput) -> Result<Authored> {
    auth.check()?;
    let description = required_text("The goal", &input.description)?;
    if let Some(d) = &input.due_date {
        check_date("The due date", d)?;
    }
    if let Some(d) = &input.start_date {
        check_date("The start date", d)?;
    }
    let due = &input.due_date;
    let weight = [Unit::Kilogram, Unit::Pound];
    let targets = match &input.target {
        GoalTarget::Weight(v) => {
            v.check_units("The weight target", &weight)?;
            vec![v.to_target(loinc("29463-7", "Body weight"), due)?]
        }
        GoalTarget::BloodPressure {
            systolic,
            diastolic,
        } => {
            systolic.check_units("The systolic target", &[Unit::MillimeterOfMercury])?;
            diastolic.check_units("The diastolic target", &[Unit::MillimeterOfMercury])?;
            vec![
                systolic.to_target(loinc("8480-6", "Systolic blood pressure"), due)?,
                diastolic.to_target(loinc("8462-4", "Diastolic blood pressure"), due)?,
            ]
        }
        GoalTarget::Steps(v) => {
            v.check_units("The steps target", &[Unit::StepsPerDay])?;
            vec![v.to_target(loinc("41950-7", "Number of steps in 24 hour Measured"), due)?]
        }
        GoalTarget::HemoglobinA1c(v) => {
            v.check_units("The A1c target", &[Unit::Percent])?;
            vec![v.to_target(
                loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
                due,
            )?]
        }
        GoalTarget::Text { measure, target } => vec![GoalTargetOut {
            measure: text_concept(&required_text("What the goal measures", measure)?),
            detail_quantity: None,
            detail_range: None,
            detail_string: Some(required_text("The target", target)?),
            due_date: due.clone(),
        }],
    };
    let body = GoalOut {
        resource_type: "Goal",
        id: &auth.id,
        meta: meta(&auth.now),
        lifecycle_status: input.status.code(),
        description: text_concept(&description),
        subject: Reference::to(&auth.patient),
        start_date: input.start_date.clone(),
        target: targets,
        status_date: auth.now[..10].to_string(),
        expressed_by: Reference::to(&auth.patient),
        note: annotation(&input.note, auth),
    };
    finish(auth, "Goal", &body)
}

// ----------------------------------------------------------------------------- observations

/// What the patient measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Measurement {
    /// Body weight (kg or lb).
    Weight(Amount),
    /// Blood pressure in mmHg.
    BloodPressure { systolic: String, diastolic: String },
    /// Blood glucose (mg/dL or mmol/L).
    Glucose(Amount),
    /// Heart rate, beats per minute.
    HeartRate(String),
    /// Steps in the day.
    Steps(u64),
    /// Hemoglobin A1c in percent (a home test kit, or a value the patient copies from a report).
    HemoglobinA1c(String),
    /// Mood, as the patient labels it (`Good`, `Low`...).
    Mood(String),
    /// Anything else: what, and the value in words.
    Text { what: String, value: String },
}

/// One of the patient's own observations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservationInput {
    pub measurement: Measurement,
    /// When it applies: a date-time with a time zone, or a date (for daily steps).
    pub effective: String,
    /// The Goal this measurement tracks (`Goal/<id>`), if any.
    pub goal: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ComponentOut {
    code: CodeableConcept,
    value_quantity: Quantity,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObservationOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extension: Vec<Extension>,
    status: &'static str,
    category: Vec<CodeableConcept>,
    code: CodeableConcept,
    subject: Reference,
    effective_date_time: &'a str,
    issued: &'a str,
    performer: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_string: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    component: Vec<ComponentOut>,
}

fn category(code: &str, display: &str) -> CodeableConcept {
    coded(systems::OBSERVATION_CATEGORY, code, display)
}

fn simple_quantity(field: &'static str, value: &str, unit: Unit) -> Result<Quantity> {
    Amount::new(value, unit).quantity(field, None)
}

/// An Observation the patient recorded.
pub fn observation(auth: &Authoring, input: &ObservationInput) -> Result<Authored> {
    auth.check()?;
    check_date_time("When it was measured", &input.effective)?;
    let vitals = || vec![category("vital-signs", "Vital Signs")];
    let (cat, code, value_quantity, value_string, component) = match &input.measurement {
        Measurement::Weight(a) => {
            a.expect_unit("The weight", &[Unit::Kilogram, Unit::Pound])?;
            (
                vitals(),
                loinc("29463-7", "Body weight"),
                Some(a.quantity("The weight", None)?),
                None,
                vec![],
            )
        }
        Measurement::BloodPressure {
            systolic,
            diastolic,
        } => (
            vitals(),
            loinc("85354-9", "Blood pressure panel with all children optional"),
            None,
            None,
            vec![
                ComponentOut {
                    code: loinc("8480-6", "Systolic blood pressure"),
                    value_quantity: simple_quantity(
                        "The systolic pressure",
                        systolic,
                        Unit::MillimeterOfMercury,
                    )?,
                },
                ComponentOut {
                    code: loinc("8462-4", "Diastolic blood pressure"),
                    value_quantity: simple_quantity(
                        "The diastolic pressure",
                        diastolic,
                        Unit::MillimeterOfMercury,
                    )?,
                },
            ],
        ),
        Measurement::Glucose(a) => {
            let code = match a.unit {
                Unit::MilligramPerDeciliter => loinc("2339-0", "Glucose [Mass/volume] in Blood"),
                Unit::MillimolePerLiter => loinc("15074-8", "Glucose [Moles/volume] in Blood"),
                _ => return Err(invalid("The glucose", "must be in mg/dL or mmol/L")),
            };
            (
                vec![category("laboratory", "Laboratory")],
                code,
                Some(a.quantity("The glucose", None)?),
                None,
                vec![],
            )
        }
        Measurement::HeartRate(v) => (
            vitals(),
            loinc("8867-4", "Heart rate"),
            Some(simple_quantity("The heart rate", v, Unit::PerMinute)?),
            None,
            vec![],
        ),
        Measurement::Steps(n) => (
            vec![category("activity", "Activity")],
            loinc("41950-7", "Number of steps in 24 hour Measured"),
            Some(simple_quantity(
                "The steps",
                &n.to_string(),
                Unit::StepsPerDay,
            )?),
            None,
            vec![],
        ),
        Measurement::HemoglobinA1c(v) => (
            vec![category("laboratory", "Laboratory")],
            loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
            Some(simple_quantity("The A1c", v, Unit::Percent)?),
            None,
            vec![],
        ),
        Measurement::Mood(label) => (
            vec![category("survey", "Survey")],
            text_concept("Mood"),
            None,
            Some(required_text("The mood", label)?),
            vec![],
        ),
        Measurement::Text { what, value } => (
            vec![],
            text_concept(&required_text("What was measured", what)?),
            None,
            Some(required_text("The value", value)?),
            vec![],
        ),
    };
    let mut extension = Vec::new();
    if let Some(g) = &input.goal {
        let g = required_text("The goal reference", g)?;
        let mut e = Extension::new(PERTAINS_TO_GOAL);
        e.value_reference = Some(Reference::to(&g));
        extension.push(e);
    }
    let body = ObservationOut {
        resource_type: "Observation",
        id: &auth.id,
        meta: meta(&auth.now),
        extension,
        status: "final",
        category: cat,
        code,
        subject: Reference::to(&auth.patient),
        effective_date_time: &input.effective,
        issued: &auth.now,
        performer: vec![Reference::to(&auth.patient)],
        value_quantity,
        value_string,
        note: annotation(&input.note, auth),
        component,
    };
    finish(auth, "Observation", &body)
}

// ----------------------------------------------------------------------------- notes

/// A note the patient attaches to an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteInput {
    /// The item: its reference from [`crate::Record::reference_to`].
    pub about: String,
    /// How the item is shown (e.g. `Hemoglobin A1c, 2024-03-01`), kept with the reference.
    pub about_display: Option<String>,
    pub text: String,
    pub title: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttachmentOut<'a> {
    content_type: &'static str,
    data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    creation: &'a str,
}

#[derive(Serialize)]
struct ContentOut<'a> {
    attachment: AttachmentOut<'a>,
}

#[derive(Serialize)]
struct ContextOut {
    related: Vec<Reference>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentReferenceOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    status: &'static str,
    #[serde(rename = "type")]
    kind: CodeableConcept,
    subject: Reference,
    date: &'a str,
    author: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    content: Vec<ContentOut<'a>>,
    context: ContextOut,
}

/// A patient note about an item: a DocumentReference pointing at it. The item is not touched.
pub fn note(auth: &Authoring, input: &NoteInput) -> Result<Authored> {
    auth.check()?;
    let about = required_text("The item the note is about", &input.about)?;
    let text = required_text("The note", &input.text)?;
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let body = DocumentReferenceOut {
        resource_type: "DocumentReference",
        id: &auth.id,
        meta: meta(&auth.now),
        status: "current",
        kind: loinc(PATIENT_NOTE_LOINC, "Patient Note"),
        subject: Reference::to(&auth.patient),
        date: &auth.now,
        author: vec![Reference::to(&auth.patient)],
        description: title,
        content: vec![ContentOut {
            attachment: AttachmentOut {
                content_type: "text/plain; charset=utf-8",
                data: base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
                title,
                creation: &auth.now,
            },
        }],
        context: ContextOut {
            related: vec![Reference {
                reference: Some(about),
                display: input.about_display.clone(),
            }],
        },
    };
    finish(auth, "DocumentReference", &body)
}

/// The text of a patient note made by [`note`] (None for other resources).
pub fn note_text(resource: &Resource) -> Option<String> {
    let doc: phr_fhir::views::DocumentReference = resource.view().ok()?;
    let is_note = doc
        .kind
        .as_ref()
        .is_some_and(|k| k.has(systems::LOINC, PATIENT_NOTE_LOINC));
    if !is_note {
        return None;
    }
    let data = doc.content.first()?.attachment.as_ref()?.data.as_deref()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The reference a patient note points at (`context.related[0]`).
pub fn note_target(resource: &Resource) -> Option<String> {
    let doc: phr_fhir::views::DocumentReference = resource.view().ok()?;
    doc.context?.related.first()?.reference.clone()
}

// ----------------------------------------------------------------------------- reading back

fn first_text(notes: &[Annotation]) -> Option<String> {
    notes.iter().find_map(|n| n.text.clone())
}

fn read_schedule(d: &Dosage) -> DoseSchedule {
    let repeat = d.timing.as_ref().and_then(|t| t.repeat.as_ref());
    let mut times: Vec<String> = repeat
        .map(|r| {
            r.time_of_day
                .iter()
                .filter_map(|t| crate::time::normalize_time_of_day(t))
                .collect()
        })
        .unwrap_or_default();
    times.sort();
    times.dedup();
    let mut days: Vec<Weekday> = repeat
        .map(|r| {
            r.day_of_week
                .iter()
                .filter_map(|c| Weekday::from_code(c))
                .collect()
        })
        .unwrap_or_default();
    days.sort();
    days.dedup();
    let daily = repeat.is_some_and(|r| {
        r.period_unit.as_deref() == Some("d")
            && r.period.as_ref().and_then(Decimal::to_f64) == Some(1.0)
    });
    let times_per_day = if times.is_empty() && daily {
        repeat.and_then(|r| r.frequency)
    } else {
        None
    };
    let dose = d
        .dose_and_rate
        .iter()
        .find_map(|dr| dr.dose_quantity.as_ref())
        .and_then(|q| {
            Some(DoseAmount {
                value: q.value.as_ref()?.as_str().to_string(),
                unit: q.unit.clone().or_else(|| q.code.clone())?,
                ucum: q
                    .code
                    .clone()
                    .filter(|_| q.system.as_deref() == Some(systems::UCUM)),
            })
        });
    let bounds = repeat.and_then(|r| r.bounds_period.as_ref());
    let mut schedule = DoseSchedule {
        dose,
        times_of_day: times,
        days_of_week: days,
        times_per_day,
        as_needed: d.as_needed_boolean == Some(true),
        text: None,
        from: bounds.and_then(|b| b.start.clone()),
        until: bounds.and_then(|b| b.end.clone()),
    };
    // Keep the text only when the patient wrote it: a generated one would go stale on edit.
    let frequency = if schedule.times_of_day.is_empty() {
        schedule.times_per_day
    } else {
        Some(schedule.times_of_day.len() as u32)
    };
    let generated =
        schedule.generated_text(&schedule.times_of_day, &schedule.days_of_week, frequency);
    schedule.text = d
        .text
        .clone()
        .filter(|t| !t.trim().is_empty() && *t != generated);
    schedule
}

/// A medication's concept and the name it goes by: the concept's display, else the display of
/// the reference to its Medication.
fn medication_named(
    concept: Option<&CodeableConcept>,
    reference: Option<&Reference>,
) -> (CodeableConcept, Option<String>) {
    let concept = concept.cloned().unwrap_or_default();
    let name = concept
        .display()
        .map(str::to_string)
        .or_else(|| reference?.display.clone());
    (concept, name)
}

/// The input a MedicationStatement stands for, to edit it with [`medication_statement`] and
/// [`Authoring::editing`]. Reads any MedicationStatement (not only the app's): the first dosage
/// is the current schedule, the others are earlier schedules. None for other resources or when
/// the medication has no name.
pub fn read_medication(resource: &Resource) -> Option<MedicationInput> {
    if resource.resource_type() != "MedicationStatement" {
        return None;
    }
    let m: phr_fhir::views::MedicationStatement = resource.view().ok()?;
    let (concept, name) = medication_named(
        m.medication_codeable_concept.as_ref(),
        m.medication_reference.as_ref(),
    );
    let name = name?;
    let status = match m.status.as_deref() {
        Some("on-hold") => MedicationStatus::OnHold,
        Some("stopped" | "completed" | "not-taken" | "entered-in-error") => {
            MedicationStatus::Stopped
        }
        _ => MedicationStatus::Active,
    };
    let period = m.effective_period.as_ref();
    let mut schedules = m.dosage.iter().map(read_schedule);
    Some(MedicationInput {
        name,
        coding: concept.coding,
        status,
        started: period
            .and_then(|p| p.start.clone())
            .or(m.effective_date_time.clone()),
        stopped: period.and_then(|p| p.end.clone()),
        schedule: schedules.next().unwrap_or_default(),
        earlier_schedules: schedules.collect(),
        reason: m
            .reason_code
            .iter()
            .find_map(|c| c.display().map(str::to_string)),
        note: first_text(&m.note),
        based_on: m.based_on.iter().find_map(|r| r.reference.clone()),
    })
}

/// What the patient starts from to track the doses of a provider's prescription (an imported
/// MedicationRequest): its name and codes, its first dosage instruction as the schedule where
/// the app can read one (its text in [`DoseSchedule::text`]), when it was written, and why.
/// `name` is used when the request names its medication only by reference (the caller resolves
/// it). The caller sets [`MedicationInput::based_on`]. None for other resources or when there is
/// no name at all.
pub fn medication_from_request(resource: &Resource, name: Option<&str>) -> Option<MedicationInput> {
    if resource.resource_type() != "MedicationRequest" {
        return None;
    }
    let m: phr_fhir::views::MedicationRequest = resource.view().ok()?;
    let (concept, own_name) = medication_named(
        m.medication_codeable_concept.as_ref(),
        m.medication_reference.as_ref(),
    );
    let name = own_name
        .or_else(|| name.map(str::to_string))
        .filter(|n| !n.trim().is_empty())?;
    let status = match m.status.as_deref() {
        Some("on-hold") => MedicationStatus::OnHold,
        Some("stopped" | "completed" | "cancelled" | "entered-in-error") => {
            MedicationStatus::Stopped
        }
        _ => MedicationStatus::Active,
    };
    let mut schedule = m
        .dosage_instruction
        .first()
        .map(read_schedule)
        .unwrap_or_default();
    // The prescription's own dates stay on the prescription; `schedule.text` keeps its wording
    // (e.g. "Take 1 tablet by mouth once daily") for the patient to read while choosing times.
    schedule.from = None;
    schedule.until = None;
    Some(MedicationInput {
        name,
        coding: concept.coding,
        status,
        started: m
            .authored_on
            .as_deref()
            .and_then(|d| d.get(..10))
            .map(str::to_string),
        stopped: None,
        schedule,
        earlier_schedules: vec![],
        reason: m
            .reason_code
            .iter()
            .find_map(|c| c.display().map(str::to_string)),
        note: None,
        based_on: None,
    })
}

fn read_target_value(t: &phr_fhir::views::GoalTarget) -> Option<TargetValue> {
    let amount = |q: &Quantity| -> Option<Amount> {
        Some(Amount {
            value: q.value.as_ref()?.as_str().to_string(),
            unit: Unit::from_ucum(q.code.as_deref()?)?,
        })
    };
    if let Some(q) = &t.detail_quantity {
        let a = amount(q)?;
        return Some(match q.comparator.as_deref() {
            Some("<=" | "<") => TargetValue::AtMost(a),
            Some(">=" | ">") => TargetValue::AtLeast(a),
            _ => TargetValue::Exactly(a),
        });
    }
    let r = t.detail_range.as_ref()?;
    match (r.low.as_ref(), r.high.as_ref()) {
        (Some(l), Some(h)) => Some(TargetValue::Between(amount(l)?, amount(h)?)),
        (Some(l), None) => Some(TargetValue::AtLeast(amount(l)?)),
        (None, Some(h)) => Some(TargetValue::AtMost(amount(h)?)),
        (None, None) => None,
    }
}

fn target_text(t: &phr_fhir::views::GoalTarget) -> String {
    if let Some(s) = t.detail_string.as_deref().filter(|s| !s.trim().is_empty()) {
        return s.to_string();
    }
    let q = |q: &Quantity| {
        let value = q.value.as_ref().map(Decimal::as_str).unwrap_or("");
        let unit = q.unit.as_deref().or(q.code.as_deref()).unwrap_or("");
        format!("{}{value} {unit}", q.comparator.as_deref().unwrap_or(""))
            .trim()
            .to_string()
    };
    if let Some(d) = &t.detail_quantity {
        return q(d);
    }
    if let Some(r) = &t.detail_range {
        let low = r.low.as_ref().map(q).unwrap_or_default();
        let high = r.high.as_ref().map(q).unwrap_or_default();
        return format!("{low} – {high}")
            .trim_matches([' ', '–'])
            .to_string();
    }
    t.detail_codeable_concept
        .as_ref()
        .and_then(|c| c.display())
        .unwrap_or("")
        .to_string()
}

/// The input a Goal stands for, to edit it (e.g. mark it completed) with [`goal`] and
/// [`Authoring::editing`]. Targets this app cannot express as numbers come back as
/// [`GoalTarget::Text`]. None for other resources or a goal without a description.
pub fn read_goal(resource: &Resource) -> Option<GoalInput> {
    if resource.resource_type() != "Goal" {
        return None;
    }
    let g: phr_fhir::views::Goal = resource.view().ok()?;
    let description = g.description.as_ref()?.display()?.to_string();
    let status = match g.lifecycle_status.as_deref() {
        Some("proposed" | "planned") => GoalStatus::Proposed,
        Some("on-hold") => GoalStatus::OnHold,
        Some("completed") => GoalStatus::Completed,
        Some("cancelled" | "rejected" | "entered-in-error") => GoalStatus::Cancelled,
        _ => GoalStatus::Active,
    };
    let measured = |code: &str| {
        g.target.iter().find(|t| {
            t.measure
                .as_ref()
                .is_some_and(|m| m.has(systems::LOINC, code))
        })
    };
    let numeric = |code: &str| measured(code).and_then(read_target_value);
    let target = if let (Some(s), Some(d)) = (numeric("8480-6"), numeric("8462-4")) {
        Some(GoalTarget::BloodPressure {
            systolic: s,
            diastolic: d,
        })
    } else if let Some(v) = numeric("29463-7") {
        Some(GoalTarget::Weight(v))
    } else if let Some(v) = numeric("41950-7") {
        Some(GoalTarget::Steps(v))
    } else {
        numeric("4548-4").map(GoalTarget::HemoglobinA1c)
    };
    let target = target.unwrap_or_else(|| {
        let first = g.target.first();
        GoalTarget::Text {
            measure: first
                .and_then(|t| t.measure.as_ref()?.display().map(str::to_string))
                .unwrap_or_else(|| description.clone()),
            target: first.map(target_text).unwrap_or_default(),
        }
    });
    Some(GoalInput {
        description,
        target,
        due_date: g.target.iter().find_map(|t| t.due_date.clone()),
        start_date: g.start_date.clone(),
        status,
        note: first_text(&g.note),
    })
}

/// The Goal a patient measurement tracks (its `resource-pertainsToGoal` reference), if any.
pub fn goal_of(resource: &Resource) -> Option<String> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Ext {
        url: String,
        value_reference: Option<Reference>,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct WithExtensions {
        extension: Vec<Ext>,
    }
    let w: WithExtensions = resource.view().ok()?;
    w.extension
        .into_iter()
        .find(|e| e.url == PERTAINS_TO_GOAL)?
        .value_reference?
        .reference
}

// ----------------------------------------------------------------------------- anything else

/// Any other resource the app builds for the patient (an allergy they report, a condition):
/// sets its `id`, adds PATAST to `meta.security` and `meta.lastUpdated`, and makes its
/// Provenance. `value` must be a JSON object with a `resourceType`.
pub fn patient_resource(auth: &Authoring, value: &serde_json::Value) -> Result<Authored> {
    auth.check()?;
    let mut v = value.clone();
    let obj = v
        .as_object_mut()
        .ok_or_else(|| invalid("The entry", "must be a JSON object"))?;
    let rt = obj
        .get("resourceType")
        .and_then(|t| t.as_str())
        .filter(|t| phr_fhir::is_resource_type_name(t))
        .ok_or_else(|| invalid("The entry", "needs a resourceType"))?
        .to_string();
    if matches!(rt.as_str(), "Provenance" | "Bundle") {
        return Err(invalid("The entry", "cannot be a Provenance or a Bundle"));
    }
    obj.insert("id".into(), serde_json::Value::String(auth.id.clone()));
    let meta = obj
        .entry("meta")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .ok_or_else(|| invalid("The entry", "its meta must be an object"))?;
    meta.insert("lastUpdated".into(), auth.now.clone().into());
    let security = meta
        .entry("security")
        .or_insert_with(|| serde_json::json!([]))
        .as_array_mut()
        .ok_or_else(|| invalid("The entry", "its meta.security must be a list"))?;
    let has = security.iter().any(|c| {
        c.get("system").and_then(|s| s.as_str()) == Some(systems::OBSERVATION_VALUE)
            && c.get("code").and_then(|s| s.as_str()) == Some(PATAST)
    });
    if !has {
        security
            .push(serde_json::to_value(patast()).map_err(|e| invalid("The entry", e.to_string()))?);
    }
    finish(auth, &rt, &v)
}

/// Whether a resource carries the PATAST security label.
pub fn is_patient_asserted(resource: &Resource) -> bool {
    resource
        .view::<phr_fhir::views::Common>()
        .ok()
        .and_then(|c| c.meta)
        .is_some_and(|m| {
            m.security.iter().any(|c| {
                c.system.as_deref() == Some(systems::OBSERVATION_VALUE)
                    && c.code.as_deref() == Some(PATAST)
            })
        })
}
