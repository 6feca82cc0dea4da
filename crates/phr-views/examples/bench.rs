//! Native timing of the index over 20,000 Synthea-like resources (no assertions; tests check
//! correctness). Run: `cargo run --release -p phr-views --example bench`.
//!
//! Measured on the 2-core development machine (release, native), 20,000 resources of ~1 KB:
//! building the index 0.10 s (0.17 s before the lean reading, see `synthea.rs` for real data); the
//! index holds 3.8 MiB for 19.4 MiB of resources (20 %); a search
//! keystroke 1–2 ms (one outlier at 5 ms); the unfiltered timeline 0.2 ms; the summary 6 ms;
//! all charts 45 ms. WebAssembly in a browser is typically 1.5–3× slower, which keeps a keystroke
//! well inside the 16 ms budget.

use std::time::Instant;

use phr_fhir::Resource;
use phr_views::charts::{charts, ChartOptions};
use phr_views::summary::{summary, SummaryOptions};
use phr_views::timeline::{timeline, TimelineFilter};
use phr_views::{Day, Index, SourceKind, SourceRef, ViewItem};
use serde_json::json;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
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
    ("2571-8", "Triglycerides", "mg/dL"),
    ("29463-7", "Body Weight", "kg"),
    ("8867-4", "Heart rate", "/min"),
    ("9279-1", "Respiratory rate", "/min"),
];

fn resource(i: usize, rng: &mut Rng) -> Resource {
    let when = format!(
        "{}-{:02}-{:02}T{:02}:{:02}:00-05:00",
        2005 + rng.next() % 19,
        1 + rng.next() % 12,
        1 + rng.next() % 28,
        rng.next() % 24,
        rng.next() % 60
    );
    let meta = json!({"versionId":"1","lastUpdated":"2024-01-01T00:00:00.000Z",
        "profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]});
    let v = if i % 8 < 6 {
        let (code, display, unit) = LABS[(rng.next() % LABS.len() as u64) as usize];
        json!({"resourceType":"Observation","id":format!("{:032x}", i as u128 * 7919),"meta":meta,
            "status":"final",
            "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}],
            "code":{"coding":[{"system":"http://loinc.org","code":code,"display":display}],"text":display},
            "subject":{"reference":"urn:uuid:6e2a1b3c-0000-4000-8000-000000000001"},
            "encounter":{"reference":format!("urn:uuid:{:032x}", i / 8)},
            "effectiveDateTime":when,"issued":when,
            "valueQuantity":{"value":(rng.next() % 2000) as f64 / 10.0,"unit":unit,"system":"http://unitsofmeasure.org","code":unit},
            "referenceRange":[{"low":{"value":1.0,"unit":unit,"system":"http://unitsofmeasure.org","code":unit},
                               "high":{"value":150.0,"unit":unit,"system":"http://unitsofmeasure.org","code":unit}}]})
    } else if i % 8 == 6 {
        json!({"resourceType":"Encounter","id":format!("{:032x}", i),"meta":meta,"status":"finished",
            "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
            "type":[{"coding":[{"system":"http://snomed.info/sct","code":"185349003","display":"Encounter for check up (procedure)"}],"text":"Encounter for check up (procedure)"}],
            "subject":{"reference":"urn:uuid:6e2a1b3c-0000-4000-8000-000000000001","display":"Mrs. Zoë Müller"},
            "participant":[{"individual":{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999912345","display":"Dr. Rosa Lee"}}],
            "period":{"start":when,"end":when},
            "serviceProvider":{"reference":"Organization?identifier=https://github.com/synthetichealth/synthea|abc","display":"Demo General Hospital"}})
    } else {
        json!({"resourceType":"Condition","id":format!("{:032x}", i),"meta":meta,
            "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
            "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
            "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis","display":"Encounter Diagnosis"}]}],
            "code":{"coding":[{"system":"http://snomed.info/sct","code":format!("{}", 100000 + rng.next() % 400),"display":"Viral sinusitis (disorder)"}],"text":"Viral sinusitis (disorder)"},
            "subject":{"reference":"urn:uuid:6e2a1b3c-0000-4000-8000-000000000001"},
            "onsetDateTime":when,"recordedDate":when})
    };
    Resource::from_value(&v).expect("valid")
}

fn main() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let resources: Vec<(String, Resource)> = (0..20_000)
        .map(|i| (format!("ehr:demo/{i}"), resource(i, &mut rng)))
        .collect();
    let raw: usize = resources.iter().map(|(_, r)| r.raw().len()).sum();
    let items: Vec<ViewItem<'_>> = resources
        .iter()
        .map(|(k, r)| ViewItem {
            key: k,
            resource: r,
            source: SourceRef {
                id: "ehr:demo",
                label: "Demo General Hospital",
                kind: SourceKind::Ehr,
            },
            hidden: false,
            gone_at_source: false,
        })
        .collect();
    let t = Instant::now();
    let index = Index::build(items);
    println!(
        "build: {:?}; resources {} KiB, index {} KiB",
        t.elapsed(),
        raw / 1024,
        index.heap_size() / 1024
    );
    let mut typed = String::new();
    for c in "hemoglobin a1c 6".chars() {
        typed.push(c);
        let f = TimelineFilter {
            text: typed.clone(),
            ..Default::default()
        };
        let t = Instant::now();
        let n = timeline(&index, &f).len();
        println!("keystroke {typed:?}: {n} rows in {:?}", t.elapsed());
    }
    let t = Instant::now();
    let n = timeline(&index, &TimelineFilter::default()).len();
    println!("unfiltered timeline: {n} rows in {:?}", t.elapsed());
    let t = Instant::now();
    let s = summary(
        &index,
        &SummaryOptions::new(Day::from_ymd(2024, 1, 1).unwrap()),
    );
    println!(
        "summary: {} problems, {} results in {:?}",
        s.problems.len(),
        s.recent_results.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let c = charts(&index, &ChartOptions::default());
    println!("charts: {} in {:?}", c.len(), t.elapsed());
}
