mod common;

use common::*;
use phr_views::medcheck::{medication_checks, FindingKind};
use phr_views::SourceKind;
use serde_json::{json, Value};

const RX: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";

fn med(id: &str, code: &str, display: &str, date: &str) -> Value {
    json!({"resourceType":"MedicationRequest","id":id,"status":"active","intent":"order",
        "medicationCodeableConcept":{"coding":[{"system":RX,"code":code,"display":display}]},
        "authoredOn":date})
}

#[test]
fn fixture_findings_are_exact_and_worded_as_questions() {
    let rec = fixture_record();
    let index = rec.index();
    let findings = medication_checks(&index);
    let kinds: Vec<FindingKind> = findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FindingKind::SameDrug, FindingKind::AllergyMatch],
        "{findings:#?}"
    );
    let same = &findings[0];
    assert_eq!(
        same.message,
        "Atorvastatin 20 MG Oral Tablet appears as active from Demo General Hospital, \
         Demo Behavioral Health Clinic, and your own entries. Ask your clinician whether you \
         should be taking both."
    );
    assert_eq!(same.code, format!("{RX}|617310"));
    assert!(same.keys.contains(&rec.key_of("gh-atorva")));
    assert!(same.keys.contains(&rec.key_of("bh-atorva")));
    let allergy = &findings[1];
    assert_eq!(allergy.code, format!("{RX}|723"));
    assert!(allergy.message.starts_with(
        "Your record lists an allergy to Amoxicillin (from Demo General Hospital and Demo \
         Behavioral Health Clinic), and Amoxicillin 875 MG / Clavulanate 125 MG Oral Tablet \
         appears as an active medication (from Demo Behavioral Health Clinic)"
    ));
    assert!(allergy
        .message
        .ends_with("Ask your clinician before taking it."));
    for f in &findings {
        assert!(f.message.contains("Ask your clinician"));
    }
}

#[test]
fn same_drug_needs_two_sources_and_active_status() {
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    let b = rec.source("ehr:b", BH, SourceKind::Ehr);
    rec.add_json(a, med("1", "617310", "Atorvastatin 20 MG", "2021-01-01"));
    rec.add_json(a, med("2", "617310", "Atorvastatin 20 MG", "2022-01-01"));
    // One source listing it twice is not a cross-provider finding.
    assert!(medication_checks(&rec.index()).is_empty());
    let kb = rec.add_json(b, med("3", "617310", "Lipitor 20 MG", "2023-01-01"));
    let f = medication_checks(&rec.index());
    assert_eq!(
        f.len(),
        2,
        "each of the hospital's two orders vs the clinic's"
    );
    assert!(f[0].message.starts_with(
        "Atorvastatin 20 MG (from Demo General Hospital) and Lipitor 20 MG (from Demo \
         Behavioral Health Clinic) have the same drug code"
    ));
    // Stopped, hidden or gone entries are not active.
    rec.entry_mut(&kb).gone = true;
    assert!(medication_checks(&rec.index()).is_empty());
    rec.entry_mut(&kb).gone = false;
    rec.entry_mut(&kb).hidden = true;
    assert!(medication_checks(&rec.index()).is_empty());
    let mut stopped = med("4", "617310", "Atorvastatin", "2023-01-01");
    stopped["status"] = json!("stopped");
    rec.add_json(b, stopped);
    assert!(medication_checks(&rec.index()).is_empty());
}

#[test]
fn shared_ingredient_only_with_ingredient_data() {
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    let me = rec.source("patient", YOU, SourceKind::Patient);
    // Combination product with ingredient data.
    rec.add_json(
        a,
        json!({"resourceType":"MedicationRequest","id":"combo","status":"active","intent":"order",
            "contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"system":RX,"code":"809854","display":"Lisinopril 20 MG / Hydrochlorothiazide 12.5 MG"}]},
                "ingredient":[{"itemCodeableConcept":{"coding":[{"system":RX,"code":"29046","display":"Lisinopril"}]}},
                              {"itemCodeableConcept":{"coding":[{"system":RX,"code":"5487","display":"Hydrochlorothiazide"}]}}]}],
            "medicationReference":{"reference":"#m"},"authoredOn":"2023-01-01"}),
    );
    // The patient lists the single ingredient by its ingredient code.
    rec.add_json(
        me,
        json!({"resourceType":"MedicationStatement","id":"hctz","status":"active",
            "medicationCodeableConcept":{"coding":[{"system":RX,"code":"5487","display":"Hydrochlorothiazide"}]},
            "effectiveDateTime":"2024-01-01"}),
    );
    let f = medication_checks(&rec.index());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::SameIngredient);
    assert!(f[0].message.contains("both contain hydrochlorothiazide"));
    assert!(f[0].message.contains("(from your own entries)"));
    assert!(f[0]
        .message
        .ends_with("Ask your clinician whether you should be taking both."));

    // Without ingredient data, a combination product and a single drug are not matched: no
    // knowledge of what the product contains is invented.
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    let b = rec.source("ehr:b", BH, SourceKind::Ehr);
    rec.add_json(
        a,
        med(
            "1",
            "809854",
            "Lisinopril 20 MG / Hydrochlorothiazide 12.5 MG",
            "2023-01-01",
        ),
    );
    rec.add_json(b, med("2", "5487", "Hydrochlorothiazide", "2023-01-01"));
    assert!(medication_checks(&rec.index()).is_empty());
}

#[test]
fn allergy_matches_only_exact_codes() {
    let allergy = |code: &str| {
        json!({"resourceType":"AllergyIntolerance","id":"al",
            "clinicalStatus":{"coding":[{"code":"active"}]},
            "code":{"coding":[{"system":RX,"code":code,"display":"Penicillin V"}]}})
    };
    let mut rec = Record::new();
    let a = rec.source("ehr:a", GH, SourceKind::Ehr);
    rec.add_json(a, allergy("7980"));
    // Amoxicillin is a penicillin, but the codes differ: nothing is claimed.
    rec.add_json(a, med("1", "723", "Amoxicillin", "2023-01-01"));
    assert!(medication_checks(&rec.index()).is_empty());
    // The same code: flagged, even from the same source.
    rec.add_json(a, med("2", "7980", "Penicillin V", "2023-01-01"));
    let f = medication_checks(&rec.index());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, FindingKind::AllergyMatch);
    // An inactive allergy is not checked.
    let mut rec2 = Record::new();
    let a = rec2.source("ehr:a", GH, SourceKind::Ehr);
    let mut inactive = allergy("7980");
    inactive["clinicalStatus"] = json!({"coding":[{"code":"inactive"}]});
    rec2.add_json(a, inactive);
    rec2.add_json(a, med("2", "7980", "Penicillin V", "2023-01-01"));
    assert!(medication_checks(&rec2.index()).is_empty());
}
