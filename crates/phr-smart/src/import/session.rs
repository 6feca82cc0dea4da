//! [`ImportSession`] and its serialisable [`ImportState`]. See the module docs of `import`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::page::{collect_links, parse_search_page, parse_single};
use super::plan::{
    build_plan, observation_category_queries, ImportOptions, ObservationQueries, PlannedQuery,
    QueryKey, QueryKind, OBSERVATION_CATEGORIES,
};
use super::{
    AttachmentData, AuthPause, ImportError, ImportEvent, ImportFailure, ImportSummary,
    Interruption, ProgressState, QueryProgress, RawResource, ResourceBatch, SessionStatus,
};
use crate::http::{
    operation_outcome_text, sniff, truncate, BodyShape, HttpRequest, HttpResponse, NetworkFailure,
    RequestId,
};
use crate::scopes::REFERENCE_TYPES;
use crate::time::{retry_after_delay, UnixMillis};
use crate::token::{AccessToken, Connection};
use crate::urls::{split_type_id, FhirBase};

const STATE_VERSION: u32 = 1;

/// Requests are not sent with a token that expires within this margin; the session pauses for a
/// new one instead.
const TOKEN_EXPIRY_MARGIN_MS: u64 = 10_000;

const ACCEPT_FHIR: &str = "application/fhir+json";

/// A request that gets 401 this many times, each time with a token that was current when it was
/// sent, is failed instead of pausing again: the provider refuses it even after signing in
/// again, and pausing forever would block the rest of the import.
const MAX_AUTH_DENIALS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum QueryStatus {
    Pending,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct QueryState {
    plan: PlannedQuery,
    /// The next URL to fetch while `Pending`.
    cursor: String,
    status: QueryStatus,
    fetched: u64,
    total: Option<u64>,
    pages: u32,
    attempts: u32,
    not_before: Option<UnixMillis>,
    restarted: bool,
    /// 401s received with a current token (see `MAX_AUTH_DENIALS`).
    #[serde(default)]
    auth_denials: u32,
}

impl QueryState {
    /// A query not yet started: its first page is the planned URL.
    fn pending(plan: PlannedQuery) -> QueryState {
        QueryState {
            cursor: plan.url.clone(),
            plan,
            status: QueryStatus::Pending,
            fetched: 0,
            total: None,
            pages: 0,
            attempts: 0,
            not_before: None,
            restarted: false,
            auth_denials: 0,
        }
    }
}

/// A reference (`Type/id`) or attachment URL waiting to be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FetchItem {
    target: String,
    attempts: u32,
    not_before: Option<UnixMillis>,
    #[serde(default)]
    auth_denials: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Counts {
    fetched: u64,
    failed: u64,
}

/// Everything needed to continue an import later, even after a reload: the plan, each query's
/// next-page URL, pending references and attachments, and what was already emitted.
///
/// Contains the patient id and server URLs (store it inside the encrypted vault), never the
/// access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportState {
    version: u32,
    provider_name: String,
    fhir_base: FhirBase,
    patient_id: String,
    readable_reference_types: Vec<String>,
    options: ImportOptions,
    started_at_ms: UnixMillis,
    next_request_id: u64,
    rng: u64,
    ever_answered: bool,
    queries: Vec<QueryState>,
    references: VecDeque<FetchItem>,
    attachments: VecDeque<FetchItem>,
    queued: BTreeSet<String>,
    seen: BTreeSet<String>,
    emitted: BTreeMap<String, u64>,
    reference_counts: BTreeMap<String, Counts>,
    attachment_counts: Counts,
    not_granted: Vec<String>,
    failed: Vec<(QueryKey, String)>,
    external_skipped: u64,
    warnings: u64,
    reference_cap_warned: bool,
}

impl ImportState {
    /// JSON for the vault.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("import state serialises")
    }

    /// Reads the JSON back.
    pub fn from_json(json: &str) -> Result<Self, ImportError> {
        let state: Self =
            serde_json::from_str(json).map_err(|e| ImportError::StateUnreadable(e.to_string()))?;
        if state.version != STATE_VERSION {
            return Err(ImportError::StateUnreadable(format!(
                "unknown version {}",
                state.version
            )));
        }
        Ok(state)
    }

    /// The patient being imported.
    pub fn patient_id(&self) -> &str {
        &self.patient_id
    }

    /// When the session started.
    pub fn started_at_ms(&self) -> UnixMillis {
        self.started_at_ms
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Work {
    Query(usize),
    Reference(String),
    Attachment(String),
}

#[derive(Debug, Clone)]
struct InFlight {
    work: Work,
    url: String,
    generation: u64,
}

/// A running import. See the `import` module docs for the loop the shell runs.
#[derive(Debug)]
pub struct ImportSession {
    state: ImportState,
    token: AccessToken,
    token_generation: u64,
    in_flight: BTreeMap<RequestId, InFlight>,
    paused: Option<AuthPause>,
    interrupted: Option<Interruption>,
    finished: bool,
    scratch: (u32, Option<UnixMillis>),
}

/// Words for a type in messages to the patient (e.g. `Observation` → "test results and
/// measurements"); unknown types are returned as they are.
pub fn friendly(ty: &str) -> &str {
    match ty {
        "Patient" => "patient details",
        "AllergyIntolerance" => "allergies",
        "Condition" => "conditions",
        "MedicationRequest" => "prescriptions",
        "MedicationStatement" => "medication list",
        "Medication" => "medication details",
        "Observation" => "test results and measurements",
        "Immunization" => "immunizations",
        "Procedure" => "procedures",
        "DiagnosticReport" => "reports",
        "DocumentReference" => "documents",
        "Encounter" => "visits",
        "CarePlan" => "care plans",
        "Goal" => "goals",
        "CareTeam" => "care team",
        "Device" => "devices",
        "Practitioner" | "PractitionerRole" => "clinicians' details",
        "Organization" => "organizations' details",
        "Location" => "locations",
        "Binary" => "document attachments",
        other => other,
    }
}

pub(crate) fn label(key: &QueryKey) -> String {
    match &key.filter {
        Some(f) => format!("{} ({f})", friendly(&key.resource_type)),
        None => friendly(&key.resource_type).to_string(),
    }
}

fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

fn outcome_detail(body: &[u8]) -> Option<String> {
    match sniff(body) {
        BodyShape::Json(v) => operation_outcome_text(&v).filter(|t| !t.is_empty()),
        _ => None,
    }
}

impl ImportSession {
    /// Plans and starts an import for the connection's patient. `seed` (random, from the shell)
    /// drives the retry jitter; `now` is recorded as the start of the sync.
    pub fn start(
        connection: &Connection,
        token: AccessToken,
        options: ImportOptions,
        seed: u64,
        now: UnixMillis,
    ) -> Result<Self, ImportError> {
        if token.patient_id() != connection.patient_id {
            return Err(ImportError::DifferentPatient {
                provider: connection.provider_name.clone(),
            });
        }
        let granted = connection.granted();
        let (plan, not_granted) = build_plan(
            &connection.fhir_base,
            &connection.patient_id,
            &granted,
            &options,
        );
        let queries = plan.into_iter().map(QueryState::pending).collect();
        let state = ImportState {
            version: STATE_VERSION,
            provider_name: connection.provider_name.clone(),
            fhir_base: connection.fhir_base.clone(),
            patient_id: connection.patient_id.clone(),
            readable_reference_types: REFERENCE_TYPES
                .iter()
                .filter(|t| granted.can_read(t))
                .map(|t| t.to_string())
                .collect(),
            options,
            started_at_ms: now,
            next_request_id: 1,
            rng: seed,
            ever_answered: false,
            queries,
            references: VecDeque::new(),
            attachments: VecDeque::new(),
            queued: BTreeSet::new(),
            seen: BTreeSet::new(),
            emitted: BTreeMap::new(),
            reference_counts: BTreeMap::new(),
            attachment_counts: Counts::default(),
            not_granted,
            failed: Vec::new(),
            external_skipped: 0,
            warnings: 0,
            reference_cap_warned: false,
        };
        Ok(Self::from_state(state, token))
    }

    /// Continues an import from a saved [`ImportState`] with a (new) token for the same patient.
    /// Requests that were in flight when the state was saved are sent again; nothing already
    /// emitted is emitted again.
    pub fn resume(state: ImportState, token: AccessToken) -> Result<Self, ImportError> {
        if token.patient_id() != state.patient_id {
            return Err(ImportError::DifferentPatient {
                provider: state.provider_name.clone(),
            });
        }
        Ok(Self::from_state(state, token))
    }

    fn from_state(state: ImportState, token: AccessToken) -> Self {
        Self {
            state,
            token,
            token_generation: 0,
            in_flight: BTreeMap::new(),
            paused: None,
            interrupted: None,
            finished: false,
            scratch: (0, None),
        }
    }

    /// The resume state. Requests in flight count as not yet done.
    pub fn snapshot(&self) -> ImportState {
        self.state.clone()
    }

    /// Continues after [`SessionStatus::NeedsAuth`] with a refreshed or reconnected token. The
    /// requests that got 401 are sent again.
    pub fn resume_with_token(&mut self, token: AccessToken) -> Result<(), ImportError> {
        if token.patient_id() != self.state.patient_id {
            return Err(ImportError::DifferentPatient {
                provider: self.state.provider_name.clone(),
            });
        }
        self.token = token;
        self.token_generation += 1;
        self.paused = None;
        Ok(())
    }

    /// Continues after [`SessionStatus::Interrupted`] (e.g. when the patient taps "try again",
    /// or the browser reports it is online again).
    pub fn retry_interrupted(&mut self) {
        self.interrupted = None;
    }

    // ----- choosing work -------------------------------------------------------------------

    fn is_in_flight(&self, work: &Work) -> bool {
        self.in_flight.values().any(|f| f.work == *work)
    }

    /// Work that may be sent now or later, in priority order, with its earliest time.
    fn candidates(&self) -> Vec<(Work, Option<UnixMillis>)> {
        let qs = &self.state.queries;
        // Phase 1: the Patient read goes alone.
        if let Some(first) = qs.first() {
            if first.plan.key.kind == QueryKind::Read && first.status == QueryStatus::Pending {
                let w = Work::Query(0);
                return if self.is_in_flight(&w) {
                    Vec::new()
                } else {
                    vec![(w, first.not_before)]
                };
            }
        }
        // Phase 2: searches.
        let pending: Vec<(Work, Option<UnixMillis>)> = qs
            .iter()
            .enumerate()
            .filter(|(_, q)| q.status == QueryStatus::Pending)
            .map(|(i, q)| (Work::Query(i), q.not_before))
            .collect();
        if !pending.is_empty() {
            return pending
                .into_iter()
                .filter(|(w, _)| !self.is_in_flight(w))
                .collect();
        }
        // Phase 3: references, then attachments.
        let refs = self
            .state
            .references
            .iter()
            .map(|r| (Work::Reference(r.target.clone()), r.not_before));
        let atts = self
            .state
            .attachments
            .iter()
            .map(|a| (Work::Attachment(a.target.clone()), a.not_before));
        refs.chain(atts)
            .filter(|(w, _)| !self.is_in_flight(w))
            .collect()
    }

    /// The requests to send now (at most the concurrency bound minus those in flight). Returns
    /// nothing while paused, interrupted, finished, or when only delayed retries remain; check
    /// [`status`](Self::status) then.
    pub fn next_requests(&mut self, now: UnixMillis) -> Vec<HttpRequest> {
        if self.finished || self.paused.is_some() || self.interrupted.is_some() {
            return Vec::new();
        }
        if self
            .token
            .is_expired(now.saturating_add(TOKEN_EXPIRY_MARGIN_MS))
        {
            self.paused = Some(AuthPause::TokenExpired);
            return Vec::new();
        }
        // References already received through a search (e.g. `_include`) are not read again.
        let seen = &self.state.seen;
        let in_flight = &self.in_flight;
        self.state.references.retain(|r| {
            !seen.contains(&r.target)
                || in_flight
                    .values()
                    .any(|f| f.work == Work::Reference(r.target.clone()))
        });

        let limit = self.state.options.max_in_flight.max(1);
        let mut out = Vec::new();
        if self.in_flight.len() >= limit {
            return out;
        }
        for (work, not_before) in self.candidates() {
            if self.in_flight.len() >= limit {
                break;
            }
            if not_before.is_some_and(|t| t > now) {
                continue;
            }
            out.push(self.dispatch(work));
        }
        out
    }

    fn dispatch(&mut self, work: Work) -> HttpRequest {
        let url = match &work {
            Work::Query(i) => self.state.queries[*i].cursor.clone(),
            Work::Reference(target) => self.state.fhir_base.join(target),
            Work::Attachment(url) => url.clone(),
        };
        let id = RequestId(self.state.next_request_id);
        self.state.next_request_id += 1;
        self.in_flight.insert(
            id,
            InFlight {
                work,
                url: url.clone(),
                generation: self.token_generation,
            },
        );
        let mut req = HttpRequest::get(id, url, ACCEPT_FHIR);
        req.headers
            .push(("Authorization".into(), self.token.authorization_header()));
        req
    }

    // ----- status --------------------------------------------------------------------------

    fn is_complete(&self) -> bool {
        self.in_flight.is_empty()
            && self
                .state
                .queries
                .iter()
                .all(|q| q.status != QueryStatus::Pending)
            && self.state.references.is_empty()
            && self.state.attachments.is_empty()
    }

    /// What the session is doing (see [`SessionStatus`]).
    pub fn status(&self, now: UnixMillis) -> SessionStatus {
        if self.finished || self.is_complete() {
            return SessionStatus::Finished;
        }
        if let Some(p) = self.paused {
            return SessionStatus::NeedsAuth(p);
        }
        if let Some(i) = &self.interrupted {
            return SessionStatus::Interrupted(i.clone());
        }
        if self
            .token
            .is_expired(now.saturating_add(TOKEN_EXPIRY_MARGIN_MS))
        {
            return SessionStatus::NeedsAuth(AuthPause::TokenExpired);
        }
        let limit = self.state.options.max_in_flight.max(1);
        let wake_at_ms = if self.in_flight.len() < limit {
            self.candidates()
                .iter()
                .map(|(_, t)| t.unwrap_or(now).max(now))
                .min()
        } else {
            None
        };
        SessionStatus::Running {
            in_flight: self.in_flight.len(),
            wake_at_ms,
        }
    }

    /// Progress of every query, then of references per type, then of attachments.
    pub fn progress(&self) -> Vec<QueryProgress> {
        let mut out: Vec<QueryProgress> = (0..self.state.queries.len())
            .map(|i| self.query_progress(i))
            .collect();
        for ty in self.state.reference_counts.keys() {
            out.push(self.reference_progress(ty));
        }
        if self.state.attachment_counts != Counts::default() || !self.state.attachments.is_empty() {
            out.push(self.attachment_progress());
        }
        out
    }

    fn query_progress(&self, i: usize) -> QueryProgress {
        let q = &self.state.queries[i];
        let state = match q.status {
            QueryStatus::Done => ProgressState::Done,
            QueryStatus::Failed => ProgressState::Failed,
            QueryStatus::Pending if q.pages == 0 && !self.is_in_flight(&Work::Query(i)) => {
                ProgressState::Waiting
            }
            QueryStatus::Pending => ProgressState::Running,
        };
        QueryProgress {
            query: q.plan.key.clone(),
            fetched: q.fetched,
            total: q.total,
            pages: q.pages,
            failed: 0,
            state,
        }
    }

    fn reference_progress(&self, ty: &str) -> QueryProgress {
        let counts = self
            .state
            .reference_counts
            .get(ty)
            .cloned()
            .unwrap_or_default();
        let prefix = format!("{ty}/");
        let pending = self
            .state
            .references
            .iter()
            .any(|r| r.target.starts_with(&prefix));
        QueryProgress {
            query: QueryKey::new(ty, QueryKind::References, None),
            fetched: counts.fetched,
            total: None,
            pages: 0,
            failed: counts.failed,
            state: if pending {
                ProgressState::Running
            } else {
                ProgressState::Done
            },
        }
    }

    fn attachment_progress(&self) -> QueryProgress {
        let c = &self.state.attachment_counts;
        QueryProgress {
            query: QueryKey::new("Binary", QueryKind::Attachments, None),
            fetched: c.fetched,
            total: None,
            pages: 0,
            failed: c.failed,
            state: if self.state.attachments.is_empty() {
                ProgressState::Done
            } else {
                ProgressState::Running
            },
        }
    }

    /// The summary so far (complete once the status is `Finished`).
    pub fn summary(&self, now: UnixMillis) -> ImportSummary {
        let full_sync = self.state.options.since.is_none();
        let mut by_type: BTreeMap<&str, bool> = BTreeMap::new();
        for q in &self.state.queries {
            let ok = q.status == QueryStatus::Done && q.plan.exhaustive;
            by_type
                .entry(q.plan.key.resource_type.as_str())
                .and_modify(|all| *all &= ok)
                .or_insert(ok);
        }
        ImportSummary {
            full_sync,
            started_at_ms: self.state.started_at_ms,
            finished_at_ms: now,
            resources_by_type: self.state.emitted.clone(),
            failed: self.state.failed.clone(),
            not_granted: self.state.not_granted.clone(),
            complete_types: if full_sync {
                by_type
                    .into_iter()
                    .filter(|(_, ok)| *ok)
                    .map(|(t, _)| t.to_string())
                    .collect()
            } else {
                Vec::new()
            },
            seen: self
                .state
                .seen
                .iter()
                .filter_map(|k| k.split_once('/'))
                .map(|(t, i)| (t.to_string(), i.to_string()))
                .collect(),
            external_references_skipped: self.state.external_skipped,
            warnings: self.state.warnings,
        }
    }

    fn check_finished(&mut self, now: UnixMillis, ev: &mut Vec<ImportEvent>) {
        if !self.finished && self.is_complete() {
            self.finished = true;
            ev.push(ImportEvent::Finished(self.summary(now)));
        }
    }

    // ----- randomness and retry --------------------------------------------------------------

    /// splitmix64: deterministic for a seed, good enough for jitter.
    fn next_random(&mut self) -> u64 {
        self.state.rng = self.state.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random.
    fn backoff(&mut self, attempts: u32) -> u64 {
        let policy = &self.state.options.retry;
        let exp = policy
            .base_delay_ms
            .saturating_mul(1u64 << attempts.saturating_sub(1).min(20))
            .min(policy.max_delay_ms);
        let half = exp / 2;
        half + self.next_random() % (half + 1)
    }

    /// The delay before the next try, or `Err(seconds)` when the server asks to wait too long.
    fn retry_delay(
        &mut self,
        resp: &HttpResponse,
        attempts: u32,
        now: UnixMillis,
    ) -> Result<u64, u64> {
        match resp
            .header("Retry-After")
            .and_then(|v| retry_after_delay(v, now))
        {
            Some(d) if d > self.state.options.retry.max_retry_after_ms => Err(d / 1000),
            Some(d) => Ok(d),
            None => Ok(self.backoff(attempts)),
        }
    }

    fn attempt_limit(&self, status: u16) -> u32 {
        let p = &self.state.options.retry;
        if status == 500 {
            p.max_attempts_server_error
        } else {
            p.max_attempts
        }
    }

    // ----- responses -------------------------------------------------------------------------

    /// Feeds the response to request `id`. Unknown ids (e.g. from before a resume) are ignored.
    pub fn on_response(
        &mut self,
        id: RequestId,
        resp: HttpResponse,
        now: UnixMillis,
    ) -> Vec<ImportEvent> {
        let Some(flight) = self.in_flight.remove(&id) else {
            return Vec::new();
        };
        let mut ev = Vec::new();
        if resp.status == 401 && flight.generation != self.token_generation {
            // Sent with a token that has since been replaced: simply send it again.
            return ev;
        }
        if resp.status == 401 && self.count_auth_denial(&flight.work) < MAX_AUTH_DENIALS {
            // Nothing advances: the same request is sent again after resume_with_token.
            if self.paused.is_none() {
                self.paused = Some(AuthPause::Unauthorized);
                ev.push(ImportEvent::NeedsAuth(AuthPause::Unauthorized));
            }
            return ev;
        }
        self.state.ever_answered = true;
        match flight.work {
            Work::Query(i) => self.on_query_response(i, &flight.url, &resp, now, &mut ev),
            Work::Reference(target) => {
                self.on_reference_response(&target, &flight.url, &resp, now, &mut ev)
            }
            Work::Attachment(url) => self.on_attachment_response(&url, &resp, now, &mut ev),
        }
        self.check_finished(now, &mut ev);
        ev
    }

    /// Reports that request `id` failed without an HTTP response (see
    /// [`NetworkFailure::classify`]). Retries with backoff; after
    /// [`RetryPolicy::max_attempts_network`](super::RetryPolicy) tries, or at once when
    /// offline, the session is interrupted.
    pub fn on_network_error(
        &mut self,
        id: RequestId,
        failure: NetworkFailure,
        now: UnixMillis,
    ) -> Vec<ImportEvent> {
        let Some(flight) = self.in_flight.remove(&id) else {
            return Vec::new();
        };
        let mut ev = Vec::new();
        let limit = self.state.options.retry.max_attempts_network;
        let attempts = {
            let (attempts, _) = self.retry_slot(&flight.work);
            *attempts += 1;
            *attempts
        };
        if failure == NetworkFailure::Offline || attempts >= limit {
            let (attempts, not_before) = self.retry_slot(&flight.work);
            *attempts = 0;
            *not_before = None;
            if self.interrupted.is_none() {
                let provider = &self.state.provider_name;
                let message = match failure {
                    NetworkFailure::FetchFailed if self.state.ever_answered => format!(
                        "The connection to {provider} was lost during the import. Everything received so far is kept; try again to continue where it stopped."
                    ),
                    f => f.message(provider),
                };
                let interruption = Interruption { failure, message };
                self.interrupted = Some(interruption.clone());
                ev.push(ImportEvent::Interrupted(interruption));
            }
        } else {
            let delay = self.backoff(attempts);
            let (_, not_before) = self.retry_slot(&flight.work);
            *not_before = Some(now.saturating_add(delay));
        }
        ev
    }

    /// Reports that the shell's timer for request `id` fired first (the shell should also abort
    /// the `fetch()`). Handled like a network error.
    pub fn on_timeout(&mut self, id: RequestId, now: UnixMillis) -> Vec<ImportEvent> {
        self.on_network_error(id, NetworkFailure::TimedOut, now)
    }

    /// Counts a 401 for a piece of work and returns the new count.
    fn count_auth_denial(&mut self, work: &Work) -> u32 {
        let slot = match work {
            Work::Query(i) => Some(&mut self.state.queries[*i].auth_denials),
            Work::Reference(t) => self
                .state
                .references
                .iter_mut()
                .find(|r| r.target == *t)
                .map(|r| &mut r.auth_denials),
            Work::Attachment(u) => self
                .state
                .attachments
                .iter_mut()
                .find(|a| a.target == *u)
                .map(|a| &mut a.auth_denials),
        };
        match slot {
            Some(n) => {
                *n += 1;
                *n
            }
            None => MAX_AUTH_DENIALS,
        }
    }

    /// The attempts counter and retry time of a piece of work. Work in flight is always still
    /// queued (items leave their queue only when answered), so this finds it; a scratch slot
    /// keeps the function total regardless.
    fn retry_slot(&mut self, work: &Work) -> (&mut u32, &mut Option<UnixMillis>) {
        let item = match work {
            Work::Query(i) => {
                let q = &mut self.state.queries[*i];
                return (&mut q.attempts, &mut q.not_before);
            }
            Work::Reference(t) => self.state.references.iter_mut().find(|r| r.target == *t),
            Work::Attachment(u) => self.state.attachments.iter_mut().find(|a| a.target == *u),
        };
        match item {
            Some(item) => (&mut item.attempts, &mut item.not_before),
            None => {
                self.scratch = (0, None);
                (&mut self.scratch.0, &mut self.scratch.1)
            }
        }
    }

    fn fail_query(&mut self, i: usize, reason: ImportFailure, ev: &mut Vec<ImportEvent>) {
        let q = &mut self.state.queries[i];
        q.status = QueryStatus::Failed;
        q.not_before = None;
        let key = q.plan.key.clone();
        let message = reason.message(&label(&key), &self.state.provider_name);
        self.state.failed.push((key.clone(), message.clone()));
        ev.push(ImportEvent::TypeFailed {
            query: key,
            reason,
            message,
        });
        ev.push(ImportEvent::Progress(self.query_progress(i)));
    }

    fn warn(&mut self, query: QueryKey, message: String, ev: &mut Vec<ImportEvent>) {
        self.state.warnings += 1;
        ev.push(ImportEvent::Warning { query, message });
    }

    fn on_query_response(
        &mut self,
        i: usize,
        url: &str,
        resp: &HttpResponse,
        now: UnixMillis,
        ev: &mut Vec<ImportEvent>,
    ) {
        let kind = self.state.queries[i].plan.key.kind;
        let status = resp.status;
        if resp.is_success() {
            match kind {
                QueryKind::Read => self.on_patient(i, url, &resp.body, ev),
                _ => self.on_page(i, url, &resp.body, ev),
            }
            return;
        }
        if is_retryable(status) {
            let limit = self.attempt_limit(status);
            let attempts = {
                let q = &mut self.state.queries[i];
                q.attempts += 1;
                q.attempts
            };
            match self.retry_delay(resp, attempts, now) {
                Err(secs) => self.fail_query(
                    i,
                    ImportFailure::Busy {
                        retry_after_secs: secs,
                    },
                    ev,
                ),
                Ok(_) if attempts >= limit => {
                    self.fail_query(i, ImportFailure::GaveUp { status, attempts }, ev)
                }
                Ok(delay) => {
                    self.state.queries[i].not_before = Some(now.saturating_add(delay));
                }
            }
            return;
        }
        let detail = outcome_detail(&resp.body);
        let q = &self.state.queries[i];
        let on_later_page = q.cursor != q.plan.url;
        if on_later_page && !q.restarted && matches!(status, 400 | 404 | 410 | 422) {
            // Paging links expire (e.g. a server-side search session); start the query over.
            // Resources already emitted are not emitted again.
            let key = q.plan.key.clone();
            let q = &mut self.state.queries[i];
            q.cursor = q.plan.url.clone();
            q.restarted = true;
            q.attempts = 0;
            let message = format!(
                "The link to the next page of your {} at {} had expired, so they are being fetched again from the start. Nothing is duplicated.",
                label(&key),
                self.state.provider_name
            );
            self.warn(key, message, ev);
            return;
        }
        let key = &self.state.queries[i].plan.key;
        if key.resource_type == "Observation"
            && key.kind == QueryKind::Search
            && key.filter.is_none()
            && !on_later_page
            && matches!(status, 400 | 422)
            && self.state.options.observation_queries == ObservationQueries::Single
        {
            return self.fan_out_observations(i, detail, ev);
        }
        let reason = match status {
            401 => ImportFailure::AuthRefused,
            403 => ImportFailure::Forbidden { detail },
            404 | 410 if kind == QueryKind::Search => ImportFailure::NotOffered,
            _ => ImportFailure::Rejected { status, detail },
        };
        self.fail_query(i, reason, ev);
    }

    /// The server refused an Observation search without a category (Epic does): replace the
    /// query by one query per US Core category (the first takes its place, the others are
    /// appended, so indexes of other queries do not move).
    fn fan_out_observations(
        &mut self,
        i: usize,
        detail: Option<String>,
        ev: &mut Vec<ImportEvent>,
    ) {
        let categories: Vec<String> = OBSERVATION_CATEGORIES
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut planned = observation_category_queries(
            &self.state.fhir_base,
            &self.state.patient_id,
            &categories,
            &self.state.options,
        )
        .into_iter()
        .map(QueryState::pending);
        let key = self.state.queries[i].plan.key.clone();
        if let Some(first) = planned.next() {
            self.state.queries[i] = first;
        }
        self.state.queries.extend(planned);
        let message = format!(
            "{} only returns {} by category{}; they are being fetched category by category instead. Results outside the usual categories may be missing.",
            self.state.provider_name,
            label(&key),
            detail.map(|d| format!(" (it said: \"{d}\")")).unwrap_or_default()
        );
        self.warn(key, message, ev);
    }

    fn on_patient(&mut self, i: usize, url: &str, body: &[u8], ev: &mut Vec<ImportEvent>) {
        let patient_id = self.state.patient_id.clone();
        match parse_single(body, "Patient", &patient_id) {
            Ok(resource) => {
                let key = self.state.queries[i].plan.key.clone();
                let fresh = self.emit(key, url, vec![resource], ev);
                let q = &mut self.state.queries[i];
                q.fetched += fresh;
                q.pages = 1;
                q.status = QueryStatus::Done;
                ev.push(ImportEvent::Progress(self.query_progress(i)));
            }
            Err(f) => self.fail_query(i, f, ev),
        }
    }

    fn on_page(&mut self, i: usize, url: &str, body: &[u8], ev: &mut Vec<ImportEvent>) {
        let (ty, includes, key) = {
            let q = &self.state.queries[i];
            (
                q.plan.key.resource_type.clone(),
                q.plan.includes.clone(),
                q.plan.key.clone(),
            )
        };
        let include_refs: Vec<&str> = includes.iter().map(String::as_str).collect();
        let page = match parse_search_page(body, &ty, &include_refs) {
            Ok(p) => p,
            Err(f) => return self.fail_query(i, f, ev),
        };
        let first_page = self.state.queries[i].pages == 0;
        let fresh = self.emit(key.clone(), url, page.resources, ev);
        for text in page.outcomes {
            let message = format!(
                "{} noted about your {}: \"{text}\"",
                self.state.provider_name,
                label(&key)
            );
            self.warn(key.clone(), message, ev);
        }
        if page.skipped > 0 {
            let message = format!(
                "{} sent {} entries in your {} without a usable id; they were skipped.",
                self.state.provider_name,
                page.skipped,
                label(&key)
            );
            self.warn(key.clone(), message, ev);
        }
        let max_pages = self.state.options.max_pages_per_query;
        let next = page
            .next
            .map(|l| (self.state.fhir_base.resolve_link(&l), l));
        let q = &mut self.state.queries[i];
        q.fetched += fresh;
        q.pages += 1;
        q.attempts = 0;
        q.not_before = None;
        if first_page {
            q.total = page.total;
        }
        let failure = match next {
            None => {
                q.status = QueryStatus::Done;
                None
            }
            Some((None, link)) => Some(ImportFailure::UnsafeNextLink {
                link: truncate(&link, 80),
            }),
            Some((Some(next), _)) if next == url => Some(ImportFailure::PagingLoop),
            Some(_) if q.pages >= max_pages => Some(ImportFailure::TooManyPages),
            Some((Some(next), _)) => {
                q.cursor = next;
                None
            }
        };
        match failure {
            Some(f) => self.fail_query(i, f, ev),
            None => ev.push(ImportEvent::Progress(self.query_progress(i))),
        }
    }

    /// Emits the resources not yet seen, queues what they refer to, and returns how many of
    /// them are of the query's own type.
    fn emit(
        &mut self,
        query: QueryKey,
        url: &str,
        resources: Vec<RawResource>,
        ev: &mut Vec<ImportEvent>,
    ) -> u64 {
        let mut fresh = Vec::new();
        let mut own = 0;
        for r in resources {
            if self
                .state
                .seen
                .insert(format!("{}/{}", r.resource_type, r.id))
            {
                if r.resource_type == query.resource_type {
                    own += 1;
                }
                *self
                    .state
                    .emitted
                    .entry(r.resource_type.clone())
                    .or_insert(0) += 1;
                fresh.push(r);
            }
        }
        let mut cap_warning = false;
        for r in &fresh {
            cap_warning |= self.queue_links(r);
        }
        if !fresh.is_empty() {
            ev.push(ImportEvent::Resources(ResourceBatch {
                query: query.clone(),
                request_url: url.to_string(),
                resources: fresh,
            }));
        }
        if cap_warning {
            let message = format!(
                "Your record at {} refers to more clinicians, organizations and documents than the app reads in one go ({}); the rest were skipped.",
                self.state.provider_name, self.state.options.max_references
            );
            self.warn(query, message, ev);
        }
        own
    }

    /// Queues references and attachments; returns true when the cap was reached just now.
    fn queue_links(&mut self, resource: &RawResource) -> bool {
        let opts = &self.state.options;
        if !opts.fetch_references && !opts.fetch_attachments {
            return false;
        }
        let links = collect_links(resource, &self.state.fhir_base, opts.fetch_attachments);
        self.state.external_skipped += links.external;
        let mut wanted: Vec<(String, bool)> = Vec::new();
        if opts.fetch_references {
            wanted.extend(
                links
                    .references
                    .into_iter()
                    .filter(|(t, _)| self.state.readable_reference_types.contains(t))
                    .map(|(t, i)| (format!("{t}/{i}"), false)),
            );
        }
        wanted.extend(links.attachments.into_iter().map(|u| (u, true)));
        let mut cap_hit = false;
        for (target, is_attachment) in wanted {
            if self.state.seen.contains(&target) || self.state.queued.contains(&target) {
                continue;
            }
            if self.state.queued.len() >= self.state.options.max_references {
                if !self.state.reference_cap_warned {
                    self.state.reference_cap_warned = true;
                    cap_hit = true;
                }
                continue;
            }
            self.state.queued.insert(target.clone());
            let item = FetchItem {
                target,
                attempts: 0,
                not_before: None,
                auth_denials: 0,
            };
            if is_attachment {
                self.state.attachments.push_back(item);
            } else {
                self.state.references.push_back(item);
            }
        }
        cap_hit
    }

    /// Shared HTTP error handling for references and attachments: `Ok(())` when a retry was
    /// scheduled, `Err(reason)` when the item failed for good.
    fn item_http_error(
        &mut self,
        work: &Work,
        resp: &HttpResponse,
        now: UnixMillis,
    ) -> Result<(), ImportFailure> {
        let status = resp.status;
        if is_retryable(status) {
            let limit = self.attempt_limit(status);
            let attempts = {
                let (a, _) = self.retry_slot(work);
                *a += 1;
                *a
            };
            return match self.retry_delay(resp, attempts, now) {
                Err(secs) => Err(ImportFailure::Busy {
                    retry_after_secs: secs,
                }),
                Ok(_) if attempts >= limit => Err(ImportFailure::GaveUp { status, attempts }),
                Ok(delay) => {
                    let (_, nb) = self.retry_slot(work);
                    *nb = Some(now.saturating_add(delay));
                    Ok(())
                }
            };
        }
        let detail = outcome_detail(&resp.body);
        Err(match status {
            401 => ImportFailure::AuthRefused,
            403 => ImportFailure::Forbidden { detail },
            _ => ImportFailure::Rejected { status, detail },
        })
    }

    fn on_reference_response(
        &mut self,
        target: &str,
        url: &str,
        resp: &HttpResponse,
        now: UnixMillis,
        ev: &mut Vec<ImportEvent>,
    ) {
        let Some((ty, id)) = split_type_id(target) else {
            self.state.references.retain(|r| r.target != target);
            return;
        };
        let key = QueryKey::new(&ty, QueryKind::References, None);
        let outcome = if resp.is_success() {
            parse_single(&resp.body, &ty, &id).map(Some)
        } else {
            self.item_http_error(&Work::Reference(target.to_string()), resp, now)
                .map(|()| None)
        };
        match outcome {
            Ok(None) => return, // retry scheduled
            Ok(Some(resource)) => {
                self.state.references.retain(|r| r.target != target);
                self.emit(key.clone(), url, vec![resource], ev);
                self.state
                    .reference_counts
                    .entry(ty.clone())
                    .or_default()
                    .fetched += 1;
            }
            Err(failure) => {
                self.state.references.retain(|r| r.target != target);
                self.state
                    .reference_counts
                    .entry(ty.clone())
                    .or_default()
                    .failed += 1;
                let message = match (&failure, resp.status) {
                    (_, 404 | 410) => format!(
                        "A record at {} refers to {target}, which is no longer available there; it was skipped.",
                        self.state.provider_name
                    ),
                    _ => failure.message(
                        &format!("{} ({target})", friendly(&ty)),
                        &self.state.provider_name,
                    ),
                };
                self.warn(key.clone(), message, ev);
            }
        }
        ev.push(ImportEvent::Progress(self.reference_progress(&ty)));
    }

    fn on_attachment_response(
        &mut self,
        url: &str,
        resp: &HttpResponse,
        now: UnixMillis,
        ev: &mut Vec<ImportEvent>,
    ) {
        let key = QueryKey::new("Binary", QueryKind::Attachments, None);
        let work = Work::Attachment(url.to_string());
        if !resp.is_success() {
            match self.item_http_error(&work, resp, now) {
                Ok(()) => return,
                Err(failure) => {
                    self.state.attachments.retain(|a| a.target != url);
                    self.state.attachment_counts.failed += 1;
                    let message = failure.message(
                        &format!("document attachment ({})", truncate(url, 80)),
                        &self.state.provider_name,
                    );
                    self.warn(key.clone(), message, ev);
                }
            }
            ev.push(ImportEvent::Progress(self.attachment_progress()));
            return;
        }
        self.state.attachments.retain(|a| a.target != url);
        let binary_id = self
            .state
            .fhir_base
            .local_reference(url)
            .filter(|(t, _)| t == "Binary")
            .map(|(_, id)| id);
        let is_json_binary = matches!(
            sniff(&resp.body),
            BodyShape::Json(ref v) if v.get("resourceType").and_then(|t| t.as_str()) == Some("Binary")
        );
        match (binary_id, is_json_binary) {
            (Some(id), true) => match parse_single(&resp.body, "Binary", &id) {
                Ok(resource) => {
                    self.emit(key.clone(), url, vec![resource], ev);
                    self.state.attachment_counts.fetched += 1;
                }
                Err(failure) => {
                    self.state.attachment_counts.failed += 1;
                    let message = failure.message("document attachment", &self.state.provider_name);
                    self.warn(key.clone(), message, ev);
                }
            },
            _ => {
                if let BodyShape::Json(v) = sniff(&resp.body) {
                    if v.get("resourceType").and_then(|t| t.as_str()) == Some("OperationOutcome") {
                        self.state.attachment_counts.failed += 1;
                        let failure = ImportFailure::OperationOutcome {
                            detail: operation_outcome_text(&v).unwrap_or_default(),
                        };
                        let message =
                            failure.message("document attachment", &self.state.provider_name);
                        self.warn(key, message, ev);
                        ev.push(ImportEvent::Progress(self.attachment_progress()));
                        return;
                    }
                }
                self.state.attachment_counts.fetched += 1;
                ev.push(ImportEvent::Attachment(AttachmentData {
                    url: url.to_string(),
                    content_type: resp.header("Content-Type").map(str::to_string),
                    data: resp.body.clone(),
                }));
            }
        }
        ev.push(ImportEvent::Progress(self.attachment_progress()));
    }
}
