//! What the app hands to [`crate::Index::build`]: its record, seen through a small borrowed struct.
//!
//! This crate does not depend on the record crate; the app maps each record entry onto a
//! [`ViewItem`].

use phr_fhir::Resource;

/// Where an entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SourceKind {
    /// A provider's EHR, imported over SMART on FHIR.
    Ehr,
    /// A file the patient imported.
    File,
    /// The patient entered it in the app. Always shown as patient-reported.
    Patient,
}

/// A source, borrowed from the app's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceRef<'a> {
    /// Stable id (e.g. `ehr:demo-general`, `patient`).
    pub id: &'a str,
    /// What the patient sees: "Demo General Hospital", "You".
    pub label: &'a str,
    pub kind: SourceKind,
}

/// One entry of the record, as the views need it.
#[derive(Clone, Copy, Debug)]
pub struct ViewItem<'a> {
    /// Opaque stable id of the entry; every output row carries it back.
    pub key: &'a str,
    pub resource: &'a Resource,
    pub source: SourceRef<'a>,
    /// The patient hid this entry; views leave it out unless asked to include hidden entries.
    pub hidden: bool,
    /// The source no longer returns this entry (kept, shown with a badge, not counted as active).
    pub gone_at_source: bool,
}
