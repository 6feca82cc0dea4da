use phr_consent::{
    build_consent, label_record, Category, ConsentError, DisclosureChoice, LabelSubject, Override,
    Purpose,
};
use phr_fhir::Resource;

fn res(json: &str) -> Resource {
    Resource::from_json(json).unwrap()
}

fn subject<'a>(key: &'a str, r: &'a Resource) -> LabelSubject<'a> {
    LabelSubject {
        key,
        resource: r,
        source_id: "ehr-1",
        part2_program: false,
    }
}

fn categories_of(r: &Resource) -> Vec<Category> {
    let l = label_record(&[subject("k", r)], &[]);
    l.get("k").unwrap().category_set().into_iter().collect()
}

fn condition(system: &str, code: &str, display: &str) -> Resource {
    res(&format!(
        r#"{{"resourceType":"Condition","id":"c","code":{{"coding":[{{"system":"{system}","code":"{code}","display":"{display}"}}]}}}}"#
    ))
}

const SNOMED: &str = "http://snomed.info/sct";
const ICD: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const LOINC: &str = "http://loinc.org";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";

#[test]
fn each_category_by_code() {
    use Category::*;
    let cases = [
        (condition(SNOMED, "6525002", "x"), SubstanceUse),
        (condition(SNOMED, "55680006", "x"), SubstanceUse),
        (condition(SNOMED, "361055000", "x"), SubstanceUse),
        (condition(ICD, "F11.20", "x"), SubstanceUse),
        (condition(SNOMED, "370143000", "x"), MentalHealth),
        (condition(SNOMED, "197480006", "x"), MentalHealth),
        (condition(ICD, "F41.1", "x"), MentalHealth),
        (condition(ICD, "B20", "x"), HivSti),
        (condition(ICD, "Z21", "x"), HivSti),
        (condition(SNOMED, "76272004", "x"), HivSti),
        (condition(SNOMED, "72892002", "x"), SexualReproductive),
        (condition(ICD, "Z30.011", "x"), SexualReproductive),
        (condition(ICD, "Z15.01", "x"), Genetic),
        (condition(SNOMED, "706893006", "x"), ViolenceAbuse),
        (condition(ICD, "T74.11XA", "x"), ViolenceAbuse),
    ];
    for (r, expected) in &cases {
        assert_eq!(categories_of(r), vec![*expected], "{}", r.raw());
    }
    // Not sensitive: hypertension, tobacco use.
    assert!(categories_of(&condition(SNOMED, "38341003", "Hypertension")).is_empty());
    assert!(categories_of(&condition(ICD, "F17.210", "Nicotine dependence")).is_empty());
}

#[test]
fn observations_medications_documents_procedures_encounters() {
    use Category::*;
    let audit = res(
        r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"75624-7"}]},"valueQuantity":{"value":5}}"#,
    );
    assert_eq!(categories_of(&audit), vec![SubstanceUse]);
    let phq9 = res(
        r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"44249-1"}]}}"#,
    );
    assert_eq!(categories_of(&phq9), vec![MentalHealth]);
    let gad7 = res(
        r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"69737-5"}]}}"#,
    );
    assert_eq!(categories_of(&gad7), vec![MentalHealth]);
    let hiv_test = res(
        r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"75622-1"}]}}"#,
    );
    assert_eq!(categories_of(&hiv_test), vec![HivSti]);
    let genetic = res(
        r#"{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"51969-4"}]}}"#,
    );
    assert_eq!(categories_of(&genetic), vec![Genetic]);
    // Synthea-style RxNorm product code not in the list: the ingredient name still matches.
    let bup = res(
        r#"{"resourceType":"MedicationRequest","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1010600","display":"buprenorphine 2 MG / naloxone 0.5 MG Sublingual Film"}]}}"#,
    );
    assert_eq!(categories_of(&bup), vec![SubstanceUse]);
    let methadone = res(&format!(
        r#"{{"resourceType":"MedicationStatement","medicationCodeableConcept":{{"coding":[{{"system":"{RXNORM}","code":"6813"}}]}}}}"#
    ));
    assert_eq!(categories_of(&methadone), vec![SubstanceUse]);
    let sertraline = res(
        r#"{"resourceType":"MedicationRequest","medicationCodeableConcept":{"text":"Sertraline 50 mg tablet"}}"#,
    );
    assert_eq!(categories_of(&sertraline), vec![MentalHealth]);
    let arv = res(
        r#"{"resourceType":"MedicationRequest","medicationCodeableConcept":{"text":"Bictegravir / emtricitabine / tenofovir alafenamide"}}"#,
    );
    assert_eq!(categories_of(&arv), vec![HivSti]);
    let mh_note = res(&format!(
        r#"{{"resourceType":"DocumentReference","type":{{"coding":[{{"system":"{LOINC}","code":"34904-3"}}]}}}}"#
    ));
    assert_eq!(categories_of(&mh_note), vec![MentalHealth]);
    let therapy = res(&format!(
        r#"{{"resourceType":"Procedure","code":{{"coding":[{{"system":"{SNOMED}","code":"228557008"}}]}}}}"#
    ));
    assert_eq!(categories_of(&therapy), vec![MentalHealth]);
    let detox_enc = res(&format!(
        r#"{{"resourceType":"Encounter","reasonCode":[{{"coding":[{{"system":"{SNOMED}","code":"6525002"}}]}}]}}"#
    ));
    assert_eq!(categories_of(&detox_enc), vec![SubstanceUse]);
    let contained_med = res(
        r##"{"resourceType":"MedicationRequest","contained":[{"resourceType":"Medication","id":"m","code":{"text":"Naltrexone 50 MG Oral Tablet"}}],"medicationReference":{"reference":"#m"}}"##,
    );
    assert_eq!(categories_of(&contained_med), vec![SubstanceUse]);
    let flu = res(
        r#"{"resourceType":"Immunization","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"140"}]}}"#,
    );
    assert!(categories_of(&flu).is_empty());
    // Codes once listed by mistake: zolpidem (a sleep medicine, RxNorm 39993) and "Social
    // migrant" (SNOMED 160701002, from Synthea's social-needs module) are not substance use.
    let zolpidem = res(&format!(
        r#"{{"resourceType":"MedicationRequest","medicationCodeableConcept":{{"coding":[{{"system":"{RXNORM}","code":"39993","display":"zolpidem"}}]}}}}"#
    ));
    assert!(categories_of(&zolpidem).is_empty());
    assert!(categories_of(&condition(SNOMED, "160701002", "Social migrant")).is_empty());
    // Acamprosate is found by its name.
    let acamprosate = res(
        r#"{"resourceType":"MedicationRequest","medicationCodeableConcept":{"text":"Acamprosate calcium 333 MG Delayed Release Oral Tablet"}}"#,
    );
    assert_eq!(categories_of(&acamprosate), vec![SubstanceUse]);
}

/// Shapes the Synthea substance-use modules emit (seen in the demo EHR's data): screening
/// procedures, the AUDIT-C total score, and visits and therapy whose reason is only a text.
#[test]
fn synthea_substance_use_shapes() {
    use Category::*;
    for (ty, element, system, code) in [
        ("Procedure", "code", SNOMED, "428211000124100"),
        ("Procedure", "code", SNOMED, "713106006"),
        ("Procedure", "code", SNOMED, "763302001"),
        ("Observation", "code", LOINC, "75626-2"),
    ] {
        let r = res(&format!(
            r#"{{"resourceType":"{ty}","{element}":{{"coding":[{{"system":"{system}","code":"{code}"}}]}}}}"#
        ));
        assert_eq!(categories_of(&r), vec![SubstanceUse], "{ty} {code}");
    }
    let rehab = res(&format!(
        r#"{{"resourceType":"Procedure","code":{{"coding":[{{"system":"{SNOMED}","code":"52052004","display":"Rehabilitation therapy (regime/therapy)"}}]}},"reasonCode":[{{"text":"opioid_drug_addiction"}}]}}"#
    ));
    assert_eq!(categories_of(&rehab), vec![SubstanceUse]);
    let visit = res(
        r#"{"resourceType":"Encounter","type":[{"text":"Encounter for problem (procedure)"}],"reasonCode":[{"text":"opioid_drug_addiction"}]}"#,
    );
    assert_eq!(categories_of(&visit), vec![SubstanceUse]);
    // A rehabilitation therapy for something else stays unlabelled.
    let physio = res(&format!(
        r#"{{"resourceType":"Procedure","code":{{"coding":[{{"system":"{SNOMED}","code":"52052004","display":"Rehabilitation therapy (regime/therapy)"}}]}},"reasonCode":[{{"text":"sprain_of_ankle"}}]}}"#
    ));
    assert!(categories_of(&physio).is_empty());
}

#[test]
fn ehr_labels_are_honoured() {
    use Category::*;
    let psy = res(
        r#"{"resourceType":"Observation","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},"code":{"text":"Note"}}"#,
    );
    let l = label_record(&[subject("a", &psy)], &[]);
    let a = l.get("a").unwrap();
    assert_eq!(
        a.category_set().into_iter().collect::<Vec<_>>(),
        vec![MentalHealth]
    );
    assert_eq!(a.reasons(MentalHealth), vec!["EHR label PSY"]);

    let note = res(
        r#"{"resourceType":"DocumentReference","securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}]}]}"#,
    );
    assert_eq!(categories_of(&note), vec![PsychotherapyNotes]);

    let part2 = res(
        r#"{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}"#,
    );
    let l = label_record(&[subject("p", &part2)], &[]);
    let p = l.get("p").unwrap();
    assert!(p.part2);
    assert_eq!(
        p.category_set().into_iter().collect::<Vec<_>>(),
        vec![SubstanceUse]
    );

    for (code, cat) in [
        ("ETHUD", SubstanceUse),
        ("OPIOIDUD", SubstanceUse),
        ("HIV", HivSti),
        ("STD", HivSti),
        ("SEX", SexualReproductive),
        ("SDV", ViolenceAbuse),
        ("GDIS", Genetic),
    ] {
        let r = res(&format!(
            r#"{{"resourceType":"Observation","meta":{{"security":[{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"{code}"}}]}}}}"#
        ));
        assert_eq!(categories_of(&r), vec![cat], "{code}");
    }

    // Confidentiality V alone: restricted by the provider.
    let v = res(
        r#"{"resourceType":"Observation","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"}]}}"#,
    );
    let l = label_record(&[subject("v", &v)], &[]);
    assert_eq!(
        l.get("v").unwrap().reasons(ProviderRestricted),
        vec!["EHR label V"]
    );
    // N is not a restriction.
    let n = res(
        r#"{"resourceType":"Observation","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}"#,
    );
    assert!(categories_of(&n).is_empty());
}

#[test]
fn part2_provider_makes_everything_part2() {
    let bp = res(r#"{"resourceType":"Observation","id":"bp","code":{"text":"Blood pressure"}}"#);
    let l = label_record(
        &[LabelSubject {
            key: "bp",
            resource: &bp,
            source_id: "clinic",
            part2_program: true,
        }],
        &[],
    );
    let i = l.get("bp").unwrap();
    assert!(i.part2);
    assert_eq!(
        i.reasons(Category::SubstanceUse),
        vec!["provider is a Part 2 program"]
    );
    let codes: Vec<String> = i
        .security_codings()
        .iter()
        .filter_map(|c| c.code.clone())
        .collect();
    assert!(codes.contains(&"42CFRPart2".to_string()) && codes.contains(&"R".to_string()));
}

#[test]
fn labels_propagate_to_a_fixed_point_but_not_to_people() {
    let cond = condition(SNOMED, "6525002", "Dependent drug abuse");
    let enc = res(
        r#"{"resourceType":"Encounter","id":"e","reasonReference":[{"reference":"Condition/c"}],"participant":[{"individual":{"reference":"Practitioner/dr"}}]}"#,
    );
    let obs = res(
        r#"{"resourceType":"Observation","id":"o","encounter":{"reference":"Encounter/e"},"code":{"text":"Heart rate"},"subject":{"reference":"Patient/p"}}"#,
    );
    let report = res(
        r#"{"resourceType":"DiagnosticReport","id":"r","result":[{"reference":"Observation/o"}]}"#,
    );
    let med = res(
        r#"{"resourceType":"MedicationRequest","id":"m","medicationCodeableConcept":{"text":"Ibuprofen"},"reasonReference":[{"reference":"Condition/c"}]}"#,
    );
    let patient = res(r#"{"resourceType":"Patient","id":"p"}"#);
    let dr = res(r#"{"resourceType":"Practitioner","id":"dr"}"#);
    let bp_other = res(
        r#"{"resourceType":"Observation","id":"o2","code":{"text":"Weight"},"subject":{"reference":"Patient/p"}}"#,
    );
    // Reverse order so that one pass is not enough.
    let items = [
        subject("report", &report),
        subject("obs", &obs),
        subject("enc", &enc),
        subject("med", &med),
        subject("cond", &cond),
        subject("patient", &patient),
        subject("dr", &dr),
        subject("other", &bp_other),
    ];
    let l = label_record(&items, &[]);
    for k in ["cond", "enc", "obs", "report", "med"] {
        assert!(l.get(k).unwrap().has(Category::SubstanceUse), "{k}");
    }
    assert_eq!(
        l.get("med").unwrap().reasons(Category::SubstanceUse),
        vec!["refers to Condition/c"]
    );
    assert_eq!(
        l.get("report").unwrap().reasons(Category::SubstanceUse),
        vec!["refers to Observation/o"]
    );
    for k in ["patient", "dr", "other"] {
        assert!(
            !l.get(k).unwrap().is_sensitive(),
            "{k} must not be labelled"
        );
    }
    assert_eq!(l.counts()[&Category::SubstanceUse], 5);
}

#[test]
fn patient_overrides_win() {
    let cond = condition(SNOMED, "6525002", "Dependent drug abuse");
    let med = res(
        r#"{"resourceType":"MedicationRequest","id":"m","medicationCodeableConcept":{"text":"Ibuprofen"},"reasonReference":[{"reference":"Condition/c"}]}"#,
    );
    let knee = res(r#"{"resourceType":"Condition","id":"k","code":{"text":"Knee pain"}}"#);
    let items = [
        subject("cond", &cond),
        subject("med", &med),
        subject("knee", &knee),
    ];
    let overrides = [
        Override {
            key: "med".into(),
            category: Category::SubstanceUse,
            add: false,
        },
        Override {
            key: "knee".into(),
            category: Category::MentalHealth,
            add: true,
        },
    ];
    let l = label_record(&items, &overrides);
    let med_l = l.get("med").unwrap();
    assert!(
        !med_l.has(Category::SubstanceUse),
        "removal is not undone by propagation"
    );
    assert!(med_l.removed_by_patient.contains(&Category::SubstanceUse));
    assert!(l.get("cond").unwrap().has(Category::SubstanceUse));
    assert_eq!(
        l.get("knee").unwrap().reasons(Category::MentalHealth),
        vec!["you added this label"]
    );

    // Removing the label at the source stops propagation.
    let l = label_record(
        &items,
        &[Override {
            key: "cond".into(),
            category: Category::SubstanceUse,
            add: false,
        }],
    );
    assert!(!l.get("cond").unwrap().is_sensitive());
    assert!(!l.get("med").unwrap().is_sensitive());
}

#[test]
fn reasons_name_the_value_set_and_code() {
    let c = condition(SNOMED, "6525002", "Dependent drug abuse");
    let l = label_record(&[subject("c", &c)], &[]);
    let reasons = l.get("c").unwrap().reasons(Category::SubstanceUse);
    assert!(
        reasons.contains(&"SNOMED 6525002 in value set Substance use v3".to_string()),
        "{reasons:?}"
    );
}

#[test]
fn consent_records_the_choice() {
    let choice = DisclosureChoice {
        consent_id: "consent-1",
        patient_reference: "Patient/p1",
        patient_name: Some("Alex Doe"),
        recipient: "Dr. Rivera, Riverside Clinic",
        purpose: Purpose::Treatment,
        categories: &[Category::SubstanceUse, Category::MentalHealth],
        date_time: "2026-11-21T10:00:00Z",
        expires: Some("2026-12-21"),
    };
    let c = build_consent(&choice).unwrap();
    let v = c.value();
    assert_eq!(v["resourceType"], "Consent");
    assert_eq!(v["status"], "active");
    assert_eq!(v["patient"]["reference"], "Patient/p1");
    assert_eq!(v["dateTime"], "2026-11-21T10:00:00Z");
    assert_eq!(v["provision"]["type"], "permit");
    assert_eq!(v["provision"]["period"]["end"], "2026-12-21");
    assert_eq!(
        v["provision"]["actor"][0]["reference"]["display"],
        "Dr. Rivera, Riverside Clinic"
    );
    assert_eq!(v["provision"]["purpose"][0]["code"], "TREAT");
    let labels: Vec<&str> = v["provision"]["securityLabel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["ETH", "PSY"]);
    assert!(v["policy"][0]["uri"].as_str().unwrap().contains("part-2"));
    let div = v["text"]["div"].as_str().unwrap();
    assert!(div.contains("revoke this consent at any time"));
    assert!(div.contains("Substance use, Mental health"));

    let none = build_consent(&DisclosureChoice {
        categories: &[],
        expires: None,
        ..choice.clone()
    })
    .unwrap()
    .value();
    assert!(none.get("policy").is_none());
    assert!(none["provision"].get("securityLabel").is_none());
    assert!(none["text"]["div"]
        .as_str()
        .unwrap()
        .contains("No sensitive information"));

    assert_eq!(
        build_consent(&DisclosureChoice {
            recipient: "  ",
            ..choice.clone()
        })
        .unwrap_err(),
        ConsentError::MissingRecipient
    );
    assert_eq!(
        build_consent(&DisclosureChoice {
            expires: Some("2026-01-01"),
            ..choice.clone()
        })
        .unwrap_err(),
        ConsentError::ExpiresBeforeStart
    );
    assert!(matches!(
        build_consent(&DisclosureChoice {
            date_time: "yesterday",
            ..choice
        })
        .unwrap_err(),
        ConsentError::BadDate(_)
    ));
}

#[test]
fn the_recipient_name_is_escaped_in_the_narrative() {
    let choice = DisclosureChoice {
        consent_id: "c",
        patient_reference: "Patient/p",
        patient_name: None,
        recipient: "<script>x</script>",
        purpose: Purpose::PatientRequest,
        categories: &[],
        date_time: "2026-11-21T10:00:00Z",
        expires: None,
    };
    let v = build_consent(&choice).unwrap().value();
    assert!(!v["text"]["div"].as_str().unwrap().contains("<script>"));
}
