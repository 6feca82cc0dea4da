//! The shell: the first WebAssembly module the browser loads, kept small. It shows the header and
//! navigation, the vault gate (create, unlock, restore), settings and privacy. Once the patient is
//! verified it hands the vault key to the record module (`platform::modules`), which mounts every
//! record screen into `#record-root`. Locking (button, idle time, or from the record) goes back here.

use std::cell::RefCell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

use crate::components::NoticeView;
use crate::pages;
use crate::platform::idb::Db;
use crate::platform::modules;
use crate::platform::time::now_ms;
use crate::prefs::Prefs;
use crate::route::{current_hash, Route, NAV};
use crate::session::{Progress, VerifiedKey};
use crate::state::{Notice, NoticeKind, Phase};

/// The shell's state.
#[derive(Clone, Copy)]
pub struct ShellCtx {
    db: StoredValue<Option<Db>, LocalStorage>,
    pub phase: RwSignal<Phase>,
    pub lock_reason: RwSignal<Option<String>>,
    pub notice: RwSignal<Option<Notice>>,
    record_root: NodeRef<leptos::html::Div>,
    viewer_root: NodeRef<leptos::html::Div>,
    last_activity: StoredValue<f64, LocalStorage>,
}

/// A JS callback taking two arguments.
type Callback = Closure<dyn FnMut(JsValue, JsValue)>;

thread_local! {
    /// The callbacks handed to the record module for the vault that is open (dropped on the next).
    static CALLBACKS: RefCell<Vec<Callback>> = const { RefCell::new(Vec::new()) };
}

impl ShellCtx {
    fn new() -> ShellCtx {
        ShellCtx {
            db: StoredValue::new_local(None),
            phase: RwSignal::new(Phase::Starting),
            lock_reason: RwSignal::new(None),
            notice: RwSignal::new(None),
            record_root: NodeRef::new(),
            viewer_root: NodeRef::new(),
            last_activity: StoredValue::new_local(now_ms()),
        }
    }

    pub fn expect() -> ShellCtx {
        expect_context::<ShellCtx>()
    }

    pub fn db(&self) -> Option<Db> {
        self.db.with_value(Clone::clone)
    }

    pub fn say(&self, kind: NoticeKind, text: impl Into<String>) {
        self.notice.set(Some(Notice {
            kind,
            text: text.into(),
        }));
    }

    fn touch(&self) {
        self.last_activity.set_value(now_ms());
    }

    /// Hands a verified key to the record module, which reads the record and shows it.
    /// `progress` reports the module's progress while it opens the record.
    pub async fn open_record(
        &self,
        verified: VerifiedKey,
        welcome: Option<&str>,
        progress: impl Fn(Progress) + 'static,
    ) -> Result<(), String> {
        let Some(root) = self.record_root.get_untracked() else {
            return Err("The page is not ready yet. Reload and try again.".into());
        };
        progress(Progress {
            step: "Loading your record",
            fraction: None,
        });
        let module = modules::record_module().await.map_err(|e| {
            format!("Part of the app could not be loaded ({e}). Check your connection and reload the page.")
        })?;
        let shell = *self;
        let on_lock =
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |reason: JsValue, _: JsValue| {
                shell.lock_reason.set(reason.as_string());
                shell.phase.set(Phase::Locked);
            });
        let on_progress =
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |step: JsValue, fraction: JsValue| {
                let step = match step.as_string().as_deref() {
                    Some("Reading your record") => "Reading your record",
                    Some("Decrypting your record") => "Decrypting your record",
                    Some("Preparing your record") => "Preparing your record",
                    _ => "Opening your record",
                };
                progress(Progress {
                    step,
                    fraction: fraction.as_f64(),
                });
            });
        let options = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(k), v);
        };
        set("vaultId", &JsValue::from_str(&verified.id.to_string()));
        set(
            "key",
            &js_sys::Uint8Array::from(&verified.key.as_bytes()[..]).into(),
        );
        set("root", root.as_ref());
        set(
            "recovery",
            &JsValue::from_bool(verified.opened_with_recovery_key),
        );
        set("onLock", on_lock.as_ref());
        set("onProgress", on_progress.as_ref());
        if let Some(w) = welcome {
            set("welcome", &JsValue::from_str(w));
        }
        drop(verified);
        CALLBACKS.with(|c| {
            let mut c = c.borrow_mut();
            c.clear();
            c.push(on_lock);
            c.push(on_progress);
        });
        let started = modules::call(&module, "start_record", &[options.into()])?;
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(started))
            .await
            .map_err(|e| {
                e.as_string()
                    .unwrap_or_else(|| crate::platform::js_error_text(&e))
            })?;
        self.lock_reason.set(None);
        self.notice.set(None);
        self.touch();
        self.phase.set(Phase::Unlocked);
        Ok(())
    }

    /// Locks the open vault (the record module drops its keys and screens, then calls back).
    pub fn lock(&self, reason: &str) {
        let shell = *self;
        let reason = reason.to_string();
        spawn_local(async move {
            match modules::record_module().await {
                Ok(module) => {
                    let _ = modules::call(&module, "lock_record", &[JsValue::from_str(&reason)]);
                }
                Err(_) => {
                    shell.lock_reason.set(Some(reason));
                    shell.phase.set(Phase::Locked);
                }
            }
        });
    }
}

/// The whole app, as the browser first loads it.
#[component]
pub fn App() -> impl IntoView {
    let route = RwSignal::new(Route::from_hash(&current_hash()));
    let handle = window_event_listener(leptos::ev::hashchange, move |_| {
        route.set(Route::from_hash(&current_hash()));
    });
    on_cleanup(move || handle.remove());

    let prefs = RwSignal::new(Prefs::load());
    provide_context(prefs);
    let shell = ShellCtx::new();
    provide_context(shell);

    spawn_local(async move {
        match Db::open().await {
            Ok(db) => {
                shell.db.set_value(Some(db));
                shell.phase.set(Phase::Locked);
            }
            Err(e) => shell.phase.set(Phase::StorageUnavailable(
                crate::messages::vault_error_message(&e),
            )),
        }
    });
    idle_lock(shell, prefs);
    // For the benchmark: the shell is on screen and its controls work. Then fetch and compile the
    // record module in the background, so unlocking does not wait for it.
    request_animation_frame(move || {
        crate::perf::mark("phr-interactive");
        boot_record_module(shell);
    });

    let record_visible = move || {
        shell.phase.get() == Phase::Unlocked
            && !matches!(
                route.get(),
                Route::Privacy | Route::Settings | Route::Viewer(_)
            )
    };
    let viewing = move || matches!(route.get(), Route::Viewer(_));
    // A SMART Health Link opens in the viewer (record module), whether or not a vault is open.
    Effect::new(move |was_viewing: Option<bool>| {
        let r = route.get();
        let now_viewing = matches!(r, Route::Viewer(_));
        if let Route::Viewer(fragment) = r {
            spawn_local(async move {
                let (Ok(module), Some(root)) = (
                    modules::record_module().await,
                    shell.viewer_root.get_untracked(),
                ) else {
                    shell.say(
                        NoticeKind::Error,
                        "The viewer could not be loaded. Check your connection and reload the page.",
                    );
                    return;
                };
                let _ = modules::call(
                    &module,
                    "show_viewer",
                    &[root.into(), JsValue::from_str(&fragment)],
                );
            });
        } else if was_viewing == Some(true) {
            spawn_local(async move {
                if let Ok(module) = modules::record_module().await {
                    let _ = modules::call(&module, "hide_viewer", &[]);
                }
            });
        }
        now_viewing
    });
    view! {
        <div class=move || prefs.get().classes()>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header route=route />
            <main id="main" tabindex="-1">
                <ShellNotices />
                {move || screen(route.get(), shell.phase.get())}
                <div id="record-root" node_ref=shell.record_root class:hidden=move || !record_visible()></div>
                <div id="viewer-root" node_ref=shell.viewer_root class:hidden=move || !viewing()></div>
            </main>
            <footer class="app-footer">
                <p>
                    "Your record stays in this browser. Records from your providers are copies: "
                    "their systems remain the official record."
                </p>
            </footer>
        </div>
    }
}

/// Loads the record module and starts its runtime, which also finishes a sign-in that just came
/// back from a provider; while the vault is locked, what it wants to say appears on the lock screen.
fn boot_record_module(shell: ShellCtx) {
    spawn_local(async move {
        let Ok(module) = modules::record_module().await else {
            return;
        };
        let on_reason = Closure::<dyn FnMut(JsValue)>::new(move |reason: JsValue| {
            shell.lock_reason.set(reason.as_string());
        });
        let on_notice =
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |kind: JsValue, text: JsValue| {
                let kind = match kind.as_string().as_deref() {
                    Some("error") => NoticeKind::Error,
                    Some("success") => NoticeKind::Success,
                    _ => NoticeKind::Info,
                };
                shell.say(kind, text.as_string().unwrap_or_default());
            });
        let hooks = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&hooks, &"onLockReason".into(), on_reason.as_ref());
        let _ = js_sys::Reflect::set(&hooks, &"onNotice".into(), on_notice.as_ref());
        // The runtime lives as long as the page: so do its callbacks.
        on_reason.forget();
        on_notice.forget();
        let _ = modules::call(&module, "boot", &[hooks.into()]);
    });
}

/// The shell's screen for a route in a phase (record screens belong to the record module).
fn screen(route: Route, phase: Phase) -> AnyView {
    match (route, phase) {
        (Route::Privacy, _) => pages::privacy::PrivacyPage().into_any(),
        (Route::Settings, _) => pages::settings::SettingsPage().into_any(),
        (_, Phase::Starting) => view! { <p class="page" role="status">"Starting…"</p> }.into_any(),
        (_, Phase::StorageUnavailable(why)) => view! {
            <section class="page" aria-labelledby="unavailable-title">
                <h1 id="unavailable-title">"Your record cannot be stored in this browser"</h1>
                <div class="notice error" role="alert" id="storage-unavailable">{why}</div>
            </section>
        }
        .into_any(),
        (Route::Viewer(_), _) => ().into_any(),
        (_, Phase::Locked) => pages::gate::Gate().into_any(),
        (_, Phase::Unlocked) => ().into_any(),
    }
}

/// Locks the vault after the configured minutes without keyboard, pointer or touch activity.
fn idle_lock(shell: ShellCtx, prefs: RwSignal<Prefs>) {
    for event in ["pointerdown", "keydown", "wheel", "touchstart"] {
        let handle = window_event_listener_untyped(event, move |_| shell.touch());
        on_cleanup(move || handle.remove());
    }
    let check = move || {
        let minutes = prefs.get_untracked().idle_lock_minutes;
        let idle = now_ms() - shell.last_activity.get_value();
        if shell.phase.get_untracked() == Phase::Unlocked
            && minutes > 0
            && idle > f64::from(minutes) * 60_000.0
        {
            shell.touch();
            shell.lock(&format!(
                "Your vault was locked after {minutes} minute{} without activity.",
                if minutes == 1 { "" } else { "s" }
            ));
        }
    };
    if let Ok(handle) = set_interval_with_handle(check, std::time::Duration::from_secs(5)) {
        on_cleanup(move || handle.clear());
    }
}

#[component]
fn ShellNotices() -> impl IntoView {
    let shell = ShellCtx::expect();
    // Once the vault is open, the record module shows the notices.
    view! {
        {move || (shell.phase.get() != Phase::Unlocked).then(|| shell.notice.get()).flatten().map(|n| view! { <NoticeView notice=n on_dismiss=move || shell.notice.set(None) /> })}
    }
}

/// The header with the app name and the main navigation. On narrow screens the navigation folds
/// behind a menu button.
#[component]
pub fn Header(route: RwSignal<Route>) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    let shell = use_context::<ShellCtx>();
    let unlocked = move || shell.is_some_and(|s| s.phase.get() == Phase::Unlocked);
    view! {
        <header class="app-header">
            <a class="brand" href="#/">
                <span class="brand-mark" aria-hidden="true">"+"</span>
                <span>"My Health Record"</span>
            </a>
            <button
                type="button"
                class="menu-button"
                aria-controls="main-nav"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)
            >
                {move || if menu_open.get() { "Close menu" } else { "Menu" }}
            </button>
            <nav id="main-nav" aria-label="Main" class:open=move || menu_open.get()>
                <ul>
                    {NAV
                        .iter()
                        .map(|&(href, label)| {
                            let needs_vault = Route::from_hash(href).needs_vault() || href == "#/";
                            view! {
                                <Show when=move || !needs_vault || unlocked()>
                                    <li>
                                        <a
                                            href=href
                                            aria-current=move || (route.get().nav_href() == href).then_some("page")
                                            on:click=move |_| menu_open.set(false)
                                        >
                                            {label}
                                        </a>
                                    </li>
                                </Show>
                            }
                        })
                        .collect_view()}
                    <Show when=unlocked>
                        <li>
                            <button
                                type="button"
                                class="lock-button"
                                id="lock-button"
                                on:click=move |_| {
                                    if let Some(s) = shell {
                                        s.lock("You locked your vault.");
                                    }
                                }
                            >
                                "Lock"
                            </button>
                        </li>
                    </Show>
                </ul>
            </nav>
        </header>
    }
}
