mod common;

use std::collections::BTreeSet;

use common::fixture::demo_record;
use phr_consent::Category;
use phr_share::{
    build_ips, plan, select, summary, view_document, Decision, DocumentMeta, Section, Selection,
    ShareError, PART2_NOTICE,
};
use serde_json::Value;

const SEED: [u8; 32] = [7; 32];

fn meta() -> DocumentMeta {
    DocumentMeta {
        identifier_system: "urn:ietf:rfc:3986".into(),
        identifier_value: "urn:uuid:0c6f8a4e-2d1b-4f7a-9a55-3f0c2b9e1d42".into(),
        timestamp: "2026-11-21T10:00:00Z".into(),
        title: "Patient summary".into(),
    }
}

fn build(sel: &Selection) -> (Value, String) {
    let rec = demo_record();
    let items = rec.share_items();
    let seg = select(&items, &rec.patient, sel, &SEED).unwrap();
    let doc = build_ips(&seg, &meta()).unwrap();
    (doc.value(), doc.raw().to_string())
}

fn entries_of<'a>(doc: &'a Value, ty: &str) -> Vec<&'a Value> {
    doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == ty)
        .collect()
}

fn all_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(s)) = m.get("reference") {
                out.push(s.clone());
            }
            m.values().for_each(|c| all_references(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| all_references(c, out)),
        _ => {}
    }
}

fn assert_references_resolve(doc: &Value) {
    let urls: BTreeSet<&str> = doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    let mut refs = Vec::new();
    all_references(doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        assert!(urls.contains(r.as_str()), "dangling reference {r}");
    }
}

#[test]
fn default_share_withholds_every_sensitive_category() {
    let (doc, raw) = build(&Selection::default());
    // Nothing sensitive, nothing from the Part 2 program, no narrative leak.
    for marker in [
        "Major depressive",
        "sertraline",
        "buprenorphine",
        "Dependent drug abuse",
        "PHQ-9",
        "AUDIT-C",
        "Opioid dependence",
        "methadone",
        "Riverside",
        "suboxone",
        "opioid",
        "Therapy session",
        "cond-mdd",
        "cond-sud",
        "pat-1",
        "42CFRPart2",
        "\"ETH\"",
        "\"PSY\"",
        "PSYTHPN",
    ] {
        assert!(!raw.contains(marker), "leaked {marker}");
    }
    assert!(
        raw.contains("Hypertension")
            && raw.contains("lisinopril")
            && raw.contains("Allergy to penicillin")
    );
    assert_references_resolve(&doc);
    // No 42 CFR Part 2 notice without substance-use data.
    assert!(!raw.contains("42 CFR part 2"));
    let comp = entries_of(&doc, "Composition")[0];
    assert_eq!(comp["confidentiality"], "N");
    assert!(comp.get("meta").is_none());
    assert!(doc.get("meta").is_none());
}

#[test]
fn withheld_counts_for_the_composer() {
    let rec = demo_record();
    let items = rec.share_items();
    let p = plan(&items, &Selection::default());
    // SUD: cond-sud, med-bup, obs-auditc, rr-cond, rr-methadone (rr-weight is in vital signs,
    // not chosen by default); MH: cond-mdd, med-sert (obs-phq9 is a survey → Results).
    assert_eq!(p.withheld[&Category::SubstanceUse], 5, "{:?}", p.withheld);
    assert_eq!(p.withheld[&Category::MentalHealth], 3);
    assert!(p
        .withheld_summary()
        .contains(&"Withheld: 5 items in Substance use".to_string()));
    let key = |k: &str| items.iter().position(|i| i.key == k).unwrap();
    assert_eq!(p.decisions[key("dr-1")], Decision::Supporting);
    assert_eq!(p.decisions[key("enc-1")], Decision::NotChosen);
    assert_eq!(
        p.decisions[key("cond-htn")],
        Decision::Included(Section::Problems)
    );
    assert_eq!(
        p.decisions[key("cond-sinus")],
        Decision::NotChosen,
        "past illness not chosen"
    );
}

#[test]
fn ips_structure() {
    let (doc, _) = build(&Selection::default());
    assert_eq!(doc["resourceType"], "Bundle");
    assert_eq!(doc["type"], "document");
    assert_eq!(doc["timestamp"], "2026-11-21T10:00:00Z");
    assert_eq!(
        doc["identifier"]["value"],
        "urn:uuid:0c6f8a4e-2d1b-4f7a-9a55-3f0c2b9e1d42"
    );
    let first = &doc["entry"][0]["resource"];
    assert_eq!(first["resourceType"], "Composition");
    assert_eq!(first["type"]["coding"][0]["code"], "60591-5");
    assert_eq!(first["status"], "final");
    assert_eq!(first["date"], "2026-11-21T10:00:00Z");
    let patient_url = doc["entry"][1]["fullUrl"].as_str().unwrap();
    assert_eq!(doc["entry"][1]["resource"]["resourceType"], "Patient");
    assert_eq!(first["subject"]["reference"], patient_url);
    assert_eq!(first["author"][0]["reference"], patient_url);
    let codes: Vec<&str> = first["section"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["code"]["coding"][0]["code"].as_str())
        .collect();
    for required in ["11450-4", "10160-0", "48765-2"] {
        assert!(
            codes.contains(&required),
            "{required} missing from {codes:?}"
        );
    }
    for s in first["section"].as_array().unwrap() {
        let div = s["text"]["div"].as_str().unwrap();
        assert!(div.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">"));
        assert_eq!(s["text"]["status"], "generated");
        assert!(s.get("entry").is_some() != s.get("emptyReason").is_some());
    }
    // Every entry's copy has a generated narrative and no contained resources.
    for e in doc["entry"].as_array().unwrap() {
        let r = &e["resource"];
        assert!(r.get("contained").is_none());
        assert_eq!(r["text"]["status"], "generated", "{}", r["resourceType"]);
        assert_eq!(
            e["fullUrl"].as_str().unwrap(),
            format!("urn:uuid:{}", r["id"].as_str().unwrap())
        );
    }
    // Provenance per source: Demo General (an Organization) and the patient.
    let orgs = entries_of(&doc, "Organization");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["name"], "Demo General Hospital");
    let provs = entries_of(&doc, "Provenance");
    assert_eq!(provs.len(), 2);
    let patient_prov = provs
        .iter()
        .find(|p| p["agent"][0]["who"]["reference"] == patient_url)
        .unwrap();
    assert_eq!(patient_prov["target"].as_array().unwrap().len(), 2);
    assert_eq!(patient_prov["meta"]["security"][0]["code"], "PATAST");
    // Patient-entered items keep PATAST.
    let peanut = entries_of(&doc, "AllergyIntolerance")
        .into_iter()
        .find(|a| a["code"]["text"] == "Peanuts")
        .unwrap();
    assert_eq!(peanut["meta"]["security"][0]["code"], "PATAST");
}

#[test]
fn empty_required_sections_say_so_without_revealing_withholding() {
    let mut sel = Selection::default();
    // Untick every allergy: the required allergy section becomes empty.
    sel.excluded_items
        .extend(["allergy-pcn".to_string(), "me-peanut".to_string()]);
    let (doc, raw) = build(&sel);
    let comp = &doc["entry"][0]["resource"];
    let allergies = comp["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"]["coding"][0]["code"] == "48765-2")
        .unwrap();
    assert_eq!(allergies["emptyReason"]["coding"][0]["code"], "unavailable");
    assert!(allergies.get("entry").is_none());
    assert!(!raw.contains("withheld"));
}

#[test]
fn including_substance_use_brings_the_part2_notice() {
    let mut sel = Selection::default();
    sel.included_categories.insert(Category::SubstanceUse);
    let (doc, raw) = build(&sel);
    assert!(raw.contains(PART2_NOTICE));
    assert!(raw.contains("buprenorphine") && raw.contains("Opioid dependence"));
    assert!(!raw.contains("sertraline"), "mental health still withheld");
    for m in [&doc["meta"], &doc["entry"][0]["resource"]["meta"]] {
        let codes: Vec<&str> = m["security"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["code"].as_str())
            .collect();
        assert!(
            codes.contains(&"42CFRPart2") && codes.contains(&"NORDSCLCD"),
            "{codes:?}"
        );
    }
    assert_eq!(doc["entry"][0]["resource"]["confidentiality"], "R");
    // Part 2 items carry their labels; the Part 2 program has its own Organization + Provenance.
    let orgs: Vec<String> = entries_of(&doc, "Organization")
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert!(orgs.contains(&"Riverside Recovery Center".to_string()));
    let rr = entries_of(&doc, "Condition")
        .into_iter()
        .find(|c| c["code"]["text"] == "Opioid dependence, uncomplicated")
        .unwrap();
    let codes: Vec<&str> = rr["meta"]["security"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert!(codes.contains(&"42CFRPart2") && codes.contains(&"R"));
    assert_references_resolve(&doc);
}

#[test]
fn psychotherapy_notes_need_an_explicit_item_choice() {
    let rec = demo_record();
    let items = rec.share_items();
    let idx = items.iter().position(|i| i.key == "doc-therapy").unwrap();
    let mut sel = Selection::default();
    sel.include_all_bulk_includable();
    sel.sections.insert(Section::Results);
    let p = plan(&items, &sel);
    assert!(matches!(
        p.decisions[idx],
        Decision::NotChosen | Decision::Withheld(_)
    ));
    assert!(!sel
        .included_categories
        .contains(&Category::PsychotherapyNotes));
    sel.included_categories.insert(Category::PsychotherapyNotes);
    // Category included but the note not ticked: still withheld (or not in a section).
    let p = plan(&items, &sel);
    assert_ne!(p.decisions[idx], Decision::Supporting);
    assert!(!matches!(p.decisions[idx], Decision::Included(_)));
}

#[test]
fn decimals_keep_their_digits_and_narratives_are_escaped() {
    use phr_consent::{label_record, LabelSubject};
    use phr_fhir::Resource;
    use phr_share::{ShareItem, SourceKind, SourceRef};
    let src = SourceRef {
        id: "x".into(),
        label: "Lab <b>Co</b>".into(),
        kind: SourceKind::Ehr,
        part2_program: false,
    };
    let obs = Resource::from_json(r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"<img src=x onerror=alert(1)>"},"valueQuantity":{"value":1.50,"unit":"mmol/L"},"subject":{"reference":"Patient/p"}}"#).unwrap();
    let patient =
        Resource::from_json(r#"{"resourceType":"Patient","id":"p","name":[{"text":"Sam"}]}"#)
            .unwrap();
    let labels = label_record(
        &[LabelSubject {
            key: "o",
            resource: &obs,
            source_id: "x",
            part2_program: false,
        }],
        &[],
    );
    let items = [ShareItem {
        key: "o",
        resource: &obs,
        source: &src,
        labels: labels.get("o").unwrap(),
        provenance: None,
    }];
    let seg = select(&items, &patient, &Selection::default(), &SEED).unwrap();
    let doc = build_ips(&seg, &meta()).unwrap();
    assert!(
        doc.raw().contains("\"value\":1.50"),
        "decimal precision lost"
    );
    let v = doc.value();
    for s in v["entry"][0]["resource"]["section"].as_array().unwrap() {
        let div = s["text"]["div"].as_str().unwrap();
        assert!(!div.contains("<img") && !div.contains("<b>"), "{div}");
    }
    let html = summary::render_document_html(doc.raw()).unwrap();
    assert!(!html.contains("<img") && html.contains("&lt;img"));
    assert!(html.contains("Lab &lt;b&gt;Co&lt;/b&gt;"));
}

#[test]
fn select_and_build_reject_bad_inputs() {
    let rec = demo_record();
    let items = rec.share_items();
    let not_patient = phr_fhir::Resource::from_json(r#"{"resourceType":"Observation"}"#).unwrap();
    assert_eq!(
        select(&items, &not_patient, &Selection::default(), &SEED).unwrap_err(),
        ShareError::NotAPatient
    );
    let seg = select(&items, &rec.patient, &Selection::default(), &SEED).unwrap();
    let mut m = meta();
    m.timestamp = "2026-11-21".into();
    assert!(matches!(
        build_ips(&seg, &m).unwrap_err(),
        ShareError::BadTimestamp(_)
    ));
    let mut m = meta();
    m.identifier_value = " ".into();
    assert_eq!(
        build_ips(&seg, &m).unwrap_err(),
        ShareError::MissingIdentifier
    );
}

#[test]
fn preview_lists_exactly_what_leaves() {
    let rec = demo_record();
    let items = rec.share_items();
    let seg = select(&items, &rec.patient, &Selection::default(), &SEED).unwrap();
    let preview = seg.preview();
    assert_eq!(preview.len(), seg.entries.len() + 1);
    assert_eq!(preview[0].resource_type, "Patient");
    assert_eq!(preview[0].row.title, "Alex Doe");
    let titles: Vec<&str> = preview.iter().map(|p| p.row.title.as_str()).collect();
    assert!(titles.contains(&"Hypertension") && titles.contains(&"Jane Rivera"));
    assert!(!titles.iter().any(|t| t.contains("buprenorphine")));
    let peanut = preview.iter().find(|p| p.row.title == "Peanuts").unwrap();
    assert!(peanut.patient_reported);
    assert_eq!(peanut.source.as_deref(), Some("Entered by the patient"));
    // The same inputs give the same document (ids derive from the seed).
    let again = select(&items, &rec.patient, &Selection::default(), &SEED).unwrap();
    assert_eq!(
        build_ips(&seg, &meta()).unwrap().raw(),
        build_ips(&again, &meta()).unwrap().raw()
    );
}

#[test]
fn viewer_and_printable_summary_of_our_document() {
    let mut sel = Selection::default();
    sel.included_categories.insert(Category::SubstanceUse);
    let (_, raw) = build(&sel);
    let view = view_document(&raw).unwrap();
    assert_eq!(view.patient.name.as_deref(), Some("Alex Doe"));
    assert_eq!(view.patient.birth_date.as_deref(), Some("1984-03-09"));
    assert!(view.restricted);
    assert_eq!(view.notices, vec![PART2_NOTICE.to_string()]);
    assert!(view.issues.is_empty(), "{:?}", view.issues);
    let problems = view
        .sections
        .iter()
        .find(|s| s.code.as_deref() == Some("11450-4"))
        .unwrap();
    let htn = problems
        .rows
        .iter()
        .find(|r| r.row.title == "Hypertension")
        .unwrap();
    assert_eq!(htn.source.as_deref(), Some("Demo General Hospital"));
    assert!(!htn.patient_reported);
    let allergies = view
        .sections
        .iter()
        .find(|s| s.code.as_deref() == Some("48765-2"))
        .unwrap();
    assert!(allergies
        .rows
        .iter()
        .any(|r| r.row.title == "Peanuts" && r.patient_reported));

    let html = summary::render_html(&view);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>") && html.contains("@media print"));
    assert!(html.contains("Demo General Hospital") && html.contains("patient-reported"));
    assert!(html.contains("remain the legal medical record"));
    assert!(html.contains("42 CFR part 2"));
    assert!(html.contains("2026-11-21T10:00:00Z"));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn viewer_reads_other_tools_bundles() {
    // A collection Bundle without Composition, with an unknown resource and a broken entry.
    let other = r#"{"resourceType":"Bundle","type":"collection","entry":[
        {"resource":{"resourceType":"Patient","id":"x","name":[{"given":["Kim"],"family":"Lee"}]}},
        {"resource":{"resourceType":"Condition","id":"c","code":{"text":"Asthma"}}},
        {"resource":{"resourceType":"Observation","id":"o","category":[{"coding":[{"code":"vital-signs"}]}],"code":{"text":"Heart rate"},"valueQuantity":{"value":72,"unit":"/min"}}},
        {"resource":{"resourceType":"Basic","id":"b"}},
        {"resource":{"resourceType":7}}
    ]}"#;
    let v = view_document(other).unwrap();
    assert_eq!(v.patient.name.as_deref(), Some("Kim Lee"));
    let titles: Vec<&str> = v.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Problems", "Vital signs"]);
    assert_eq!(v.sections[1].rows[0].row.detail, "72 /min");
    assert_eq!(v.issues.len(), 1);
    // A document whose section entries point nowhere, with an uncoded note section.
    let doc = r#"{"resourceType":"Bundle","type":"document","meta":{"security":[{"code":"42CFRPart2"}]},"entry":[
        {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Composition","title":"Summary","section":[
            {"title":"Meds","code":{"coding":[{"code":"10160-0"}]},"entry":[{"reference":"urn:uuid:missing"}]},
            {"title":"Note","text":{"div":"<div><p>Hello &amp; <b>bye</b></p></div>"}}]}}]}"#;
    let v = view_document(doc).unwrap();
    assert_eq!(v.title, "Summary");
    assert!(v.notices.contains(&"Hello & bye".to_string()));
    assert!(v.notices.contains(&PART2_NOTICE.to_string()));
    assert!(v.issues.iter().any(|i| i.contains("Meds")));
    assert!(view_document("{\"resourceType\":\"Patient\"}").is_err());
    assert!(view_document("not json").is_err());
}

#[test]
fn government_ids_never_leave_with_the_summary() {
    use serde_json::json;
    let rec = demo_record();
    let items = rec.share_items();
    let mut patient = rec.patient.value();
    patient["identifier"] = json!([
        { "system": "http://hospital.example/mrn", "value": "MRN-445566" },
        { "system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-12-3456" },
        { "system": "urn:oid:2.16.840.1.113883.4.3.25", "value": "S99912345" },
        { "system": "http://hl7.org/fhir/sid/passport-USA", "value": "X12345678" },
        { "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "SS" }] },
          "value": "999-65-4321" }
    ]);
    let patient = phr_fhir::Resource::from_value(&patient).unwrap();
    let seg = select(&items, &patient, &Selection::default(), &SEED).unwrap();
    let raw = build_ips(&seg, &meta()).unwrap().raw().to_string();
    for secret in ["999-12-3456", "S99912345", "X12345678", "999-65-4321"] {
        assert!(!raw.contains(secret), "{secret} was shared");
    }
    let doc: Value = serde_json::from_str(&raw).unwrap();
    let shared = &entries_of(&doc, "Patient")[0]["identifier"];
    assert_eq!(shared.as_array().map(Vec::len), Some(1), "{shared}");
    assert_eq!(shared[0]["value"], "MRN-445566");

    // Only government numbers: the identifier element goes entirely.
    let mut only_ssn = rec.patient.value();
    only_ssn["identifier"] =
        json!([{ "system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-12-3456" }]);
    let patient = phr_fhir::Resource::from_value(&only_ssn).unwrap();
    let seg = select(&items, &patient, &Selection::default(), &SEED).unwrap();
    let doc = build_ips(&seg, &meta()).unwrap().value();
    assert!(entries_of(&doc, "Patient")[0].get("identifier").is_none());
}
