//! Synthetic, realistic-sized resources for scale tests and the load-speed example.
//! Deterministic: resource `i` is always the same text.

use phr_fhir::Resource;
use phr_record::{Record, Source};

/// An Observation of about 2 KB (a typical lab result with narrative), varied by `i`.
pub fn lab(i: usize) -> Resource {
    let value = format!("{}.{:02}", 3 + i % 7, i % 100);
    let words: String = (0..36)
        .map(|w| {
            [
                "glucose",
                "fasting",
                "venous",
                "r\u{e9}sultat",
                "sample",
                "normal",
                "range",
            ][(i + w) % 7]
        })
        .collect::<Vec<_>>()
        .join(" ");
    Resource::from_json(format!(
        concat!(
            "{{\"resourceType\":\"Observation\",\"id\":\"obs-{i}\",",
            "\"meta\":{{\"versionId\":\"{v}\",\"lastUpdated\":\"2023-0{m}-1{d}T10:00:00.000Z\"}},",
            "\"text\":{{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p>{words}</p><p>{words}</p></div>\"}},",
            "\"status\":\"final\",\"category\":[{{\"coding\":[{{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"laboratory\",\"display\":\"Laboratory\"}}]}}],",
            "\"code\":{{\"coding\":[{{\"system\":\"http://loinc.org\",\"code\":\"2345-7\",\"display\":\"Glucose [Mass/volume] in Serum or Plasma\"}}],\"text\":\"Glucose\"}},",
            "\"subject\":{{\"reference\":\"Patient/p1\",\"display\":\"Test Patient\"}},",
            "\"encounter\":{{\"reference\":\"Encounter/e{e}\"}},",
            "\"effectiveDateTime\":\"2023-0{m}-1{d}T09:30:00-05:00\",\"issued\":\"2023-0{m}-1{d}T10:00:00.000-05:00\",",
            "\"performer\":[{{\"reference\":\"Organization/lab1\",\"display\":\"Main Street Laboratory\"}}],",
            "\"valueQuantity\":{{\"value\":{value},\"unit\":\"mmol/L\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mmol/L\"}},",
            "\"interpretation\":[{{\"coding\":[{{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\",\"code\":\"N\",\"display\":\"Normal\"}}]}}],",
            "\"referenceRange\":[{{\"low\":{{\"value\":3.9,\"unit\":\"mmol/L\"}},\"high\":{{\"value\":5.50,\"unit\":\"mmol/L\"}},\"text\":\"3.9-5.5\"}}],",
            "\"note\":[{{\"text\":\"Specimen {i} received in good condition; \\\"fasting\\\" confirmed by patient.\"}}]}}"
        ),
        i = i,
        v = i % 5 + 1,
        m = 1 + i % 9,
        d = i % 10,
        e = i / 20,
        words = words,
        value = value,
    ))
    .expect("synthetic resource is valid")
}

/// A record with `n` synthetic resources spread over three EHR sources.
pub fn record_with(n: usize) -> Record {
    let mut r = Record::new();
    let ids: Vec<_> = ["north", "south", "east"]
        .iter()
        .map(|p| {
            let s = Source::ehr(
                p,
                p,
                &format!("https://{p}.example.org/fhir"),
                false,
                "2024-05-01T08:00:00Z",
            )
            .unwrap();
            let id = s.id.clone();
            r.add_source(s).unwrap();
            id
        })
        .collect();
    for (k, src) in ids.iter().enumerate() {
        let items = (0..n).filter(|i| i % 3 == k).map(|i| {
            (
                lab(i),
                format!("https://x.example.org/fhir/Observation?page={}", i / 50),
            )
        });
        r.apply_import(src, items, "2024-05-01T08:00:00Z").unwrap();
    }
    r
}

/// Every segment of a record, encoded (what the vault would hold after a first save).
pub fn encode_all(r: &Record) -> Vec<(String, Vec<u8>)> {
    r.segment_names()
        .into_iter()
        .map(|n| {
            let b = r.encode_segment(&n).unwrap();
            (n, b)
        })
        .collect()
}
