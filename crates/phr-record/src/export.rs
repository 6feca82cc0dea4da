//! FHIR export: the whole record as one plain FHIR R4 Bundle (type `collection`).
//!
//! * Every stored resource is embedded byte-exactly (`RawValue`), never re-serialised.
//! * `fullUrl`: `<fhir_base>/<type>/<id>` for EHR items, so the same id at two providers stays
//!   two entries; `urn:uuid:<id>` for file and patient items with UUID ids; otherwise a UUID
//!   derived from the entry's key. If two entries would share a fullUrl (one server connected
//!   twice, one file imported as two sources), the later one gets a derived `urn:uuid`.
//! * Provenance for imported items: one Provenance per (source, request, time the current bytes
//!   were fetched), targeting every item that came from it: `recorded` = that time, `agent` =
//!   the provider (type `custodian`, display = provider name) or, for files, the patient as
//!   `informant`, `entity` = the request URL or `file: <name>, imported at <time>`, and for a 42
//!   CFR Part 2 program `policy` = the Part 2 regulation. Patient items bring their own
//!   Provenance (the patient as author).
//! * Patient notes are DocumentReferences, exported as they are. Hidden items are a `List`
//!   (status current, mode working) of references with `entry.date` = when hidden: a List is
//!   FHIR's plain curated set of references, it needs no extension, and it leaves the items
//!   themselves untouched (a tag or extension on them would change the provider's bytes). Items
//!   no longer returned by their source are a second List, so the export says which data the
//!   provider has withdrawn.
//! * The patient's Consent resources are included.

use std::collections::{BTreeMap, HashSet};

use phr_fhir::types::{systems, CodeableConcept, Coding, Meta, Reference};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::{invalid, Result};
use crate::ids::{derived_uuid, is_lower_uuid};
use crate::key::{LocalId, ResourceKey};
use crate::record::{EntryStatus, Record};
use crate::source::{Source, SourceId, SourceKind};
use crate::time::check_instant;

/// The policy URI recorded on Provenance for data from a 42 CFR Part 2 program.
pub const PART2_POLICY: &str =
    "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2";

/// Inputs of [`Record::export_bundle`]: all passed in (the crate reads no clock or RNG).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The Bundle's id: a lowercase UUID.
    pub bundle_id: String,
    /// Now (RFC 3339 with a time zone): Bundle.timestamp.
    pub timestamp: String,
    /// The patient reference, for the Lists' subject and file Provenance.
    pub patient: String,
}

/// The reference / fullUrl of an entry (see the module docs).
pub(crate) fn canonical_url(source: &SourceId, meta: Option<&Source>, key: &ResourceKey) -> String {
    if let (Some(base), Some(id)) = (meta.and_then(Source::fhir_base), key.id()) {
        return format!("{base}/{}/{id}", key.resource_type());
    }
    if !source.is_ehr() {
        if let Some(id) = key.id().filter(|id| is_lower_uuid(id)) {
            return format!("urn:uuid:{id}");
        }
    }
    derived_url(source, key, "")
}

fn derived_url(source: &SourceId, key: &ResourceKey, salt: &str) -> String {
    let local: Vec<u8> = match key.local() {
        LocalId::Id(id) => id.as_bytes().to_vec(),
        LocalId::Content(h) => h.to_vec(),
    };
    format!(
        "urn:uuid:{}",
        derived_uuid(
            "phr-record/entry",
            &[
                source.as_str().as_bytes(),
                key.resource_type().as_bytes(),
                &local,
                salt.as_bytes(),
            ],
        )
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    identifier: IdentifierOut,
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: &'a str,
    entry: Vec<BundleEntryOut<'a>>,
}

#[derive(Serialize)]
struct IdentifierOut {
    system: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleEntryOut<'a> {
    full_url: &'a str,
    resource: &'a RawValue,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportProvenanceOut<'a> {
    resource_type: &'static str,
    id: &'a str,
    target: Vec<Reference>,
    recorded: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policy: Vec<&'static str>,
    agent: Vec<ProvAgentOut>,
    entity: Vec<ProvEntityOut>,
}

#[derive(Serialize)]
struct ProvAgentOut {
    #[serde(rename = "type")]
    kind: CodeableConcept,
    who: Reference,
}

#[derive(Serialize)]
struct ProvEntityOut {
    role: &'static str,
    what: WhatOut,
}

#[derive(Serialize)]
struct WhatOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<IdentifierOut>,
    display: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListOut<'a> {
    resource_type: &'static str,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
    status: &'static str,
    mode: &'static str,
    title: &'static str,
    code: CodeableConcept,
    subject: Reference,
    date: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Reference>,
    entry: Vec<ListEntryOut>,
}

#[derive(Serialize)]
struct ListEntryOut {
    date: String,
    item: Reference,
}

fn concept(system: &str, code: &str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding::new(system, code, display)],
        text: None,
    }
}

fn raw<T: Serialize>(value: &T) -> Box<RawValue> {
    // Plain structs always serialise; the text is JSON by construction.
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// One imported request group: which items came from one request at one time.
struct Group<'a> {
    source: &'a SourceId,
    meta: Option<&'a Source>,
    request: &'a str,
    recorded: &'a str,
    targets: Vec<usize>,
}

impl Record {
    /// The whole record as a FHIR R4 collection Bundle (see the module docs), as JSON text.
    pub fn export_bundle(&self, opts: &ExportOptions) -> Result<String> {
        if !is_lower_uuid(&opts.bundle_id) {
            return Err(invalid(
                "The export id",
                "must be a lowercase UUID; this is a bug in the app",
            ));
        }
        check_instant("The export time", &opts.timestamp)?;
        if opts.patient.trim().is_empty() {
            return Err(invalid("The patient reference", "is missing"));
        }

        // Pass 1: a unique fullUrl per entry, the import groups, hidden and gone items.
        let mut used: HashSet<String> = HashSet::new();
        let mut items: Vec<(String, &RawValue)> = Vec::new();
        let mut authored: Vec<(String, &RawValue)> = Vec::new();
        let mut groups: BTreeMap<(&str, &str, &str), Group> = BTreeMap::new();
        let mut hidden: Vec<(usize, &str)> = Vec::new();
        let mut gone: Vec<(usize, &str)> = Vec::new();
        let mut by_slot: Vec<_> = self.sources.iter().collect();
        by_slot.sort_by_key(|(_, sd)| sd.slot);
        for (sid, sd) in by_slot {
            let meta = sd.meta.as_ref();
            for (key, e) in sd.iter() {
                let mut url = canonical_url(sid, meta, key);
                let mut n = 0u32;
                while used.contains(&url) {
                    n += 1;
                    url = derived_url(sid, key, &n.to_string());
                }
                used.insert(url.clone());
                let idx = items.len();
                items.push((url, e.resource().raw_value()));
                if let Some(p) = e.authored_provenance() {
                    let id = p.id().unwrap_or_default();
                    let purl = if is_lower_uuid(id) {
                        format!("urn:uuid:{id}")
                    } else {
                        derived_url(sid, &ResourceKey::of(p), "provenance")
                    };
                    used.insert(purl.clone());
                    authored.push((purl, p.raw_value()));
                } else if !sid.is_patient() {
                    groups
                        .entry((sid.as_str(), e.request(), e.current_since()))
                        .or_insert_with(|| Group {
                            source: sid,
                            meta,
                            request: e.request(),
                            recorded: e.current_since(),
                            targets: vec![],
                        })
                        .targets
                        .push(idx);
                }
                let ekey = crate::key::EntryKey::new(sid.clone(), key.clone());
                if let Some(at) = self.hidden.get(&ekey) {
                    hidden.push((idx, at));
                }
                if let EntryStatus::GoneAtSource { noticed_at } = e.status() {
                    gone.push((idx, noticed_at));
                }
            }
        }

        // Pass 2: the generated resources.
        let mut generated: Vec<(String, Box<RawValue>)> = Vec::new();
        for g in groups.values() {
            let id = derived_uuid(
                "phr-record/import-provenance",
                &[
                    g.source.as_str().as_bytes(),
                    g.request.as_bytes(),
                    g.recorded.as_bytes(),
                ],
            );
            let (agent, entity_display, part2) = match g.meta.map(|m| &m.kind) {
                Some(SourceKind::Ehr {
                    name,
                    part2_program,
                    ..
                }) => (
                    ProvAgentOut {
                        kind: concept(
                            systems::PROVENANCE_PARTICIPANT_TYPE,
                            "custodian",
                            "Custodian",
                        ),
                        who: Reference {
                            reference: None,
                            display: Some(name.clone()),
                        },
                    },
                    g.request.to_string(),
                    *part2_program,
                ),
                Some(SourceKind::File { name, imported_at }) => (
                    ProvAgentOut {
                        kind: concept(
                            systems::PROVENANCE_PARTICIPANT_TYPE,
                            "informant",
                            "Informant",
                        ),
                        who: Reference {
                            reference: Some(opts.patient.clone()),
                            display: Some("the patient, who imported a file".into()),
                        },
                    },
                    format!("file: {name}, imported at {imported_at}"),
                    false,
                ),
                _ => (
                    ProvAgentOut {
                        kind: concept(
                            systems::PROVENANCE_PARTICIPANT_TYPE,
                            "custodian",
                            "Custodian",
                        ),
                        who: Reference {
                            reference: None,
                            display: Some(g.source.to_string()),
                        },
                    },
                    g.request.to_string(),
                    false,
                ),
            };
            let is_url = g.request.starts_with("https://") || g.request.starts_with("http://");
            let prov = ImportProvenanceOut {
                resource_type: "Provenance",
                id: &id,
                target: g
                    .targets
                    .iter()
                    .map(|i| Reference::to(&items[*i].0))
                    .collect(),
                recorded: g.recorded,
                policy: if part2 { vec![PART2_POLICY] } else { vec![] },
                agent: vec![agent],
                entity: vec![ProvEntityOut {
                    role: "source",
                    what: WhatOut {
                        identifier: is_url.then(|| IdentifierOut {
                            system: "urn:ietf:rfc:3986",
                            value: g.request.to_string(),
                        }),
                        display: entity_display,
                    },
                }],
            };
            generated.push((format!("urn:uuid:{id}"), raw(&prov)));
        }
        let list = |title: &'static str, code: &str, patient_made: bool, rows: &[(usize, &str)]| {
            let id = derived_uuid(
                "phr-record/export-list",
                &[code.as_bytes(), opts.bundle_id.as_bytes()],
            );
            let out = ListOut {
                resource_type: "List",
                id: id.clone(),
                meta: patient_made.then(|| Meta {
                    security: vec![Coding::new(
                        systems::OBSERVATION_VALUE,
                        crate::patient::PATAST,
                        "patient asserted",
                    )],
                    ..Meta::default()
                }),
                status: "current",
                mode: if patient_made { "working" } else { "snapshot" },
                title,
                code: CodeableConcept {
                    coding: vec![],
                    text: Some(title.into()),
                },
                subject: Reference::to(&opts.patient),
                date: &opts.timestamp,
                source: patient_made.then(|| Reference::to(&opts.patient)),
                entry: rows
                    .iter()
                    .map(|(i, at)| ListEntryOut {
                        date: (*at).to_string(),
                        item: Reference::to(&items[*i].0),
                    })
                    .collect(),
            };
            (format!("urn:uuid:{id}"), raw(&out))
        };
        if !hidden.is_empty() {
            generated.push(list(
                "Items the patient hid from their own views",
                "hidden",
                true,
                &hidden,
            ));
        }
        if !gone.is_empty() {
            generated.push(list(
                "Items no longer returned by their source",
                "gone-at-source",
                false,
                &gone,
            ));
        }
        let consents: Vec<(String, &RawValue)> = self
            .consents
            .values()
            .map(|c| {
                let id = c.id().unwrap_or_default();
                let url = if is_lower_uuid(id) {
                    format!("urn:uuid:{id}")
                } else {
                    derived_url(&SourceId::patient(), &ResourceKey::of(c), "consent")
                };
                (url, c.raw_value())
            })
            .collect();

        let entry: Vec<BundleEntryOut> = items
            .iter()
            .chain(authored.iter())
            .map(|(u, r)| BundleEntryOut {
                full_url: u,
                resource: r,
            })
            .chain(generated.iter().map(|(u, r)| BundleEntryOut {
                full_url: u,
                resource: r,
            }))
            .chain(consents.iter().map(|(u, r)| BundleEntryOut {
                full_url: u,
                resource: r,
            }))
            .collect();
        let bundle = BundleOut {
            resource_type: "Bundle",
            id: &opts.bundle_id,
            meta: Meta {
                last_updated: Some(opts.timestamp.clone()),
                ..Meta::default()
            },
            identifier: IdentifierOut {
                system: "urn:ietf:rfc:3986",
                value: format!("urn:uuid:{}", opts.bundle_id),
            },
            kind: "collection",
            timestamp: &opts.timestamp,
            entry,
        };
        serde_json::to_string(&bundle)
            .map_err(|e| invalid("The export", format!("could not be written ({e})")))
    }
}
