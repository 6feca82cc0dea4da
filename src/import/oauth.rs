//! The sign-in round trip (SMART standalone launch, public client, PKCE S256) and token renewal.
//!
//! Leaving: discovery, then `phr_smart::begin_authorization`; the pending sign-in (provider,
//! verifier) goes to `sessionStorage` sealed under a key derived from its `state`, stored under a
//! hash of the `state`, and the browser goes to the provider. Coming back ([`handle_callback`], at
//! start-up): the pending sign-in is looked up and opened with the callback's `state` and deleted
//! whatever happens, the URL loses `?code=…&state=…`, the callback
//! is checked (`state`, expiry, issuer, `error`), and the code is exchanged for a token at once.

use leptos::prelude::*;
use leptos::task::spawn_local;
use phr_smart::{
    begin_authorization, parse_directory, requested_scopes, storage_key_for_callback, AccessToken,
    CallbackError, Discovery, DiscoveryError, DiscoveryStep, FhirBase, PendingAuthorization,
    PkcePolicy, ProviderEntry, SmartServer, StateProblem,
};

use super::net::{self, AUTH_TIMEOUT_MS};
use super::store::StoredConnection;
use super::ImportCtx;
use crate::messages::vault_error_message;
use crate::platform::time::now_ms;
use crate::platform::webcrypto;
use crate::state::{AppCtx, NoticeKind, Phase};

/// The directory file next to the app (see docs/providers.md).
const DIRECTORY_FILE: &str = "providers.json";

fn now() -> u64 {
    now_ms() as u64
}

/// Reads and checks `providers.json`.
pub async fn load_directory() -> Result<Vec<ProviderEntry>, String> {
    let problem = |what: String| {
        format!("The list of providers offered by this site could not be read ({what}). You can still add a provider yourself below; tell whoever runs this app.")
    };
    let (status, body) = net::fetch_own_file(DIRECTORY_FILE).await.map_err(problem)?;
    if status == 404 {
        return Ok(Vec::new());
    }
    if !(200..300).contains(&status) {
        return Err(problem(format!("HTTP {status}")));
    }
    let text = String::from_utf8(body).map_err(|_| problem("it is not text".into()))?;
    parse_directory(&text)
        .map(|d| d.providers)
        .map_err(|e| problem(e.to_string()))
}

/// This page's address without query or fragment: the redirect URI registered at providers
/// (e.g. `https://phr.example.org/` or `https://example.org/apps/phr/`).
pub fn redirect_uri() -> Option<String> {
    let location = web_sys::window()?.location();
    Some(format!(
        "{}{}",
        location.origin().ok()?,
        location.pathname().ok()?
    ))
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The `sessionStorage` key prefix of pending sign-ins (the crate's, from a dummy state's key).
fn pending_prefix() -> String {
    storage_key_for_callback("state=x")
        .and_then(|k| k.rsplit_once('/').map(|(prefix, _)| format!("{prefix}/")))
        .unwrap_or_default()
}

/// Removes pending sign-ins that expired or cannot be read (a sign-in abandoned at the provider).
fn drop_stale_pending() {
    let Some(storage) = session_storage() else {
        return;
    };
    let prefix = pending_prefix();
    let len = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| !prefix.is_empty() && k.starts_with(&prefix))
        .collect();
    for key in keys {
        let stale = storage
            .get_item(&key)
            .ok()
            .flatten()
            .map(|stored| phr_smart::stored_pending_is_stale(&stored, now()))
            .unwrap_or(true);
        if stale {
            let _ = storage.remove_item(&key);
        }
    }
}

/// Runs discovery for a FHIR base: the well-known file, then the CapabilityStatement.
pub async fn discover(base: &FhirBase) -> Result<SmartServer, DiscoveryError> {
    let mut discovery = Discovery::new(base.clone(), PkcePolicy::default());
    let mut next = discovery.request();
    while let Some(req) = next {
        let step = match net::perform(&req, AUTH_TIMEOUT_MS).await {
            Ok(resp) => discovery.on_response(&resp)?,
            Err(failure) => discovery.on_network_failure(failure)?,
        };
        next = match step {
            DiscoveryStep::Fetch(req) => Some(req),
            DiscoveryStep::Done(server) => return Ok(*server),
        };
    }
    Err(DiscoveryError::NotFhirServer {
        base: base.to_string(),
        detail: "discovery ended without an answer".into(),
    })
}

/// Connects (or reconnects) to a provider: saves the vault, discovers the server, and leaves for
/// the provider's sign-in page. Returns only on failure (with a message for the patient).
pub async fn connect(app: AppCtx, ictx: ImportCtx, provider: ProviderEntry) -> String {
    ictx.sign_in_error.set(None);
    ictx.busy
        .set(Some(format!("Contacting {}…", provider.name)));
    let result = connect_inner(app, &provider).await;
    ictx.busy.set(None);
    match result {
        Ok(()) => String::new(),
        Err(e) => e,
    }
}

async fn connect_inner(app: AppCtx, provider: &ProviderEntry) -> Result<(), String> {
    // The page is about to be replaced: everything must be saved first.
    if let Some(session) = app.session() {
        session.save().await.map_err(|e| vault_error_message(&e))?;
    }
    let server = discover(&provider.fhir_base)
        .await
        .map_err(|e| e.to_string())?;
    let redirect = redirect_uri().ok_or("This page's address could not be read.")?;
    let scopes = requested_scopes(&server, &provider.scope_options());
    let client = provider.client_registration(&redirect);
    let mut rng = |buf: &mut [u8]| webcrypto::random_bytes(buf);
    let start = begin_authorization(&server, &client, &scopes, &mut rng, now())
        .map_err(|e| e.to_string())?;
    let storage = session_storage().ok_or(
        "This browser does not allow the app to remember the sign-in while you are at the provider (session storage is blocked). Allow site data for this app and try again.",
    )?;
    storage
        .set_item(&start.pending.storage_key(), &start.pending.seal(&mut rng))
        .map_err(|_| "This browser could not remember the sign-in (session storage is full or blocked). Nothing was changed; try again.".to_string())?;
    if app.phase.get_untracked() != Phase::Unlocked {
        let _ = storage.remove_item(&start.pending.storage_key());
        return Err("Your vault was locked. Unlock it and connect again.".into());
    }
    let window = web_sys::window().ok_or("no window")?;
    window
        .location()
        .assign(&start.url)
        .map_err(|_| "The browser did not open the provider's sign-in page. Try again.".to_string())
}

/// Whether this page was opened by a provider's sign-in redirect.
fn is_callback(search: &str) -> bool {
    let q = search.trim_start_matches('?');
    q.split('&').any(|p| {
        let name = p.split('=').next().unwrap_or("");
        matches!(name, "state" | "code" | "error")
    })
}

/// At start-up: handles `?code=…&state=…` (or `?error=…`) from a provider's sign-in.
pub fn handle_callback(app: AppCtx, ictx: ImportCtx) {
    drop_stale_pending();
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let search = location.search().unwrap_or_default();
    if !is_callback(&search) {
        return;
    }
    let href = location.href().unwrap_or_default();
    // The code must not stay in the address bar or in history.
    if let (Ok(history), Ok(origin), Ok(path)) =
        (window.history(), location.origin(), location.pathname())
    {
        let hash = location.hash().unwrap_or_default();
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{origin}{path}{hash}")),
        );
    }
    let pending = storage_key_for_callback(&href).and_then(|key| {
        let storage = session_storage()?;
        let json = storage.get_item(&key).ok().flatten();
        let _ = storage.remove_item(&key);
        json
    });
    let outcome = match pending {
        None => Err(CallbackError::ForgedOrStale(StateProblem::Unknown).to_string()),
        Some(stored) => PendingAuthorization::open(&stored, &href)
            .and_then(|p| p.complete(&href, now()).map(|code| (p, code)))
            .map_err(|e| e.to_string()),
    };
    let (pending, code) = match outcome {
        Ok(v) => v,
        Err(message) => return sign_in_failed(app, ictx, message),
    };
    let provider = pending.provider_name.clone();
    let waiting = format!("Finishing the connection to {provider}…");
    ictx.busy.set(Some(waiting.clone()));
    app.lock_reason.set(Some(waiting));
    spawn_local(async move {
        let request = pending.token_request(&code);
        drop(code);
        let result = match net::perform(&request, AUTH_TIMEOUT_MS).await {
            Ok(resp) => pending.finish(&resp, now()).map_err(|e| e.to_string()),
            Err(failure) => Err(format!(
                "{} The sign-in was not completed; nothing was imported. Connect again.",
                failure.message(&provider)
            )),
        };
        ictx.busy.set(None);
        match result {
            Ok(authorized) => {
                ictx.pending.set_value(Some(authorized));
                if app.phase.get_untracked() == Phase::Unlocked {
                    // Cannot normally happen (the page was reloaded), but then finish at once.
                    if let Some(a) = ictx.pending.try_update_value(Option::take).flatten() {
                        spawn_local(super::run::finish_connect(app, ictx, a));
                    }
                } else {
                    app.lock_reason.set(Some(format!(
                        "Unlock your vault to finish connecting {provider}. Your records will be imported right after."
                    )));
                }
            }
            Err(message) => sign_in_failed(app, ictx, message),
        }
    });
}

fn sign_in_failed(app: AppCtx, ictx: ImportCtx, message: String) {
    if app.phase.get_untracked() != Phase::Unlocked {
        app.lock_reason.set(None);
    }
    app.say(NoticeKind::Error, message.clone());
    ictx.sign_in_error.set(Some(message));
}

/// Why a token could not be had without the patient.
pub enum NoToken {
    /// The patient must sign in at the provider again (the message says why).
    SignIn(String),
    /// The provider could not be reached to renew access.
    Network(String),
}

/// An access token for the connection: the one in memory while it has more than a minute left,
/// else a refreshed one (the rotated refresh token is saved in the vault at once), else the
/// patient must sign in again. `force_refresh` skips the in-memory token (after a 401).
pub async fn access_token(
    app: AppCtx,
    ictx: ImportCtx,
    stored: &mut StoredConnection,
    force_refresh: bool,
) -> Result<AccessToken, NoToken> {
    let provider_id = stored.connection.provider_id.clone();
    let name = stored.connection.provider_name.clone();
    if !force_refresh {
        if let Some(token) = ictx.token(&provider_id) {
            if !token.needs_refresh(now()) {
                return Ok(token);
            }
        }
    }
    ictx.forget_token(&provider_id);
    let Some(request) = stored.connection.refresh_request() else {
        return Err(NoToken::SignIn(format!(
            "{name} does not let this app stay signed in, so you sign in there again for each update."
        )));
    };
    let resp = net::perform(&request, AUTH_TIMEOUT_MS)
        .await
        .map_err(|f| NoToken::Network(f.message(&name)))?;
    let refreshed = stored.connection.apply_refresh(&resp, now());
    // Saved whatever happened: a rotated refresh token must not be lost, a rejected one is gone.
    let saved = save_connection(app, stored).await;
    let token = refreshed.map_err(|e| NoToken::SignIn(e.to_string()))?;
    saved.map_err(NoToken::Network)?;
    ictx.set_token(&provider_id, token.clone());
    Ok(token)
}

/// Stores the connection in the vault and saves.
pub async fn save_connection(app: AppCtx, stored: &StoredConnection) -> Result<(), String> {
    let session = app
        .session()
        .ok_or("Your vault was locked before the change could be saved.")?;
    super::store::put_connection(&mut session.record_mut(), stored)?;
    session
        .save()
        .await
        .map(|_| ())
        .map_err(|e| vault_error_message(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn recognises_sign_in_callbacks() {
        assert!(is_callback("?code=a&state=b"));
        assert!(is_callback("?error=access_denied&state=b"));
        assert!(is_callback("?state=b"));
        assert!(!is_callback(""));
        assert!(!is_callback("?statement=1&codex=2"));
        assert_eq!(pending_prefix(), "phr-smart/pending/");
    }

    #[wasm_bindgen_test]
    fn stale_pending_sign_ins_are_removed() {
        let storage = session_storage().unwrap();
        let prefix = pending_prefix();
        storage
            .set_item(&format!("{prefix}junk"), "not json")
            .unwrap();
        storage.set_item("unrelated", "kept").unwrap();
        drop_stale_pending();
        assert_eq!(storage.get_item(&format!("{prefix}junk")).unwrap(), None);
        assert_eq!(
            storage.get_item("unrelated").unwrap().as_deref(),
            Some("kept")
        );
        storage.remove_item("unrelated").unwrap();
    }
}
