//! Errors. Each message says what happened and what the patient can do about it. Messages never
//! include health information: at most a source id, a resource type, a segment name or a field
//! name.

/// Why a change to the record was refused. The record is unchanged when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The source is not in the record.
    #[error(
        "this record has no source \"{source_id}\"; connect the provider or import the file again"
    )]
    UnknownSource { source_id: String },

    /// A source with this id is already in the record.
    #[error("the source \"{source_id}\" is already in this record")]
    SourceExists { source_id: String },

    /// The operation does not apply to this kind of source (for example, importing provider data
    /// into the patient's own entries, or entering data into a provider's source).
    #[error("{detail}")]
    WrongSourceKind { detail: &'static str },

    /// The item is not in the record.
    #[error("this {what} is not in your record (it may have been deleted); reload and try again")]
    NotFound { what: String },

    /// A patient-entered item with this id already exists.
    #[error("an item of yours with this id already exists; edit it instead of adding it again")]
    AlreadyExists,

    /// Only the patient's own entries can be edited or deleted.
    #[error("items from a provider or a file are never changed here; you can hide the item or add a note to it instead")]
    NotPatientEntered,

    /// An input value is not acceptable.
    #[error("{field}: {detail}")]
    InvalidInput { field: &'static str, detail: String },

    /// A time or date is not in the form FHIR needs.
    #[error("{field} must be {expected} (got \"{value}\")")]
    InvalidTime {
        field: &'static str,
        expected: &'static str,
        value: String,
    },

    /// The change would overwrite a part of the record that could not be read at unlock.
    #[error("part of your record (\"{segment}\") could not be read when it was unlocked, so this change is refused to avoid overwriting it; restore from a backup, or export your data and contact support")]
    DamagedSegment { segment: String },

    /// `encode_segment` was asked for a segment the record does not have.
    #[error("there is no part of the record named \"{name}\"")]
    UnknownSegment { name: String },

    /// The file contained no FHIR resources at all.
    #[error("the file contains no health records that could be read; check that it is a FHIR Bundle or NDJSON export")]
    EmptyImport,
}

/// Shorthand for results in this crate.
pub type Result<T, E = RecordError> = std::result::Result<T, E>;

pub(crate) fn invalid(field: &'static str, detail: impl Into<String>) -> RecordError {
    RecordError::InvalidInput {
        field,
        detail: detail.into(),
    }
}
