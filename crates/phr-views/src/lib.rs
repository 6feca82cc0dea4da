//! Every derived view of the patient's record, as pure functions over an index.
//!
//! The app maps its record onto [`ViewItem`]s (key, resource, source, hidden, gone-at-source) and
//! builds an [`Index`] once per change of the record, or loads the one it cached
//! ([`Index::to_bytes`] / [`Index::from_bytes`], see [`cache`]). Every screen is then a function
//! of the index:
//!
//! | screen | call |
//! |---|---|
//! | cache | [`Index::to_bytes`] / [`Index::from_bytes`] ([`IndexCacheError`]); [`summary::Summary`] is serde-serialisable |
//! | first screen | [`summary::summary`] (allergies, medications, problems, recent results, vitals, goals, emergency card) |
//! | timeline | [`timeline::timeline`] (start from [`timeline::TimelineFilter::clinical`]) → group ids; [`timeline::window`] + [`timeline::rows_for`] for the visible rows |
//! | lists | [`lists::list`] with a [`lists::ListKind`]; [`lists::care_teams`]; [`lists::attachments`]; [`lists::notes_about`] |
//! | charts | [`charts::charts`] (series, axes, data table) |
//! | adherence | [`adherence::doses`], [`adherence::week`] (or `doses_all`/`week_all` for a regimen whose times changed), with [`adherence::fhir`] to read FHIR shapes |
//! | goals | [`goals::goal_targets`], [`goals::goal_progress`] (the measure's chart since the goal started, with the target) |
//! | medication checks | [`medcheck::medication_checks`] |
//! | documents | [`document::sanitize_html`], [`document::narrative`], [`document::read_attachment`], [`document::parse_cda`] |
//!
//! # Key design decisions
//!
//! * **Parse once, keep little** ([`index`]): each resource is read once into a compact item;
//!   text lives in one arena, concepts and units are interned, search text is pre-folded. The
//!   reading is lean: per type, only the elements used are declared and their strings are
//!   borrowed from the resource text; everything else is skipped unbuilt.
//! * **Load, don't rebuild** ([`cache`]): the index's tables are written as they are (varints,
//!   the arena as one blob) and read back with every reference checked, about ten times faster
//!   than a build; damaged or other-version bytes give a typed error and the app rebuilds.
//! * **Same fact, one row** ([`group`] rules): items from different sources with the same exact
//!   codes and dates form a group; a row lists every source, and the text shown comes from a
//!   clinician source when there is one.
//! * **Patient-entered never looks clinician-verified**: every row, card line, chart point and
//!   source badge carries `patient_reported`.
//! * **No invented medicine**: matching is by exact codes; units convert only within a dimension.
//! * **Nothing can inject markup**: documents become an allowlisted node tree.
//! * **Pure**: no I/O, no clock (`today`/`now` are parameters), no randomness.

pub mod adherence;
pub mod cache;
pub mod charts;
pub mod codes;
pub mod document;
mod extract;
pub mod goals;
pub mod group;
pub mod index;
pub mod input;
mod json;
pub mod lists;
pub mod medcheck;
pub mod results;
pub mod rows;
pub mod summary;
pub mod text;
pub mod time;
pub mod timeline;
pub mod ucum;

pub use cache::{IndexCacheError, INDEX_CACHE_VERSION};
pub use index::{
    Activity, Category, CategorySet, Code, GroupId, Index, ItemId, ItemRef, SourceId, SourceInfo,
};
pub use input::{SourceKind, SourceRef, ViewItem};
pub use rows::{Row, SourceBadge};
pub use time::{Day, LocalDateTime, LocalTime, Precision, Timestamp, Weekday, When};
