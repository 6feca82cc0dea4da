//! Shared test helpers: the fixture record (three sources plus the patient's own entries) and
//! small hand-built records.
#![allow(dead_code)]

use phr_fhir::{parse_bundle, Resource};
use phr_views::{Index, SourceKind, SourceRef, ViewItem};

pub const GH: &str = "Demo General Hospital";
pub const BH: &str = "Demo Behavioral Health Clinic";
pub const FILE: &str = "Clinic abroad (file)";
pub const YOU: &str = "You";

pub struct Entry {
    pub key: String,
    pub resource: Resource,
    pub source: usize,
    pub hidden: bool,
    pub gone: bool,
}

/// A record as the app would hold it.
pub struct Record {
    pub sources: Vec<(String, String, SourceKind)>,
    pub entries: Vec<Entry>,
}

impl Record {
    pub fn new() -> Record {
        Record {
            sources: Vec::new(),
            entries: Vec::new(),
        }
    }

    pub fn source(&mut self, id: &str, label: &str, kind: SourceKind) -> usize {
        self.sources.push((id.into(), label.into(), kind));
        self.sources.len() - 1
    }

    pub fn add(&mut self, source: usize, r: Resource) -> String {
        let key = format!(
            "{}/{}/{}",
            self.sources[source].0,
            r.resource_type(),
            r.id().unwrap_or("noid")
        );
        self.entries.push(Entry {
            key: key.clone(),
            resource: r,
            source,
            hidden: false,
            gone: false,
        });
        key
    }

    pub fn add_json(&mut self, source: usize, v: serde_json::Value) -> String {
        self.add(source, Resource::from_value(&v).expect("valid resource"))
    }

    pub fn add_bundle(&mut self, source: usize, text: &str) {
        let parsed = parse_bundle(text).expect("fixture bundle parses");
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        for r in parsed.resources {
            self.add(source, r);
        }
    }

    pub fn entry_mut(&mut self, key: &str) -> &mut Entry {
        self.entries
            .iter_mut()
            .find(|e| e.key == key)
            .expect("entry exists")
    }

    pub fn items(&self) -> Vec<ViewItem<'_>> {
        self.entries
            .iter()
            .map(|e| {
                let (id, label, kind) = &self.sources[e.source];
                ViewItem {
                    key: &e.key,
                    resource: &e.resource,
                    source: SourceRef {
                        id,
                        label,
                        kind: *kind,
                    },
                    hidden: e.hidden,
                    gone_at_source: e.gone,
                }
            })
            .collect()
    }

    pub fn index(&self) -> Index {
        Index::build(self.items())
    }

    /// Key of the entry whose resource id is `seed` (the fixtures use readable ids).
    pub fn key_of(&self, seed: &str) -> String {
        self.entries
            .iter()
            .find(|e| e.resource.id() == Some(seed))
            .map(|e| e.key.clone())
            .unwrap_or_else(|| panic!("no entry for {seed}"))
    }
}

/// The full fixture record: two EHRs, an imported file and the patient's own entries.
pub fn fixture_record() -> Record {
    let mut r = Record::new();
    let gh = r.source("ehr:demo-general", GH, SourceKind::Ehr);
    let bh = r.source("ehr:demo-behavioral", BH, SourceKind::Ehr);
    let file = r.source("file:abroad", FILE, SourceKind::File);
    let me = r.source("patient", YOU, SourceKind::Patient);
    r.add_bundle(gh, include_str!("../fixtures/general-hospital.json"));
    r.add_bundle(bh, include_str!("../fixtures/behavioral-clinic.json"));
    r.add_bundle(file, include_str!("../fixtures/file-import.json"));
    r.add_bundle(me, include_str!("../fixtures/patient-entered.json"));
    r
}

/// A one-source record from JSON values.
pub fn record_of(kind: SourceKind, resources: Vec<serde_json::Value>) -> Record {
    let mut r = Record::new();
    let s = r.source("src", "Source", kind);
    for v in resources {
        r.add_json(s, v);
    }
    r
}
pub mod fingerprint;
pub mod random;
