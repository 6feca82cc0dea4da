//! Helpers shared by the integration tests.
#![allow(dead_code)]

use phr_fhir::Resource;
use phr_record::{Record, Source, SourceId};

pub const T0: &str = "2024-05-01T08:00:00Z";
pub const T1: &str = "2024-05-02T08:00:00Z";
pub const T2: &str = "2024-05-03T08:00:00Z";
pub const PATIENT: &str = "Patient/p1";

/// An Observation with a given id and value; the text has deliberate quirks (a decimal with a
/// trailing zero, an escape, an unknown element) that any re-serialisation would change.
pub fn obs(id: &str, value: &str) -> Resource {
    Resource::from_json(format!(
        "{{\"resourceType\":\"Observation\",\"id\":\"{id}\",\"status\":\"final\",\
         \"code\":{{\"text\":\"caf\\u00e9 {id}\"}},\"valueQuantity\":{{\"value\":{value},\"unit\":\"mg\"}},\
         \"futureElement\": [1, 2.000, null]}}"
    ))
    .unwrap()
}

/// An Observation without an id.
pub fn anon(value: &str) -> Resource {
    Resource::from_json(format!(
        "{{\"resourceType\":\"Observation\",\"status\":\"final\",\"valueQuantity\":{{\"value\":{value}}}}}"
    ))
    .unwrap()
}

pub fn ehr(record: &mut Record, provider: &str) -> SourceId {
    ehr_with(record, provider, false)
}

pub fn ehr_with(record: &mut Record, provider: &str, part2: bool) -> SourceId {
    let s = Source::ehr(
        provider,
        &format!("{provider} Clinic"),
        &format!("https://{provider}.example.org/fhir/"),
        part2,
        T0,
    )
    .unwrap();
    let id = s.id.clone();
    record.add_source(s).unwrap();
    id
}

pub fn page(source: &str, items: Vec<Resource>) -> Vec<(Resource, String)> {
    items
        .into_iter()
        .map(|r| {
            (
                r,
                format!("https://{source}.example.org/fhir/Observation?patient=p1"),
            )
        })
        .collect()
}

/// A lowercase UUID from a small number (test ids).
pub fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// Saves everything pending, returning the segments as the vault would hold them.
pub fn save_all(record: &mut Record, store: &mut std::collections::BTreeMap<String, Vec<u8>>) {
    let plan = record.pending_save();
    for name in &plan.write {
        store.insert(name.clone(), record.encode_segment(name).unwrap());
    }
    for name in &plan.delete {
        assert!(
            store.remove(name).is_some(),
            "deleting {name}, which was never written"
        );
    }
    record.mark_saved(&plan);
}
