//! A realistic demo record (Synthea-like codes) from two providers and the patient, used by the
//! tests and by the `emit_share_fixtures` example.
#![allow(dead_code)]

use phr_consent::{label_record, ItemLabels, LabelSubject, Labelling};
use phr_fhir::Resource;
use phr_share::{ShareItem, SourceKind, SourceRef};

pub struct Record {
    pub sources: Vec<SourceRef>,
    /// (key, resource, source index)
    pub items: Vec<(String, Resource, usize)>,
    pub patient: Resource,
    pub labels: Labelling,
}

impl Record {
    pub fn share_items(&self) -> Vec<ShareItem<'_>> {
        self.items
            .iter()
            .map(|(k, r, s)| ShareItem {
                key: k,
                resource: r,
                source: &self.sources[*s],
                labels: self.labels.get(k).expect("labelled"),
                provenance: None,
            })
            .collect()
    }

    pub fn labels_of(&self, key: &str) -> &ItemLabels {
        self.labels.get(key).unwrap()
    }
}

const SCT: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const RX: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const ICD: &str = "http://hl7.org/fhir/sid/icd-10-cm";

fn r(v: serde_json::Value) -> Resource {
    Resource::from_value(&v).unwrap()
}

fn cc(system: &str, code: &str, display: &str) -> serde_json::Value {
    serde_json::json!({ "coding": [{ "system": system, "code": code, "display": display }], "text": display })
}

fn active() -> serde_json::Value {
    serde_json::json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active" }] })
}

fn category(code: &str) -> serde_json::Value {
    serde_json::json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": code }] }])
}

/// The demo record. Narratives deliberately mention linked sensitive facts (as real EHR
/// narratives do) so tests can check that shares never copy them.
pub fn demo_record() -> Record {
    use serde_json::json;
    let sources = vec![
        SourceRef {
            id: "demo-general".into(),
            label: "Demo General Hospital".into(),
            kind: SourceKind::Ehr,
            part2_program: false,
        },
        SourceRef {
            id: "riverside".into(),
            label: "Riverside Recovery Center".into(),
            kind: SourceKind::Ehr,
            part2_program: true,
        },
        SourceRef {
            id: "me".into(),
            label: "Entered by the patient".into(),
            kind: SourceKind::Patient,
            part2_program: false,
        },
    ];
    let patient = r(json!({
        "resourceType": "Patient", "id": "pat-1",
        "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Alex Doe, history of opioid dependence</div>" },
        "identifier": [{ "system": "http://hospital.example/mrn", "value": "MRN-445566" }],
        "name": [{ "use": "official", "family": "Doe", "given": ["Alex"] }],
        "gender": "female", "birthDate": "1984-03-09",
        "generalPractitioner": [{ "reference": "Practitioner/dr-1", "display": "Dr. Jane Rivera" }]
    }));
    let sub = json!({ "reference": "Patient/pat-1" });
    let items: Vec<(&str, serde_json::Value, usize)> = vec![
        (
            "enc-1",
            json!({ "resourceType": "Encounter", "id": "enc-1", "status": "finished",
            "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB" },
            "type": [cc(SCT, "162673000", "General examination of patient")], "subject": sub }),
            0,
        ),
        (
            "cond-htn",
            json!({ "resourceType": "Condition", "id": "cond-htn", "clinicalStatus": active(),
            "code": cc(SCT, "38341003", "Hypertension"), "subject": sub, "encounter": { "reference": "Encounter/enc-1" },
            "onsetDateTime": "2019-04-02" }),
            0,
        ),
        (
            "cond-mdd",
            json!({ "resourceType": "Condition", "id": "cond-mdd", "clinicalStatus": active(),
            "code": cc(SCT, "370143000", "Major depressive disorder"), "subject": sub, "onsetDateTime": "2021-01-15" }),
            0,
        ),
        (
            "cond-sud",
            json!({ "resourceType": "Condition", "id": "cond-sud", "clinicalStatus": active(),
            "code": cc(SCT, "6525002", "Dependent drug abuse"), "subject": sub, "onsetDateTime": "2022-06-01" }),
            0,
        ),
        (
            "cond-sinus",
            json!({ "resourceType": "Condition", "id": "cond-sinus",
            "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved" }] },
            "code": cc(SCT, "444814009", "Viral sinusitis"), "subject": sub, "onsetDateTime": "2018-02-01", "abatementDateTime": "2018-02-20" }),
            0,
        ),
        (
            "dr-1",
            json!({ "resourceType": "Practitioner", "id": "dr-1", "name": [{ "family": "Rivera", "given": ["Jane"], "prefix": ["Dr."] }] }),
            0,
        ),
        (
            "med-lis",
            json!({ "resourceType": "MedicationRequest", "id": "med-lis", "status": "active", "intent": "order",
            "medicationCodeableConcept": cc(RX, "314076", "lisinopril 10 MG Oral Tablet"), "subject": sub,
            "authoredOn": "2019-04-02", "requester": { "reference": "Practitioner/dr-1", "display": "Dr. Jane Rivera" },
            "reasonReference": [{ "reference": "Condition/cond-htn", "display": "Hypertension" }],
            "dosageInstruction": [{ "text": "1 tablet by mouth daily" }],
            "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Lisinopril; also on suboxone</div>" } }),
            0,
        ),
        (
            "med-sert",
            json!({ "resourceType": "MedicationRequest", "id": "med-sert", "status": "active", "intent": "order",
            "medicationCodeableConcept": cc(RX, "312940", "sertraline 50 MG Oral Tablet"), "subject": sub,
            "authoredOn": "2021-01-15", "reasonReference": [{ "reference": "Condition/cond-mdd", "display": "Major depressive disorder" }] }),
            0,
        ),
        (
            "med-bup",
            json!({ "resourceType": "MedicationRequest", "id": "med-bup", "status": "active", "intent": "order",
            "medicationCodeableConcept": cc(RX, "1010600", "buprenorphine 2 MG / naloxone 0.5 MG Sublingual Film"), "subject": sub,
            "authoredOn": "2022-06-01", "reasonReference": [{ "reference": "Condition/cond-sud", "display": "Dependent drug abuse" }] }),
            0,
        ),
        (
            "allergy-pcn",
            json!({ "resourceType": "AllergyIntolerance", "id": "allergy-pcn",
            "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active" }] },
            "code": cc(SCT, "91936005", "Allergy to penicillin"), "patient": sub, "criticality": "high",
            "reaction": [{ "manifestation": [cc(SCT, "271807003", "Eruption of skin")] }] }),
            0,
        ),
        (
            "imm-flu",
            json!({ "resourceType": "Immunization", "id": "imm-flu", "status": "completed",
            "vaccineCode": cc("http://hl7.org/fhir/sid/cvx", "140", "Influenza, seasonal, injectable, preservative free"),
            "patient": sub, "occurrenceDateTime": "2025-10-01" }),
            0,
        ),
        (
            "obs-a1c",
            json!({ "resourceType": "Observation", "id": "obs-a1c", "status": "final", "category": category("laboratory"),
            "code": cc(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), "subject": sub,
            "effectiveDateTime": "2025-10-01", "valueQuantity": { "value": 5.40, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%" } }),
            0,
        ),
        (
            "obs-bp",
            json!({ "resourceType": "Observation", "id": "obs-bp", "status": "final", "category": category("vital-signs"),
            "code": cc(LOINC, "85354-9", "Blood pressure panel with all children optional"), "subject": sub,
            "encounter": { "reference": "Encounter/enc-1" }, "effectiveDateTime": "2025-10-01",
            "component": [
                { "code": cc(LOINC, "8480-6", "Systolic blood pressure"), "valueQuantity": { "value": 128, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]" } },
                { "code": cc(LOINC, "8462-4", "Diastolic blood pressure"), "valueQuantity": { "value": 82, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]" } }
            ] }),
            0,
        ),
        (
            "obs-phq9",
            json!({ "resourceType": "Observation", "id": "obs-phq9", "status": "final", "category": category("survey"),
            "code": cc(LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"), "subject": sub,
            "effectiveDateTime": "2025-10-01", "valueInteger": 12 }),
            0,
        ),
        (
            "obs-auditc",
            json!({ "resourceType": "Observation", "id": "obs-auditc", "status": "final", "category": category("survey"),
            "code": cc(LOINC, "75624-7", "Total score [AUDIT-C]"), "subject": sub, "effectiveDateTime": "2025-10-01", "valueInteger": 6 }),
            0,
        ),
        (
            "proc-colo",
            json!({ "resourceType": "Procedure", "id": "proc-colo", "status": "completed",
            "code": cc(SCT, "73761001", "Colonoscopy"), "subject": sub, "performedDateTime": "2024-05-05" }),
            0,
        ),
        (
            "doc-therapy",
            json!({ "resourceType": "DocumentReference", "id": "doc-therapy", "status": "current",
            "meta": { "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSYTHPN" }] },
            "type": { "text": "Therapy session" }, "subject": sub, "date": "2025-09-01T10:00:00Z",
            "content": [{ "attachment": { "contentType": "text/plain", "data": "U2Vzc2lvbiBub3Rlcw==" } }] }),
            0,
        ),
        // Riverside Recovery Center is a Part 2 program: everything from it is Part 2.
        (
            "rr-cond",
            json!({ "resourceType": "Condition", "id": "rr-cond", "clinicalStatus": active(),
            "code": cc(ICD, "F11.20", "Opioid dependence, uncomplicated"), "subject": sub, "onsetDateTime": "2022-05-20" }),
            1,
        ),
        (
            "rr-methadone",
            json!({ "resourceType": "MedicationStatement", "id": "rr-methadone", "status": "completed",
            "medicationCodeableConcept": cc(RX, "864706", "methadone hydrochloride 10 MG Oral Tablet"), "subject": sub,
            "effectiveDateTime": "2022-05-21" }),
            1,
        ),
        (
            "rr-weight",
            json!({ "resourceType": "Observation", "id": "rr-weight", "status": "final", "category": category("vital-signs"),
            "code": cc(LOINC, "29463-7", "Body weight"), "subject": sub, "effectiveDateTime": "2022-05-21",
            "valueQuantity": { "value": 70.20, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg" } }),
            1,
        ),
        // Patient-entered.
        (
            "me-peanut",
            json!({ "resourceType": "AllergyIntolerance", "id": "me-peanut",
            "meta": { "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "PATAST" }] },
            "code": { "text": "Peanuts" }, "patient": sub, "recordedDate": "2026-01-10",
            "reaction": [{ "manifestation": [{ "text": "Hives" }] }] }),
            2,
        ),
        (
            "me-vitd",
            json!({ "resourceType": "MedicationStatement", "id": "me-vitd", "status": "active",
            "medicationCodeableConcept": { "text": "Vitamin D3 1000 IU daily" }, "subject": sub, "dateAsserted": "2026-01-10" }),
            2,
        ),
    ];
    let items: Vec<(String, Resource, usize)> = items
        .into_iter()
        .map(|(k, v, s)| (k.to_string(), r(v), s))
        .collect();
    let subjects: Vec<LabelSubject> = items
        .iter()
        .map(|(k, res, s)| LabelSubject {
            key: k,
            resource: res,
            source_id: &sources[*s].id,
            part2_program: sources[*s].part2_program,
        })
        .collect();
    let labels = label_record(&subjects, &[]);
    Record {
        sources,
        items,
        patient,
        labels,
    }
}
