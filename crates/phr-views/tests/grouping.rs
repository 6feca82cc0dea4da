//! Same fact from two sources is shown once; the rules per type.
mod common;

use common::*;
use phr_views::{Index, SourceKind};
use serde_json::{json, Value};

/// Builds a two-EHR record with `a` from the first source and `b` from the second, and says
/// whether they ended up in one group.
fn grouped(a: Value, b: Value) -> bool {
    let mut rec = Record::new();
    let s1 = rec.source("ehr:1", GH, SourceKind::Ehr);
    let s2 = rec.source("ehr:2", BH, SourceKind::Ehr);
    let ka = rec.add_json(s1, a);
    let kb = rec.add_json(s2, b);
    let index = rec.index();
    let ia = index.find(&ka).unwrap();
    let ib = index.find(&kb).unwrap();
    index.group_of(ia) == index.group_of(ib)
}

fn with(mut v: Value, path: &str, new: Value) -> Value {
    *v.pointer_mut(path).expect("path exists") = new;
    v
}

fn imm(code: &str, date: &str) -> Value {
    json!({"resourceType":"Immunization","id":"i","status":"completed",
        "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":code,"display":"Influenza"}]},
        "occurrenceDateTime":date})
}

#[test]
fn immunization_by_cvx_and_day() {
    assert!(grouped(
        imm("140", "2023-10-02"),
        imm("140", "2023-10-02T14:30:00-04:00")
    ));
    // Same instant written in UTC (next day in UTC is not the case here, same day).
    assert!(grouped(
        imm("140", "2023-10-02T14:30:00-04:00"),
        imm("140", "2023-10-02T18:30:00Z")
    ));
    // Late evening in New York is the next day in UTC: still the same shot.
    assert!(grouped(
        imm("140", "2023-10-02T22:30:00-04:00"),
        imm("140", "2023-10-03T02:30:00Z")
    ));
    assert!(!grouped(imm("140", "2023-10-02"), imm("140", "2023-10-05")));
    assert!(!grouped(imm("140", "2023-10-02"), imm("141", "2023-10-02")));
}

fn cond(code: &str, onset: Option<&str>) -> Value {
    let mut v = json!({"resourceType":"Condition","id":"c",
        "clinicalStatus":{"coding":[{"code":"active"}]},
        "code":{"coding":[{"system":"http://snomed.info/sct","code":code,"display":"Hypertension"}]}});
    if let Some(o) = onset {
        v["onsetDateTime"] = json!(o);
    }
    v
}

#[test]
fn condition_by_code_and_onset_day() {
    assert!(grouped(
        cond("59621000", Some("2012-06-01")),
        cond("59621000", Some("2012-06-01T09:30:00-04:00"))
    ));
    assert!(grouped(cond("59621000", None), cond("59621000", None)));
    assert!(!grouped(
        cond("59621000", Some("2012-06-01")),
        cond("59621000", None)
    ));
    assert!(!grouped(
        cond("59621000", Some("2012-06-01")),
        cond("38341003", Some("2012-06-01"))
    ));
    // A shared coding among several is enough.
    let multi = with(
        cond("59621000", Some("2012-06-01")),
        "/code/coding",
        json!([{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"},
               {"system":"http://snomed.info/sct","code":"59621000"}]),
    );
    assert!(grouped(multi, cond("59621000", Some("2012-06-01"))));
    // Same code in another system is not a match.
    let icd_only = with(
        cond("x", Some("2012-06-01")),
        "/code/coding",
        json!([{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"59621000"}]),
    );
    assert!(!grouped(icd_only, cond("59621000", Some("2012-06-01"))));
}

fn allergy(system: &str, code: &str) -> Value {
    json!({"resourceType":"AllergyIntolerance","id":"a",
        "code":{"coding":[{"system":system,"code":code,"display":"Amoxicillin"}]},
        "recordedDate":"2010-01-01"})
}

#[test]
fn allergy_by_code_only() {
    let rx = "http://www.nlm.nih.gov/research/umls/rxnorm";
    let a = allergy(rx, "723");
    let b = with(allergy(rx, "723"), "/recordedDate", json!("2019-05-05"));
    assert!(grouped(a, b));
    assert!(!grouped(allergy(rx, "723"), allergy(rx, "7980")));
}

fn med(rx: &str, date: &str) -> Value {
    json!({"resourceType":"MedicationRequest","id":"m","status":"active","intent":"order",
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":rx,"display":"Atorvastatin 20 MG"}]},
        "authoredOn":date})
}

#[test]
fn medication_by_rxnorm_and_day() {
    assert!(grouped(
        med("617310", "2021-09-15"),
        med("617310", "2021-09-15T10:00:00-04:00")
    ));
    assert!(!grouped(
        med("617310", "2021-09-15"),
        med("617310", "2022-11-02")
    ));
    // A statement and a request for the same drug on the same day are one fact.
    let stmt = json!({"resourceType":"MedicationStatement","id":"s","status":"active",
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"617310"}]},
        "effectiveDateTime":"2021-09-15"});
    assert!(grouped(med("617310", "2021-09-15"), stmt));
    // Without RxNorm there is no medication grouping.
    let local = with(
        med("617310", "2021-09-15"),
        "/medicationCodeableConcept/coding/0/system",
        json!("urn:oid:1.2.3"),
    );
    assert!(!grouped(local.clone(), local));
}

fn obs(code: &str, when: &str, value: Value, unit: &str) -> Value {
    json!({"resourceType":"Observation","id":"o","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":code,"display":"HbA1c"}]},
        "effectiveDateTime":when,
        "valueQuantity":{"value":value,"unit":unit,"system":"http://unitsofmeasure.org","code":unit}})
}

#[test]
fn observation_by_code_time_and_value() {
    let a = obs("4548-4", "2023-03-05T08:05:00-05:00", json!(6.4), "%");
    assert!(grouped(
        a.clone(),
        obs("4548-4", "2023-03-05T13:05:00Z", json!(6.40), "%")
    ));
    assert!(!grouped(
        a.clone(),
        obs("4548-4", "2023-03-05T08:05:00-05:00", json!(6.5), "%")
    ));
    assert!(!grouped(
        a.clone(),
        obs("4548-4", "2023-03-05T09:05:00-05:00", json!(6.4), "%")
    ));
    assert!(!grouped(
        a.clone(),
        obs(
            "4548-4",
            "2023-03-05T08:05:00-05:00",
            json!(6.4),
            "mmol/mol"
        )
    ));
    assert!(!grouped(
        a,
        obs("17856-6", "2023-03-05T08:05:00-05:00", json!(6.4), "%")
    ));
    // Blood pressure panels compare their components.
    let bp = |s: i64, d: i64| {
        json!({"resourceType":"Observation","id":"bp","status":"final",
            "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
            "effectiveDateTime":"2023-03-05T07:55:00-05:00",
            "component":[
                {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":s,"code":"mm[Hg]"}},
                {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":d,"code":"mm[Hg]"}}]})
    };
    assert!(grouped(bp(128, 82), bp(128, 82)));
    assert!(!grouped(bp(128, 82), bp(128, 83)));
}

fn proc(code: &str, date: &str) -> Value {
    json!({"resourceType":"Procedure","id":"p","status":"completed",
        "code":{"coding":[{"system":"http://snomed.info/sct","code":code}]},"performedDateTime":date})
}

fn enc(start: &str, end: &str, ty: &str) -> Value {
    json!({"resourceType":"Encounter","id":"e","status":"finished","class":{"code":"AMB"},
        "type":[{"coding":[{"system":"http://snomed.info/sct","code":ty}]}],
        "period":{"start":start,"end":end}})
}

#[test]
fn procedure_encounter_and_others() {
    assert!(grouped(
        proc("73761001", "2020-08-19"),
        proc("73761001", "2020-08-19T09:00:00-04:00")
    ));
    assert!(!grouped(
        proc("73761001", "2020-08-19"),
        proc("73761001", "2020-08-20")
    ));
    let e = enc(
        "2023-03-05T07:45:00-05:00",
        "2023-03-05T08:30:00-05:00",
        "185349003",
    );
    assert!(grouped(
        e.clone(),
        enc("2023-03-05T12:45:00Z", "2023-03-05T13:30:00Z", "185349003")
    ));
    assert!(!grouped(
        e.clone(),
        enc(
            "2023-03-05T07:45:00-05:00",
            "2023-03-05T09:30:00-05:00",
            "185349003"
        )
    ));
    assert!(!grouped(
        e,
        enc(
            "2023-03-05T07:45:00-05:00",
            "2023-03-05T08:30:00-05:00",
            "390906007"
        )
    ));
    // Practitioners by NPI.
    let pr = |npi: &str, name: &str| {
        json!({"resourceType":"Practitioner","id":"p",
            "identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":npi}],
            "name":[{"family":name}]})
    };
    assert!(grouped(
        pr("9999912345", "Lee"),
        pr("9999912345", "Lee-Smith")
    ));
    assert!(!grouped(pr("9999912345", "Lee"), pr("9999954321", "Lee")));
    // Patients are never grouped; neither are types without a rule.
    let pat = json!({"resourceType":"Patient","id":"p","name":[{"family":"X"}]});
    assert!(!grouped(pat.clone(), pat));
}

#[test]
fn same_source_duplicates_and_errors_are_never_merged() {
    let mut rec = Record::new();
    let s1 = rec.source("ehr:1", GH, SourceKind::Ehr);
    let s2 = rec.source("ehr:2", BH, SourceKind::Ehr);
    let a1 = rec.add_json(s1, with(imm("140", "2023-10-02"), "/id", json!("a1")));
    let a2 = rec.add_json(s1, with(imm("140", "2023-10-02"), "/id", json!("a2")));
    let b = rec.add_json(s2, imm("140", "2023-10-02"));
    let err = rec.add_json(
        s2,
        with(
            with(
                imm("140", "2023-10-02"),
                "/status",
                json!("entered-in-error"),
            ),
            "/id",
            json!("err"),
        ),
    );
    let index = rec.index();
    let g = |k: &str| index.group_of(index.find(k).unwrap());
    // One of the two same-source copies joins the other source's copy; never both.
    assert_ne!(g(&a1), g(&a2));
    assert!(g(&a1) == g(&b) || g(&a2) == g(&b));
    assert_eq!(index.group_members(g(&err)).len(), 1);
}

#[test]
fn fixture_groups_list_every_source_and_keep_both_keys() {
    let rec = fixture_record();
    let index: Index = rec.index();
    let pairs = [
        ("gh-flu-2023", "bh-flu-2023"),
        ("gh-htn", "bh-htn"),
        ("gh-a1c-2", "bh-a1c"),
        ("gh-allergy-amox", "bh-allergy-amox"),
    ];
    for (a, b) in pairs {
        let ka = rec.key_of(a);
        let kb = rec.key_of(b);
        let ia = index.find(&ka).unwrap();
        let ib = index.find(&kb).unwrap();
        assert_eq!(index.group_of(ia), index.group_of(ib), "{a} ~ {b}");
        let row = index.row_of(ia, false).unwrap();
        let labels: Vec<&str> = row.sources.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, [GH, BH], "{a}");
        let keys: Vec<&str> = row.sources.iter().map(|s| s.key.as_str()).collect();
        assert!(keys.contains(&ka.as_str()) && keys.contains(&kb.as_str()));
    }
    // Atorvastatin prescribed on different days by two providers are two facts (the medication
    // check flags them instead).
    let a = index.find(&rec.key_of("gh-atorva")).unwrap();
    let b = index.find(&rec.key_of("bh-atorva")).unwrap();
    assert_ne!(index.group_of(a), index.group_of(b));
}

#[test]
fn patient_copy_never_represents_a_clinician_fact() {
    let mut rec = Record::new();
    let me = rec.source("patient", YOU, SourceKind::Patient);
    let ehr = rec.source("ehr:1", GH, SourceKind::Ehr);
    // The patient's copy comes first in input order and has a newer date.
    let mine = rec.add_json(me, cond("59621000", Some("2012-06-01")));
    let theirs = rec.add_json(ehr, cond("59621000", Some("2012-06-01T09:30:00-04:00")));
    let index = rec.index();
    let row = index.row_of(index.find(&mine).unwrap(), false).unwrap();
    assert_eq!(row.key, theirs, "the clinician copy represents the group");
    assert!(!row.patient_reported);
    let me_badge = row.sources.iter().find(|s| s.key == mine).unwrap();
    assert!(me_badge.patient_reported);
    // Hide the clinician copy: the row now shows only the patient's copy, flagged as such.
    rec.entry_mut(&theirs).hidden = true;
    let index = rec.index();
    let row = index.row_of(index.find(&mine).unwrap(), false).unwrap();
    assert_eq!(row.key, mine);
    assert!(row.patient_reported);
    assert_eq!(row.sources.len(), 1);
}
