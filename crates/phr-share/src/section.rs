//! IPS sections and which items go where.

use phr_fhir::types::{systems, CodeableConcept};
use phr_fhir::Resource;
use serde::Deserialize;

/// A section of the International Patient Summary.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    Medications,
    Allergies,
    Problems,
    Immunizations,
    Results,
    Procedures,
    Devices,
    VitalSigns,
    PastIllness,
    PlanOfCare,
    SocialHistory,
}

impl Section {
    /// All sections in document order.
    pub const ALL: [Section; 11] = [
        Section::Problems,
        Section::Medications,
        Section::Allergies,
        Section::Immunizations,
        Section::Results,
        Section::VitalSigns,
        Section::Procedures,
        Section::Devices,
        Section::PastIllness,
        Section::PlanOfCare,
        Section::SocialHistory,
    ];

    /// The sections IPS requires (present with `emptyReason` when empty).
    pub const REQUIRED: [Section; 3] =
        [Section::Problems, Section::Medications, Section::Allergies];

    /// LOINC code of the section.
    pub fn loinc(self) -> &'static str {
        match self {
            Section::Medications => "10160-0",
            Section::Allergies => "48765-2",
            Section::Problems => "11450-4",
            Section::Immunizations => "11369-6",
            Section::Results => "30954-2",
            Section::Procedures => "47519-4",
            Section::Devices => "46264-8",
            Section::VitalSigns => "8716-3",
            Section::PastIllness => "11348-0",
            Section::PlanOfCare => "18776-5",
            Section::SocialHistory => "29762-2",
        }
    }

    /// LOINC display of the section code.
    pub fn loinc_display(self) -> &'static str {
        match self {
            Section::Medications => "History of Medication use Narrative",
            Section::Allergies => "Allergies and adverse reactions Document",
            Section::Problems => "Problem list - Reported",
            Section::Immunizations => "History of Immunization Narrative",
            Section::Results => "Relevant diagnostic tests/laboratory data Narrative",
            Section::Procedures => "History of Procedures Document",
            Section::Devices => "History of medical device use",
            Section::VitalSigns => "Vital signs",
            Section::PastIllness => "History of Past illness Narrative",
            Section::PlanOfCare => "Plan of care note",
            Section::SocialHistory => "Social history Narrative",
        }
    }

    /// The section title shown to people.
    pub fn title(self) -> &'static str {
        match self {
            Section::Medications => "Medications",
            Section::Allergies => "Allergies and intolerances",
            Section::Problems => "Problems",
            Section::Immunizations => "Immunizations",
            Section::Results => "Results",
            Section::Procedures => "Procedures",
            Section::Devices => "Medical devices",
            Section::VitalSigns => "Vital signs",
            Section::PastIllness => "Past illnesses",
            Section::PlanOfCare => "Plan of care",
            Section::SocialHistory => "Social history",
        }
    }

    pub fn is_required(self) -> bool {
        Section::REQUIRED.contains(&self)
    }

    /// The section for a LOINC code, if it is one of these.
    pub fn from_loinc(code: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.loinc() == code)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Head {
    category: Vec<CodeableConcept>,
    clinical_status: Option<CodeableConcept>,
    abatement_date_time: Option<String>,
    abatement_string: Option<String>,
    abatement_period: Option<serde_json::Value>,
}

/// The IPS section an item belongs to, or `None` for supporting resources (Medication,
/// Practitioner, Organization, Encounter...) and the Patient.
pub fn section_for(resource: &Resource) -> Option<Section> {
    let head: Head = resource.view().unwrap_or_default();
    Some(match resource.resource_type() {
        "MedicationStatement"
        | "MedicationRequest"
        | "MedicationAdministration"
        | "MedicationDispense" => Section::Medications,
        "AllergyIntolerance" => Section::Allergies,
        "Condition" => {
            let status = head
                .clinical_status
                .as_ref()
                .and_then(|c| c.coding.iter().find_map(|c| c.code.as_deref()));
            let resolved = match status {
                Some(s) => matches!(s, "inactive" | "remission" | "resolved"),
                None => {
                    head.abatement_date_time.is_some()
                        || head.abatement_string.is_some()
                        || head.abatement_period.is_some()
                }
            };
            if resolved {
                Section::PastIllness
            } else {
                Section::Problems
            }
        }
        "Immunization" => Section::Immunizations,
        "Observation" => {
            let has = |code: &str| {
                head.category
                    .iter()
                    .any(|c| c.has(systems::OBSERVATION_CATEGORY, code) || c.has_code(code))
            };
            if has("vital-signs") {
                Section::VitalSigns
            } else if has("social-history") {
                Section::SocialHistory
            } else {
                Section::Results
            }
        }
        "DiagnosticReport" => Section::Results,
        "Procedure" => Section::Procedures,
        "Device" | "DeviceUseStatement" => Section::Devices,
        "CarePlan" | "Goal" | "ServiceRequest" => Section::PlanOfCare,
        _ => return None,
    })
}

/// Resource types pulled into a share when an included entry refers to them.
pub fn is_supporting_type(resource_type: &str) -> bool {
    matches!(
        resource_type,
        "Medication"
            | "Practitioner"
            | "PractitionerRole"
            | "Organization"
            | "Location"
            | "Substance"
            | "Specimen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(t: &str) -> Resource {
        Resource::from_json(t).unwrap()
    }

    #[test]
    fn places_items() {
        assert_eq!(
            section_for(&r(
                r#"{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"active"}]}}"#
            )),
            Some(Section::Problems)
        );
        assert_eq!(
            section_for(&r(
                r#"{"resourceType":"Condition","clinicalStatus":{"coding":[{"code":"resolved"}]}}"#
            )),
            Some(Section::PastIllness)
        );
        assert_eq!(
            section_for(&r(
                r#"{"resourceType":"Condition","abatementDateTime":"2020"}"#
            )),
            Some(Section::PastIllness)
        );
        assert_eq!(
            section_for(&r(
                r#"{"resourceType":"Observation","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}]}"#
            )),
            Some(Section::VitalSigns)
        );
        assert_eq!(
            section_for(&r(r#"{"resourceType":"Observation"}"#)),
            Some(Section::Results)
        );
        assert_eq!(section_for(&r(r#"{"resourceType":"Medication"}"#)), None);
        assert_eq!(Section::from_loinc("48765-2"), Some(Section::Allergies));
    }
}
