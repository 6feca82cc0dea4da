//! Read-only typed views of the resource types the app uses. Read one with
//! [`crate::Resource::view`]. Every element is optional; unknown elements are ignored (they are still
//! in the resource's original text).

use serde::Deserialize;

use crate::types::*;

/// Elements every resource may have.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Common {
    pub resource_type: String,
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub text: Option<Narrative>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PatientContact {
    pub relationship: Vec<CodeableConcept>,
    pub name: Option<HumanName>,
    pub telecom: Vec<ContactPoint>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Patient {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub identifier: Vec<Identifier>,
    pub name: Vec<HumanName>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub telecom: Vec<ContactPoint>,
    pub address: Vec<Address>,
    pub contact: Vec<PatientContact>,
    pub communication: Vec<PatientCommunication>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PatientCommunication {
    pub language: Option<CodeableConcept>,
}

impl Patient {
    /// The official (or first) name.
    pub fn display_name(&self) -> Option<String> {
        self.name
            .iter()
            .find(|n| n.use_.as_deref() == Some("official"))
            .or_else(|| self.name.first())
            .map(HumanName::display)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReferenceRange {
    pub low: Option<Quantity>,
    pub high: Option<Quantity>,
    pub text: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObservationComponent {
    pub code: Option<CodeableConcept>,
    pub value_quantity: Option<Quantity>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_string: Option<String>,
    pub value_boolean: Option<bool>,
    pub value_integer: Option<i64>,
    pub interpretation: Vec<CodeableConcept>,
    pub reference_range: Vec<ReferenceRange>,
}

impl ObservationComponent {
    pub fn value(&self) -> Option<Value> {
        ValueX {
            value_quantity: self.value_quantity.clone(),
            value_codeable_concept: self.value_codeable_concept.clone(),
            value_string: self.value_string.clone(),
            value_boolean: self.value_boolean,
            value_integer: self.value_integer,
            ..ValueX::default()
        }
        .value()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Observation {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub effective_instant: Option<String>,
    pub issued: Option<String>,
    pub performer: Vec<Reference>,
    pub value_quantity: Option<Quantity>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_string: Option<String>,
    pub value_boolean: Option<bool>,
    pub value_integer: Option<i64>,
    pub value_range: Option<Range>,
    pub value_ratio: Option<Ratio>,
    pub value_date_time: Option<String>,
    pub value_period: Option<Period>,
    pub data_absent_reason: Option<CodeableConcept>,
    pub interpretation: Vec<CodeableConcept>,
    pub note: Vec<Annotation>,
    pub reference_range: Vec<ReferenceRange>,
    pub has_member: Vec<Reference>,
    pub derived_from: Vec<Reference>,
    pub component: Vec<ObservationComponent>,
}

impl Observation {
    pub fn value(&self) -> Option<Value> {
        ValueX {
            value_quantity: self.value_quantity.clone(),
            value_codeable_concept: self.value_codeable_concept.clone(),
            value_string: self.value_string.clone(),
            value_boolean: self.value_boolean,
            value_integer: self.value_integer,
            value_range: self.value_range.clone(),
            value_ratio: self.value_ratio.clone(),
            value_date_time: self.value_date_time.clone(),
            value_period: self.value_period.clone(),
        }
        .value()
    }

    /// When the observation applies: effective[x] (start of a period), else `issued`.
    pub fn date(&self) -> Option<&str> {
        self.effective_date_time
            .as_deref()
            .or(self.effective_instant.as_deref())
            .or_else(|| {
                self.effective_period
                    .as_ref()
                    .and_then(|p| p.start.as_deref())
            })
            .or(self.issued.as_deref())
    }

    /// Whether a category coding has this code (e.g. `laboratory`, `vital-signs`).
    pub fn has_category(&self, code: &str) -> bool {
        self.category
            .iter()
            .any(|c| c.has(systems::OBSERVATION_CATEGORY, code) || c.has_code(code))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub clinical_status: Option<CodeableConcept>,
    pub verification_status: Option<CodeableConcept>,
    pub category: Vec<CodeableConcept>,
    pub severity: Option<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub onset_date_time: Option<String>,
    pub onset_period: Option<Period>,
    pub onset_string: Option<String>,
    pub abatement_date_time: Option<String>,
    pub abatement_string: Option<String>,
    pub recorded_date: Option<String>,
    pub note: Vec<Annotation>,
}

impl Condition {
    pub fn date(&self) -> Option<&str> {
        self.onset_date_time
            .as_deref()
            .or_else(|| self.onset_period.as_ref().and_then(|p| p.start.as_deref()))
            .or(self.recorded_date.as_deref())
    }

    /// Clinical status code (`active`, `recurrence`, `relapse`, `inactive`, `remission`, `resolved`).
    pub fn clinical_status_code(&self) -> Option<&str> {
        self.clinical_status
            .as_ref()
            .and_then(|c| c.coding.iter().find_map(|c| c.code.as_deref()))
    }

    /// Active unless a status says otherwise, or an abatement date exists.
    pub fn is_active(&self) -> bool {
        match self.clinical_status_code() {
            Some(s) => matches!(s, "active" | "recurrence" | "relapse"),
            None => self.abatement_date_time.is_none() && self.abatement_string.is_none(),
        }
    }

    pub fn is_entered_in_error(&self) -> bool {
        self.verification_status
            .as_ref()
            .is_some_and(|v| v.has_code("entered-in-error"))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AllergyReaction {
    pub substance: Option<CodeableConcept>,
    pub manifestation: Vec<CodeableConcept>,
    pub severity: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AllergyIntolerance {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub clinical_status: Option<CodeableConcept>,
    pub verification_status: Option<CodeableConcept>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// food | medication | environment | biologic (codes, not CodeableConcepts).
    pub category: Vec<String>,
    pub criticality: Option<String>,
    pub code: Option<CodeableConcept>,
    pub patient: Option<Reference>,
    pub onset_date_time: Option<String>,
    pub recorded_date: Option<String>,
    pub reaction: Vec<AllergyReaction>,
    pub note: Vec<Annotation>,
}

impl AllergyIntolerance {
    pub fn is_active(&self) -> bool {
        let refuted = self
            .verification_status
            .as_ref()
            .is_some_and(|v| v.has_code("refuted") || v.has_code("entered-in-error"));
        let inactive = self
            .clinical_status
            .as_ref()
            .is_some_and(|c| c.has_code("inactive") || c.has_code("resolved"));
        !refuted && !inactive
    }

    pub fn date(&self) -> Option<&str> {
        self.onset_date_time
            .as_deref()
            .or(self.recorded_date.as_deref())
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MedicationRequest {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub intent: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub authored_on: Option<String>,
    pub requester: Option<Reference>,
    pub reason_code: Vec<CodeableConcept>,
    pub reason_reference: Vec<Reference>,
    pub dosage_instruction: Vec<Dosage>,
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MedicationStatement {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub category: Option<CodeableConcept>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    pub based_on: Vec<Reference>,
    pub subject: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub date_asserted: Option<String>,
    pub information_source: Option<Reference>,
    pub reason_code: Vec<CodeableConcept>,
    pub reason_reference: Vec<Reference>,
    pub dosage: Vec<Dosage>,
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MedicationIngredient {
    pub item_codeable_concept: Option<CodeableConcept>,
    pub item_reference: Option<Reference>,
    pub is_active: Option<bool>,
    pub strength: Option<Ratio>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Medication {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub code: Option<CodeableConcept>,
    pub status: Option<String>,
    pub form: Option<CodeableConcept>,
    pub ingredient: Vec<MedicationIngredient>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MedicationAdministration {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub status_reason: Vec<CodeableConcept>,
    pub medication_codeable_concept: Option<CodeableConcept>,
    pub medication_reference: Option<Reference>,
    pub subject: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Immunization {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub vaccine_code: Option<CodeableConcept>,
    pub patient: Option<Reference>,
    pub encounter: Option<Reference>,
    pub occurrence_date_time: Option<String>,
    pub occurrence_string: Option<String>,
    pub primary_source: Option<bool>,
    pub lot_number: Option<String>,
    pub site: Option<CodeableConcept>,
    pub performer: Vec<ImmunizationPerformer>,
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImmunizationPerformer {
    pub actor: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Procedure {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub category: Option<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub performed_date_time: Option<String>,
    pub performed_period: Option<Period>,
    pub performed_string: Option<String>,
    pub reason_code: Vec<CodeableConcept>,
    pub reason_reference: Vec<Reference>,
    pub location: Option<Reference>,
    pub note: Vec<Annotation>,
}

impl Procedure {
    pub fn date(&self) -> Option<&str> {
        self.performed_date_time.as_deref().or_else(|| {
            self.performed_period
                .as_ref()
                .and_then(|p| p.start.as_deref())
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DiagnosticReport {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub code: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub encounter: Option<Reference>,
    pub effective_date_time: Option<String>,
    pub effective_period: Option<Period>,
    pub issued: Option<String>,
    pub performer: Vec<Reference>,
    pub result: Vec<Reference>,
    pub conclusion: Option<String>,
    pub presented_form: Vec<Attachment>,
}

impl DiagnosticReport {
    pub fn date(&self) -> Option<&str> {
        self.effective_date_time
            .as_deref()
            .or_else(|| {
                self.effective_period
                    .as_ref()
                    .and_then(|p| p.start.as_deref())
            })
            .or(self.issued.as_deref())
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DocumentContent {
    pub attachment: Option<Attachment>,
    pub format: Option<Coding>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DocumentContext {
    pub encounter: Vec<Reference>,
    pub period: Option<Period>,
    pub related: Vec<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DocumentReference {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub doc_status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    pub category: Vec<CodeableConcept>,
    pub subject: Option<Reference>,
    pub date: Option<String>,
    pub author: Vec<Reference>,
    pub description: Option<String>,
    pub security_label: Vec<CodeableConcept>,
    pub content: Vec<DocumentContent>,
    pub context: Option<DocumentContext>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EncounterParticipant {
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub individual: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EncounterLocation {
    pub location: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Encounter {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub class: Option<Coding>,
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub service_type: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub participant: Vec<EncounterParticipant>,
    pub period: Option<Period>,
    pub reason_code: Vec<CodeableConcept>,
    pub reason_reference: Vec<Reference>,
    pub location: Vec<EncounterLocation>,
    pub service_provider: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CarePlanActivityDetail {
    pub code: Option<CodeableConcept>,
    pub status: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CarePlanActivity {
    pub detail: Option<CarePlanActivityDetail>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CarePlan {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub intent: Option<String>,
    pub category: Vec<CodeableConcept>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub subject: Option<Reference>,
    pub period: Option<Period>,
    pub addresses: Vec<Reference>,
    pub goal: Vec<Reference>,
    pub activity: Vec<CarePlanActivity>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GoalTarget {
    pub measure: Option<CodeableConcept>,
    pub detail_quantity: Option<Quantity>,
    pub detail_range: Option<Range>,
    pub detail_codeable_concept: Option<CodeableConcept>,
    pub detail_string: Option<String>,
    pub due_date: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Goal {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub lifecycle_status: Option<String>,
    pub achievement_status: Option<CodeableConcept>,
    pub category: Vec<CodeableConcept>,
    pub description: Option<CodeableConcept>,
    pub subject: Option<Reference>,
    pub start_date: Option<String>,
    pub target: Vec<GoalTarget>,
    pub status_date: Option<String>,
    pub addresses: Vec<Reference>,
    pub note: Vec<Annotation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CareTeamParticipant {
    pub role: Vec<CodeableConcept>,
    pub member: Option<Reference>,
    pub on_behalf_of: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CareTeam {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    pub name: Option<String>,
    pub subject: Option<Reference>,
    pub period: Option<Period>,
    pub participant: Vec<CareTeamParticipant>,
    pub reason_code: Vec<CodeableConcept>,
    pub managing_organization: Vec<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeviceName {
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdiCarrier {
    pub device_identifier: Option<String>,
    pub carrier_h_r_f: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Device {
    pub id: Option<String>,
    pub meta: Option<Meta>,
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    pub device_name: Vec<DeviceName>,
    pub udi_carrier: Vec<UdiCarrier>,
    pub patient: Option<Reference>,
    pub manufacture_date: Option<String>,
    pub expiration_date: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Practitioner {
    pub id: Option<String>,
    pub name: Vec<HumanName>,
    pub telecom: Vec<ContactPoint>,
    pub qualification: Vec<PractitionerQualification>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PractitionerQualification {
    pub code: Option<CodeableConcept>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Organization {
    pub id: Option<String>,
    pub name: Option<String>,
    pub telecom: Vec<ContactPoint>,
    pub address: Vec<Address>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Location {
    pub id: Option<String>,
    pub name: Option<String>,
    pub address: Option<Address>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProvenanceAgent {
    #[serde(rename = "type")]
    pub kind: Option<CodeableConcept>,
    pub who: Option<Reference>,
    pub on_behalf_of: Option<Reference>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Provenance {
    pub id: Option<String>,
    pub target: Vec<Reference>,
    pub recorded: Option<String>,
    pub agent: Vec<ProvenanceAgent>,
}

/// A Bundle's envelope (entries are sliced separately, see [`crate::bundle`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BundleLink {
    pub relation: Option<String>,
    pub url: Option<String>,
}
