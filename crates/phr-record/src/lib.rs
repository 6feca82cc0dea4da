//! # phr-record: the patient's record as the vault stores it
//!
//! Every resource the patient has, from every source, each with its provenance; the patient's
//! own entries (standard FHIR, marked patient-asserted); notes; hidden items; label overrides;
//! and app data. This crate is the storage model, not the screens: it decides nothing about
//! display. It is pure: no I/O, no clock, no randomness (times and ids are parameters).
//!
//! ## The key design decision: entries live in fixed chunks, resources stay verbatim
//!
//! The record is saved as many small, separately encrypted *segments* (see [`segments`]), and a
//! save rewrites only the segments that changed. Each entry is placed once into a chunk of its
//! source (at most [`CHUNK_MAX_ENTRIES`] resources) and never moves, so a change dirties exactly
//! one known segment and [`Record::dirty_segments`] is exact. Inside a segment each resource is
//! embedded verbatim with `RawValue`: the provider's bytes are stored, loaded and exported
//! without ever being re-serialised, and loading copies each resource exactly once.
//!
//! ## Concepts
//!
//! * [`Source`] / [`SourceId`]: `ehr:<provider-id>`, `file:<id>`, `patient`.
//! * [`Entry`]: a [`phr_fhir::Resource`] + when it was fetched, the request it came from, when it
//!   was last updated, and whether the source still returns it ([`EntryStatus`]).
//! * Merge ([`Record::apply_import`]) is keyed by (source, resourceType, id), or by the SHA-256
//!   of the bytes for resources without an id. Identical bytes are "unchanged" (no duplicate,
//!   nothing dirty); changed bytes replace the stored ones. [`Record::finish_full_sync`] flags
//!   what a full sync no longer returned as gone at source; nothing is ever deleted by a sync.
//!   The same fact from two providers is kept twice: grouping is the views' job.
//! * Patient entries ([`patient`]): builders returning a resource + Provenance; stored with
//!   [`Record::put_patient_item`]; editable and deletable, unlike imported items.
//! * Hiding ([`Record::hide`]) and label overrides ([`Record::change_label`]) are separate
//!   records: imported items are never edited.
//! * App data: settings, share log, FHIR Consents, opaque documents ([`app`]).
//! * Export ([`Record::export_bundle`]): a FHIR R4 collection Bundle of everything, with
//!   Provenance ([`export`]). File import: [`Record::import_file`].
//!
//! ## How the shell uses it
//!
//! * **Unlock**: read every segment through the vault, then
//!   [`Record::load_results`]`(vault.read_all(&store))`. Show each [`SegmentLoadError`] (the rest
//!   of the record is usable; damaged segments are protected from being overwritten).
//! * **Change**: call the `Record` methods; each is all-or-nothing and returns a typed error.
//! * **Save** (an explicit call, never a reactive effect): `let plan = record.pending_save()`,
//!   encode each `plan.write` name with [`Record::encode_segment`] at once, hand the bytes and
//!   `plan.delete` to `Vault::plan_save`, execute, `Vault::commit`, then
//!   [`Record::mark_saved`]`(&plan)`. On failure, skip `mark_saved`: everything stays dirty.
//! * **Sync**: add the provider with [`Record::add_source`] once; for each page,
//!   [`Record::apply_import`] and collect `outcome.seen`; at the end of a complete sync,
//!   [`Record::finish_full_sync`] with the types whose queries all succeeded (else
//!   [`Record::finish_incremental_sync`]).
//!
//! ## Speed and memory
//!
//! Loading 20,000 resources (38 MB of plaintext in 48 segments) parses each segment once and
//! copies each resource once. Measured with `cargo run --release -p phr-record --example
//! load_speed` on the 2-core development machine: load 82 ms, encode every segment 56 ms,
//! merge-import 131 ms, FHIR export 69 ms. Peak memory during that load, the segments included,
//! is 2.2x the plaintext and the loaded record holds 1.2x (asserted at 3x and 1.5x by
//! `tests/memory.rs`, which counts every allocation). Expect WebAssembly to be a few times
//! slower than native, still well inside the one-second unlock budget.

pub mod app;
mod error;
pub mod export;
mod ids;
mod key;
pub mod patient;
mod record;
pub mod segments;
mod source;
pub mod time;

pub use app::{EmergencyContact, Settings, ShareLogEntry};
pub use error::{RecordError, Result};
pub use export::ExportOptions;
pub use ids::{derived_uuid, is_fhir_id, is_lower_uuid};
pub use key::{EntryKey, LocalId, ResourceKey};
pub use patient::{Activity, Authored, Authoring};
pub use record::{
    file_request, Entry, EntryStatus, FileImport, FullSyncOutcome, LabelAction, LabelChange,
    LabelOverrides, MergeOutcome, PutOutcome, Record, SecurityLabel, SyncCoverage,
    CHUNK_MAX_ENTRIES, CHUNK_SOFT_MAX_BYTES, PATIENT_REQUEST,
};
pub use segments::{SavePlan, SegmentLoadError, SegmentProblem};
pub use source::{Source, SourceId, SourceKind, PATIENT_SOURCE};
