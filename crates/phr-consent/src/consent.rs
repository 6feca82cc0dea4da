//! A FHIR R4 Consent recording one explicit disclosure choice, stored in the vault.

use phr_fhir::primitives::is_date_time;
use phr_fhir::types::systems;
use phr_fhir::Resource;
use serde_json::{json, Value};

use crate::{labels, Category};

/// Why the patient is sharing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// For my care (v3-ActReason `TREAT`).
    Treatment,
    /// For emergency care (`ETREAT`).
    EmergencyTreatment,
    /// For coordinating my care (`CAREMGT`).
    CareManagement,
    /// Because I asked to send it (`PATRQT`).
    PatientRequest,
}

impl Purpose {
    fn coding(self) -> (&'static str, &'static str) {
        match self {
            Purpose::Treatment => ("TREAT", "treatment"),
            Purpose::EmergencyTreatment => ("ETREAT", "emergency treatment"),
            Purpose::CareManagement => ("CAREMGT", "care management"),
            Purpose::PatientRequest => ("PATRQT", "patient requested"),
        }
    }
}

/// The facts of one disclosure choice.
#[derive(Clone, Debug)]
pub struct DisclosureChoice<'a> {
    /// Id for the new Consent resource (the app supplies a fresh one).
    pub consent_id: &'a str,
    /// Reference to the patient in the vault (`Patient/123`).
    pub patient_reference: &'a str,
    pub patient_name: Option<&'a str>,
    /// Who receives the information (a person or organisation, as the patient wrote it).
    pub recipient: &'a str,
    pub purpose: Purpose,
    /// The sensitive categories the patient chose to include (empty: none).
    pub categories: &'a [Category],
    /// When the choice was made (FHIR dateTime with time zone).
    pub date_time: &'a str,
    /// When the permission ends (FHIR date or dateTime), if the patient set one.
    pub expires: Option<&'a str>,
}

/// Why a Consent could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("please say who will receive this information")]
    MissingRecipient,
    #[error("the date \"{0}\" is not a valid date and time; this is a problem in the app, please report it")]
    BadDate(String),
    #[error("the end date is before the start date; choose an end date in the future")]
    ExpiresBeforeStart,
}

/// The statement of the right to revoke, included in every Consent's narrative.
pub const RIGHT_TO_REVOKE: &str =
    "You may revoke this consent at any time. Revoking stops further \
access to the shared copy (the app deletes it from the share host); it cannot undo access that \
already happened before you revoked it.";

/// Builds the Consent resource for a disclosure choice.
pub fn build_consent(choice: &DisclosureChoice<'_>) -> Result<Resource, ConsentError> {
    let recipient = choice.recipient.trim();
    if recipient.is_empty() {
        return Err(ConsentError::MissingRecipient);
    }
    if !is_date_time(choice.date_time) || choice.date_time.len() < 11 {
        return Err(ConsentError::BadDate(choice.date_time.into()));
    }
    if let Some(e) = choice.expires {
        if !is_date_time(e) {
            return Err(ConsentError::BadDate(e.into()));
        }
        if e[..e.len().min(10)] < choice.date_time[..10] {
            return Err(ConsentError::ExpiresBeforeStart);
        }
    }
    let (purpose_code, purpose_display) = choice.purpose.coding();
    let mut categories: Vec<Category> = choice.categories.to_vec();
    categories.sort();
    categories.dedup();

    let included_text = if categories.is_empty() {
        "No sensitive information is included.".to_string()
    } else {
        format!(
            "Sensitive information included by your choice: {}.",
            categories
                .iter()
                .map(|c| c.label())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let who = choice.patient_name.unwrap_or("The patient");
    let until = match choice.expires {
        Some(e) => format!(" until {e}"),
        None => String::new(),
    };
    let summary = format!(
        "{who} agreed on {date} to share a health summary with {recipient} for {purpose}{until}.",
        date = choice.date_time,
        purpose = purpose_display,
    );
    let div = format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p><p>{}</p><p>{}</p></div>",
        escape(&summary),
        escape(&included_text),
        escape(RIGHT_TO_REVOKE)
    );

    let mut security: Vec<Value> = Vec::new();
    for c in &categories {
        if let Some(code) = c.default_act_code() {
            security.push(serde_json::to_value(labels::act_code(code)).unwrap_or(Value::Null));
        }
    }
    let mut period = json!({ "start": choice.date_time });
    if let Some(e) = choice.expires {
        period["end"] = json!(e);
    }
    let mut patient = json!({ "reference": choice.patient_reference });
    if let Some(n) = choice.patient_name {
        patient["display"] = json!(n);
    }
    let mut provision = json!({
        "type": "permit",
        "period": period,
        "actor": [{
            "role": { "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP",
                "display": "information recipient"
            }]},
            "reference": { "display": recipient }
        }],
        "action": [{ "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
            "code": "disclose",
            "display": "Disclose"
        }]}],
        "purpose": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "code": purpose_code,
            "display": purpose_display
        }]
    });
    if !security.is_empty() {
        provision["securityLabel"] = Value::Array(security);
    }
    let mut consent = json!({
        "resourceType": "Consent",
        "id": choice.consent_id,
        "text": { "status": "generated", "div": div },
        "status": "active",
        "scope": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "patient-privacy",
            "display": "Privacy Consent"
        }]},
        "category": [{ "coding": [{
            "system": systems::LOINC,
            "code": "59284-0",
            "display": "Patient Consent"
        }]}],
        "patient": patient.clone(),
        "dateTime": choice.date_time,
        "performer": [patient],
        "policyRule": { "coding": [{
            "system": systems::ACT_CODE,
            "code": "OPTIN",
            "display": "opt-in"
        }]},
        "provision": provision
    });
    if categories.contains(&Category::SubstanceUse) {
        consent["policy"] = json!([{
            "authority": "https://www.ecfr.gov",
            "uri": "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"
        }]);
    }
    Resource::from_value(&consent).map_err(|_| ConsentError::BadDate(choice.date_time.into()))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times() {
        assert!(is_date_time("2026-11-21"));
        assert!(is_date_time("2026-11-21T10:00:00Z"));
        assert!(is_date_time("2026-11-21T10:00:00.123+01:00"));
        assert!(!is_date_time("2026-11-21T10:00:00"));
        assert!(!is_date_time("21/11/2026"));
        assert!(!is_date_time("2026-11-21T10:00Z"));
    }
}
