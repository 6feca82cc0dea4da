//! FHIR export (originals byte-exact, provenance, notes, hidden) and file import provenance.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use phr_fhir::{parse_bundle, parse_import};
use phr_record::patient::{self, NoteInput};
use phr_record::{
    Authoring, EntryKey, ExportOptions, Record, RecordError, ResourceKey, SourceId, SourceKind,
    SyncCoverage,
};
use serde_json::Value;

fn opts() -> ExportOptions {
    ExportOptions {
        bundle_id: uuid(777),
        timestamp: T2.into(),
        patient: PATIENT.into(),
    }
}

const FILE: &str = r#"{"resourceType":"Bundle","type":"collection","entry":[
  {"fullUrl":"urn:uuid:6a3d1e2c-1111-4c2b-9d7e-000000000001","resource":{"resourceType":"Patient","id":"6a3d1e2c-1111-4c2b-9d7e-000000000001","name":[{"family":"Doe"}]}},
  {"resource":{"resourceType":"Immunization","status":"completed","vaccineCode":{"text":"Flu"},"patient":{"reference":"urn:uuid:6a3d1e2c-1111-4c2b-9d7e-000000000001"},"occurrenceDateTime":"2023-10-01"}},
  {"resource":{"resourceType":"Observation","id":"o1","status":"final","valueQuantity":{"value":1.50}}},
  {"request":{"method":"DELETE","url":"Patient/x"}}
]}"#;

/// Resources of an exported Bundle by fullUrl, with their exact text.
fn exported(text: &str) -> (Value, HashMap<String, String>) {
    let v: Value = serde_json::from_str(text).unwrap();
    let parsed = parse_bundle(text).unwrap();
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    let urls: Vec<String> = v["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(urls.len(), parsed.resources.len());
    let unique: HashSet<&String> = urls.iter().collect();
    assert_eq!(unique.len(), urls.len(), "fullUrls are unique");
    let map = urls
        .into_iter()
        .zip(parsed.resources.iter().map(|r| r.raw().to_string()))
        .collect();
    (v, map)
}

fn of_type<'a>(v: &'a Value, t: &str) -> Vec<&'a Value> {
    v["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == t)
        .collect()
}

#[test]
fn export_embeds_every_original_byte_exactly_with_provenance() {
    let mut r = Record::new();
    let a = ehr_with(&mut r, "a", true);
    let b = ehr(&mut r, "b");
    r.apply_import(&a, page("a", vec![obs("o1", "1.50"), obs("o2", "2")]), T0)
        .unwrap();
    r.apply_import(&b, page("b", vec![obs("o1", "1.50")]), T1)
        .unwrap();
    let file = r
        .import_file(parse_import(FILE).unwrap().1, "records.json", T1)
        .unwrap();
    let item = EntryKey::new(a.clone(), ResourceKey::new("Observation", "o1"));
    let note = patient::note(
        &Authoring::new(&uuid(1), PATIENT, T1),
        &NoteInput {
            about: r.reference_to(&item).unwrap(),
            about_display: None,
            text: "mine".into(),
            title: None,
        },
    )
    .unwrap();
    let note_prov = note.provenance().raw().to_string();
    r.put_patient_item(note).unwrap();
    r.hide(
        &EntryKey::new(b.clone(), ResourceKey::new("Observation", "o1")),
        T2,
    )
    .unwrap();
    let seen = [ResourceKey::new("Observation", "o1")].into();
    r.finish_full_sync(&a, &seen, &SyncCoverage::AllTypes, T2)
        .unwrap();

    let text = r.export_bundle(&opts()).unwrap();
    let (v, by_url) = exported(&text);
    assert_eq!(v["type"], "collection");
    assert_eq!(v["timestamp"], T2);
    assert_eq!(v["identifier"]["value"], format!("urn:uuid:{}", uuid(777)));

    // Every stored resource is in the export under its reference, byte for byte.
    for (sid, k, e) in r.entries() {
        let url = r
            .reference_to(&EntryKey::new(sid.clone(), k.clone()))
            .unwrap();
        assert_eq!(
            by_url.get(&url).map(String::as_str),
            Some(e.resource().raw()),
            "{url}"
        );
    }
    // The same id at two providers is two entries with different fullUrls.
    assert!(by_url.contains_key("https://a.example.org/fhir/Observation/o1"));
    assert!(by_url.contains_key("https://b.example.org/fhir/Observation/o1"));
    // A file resource with a UUID id keeps it as its urn, so the file's references resolve.
    assert!(by_url.contains_key("urn:uuid:6a3d1e2c-1111-4c2b-9d7e-000000000001"));
    // The patient's Provenance is exported as it is.
    assert!(by_url.values().any(|raw| raw == &note_prov));

    // Import Provenance: one per (source, request, time), naming the provider.
    let provs = of_type(&v, "Provenance");
    let a_prov = provs
        .iter()
        .find(|p| p["agent"][0]["who"]["display"] == "a Clinic")
        .unwrap();
    assert_eq!(a_prov["recorded"], T0);
    assert_eq!(a_prov["agent"][0]["type"]["coding"][0]["code"], "custodian");
    assert_eq!(
        a_prov["entity"][0]["what"]["identifier"]["value"],
        "https://a.example.org/fhir/Observation?patient=p1"
    );
    assert_eq!(a_prov["policy"][0], phr_record::export::PART2_POLICY);
    let targets: Vec<&str> = a_prov["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        vec![
            "https://a.example.org/fhir/Observation/o1",
            "https://a.example.org/fhir/Observation/o2"
        ]
    );
    let b_prov = provs
        .iter()
        .find(|p| p["agent"][0]["who"]["display"] == "b Clinic")
        .unwrap();
    assert_eq!(b_prov["recorded"], T1);
    assert!(b_prov.get("policy").is_none());

    // File Provenance: "file: <name>, imported at <time>", the patient as informant.
    let f_prov = provs
        .iter()
        .find(|p| {
            p["entity"][0]["what"]["display"] == format!("file: records.json, imported at {T1}")
        })
        .unwrap();
    assert_eq!(f_prov["agent"][0]["type"]["coding"][0]["code"], "informant");
    assert_eq!(f_prov["agent"][0]["who"]["reference"], PATIENT);
    assert_eq!(f_prov["target"].as_array().unwrap().len(), 3);
    assert_eq!(file.merge.added, 3);

    // Every imported item is the target of exactly one import Provenance.
    let mut covered = 0;
    for (sid, k, _) in r.entries().filter(|(s, _, _)| !s.is_patient()) {
        let url = r
            .reference_to(&EntryKey::new(sid.clone(), k.clone()))
            .unwrap();
        let n = provs
            .iter()
            .filter(|p| {
                p["target"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t["reference"] == url.as_str())
            })
            .count();
        assert_eq!(n, 1, "{url}");
        covered += 1;
    }
    assert_eq!(covered, 6);

    // Hidden items and items gone at source are Lists.
    let lists = of_type(&v, "List");
    let hidden = lists
        .iter()
        .find(|l| l["title"] == "Items the patient hid from their own views")
        .unwrap();
    assert_eq!(
        hidden["entry"][0]["item"]["reference"],
        "https://b.example.org/fhir/Observation/o1"
    );
    assert_eq!(hidden["entry"][0]["date"], T2);
    assert_eq!(hidden["meta"]["security"][0]["code"], "PATAST");
    let gone = lists
        .iter()
        .find(|l| l["title"] == "Items no longer returned by their source")
        .unwrap();
    assert_eq!(
        gone["entry"][0]["item"]["reference"],
        "https://a.example.org/fhir/Observation/o2"
    );

    // Notes are exported as their own resources pointing at the item.
    let docs = of_type(&v, "DocumentReference");
    assert_eq!(docs.len(), 1);
    assert_eq!(
        docs[0]["context"]["related"][0]["reference"],
        "https://a.example.org/fhir/Observation/o1"
    );

    // The export is deterministic.
    assert_eq!(r.export_bundle(&opts()).unwrap(), text);
}

#[test]
fn export_inputs_are_checked() {
    let r = Record::new();
    let mut o = opts();
    o.bundle_id = "x".into();
    assert!(matches!(
        r.export_bundle(&o),
        Err(RecordError::InvalidInput { .. })
    ));
    let mut o = opts();
    o.timestamp = "2024-05-01".into();
    assert!(matches!(
        r.export_bundle(&o),
        Err(RecordError::InvalidTime { .. })
    ));
    let empty = r.export_bundle(&opts()).unwrap();
    let v: Value = serde_json::from_str(&empty).unwrap();
    assert_eq!(v["entry"], serde_json::json!([]));
}

#[test]
fn colliding_full_urls_are_disambiguated() {
    // The same file imported under two names is one source; the same server connected as two
    // providers is two sources with the same base.
    let mut r = Record::new();
    let a = ehr(&mut r, "a");
    let twin =
        phr_record::Source::ehr("a2", "A again", "https://a.example.org/fhir", false, T0).unwrap();
    let twin_id = twin.id.clone();
    r.add_source(twin).unwrap();
    r.apply_import(&a, page("a", vec![obs("o1", "1")]), T0)
        .unwrap();
    r.apply_import(&twin_id, page("a", vec![obs("o1", "1")]), T0)
        .unwrap();
    let (v, by_url) = exported(&r.export_bundle(&opts()).unwrap());
    assert!(by_url.contains_key("https://a.example.org/fhir/Observation/o1"));
    assert_eq!(of_type(&v, "Observation").len(), 2);
}

#[test]
fn file_import_records_its_provenance_and_is_idempotent() {
    let mut r = Record::new();
    let first = r
        .import_file(parse_import(FILE).unwrap().1, "records.json", T0)
        .unwrap();
    assert!(first.new_source);
    assert_eq!(first.merge.added, 3);
    assert_eq!(first.issues.len(), 1, "the DELETE entry is reported");
    let src = r.source(&first.source).unwrap();
    assert_eq!(
        src.kind,
        SourceKind::File {
            name: "records.json".into(),
            imported_at: T0.into()
        }
    );
    assert_eq!(src.display_name(), "file: records.json");
    for (_, _, e) in r.source_entries(&first.source).map(|(k, e)| ((), k, e)) {
        assert_eq!(e.request(), "records.json");
        assert_eq!(e.fetched_at(), T0);
    }
    // The id-less Immunization is keyed by content.
    assert!(r
        .source_entries(&first.source)
        .any(|(k, _)| k.resource_type() == "Immunization" && k.id().is_none()));

    // The same file again (under another name) adds nothing.
    let again = r
        .import_file(parse_import(FILE).unwrap().1, "copy of records.json", T1)
        .unwrap();
    assert!(!again.new_source);
    assert_eq!(again.source, first.source);
    assert_eq!((again.merge.added, again.merge.unchanged), (0, 3));
    assert_eq!(r.len(), 3);

    // A different file is a different source, even with the same name.
    let other = r#"{"resourceType":"Observation","id":"o1","status":"final"}"#;
    let third = r
        .import_file(parse_import(other).unwrap().1, "records.json", T1)
        .unwrap();
    assert_ne!(third.source, first.source);
    assert_eq!(r.len(), 4);

    // An empty file is refused.
    let empty = parse_import(r#"{"resourceType":"Bundle","type":"collection","entry":[]}"#)
        .unwrap()
        .1;
    assert!(matches!(
        r.import_file(empty, "empty.json", T1),
        Err(RecordError::EmptyImport)
    ));
    // File items are not the patient's: they can't be deleted.
    let (k, _) = r.source_entries(&first.source).next().unwrap();
    let key = EntryKey::new(first.source.clone(), k.clone());
    assert!(matches!(
        r.delete_patient_item(&key),
        Err(RecordError::NotPatientEntered)
    ));
    assert!(!SourceId::patient().is_file());
}

#[test]
fn a_file_imported_in_parts_equals_one_imported_at_once() {
    let mut whole = Record::new();
    let at_once = whole
        .import_file(parse_import(FILE).unwrap().1, " records.json ", T0)
        .unwrap();

    let mut parts = Record::new();
    let parsed = parse_import(FILE).unwrap().1;
    let (source, new_source) = parts
        .begin_file_import(&parsed.resources, " records.json ", T0)
        .unwrap();
    assert!(new_source);
    assert_eq!(source, at_once.source, "the same source id");
    let request = phr_record::file_request(" records.json ");
    assert_eq!(request, "records.json");
    let mut resources = parsed.resources.into_iter();
    let mut added = 0;
    loop {
        let part: Vec<_> = resources
            .by_ref()
            .take(2)
            .map(|r| (r, request.clone()))
            .collect();
        if part.is_empty() {
            break;
        }
        added += parts.apply_import(&source, part, T0).unwrap().added;
    }
    assert_eq!(added, at_once.merge.added);
    assert_eq!(parts.source(&source), whole.source(&source));
    let texts = |r: &Record| {
        r.source_entries(&source)
            .map(|(k, e)| {
                (
                    k.clone(),
                    e.resource().raw().to_string(),
                    e.request().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(&parts), texts(&whole));
    // Beginning again finds the source; an empty file is refused.
    let again = parse_import(FILE).unwrap().1;
    assert_eq!(
        parts
            .begin_file_import(&again.resources, "x.json", T1)
            .unwrap(),
        (source, false)
    );
    assert!(matches!(
        parts.begin_file_import(&[], "empty.json", T1),
        Err(RecordError::EmptyImport)
    ));
}
