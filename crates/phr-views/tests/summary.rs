mod common;

use common::*;
use phr_views::results::{RangeFlag, VitalKind};
use phr_views::summary::{
    active_medications, emergency_card, latest_vitals, recent_results, summary, upcoming_goals,
    EmergencyContact, SummaryOptions,
};
use phr_views::{Day, SourceKind};
use serde_json::json;

fn today() -> Day {
    Day::from_ymd(2024, 3, 7).unwrap()
}

#[test]
fn active_medications_from_every_source_once() {
    let rec = fixture_record();
    let index = rec.index();
    let meds = active_medications(&index);
    let titles: Vec<&str> = meds.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
            "Amoxicillin 875 MG / Clavulanate 125 MG Oral Tablet",
            "Atorvastatin 20 MG Oral Tablet",
            "Atorvastatin 20 MG Oral Tablet",
            "Ibuprofen (Advil)",
            "lisinopril 10 MG Oral Tablet",
            "Vitamin D3 1000 IU",
        ]
    );
    // The stopped amoxicillin is not active.
    assert!(!titles.iter().any(|t| t.contains("250 MG")));
    // Metformin is on hold: listed, with its status.
    assert_eq!(meds[0].status, "on-hold");
    // The patient's own atorvastatin (same RxNorm, same day as the hospital's) is the same fact:
    // one row listing both sources, shown from the hospital's copy.
    let gh_atorva = meds
        .iter()
        .find(|r| r.key == rec.key_of("gh-atorva"))
        .unwrap();
    let labels: Vec<&str> = gh_atorva.sources.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, [GH, YOU]);
    assert!(!gh_atorva.patient_reported);
    assert!(gh_atorva.sources[1].patient_reported);
    // Patient-entered medications are flagged on their row.
    let vitd = meds
        .iter()
        .find(|r| r.title == "Vitamin D3 1000 IU")
        .unwrap();
    assert!(vitd.patient_reported);
    assert_eq!(vitd.detail, "1 capsule at 8am and 8pm");
}

#[test]
fn hidden_gone_and_error_entries_are_not_active() {
    let mut rec = fixture_record();
    let lis = rec.key_of("gh-lisin");
    let ibu = rec.key_of("pe-ibu");
    rec.entry_mut(&lis).gone = true;
    rec.entry_mut(&ibu).hidden = true;
    let index = rec.index();
    let meds = active_medications(&index);
    assert!(!meds.iter().any(|r| r.key == lis));
    assert!(!meds.iter().any(|r| r.key == ibu));
    let s = summary(&index, &SummaryOptions::new(today()));
    // The entered-in-error diabetes diagnosis is nowhere.
    assert!(!s.problems.iter().any(|r| r.title.contains("Diabetes")));
}

#[test]
fn allergies_and_problems() {
    let rec = fixture_record();
    let index = rec.index();
    let s = summary(&index, &SummaryOptions::new(today()));
    let allergies: Vec<(&str, usize)> = s
        .allergies
        .iter()
        .map(|r| (r.title.as_str(), r.sources.len()))
        .collect();
    assert_eq!(allergies, [("Amoxicillin", 2), ("Peanut allergy", 1)]);
    assert_eq!(s.allergies[0].detail, "Hives; high criticality");
    let problems: Vec<&str> = s.problems.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        problems,
        [
            "Anxiety disorder (disorder)",
            "Essential hypertension (disorder)",
            "Prediabetes (finding)"
        ]
    );
}

#[test]
fn recent_results_latest_per_test_with_ranges_and_flags() {
    let rec = fixture_record();
    let index = rec.index();
    let results = recent_results(&index, 10);
    let got: Vec<(&str, &str, Option<&str>, RangeFlag)> = results
        .iter()
        .map(|r| {
            (
                r.row.title.as_str(),
                r.value_text.as_str(),
                r.range.as_deref(),
                r.flag,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // 2023-03-05: the latest of each test. HbA1c above its range; creatinine flagged
            // high both by range and interpretation; cholesterol in g/L compared with a range
            // written in mg/dL (converted).
            (
                "Cholesterol [Mass/volume] in Serum or Plasma",
                "2.1 g/L",
                Some("≤ 2 g/L"),
                RangeFlag::High
            ),
            (
                "Creatinine [Mass/volume] in Serum or Plasma",
                "1.32 mg/dL",
                Some("0.6 – 1.2 mg/dL"),
                RangeFlag::High
            ),
            (
                "Glucose [Mass/volume] in Blood",
                "96 mg/dL",
                Some("70 – 99 mg/dL"),
                RangeFlag::Normal
            ),
            (
                "Hemoglobin A1c/Hemoglobin.total in Blood",
                "6.4 %",
                Some("4.0 – 5.6 %"),
                RangeFlag::High
            ),
        ]
    );
    assert_eq!(recent_results(&index, 2).len(), 2);
    // The HbA1c row lists both sources that reported the same result.
    assert_eq!(results[3].row.sources.len(), 2);
}

#[test]
fn latest_vitals_pick_the_newest_value_per_kind() {
    let rec = fixture_record();
    let index = rec.index();
    let vitals = latest_vitals(&index);
    let got: Vec<(VitalKind, &str, bool)> = vitals
        .iter()
        .map(|v| (v.kind, v.value_text.as_str(), v.row.patient_reported))
        .collect();
    assert_eq!(
        got,
        [
            // The patient's own reading (separate systolic/diastolic) is newer than the clinic's.
            (VitalKind::BloodPressure, "131/84 mmHg", true),
            (VitalKind::HeartRate, "72 /min", false),
            (VitalKind::Weight, "176 lb", true),
            (VitalKind::Bmi, "29.5 kg/m²", false),
            (VitalKind::Height, "165.1 cm", false),
            (VitalKind::Temperature, "36.8 °C", false),
        ]
    );
    assert_eq!(vitals[0].keys.len(), 2);
    // Without the patient's entries the newest BP is the clinic's panel.
    let mut rec = fixture_record();
    for e in rec.entries.iter_mut() {
        if e.source == 3 {
            e.hidden = true;
        }
    }
    let index = rec.index();
    let vitals = latest_vitals(&index);
    assert_eq!(vitals[0].value_text, "128/82 mmHg");
    assert_eq!(vitals[0].row.date.unwrap().to_string(), "2023-03-05 07:55");
    assert_eq!(vitals[2].value_text, "80.5 kg");
}

#[test]
fn upcoming_goals_skip_past_due_and_ended() {
    let rec = fixture_record();
    let index = rec.index();
    // On 2024-03-07 the HbA1c goal (due 2024-03-01) is past due; the weight goal is upcoming.
    let goals = upcoming_goals(&index, today());
    let got: Vec<(&str, &str, bool)> = goals
        .iter()
        .map(|g| {
            (
                g.row.title.as_str(),
                g.target.as_str(),
                g.row.patient_reported,
            )
        })
        .collect();
    assert_eq!(
        got,
        [("Lose weight", "Body weight <= 165 lb by 2024-09-01", true)]
    );
    let earlier = upcoming_goals(&index, Day::from_ymd(2024, 1, 1).unwrap());
    let titles: Vec<&str> = earlier.iter().map(|g| g.row.title.as_str()).collect();
    assert_eq!(titles, ["Keep HbA1c below 6.5%", "Lose weight"]);
}

#[test]
fn emergency_card_uses_the_emergency_contact() {
    let rec = fixture_record();
    let index = rec.index();
    let card = emergency_card(&index, None);
    assert_eq!(card.name.as_deref(), Some("Zoë Ann Müller"));
    assert_eq!(card.birth_date.as_deref(), Some("1968-04-12"));
    let c = card.emergency_contact.clone().unwrap();
    // Role "C" (emergency contact) wins over the next-of-kin listed first; the phone, not email.
    assert_eq!(c.name, "Grace Okafor");
    assert_eq!(c.relationship, "Emergency Contact");
    assert_eq!(c.phone.as_deref(), Some("555-123-9876"));
    assert!(!c.patient_entered);
    assert_eq!(card.allergies.len(), 2);
    assert_eq!(card.medications.len(), 7);
    assert!(card
        .medications
        .iter()
        .any(|m| m.text == "Vitamin D3 1000 IU" && m.patient_reported));
    assert_eq!(card.conditions.len(), 3);

    // A contact the patient entered in the app wins.
    let mine = EmergencyContact {
        name: "Ada Lovelace".into(),
        relationship: "Friend".into(),
        phone: Some("555-000-1111".into()),
        patient_entered: true,
    };
    let card = emergency_card(&index, Some(mine.clone()));
    assert_eq!(card.emergency_contact, Some(mine));
}

#[test]
fn emergency_contact_falls_back_to_next_of_kin() {
    let rec = record_of(
        SourceKind::Ehr,
        vec![
            json!({"resourceType":"Patient","id":"p","name":[{"text":"Sam Doe"}],
            "contact":[{"relationship":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0131","code":"E"}]}],"name":{"text":"Boss"},"telecom":[{"value":"1"}]},
                       {"relationship":[{"coding":[{"code":"N"}],"text":"Sister"}],"name":{"text":"Jo Doe"},"telecom":[{"system":"phone","value":"2"}]}]}),
        ],
    );
    let card = emergency_card(&rec.index(), None);
    let c = card.emergency_contact.unwrap();
    assert_eq!((c.name.as_str(), c.phone.as_deref()), ("Jo Doe", Some("2")));
}
