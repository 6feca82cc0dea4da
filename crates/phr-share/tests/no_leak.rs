//! Property: over random records and random selections, nothing of a withheld item appears
//! anywhere in the shared document (entries, narratives, contained resources, references and
//! their display text, Provenance targets, labels), and every reference in the document
//! resolves inside it.

use std::collections::BTreeSet;

use phr_consent::{label_record, Category, LabelSubject};
use phr_fhir::Resource;
use phr_share::{
    build_ips, plan, select, Decision, DocumentMeta, Section, Selection, ShareItem, SourceKind,
    SourceRef,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A code that puts an item in a category (or none).
fn sensitive_code(kind: u8) -> (Option<Category>, Value) {
    let cc = |system: &str, code: &str| json!({ "coding": [{ "system": system, "code": code }] });
    match kind % 9 {
        0 => (
            Some(Category::SubstanceUse),
            cc("http://snomed.info/sct", "6525002"),
        ),
        1 => (
            Some(Category::MentalHealth),
            cc("http://hl7.org/fhir/sid/icd-10-cm", "F32.9"),
        ),
        2 => (
            Some(Category::HivSti),
            cc("http://hl7.org/fhir/sid/icd-10-cm", "B20"),
        ),
        3 => (
            Some(Category::SexualReproductive),
            cc("http://snomed.info/sct", "72892002"),
        ),
        4 => (Some(Category::Genetic), cc("http://loinc.org", "51969-4")),
        5 => (
            Some(Category::ViolenceAbuse),
            cc("http://snomed.info/sct", "706893006"),
        ),
        _ => (None, cc("http://snomed.info/sct", "38341003")),
    }
}

#[derive(Debug, Clone)]
struct ItemSpec {
    kind: u8,
    code: u8,
    ehr_label: Option<u8>,
    refs: Vec<usize>,
    source: u8,
}

fn item_spec() -> impl Strategy<Value = ItemSpec> {
    (
        0u8..8,
        any::<u8>(),
        proptest::option::of(0u8..4),
        proptest::collection::vec(0usize..40, 0..3),
        0u8..3,
    )
        .prop_map(|(kind, code, ehr_label, refs, source)| ItemSpec {
            kind,
            code,
            ehr_label,
            refs,
            source,
        })
}

fn marker(i: usize) -> String {
    format!("MARK{i}Q")
}

fn id_of(i: usize, salt: u32) -> String {
    format!("id{i}z{salt}")
}

const TYPES: [&str; 8] = [
    "Condition",
    "Observation",
    "MedicationRequest",
    "Procedure",
    "AllergyIntolerance",
    "Immunization",
    "Medication",
    "Practitioner",
];

fn build_resource(i: usize, spec: &ItemSpec, specs: &[ItemSpec], salt: u32) -> Value {
    let ty = TYPES[spec.kind as usize];
    let (_, mut code) = sensitive_code(spec.code);
    code["text"] = json!(format!("Thing {}", marker(i)));
    let mut r = json!({ "resourceType": ty, "id": id_of(i, salt) });
    // Narrative and contained copies mention what the item refers to, as real EHR data can.
    let mut narrative = format!("About {}", marker(i));
    let mut contained = Vec::new();
    let mut references = Vec::new();
    for &t in &spec.refs {
        let t = t % specs.len();
        if t == i {
            continue;
        }
        narrative.push_str(&format!(" see {}", marker(t)));
        let tty = TYPES[specs[t].kind as usize];
        contained.push(json!({ "resourceType": "Basic", "id": format!("c{t}"), "code": { "text": marker(t) } }));
        references.push(json!({ "reference": format!("{tty}/{}", id_of(t, salt)), "display": format!("Linked {}", marker(t)) }));
    }
    r["text"] = json!({ "status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{narrative}</div>") });
    if !contained.is_empty() {
        r["contained"] = Value::Array(contained);
    }
    if let Some(l) = spec.ehr_label {
        let code = ["PSY", "ETH", "HIV", "SDV"][l as usize];
        r["meta"] = json!({ "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": code }] });
    }
    let subject = json!({ "reference": "Patient/p1", "display": "The patient" });
    match ty {
        "Condition" => {
            r["code"] = code;
            r["subject"] = subject;
            r["evidence"] = json!([{ "detail": references }]);
        }
        "Observation" => {
            r["status"] = json!("final");
            r["code"] = code;
            r["subject"] = subject;
            r["hasMember"] = Value::Array(references);
        }
        "MedicationRequest" => {
            r["status"] = json!("active");
            r["intent"] = json!("order");
            r["medicationCodeableConcept"] = code;
            r["subject"] = subject;
            r["reasonReference"] = Value::Array(references);
        }
        "Procedure" => {
            r["status"] = json!("completed");
            r["code"] = code;
            r["subject"] = subject;
            r["reasonReference"] = Value::Array(references);
        }
        "AllergyIntolerance" => {
            r["code"] = code;
            r["patient"] = subject;
            r["extension"] = json!(references
                .iter()
                .map(|x| json!({ "url": "http://example.org/rel", "valueReference": x }))
                .collect::<Vec<_>>());
        }
        "Immunization" => {
            r["status"] = json!("completed");
            r["vaccineCode"] = code;
            r["patient"] = subject;
            r["occurrenceDateTime"] = json!("2020-01-01");
            r["reasonReference"] = Value::Array(references);
        }
        "Medication" => {
            r["code"] = code;
        }
        _ => {
            r["name"] = json!([{ "text": format!("Dr {}", marker(i)) }]);
        }
    }
    r
}

fn selection() -> impl Strategy<Value = (BTreeSet<Section>, BTreeSet<Category>, Vec<usize>)> {
    (
        proptest::sample::subsequence(Section::ALL.to_vec(), 0..=Section::ALL.len()),
        proptest::sample::subsequence(Category::ALL.to_vec(), 0..=Category::ALL.len()),
        proptest::collection::vec(0usize..40, 0..4),
    )
        .prop_map(|(s, c, u)| (s.into_iter().collect(), c.into_iter().collect(), u))
}

fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(s)) = m.get("reference") {
                out.push(s.clone());
            }
            m.values().for_each(|c| references(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| references(c, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_5eed), ..ProptestConfig::default() })]

    #[test]
    fn withheld_items_never_leak(
        specs in proptest::collection::vec(item_spec(), 1..25),
        (sections, categories, untick) in selection(),
        salt in 0u32..1000,
        seed in any::<[u8; 32]>(),
    ) {
        let sources = [
            SourceRef { id: "a".into(), label: "Hospital A".into(), kind: SourceKind::Ehr, part2_program: false },
            SourceRef { id: "b".into(), label: "Program B".into(), kind: SourceKind::Ehr, part2_program: true },
            SourceRef { id: "me".into(), label: "Me".into(), kind: SourceKind::Patient, part2_program: false },
        ];
        let resources: Vec<Resource> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| Resource::from_value(&build_resource(i, s, &specs, salt)).unwrap())
            .collect();
        let keys: Vec<String> = (0..specs.len()).map(|i| format!("k{i}")).collect();
        let subjects: Vec<LabelSubject> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| LabelSubject {
                key: &keys[i],
                resource: r,
                source_id: &sources[specs[i].source as usize].id,
                part2_program: sources[specs[i].source as usize].part2_program,
            })
            .collect();
        let labelling = label_record(&subjects, &[]);
        let items: Vec<ShareItem> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| ShareItem {
                key: &keys[i],
                resource: r,
                source: &sources[specs[i].source as usize],
                labels: labelling.get(&keys[i]).unwrap(),
                provenance: None,
            })
            .collect();
        let patient = Resource::from_value(&json!({ "resourceType": "Patient", "id": "p1", "name": [{ "text": "Pat" }] })).unwrap();
        let sel = Selection {
            sections,
            excluded_items: untick.iter().map(|u| format!("k{}", u % specs.len())).collect(),
            explicit_items: BTreeSet::new(),
            included_categories: categories.clone(),
        };
        let p = plan(&items, &sel);
        let seg = select(&items, &patient, &sel, &seed).unwrap();
        let doc = build_ips(&seg, &DocumentMeta {
            identifier_system: "urn:ietf:rfc:3986".into(),
            identifier_value: "urn:uuid:0c6f8a4e-2d1b-4f7a-9a55-3f0c2b9e1d42".into(),
            timestamp: "2026-11-21T10:00:00Z".into(),
            title: "Patient summary".into(),
        }).unwrap();
        let raw = doc.raw();

        let mut shared = 0;
        for (i, d) in p.decisions.iter().enumerate() {
            let included = matches!(d, Decision::Included(_) | Decision::Supporting);
            if included {
                shared += 1;
                // An included item never has a category the patient did not include.
                let cats = labelling.get(&keys[i]).unwrap().category_set();
                prop_assert!(cats.is_subset(&categories), "item {i} shared with {cats:?}");
                continue;
            }
            // Withheld or not chosen: no trace of it anywhere.
            prop_assert!(!raw.contains(&marker(i)), "marker of item {i} ({d:?}) leaked");
            prop_assert!(!raw.contains(&id_of(i, salt)), "id of item {i} leaked");
            let urn = format!("urn:uuid:{}", id_of(i, salt));
            prop_assert!(!raw.contains(&urn), "fullUrl of item {} leaked", i);
        }
        prop_assert_eq!(shared, seg.entries.len());
        // Original ids never leave at all (the copies get new ids).
        let id_tail = format!("z{salt}\"");
        prop_assert!(!raw.contains(&id_tail), "an original id left the record");
        // Labels of categories that were not included never appear.
        for c in Category::ALL {
            if !categories.contains(&c) {
                if let Some(code) = c.default_act_code() {
                    prop_assert!(!raw.contains(&format!("\"code\":\"{code}\"")), "label {code} leaked");
                }
            }
        }
        if !categories.contains(&Category::SubstanceUse) {
            prop_assert!(!raw.contains("42CFRPart2") && !raw.contains("ETHUD"));
        }
        // Every reference resolves inside the Bundle, and Provenance targets only shared entries.
        let v = doc.value();
        let urls: BTreeSet<String> = v["entry"].as_array().unwrap().iter().map(|e| e["fullUrl"].as_str().unwrap().to_string()).collect();
        let mut refs = Vec::new();
        references(&v, &mut refs);
        for r in &refs {
            prop_assert!(urls.contains(r), "dangling reference {r}");
        }
        let shared_urls: BTreeSet<&str> = seg.entries.iter().map(|e| e.full_url.as_str()).collect();
        for e in v["entry"].as_array().unwrap() {
            if e["resource"]["resourceType"] == "Provenance" {
                for t in e["resource"]["target"].as_array().unwrap() {
                    prop_assert!(shared_urls.contains(t["reference"].as_str().unwrap()));
                }
            }
            prop_assert!(e["resource"].get("contained").is_none());
        }
    }
}
