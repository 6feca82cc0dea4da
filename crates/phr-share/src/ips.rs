//! The International Patient Summary document Bundle.

use phr_consent::labels;
use phr_fhir::types::systems;
use phr_fhir::Resource;
use serde_json::{json, Value};

use crate::describe::describe;
use crate::json::Node;
use crate::narrative::{paragraphs_div, section_div, SectionRow};
use crate::section::Section;
use crate::select::{Segmented, SourceKind};
use crate::{is_instant, ShareError, LEGAL_RECORD_LINE, PART2_NOTICE, PART2_NOTICE_TITLE};

/// Document-level facts passed in by the app.
#[derive(Clone, Debug)]
pub struct DocumentMeta {
    /// `Bundle.identifier.system` (e.g. `urn:ietf:rfc:3986`).
    pub identifier_system: String,
    /// `Bundle.identifier.value` (e.g. `urn:uuid:...`, fresh per share).
    pub identifier_value: String,
    /// When the document was assembled: a FHIR instant with time zone.
    pub timestamp: String,
    /// `Composition.title`.
    pub title: String,
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

fn node(v: &Value) -> Result<Node, ShareError> {
    let mut n = Node::parse(&v.to_string()).map_err(|_| ShareError::Internal)?;
    n.move_first("id");
    n.move_first("resourceType");
    Ok(n)
}

fn resource_node(r: &Resource) -> Result<Node, ShareError> {
    Node::of_resource(r).map_err(|_| ShareError::Internal)
}

fn entry(full_url: &str, resource: Node) -> Node {
    Node::obj([("fullUrl", Node::str(full_url)), ("resource", resource)])
}

/// Builds the IPS document Bundle from a segmentation result.
///
/// Only what [`crate::select`] prepared goes in, plus what this function generates: the
/// Composition (author = the patient), one Organization per provider or file source, one
/// Provenance per source (targets = that source's entries; agent = the Organization, or the
/// Patient for patient-entered items), and, when substance-use data is included, the 42 CFR
/// Part 2 notice as a section and as `meta.security` (`42CFRPart2` + `NORDSCLCD`).
pub fn build_ips(seg: &Segmented, meta: &DocumentMeta) -> Result<Resource, ShareError> {
    if !is_instant(&meta.timestamp) {
        return Err(ShareError::BadTimestamp(meta.timestamp.clone()));
    }
    if meta.identifier_value.trim().is_empty() {
        return Err(ShareError::MissingIdentifier);
    }
    let part2 = seg.includes_substance_use();
    let sensitive = !seg.included_categories().is_empty();
    let patient_url = seg.patient.full_url.clone();
    let patient_name = describe(&seg.patient.resource, &|_| None).title;
    let lookup = |u: &str| {
        seg.entries
            .iter()
            .find(|e| e.full_url == u)
            .map(|e| &e.resource)
    };

    // Sections: the three required ones always, then the chosen ones that have entries.
    let mut sections = Vec::new();
    for s in Section::ALL {
        let entries: Vec<_> = seg
            .entries
            .iter()
            .filter(|e| e.section == Some(s))
            .collect();
        let chosen = seg.sections.contains(&s);
        if entries.is_empty() && !s.is_required() {
            continue;
        }
        if !chosen && !s.is_required() {
            continue;
        }
        let mut section = json!({
            "title": s.title(),
            "code": { "coding": [coding(systems::LOINC, s.loinc(), s.loinc_display())] },
        });
        if entries.is_empty() {
            // "unavailable", never "withheld": the document must not reveal that something was
            // held back.
            section["text"] = json!({
                "status": "generated",
                "div": paragraphs_div(&["No information available."])
            });
            section["emptyReason"] = json!({ "coding": [coding(
                "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                "unavailable",
                "Unavailable"
            )]});
        } else {
            let rows: Vec<_> = entries
                .iter()
                .map(|e| (describe(&e.resource, &lookup), e))
                .collect();
            let table: Vec<SectionRow> = rows
                .iter()
                .map(|(row, e)| SectionRow {
                    row,
                    source: seg.sources.get(e.source).map_or("", |s| s.label.as_str()),
                    patient_reported: e.patient_reported,
                })
                .collect();
            section["text"] = json!({ "status": "generated", "div": section_div(&table) });
            section["entry"] = Value::Array(
                entries
                    .iter()
                    .map(|e| json!({ "reference": e.full_url }))
                    .collect(),
            );
        }
        sections.push(section);
    }
    if part2 {
        sections.push(json!({
            "title": PART2_NOTICE_TITLE,
            "text": { "status": "generated", "div": paragraphs_div(&[PART2_NOTICE]) }
        }));
    }

    let doc_security: Vec<Value> = if part2 {
        [
            labels::part2(),
            labels::no_redisclosure(),
            labels::restricted(),
        ]
        .iter()
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect()
    } else {
        Vec::new()
    };

    let composition_url = seg.full_url_for("composition");
    let mut composition = json!({
        "resourceType": "Composition",
        "id": uuid_of(&composition_url),
        "text": {
            "status": "generated",
            "div": paragraphs_div(&[
                &format!("{} for {}, assembled by the patient on {}.", meta.title, patient_name, meta.timestamp),
                LEGAL_RECORD_LINE,
            ])
        },
        "status": "final",
        "type": { "coding": [coding(systems::LOINC, "60591-5", "Patient summary Document")] },
        "subject": { "reference": patient_url },
        "date": meta.timestamp,
        "author": [{ "reference": patient_url }],
        "title": meta.title,
        "confidentiality": if sensitive { "R" } else { "N" },
        "section": sections,
    });
    if !doc_security.is_empty() {
        composition["meta"] = json!({ "security": doc_security });
    }

    let mut entries = vec![
        entry(&composition_url, node(&composition)?),
        entry(&patient_url, resource_node(&seg.patient.resource)?),
    ];
    for e in &seg.entries {
        entries.push(entry(&e.full_url, resource_node(&e.resource)?));
    }

    // One Organization and one Provenance per source of shared entries.
    let mut provenances = Vec::new();
    for (si, source) in seg.sources.iter().enumerate() {
        let targets: Vec<Value> = seg
            .entries
            .iter()
            .filter(|e| e.source == si)
            .map(|e| json!({ "reference": e.full_url }))
            .collect();
        if targets.is_empty() {
            continue;
        }
        let who = if source.kind == SourceKind::Patient {
            json!({ "reference": patient_url, "display": patient_name })
        } else {
            let org_url = seg.full_url_for(&format!("org:{}", source.id));
            entries.push(entry(
                &org_url,
                node(&json!({
                    "resourceType": "Organization",
                    "id": uuid_of(&org_url),
                    "text": { "status": "generated", "div": paragraphs_div(&[&source.label]) },
                    "name": source.label,
                }))?,
            ));
            json!({ "reference": org_url, "display": source.label })
        };
        let how = match source.kind {
            SourceKind::Ehr => format!("Copied from the records of {}.", source.label),
            SourceKind::File => format!("Copied from a file: {}.", source.label),
            SourceKind::Patient => "Entered by the patient (patient-reported).".to_string(),
        };
        let prov_url = seg.full_url_for(&format!("prov:{}", source.id));
        let mut prov = json!({
            "resourceType": "Provenance",
            "id": uuid_of(&prov_url),
            "text": { "status": "generated", "div": paragraphs_div(&[&how]) },
            "target": targets,
            "recorded": meta.timestamp,
            "agent": [{
                "type": { "coding": [coding(systems::PROVENANCE_PARTICIPANT_TYPE, "author", "Author")] },
                "who": who
            }]
        });
        if source.kind == SourceKind::Patient {
            prov["meta"] = json!({ "security": [serde_json::to_value(labels::patast()).unwrap_or(Value::Null)] });
        }
        provenances.push(entry(&prov_url, node(&prov)?));
    }
    entries.extend(provenances);

    let bundle_url = seg.full_url_for("bundle");
    let mut head = json!({
        "resourceType": "Bundle",
        "id": uuid_of(&bundle_url),
    });
    if !doc_security.is_empty() {
        head["meta"] = json!({ "security": doc_security });
    }
    head["identifier"] =
        json!({ "system": meta.identifier_system, "value": meta.identifier_value });
    head["type"] = json!("document");
    head["timestamp"] = json!(meta.timestamp);
    // The prepared copies are embedded as parsed from their own text, so their decimals keep
    // their digits.
    let mut bundle = node(&head)?;
    bundle.move_first("id");
    bundle.move_first("resourceType");
    bundle.set("entry", Node::Array(entries));
    Resource::from_json(bundle.to_json()).map_err(|_| ShareError::Internal)
}

fn uuid_of(url: &str) -> String {
    url.trim_start_matches("urn:uuid:").to_string()
}
