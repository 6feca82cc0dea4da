//! The app shell: startup, header, navigation, notices, the idle lock, and the current screen.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::pages;
use crate::platform::idb::Db;
use crate::prefs::Prefs;
use crate::route::{current_hash, Route, NAV};
use crate::state::{AppCtx, NoticeKind, Phase};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let route = RwSignal::new(Route::from_hash(&current_hash()));
    let handle = window_event_listener(leptos::ev::hashchange, move |_| {
        route.set(Route::from_hash(&current_hash()));
    });
    on_cleanup(move || handle.remove());

    let prefs = RwSignal::new(Prefs::load());
    provide_context(prefs);
    let app = AppCtx::new();
    provide_context(app);

    spawn_local(async move {
        match Db::open().await {
            Ok(db) => {
                app.set_db(db);
                app.phase.set(Phase::Locked);
            }
            Err(e) => app.phase.set(Phase::StorageUnavailable(
                crate::messages::vault_error_message(&e),
            )),
        }
    });
    idle_lock(app, prefs);

    view! {
        <div class=move || prefs.get().classes()>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header route=route />
            <main id="main" tabindex="-1">
                <Notices />
                {move || match route.get() {
                    // The viewer needs no vault: locking or unlocking must not reset it.
                    Route::Viewer(fragment) => {
                        view! { <pages::viewer::ViewerPage fragment=fragment /> }.into_any()
                    }
                    r => (move || screen(r.clone(), app.phase.get())).into_any(),
                }}
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

/// Which screen to show for a route in a phase.
fn screen(route: Route, phase: Phase) -> AnyView {
    match (route, phase) {
        (Route::Privacy, _) => pages::privacy::PrivacyPage().into_any(),
        (Route::Settings, _) => pages::settings::SettingsPage().into_any(),
        (Route::Viewer(fragment), _) => {
            view! { <pages::viewer::ViewerPage fragment=fragment /> }.into_any()
        }
        (_, Phase::Starting) => view! { <p class="page" role="status">"Starting…"</p> }.into_any(),
        (_, Phase::StorageUnavailable(why)) => view! {
            <section class="page" aria-labelledby="unavailable-title">
                <h1 id="unavailable-title">"Your record cannot be stored in this browser"</h1>
                <div class="notice error" role="alert" id="storage-unavailable">{why}</div>
            </section>
        }
        .into_any(),
        (_, Phase::Locked) => pages::gate::Gate().into_any(),
        (Route::Vault, Phase::Unlocked) => pages::vault_page::VaultPage().into_any(),
        (Route::Home, Phase::Unlocked) => pages::summary::SummaryPage().into_any(),
        (Route::Timeline, Phase::Unlocked) => pages::timeline::TimelinePage().into_any(),
        (Route::Record(kind), Phase::Unlocked) => {
            view! { <pages::record::RecordPage kind=kind /> }.into_any()
        }
        (Route::Charts, Phase::Unlocked) => pages::charts::ChartsPage().into_any(),
        (Route::Item(key), Phase::Unlocked) => {
            view! { <pages::item::ItemPage key=key /> }.into_any()
        }
        (Route::Import, Phase::Unlocked) => pages::import::ImportPage().into_any(),
        (Route::Share, Phase::Unlocked) => pages::share::SharePage().into_any(),
        (Route::Tracking, Phase::Unlocked) => pages::summary::SummaryPage().into_any(),
    }
}

/// Locks the vault after the configured minutes without keyboard, pointer or touch activity.
fn idle_lock(app: AppCtx, prefs: RwSignal<Prefs>) {
    for event in ["pointerdown", "keydown", "wheel", "touchstart"] {
        let handle = window_event_listener_untyped(event, move |_| app.touch());
        on_cleanup(move || handle.remove());
    }
    let check = move || {
        let minutes = prefs.get_untracked().idle_lock_minutes;
        if app.phase.get_untracked() == Phase::Unlocked
            && minutes > 0
            && app.idle_ms() > f64::from(minutes) * 60_000.0
        {
            app.lock(Some(format!(
                "Your vault was locked after {minutes} minute{} without activity.",
                if minutes == 1 { "" } else { "s" }
            )));
        }
    };
    if let Ok(handle) = set_interval_with_handle(check, std::time::Duration::from_secs(5)) {
        on_cleanup(move || handle.clear());
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

/// The header with the app name and the main navigation. On narrow screens the navigation folds
/// behind a menu button.
#[component]
pub fn Header(route: RwSignal<Route>) -> impl IntoView {
    let menu_open = RwSignal::new(false);
    let app = use_context::<AppCtx>();
    let unlocked = move || app.is_some_and(|a| a.phase.get() == Phase::Unlocked);
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
                                    if let Some(a) = app {
                                        a.lock(Some("You locked your vault.".into()));
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
