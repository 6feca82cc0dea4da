//! Codes the views recognise. Only codes, never inferred medical knowledge.

pub use phr_fhir::types::systems::*;

/// Blood pressure panels whose components carry systolic and diastolic values.
pub const BP_PANELS: &[&str] = &["85354-9", "55284-4", "35094-2"];
/// LOINC systolic blood pressure.
pub const SYSTOLIC: &str = "8480-6";
/// LOINC diastolic blood pressure.
pub const DIASTOLIC: &str = "8462-4";
/// LOINC heart rate.
pub const HEART_RATE: &[&str] = &["8867-4"];
/// LOINC body weight (reported, measured).
pub const WEIGHT: &[&str] = &["29463-7", "3141-9"];
/// LOINC body height (standing, lying).
pub const HEIGHT: &[&str] = &["8302-2", "8306-3"];
/// LOINC body mass index.
pub const BMI: &[&str] = &["39156-5"];
/// LOINC body temperature (any site, oral).
pub const TEMPERATURE: &[&str] = &["8310-5", "8331-1"];
/// LOINC oxygen saturation (pulse oximetry, arterial).
pub const OXYGEN_SATURATION: &[&str] = &["59408-5", "2708-6"];
/// LOINC respiratory rate.
pub const RESPIRATORY_RATE: &[&str] = &["9279-1"];
/// Glucose tests (each stays its own chart; they are different tests).
pub const GLUCOSE: &[&str] = &[
    "2339-0", "2345-7", "41653-7", "2340-8", "14749-6", "15074-8", "14743-9", "2341-6",
];

/// Every LOINC code that marks an Observation as a vital sign even without a category.
pub fn is_vital_code(code: &str) -> bool {
    BP_PANELS.contains(&code)
        || code == SYSTOLIC
        || code == DIASTOLIC
        || [
            HEART_RATE,
            WEIGHT,
            HEIGHT,
            BMI,
            TEMPERATURE,
            OXYGEN_SATURATION,
            RESPIRATORY_RATE,
        ]
        .iter()
        .any(|set| set.contains(&code))
}

/// `meta.security` code for patient-asserted data.
pub const PATAST: &str = "PATAST";

/// v2-0131 contact role: emergency contact.
pub const CONTACT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/v2-0131";

/// US National Provider Identifier system.
pub const NPI: &str = "http://hl7.org/fhir/sid/us-npi";
