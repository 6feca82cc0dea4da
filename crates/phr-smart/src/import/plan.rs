//! What to fetch: options, query keys, and the query plan built from the granted scopes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scopes::{GrantedAccess, SearchAccess, SEARCH_TYPES};
use crate::time::{fhir_instant, UnixMillis};
use crate::urls::{encode_component, encode_pairs, FhirBase};

/// The US Core Observation categories used by [`ObservationQueries::PerCategory`].
pub const OBSERVATION_CATEGORIES: &[&str] = &[
    "laboratory",
    "vital-signs",
    "social-history",
    "survey",
    "exam",
    "imaging",
    "procedure",
    "activity",
];

/// How Observations are searched.
///
/// * `Single` (default): one `Observation?patient=…` query. Complete (it also returns
///   Observations with no category or a category outside US Core) and nothing is fetched twice.
/// * `PerCategory`: one query per category, for servers that refuse an Observation search
///   without a category (Epic does). An Observation with two categories comes back twice; the
///   session emits it once (it de-duplicates by type and id). Observations in none of the listed
///   categories are not fetched, so the result is never treated as complete for "gone at the
///   source" checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObservationQueries {
    /// One query without a category.
    Single,
    /// One query per listed category code.
    PerCategory(Vec<String>),
}

impl ObservationQueries {
    /// Per-category queries for the US Core categories.
    pub fn us_core_categories() -> Self {
        ObservationQueries::PerCategory(
            OBSERVATION_CATEGORIES
                .iter()
                .map(|c| c.to_string())
                .collect(),
        )
    }
}

/// Bounds for retrying. Defaults: 5 tries for 429/502/503/504, 2 for 500, 3 for network errors
/// and timeouts, backoff from 1 s doubling to at most 30 s with jitter, and at most 2 minutes of
/// waiting when a server asks for it with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Tries for 429, 502, 503, 504.
    pub max_attempts: u32,
    /// Tries for 500 (often not transient, so fewer).
    pub max_attempts_server_error: u32,
    /// Tries for network errors and timeouts before the session is interrupted.
    pub max_attempts_network: u32,
    /// First backoff delay.
    pub base_delay_ms: u64,
    /// Largest backoff delay.
    pub max_delay_ms: u64,
    /// A `Retry-After` longer than this fails the query ("the provider is busy") instead of
    /// waiting.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_attempts_server_error: 2,
            max_attempts_network: 3,
            base_delay_ms: 1_000,
            max_delay_ms: 30_000,
            max_retry_after_ms: 120_000,
        }
    }
}

/// Import choices. `Default` is a full sync of the US Core set, 100 per page, 4 requests at a
/// time, one Observation query, `_include` of medications, references and attachments followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// `_count` per search page.
    pub page_size: u32,
    /// Requests in flight at once.
    pub max_in_flight: usize,
    /// Observation query strategy.
    pub observation_queries: ObservationQueries,
    /// Add `_include=MedicationRequest:medication` to the MedicationRequest search.
    pub include_medications: bool,
    /// Incremental sync: only resources updated after this instant (`_lastUpdated=gt…`). Set it
    /// only when the server supports `_lastUpdated`; `None` is a full sync.
    pub since: Option<UnixMillis>,
    /// Read referenced Practitioner, PractitionerRole, Organization, Location and Medication.
    pub fetch_references: bool,
    /// Fetch DocumentReference / DiagnosticReport attachments stored on the same server.
    pub fetch_attachments: bool,
    /// Most references (and attachments) to read in one session.
    pub max_references: usize,
    /// Most pages per query (a guard against a server that pages forever).
    pub max_pages_per_query: u32,
    /// Search types, in order; `None` is [`SEARCH_TYPES`].
    pub types: Option<Vec<String>>,
    /// Retry bounds.
    pub retry: RetryPolicy,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            page_size: 100,
            max_in_flight: 4,
            observation_queries: ObservationQueries::Single,
            include_medications: true,
            since: None,
            fetch_references: true,
            fetch_attachments: true,
            max_references: 2_000,
            max_pages_per_query: 500,
            types: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// What a query fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QueryKind {
    /// Read one resource (the Patient).
    Read,
    /// Search a type in the patient's compartment.
    Search,
    /// Reads of resources other resources refer to.
    References,
    /// Document attachments (Binary).
    Attachments,
}

/// Names one line of progress: a type, how it is fetched, and an optional filter
/// (e.g. an Observation category).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueryKey {
    /// FHIR resource type.
    pub resource_type: String,
    /// How it is fetched.
    pub kind: QueryKind,
    /// e.g. `laboratory` for an Observation category query.
    pub filter: Option<String>,
}

impl QueryKey {
    pub(crate) fn new(ty: &str, kind: QueryKind, filter: Option<String>) -> Self {
        Self {
            resource_type: ty.to_string(),
            kind,
            filter,
        }
    }
}

impl QueryKey {
    /// Words for the patient, e.g. "test results and measurements (laboratory)" or
    /// "clinicians' details".
    pub fn label(&self) -> String {
        match self.kind {
            QueryKind::Attachments => "document attachments".to_string(),
            _ => super::session::label(self),
        }
    }
}

impl fmt::Display for QueryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.filter) {
            (QueryKind::Attachments, _) => f.write_str("document attachments"),
            (QueryKind::References, _) => write!(f, "{} (referenced)", self.resource_type),
            (_, Some(filter)) => write!(f, "{} ({filter})", self.resource_type),
            (_, None) => f.write_str(&self.resource_type),
        }
    }
}

/// One planned query (serialised in the resume state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PlannedQuery {
    pub key: QueryKey,
    pub url: String,
    /// True when the query returns *every* resource of its type for the patient.
    pub exhaustive: bool,
    /// Types accepted in `include` mode.
    pub includes: Vec<String>,
}

/// The plan: the Patient read, then the searches, in order; plus the types not granted.
pub(crate) fn build_plan(
    base: &FhirBase,
    patient_id: &str,
    granted: &GrantedAccess,
    options: &ImportOptions,
) -> (Vec<PlannedQuery>, Vec<String>) {
    let mut queries = Vec::new();
    let mut not_granted = Vec::new();
    if granted.can_read("Patient") {
        queries.push(PlannedQuery {
            key: QueryKey::new("Patient", QueryKind::Read, None),
            url: base.join(&format!("Patient/{}", encode_component(patient_id))),
            exhaustive: true,
            includes: Vec::new(),
        });
    } else {
        not_granted.push("Patient".to_string());
    }
    let types: Vec<String> = match &options.types {
        Some(t) => t.clone(),
        None => SEARCH_TYPES.iter().map(|t| t.to_string()).collect(),
    };
    for ty in &types {
        let mut add = |filter: Option<String>, params: Vec<(String, String)>, exhaustive: bool| {
            queries.push(search_query(
                base, ty, patient_id, filter, &params, exhaustive, options,
            ));
        };
        match granted.search_access(ty) {
            SearchAccess::None => not_granted.push(ty.clone()),
            SearchAccess::All => match (&options.observation_queries, ty.as_str()) {
                (ObservationQueries::PerCategory(categories), "Observation") => {
                    queries.extend(observation_category_queries(
                        base, patient_id, categories, options,
                    ));
                }
                _ => add(None, Vec::new(), true),
            },
            SearchAccess::Only(sets) => {
                for set in sets {
                    let label = set
                        .iter()
                        .map(|(_, v)| v.rsplit('|').next().unwrap_or(v).to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    add(Some(label), set, false);
                }
            }
        }
    }
    (queries, not_granted)
}

/// One Observation query per category. Never exhaustive: Observations without one of these
/// categories are not returned.
pub(crate) fn observation_category_queries(
    base: &FhirBase,
    patient_id: &str,
    categories: &[String],
    options: &ImportOptions,
) -> Vec<PlannedQuery> {
    categories
        .iter()
        .map(|c| {
            search_query(
                base,
                "Observation",
                patient_id,
                Some(c.clone()),
                &[("category".to_string(), c.clone())],
                false,
                options,
            )
        })
        .collect()
}

fn search_query(
    base: &FhirBase,
    ty: &str,
    patient_id: &str,
    filter: Option<String>,
    params: &[(String, String)],
    exhaustive: bool,
    options: &ImportOptions,
) -> PlannedQuery {
    let includes = if ty == "MedicationRequest" && options.include_medications {
        vec!["Medication".to_string()]
    } else {
        Vec::new()
    };
    PlannedQuery {
        key: QueryKey::new(ty, QueryKind::Search, filter),
        url: search_url(base, ty, patient_id, params, options),
        exhaustive: exhaustive && options.since.is_none(),
        includes,
    }
}

fn search_url(
    base: &FhirBase,
    ty: &str,
    patient_id: &str,
    extra: &[(String, String)],
    options: &ImportOptions,
) -> String {
    let count = options.page_size.clamp(1, 1000).to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("patient", patient_id)];
    pairs.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    pairs.push(("_count", &count));
    if ty == "MedicationRequest" && options.include_medications {
        pairs.push(("_include", "MedicationRequest:medication"));
    }
    let since = options.since.map(|s| format!("gt{}", fhir_instant(s)));
    if let Some(s) = &since {
        pairs.push(("_lastUpdated", s));
    }
    format!("{}?{}", base.join(ty), encode_pairs(pairs))
}
