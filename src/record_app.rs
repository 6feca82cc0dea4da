//! The record module's app: every screen that shows the record, mounted by the shell after unlock
//! into its record container (see `src/bin/phr_record.rs` and `platform::modules`).
//!
//! The shell verifies the passphrase or recovery key and hands over the vault key; this module
//! reads and decrypts the record, mounts the screens, and on lock drops the keys, the record and the
//! screens, then tells the shell.

use std::cell::RefCell;

use leptos::prelude::*;
use phr_vault::{VaultId, VaultKey};
use wasm_bindgen::{JsCast, JsValue};

use crate::messages::vault_error_message;
use crate::pages;
use crate::platform::idb::Db;
use crate::route::{current_hash, Route};
use crate::session::{Progress, Session};
use crate::state::{AppCtx, NoticeKind, Phase};

struct Mounted {
    _handle: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
    on_lock: js_sys::Function,
}

thread_local! {
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
}

fn get(options: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Opens the record and mounts the screens. `options`: `{vaultId, key: Uint8Array(32), root:
/// HTMLElement, recovery: bool, onLock: (reason) => void, onProgress: (step, fraction) => void}`.
/// Resolves once the screens are mounted; rejects with a message for the patient.
pub async fn start(options: JsValue) -> Result<(), JsValue> {
    lock(None);
    let id: VaultId = get(&options, "vaultId")
        .as_string()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JsValue::from_str("No vault to open."))?;
    let key: [u8; 32] = get(&options, "key")
        .dyn_into::<js_sys::Uint8Array>()
        .ok()
        .and_then(|a| a.to_vec().try_into().ok())
        .ok_or_else(|| JsValue::from_str("No key to open the vault with."))?;
    let root: web_sys::HtmlElement = get(&options, "root")
        .dyn_into()
        .map_err(|_| JsValue::from_str("No place to show the record."))?;
    let recovery = get(&options, "recovery").as_bool().unwrap_or(false);
    let on_lock: js_sys::Function = get(&options, "onLock")
        .dyn_into()
        .map_err(|_| JsValue::from_str("No lock callback."))?;
    let on_progress = get(&options, "onProgress")
        .dyn_into::<js_sys::Function>()
        .ok();

    let db = Db::open()
        .await
        .map_err(|e| JsValue::from_str(&vault_error_message(&e)))?;
    let progress = move |p: Progress| {
        if let Some(f) = &on_progress {
            let fraction = p.fraction.map(JsValue::from_f64).unwrap_or(JsValue::NULL);
            let _ = f.call2(&JsValue::NULL, &JsValue::from_str(p.step), &fraction);
        }
    };
    let session = Session::open_by_id(&db, &id, VaultKey::from_bytes(key), recovery, &progress)
        .await
        .map_err(|e| JsValue::from_str(&vault_error_message(&e)))?;
    crate::perf::stat(
        "recordWasmMemory",
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .map(|m| {
                m.buffer()
                    .dyn_into::<js_sys::ArrayBuffer>()
                    .map(|b| b.byte_length())
                    .unwrap_or(0)
            })
            .unwrap_or(0) as f64,
    );

    root.set_inner_text("");
    let handle = leptos::mount::mount_to(root, move || {
        view! { <RecordApp db=db.clone() session=StoredValue::new_local(Some(session)) /> }
            .into_any()
    });
    MOUNTED.with(|m| {
        *m.borrow_mut() = Some(Mounted {
            _handle: handle,
            on_lock,
        })
    });
    Ok(())
}

/// Locks: unmounts the screens and drops the session (and with it the keys and the record), then
/// tells the shell why.
pub fn lock(reason: Option<String>) {
    let mounted = MOUNTED.with(|m| m.borrow_mut().take());
    if let Some(m) = mounted {
        drop(m._handle);
        let reason = reason.map(JsValue::from).unwrap_or(JsValue::NULL);
        let _ = m.on_lock.call1(&JsValue::NULL, &reason);
    }
}

/// Whether a record is open (for tests and the shell).
pub fn is_open() -> bool {
    MOUNTED.with(|m| m.borrow().is_some())
}

/// The record's screens.
#[component]
fn RecordApp(db: Db, session: StoredValue<Option<Session>, LocalStorage>) -> impl IntoView {
    let app = AppCtx::new();
    provide_context(app);
    let prefs = RwSignal::new(crate::prefs::Prefs::load());
    provide_context(prefs);
    app.set_db(db);
    app.set_on_lock(|reason| {
        // Unmount outside the event handler that asked for it.
        leptos::task::spawn_local(async move { lock(reason) });
    });
    if let Some(s) = session.try_update_value(Option::take).flatten() {
        let damaged: Vec<String> = s.load_errors.iter().map(|e| e.name.clone()).collect();
        app.unlocked(s);
        if !damaged.is_empty() {
            app.say(
                NoticeKind::Error,
                format!(
                    "Part of your record could not be read ({}): it may be damaged. Everything \
                     else is shown, and nothing was overwritten. Restore an encrypted backup to \
                     get the missing items back.",
                    damaged.join(", ")
                ),
            );
        }
    }
    let route = RwSignal::new(Route::from_hash(&current_hash()));
    let handle = window_event_listener(leptos::ev::hashchange, move |_| {
        route.set(Route::from_hash(&current_hash()));
    });
    on_cleanup(move || handle.remove());
    view! {
        <Notices />
        {move || screen(route.get(), app.phase.get())}
    }
}

/// Which record screen to show. Shell routes (settings, privacy) show nothing here.
fn screen(route: Route, phase: Phase) -> AnyView {
    if phase != Phase::Unlocked {
        return ().into_any();
    }
    match route {
        Route::Home => pages::summary::SummaryPage().into_any(),
        Route::Timeline => pages::timeline::TimelinePage().into_any(),
        Route::Record(kind) => view! { <pages::record::RecordPage kind=kind /> }.into_any(),
        Route::Charts => pages::charts::ChartsPage().into_any(),
        Route::Item(key) => view! { <pages::item::ItemPage key=key /> }.into_any(),
        Route::Import => pages::import::ImportPage().into_any(),
        Route::Vault => pages::vault_page::VaultPage().into_any(),
        Route::Tracking => pages::tracking::TrackingPage().into_any(),
        Route::Share | Route::Viewer(_) | Route::Privacy | Route::Settings => ().into_any(),
    }
}

#[component]
fn Notices() -> impl IntoView {
    let app = AppCtx::expect();
    view! {
        {move || app.notice.get().map(|n| {
            let (class, role) = match n.kind {
                NoticeKind::Error => ("notice error", "alert"),
                NoticeKind::Success => ("notice success", "status"),
                NoticeKind::Info => ("notice info", "status"),
            };
            view! {
                <div class=class role=role id="app-notice">
                    <span>{n.text}</span>
                    <button type="button" class="link-button" on:click=move |_| app.notice.set(None)>
                        "Dismiss"
                    </button>
                </div>
            }
        })}
    }
}
