mod common;

use common::*;
use phr_views::{Activity, Category, Index, SourceKind, When};
use serde_json::json;

#[test]
fn parses_the_fixture_record_into_items() {
    let rec = fixture_record();
    let index = rec.index();
    assert_eq!(index.len(), rec.entries.len());
    assert_eq!(index.sources().len(), 4);

    let a1c = index.find(&rec.key_of("gh-a1c-2")).unwrap();
    let it = index.item(a1c);
    assert_eq!(it.category(), Category::LabResult);
    assert_eq!(it.title(), "Hemoglobin A1c/Hemoglobin.total in Blood");
    assert_eq!(it.detail(), "6.4 %");
    assert_eq!(it.status(), "final");
    assert_eq!(it.code_in("http://loinc.org"), Some("4548-4"));
    assert_eq!(it.source().label, GH);
    assert_eq!(it.date().unwrap().to_string(), "2023-03-05 08:05");
    assert!(!it.patient_reported());

    let bp = index.item(index.find(&rec.key_of("gh-bp-2")).unwrap());
    assert_eq!(bp.category(), Category::VitalSign);
    assert_eq!(bp.detail(), "128/82 mmHg");

    let htn = index.item(index.find(&rec.key_of("gh-htn")).unwrap());
    assert_eq!(htn.category(), Category::Problem);
    assert_eq!(htn.activity(), Activity::Active);
    let bronch = index.item(index.find(&rec.key_of("gh-bronch")).unwrap());
    assert_eq!(bronch.activity(), Activity::Ended);
    assert_eq!(bronch.end_date().unwrap().day().to_string(), "2019-02-10");

    let err = index.item(index.find(&rec.key_of("gh-err")).unwrap());
    assert!(err.entered_in_error());

    // Medication through a reference to a Medication resource of the same source.
    let met = index.item(index.find(&rec.key_of("gh-metformin")).unwrap());
    assert_eq!(
        met.title(),
        "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"
    );
    assert_eq!(
        met.code_in("http://www.nlm.nih.gov/research/umls/rxnorm"),
        Some("860975")
    );
    assert_eq!(met.activity(), Activity::Paused);

    // Contained Medication.
    let aug = index.item(index.find(&rec.key_of("bh-augmentin")).unwrap());
    assert_eq!(
        aug.title(),
        "Amoxicillin 875 MG / Clavulanate 125 MG Oral Tablet"
    );

    let allergy = index.item(index.find(&rec.key_of("gh-allergy-amox")).unwrap());
    assert_eq!(allergy.detail(), "Hives; high criticality");

    let patient = index.item(index.find(&rec.key_of("gh-patient")).unwrap());
    assert_eq!(patient.category(), Category::Directory);
    assert_eq!(patient.title(), "Zoë Ann Müller");

    let claim = index.item(index.find(&rec.key_of("gh-claim")).unwrap());
    assert_eq!(claim.category(), Category::Billing);
    assert_eq!(claim.date().unwrap().day().to_string(), "2023-03-05");
}

#[test]
fn patient_entered_items_are_always_flagged() {
    let rec = fixture_record();
    let index = rec.index();
    for it in index.items() {
        let from_patient = it.source().kind == SourceKind::Patient;
        if from_patient {
            assert!(it.patient_reported(), "{}", it.key());
        }
    }
    // PATAST alone (any source kind) flags an item too.
    let rec = record_of(
        SourceKind::File,
        vec![
            json!({"resourceType":"Observation","id":"o","meta":{"security":[
            {"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"PATAST"}]},
            "status":"final","code":{"text":"Mood"},"valueString":"Good"}),
        ],
    );
    let index = rec.index();
    assert!(index.items().next().unwrap().patient_reported());
}

#[test]
fn malformed_resources_become_items_with_a_note() {
    let rec = fixture_record();
    let index = rec.index();
    let bad = index.item(index.find(&rec.key_of("gh-bad")).unwrap());
    assert_eq!(bad.note(), Some(phr_views::index::NOTE_PARTIAL));
    // What could be read leniently is still there.
    assert_eq!(bad.title(), "Hemoglobin [Mass/volume] in Blood");
    assert_eq!(bad.category(), Category::LabResult);
    assert_eq!(bad.date().unwrap().day().to_string(), "2023-03-05");

    // Something with nothing readable at all.
    let rec = record_of(
        SourceKind::Ehr,
        vec![json!({"resourceType":"Observation","id":"x","code":7,"status":["odd"]})],
    );
    let index = rec.index();
    let it = index.items().next().unwrap();
    assert_eq!(it.note(), Some(phr_views::index::NOTE_UNREADABLE));
    assert_eq!(it.title(), "Observation");
}

#[test]
fn keys_are_addressable_and_debug_hides_content() {
    let rec = fixture_record();
    let index = rec.index();
    for e in &rec.entries {
        let id = index.find(&e.key).expect("every key is found");
        assert_eq!(index.item(id).key(), e.key);
    }
    assert_eq!(index.find("nope"), None);
    let dbg = format!("{index:?}");
    assert!(!dbg.contains("Müller") && !dbg.contains("Atorvastatin"));
}

/// A deterministic generator of Synthea-like resources (xorshift, seeded).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const LABS: &[(&str, &str, &str)] = &[
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL"),
    (
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        "mg/dL",
    ),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL"),
    (
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        "10*3/uL",
    ),
    (
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        "mg/dL",
    ),
    ("29463-7", "Body Weight", "kg"),
    ("8867-4", "Heart rate", "/min"),
];

fn synthetic(n: usize) -> (common::Record, usize) {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut rec = common::Record::new();
    let a = rec.source("ehr:a", "Demo General Hospital", SourceKind::Ehr);
    let b = rec.source("ehr:b", "Demo Behavioral Health Clinic", SourceKind::Ehr);
    let me = rec.source("patient", "You", SourceKind::Patient);
    let mut raw = 0;
    for i in 0..n {
        let src = match i % 10 {
            0..=5 => a,
            6..=8 => b,
            _ => me,
        };
        let day = 1 + (g.next() % 28);
        let month = 1 + (g.next() % 12);
        let year = 2010 + (g.next() % 14);
        let when = format!(
            "{year}-{month:02}-{day:02}T{:02}:{:02}:00-05:00",
            g.next() % 24,
            g.next() % 60
        );
        let v = match i % 7 {
            0 => json!({"resourceType":"Condition","id":format!("c{i}"),
                "clinicalStatus":{"coding":[{"code":g.pick(&["active","resolved"])}]},
                "code":{"coding":[{"system":"http://snomed.info/sct","code":format!("{}", 10000 + g.next() % 300),
                    "display":g.pick(&["Hypertension","Asthma","Otitis media","Sprain of ankle","Anemia"])}]},
                "onsetDateTime":when}),
            1 => json!({"resourceType":"MedicationRequest","id":format!("m{i}"),
                "status":g.pick(&["active","stopped","completed"]),"intent":"order",
                "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code":format!("{}", 300000 + g.next() % 200),"display":g.pick(&["Lisinopril 10 MG","Metformin 500 MG","Amlodipine 5 MG"])}]},
                "authoredOn":when}),
            2 => json!({"resourceType":"Encounter","id":format!("e{i}"),"status":"finished",
                "class":{"code":"AMB"},"type":[{"coding":[{"system":"http://snomed.info/sct","code":"185349003","display":"Encounter for check up"}]}],
                "period":{"start":when}}),
            _ => {
                let (code, display, unit) = LABS[(g.next() % LABS.len() as u64) as usize];
                let value = (g.next() % 2000) as f64 / 10.0;
                json!({"resourceType":"Observation","id":format!("o{i}"),"status":"final",
                    "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
                    "code":{"coding":[{"system":"http://loinc.org","code":code,"display":display}],"text":display},
                    "effectiveDateTime":when,"issued":when,
                    "valueQuantity":{"value":value,"unit":unit,"system":"http://unitsofmeasure.org","code":unit},
                    "referenceRange":[{"low":{"value":1.0,"unit":unit},"high":{"value":150.0,"unit":unit}}]})
            }
        };
        let key = rec.add_json(src, v);
        raw += rec.entry_mut(&key).resource.raw().len();
    }
    (rec, raw)
}

#[test]
fn twenty_thousand_resources_index_correctly_and_compactly() {
    let (rec, raw_bytes) = synthetic(20_000);
    let index = rec.index();
    assert_eq!(index.len(), 20_000);
    // Every entry is addressable and its text came from its own resource.
    for e in rec.entries.iter().step_by(97) {
        let it = index.item(index.find(&e.key).unwrap());
        assert_eq!(it.key(), e.key);
        assert_eq!(it.resource_type(), e.resource.resource_type());
        let v = e.resource.value();
        let when = v
            .get("effectiveDateTime")
            .or(v.get("onsetDateTime"))
            .or(v.get("authoredOn"))
            .or(v.pointer("/period/start"))
            .and_then(|x| x.as_str())
            .unwrap();
        assert_eq!(it.date(), When::parse(when));
        if e.resource.resource_type() == "Observation" {
            let num = v.pointer("/valueQuantity/value").unwrap().to_string();
            assert!(it.detail().starts_with(&num), "{} vs {}", it.detail(), num);
        }
    }
    // Every item is in exactly one group.
    let mut seen = vec![0u8; index.len()];
    for g in 0..index.group_count() {
        for &m in index.group_members(phr_views::GroupId(g as u32)) {
            seen[m as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&c| c == 1));
    // The index is much smaller than the resources it was built from.
    let heap = index.heap_size();
    assert!(
        heap * 2 < raw_bytes,
        "index {heap} bytes vs resources {raw_bytes} bytes"
    );
    // And a full timeline with a search works over all of it.
    let all = phr_views::timeline::timeline(&index, &Default::default());
    assert!(all.len() > 10_000);
    let filter = phr_views::timeline::TimelineFilter {
        text: "hemoglobin a1c".into(),
        ..Default::default()
    };
    let hits = phr_views::timeline::timeline(&index, &filter);
    assert!(!hits.is_empty());
    for g in hits.iter().take(200) {
        let row = index.row(*g, false).unwrap();
        assert!(row.title.to_lowercase().contains("hemoglobin a1c"));
    }
    let expected = rec
        .entries
        .iter()
        .filter(|e| e.resource.raw().contains("Hemoglobin A1c"))
        .count();
    let members: usize = hits.iter().map(|g| index.group_members(*g).len()).sum();
    assert_eq!(members, expected);
    // The cached form answers the same at this scale.
    let back = Index::from_bytes(&index.to_bytes()).expect("round trip");
    assert_eq!(phr_views::timeline::timeline(&back, &filter), hits);
    assert_eq!(
        phr_views::timeline::timeline(&back, &Default::default()),
        all
    );
    for g in (0..index.group_count() as u32).step_by(7) {
        let g = phr_views::GroupId(g);
        assert_eq!(back.row(g, true), index.row(g, true));
    }
    for e in rec.entries.iter().step_by(13) {
        assert_eq!(back.find(&e.key), index.find(&e.key));
    }
    let opts =
        phr_views::summary::SummaryOptions::new(phr_views::Day::from_ymd(2024, 1, 1).unwrap());
    assert_eq!(
        phr_views::summary::summary(&back, &opts),
        phr_views::summary::summary(&index, &opts)
    );
}

#[test]
fn empty_index_is_fine() {
    let index = Index::build(Vec::new());
    assert!(index.is_empty());
    assert!(phr_views::timeline::timeline(&index, &Default::default()).is_empty());
    let s = phr_views::summary::summary(
        &index,
        &phr_views::summary::SummaryOptions::new(phr_views::Day::from_ymd(2024, 1, 1).unwrap()),
    );
    assert!(s.medications.is_empty() && s.emergency_card.name.is_none());
}

#[test]
fn escaped_text_is_decoded_and_unused_elements_are_skipped() {
    // Strings with JSON escapes take the copying path of the lean reading; narratives,
    // extensions and base64 content are skipped without being built, whatever their size.
    let big = "QUJD".repeat(50_000);
    let mut rec = record_of(
        SourceKind::Ehr,
        vec![
            json!({"resourceType":"DocumentReference","id":"d1","status":"current",
                "type":{"text":"Note"},"date":"2024-01-02",
                "content":[{"attachment":{"contentType":"text/plain","data":big,"title":"T\u{e9}st"}},
                           {"attachment":{"contentType":"text/plain","data":""}}]}),
        ],
    );
    // Written by hand: the decimal keeps its digits (`1.50`) and the escapes are as sent.
    let raw = r#"{"resourceType":"Observation","id":"o1","status":"final",
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
        "extension":[{"url":"http://example.org/x","valueString":"y"}],
        "code":{"text":"Caf\u00e9 \"quoted\" \\ test\n","coding":[{"system":"http://loinc.org","code":"  1234-5 "}]},
        "effectiveDateTime":"2024-03-05",
        "valueQuantity":{"value":1.50,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}"#;
    rec.add(0, phr_fhir::Resource::from_json(raw).unwrap());
    // The escapes really are in the stored text.
    assert!(rec.entries[1].resource.raw().contains(r#"\"quoted\""#));
    let index = rec.index();
    let o = index.item(index.find(&rec.key_of("o1")).unwrap());
    assert_eq!(o.title(), "Café \"quoted\" \\ test");
    assert_eq!(o.code_in("http://loinc.org"), Some("1234-5"));
    assert_eq!(o.detail(), "1.50 mmHg");
    assert_eq!(o.note(), None);
    let d = index.find(&rec.key_of("d1")).unwrap();
    let att = phr_views::lists::attachments(&index, d);
    assert_eq!(att.len(), 2);
    assert!(att[0].included && !att[1].included);
    assert_eq!(att[0].title.as_deref(), Some("Tést"));
}

#[test]
fn a_key_given_twice_finds_the_first_entry() {
    let mut rec = record_of(
        SourceKind::Ehr,
        vec![
            json!({"resourceType":"Condition","id":"c1","code":{"text":"First"}}),
            json!({"resourceType":"Condition","id":"c1","code":{"text":"Second"}}),
        ],
    );
    assert_eq!(rec.entries[0].key, rec.entries[1].key);
    rec.entries[1].hidden = true;
    let index = rec.index();
    let id = index.find(&rec.entries[0].key).unwrap();
    assert_eq!(id.0, 0);
    assert_eq!(index.item(id).title(), "First");
    assert_eq!(index.find("no such key"), None);
}
