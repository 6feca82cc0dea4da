//! The record module's app: every screen that shows the record, mounted by the shell after unlock
//! into its record container (see `src/bin/phr_record.rs` and `platform::modules`).
//!
//! The shell verifies the passphrase or recovery key and hands over the vault key; this module
//! reads and decrypts the record, mounts the screens, and on lock drops the keys, the record and the
//! screens, then tells the shell.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::mount::UnmountHandle;
use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyViewState;
use phr_vault::{VaultId, VaultKey};
use wasm_bindgen::{JsCast, JsValue};

use crate::components::NoticeView;
use crate::import::ImportCtx;
use crate::messages::vault_error_message;
use crate::pages;
use crate::platform::idb::Db;
use crate::route::{current_hash, Route};
use crate::session::{Progress, Session};
use crate::state::{AppCtx, NoticeKind, Phase};

/// What the record module keeps for the whole life of the page: its reactive owner, its app
/// context and the import machinery (a sign-in that returned before the vault was unlocked keeps
/// its access token here, in memory, until the import runs), and the shell's callbacks.
struct Runtime {
    _owner: Owner,
    app: AppCtx,
    import: ImportCtx,
    prefs: RwSignal<crate::prefs::Prefs>,
    hooks: RefCell<Hooks>,
}

#[derive(Default)]
struct Hooks {
    on_lock: Option<js_sys::Function>,
    on_lock_reason: Option<js_sys::Function>,
    on_notice: Option<js_sys::Function>,
}

thread_local! {
    static RUNTIME: RefCell<Option<Rc<Runtime>>> = const { RefCell::new(None) };
    static MOUNTED: RefCell<Option<UnmountHandle<AnyViewState>>> = const { RefCell::new(None) };
    static VIEWER: RefCell<Option<UnmountHandle<AnyViewState>>> = const { RefCell::new(None) };
}

/// Shows a SMART Health Link (the `#shlink:/...` fragment) in `root`. Needs no vault, and is
/// independent of locking and unlocking.
pub fn show_viewer(root: web_sys::HtmlElement, fragment: String) {
    let _ = any_spawner::Executor::init_wasm_bindgen();
    hide_viewer();
    root.set_inner_text("");
    let handle = leptos::mount::mount_to(root, move || {
        view! { <pages::viewer::ViewerPage fragment=fragment.clone() /> }.into_any()
    });
    VIEWER.with(|v| *v.borrow_mut() = Some(handle));
}

/// Removes the viewer (the patient navigated away from the link).
pub fn hide_viewer() {
    let viewer = VIEWER.with(|v| v.borrow_mut().take());
    drop(viewer);
}

fn get(options: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn function(options: &JsValue, key: &str) -> Option<js_sys::Function> {
    get(options, key).dyn_into().ok()
}

fn runtime() -> Option<Rc<Runtime>> {
    RUNTIME.with(|r| r.borrow().clone())
}

/// Starts the record module's runtime (once; later calls only update the shell's callbacks).
/// `hooks`: `{onLockReason: (text|null) => void, onNotice: (kind, text) => void}`: what the lock
/// screen should say while the vault is locked (e.g. "Unlock your vault to finish connecting ...").
/// Also handles a sign-in that just returned from a provider (the code is in the URL).
pub fn boot(hooks: JsValue) {
    if let Some(rt) = runtime() {
        let mut h = rt.hooks.borrow_mut();
        h.on_lock_reason = function(&hooks, "onLockReason").or(h.on_lock_reason.take());
        h.on_notice = function(&hooks, "onNotice").or(h.on_notice.take());
        return;
    }
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    let (app, import, prefs) = owner.with(|| {
        let app = AppCtx::new();
        provide_context(app);
        let prefs = RwSignal::new(crate::prefs::Prefs::load());
        provide_context(prefs);
        app.phase.set(Phase::Locked);
        app.set_on_lock(|reason| {
            // Unmount outside the event handler that asked for it.
            leptos::task::spawn_local(async move { lock(reason) });
        });
        let import = crate::import::boot(app);
        // While the vault is locked, what the record module wants to say goes to the shell.
        // Only when the message changes: locking itself (a phase change) must not overwrite the
        // reason the shell shows ("You locked your vault.").
        Effect::new(move |_| {
            let reason = app.lock_reason.get();
            if app.phase.get_untracked() != Phase::Unlocked {
                if let Some(f) = runtime().and_then(|r| r.hooks.borrow().on_lock_reason.clone()) {
                    let _ = f.call1(
                        &JsValue::NULL,
                        &reason.map(JsValue::from).unwrap_or(JsValue::NULL),
                    );
                }
            }
        });
        Effect::new(move |_| {
            if let Some(n) = app.notice.get() {
                if app.phase.get_untracked() != Phase::Unlocked {
                    if let Some(f) = runtime().and_then(|r| r.hooks.borrow().on_notice.clone()) {
                        let kind = match n.kind {
                            NoticeKind::Error => "error",
                            NoticeKind::Success => "success",
                            NoticeKind::Info => "info",
                        };
                        let _ = f.call2(
                            &JsValue::NULL,
                            &JsValue::from_str(kind),
                            &JsValue::from_str(&n.text),
                        );
                    }
                }
            }
        });
        (app, import, prefs)
    });
    let rt = Rc::new(Runtime {
        _owner: owner,
        app,
        import,
        prefs,
        hooks: RefCell::new(Hooks {
            on_lock: None,
            on_lock_reason: function(&hooks, "onLockReason"),
            on_notice: function(&hooks, "onNotice"),
        }),
    });
    RUNTIME.with(|r| *r.borrow_mut() = Some(rt));
}

/// Opens the record and mounts the screens. `options`: `{vaultId, key: Uint8Array(32), root:
/// HTMLElement, recovery: bool, onLock: (reason) => void, onProgress: (step, fraction) => void}`.
/// Resolves once the screens are mounted; rejects with a message for the patient.
pub async fn start(options: JsValue) -> Result<(), JsValue> {
    boot(options.clone());
    let rt = runtime().ok_or_else(|| JsValue::from_str("The record module did not start."))?;
    unmount();
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
    rt.hooks.borrow_mut().on_lock = function(&options, "onLock");
    let on_progress = function(&options, "onProgress");

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
            .ok()
            .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
            .map_or(0.0, |b| f64::from(b.byte_length())),
    );
    let damaged: Vec<String> = session.load_errors.iter().map(|e| e.name.clone()).collect();
    let app = rt.app;
    app.set_db(db);
    app.unlocked(session);
    if let Some(session) = app.session() {
        session.collect_garbage();
    }
    if let Some(welcome) = get(&options, "welcome").as_string() {
        app.say(NoticeKind::Success, welcome);
    }
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
    crate::perf::mark("phr-record-mount-start");
    root.set_inner_text("");
    let (import, prefs) = (rt.import, rt.prefs);
    let handle = leptos::mount::mount_to(root, move || {
        view! { <RecordApp app=app import=import prefs=prefs /> }.into_any()
    });
    MOUNTED.with(|m| *m.borrow_mut() = Some(handle));
    crate::perf::mark("phr-record-mounted");
    Ok(())
}

fn unmount() {
    let mounted = MOUNTED.with(|m| m.borrow_mut().take());
    drop(mounted);
}

/// Locks: unmounts the screens and drops the session (and with it the keys and the record), then
/// tells the shell why.
pub fn lock(reason: Option<String>) {
    unmount();
    let Some(rt) = runtime() else { return };
    let was_open = rt.app.phase.get_untracked() == Phase::Unlocked;
    rt.app.clear_session();
    if was_open {
        if let Some(f) = rt.hooks.borrow().on_lock.clone() {
            let reason = reason.map(JsValue::from).unwrap_or(JsValue::NULL);
            let _ = f.call1(&JsValue::NULL, &reason);
        }
    }
}

/// Whether a record is open (for tests and the shell).
pub fn is_open() -> bool {
    MOUNTED.with(|m| m.borrow().is_some())
}

/// The record's screens.
#[component]
fn RecordApp(
    app: AppCtx,
    import: ImportCtx,
    prefs: RwSignal<crate::prefs::Prefs>,
) -> impl IntoView {
    provide_context(app);
    provide_context(import);
    provide_context(prefs);
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
        Route::Tracking => view! { <pages::tracking::TrackingPage /> }.into_any(),
        Route::TrackPrescription(key) => {
            view! { <pages::tracking::TrackingPage prescription=key /> }.into_any()
        }
        Route::Share => pages::share::SharePage().into_any(),
        Route::Viewer(_) | Route::Privacy | Route::Settings => ().into_any(),
    }
}

#[component]
fn Notices() -> impl IntoView {
    let app = AppCtx::expect();
    view! {
        {move || app.notice.get().map(|n| view! { <NoticeView notice=n on_dismiss=move || app.notice.set(None) /> })}
    }
}
