//! The share log: the patient's accounting of disclosures, kept in the vault
//! (`Record::put_share_log_entry`). One entry per share; revoking marks it.

use phr_consent::{Category, Purpose};
use phr_record::ShareLogEntry;
use phr_share::Section;
use serde::{Deserialize, Serialize};

/// How the encrypted file reached the recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareKind {
    /// Put on the deployment's share host; revoking deletes it there.
    Link,
    /// Downloaded by the patient, who put it somewhere themselves.
    File,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareStatus {
    Active,
    Revoked,
}

/// What the share log records about one share (`ShareLogEntry::detail`). Version 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareDetail {
    pub v: u32,
    pub kind: ShareKind,
    pub recipient: String,
    pub purpose: Purpose,
    /// The IPS sections chosen.
    pub sections: Vec<Section>,
    /// Sensitive categories included by the patient's explicit choice.
    pub categories: Vec<Category>,
    /// How many items the document holds (section entries and supporting resources).
    pub items: usize,
    /// When the link stops being offered (RFC 3339); the host deletes nothing by itself.
    pub expires: Option<String>,
    pub status: ShareStatus,
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// The encrypted file's address, once known.
    #[serde(default)]
    pub url: Option<String>,
    /// The SMART Health Link (it holds the key: kept only here, in the encrypted vault, so the
    /// patient can show it again).
    #[serde(default)]
    pub link: Option<String>,
    /// The Consent recording the patient's choice to include sensitive information.
    #[serde(default)]
    pub consent_id: Option<String>,
    pub label: String,
    /// What the patient took away besides the link: `ips-json`, `encrypted-file`,
    /// `summary-html`, `printed`.
    #[serde(default)]
    pub outputs: Vec<String>,
}

impl ShareDetail {
    pub fn entry(&self, id: &str, created_at: &str) -> ShareLogEntry {
        ShareLogEntry {
            id: id.to_string(),
            created_at: created_at.to_string(),
            detail: serde_json::to_value(self).unwrap_or_default(),
        }
    }

    /// Reads an entry written by this app (`None` for anything else).
    pub fn of(entry: &ShareLogEntry) -> Option<ShareDetail> {
        serde_json::from_value(entry.detail.clone()).ok()
    }

    /// Whether the offered expiry has passed (`now`: RFC 3339; both are UTC, so text order works).
    pub fn expired(&self, now: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < now)
    }
}

/// The purpose in the patient's words.
pub fn purpose_text(p: Purpose) -> &'static str {
    match p {
        Purpose::Treatment => "My care",
        Purpose::EmergencyTreatment => "Emergency care",
        Purpose::CareManagement => "Coordinating my care",
        Purpose::PatientRequest => "I asked to send it",
    }
}

pub const PURPOSES: [Purpose; 4] = [
    Purpose::Treatment,
    Purpose::EmergencyTreatment,
    Purpose::CareManagement,
    Purpose::PatientRequest,
];

/// Stable id of a purpose for form values.
pub fn purpose_id(p: Purpose) -> &'static str {
    match p {
        Purpose::Treatment => "treatment",
        Purpose::EmergencyTreatment => "emergency-treatment",
        Purpose::CareManagement => "care-management",
        Purpose::PatientRequest => "patient-request",
    }
}

pub fn purpose_from_id(id: &str) -> Purpose {
    PURPOSES
        .into_iter()
        .find(|p| purpose_id(*p) == id)
        .unwrap_or(Purpose::Treatment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn detail_round_trips_and_knows_expiry() {
        let d = ShareDetail {
            v: 1,
            kind: ShareKind::Link,
            recipient: "Dr. Lee".into(),
            purpose: Purpose::CareManagement,
            sections: vec![Section::Problems],
            categories: vec![Category::SubstanceUse],
            items: 3,
            expires: Some("2026-12-21T10:00:00.000Z".into()),
            status: ShareStatus::Active,
            revoked_at: None,
            url: Some("https://share.example/abc".into()),
            link: None,
            consent_id: Some("c1".into()),
            label: "Health summary".into(),
            outputs: vec![],
        };
        let e = d.entry("s1", "2026-11-21T10:00:00.000Z");
        assert_eq!(ShareDetail::of(&e), Some(d.clone()));
        assert_eq!(e.detail["purpose"], "care-management");
        assert!(!d.expired("2026-11-22T00:00:00.000Z"));
        assert!(d.expired("2026-12-22T00:00:00.000Z"));
        for p in PURPOSES {
            assert_eq!(purpose_from_id(purpose_id(p)), p);
        }
    }
}
