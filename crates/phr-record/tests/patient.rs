//! Patient-entered data: each builder's FHIR shape, PATAST, Provenance; edit/delete rules; notes
//! never alter the EHR item.

mod common;

use common::*;
use phr_fhir::types::{systems, CodeableConcept};
use phr_record::patient::{
    self, Amount, DoseAmount, DoseLogInput, DoseOutcome, DoseSchedule, DoseSlot, GoalInput,
    GoalStatus, GoalTarget, Measurement, MedicationInput, MedicationStatus, NoteInput,
    ObservationInput, TargetValue, Unit, Weekday,
};
use phr_record::{
    Activity, Authored, Authoring, EntryKey, PutOutcome, Record, RecordError, ResourceKey, SourceId,
};
use serde_json::{json, Value};

fn auth(n: u32) -> Authoring {
    Authoring::new(&uuid(n), PATIENT, T0)
}

/// Checks what every patient item must have and returns the resource as JSON.
fn check_authored(a: &Authored, resource_type: &str) -> Value {
    let r = a.resource();
    assert_eq!(r.resource_type(), resource_type);
    let v = r.value();
    assert!(
        patient::is_patient_asserted(r),
        "{resource_type} lacks PATAST"
    );
    let patast = json!({"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "PATAST", "display": "patient asserted"});
    assert!(v["meta"]["security"].as_array().unwrap().contains(&patast));
    assert_eq!(v["meta"]["lastUpdated"], T0);
    let p = a.provenance().value();
    assert_eq!(p["resourceType"], "Provenance");
    assert_eq!(
        p["target"][0]["reference"],
        format!("{resource_type}/{}", r.id().unwrap())
    );
    assert_eq!(p["recorded"], T0);
    assert_eq!(p["agent"][0]["who"]["reference"], PATIENT);
    assert_eq!(p["agent"][0]["type"]["coding"][0]["code"], "author");
    assert_eq!(
        p["agent"][0]["type"]["coding"][0]["system"],
        "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
    );
    assert!(phr_record::is_lower_uuid(a.provenance().id().unwrap()));
    v
}

fn vitamin_d() -> MedicationInput {
    MedicationInput {
        name: "Vitamin D3 1000 IU".into(),
        coding: vec![],
        status: MedicationStatus::Active,
        started: Some("2024-01-15".into()),
        stopped: None,
        schedule: DoseSchedule {
            dose: Some(DoseAmount {
                value: "0.5".into(),
                unit: "tablet".into(),
                ucum: Some("{tbl}".into()),
            }),
            times_of_day: vec!["20:00".into(), "8:00".into()],
            days_of_week: vec![Weekday::Wed, Weekday::Mon],
            times_per_day: None,
            as_needed: false,
            text: None,
            from: None,
            until: None,
        },
        earlier_schedules: vec![],
        reason: Some("Low vitamin D".into()),
        note: None,
        based_on: None,
    }
}

#[test]
fn medication_statement_has_a_dose_schedule() {
    let a = patient::medication_statement(&auth(1), &vitamin_d()).unwrap();
    let v = check_authored(&a, "MedicationStatement");
    assert_eq!(v["status"], "active");
    assert_eq!(v["medicationCodeableConcept"]["text"], "Vitamin D3 1000 IU");
    assert_eq!(v["category"]["coding"][0]["code"], "patientspecified");
    assert_eq!(v["subject"]["reference"], PATIENT);
    assert_eq!(v["informationSource"]["reference"], PATIENT);
    assert_eq!(v["effectivePeriod"]["start"], "2024-01-15");
    let d = &v["dosage"][0];
    let rep = &d["timing"]["repeat"];
    assert_eq!(rep["timeOfDay"], json!(["08:00:00", "20:00:00"]));
    assert_eq!(rep["dayOfWeek"], json!(["mon", "wed"]));
    assert_eq!(rep["frequency"], 2);
    assert_eq!(rep["periodUnit"], "d");
    assert_eq!(d["text"], "0.5 tablet at 08:00, 20:00 on Mon, Wed");
    assert_eq!(d["doseAndRate"][0]["doseQuantity"]["code"], "{tbl}");
    // The dose keeps the digits as typed.
    assert!(a.resource().raw().contains("\"value\":0.5"));

    let mut stopped = vitamin_d();
    stopped.status = MedicationStatus::Stopped;
    stopped.stopped = Some("2024-03-01".into());
    stopped.schedule = DoseSchedule {
        as_needed: true,
        ..DoseSchedule::default()
    };
    let s = patient::medication_statement(&auth(1).editing(), &stopped).unwrap();
    let v = s.resource().value();
    assert_eq!(v["status"], "stopped");
    assert_eq!(v["effectivePeriod"]["end"], "2024-03-01");
    assert_eq!(v["dosage"][0]["asNeededBoolean"], true);
    assert_eq!(v["dosage"][0]["text"], "as needed");
    assert!(v["dosage"][0].get("timing").is_none());
    assert_eq!(
        s.provenance().value()["activity"]["coding"][0]["code"],
        "UPDATE"
    );
}

#[test]
fn medication_input_is_checked() {
    let mut m = vitamin_d();
    m.schedule.times_of_day = vec!["25:00".into()];
    assert!(matches!(
        patient::medication_statement(&auth(1), &m),
        Err(RecordError::InvalidTime { .. })
    ));
    let mut m = vitamin_d();
    m.name = "  ".into();
    assert!(matches!(
        patient::medication_statement(&auth(1), &m),
        Err(RecordError::InvalidInput { .. })
    ));
    let mut m = vitamin_d();
    m.schedule.dose.as_mut().unwrap().value = "half".into();
    assert!(patient::medication_statement(&auth(1), &m).is_err());
    let bad_id = Authoring::new("not-a-uuid", PATIENT, T0);
    assert!(patient::medication_statement(&bad_id, &vitamin_d()).is_err());
    let no_zone = Authoring::new(&uuid(1), PATIENT, "2024-05-01T08:00:00");
    assert!(matches!(
        patient::medication_statement(&no_zone, &vitamin_d()),
        Err(RecordError::InvalidTime { .. })
    ));
}

fn dose(outcome: DoseOutcome, regimen: &str) -> DoseLogInput {
    DoseLogInput {
        medication: CodeableConcept {
            coding: vec![],
            text: Some("Vitamin D3 1000 IU".into()),
        },
        regimen: regimen.into(),
        slot: Some(DoseSlot {
            date: "2024-05-01".into(),
            time_of_day: "08:00".into(),
        }),
        outcome,
        dose: Some(DoseAmount {
            value: "1".into(),
            unit: "tablet".into(),
            ucum: None,
        }),
        note: None,
    }
}

#[test]
fn dose_log_taken_and_skipped() {
    let regimen = format!("MedicationStatement/{}", uuid(1));
    let taken = patient::dose_log_entry(
        &auth(2),
        &dose(
            DoseOutcome::Taken {
                at: "2024-05-01T08:10:00+02:00".into(),
            },
            &regimen,
        ),
    )
    .unwrap();
    let v = check_authored(&taken, "MedicationAdministration");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["effectiveDateTime"], "2024-05-01T08:10:00+02:00");
    assert_eq!(v["supportingInformation"][0]["reference"], regimen);
    assert!(v.get("request").is_none());
    assert_eq!(v["performer"][0]["actor"]["reference"], PATIENT);
    assert_eq!(v["dosage"]["dose"]["value"], 1);
    assert_eq!(v["category"]["coding"][0]["code"], "community");
    let slot = &v["extension"][0];
    assert_eq!(slot["url"], patient::DOSE_SLOT_EXTENSION);
    assert_eq!(
        slot["extension"],
        json!([{"url": "date", "valueDate": "2024-05-01"}, {"url": "time", "valueTime": "08:00:00"}])
    );

    let rx = "https://a.example.org/fhir/MedicationRequest/rx1";
    let skipped = patient::dose_log_entry(
        &auth(3),
        &dose(
            DoseOutcome::Skipped {
                at: "2024-05-01T09:00:00Z".into(),
                reason: Some("Felt sick".into()),
            },
            rx,
        ),
    )
    .unwrap();
    let v = check_authored(&skipped, "MedicationAdministration");
    assert_eq!(v["status"], "not-done");
    assert_eq!(v["statusReason"][0]["text"], "Felt sick");
    assert!(v.get("dosage").is_none(), "a skipped dose has no amount");
    assert_eq!(
        v["request"]["reference"], rx,
        "an EHR prescription is the request"
    );

    let mut bad = dose(
        DoseOutcome::Taken {
            at: "2024-05-01T08:10:00Z".into(),
        },
        &regimen,
    );
    bad.slot.as_mut().unwrap().date = "2024-05".into();
    assert!(patient::dose_log_entry(&auth(4), &bad).is_err());
}

#[test]
fn goals_with_targets_and_due_dates() {
    let weight = patient::goal(
        &auth(5),
        &GoalInput {
            description: "Get under 80 kg".into(),
            target: GoalTarget::Weight(TargetValue::AtMost(Amount::new("80.0", Unit::Kilogram))),
            due_date: Some("2024-12-31".into()),
            start_date: None,
            status: GoalStatus::Active,
            note: None,
        },
    )
    .unwrap();
    let v = check_authored(&weight, "Goal");
    assert_eq!(v["lifecycleStatus"], "active");
    assert_eq!(v["description"]["text"], "Get under 80 kg");
    assert_eq!(v["expressedBy"]["reference"], PATIENT);
    let t = &v["target"][0];
    assert_eq!(t["measure"]["coding"][0]["code"], "29463-7");
    assert_eq!(t["measure"]["coding"][0]["system"], systems::LOINC);
    assert_eq!(t["detailQuantity"]["comparator"], "<=");
    assert_eq!(t["detailQuantity"]["code"], "kg");
    assert_eq!(t["dueDate"], "2024-12-31");
    assert!(weight.resource().raw().contains("\"value\":80.0"));

    let bp = patient::goal(
        &auth(6),
        &GoalInput {
            description: "Blood pressure under control".into(),
            target: GoalTarget::BloodPressure {
                systolic: TargetValue::AtMost(Amount::new("130", Unit::MillimeterOfMercury)),
                diastolic: TargetValue::Between(
                    Amount::new("60", Unit::MillimeterOfMercury),
                    Amount::new("80", Unit::MillimeterOfMercury),
                ),
            },
            due_date: None,
            start_date: Some("2024-05-01".into()),
            status: GoalStatus::Active,
            note: None,
        },
    )
    .unwrap();
    let v = check_authored(&bp, "Goal");
    assert_eq!(v["target"][0]["measure"]["coding"][0]["code"], "8480-6");
    assert_eq!(v["target"][1]["measure"]["coding"][0]["code"], "8462-4");
    assert_eq!(v["target"][1]["detailRange"]["low"]["value"], 60);
    assert_eq!(v["target"][1]["detailRange"]["high"]["code"], "mm[Hg]");

    for (target, code) in [
        (
            GoalTarget::Steps(TargetValue::AtLeast(Amount::new("8000", Unit::StepsPerDay))),
            "41950-7",
        ),
        (
            GoalTarget::HemoglobinA1c(TargetValue::AtMost(Amount::new("7", Unit::Percent))),
            "4548-4",
        ),
    ] {
        let g = patient::goal(
            &auth(7),
            &GoalInput {
                description: "goal".into(),
                target,
                due_date: None,
                start_date: None,
                status: GoalStatus::Proposed,
                note: None,
            },
        )
        .unwrap();
        assert_eq!(
            g.resource().value()["target"][0]["measure"]["coding"][0]["code"],
            code
        );
    }

    let text = patient::goal(
        &auth(8),
        &GoalInput {
            description: "Walk more".into(),
            target: GoalTarget::Text {
                measure: "Walking".into(),
                target: "30 minutes a day".into(),
            },
            due_date: Some("2024-09".into()),
            start_date: None,
            status: GoalStatus::Active,
            note: Some("with the dog".into()),
        },
    )
    .unwrap();
    let v = check_authored(&text, "Goal");
    assert_eq!(v["target"][0]["measure"]["text"], "Walking");
    assert_eq!(v["target"][0]["detailString"], "30 minutes a day");
    assert_eq!(v["note"][0]["text"], "with the dog");

    // A weight goal in mmHg is refused; so is an upside-down range.
    let bad = GoalInput {
        description: "x".into(),
        target: GoalTarget::Weight(TargetValue::AtMost(Amount::new(
            "80",
            Unit::MillimeterOfMercury,
        ))),
        due_date: None,
        start_date: None,
        status: GoalStatus::Active,
        note: None,
    };
    assert!(patient::goal(&auth(9), &bad).is_err());
    let upside_down = GoalInput {
        target: GoalTarget::Weight(TargetValue::Between(
            Amount::new("90", Unit::Kilogram),
            Amount::new("80", Unit::Kilogram),
        )),
        ..bad
    };
    assert!(patient::goal(&auth(9), &upside_down).is_err());
}

fn observe(m: Measurement) -> Value {
    let a = patient::observation(
        &auth(10),
        &ObservationInput {
            measurement: m,
            effective: "2024-05-01T07:30:00Z".into(),
            goal: None,
            note: None,
        },
    )
    .unwrap();
    let v = check_authored(&a, "Observation");
    assert_eq!(v["status"], "final");
    assert_eq!(v["performer"][0]["reference"], PATIENT);
    assert_eq!(v["effectiveDateTime"], "2024-05-01T07:30:00Z");
    v
}

#[test]
fn patient_observations_have_standard_codes_and_units() {
    let v = observe(Measurement::Weight(Amount::new("72.50", Unit::Kilogram)));
    assert_eq!(v["code"]["coding"][0]["code"], "29463-7");
    assert_eq!(v["category"][0]["coding"][0]["code"], "vital-signs");
    assert_eq!(v["valueQuantity"]["system"], systems::UCUM);
    assert_eq!(v["valueQuantity"]["code"], "kg");

    let v = observe(Measurement::BloodPressure {
        systolic: "120".into(),
        diastolic: "80".into(),
    });
    assert_eq!(v["code"]["coding"][0]["code"], "85354-9");
    assert_eq!(v["component"][0]["code"]["coding"][0]["code"], "8480-6");
    assert_eq!(v["component"][0]["valueQuantity"]["value"], 120);
    assert_eq!(v["component"][1]["code"]["coding"][0]["code"], "8462-4");
    assert_eq!(v["component"][1]["valueQuantity"]["code"], "mm[Hg]");
    assert!(v.get("valueQuantity").is_none());

    let v = observe(Measurement::Glucose(Amount::new(
        "5.4",
        Unit::MillimolePerLiter,
    )));
    assert_eq!(v["code"]["coding"][0]["code"], "15074-8");
    let v = observe(Measurement::Glucose(Amount::new(
        "98",
        Unit::MilligramPerDeciliter,
    )));
    assert_eq!(v["code"]["coding"][0]["code"], "2339-0");
    assert_eq!(v["valueQuantity"]["code"], "mg/dL");

    let v = observe(Measurement::HeartRate("64".into()));
    assert_eq!(v["code"]["coding"][0]["code"], "8867-4");
    assert_eq!(v["valueQuantity"]["code"], "/min");

    let v = observe(Measurement::Steps(9500));
    assert_eq!(v["code"]["coding"][0]["code"], "41950-7");
    assert_eq!(v["category"][0]["coding"][0]["code"], "activity");
    assert_eq!(v["valueQuantity"]["value"], 9500);

    let v = observe(Measurement::Mood("Good".into()));
    assert_eq!(v["code"]["text"], "Mood");
    assert_eq!(v["valueString"], "Good");

    let v = observe(Measurement::Text {
        what: "Sleep".into(),
        value: "Slept badly".into(),
    });
    assert_eq!(v["code"]["text"], "Sleep");
    assert_eq!(v["valueString"], "Slept badly");

    assert!(patient::observation(
        &auth(11),
        &ObservationInput {
            measurement: Measurement::Glucose(Amount::new("5", Unit::Kilogram)),
            effective: "2024-05-01".into(),
            goal: None,
            note: None,
        }
    )
    .is_err());
}

#[test]
fn goal_measurements_point_at_their_goal() {
    let goal_ref = format!("Goal/{}", uuid(5));
    let a = patient::observation(
        &auth(12),
        &ObservationInput {
            measurement: Measurement::Weight(Amount::new("80", Unit::Pound)),
            effective: "2024-05-01".into(),
            goal: Some(goal_ref.clone()),
            note: None,
        },
    )
    .unwrap();
    let v = a.resource().value();
    assert_eq!(v["extension"][0]["url"], patient::PERTAINS_TO_GOAL);
    assert_eq!(v["extension"][0]["valueReference"]["reference"], goal_ref);
    assert_eq!(
        v["subject"]["reference"], PATIENT,
        "still the patient's weight"
    );
    assert_eq!(v["valueQuantity"]["code"], "[lb_av]");
    assert_eq!(patient::goal_of(a.resource()), Some(goal_ref));
    let plain = patient::observation(
        &auth(13),
        &ObservationInput {
            measurement: Measurement::HemoglobinA1c("6.8".into()),
            effective: "2024-05-01".into(),
            goal: None,
            note: None,
        },
    )
    .unwrap();
    assert_eq!(patient::goal_of(plain.resource()), None);
    let v = plain.resource().value();
    assert_eq!(v["code"]["coding"][0]["code"], "4548-4");
    assert_eq!(v["category"][0]["coding"][0]["code"], "laboratory");
    assert_eq!(v["valueQuantity"]["code"], "%");
    assert!(plain.resource().raw().contains("\"value\":6.8"));
}

#[test]
fn a_changed_schedule_keeps_the_earlier_one_with_its_bounds() {
    let mut m = vitamin_d();
    m.schedule.from = Some("2024-05-01T08:00:00-04:00".into());
    m.earlier_schedules = vec![DoseSchedule {
        times_of_day: vec!["07:00".into()],
        from: Some("2024-02-01T10:00:00-05:00".into()),
        until: Some("2024-05-01T08:00:00-04:00".into()),
        ..DoseSchedule::default()
    }];
    let a = patient::medication_statement(&auth(1), &m).unwrap();
    let v = check_authored(&a, "MedicationStatement");
    let now = &v["dosage"][0]["timing"]["repeat"];
    assert_eq!(now["boundsPeriod"]["start"], "2024-05-01T08:00:00-04:00");
    assert!(now["boundsPeriod"].get("end").is_none());
    let before = &v["dosage"][1]["timing"]["repeat"];
    assert_eq!(before["timeOfDay"], json!(["07:00:00"]));
    assert_eq!(before["boundsPeriod"]["end"], "2024-05-01T08:00:00-04:00");
    assert_eq!(v["dosage"][1]["text"], "at 07:00");

    // An earlier schedule must say when it ended; bounds must be FHIR date-times.
    let mut open_ended = m.clone();
    open_ended.earlier_schedules[0].until = None;
    assert!(patient::medication_statement(&auth(1), &open_ended).is_err());
    let mut bad = m.clone();
    bad.schedule.from = Some("2024-05-01T08:00".into());
    assert!(matches!(
        patient::medication_statement(&auth(1), &bad),
        Err(RecordError::InvalidTime { .. })
    ));
}

#[test]
fn medications_and_goals_read_back_into_their_inputs() {
    let mut m = vitamin_d();
    m.note = Some("With food".into());
    m.schedule.from = Some("2024-05-01T08:00:00Z".into());
    m.earlier_schedules = vec![DoseSchedule {
        times_of_day: vec!["07:00".into()],
        text: Some("one with breakfast".into()),
        until: Some("2024-05-01T08:00:00Z".into()),
        ..DoseSchedule::default()
    }];
    let built = patient::medication_statement(&auth(1), &m).unwrap();
    let read = patient::read_medication(built.resource()).unwrap();
    assert_eq!(read.name, m.name);
    assert_eq!(read.status, MedicationStatus::Active);
    assert_eq!(read.started.as_deref(), Some("2024-01-15"));
    assert_eq!(read.schedule.times_of_day, ["08:00:00", "20:00:00"]);
    assert_eq!(read.schedule.days_of_week, [Weekday::Mon, Weekday::Wed]);
    assert_eq!(read.schedule.dose, m.schedule.dose);
    assert_eq!(read.schedule.text, None, "a generated text is not kept");
    assert_eq!(read.earlier_schedules.len(), 1);
    assert_eq!(
        read.earlier_schedules[0].text.as_deref(),
        Some("one with breakfast"),
        "the patient's own words are kept"
    );
    assert_eq!(read.reason.as_deref(), Some("Low vitamin D"));
    assert_eq!(read.note.as_deref(), Some("With food"));
    // Building from what was read gives the same resource.
    let again = patient::medication_statement(&auth(1).editing(), &read).unwrap();
    assert_eq!(again.resource().raw(), built.resource().raw());
    // Count nouns take a plural above one; the stored unit stays as given.
    let mut two = vitamin_d();
    two.schedule.dose.as_mut().unwrap().value = "2".into();
    let b = patient::medication_statement(&auth(3), &two).unwrap();
    let v = b.resource().value();
    assert_eq!(
        v["dosage"][0]["text"],
        "2 tablets at 08:00, 20:00 on Mon, Wed"
    );
    assert_eq!(
        v["dosage"][0]["doseAndRate"][0]["doseQuantity"]["unit"],
        "tablet"
    );
    // A schedule given as "twice a day" reads back as such.
    let mut twice = vitamin_d();
    twice.schedule.times_of_day = vec![];
    twice.schedule.days_of_week = vec![];
    twice.schedule.times_per_day = Some(2);
    let b = patient::medication_statement(&auth(2), &twice).unwrap();
    let r = patient::read_medication(b.resource()).unwrap();
    assert_eq!(r.schedule.times_per_day, Some(2));
    assert_eq!(r.schedule.text, None);

    for target in [
        GoalTarget::Weight(TargetValue::AtMost(Amount::new("80.0", Unit::Kilogram))),
        GoalTarget::BloodPressure {
            systolic: TargetValue::AtMost(Amount::new("130", Unit::MillimeterOfMercury)),
            diastolic: TargetValue::Between(
                Amount::new("60", Unit::MillimeterOfMercury),
                Amount::new("80", Unit::MillimeterOfMercury),
            ),
        },
        GoalTarget::Steps(TargetValue::AtLeast(Amount::new("8000", Unit::StepsPerDay))),
        GoalTarget::HemoglobinA1c(TargetValue::Exactly(Amount::new("6.5", Unit::Percent))),
        GoalTarget::Text {
            measure: "Walking".into(),
            target: "30 minutes a day".into(),
        },
    ] {
        let input = GoalInput {
            description: "My goal".into(),
            target,
            due_date: Some("2024-12-31".into()),
            start_date: Some("2024-05-01".into()),
            status: GoalStatus::Active,
            note: Some("note".into()),
        };
        let g = patient::goal(&auth(5), &input).unwrap();
        let read = patient::read_goal(g.resource()).unwrap();
        assert_eq!(read, input);
        let done = patient::goal(
            &auth(5).editing(),
            &GoalInput {
                status: GoalStatus::Completed,
                ..read
            },
        )
        .unwrap();
        assert_eq!(done.resource().value()["lifecycleStatus"], "completed");
    }
    assert!(patient::read_goal(built.resource()).is_none());
    assert!(patient::read_medication(&obs("o1", "1")).is_none());
}

#[test]
fn notes_point_at_the_item_and_never_alter_it() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let original = obs("o1", "1.50");
    let original_bytes = original.raw().to_string();
    r.apply_import(&a, page("a", vec![original]), T0).unwrap();
    let item = EntryKey::new(a.clone(), ResourceKey::new("Observation", "o1"));
    let about = r.reference_to(&item).unwrap();
    assert_eq!(about, "https://a.example.org/fhir/Observation/o1");

    let n = patient::note(
        &auth(20),
        &NoteInput {
            about: about.clone(),
            about_display: Some("Lab result".into()),
            text: "Taken after a big meal — ask the doctor".into(),
            title: Some("Context".into()),
        },
    )
    .unwrap();
    let v = check_authored(&n, "DocumentReference");
    assert_eq!(v["status"], "current");
    assert_eq!(v["type"]["coding"][0]["code"], patient::PATIENT_NOTE_LOINC);
    assert_eq!(v["context"]["related"][0]["reference"], about);
    assert_eq!(v["author"][0]["reference"], PATIENT);
    assert_eq!(
        v["content"][0]["attachment"]["contentType"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        patient::note_text(n.resource()).as_deref(),
        Some("Taken after a big meal — ask the doctor")
    );
    assert_eq!(
        patient::note_target(n.resource()).as_deref(),
        Some(about.as_str())
    );

    assert_eq!(r.put_patient_item(n).unwrap(), PutOutcome::Added);
    assert_eq!(r.get(&item).unwrap().resource().raw(), original_bytes);
    // Only the patient's chunk and the source list changed, not the provider's chunk.
    assert!(!r.dirty_segments().is_empty());
    assert_eq!(patient::note_text(r.get(&item).unwrap().resource()), None);
}

#[test]
fn patient_items_can_be_edited_and_deleted_ehr_items_cannot() {
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    r.apply_import(&a, page("a", vec![obs("o1", "1")]), T0)
        .unwrap();

    let item = patient::medication_statement(&auth(1), &vitamin_d()).unwrap();
    assert_eq!(r.put_patient_item(item.clone()).unwrap(), PutOutcome::Added);
    assert!(matches!(
        r.put_patient_item(item),
        Err(RecordError::AlreadyExists)
    ));
    let key = EntryKey::new(
        SourceId::patient(),
        ResourceKey::new("MedicationStatement", &uuid(1)),
    );
    assert_eq!(r.source(&SourceId::patient()).unwrap().added_at, T0);

    let mut changed = vitamin_d();
    changed.status = MedicationStatus::Stopped;
    let edit = Authoring::new(&uuid(1), PATIENT, T1).editing();
    let edited = patient::medication_statement(&edit, &changed).unwrap();
    assert_eq!(edited.activity(), Activity::Update);
    assert_eq!(
        r.put_patient_item(edited.clone()).unwrap(),
        PutOutcome::Replaced
    );
    let e = r.get(&key).unwrap();
    assert_eq!(e.resource().raw(), edited.resource().raw());
    assert_eq!(e.updated_at(), Some(T1));
    assert_eq!(e.fetched_at(), T0);
    assert_eq!(
        e.authored_provenance().unwrap().value()["activity"]["coding"][0]["code"],
        "UPDATE"
    );
    assert_eq!(r.len(), 2);

    // Editing something that does not exist is refused.
    let ghost =
        patient::medication_statement(&Authoring::new(&uuid(99), PATIENT, T1).editing(), &changed)
            .unwrap();
    assert!(matches!(
        r.put_patient_item(ghost),
        Err(RecordError::NotFound { .. })
    ));

    // EHR items can't be deleted; patient items can.
    let ehr_item = EntryKey::new(a, ResourceKey::new("Observation", "o1"));
    assert!(matches!(
        r.delete_patient_item(&ehr_item),
        Err(RecordError::NotPatientEntered)
    ));
    let removed = r.delete_patient_item(&key).unwrap();
    assert_eq!(removed.resource().resource_type(), "MedicationStatement");
    assert!(r.get(&key).is_none());
    assert_eq!(r.len(), 1);
}

#[test]
fn any_other_resource_can_be_entered_with_patast() {
    let a = patient::patient_resource(
        &auth(30),
        &json!({"resourceType": "AllergyIntolerance", "code": {"text": "Peanuts"},
                "meta": {"security": [{"system": "x", "code": "y"}]}}),
    )
    .unwrap();
    check_authored(&a, "AllergyIntolerance");
    // The existing label is kept, PATAST added after it.
    let sec = &a.resource().value()["meta"]["security"];
    assert_eq!(sec[0]["code"], "y");
    assert_eq!(sec[1]["code"], "PATAST");
    assert_eq!(a.resource().id(), Some(uuid(30).as_str()));
    assert!(patient::patient_resource(&auth(31), &json!({"resourceType": "Bundle"})).is_err());
    assert!(patient::patient_resource(&auth(31), &json!([1])).is_err());
}

#[test]
fn provenance_ids_differ_per_edit() {
    let m = vitamin_d();
    let p1 = patient::medication_statement(&auth(1), &m).unwrap();
    let p2 = patient::medication_statement(&Authoring::new(&uuid(1), PATIENT, T1).editing(), &m)
        .unwrap();
    assert_ne!(p1.provenance().id(), p2.provenance().id());
    // Deterministic: the same inputs give the same bytes.
    let again = patient::medication_statement(&auth(1), &m).unwrap();
    assert_eq!(p1.resource().raw(), again.resource().raw());
    assert_eq!(p1.provenance().raw(), again.provenance().raw());
}

#[test]
fn a_provider_prescription_becomes_the_patients_own_tracking_based_on_it() {
    let request = phr_fhir::Resource::from_json(
        r#"{"resourceType":"MedicationRequest","id":"rx1","status":"active","intent":"order",
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"314076","display":"lisinopril 10 MG Oral Tablet"}],"text":"Lisinopril 10 mg tablet"},
        "authoredOn":"2019-02-10T09:30:00Z","reasonCode":[{"text":"High blood pressure"}],
        "dosageInstruction":[{"text":"Take 1 tablet by mouth once daily","timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}},
        "doseAndRate":[{"doseQuantity":{"value":1,"unit":"tablet","system":"http://unitsofmeasure.org","code":"{tbl}"}}]}]}"#,
    )
    .unwrap();
    let mut m = patient::medication_from_request(&request, None).unwrap();
    assert_eq!(m.name, "Lisinopril 10 mg tablet");
    assert_eq!(m.coding[0].code.as_deref(), Some("314076"));
    assert_eq!(m.status, MedicationStatus::Active);
    assert_eq!(m.started.as_deref(), Some("2019-02-10"));
    assert_eq!(m.reason.as_deref(), Some("High blood pressure"));
    assert_eq!(m.schedule.times_per_day, Some(1));
    assert_eq!(m.schedule.dose.as_ref().unwrap().unit, "tablet");
    assert_eq!(
        m.schedule.text.as_deref(),
        Some("Take 1 tablet by mouth once daily"),
        "the prescription's own words, to read while choosing times"
    );
    assert_eq!(m.based_on, None, "the caller names the prescription");

    // The patient picks a time; the MedicationStatement is theirs and points at the request.
    m.based_on = Some("https://ehr.example/fhir/MedicationRequest/rx1".into());
    m.schedule.times_of_day = vec!["08:00".into()];
    m.schedule.times_per_day = None;
    m.schedule.text = None;
    let built = patient::medication_statement(&auth(4), &m).unwrap();
    let v = built.resource().value();
    assert_eq!(
        v["basedOn"][0]["reference"],
        "https://ehr.example/fhir/MedicationRequest/rx1"
    );
    assert_eq!(
        v["informationSource"]["reference"],
        v["subject"]["reference"]
    );
    let read = patient::read_medication(built.resource()).unwrap();
    assert_eq!(read.based_on, m.based_on);
    let again = patient::medication_statement(&auth(4).editing(), &read).unwrap();
    assert_eq!(again.resource().raw(), built.resource().raw());

    // Only a MedicationRequest with a name qualifies.
    assert!(patient::medication_from_request(built.resource(), None).is_none());
    let unnamed = phr_fhir::Resource::from_json(
        r#"{"resourceType":"MedicationRequest","id":"rx2","status":"active","intent":"order","medicationReference":{"reference":"Medication/m1"}}"#,
    )
    .unwrap();
    assert!(patient::medication_from_request(&unnamed, None).is_none());
    assert_eq!(
        patient::medication_from_request(&unnamed, Some("Metformin 500 mg"))
            .unwrap()
            .name,
        "Metformin 500 mg"
    );
}
