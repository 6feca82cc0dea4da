//! Importing from provider EHRs over SMART on FHIR: the browser half.
//!
//! `phr-smart` holds every protocol decision (discovery, PKCE, state, tokens, scopes, the import
//! session with paging, retries and resume). This module performs its requests with `fetch()`
//! ([`net`]), keeps what must survive inside the vault ([`store`]), runs the sign-in round trip
//! ([`oauth`]) and the import loop ([`run`]), and publishes measurements ([`stats`]).
//!
//! Where secrets live:
//! * the pending sign-in (provider, PKCE verifier): `sessionStorage`, only between leaving for
//!   the provider's sign-in page and coming back (then deleted), sealed under a key derived from
//!   its `state`;
//! * access tokens: memory only ([`ImportCtx`]), dropped when the vault locks;
//! * refresh tokens, connections and resume states: inside the encrypted vault.
//!
//! The sign-in leaves the page, so the vault is locked when the patient comes back: the code is
//! exchanged for a token at once (codes are short-lived), the token waits in memory, the gate
//! says "Unlock your vault to finish connecting …", and the import starts after unlocking.

pub mod net;
pub mod oauth;
pub mod run;
pub mod stats;
pub mod store;

use std::collections::HashMap;

use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_smart::{AccessToken, Authorized, ProviderEntry};

use crate::state::{AppCtx, Phase};

pub use run::{RunPhase, RunView, SyncMode};

/// Import state shared by the screens and the running import.
#[derive(Clone, Copy)]
pub struct ImportCtx {
    /// The deployer's provider directory (`providers.json`), once loaded.
    pub directory: RwSignal<Option<Result<Vec<ProviderEntry>, String>>>,
    /// The running or last import, as shown.
    pub run: RwSignal<Option<RunView>>,
    /// Why the last sign-in did not complete (declined, forged or stale callback, token error).
    pub sign_in_error: RwSignal<Option<String>>,
    /// Work around the sign-in (discovery before leaving, the token exchange after coming back).
    pub busy: RwSignal<Option<String>>,
    /// Bumped when in-memory tokens change (the provider list re-renders).
    pub tokens_changed: RwSignal<u64>,
    /// Whether an import is running (tracked).
    running: RwSignal<bool>,
    tokens: StoredValue<HashMap<String, AccessToken>, LocalStorage>,
    pending: StoredValue<Option<Authorized>, LocalStorage>,
    control: StoredValue<Option<UnboundedSender<run::Msg>>, LocalStorage>,
}

impl ImportCtx {
    pub fn expect() -> ImportCtx {
        expect_context::<ImportCtx>()
    }

    /// The access token for a provider, if one is in memory.
    pub fn token(&self, provider_id: &str) -> Option<AccessToken> {
        self.tokens.with_value(|t| t.get(provider_id).cloned())
    }

    pub fn set_token(&self, provider_id: &str, token: AccessToken) {
        self.tokens.update_value(|t| {
            t.insert(provider_id.to_string(), token);
        });
        self.tokens_changed.update(|n| *n += 1);
    }

    pub fn forget_token(&self, provider_id: &str) {
        self.tokens.update_value(|t| {
            t.remove(provider_id);
        });
        self.tokens_changed.update(|n| *n += 1);
    }

    /// Whether an access token for the provider is in memory (tracked).
    pub fn has_token(&self, provider_id: &str) -> bool {
        self.tokens_changed.track();
        self.tokens.with_value(|t| t.contains_key(provider_id))
    }

    /// Whether an import is running now.
    pub fn is_running(&self) -> bool {
        self.control.with_value(Option::is_some)
    }

    /// Whether an import is running now (tracked: re-runs when it starts or stops).
    pub fn is_running_tracked(&self) -> bool {
        self.running.get()
    }

    fn set_control(&self, tx: Option<UnboundedSender<run::Msg>>) {
        self.running.set(tx.is_some());
        self.control.set_value(tx);
    }

    /// Tells the running import something (retry, pause, stop).
    pub fn send(&self, msg: run::Msg) {
        self.control.with_value(|c| {
            if let Some(tx) = c {
                let _ = tx.unbounded_send(msg);
            }
        });
    }

    /// The vault locked: tokens and the running import go with it.
    fn on_lock(&self) {
        self.send(run::Msg::Stop);
        self.tokens.set_value(HashMap::new());
        self.tokens_changed.update(|n| *n += 1);
        self.run.set(None);
        self.busy.set(None);
    }
}

/// Sets up the import machinery: provides [`ImportCtx`], loads the provider directory, handles a
/// sign-in callback in the URL, and starts the import of a fresh connection after unlocking.
/// Called once by the app shell.
pub fn boot(app: AppCtx) -> ImportCtx {
    let ictx = ImportCtx {
        directory: RwSignal::new(None),
        run: RwSignal::new(None),
        sign_in_error: RwSignal::new(None),
        busy: RwSignal::new(None),
        tokens_changed: RwSignal::new(0),
        running: RwSignal::new(false),
        tokens: StoredValue::new_local(HashMap::new()),
        pending: StoredValue::new_local(None),
        control: StoredValue::new_local(None),
    };
    provide_context(ictx);
    spawn_local(async move {
        ictx.directory.set(Some(oauth::load_directory().await));
    });
    oauth::handle_callback(app, ictx);
    Effect::new(move |_| match app.phase.get() {
        Phase::Unlocked => {
            if let Some(authorized) = ictx.pending.try_update_value(Option::take).flatten() {
                spawn_local(run::finish_connect(app, ictx, authorized));
            }
        }
        Phase::Locked => ictx.on_lock(),
        _ => {}
    });
    ictx
}

/// Every provider the patient can use: the directory's, then those the patient added, then any
/// connection of the open vault whose provider is in neither list any more (so it can still be
/// updated or disconnected).
pub fn all_providers(app: AppCtx, ictx: ImportCtx) -> Vec<ProviderEntry> {
    let mut out: Vec<ProviderEntry> = ictx
        .directory
        .get()
        .and_then(Result::ok)
        .unwrap_or_default();
    let (added, connections) = app
        .with_session(|s| {
            let record = s.record();
            (
                store::added_providers(&record).unwrap_or_default(),
                store::connections(&record).unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    for p in added {
        if !out.iter().any(|d| d.id == p.id) {
            out.push(p);
        }
    }
    for (id, stored) in connections {
        if !out.iter().any(|d| d.id == id) {
            out.push(entry_from_connection(&stored.connection, false));
        }
    }
    out
}

/// A provider entry rebuilt from a stored connection (its directory entry is gone).
pub fn entry_from_connection(c: &phr_smart::Connection, part2_program: bool) -> ProviderEntry {
    ProviderEntry {
        id: c.provider_id.clone(),
        name: c.provider_name.clone(),
        fhir_base: c.fhir_base.clone(),
        client_id: c.client_id.clone(),
        logo: None,
        part2_program,
        scopes: None,
        observation_by_category: false,
        source: phr_smart::EntrySource::PatientAdded,
    }
}

/// The provider entry with this id (untracked).
pub fn provider_entry(app: AppCtx, ictx: ImportCtx, provider_id: &str) -> Option<ProviderEntry> {
    let directory = ictx.directory.get_untracked().and_then(Result::ok);
    if let Some(p) = directory.and_then(|d| d.into_iter().find(|p| p.id == provider_id)) {
        return Some(p);
    }
    let session = app.session()?;
    let record = session.record();
    if let Some(p) = store::added_providers(&record)
        .ok()?
        .into_iter()
        .find(|p| p.id == provider_id)
    {
        return Some(p);
    }
    let stored = store::connection(&record, provider_id).ok()??;
    let part2 = phr_record::SourceId::ehr(provider_id)
        .ok()
        .and_then(|id| record.source(&id).map(phr_record::Source::is_part2))
        .unwrap_or(false);
    Some(entry_from_connection(&stored.connection, part2))
}
