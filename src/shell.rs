//! The app shell: header, navigation, and the current screen.

use leptos::prelude::*;

use crate::pages;
use crate::prefs::Prefs;
use crate::route::{current_hash, Route};

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

    view! {
        <div class=move || prefs.get().classes()>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header route=route />
            <main id="main" tabindex="-1">
                {move || match route.get() {
                    Route::Home => pages::home::HomePage().into_any(),
                    Route::Privacy => pages::privacy::PrivacyPage().into_any(),
                    Route::Settings => pages::settings::SettingsPage().into_any(),
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

/// The header with the app name and the main navigation. On narrow screens the navigation folds
/// behind a menu button.
#[component]
pub fn Header(route: RwSignal<Route>) -> impl IntoView {
    let menu_open = RwSignal::new(false);
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
                    {Route::NAV
                        .iter()
                        .map(|&r| {
                            view! {
                                <li>
                                    <a
                                        href=r.href()
                                        aria-current=move || (route.get() == r).then_some("page")
                                        on:click=move |_| menu_open.set(false)
                                    >
                                        {r.label()}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
        </header>
    }
}
