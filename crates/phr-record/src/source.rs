//! Where data came from: sources and their ids.

use serde::{Deserialize, Serialize};

use crate::error::{invalid, Result};

/// A stable source id: `ehr:<provider-id>`, `file:<id>` or `patient`.
///
/// Source ids are kept inside the encrypted record only; storage segment names use an opaque slot
/// number instead, because a provider id (a clinic's name) can itself be sensitive.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SourceId(String);

/// The id of the patient's own entries.
pub const PATIENT_SOURCE: &str = "patient";

fn check_part(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 200 {
        return Err(invalid(field, "must be 1 to 200 characters long"));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}

impl SourceId {
    /// The source for a provider's EHR, e.g. `ehr:good-health-clinic`.
    pub fn ehr(provider_id: &str) -> Result<SourceId> {
        check_part("The provider id", provider_id)?;
        Ok(SourceId(format!("ehr:{provider_id}")))
    }

    /// The source for an imported file, e.g. `file:3f2a…`.
    pub fn file(file_id: &str) -> Result<SourceId> {
        check_part("The file id", file_id)?;
        Ok(SourceId(format!("file:{file_id}")))
    }

    /// The patient's own entries.
    pub fn patient() -> SourceId {
        SourceId(PATIENT_SOURCE.into())
    }

    /// Checks and wraps a source id in its text form.
    pub fn parse(s: &str) -> Result<SourceId> {
        if s == PATIENT_SOURCE {
            return Ok(SourceId::patient());
        }
        if let Some(p) = s.strip_prefix("ehr:") {
            return SourceId::ehr(p);
        }
        if let Some(f) = s.strip_prefix("file:") {
            return SourceId::file(f);
        }
        Err(invalid(
            "The source id",
            "must start with \"ehr:\" or \"file:\", or be \"patient\"",
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_patient(&self) -> bool {
        self.0 == PATIENT_SOURCE
    }

    pub fn is_ehr(&self) -> bool {
        self.0.starts_with("ehr:")
    }

    pub fn is_file(&self) -> bool {
        self.0.starts_with("file:")
    }
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SourceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        SourceId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What kind of source, with the details the app shows and the export records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A provider's EHR reached over SMART on FHIR.
    Ehr {
        provider_id: String,
        /// The provider's name as shown to the patient.
        name: String,
        /// The FHIR base URL, without a trailing slash.
        fhir_base: String,
        /// Whether the provider is a federally assisted substance-use-disorder program
        /// (42 CFR Part 2): its records carry a prohibition on redisclosure.
        part2_program: bool,
    },
    /// A FHIR file the patient imported.
    File { name: String, imported_at: String },
    /// The patient's own entries.
    Patient,
}

/// A source of data in the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub id: SourceId,
    pub kind: SourceKind,
    /// When the source was added (RFC 3339).
    pub added_at: String,
    /// When the last sync from it finished (full or incremental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_at: Option<String>,
    /// When the last full sync from it finished: every current entry was confirmed then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_sync_at: Option<String>,
}

impl Source {
    /// A provider EHR source. `fhir_base` loses any trailing `/`.
    pub fn ehr(
        provider_id: &str,
        name: &str,
        fhir_base: &str,
        part2_program: bool,
        added_at: &str,
    ) -> Result<Source> {
        let base = fhir_base.trim().trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(invalid(
                "The provider's FHIR address",
                "must start with https:// (check the provider's settings)",
            ));
        }
        Ok(Source {
            id: SourceId::ehr(provider_id)?,
            kind: SourceKind::Ehr {
                provider_id: provider_id.into(),
                name: name.into(),
                fhir_base: base.into(),
                part2_program,
            },
            added_at: added_at.into(),
            last_sync_at: None,
            last_full_sync_at: None,
        })
    }

    /// An imported-file source.
    pub fn file(file_id: &str, name: &str, imported_at: &str) -> Result<Source> {
        Ok(Source {
            id: SourceId::file(file_id)?,
            kind: SourceKind::File {
                name: name.into(),
                imported_at: imported_at.into(),
            },
            added_at: imported_at.into(),
            last_sync_at: None,
            last_full_sync_at: None,
        })
    }

    /// The patient's own entries.
    pub fn patient(added_at: &str) -> Source {
        Source {
            id: SourceId::patient(),
            kind: SourceKind::Patient,
            added_at: added_at.into(),
            last_sync_at: None,
            last_full_sync_at: None,
        }
    }

    /// A short human-readable name: the provider's name, `file: <name>`, or `You`.
    pub fn display_name(&self) -> String {
        match &self.kind {
            SourceKind::Ehr { name, .. } => name.clone(),
            SourceKind::File { name, .. } => format!("file: {name}"),
            SourceKind::Patient => "You".into(),
        }
    }

    /// The FHIR base of an EHR source.
    pub fn fhir_base(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Ehr { fhir_base, .. } => Some(fhir_base),
            _ => None,
        }
    }

    /// Whether this source is a 42 CFR Part 2 program.
    pub fn is_part2(&self) -> bool {
        matches!(
            self.kind,
            SourceKind::Ehr {
                part2_program: true,
                ..
            }
        )
    }

    /// Whether the id matches the kind (`ehr:<provider_id>`, `file:…`, `patient`).
    pub(crate) fn check_consistent(&self) -> Result<()> {
        let ok = match &self.kind {
            SourceKind::Ehr { provider_id, .. } => {
                self.id.as_str().strip_prefix("ehr:") == Some(provider_id.as_str())
            }
            SourceKind::File { .. } => self.id.is_file(),
            SourceKind::Patient => self.id.is_patient(),
        };
        if ok {
            crate::time::check_instant("When the source was added", &self.added_at)
        } else {
            Err(invalid(
                "The source",
                "its id does not match its kind; this is a bug in the app",
            ))
        }
    }
}
