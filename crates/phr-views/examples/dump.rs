//! Prints the fingerprint (see `tests/common/fingerprint.rs`) of an index over the test fixtures
//! plus the demo EHR's Synthea data, with copies in a file and a patient source and some hidden
//! and gone entries. Used to check that a change to the index build changes no answer:
//! `cargo run --release -p phr-views --example dump [DIR] > before.txt`, change, run again, diff.

#[path = "../tests/common/mod.rs"]
mod common;

use phr_fhir::Resource;
use phr_views::{Day, Index, SourceKind};

fn load(path: &std::path::Path) -> Vec<Resource> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| Resource::from_json(l).ok())
        .collect()
}

/// The robustness test's random resources: odd shapes of every kind (partial, unreadable).
fn random_record() -> common::Record {
    let mut rng = common::random::Rng(0x0123_4567_89AB_CDEF);
    let types = [
        "Observation",
        "Condition",
        "AllergyIntolerance",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationAdministration",
        "Immunization",
        "Procedure",
        "Encounter",
        "DiagnosticReport",
        "DocumentReference",
        "Goal",
        "CareTeam",
        "Patient",
        "Practitioner",
        "Device",
        "Claim",
        "Basic",
    ];
    common::random::random_record(&mut rng, 3_000, 3_000, &types, common::random::KEYS)
}

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "sandbox/data".into()),
    );
    let today = Day::from_ymd(2024, 6, 1).expect("valid day");
    if dir.as_os_str() == "random" {
        let rec = random_record();
        let index = Index::build(rec.items());
        print!("{}", common::fingerprint::fingerprint(&index, today, &[]));
        return;
    }
    let mut rec = common::fixture_record();
    let general = rec.source("ehr:synthea-general", "Synthea General", SourceKind::Ehr);
    let clinic = rec.source("ehr:synthea-clinic", "Synthea Clinic", SourceKind::Ehr);
    let file = rec.source("file:synthea", "Synthea file", SourceKind::File);
    let me = rec.source("patient:synthea", "You (Synthea)", SourceKind::Patient);
    for (i, r) in load(&dir.join("general.ndjson")).into_iter().enumerate() {
        if i % 37 == 0 {
            rec.add(me, r.clone());
        }
        rec.add(general, r);
    }
    for (i, r) in load(&dir.join("clinic.ndjson")).into_iter().enumerate() {
        if i % 11 == 0 {
            rec.add(file, r.clone());
        }
        rec.add(clinic, r);
    }
    for (i, e) in rec.entries.iter_mut().enumerate() {
        e.hidden = i % 53 == 5;
        e.gone = i % 61 == 7;
    }
    let index = Index::build(rec.items());
    let refs = ["Observation/obs-a1c-1", "urn:uuid:none"];
    print!("{}", common::fingerprint::fingerprint(&index, today, &refs));
    if std::env::args().nth(2).as_deref() == Some("roundtrip") {
        let back = Index::from_bytes(&index.to_bytes()).expect("round trip");
        let again = common::fingerprint::fingerprint(&back, today, &refs);
        eprintln!(
            "round trip identical: {}",
            again == common::fingerprint::fingerprint(&index, today, &refs)
        );
    }
}
