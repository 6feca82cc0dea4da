//! Seeded random FHIR-shaped JSON for the robustness and cache tests (and the `dump` example):
//! odd resources of every kind, partial and unreadable, reproducible from a seed.

use serde_json::{json, Value};

use super::{Record, GH, YOU};
use phr_views::SourceKind;

/// xorshift64: small, seeded, the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Element names the random objects are built from.
pub const KEYS: &[&str] = &[
    "code",
    "coding",
    "system",
    "display",
    "text",
    "value",
    "unit",
    "status",
    "valueQuantity",
    "component",
    "effectiveDateTime",
    "category",
    "reaction",
    "clinicalStatus",
    "dosage",
    "timing",
    "repeat",
    "timeOfDay",
    "meta",
    "security",
];

/// A random JSON value whose objects use `keys` as member names (at most four levels deep).
pub fn random_value(rng: &mut Rng, depth: usize, keys: &[&str]) -> Value {
    match rng.below(if depth > 2 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next() % 1000),
        3 => json!(
            [
                "active",
                "2024-01-01",
                "8480-6",
                "http://loinc.org",
                "",
                "x"
            ][rng.below(6)]
        ),
        4 => json!(1.5),
        5 => Value::Array(
            (0..rng.below(3))
                .map(|_| random_value(rng, depth + 1, keys))
                .collect(),
        ),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.below(4) {
                m.insert(
                    keys[rng.below(keys.len())].into(),
                    random_value(rng, depth + 1, keys),
                );
            }
            Value::Object(m)
        }
    }
}

/// `count` random resources of the given types, every third one the patient's own; resource `i`
/// gets the id `r{i % distinct_ids}` (fewer ids than resources make updates of the same id).
pub fn random_record(
    rng: &mut Rng,
    count: usize,
    distinct_ids: usize,
    types: &[&str],
    keys: &[&str],
) -> Record {
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    let b = rec.source("patient", YOU, SourceKind::Patient);
    for i in 0..count {
        let mut v = match random_value(rng, 0, keys) {
            Value::Object(m) => Value::Object(m),
            _ => json!({}),
        };
        v["resourceType"] = json!(types[rng.below(types.len())]);
        v["id"] = json!(format!("r{}", i % distinct_ids));
        rec.add_json(if i % 3 == 0 { b } else { a }, v);
    }
    rec
}
