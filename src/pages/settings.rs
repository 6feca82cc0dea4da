use leptos::prelude::*;

use crate::prefs::{Prefs, TextSize, Theme, IDLE_LOCK_CHOICES};

/// Display preferences. They are saved unencrypted because they say nothing about the patient.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let prefs = expect_context::<RwSignal<Prefs>>();
    let status = RwSignal::new(String::new());

    let save = move |next: Prefs| {
        prefs.set(next);
        status.set(match next.save() {
            Ok(()) => "Saved.".to_string(),
            Err(e) => format!(
                "Could not save your preferences ({e}). They apply until you close this page."
            ),
        });
    };

    view! {
        <section class="page" aria-labelledby="settings-title">
            <h1 id="settings-title">"Settings"</h1>
            <fieldset class="choice-group">
                <legend>"Text size"</legend>
                {TextSize::ALL
                    .iter()
                    .map(|&size| {
                        view! {
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="text-size"
                                    value=size.label()
                                    prop:checked=move || prefs.get().text_size == size
                                    on:change=move |_| save(Prefs { text_size: size, ..prefs.get() })
                                />
                                {size.label()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <fieldset class="choice-group">
                <legend>"Colours"</legend>
                {Theme::ALL
                    .iter()
                    .map(|&theme| {
                        view! {
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="theme"
                                    value=theme.label()
                                    prop:checked=move || prefs.get().theme == theme
                                    on:change=move |_| save(Prefs { theme, ..prefs.get() })
                                />
                                {theme.label()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <fieldset class="choice-group">
                <legend>"Lock my vault after this long without activity"</legend>
                {IDLE_LOCK_CHOICES
                    .iter()
                    .map(|&minutes| {
                        let label = match minutes {
                            0 => "Never (not recommended on shared devices)".to_string(),
                            1 => "1 minute".to_string(),
                            m => format!("{m} minutes"),
                        };
                        view! {
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="idle-lock"
                                    value=minutes.to_string()
                                    prop:checked=move || prefs.get().idle_lock_minutes == minutes
                                    on:change=move |_| save(Prefs { idle_lock_minutes: minutes, ..prefs.get() })
                                />
                                {label}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <p class="status" role="status" aria-live="polite">{move || status.get()}</p>
        </section>
    }
}
