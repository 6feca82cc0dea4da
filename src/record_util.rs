//! Small helpers over the record that several screens need.

use phr_record::{EntryKey, Record, SourceKind};
use phr_views::{Index, SourceRef, ViewItem};

/// The opaque string form of an entry key, used by the views and in routes.
pub fn key_string(key: &EntryKey) -> String {
    serde_json::to_string(key).unwrap_or_default()
}

/// Parses [`key_string`] back.
pub fn parse_key(s: &str) -> Option<EntryKey> {
    serde_json::from_str(s).ok()
}

/// What the patient sees as a source's name.
pub fn source_label(record: &Record, id: &phr_record::SourceId) -> String {
    match record.source(id).map(|s| &s.kind) {
        Some(SourceKind::Ehr { name, .. }) => name.clone(),
        Some(SourceKind::File { name, .. }) => format!("File: {name}"),
        Some(SourceKind::Patient) | None if id.is_patient() => "You".into(),
        _ => "Unknown source".into(),
    }
}

/// Builds the views' index of the whole record (once per change of the record).
pub fn build_index(record: &Record) -> Index {
    let mut labels: std::collections::HashMap<
        &phr_record::SourceId,
        (String, phr_views::SourceKind),
    > = std::collections::HashMap::new();
    let entries: Vec<_> = record.entries().collect();
    let keys: Vec<String> = entries
        .iter()
        .map(|(s, k, _)| EntryKey::json_of(s, k))
        .collect();
    // Most records hide nothing: then no key is built to ask.
    let any_hidden = record.hidden().next().is_some();
    for (s, _, _) in &entries {
        labels.entry(*s).or_insert_with(|| {
            let kind = if s.is_patient() {
                phr_views::SourceKind::Patient
            } else if s.is_ehr() {
                phr_views::SourceKind::Ehr
            } else {
                phr_views::SourceKind::File
            };
            (source_label(record, s), kind)
        });
    }
    let items = entries.iter().zip(&keys).map(|((s, k, e), key)| {
        let (label, kind) = &labels[*s];
        ViewItem {
            key,
            resource: e.resource(),
            source: SourceRef {
                id: s.as_str(),
                label,
                kind: *kind,
            },
            hidden: any_hidden && record.is_hidden(&EntryKey::new((*s).clone(), (*k).clone())),
            gone_at_source: e.status().is_gone(),
        }
    });
    Index::build(items)
}

/// The reference of the patient the record is about: the first Patient resource from an EHR or
/// file, else the patient-entered one. Exports and shares point at it.
pub fn patient_reference(record: &Record) -> String {
    let mut fallback = None;
    for (source, key, _) in record.entries() {
        if key.resource_type() != "Patient" {
            continue;
        }
        let entry_key = phr_record::EntryKey::new(source.clone(), key.clone());
        if let Some(r) = record.reference_to(&entry_key) {
            if source.is_ehr() {
                return r;
            }
            fallback.get_or_insert(r);
        }
    }
    fallback.unwrap_or_else(|| "Patient/patient".into())
}
