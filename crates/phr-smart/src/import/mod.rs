//! The sans-I/O import session: fetches one patient's record from one provider.
//!
//! # Design
//!
//! The session never performs a request. It *describes* requests ([`ImportSession::next_requests`])
//! and *consumes* their outcomes ([`ImportSession::on_response`],
//! [`ImportSession::on_network_error`], [`ImportSession::on_timeout`]), returning
//! [`ImportEvent`]s. All decisions (paging, retry and backoff, which failures are per type and
//! which stop everything, pausing for a new token, reference chasing) live here and are tested
//! natively with recorded responses; the browser shell only runs `fetch()` and timers.
//!
//! The plan: `Patient/{id}` first, alone (it checks the token and the patient id before anything
//! else is sent), then one search per granted US Core type with `patient={id}&_count=…`, then
//! reads of referenced Practitioner / PractitionerRole / Organization / Location / Medication on
//! the same server (de-duplicated, including against `_include`d resources), and same-server
//! document attachments. References are read only after every search has finished, so a resource
//! already returned by a search is never read again.
//!
//! Failures are isolated: a 403, an OperationOutcome, a malformed page or a wrong resource type
//! marks *that query* failed ([`ImportEvent::TypeFailed`]) and everything else goes on. Two
//! situations stop the whole session instead, because they are not about one type:
//! a 401 / expired token ([`SessionStatus::NeedsAuth`]; resume with
//! [`ImportSession::resume_with_token`], the same requests are retried) and a lost network
//! ([`SessionStatus::Interrupted`]; resume with [`ImportSession::retry_interrupted`], or later
//! from [`ImportSession::snapshot`]).
//!
//! [`ImportState`] (from [`ImportSession::snapshot`]) serialises to JSON: the plan, each query's
//! next-page URL, the pending references, and the `(type, id)` already emitted. Resuming from it
//! never re-emits a resource. It contains the patient id and URLs, so keep it inside the
//! encrypted vault, never in plain browser storage. It never contains the access token.
//!
//! # Shell loop
//!
//! ```text
//! let mut s = ImportSession::start(&connection, token, options, seed_from_crypto, now)?;
//! loop {
//!     for req in s.next_requests(now) { spawn fetch(req) -> on_response / on_network_error / on_timeout }
//!     match s.status(now) {
//!         Finished            => break,                         // s.summary(now)
//!         NeedsAuth(_)        => refresh (or reconnect), then s.resume_with_token(new_token)?,
//!         Interrupted(i)      => save s.snapshot() in the vault, show i.message, wait for the
//!                                patient, then s.retry_interrupted(),
//!         Running { wake_at_ms, .. } => wait for a response or until wake_at_ms,
//!     }
//! }
//! ```

mod page;
mod plan;
mod session;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use plan::{
    ImportOptions, ObservationQueries, QueryKey, QueryKind, RetryPolicy, OBSERVATION_CATEGORIES,
};
pub use session::{friendly as type_label, ImportSession, ImportState};

use crate::http::NetworkFailure;
use crate::time::UnixMillis;

/// One resource exactly as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResource {
    /// `resourceType`.
    pub resource_type: String,
    /// `id`.
    pub id: String,
    /// The resource, its JSON text byte-for-byte from the response body.
    pub resource: phr_fhir::Resource,
    /// What the one read of the text found besides its head: references and attachment URLs.
    pub scan: phr_fhir::scan::Scan,
}

/// Resources from one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceBatch {
    /// Which query they came from.
    pub query: QueryKey,
    /// The URL that was fetched (for provenance).
    pub request_url: String,
    /// New resources (never one already emitted in this session).
    pub resources: Vec<RawResource>,
}

/// A non-JSON attachment (e.g. a PDF) fetched from a same-server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentData {
    /// The URL the attachment was fetched from (as in `attachment.url`, made absolute).
    pub url: String,
    /// The response's `Content-Type`, when readable.
    pub content_type: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Where one query stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProgressState {
    /// Not started.
    Waiting,
    /// Under way.
    Running,
    /// Finished.
    Done,
    /// Failed (see the `TypeFailed` event).
    Failed,
}

/// Progress of one query (or of the references of one type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryProgress {
    /// Which query.
    pub query: QueryKey,
    /// Resources received so far (new ones only).
    pub fetched: u64,
    /// Total matches, when the server said (`Bundle.total` on the first page).
    pub total: Option<u64>,
    /// Pages received.
    pub pages: u32,
    /// Reads that failed (references and attachments).
    pub failed: u64,
    /// State.
    pub state: ProgressState,
}

/// Why one query failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportFailure {
    /// HTTP 403.
    Forbidden {
        /// OperationOutcome text, if any.
        detail: Option<String>,
    },
    /// HTTP 401 again and again, even with new tokens.
    AuthRefused,
    /// HTTP 404 on a search: the server does not offer the type.
    NotOffered,
    /// Another 4xx with an explanation.
    Rejected {
        /// HTTP status.
        status: u16,
        /// OperationOutcome text, if any.
        detail: Option<String>,
    },
    /// 5xx, 429 still failing after the allowed tries.
    GaveUp {
        /// Last HTTP status.
        status: u16,
        /// Tries made.
        attempts: u32,
    },
    /// The server asked to wait longer than the app is willing to.
    Busy {
        /// How long it asked to wait, in seconds.
        retry_after_secs: u64,
    },
    /// The body is not valid JSON.
    MalformedJson {
        /// Where the JSON breaks.
        line: usize,
        /// Where the JSON breaks.
        column: usize,
    },
    /// The body is not FHIR data at all.
    NotFhir {
        /// What it was instead.
        what: &'static str,
    },
    /// The server answered with an OperationOutcome instead of data.
    OperationOutcome {
        /// Its text.
        detail: String,
    },
    /// A different resource type than asked for (e.g. a Patient where a Bundle was expected).
    WrongResourceType {
        /// What was asked for.
        expected: String,
        /// What came.
        found: String,
    },
    /// A search page holding a resource of a type that was not searched for.
    UnexpectedEntry {
        /// The type found.
        found: String,
    },
    /// The Patient read returned another patient (or one without an id).
    PatientMismatch,
    /// The next-page link points outside this server's FHIR base; the token is not sent there.
    UnsafeNextLink {
        /// The link (shortened).
        link: String,
    },
    /// The next-page link is the page itself.
    PagingLoop,
    /// More pages than [`ImportOptions::max_pages_per_query`].
    TooManyPages,
}

impl ImportFailure {
    /// A sentence for the patient about `what` (e.g. "Observation") at `provider`.
    pub fn message(&self, what: &str, provider: &str) -> String {
        let with = |d: &Option<String>| {
            d.as_ref()
                .filter(|d| !d.is_empty())
                .map(|d| format!(" It said: \"{d}\"."))
                .unwrap_or_default()
        };
        match self {
            ImportFailure::Forbidden { detail } => format!(
                "{provider} did not allow this app to read your {what} (HTTP 403).{} The rest of your record is still imported; you can reconnect and grant access to include it.",
                with(detail)
            ),
            ImportFailure::AuthRefused => format!(
                "{provider} kept refusing access to your {what}, even after signing in again. They were skipped; the rest of your record is still imported."
            ),
            ImportFailure::NotOffered => format!(
                "{provider} does not offer {what} to apps, so it was skipped. The rest of your record is still imported."
            ),
            ImportFailure::Rejected { status, detail } => format!(
                "{provider} refused the request for your {what} (HTTP {status}).{} It was skipped; the rest of your record is still imported.",
                with(detail)
            ),
            ImportFailure::GaveUp { status, attempts } => format!(
                "{provider} kept failing when asked for your {what} (HTTP {status}, {attempts} tries). It was skipped this time; try syncing again later."
            ),
            ImportFailure::Busy { retry_after_secs } => format!(
                "{provider} is busy and asked the app to come back in {} minutes. Your {what} were skipped this time; try syncing again later.",
                retry_after_secs.div_ceil(60)
            ),
            ImportFailure::MalformedJson { line, column } => format!(
                "{provider} sent your {what} in a damaged form (invalid JSON at line {line}, column {column}). They were skipped; try syncing again later."
            ),
            ImportFailure::NotFhir { what: seen } => format!(
                "{provider} answered the request for your {what} with {seen}. They were skipped; try syncing again later."
            ),
            ImportFailure::OperationOutcome { detail } => format!(
                "{provider} could not return your {what}{}. They were skipped; the rest of your record is still imported.",
                if detail.is_empty() { String::new() } else { format!(": \"{detail}\"") }
            ),
            ImportFailure::WrongResourceType { expected, found } => format!(
                "{provider} sent {found} when asked for {expected} ({what}). Nothing from that answer was imported; the rest of your record is still imported."
            ),
            ImportFailure::UnexpectedEntry { found } => format!(
                "{provider} mixed a {found} into your {what}. Nothing from that page was imported, for safety; the rest of your record is still imported."
            ),
            ImportFailure::PatientMismatch => format!(
                "{provider} returned a different patient's details than the record you connected. Nothing from that answer was imported. Reconnect and choose your own record."
            ),
            ImportFailure::UnsafeNextLink { link } => format!(
                "{provider} pointed the app to another address ({link}) for more of your {what}. The app does not send your access there, so the remaining pages were skipped."
            ),
            ImportFailure::PagingLoop => format!(
                "{provider} kept returning the same page of your {what}. The pages already received were kept."
            ),
            ImportFailure::TooManyPages => format!(
                "{provider} returned an unexpectedly large number of pages of your {what}; the app stopped there. The pages already received were kept."
            ),
        }
    }
}

/// Why the session paused for a new access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthPause {
    /// The server answered 401.
    Unauthorized,
    /// The token expires within seconds; not sent again.
    TokenExpired,
}

impl AuthPause {
    /// A sentence for the patient.
    pub fn message(self, provider: &str) -> String {
        match self {
            AuthPause::Unauthorized => format!(
                "{provider} asked you to sign in again. The import is paused; after you sign in it continues where it stopped."
            ),
            AuthPause::TokenExpired => format!(
                "Your access to {provider} has run out. The import is paused; after you sign in again it continues where it stopped."
            ),
        }
    }
}

/// Why the session stopped sending requests after network failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// What the browser reported last.
    pub failure: NetworkFailure,
    /// A sentence for the patient.
    pub message: String,
}

/// What the session is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatus {
    /// Requests are under way or scheduled.
    Running {
        /// Requests sent and not yet answered.
        in_flight: usize,
        /// When there is room for another request and the next one is a delayed retry: call
        /// `next_requests` again at this time (or when a response arrives, if sooner).
        wake_at_ms: Option<UnixMillis>,
    },
    /// Needs a new access token.
    NeedsAuth(AuthPause),
    /// Stopped after network failures.
    Interrupted(Interruption),
    /// Everything is done.
    Finished,
}

/// The end of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// True for a full sync (no `since`).
    pub full_sync: bool,
    /// When the session started (record it as the connection's last sync).
    pub started_at_ms: UnixMillis,
    /// When it finished.
    pub finished_at_ms: UnixMillis,
    /// Resources emitted, per type.
    pub resources_by_type: BTreeMap<String, u64>,
    /// Queries that failed, with the message shown.
    pub failed: Vec<(QueryKey, String)>,
    /// Types not granted by the token.
    pub not_granted: Vec<String>,
    /// Types fetched completely (every query for it exhaustive and finished, full sync). Only for
    /// these may the record layer flag resources it holds but which were not `seen` as gone at
    /// the source.
    pub complete_types: Vec<String>,
    /// Every `(type, id)` received in this session.
    pub seen: Vec<(String, String)>,
    /// References and attachments on other servers, not followed.
    pub external_references_skipped: u64,
    /// Number of warnings emitted.
    pub warnings: u64,
}

/// Something that happened; the shell acts on each in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportEvent {
    /// Resources to store (record layer key: provider, type, id).
    Resources(ResourceBatch),
    /// A non-JSON attachment to store.
    Attachment(AttachmentData),
    /// Progress of one query.
    Progress(QueryProgress),
    /// One query failed; everything else goes on.
    TypeFailed {
        /// Which query.
        query: QueryKey,
        /// Why.
        reason: ImportFailure,
        /// A sentence for the patient.
        message: String,
    },
    /// Something worth telling but not a failure (e.g. a referenced practitioner no longer
    /// exists, or the server noted that some results were withheld).
    Warning {
        /// Which query.
        query: QueryKey,
        /// A sentence for the patient.
        message: String,
    },
    /// The session paused: get a new token, then `resume_with_token`.
    NeedsAuth(AuthPause),
    /// The session stopped after network failures.
    Interrupted(Interruption),
    /// Everything is done.
    Finished(ImportSummary),
}

/// Errors starting or resuming a session.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportError {
    /// The token is for another patient than the connection or saved state.
    #[error("The new sign-in at {provider} is for a different patient record than the import that was under way. The import was not resumed; start a new import for this record.")]
    DifferentPatient {
        /// Provider name.
        provider: String,
    },
    /// The saved import state cannot be read.
    #[error("The saved progress of an interrupted import could not be read ({0}). Start the import again; nothing already imported is lost or duplicated.")]
    StateUnreadable(String),
}

impl fmt::Display for ProgressState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProgressState::Waiting => "waiting",
            ProgressState::Running => "running",
            ProgressState::Done => "done",
            ProgressState::Failed => "failed",
        })
    }
}
