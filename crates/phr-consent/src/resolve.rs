//! Resolving references between items of a record that came from several sources.

use std::collections::HashMap;

use phr_fhir::types::Reference;
use phr_fhir::Resource;

/// Finds which item a reference points to.
///
/// Relative (`Condition/1`) and absolute (`https://ehr/fhir/Condition/1`) references resolve
/// within the referring item's own source first (two EHRs may both have a `Condition/1`), then
/// anywhere if exactly one item matches. `urn:uuid:` references (Synthea and other transaction
/// Bundles) resolve to the one item with that id. Contained (`#x`) references never resolve.
#[derive(Debug, Default)]
pub struct Resolver {
    by_source: HashMap<(String, String, String), usize>,
    by_type_id: HashMap<(String, String), Vec<usize>>,
    by_id: HashMap<String, Vec<usize>>,
}

impl Resolver {
    /// Indexes items given as `(source id, resource)`; the position in the iterator is the index
    /// [`Resolver::resolve`] returns.
    pub fn new<'a>(items: impl IntoIterator<Item = (&'a str, &'a Resource)>) -> Resolver {
        let mut r = Resolver::default();
        for (i, (source, res)) in items.into_iter().enumerate() {
            let Some(id) = res.id() else { continue };
            let ty = res.resource_type().to_string();
            r.by_source
                .entry((source.to_string(), ty.clone(), id.to_string()))
                .or_insert(i);
            r.by_type_id
                .entry((ty, id.to_string()))
                .or_default()
                .push(i);
            r.by_id.entry(id.to_string()).or_default().push(i);
        }
        r
    }

    /// The index of the item `reference` (written in an item from `from_source`) points to.
    pub fn resolve(&self, from_source: &str, reference: &str) -> Option<usize> {
        let reference = reference.trim();
        if reference.starts_with('#') || reference.is_empty() {
            return None;
        }
        if let Some(id) = reference.strip_prefix("urn:uuid:") {
            return unique(self.by_id.get(id));
        }
        let r = Reference::to(reference);
        let (ty, id) = r.type_and_id()?;
        if let Some(&i) =
            self.by_source
                .get(&(from_source.to_string(), ty.to_string(), id.to_string()))
        {
            return Some(i);
        }
        unique(self.by_type_id.get(&(ty.to_string(), id.to_string())))
    }
}

fn unique(v: Option<&Vec<usize>>) -> Option<usize> {
    match v.map(Vec::as_slice) {
        Some([one]) => Some(*one),
        _ => None,
    }
}

/// Every literal reference string in a resource (including inside contained resources and
/// extensions), in document order.
pub fn references_in(value: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(value, &mut out);
    out
}

fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(s)) = map.get("reference") {
                out.push(s.clone());
            }
            for (k, child) in map {
                if k != "reference" {
                    walk(child, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        _ => {}
    }
}

/// Resource types through which sensitivity does *not* flow: people, organisations, places and
/// the patient. A labelled Condition makes the MedicationRequest that refers to it sensitive, but
/// a labelled item never makes its practitioner or the patient "sensitive", and an item that
/// refers to a practitioner does not inherit anything from them.
pub fn is_non_propagating_type(resource_type: &str) -> bool {
    matches!(
        resource_type,
        "Patient"
            | "Practitioner"
            | "PractitionerRole"
            | "Organization"
            | "Location"
            | "RelatedPerson"
            | "Group"
            | "HealthcareService"
            | "Endpoint"
    )
}

/// Every `reference` string in `resource`, read in one streaming pass over its original JSON (no
/// tree is built). Falls back to [`references_in`] on the parsed value if the scan refuses the
/// text, which a stored resource's text never gives it.
pub fn references_of(resource: &Resource) -> Vec<String> {
    match phr_fhir::scan::scan(resource.raw()) {
        Ok(scan) => scan.references,
        Err(_) => references_in(&resource.value()),
    }
}

/// The references of `resource` that can carry sensitivity, resolved to item indexes.
pub fn clinical_references(
    resolver: &Resolver,
    items: &[&Resource],
    from_source: &str,
    resource: &Resource,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for r in references_of(resource) {
        if let Some(i) = resolver.resolve(from_source, &r) {
            let target = items[i];
            if !is_non_propagating_type(target.resource_type()) && !std::ptr::eq(target, resource) {
                out.push((i, target.reference().unwrap_or(r)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(t: &str) -> Resource {
        Resource::from_json(t).unwrap()
    }

    #[test]
    fn resolves_within_source_then_uniquely() {
        let a = res(r#"{"resourceType":"Condition","id":"1"}"#);
        let b = res(r#"{"resourceType":"Condition","id":"1"}"#);
        let c = res(r#"{"resourceType":"Encounter","id":"e9"}"#);
        let r = Resolver::new([("ehr-a", &a), ("ehr-b", &b), ("ehr-a", &c)]);
        assert_eq!(r.resolve("ehr-a", "Condition/1"), Some(0));
        assert_eq!(
            r.resolve("ehr-b", "https://b.example/fhir/Condition/1"),
            Some(1)
        );
        assert_eq!(
            r.resolve("ehr-c", "Condition/1"),
            None,
            "ambiguous across sources"
        );
        assert_eq!(r.resolve("ehr-c", "Encounter/e9"), Some(2));
        assert_eq!(r.resolve("ehr-a", "urn:uuid:e9"), Some(2));
        assert_eq!(r.resolve("ehr-a", "#contained"), None);
        assert_eq!(r.resolve("ehr-a", "Encounter/e9/_history/3"), Some(2));
    }

    #[test]
    fn finds_references_everywhere() {
        let v: serde_json::Value = serde_json::from_str(
            r##"{"resourceType":"MedicationRequest","subject":{"reference":"Patient/p"},
            "reasonReference":[{"reference":"Condition/1","display":"x"}],
            "extension":[{"url":"u","valueReference":{"reference":"Encounter/e"}}],
            "contained":[{"resourceType":"Medication","id":"m","ingredient":[{"itemReference":{"reference":"Substance/s"}}]}]}"##,
        )
        .unwrap();
        let mut refs = references_in(&v);
        refs.sort();
        assert_eq!(
            refs,
            ["Condition/1", "Encounter/e", "Patient/p", "Substance/s"]
        );
        // The streaming pass over the original text finds the same ones.
        let mut streamed = references_of(&Resource::from_value(&v).unwrap());
        streamed.sort();
        assert_eq!(streamed, refs);
    }
}
