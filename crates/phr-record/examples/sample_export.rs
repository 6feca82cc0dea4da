//! Prints a FHIR export Bundle holding every kind of item this crate writes (EHR and file
//! imports, every patient-entered builder, a note, a hidden item, an item gone at source), for
//! checking with an independent FHIR validator.
//!
//! Run: `cargo run -p phr-record --example sample_export > export.json`

use std::collections::HashSet;

use phr_fhir::types::CodeableConcept;
use phr_fhir::Resource;
use phr_record::patient::*;
use phr_record::{Authoring, EntryKey, ExportOptions, Record, ResourceKey, Source, SyncCoverage};

const NOW: &str = "2024-05-01T08:00:00Z";
const PATIENT: &str = "Patient/p1";

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut r = Record::new();
    let clinic = Source::ehr(
        "clinic",
        "Good Health Clinic",
        "https://ehr.example.org/fhir",
        true,
        NOW,
    )?;
    let cid = clinic.id.clone();
    r.add_source(clinic)?;
    let obs = |id: &str| {
        Resource::from_json(format!(
            r#"{{"resourceType":"Observation","id":"{id}","status":"final","code":{{"text":"Glucose"}},"subject":{{"reference":"Patient/p1"}},"valueQuantity":{{"value":5.50,"unit":"mmol/L"}}}}"#
        ))
    };
    r.apply_import(
        &cid,
        vec![
            (
                obs("o1")?,
                "https://ehr.example.org/fhir/Observation?patient=p1".to_string(),
            ),
            (
                obs("o2")?,
                "https://ehr.example.org/fhir/Observation?patient=p1".to_string(),
            ),
        ],
        NOW,
    )?;
    let seen: HashSet<ResourceKey> = [ResourceKey::new("Observation", "o1")].into();
    r.finish_full_sync(&cid, &seen, &SyncCoverage::AllTypes, NOW)?;
    let file = phr_fhir::parse_import(
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"text":"Flu"},"patient":{"reference":"Patient/p1"},"occurrenceDateTime":"2023-10-01"}}]}"#,
    )?
    .1;
    r.import_file(file, "shots.json", NOW)?;
    let o1 = EntryKey::new(cid.clone(), ResourceKey::new("Observation", "o1"));
    r.hide(&o1, NOW)?;

    let a = |n| Authoring::new(&id(n), PATIENT, NOW);
    let med = medication_statement(
        &a(1),
        &MedicationInput {
            name: "Vitamin D3 1000 IU".into(),
            coding: vec![],
            status: MedicationStatus::Active,
            started: Some("2024-01-15".into()),
            stopped: None,
            schedule: DoseSchedule {
                dose: Some(DoseAmount {
                    value: "1".into(),
                    unit: "tablet".into(),
                    ucum: Some("{tbl}".into()),
                }),
                times_of_day: vec!["08:00".into()],
                days_of_week: vec![Weekday::Mon, Weekday::Thu],
                ..DoseSchedule::default()
            },
            earlier_schedules: vec![],
            reason: Some("Low vitamin D".into()),
            note: Some("With breakfast".into()),
            based_on: None,
        },
    )?;
    let items = vec![
        med,
        dose_log_entry(
            &a(2),
            &DoseLogInput {
                medication: CodeableConcept {
                    coding: vec![],
                    text: Some("Vitamin D3 1000 IU".into()),
                },
                regimen: format!("MedicationStatement/{}", id(1)),
                slot: Some(DoseSlot {
                    date: "2024-05-01".into(),
                    time_of_day: "08:00".into(),
                }),
                outcome: DoseOutcome::Taken { at: NOW.into() },
                dose: Some(DoseAmount {
                    value: "1".into(),
                    unit: "tablet".into(),
                    ucum: None,
                }),
                note: None,
            },
        )?,
        dose_log_entry(
            &a(3),
            &DoseLogInput {
                medication: CodeableConcept {
                    coding: vec![],
                    text: Some("Vitamin D3 1000 IU".into()),
                },
                regimen: format!("MedicationStatement/{}", id(1)),
                slot: Some(DoseSlot {
                    date: "2024-04-29".into(),
                    time_of_day: "08:00".into(),
                }),
                outcome: DoseOutcome::Skipped {
                    at: NOW.into(),
                    reason: None,
                },
                dose: None,
                note: None,
            },
        )?,
        goal(
            &a(4),
            &GoalInput {
                description: "Blood pressure under 130/80".into(),
                target: GoalTarget::BloodPressure {
                    systolic: TargetValue::AtMost(Amount::new("130", Unit::MillimeterOfMercury)),
                    diastolic: TargetValue::Between(
                        Amount::new("60", Unit::MillimeterOfMercury),
                        Amount::new("80", Unit::MillimeterOfMercury),
                    ),
                },
                due_date: Some("2024-12-31".into()),
                start_date: Some("2024-05-01".into()),
                status: GoalStatus::Active,
                note: None,
            },
        )?,
        goal(
            &a(5),
            &GoalInput {
                description: "Walk more".into(),
                target: GoalTarget::Text {
                    measure: "Walking".into(),
                    target: "30 minutes a day".into(),
                },
                due_date: None,
                start_date: None,
                status: GoalStatus::Proposed,
                note: None,
            },
        )?,
    ];
    for item in items {
        r.put_patient_item(item)?;
    }
    let measurements = [
        Measurement::Weight(Amount::new("72.5", Unit::Kilogram)),
        Measurement::BloodPressure {
            systolic: "128".into(),
            diastolic: "79".into(),
        },
        Measurement::Glucose(Amount::new("98", Unit::MilligramPerDeciliter)),
        Measurement::HeartRate("64".into()),
        Measurement::Steps(9500),
        Measurement::Mood("Good".into()),
        Measurement::Text {
            what: "Sleep".into(),
            value: "Slept badly".into(),
        },
    ];
    for (i, m) in measurements.into_iter().enumerate() {
        let goal =
            matches!(m, Measurement::BloodPressure { .. }).then(|| format!("Goal/{}", id(4)));
        r.put_patient_item(observation(
            &a(10 + i as u32),
            &ObservationInput {
                measurement: m,
                effective: NOW.into(),
                goal,
                note: None,
            },
        )?)?;
    }
    r.put_patient_item(note(
        &a(30),
        &NoteInput {
            about: r.reference_to(&o1).unwrap(),
            about_display: Some("Glucose".into()),
            text: "I had eaten before this test.".into(),
            title: Some("Not fasting".into()),
        },
    )?)?;
    r.put_patient_item(patient_resource(
        &a(31),
        &serde_json::json!({"resourceType": "AllergyIntolerance", "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]}, "patient": {"reference": PATIENT}, "code": {"text": "Peanuts"}}),
    )?)?;
    let bundle = r.export_bundle(&ExportOptions {
        bundle_id: id(999),
        timestamp: NOW.into(),
        patient: PATIENT.into(),
    })?;
    println!("{bundle}");
    Ok(())
}
