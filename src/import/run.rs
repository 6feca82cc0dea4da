//! The import loop: runs a `phr_smart::import::ImportSession` with `fetch()`, stores what it
//! emits in the record (verbatim, with provenance), shows progress per type, saves as it goes,
//! and keeps the resume state in the vault so an interrupted import continues where it stopped.
//!
//! ```text
//! token (memory, else refresh, else "sign in again") → source → session (resume or start)
//! loop: send next_requests → wait for a response / timer / the patient → feed the session →
//!       apply its events to the record → every 500 resources or 4 s: save (record + resume state)
//! Finished: flag what a full sync no longer returned, record the sync, drop the resume state, save.
//! ```

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_record::{ResourceKey, Source, SourceId, SourceKind, SyncCoverage};
use phr_smart::import::{
    ImportEvent, ImportSession, ImportSummary, ProgressState, QueryKind, QueryProgress,
    SessionStatus,
};
use phr_smart::{
    supports_last_updated, Authorized, Discovery, HttpResponse, NetworkFailure, ProviderEntry,
    RequestId,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::net::{self, FHIR_TIMEOUT_MS};
use super::oauth::{self, NoToken};
use super::stats::Stats;
use super::store::{self, StoredConnection};
use super::ImportCtx;
use crate::messages::vault_error_message;
use crate::platform::time::{now_ms, now_rfc3339, perf_now};
use crate::platform::webcrypto;
use crate::route::{self, Route};
use crate::session::Session;
use crate::state::AppCtx;

/// Save at least this often during an import (ms). A tab that closes mid-import loses at most
/// this much fetching (the import resumes from the last save). Every save writes the record's
/// changed segments again, so an import that finishes sooner saves only at its start (the resume
/// state) and at its end; a pause (sign-in again, network lost) saves at once.
const SAVE_EVERY_MS: f64 = 10_000.0;
/// A full sync (which also notices what the provider no longer has) at least this often.
const FULL_SYNC_EVERY_MS: u64 = 7 * 24 * 3600 * 1000;

fn now() -> u64 {
    now_ms() as u64
}

/// What the running import is told.
pub enum Msg {
    Done(RequestId, Result<HttpResponse, NetworkFailure>),
    Wake,
    /// "Try again" after an interruption (or the browser is online again).
    Retry,
    /// Save where it is and stop (the patient paused it).
    Pause,
    /// Stop at once (the vault locked).
    Stop,
}

/// How to sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Continue an unfinished import; else only what changed since the last sync when the
    /// server supports it (and a full sync was done this week); else everything.
    Auto,
    /// Everything, so that what the provider no longer has is noticed.
    Full,
}

/// Where an import stands, for the screen.
#[derive(Clone, Debug, PartialEq)]
pub enum RunPhase {
    Preparing(String),
    Fetching,
    Saving,
    /// Paused until the patient signs in at the provider again.
    NeedsSignIn(String),
    /// Stopped after network failures; "Try again" continues.
    Interrupted(String),
    /// Paused by the patient.
    Paused,
    Finished,
    Failed(String),
}

/// One line of progress (a query, or the references of one type, or the attachments).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRow {
    pub id: String,
    pub resource_type: String,
    pub label: String,
    pub fetched: u64,
    pub total: Option<u64>,
    pub failed: u64,
    pub state: ProgressState,
}

/// The end of an import, for the screen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub full: bool,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub flagged_gone: usize,
    pub returned: usize,
    /// Resources received per type.
    pub by_type: Vec<(String, u64)>,
}

/// The running (or last) import as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct RunView {
    pub provider_id: String,
    pub provider_name: String,
    pub phase: RunPhase,
    pub incremental: bool,
    pub resumed: bool,
    pub rows: Vec<TypeRow>,
    pub stored: usize,
    pub failures: Vec<String>,
    pub warnings: Vec<String>,
    pub not_granted: Vec<String>,
    pub notes: Vec<String>,
    pub outcome: Option<Outcome>,
}

impl RunView {
    fn new(provider_id: &str, provider_name: &str, phase: RunPhase) -> RunView {
        RunView {
            provider_id: provider_id.into(),
            provider_name: provider_name.into(),
            phase,
            incremental: false,
            resumed: false,
            rows: Vec::new(),
            stored: 0,
            failures: Vec::new(),
            warnings: Vec::new(),
            not_granted: Vec::new(),
            notes: Vec::new(),
            outcome: None,
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.phase,
            RunPhase::Preparing(_) | RunPhase::Fetching | RunPhase::Saving
        )
    }
}

fn row_of(p: &QueryProgress) -> TypeRow {
    let k = &p.query;
    let kind = match k.kind {
        QueryKind::Read => "read",
        QueryKind::Search => "search",
        QueryKind::References => "references",
        QueryKind::Attachments => "attachments",
    };
    let mut label = k.label();
    if let Some(first) = label.get(..1) {
        label = first.to_uppercase() + &label[1..];
    }
    TypeRow {
        id: format!(
            "{}-{}{}",
            k.resource_type,
            kind,
            k.filter
                .as_deref()
                .map(|f| format!("-{f}"))
                .unwrap_or_default()
        ),
        resource_type: k.resource_type.clone(),
        label,
        fetched: p.fetched,
        total: p.total,
        failed: p.failed,
        state: p.state,
    }
}

fn upsert_row(rows: &mut Vec<TypeRow>, row: TypeRow) {
    match rows.iter_mut().find(|r| r.id == row.id) {
        Some(r) => *r = row,
        None => rows.push(row),
    }
}

/// Starts an import from a connected provider (nothing happens if one is running).
pub fn start(app: AppCtx, ictx: ImportCtx, provider_id: String, mode: SyncMode) {
    if ictx.is_running() {
        return;
    }
    let (tx, rx) = mpsc::unbounded();
    ictx.set_control(Some(tx.clone()));
    spawn_local(async move {
        let mut rx = rx;
        let result = run(app, ictx, &provider_id, mode, tx, &mut rx).await;
        ictx.set_control(None);
        if let Err(message) = result {
            ictx.run.update(|r| match r {
                Some(r) if r.provider_id == provider_id => r.phase = RunPhase::Failed(message),
                _ => *r = Some(RunView::new(&provider_id, "", RunPhase::Failed(message))),
            });
        }
        app.changed();
    });
}

/// After the sign-in came back and the vault was unlocked: keep the connection and import.
pub async fn finish_connect(app: AppCtx, ictx: ImportCtx, authorized: Authorized) {
    let Authorized {
        connection,
        access_token,
        not_granted,
        scopes_not_granted,
    } = authorized;
    let provider_id = connection.provider_id.clone();
    let name = connection.provider_name.clone();
    route::go(&Route::Import);
    let Some(session) = app.session() else { return };
    let fail = |message: String| {
        ictx.run.set(Some(RunView::new(
            &provider_id,
            &name,
            RunPhase::Failed(message),
        )));
    };
    let existing = match store::connection(&session.record(), &provider_id) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let source_id = SourceId::ehr(&provider_id).ok();
    let has_data = source_id
        .as_ref()
        .is_some_and(|s| session.record().source_entries(s).next().is_some());
    let mut stored = StoredConnection {
        connection,
        incremental: None,
    };
    if let Some(old) = existing {
        if old.connection.patient_id != stored.connection.patient_id && has_data {
            return fail(format!(
                "You signed in at {name} to a different patient record than the one this vault already holds from {name}. \
                 Nothing was imported. Sign in again with the same record; keep other people's records in a vault of their own."
            ));
        }
        if old.connection.patient_id == stored.connection.patient_id {
            stored.connection.last_sync_ms = old.connection.last_sync_ms;
            stored.connection.last_full_sync_ms = old.connection.last_full_sync_ms;
            stored.incremental = old.incremental;
        }
    }
    if let Err(e) = oauth::save_connection(app, &stored).await {
        return fail(e);
    }
    ictx.set_token(&provider_id, access_token);
    let mut view = RunView::new(
        &provider_id,
        &name,
        RunPhase::Preparing(format!("Connected to {name}. Starting the import…")),
    );
    view.not_granted = not_granted;
    if scopes_not_granted.iter().any(|s| s == "offline_access") || !stored.connection.can_refresh()
    {
        view.notes.push(format!(
            "{name} does not let this app stay signed in: each update will ask you to sign in there again (one click)."
        ));
    }
    ictx.run.set(Some(view));
    app.changed();
    start(app, ictx, provider_id, SyncMode::Auto);
}

/// The provider entry for a connection: the directory's (or the patient's own) when it still
/// exists, else one rebuilt from the connection and the stored source.
fn entry_for(app: AppCtx, ictx: ImportCtx, stored: &StoredConnection) -> ProviderEntry {
    super::provider_entry(app, ictx, &stored.connection.provider_id)
        .unwrap_or_else(|| super::entry_from_connection(&stored.connection, false))
}

/// Adds the provider as a source of the record, or brings its details up to date.
fn ensure_source(session: &Session, provider: &ProviderEntry) -> Result<SourceId, String> {
    let id = SourceId::ehr(&provider.id).map_err(|e| e.to_string())?;
    let source = Source::ehr(
        &provider.id,
        &provider.name,
        provider.fhir_base.as_str(),
        provider.part2_program,
        &now_rfc3339(),
    )
    .map_err(|e| e.to_string())?;
    let mut record = session.record_mut();
    let same = match record.source(&id).map(|s| &s.kind) {
        None => {
            record.add_source(source).map_err(|e| e.to_string())?;
            return Ok(id);
        }
        Some(kind) => *kind == source.kind,
    };
    if !same {
        record.update_source(source).map_err(|e| e.to_string())?;
    }
    Ok(id)
}

fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    webcrypto::random_bytes(&mut b);
    u64::from_le_bytes(b)
}

/// Whether the server supports `_lastUpdated` (from its CapabilityStatement; no token needed).
async fn check_incremental(stored: &StoredConnection) -> bool {
    let base = &stored.connection.fhir_base;
    let req = phr_smart::HttpRequest {
        id: RequestId::STANDALONE,
        method: phr_smart::Method::Get,
        url: Discovery::metadata_url(base),
        headers: vec![("Accept".into(), "application/fhir+json".into())],
        body: None,
    };
    match net::perform(&req, FHIR_TIMEOUT_MS).await {
        Ok(resp) if resp.is_success() => {
            supports_last_updated(&resp.body, phr_smart::scopes::SEARCH_TYPES)
        }
        _ => false,
    }
}

struct Loop {
    app: AppCtx,
    ictx: ImportCtx,
    session: Rc<Session>,
    provider_id: String,
    name: String,
    source: SourceId,
    stats: Stats,
    since_save: usize,
    last_save: f64,
    merge: Outcome,
}

impl Loop {
    fn alive(&self) -> bool {
        self.app
            .session()
            .is_some_and(|s| Rc::ptr_eq(&s, &self.session))
    }

    fn view(&self, f: impl FnOnce(&mut RunView)) {
        self.ictx.run.update(|r| {
            if let Some(r) = r.as_mut().filter(|r| r.provider_id == self.provider_id) {
                f(r);
            }
        });
    }

    fn set_phase(&self, phase: RunPhase) {
        self.view(|r| r.phase = phase);
    }

    /// Saves the record with the resume state of the session.
    async fn save_progress(&mut self, s: &ImportSession) -> Result<(), String> {
        store::put_resume_state(
            &mut self.session.record_mut(),
            &self.provider_id,
            &s.snapshot(),
        )?;
        self.save().await
    }

    async fn save(&mut self) -> Result<(), String> {
        let result = self.session.save().await;
        self.stats.saves += 1;
        self.stats.save = self.session.save_timings();
        self.since_save = 0;
        self.last_save = perf_now();
        self.stats.publish();
        result.map(|_| ()).map_err(|e| vault_error_message(&e))
    }

    /// Applies the session's events to the record and the screen. Returns the summary when the
    /// import finished.
    fn apply(&mut self, events: Vec<ImportEvent>) -> Option<ImportSummary> {
        let mut finished = None;
        let fetched_at = now_rfc3339();
        for event in events {
            match event {
                ImportEvent::Resources(batch) => {
                    let started = perf_now();
                    let request = batch.request_url;
                    let mut items = Vec::with_capacity(batch.resources.len());
                    for r in batch.resources {
                        items.push((r.resource, request.clone()));
                    }
                    let n = items.len();
                    let outcome =
                        self.session
                            .record_mut()
                            .apply_import(&self.source, items, &fetched_at);
                    match outcome {
                        Ok(o) => {
                            self.merge.added += o.added;
                            self.merge.updated += o.updated;
                            self.merge.unchanged += o.unchanged;
                            self.merge.returned += o.returned;
                        }
                        Err(e) => self.view(|v| {
                            v.failures.push(format!(
                                "{n} records from {} could not be added to your vault ({e}).",
                                self.name
                            ))
                        }),
                    }
                    self.stats.resources += n as u64;
                    self.since_save += n;
                    self.stats.store_ms += perf_now() - started;
                    self.view(|v| v.stored += n);
                }
                ImportEvent::Attachment(a) => {
                    let started = perf_now();
                    match binary_resource(&a) {
                        Some(res) => {
                            let r = self.session.record_mut().apply_import(
                                &self.source,
                                [(res, a.url.clone())],
                                &fetched_at,
                            );
                            if let Ok(o) = r {
                                self.merge.added += o.added;
                                self.merge.updated += o.updated;
                                self.merge.unchanged += o.unchanged;
                            }
                            self.since_save += 1;
                            self.view(|v| v.stored += 1);
                        }
                        None => self.view(|v| {
                            v.warnings.push(format!(
                                "A document attachment from {} has an address this app cannot name, so it was skipped.",
                                self.name
                            ))
                        }),
                    }
                    self.stats.store_ms += perf_now() - started;
                }
                ImportEvent::Progress(p) => {
                    let row = row_of(&p);
                    self.view(|v| upsert_row(&mut v.rows, row));
                }
                ImportEvent::TypeFailed { message, .. } => {
                    self.view(|v| v.failures.push(message));
                }
                ImportEvent::Warning { message, .. } => {
                    self.view(|v| v.warnings.push(message));
                }
                ImportEvent::NeedsAuth(_) | ImportEvent::Interrupted(_) => {}
                ImportEvent::Finished(summary) => finished = Some(summary),
            }
        }
        finished
    }
}

/// A fetched attachment as a FHIR `Binary` of the same source, with the id from its URL (the
/// item screen finds it that way).
fn binary_resource(a: &phr_smart::import::AttachmentData) -> Option<phr_fhir::Resource> {
    use base64::Engine;
    let path = a.url.split(['?', '#']).next().unwrap_or_default();
    let id = path.rsplit('/').next().unwrap_or_default();
    if !phr_record::is_fhir_id(id) {
        return None;
    }
    let content_type = a
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("application/octet-stream");
    let json = serde_json::json!({
        "resourceType": "Binary",
        "id": id,
        "contentType": content_type,
        "data": base64::engine::general_purpose::STANDARD.encode(&a.data),
    });
    phr_fhir::Resource::from_value(&json).ok()
}

/// Waits for the patient to try again after an interruption (or the browser coming online).
/// Responses still arriving are fed to the session meanwhile. `false`: stop.
async fn wait_for_retry(
    lp: &mut Loop,
    s: &mut ImportSession,
    tx: &UnboundedSender<Msg>,
    rx: &mut UnboundedReceiver<Msg>,
) -> bool {
    let online_tx = tx.clone();
    let on_online = Closure::<dyn FnMut()>::new(move || {
        let _ = online_tx.unbounded_send(Msg::Retry);
    });
    let window = web_sys::window();
    if let Some(w) = &window {
        let _ = w.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    }
    let result = loop {
        match rx.next().await {
            None | Some(Msg::Stop) => break false,
            Some(Msg::Pause) => break false,
            Some(Msg::Retry) => break true,
            Some(Msg::Wake) => {}
            Some(Msg::Done(id, r)) => {
                let events = feed(lp, s, id, r);
                lp.apply(events);
            }
        }
    };
    if let Some(w) = &window {
        let _ = w.remove_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    }
    result
}

fn feed(
    lp: &mut Loop,
    s: &mut ImportSession,
    id: RequestId,
    result: Result<HttpResponse, NetworkFailure>,
) -> Vec<ImportEvent> {
    let started = perf_now();
    let events = match result {
        Ok(resp) => {
            lp.stats.responses += 1;
            lp.stats.response_bytes += resp.body.len() as u64;
            s.on_response(id, resp, now())
        }
        Err(NetworkFailure::TimedOut) => s.on_timeout(id, now()),
        Err(f) => s.on_network_error(id, f, now()),
    };
    lp.stats.parse_ms += perf_now() - started;
    events
}

async fn run(
    app: AppCtx,
    ictx: ImportCtx,
    provider_id: &str,
    mode: SyncMode,
    tx: UnboundedSender<Msg>,
    rx: &mut UnboundedReceiver<Msg>,
) -> Result<(), String> {
    let Some(session) = app.session() else {
        return Ok(());
    };
    if ictx.directory.get_untracked().is_none() {
        // Right after start-up: the directory says which providers are Part 2 programs.
        ictx.directory.set(Some(oauth::load_directory().await));
    }
    let mut stored = store::connection(&session.record(), provider_id)?
        .ok_or_else(|| "This provider is not connected yet. Connect first.".to_string())?;
    let provider = entry_for(app, ictx, &stored);
    let name = provider.name.clone();
    // Keep what the sign-in said (types not shared, no refresh token) on the new view.
    let previous = ictx
        .run
        .get_untracked()
        .filter(|r| r.provider_id == provider_id && matches!(r.phase, RunPhase::Preparing(_)));
    let mut view = RunView::new(
        provider_id,
        &name,
        RunPhase::Preparing(format!("Checking your access to {name}…")),
    );
    if let Some(prev) = previous {
        view.not_granted = prev.not_granted;
        view.notes = prev.notes;
    }
    ictx.run.set(Some(view));

    let token = match oauth::access_token(app, ictx, &mut stored, false).await {
        Ok(t) => t,
        Err(NoToken::SignIn(why)) => {
            ictx.run.update(|r| {
                if let Some(r) = r {
                    r.phase = RunPhase::NeedsSignIn(format!(
                        "{why} Sign in at {name} again to continue; your records are safe."
                    ));
                }
            });
            return Ok(());
        }
        Err(NoToken::Network(message)) => return Err(message),
    };
    let source = ensure_source(&session, &provider)?;

    // Continue an unfinished import, else start one.
    let mut notes = Vec::new();
    let resume = match store::resume_state(&session.record(), provider_id) {
        Ok(r) => r,
        Err(e) => {
            notes.push(e);
            store::remove_resume_state(&mut session.record_mut(), provider_id)?;
            None
        }
    };
    let mut resumed = false;
    let mut s = None;
    if let Some(state) = resume {
        match ImportSession::resume(state, token.clone()) {
            Ok(sess) => {
                resumed = true;
                s = Some(sess);
            }
            Err(e) => {
                notes.push(e.to_string());
                store::remove_resume_state(&mut session.record_mut(), provider_id)?;
            }
        }
    }
    let mut incremental = false;
    let mut s = match s {
        Some(s) => s,
        None => {
            let mut options = provider.import_options();
            let full_due = stored
                .connection
                .last_full_sync_ms
                .is_none_or(|t| now().saturating_sub(t) > FULL_SYNC_EVERY_MS);
            if mode == SyncMode::Auto && stored.connection.last_sync_ms.is_some() && !full_due {
                if stored.incremental.is_none() {
                    stored.incremental = Some(check_incremental(&stored).await);
                    store::put_connection(&mut session.record_mut(), &stored)?;
                }
                if stored.incremental == Some(true) {
                    options.since = stored.connection.incremental_since();
                    incremental = options.since.is_some();
                }
            }
            ImportSession::start(&stored.connection, token, options, random_seed(), now())
                .map_err(|e| e.to_string())?
        }
    };

    let mut lp = Loop {
        app,
        ictx,
        stats: Stats::start(session.save_timings()),
        session,
        provider_id: provider_id.to_string(),
        name: name.clone(),
        source,
        since_save: 0,
        last_save: perf_now(),
        merge: Outcome::default(),
    };
    let rows: Vec<TypeRow> = s.progress().iter().map(row_of).collect();
    lp.view(|v| {
        v.phase = RunPhase::Fetching;
        v.rows = rows;
        v.incremental = incremental;
        v.resumed = resumed;
        v.notes.extend(notes);
    });
    // The resume state is in the vault from the start, so even a crash in the first seconds
    // continues rather than starts over.
    lp.save_progress(&s).await?;

    let mut timer_at: Option<u64> = None;
    let summary = loop {
        if !lp.alive() {
            return Ok(());
        }
        let t = now();
        for req in s.next_requests(t) {
            lp.stats.requests += 1;
            let tx = tx.clone();
            spawn_local(async move {
                let id = req.id;
                let result = net::perform(&req, FHIR_TIMEOUT_MS).await;
                let _ = tx.unbounded_send(Msg::Done(id, result));
            });
        }
        match s.status(now()) {
            SessionStatus::Finished => {
                // The Finished event carries the summary; build it if it was already consumed.
                break s.summary(now());
            }
            SessionStatus::NeedsAuth(pause) => {
                lp.save_progress(&s).await?;
                lp.set_phase(RunPhase::Preparing(format!(
                    "Renewing your access to {name}…"
                )));
                match oauth::access_token(app, ictx, &mut stored, true).await {
                    Ok(token) => {
                        s.resume_with_token(token).map_err(|e| e.to_string())?;
                        lp.set_phase(RunPhase::Fetching);
                        continue;
                    }
                    Err(NoToken::SignIn(why)) | Err(NoToken::Network(why)) => {
                        lp.set_phase(RunPhase::NeedsSignIn(format!(
                            "{} {why}",
                            pause.message(&name)
                        )));
                        lp.stats.publish();
                        return Ok(());
                    }
                }
            }
            SessionStatus::Interrupted(i) => {
                lp.save_progress(&s).await?;
                lp.set_phase(RunPhase::Interrupted(i.message));
                app.changed();
                if !wait_for_retry(&mut lp, &mut s, &tx, rx).await {
                    if lp.alive() {
                        lp.set_phase(RunPhase::Paused);
                    }
                    return Ok(());
                }
                s.retry_interrupted();
                lp.set_phase(RunPhase::Fetching);
                continue;
            }
            SessionStatus::Running {
                in_flight,
                wake_at_ms,
            } => {
                let wake = match wake_at_ms {
                    Some(w) => Some(w),
                    None if in_flight == 0 => Some(now() + 1_000),
                    None => None,
                };
                if let Some(w) = wake {
                    if timer_at.is_none_or(|t| w < t) {
                        timer_at = Some(w);
                        let tx = tx.clone();
                        let ms = w.saturating_sub(now()).min(u32::MAX as u64) as u32;
                        spawn_local(async move {
                            net::sleep(ms).await;
                            let _ = tx.unbounded_send(Msg::Wake);
                        });
                    }
                }
            }
        }

        let waited = perf_now();
        let msg = rx.next().await;
        lp.stats.network_wait_ms += perf_now() - waited;
        let mut finished = None;
        let mut msgs = vec![msg];
        // Take whatever else has arrived, so a burst of pages is stored in one go.
        while let Ok(m) = rx.try_recv() {
            msgs.push(Some(m));
        }
        for msg in msgs {
            match msg {
                None | Some(Msg::Stop) => return Ok(()),
                Some(Msg::Pause) => {
                    lp.save_progress(&s).await?;
                    lp.set_phase(RunPhase::Paused);
                    return Ok(());
                }
                Some(Msg::Retry) => {}
                Some(Msg::Wake) => {
                    if timer_at.is_some_and(|t| t <= now()) {
                        timer_at = None;
                    }
                }
                Some(Msg::Done(id, result)) => {
                    let events = feed(&mut lp, &mut s, id, result);
                    if let Some(summary) = lp.apply(events) {
                        finished = Some(summary);
                    }
                }
            }
        }
        app.touch();
        if let Some(summary) = finished {
            break summary;
        }
        if perf_now() - lp.last_save >= SAVE_EVERY_MS {
            lp.set_phase(RunPhase::Saving);
            lp.save_progress(&s).await?;
            lp.set_phase(RunPhase::Fetching);
        }
    };
    finish(lp, s, summary, stored).await
}

async fn finish(
    mut lp: Loop,
    s: ImportSession,
    summary: ImportSummary,
    mut stored: StoredConnection,
) -> Result<(), String> {
    if !lp.alive() {
        return Ok(());
    }
    let now_text = now_rfc3339();
    let mut outcome = std::mem::take(&mut lp.merge);
    outcome.full = summary.full_sync;
    outcome.by_type = summary
        .resources_by_type
        .iter()
        .map(|(t, n)| (t.clone(), *n))
        .collect();
    {
        let mut record = lp.session.record_mut();
        if summary.full_sync {
            let seen: HashSet<ResourceKey> = summary
                .seen
                .iter()
                .map(|(t, i)| ResourceKey::new(t, i))
                .collect();
            let coverage = SyncCoverage::Types(summary.complete_types.iter().cloned().collect());
            let gone = record
                .finish_full_sync(&lp.source, &seen, &coverage, &now_text)
                .map_err(|e| e.to_string())?;
            outcome.flagged_gone = gone.flagged_gone;
            outcome.returned += gone.returned;
        } else {
            record
                .finish_incremental_sync(&lp.source, &now_text)
                .map_err(|e| e.to_string())?;
        }
        stored
            .connection
            .record_sync(summary.started_at_ms, summary.full_sync);
        store::put_connection(&mut record, &stored)?;
        store::remove_resume_state(&mut record, &lp.provider_id)?;
    }
    lp.set_phase(RunPhase::Saving);
    lp.save().await?;
    drop(s);
    lp.app.changed();
    let started = perf_now();
    let _ = lp.app.index();
    lp.stats.index_ms = perf_now() - started;
    lp.stats.finish();
    let not_granted: Vec<String> = summary
        .not_granted
        .iter()
        .map(|t| phr_smart::import::type_label(t).to_string())
        .collect();
    lp.view(|v| {
        v.phase = RunPhase::Finished;
        v.outcome = Some(outcome);
        if !not_granted.is_empty() {
            v.not_granted = not_granted;
        }
    });
    Ok(())
}

/// Counts of what the record holds from a source, per resource type.
pub fn stored_counts(session: &Session, source: &SourceId) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (key, _) in session.record().source_entries(source) {
        *counts.entry(key.resource_type().to_string()).or_insert(0) += 1;
    }
    counts
}

/// The provider's name in the record, if it is an EHR source there.
pub fn source_name(session: &Session, source: &SourceId) -> Option<String> {
    match session.record().source(source).map(|s| s.kind.clone()) {
        Some(SourceKind::Ehr { name, .. }) => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phr_smart::import::{AttachmentData, QueryKey};
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn attachments_become_binaries_named_after_their_url() {
        let a = AttachmentData {
            url: "https://ehr.example.org/fhir/Binary/doc-7?_format=pdf".into(),
            content_type: Some("application/pdf; charset=binary".into()),
            data: vec![1, 2, 3, 250],
        };
        let r = binary_resource(&a).expect("a Binary");
        assert_eq!(r.resource_type(), "Binary");
        assert_eq!(r.id(), Some("doc-7"));
        let v = r.value();
        assert_eq!(v["contentType"], "application/pdf");
        assert_eq!(v["data"], "AQID+g==");
        let unnamed = AttachmentData {
            url: "https://ehr.example.org/fhir/Binary/".into(),
            content_type: None,
            data: vec![],
        };
        assert!(binary_resource(&unnamed).is_none());
        let untyped = AttachmentData {
            url: "https://ehr.example.org/files/x1".into(),
            content_type: None,
            data: vec![0],
        };
        assert_eq!(
            binary_resource(&untyped).unwrap().value()["contentType"],
            "application/octet-stream"
        );
    }

    #[wasm_bindgen_test]
    fn progress_rows_have_stable_ids_and_words_for_the_patient() {
        let p = QueryProgress {
            query: QueryKey {
                resource_type: "Observation".into(),
                kind: QueryKind::Search,
                filter: Some("laboratory".into()),
            },
            fetched: 5,
            total: Some(9),
            pages: 1,
            failed: 0,
            state: ProgressState::Running,
        };
        let row = row_of(&p);
        assert_eq!(row.id, "Observation-search-laboratory");
        assert_eq!(row.label, "Test results and measurements (laboratory)");
        let mut rows = vec![row.clone()];
        let mut done = row;
        done.state = ProgressState::Done;
        upsert_row(&mut rows, done);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, ProgressState::Done);
    }
}
