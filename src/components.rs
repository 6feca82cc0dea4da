//! Small shared UI pieces.

use leptos::prelude::*;

use crate::session::Progress;
use crate::state::{Notice, NoticeKind};

/// The app's message area (`#app-notice`): an error is an alert, anything else a status.
#[component]
pub fn NoticeView(notice: Notice, on_dismiss: impl Fn() + 'static) -> impl IntoView {
    let (class, role) = match notice.kind {
        NoticeKind::Error => ("notice error", "alert"),
        NoticeKind::Success => ("notice success", "status"),
        NoticeKind::Info => ("notice info", "status"),
    };
    view! {
        <div class=class role=role id="app-notice">
            <span>{notice.text}</span>
            <button type="button" class="link-button" on:click=move |_| on_dismiss()>
                "Dismiss"
            </button>
        </div>
    }
}

/// An error message, announced to screen readers.
/// "Are you sure?" under a Delete button: says what goes, then Delete or Cancel (which closes it).
#[component]
pub fn ConfirmDelete(
    open: RwSignal<bool>,
    #[prop(into)] message: String,
    on_delete: impl Fn(leptos::ev::MouseEvent) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Show when=move || open.get()>
            <div class="notice warn confirm" role="group" aria-label="Confirm deletion">
                <p>{message.clone()}</p>
                <div class="actions">
                    <button type="button" class="danger" on:click=on_delete.clone()>"Delete"</button>
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </div>
        </Show>
    }
}

#[component]
pub fn ErrorBox(#[prop(into)] text: String) -> impl IntoView {
    view! { <div class="notice error" role="alert">{text}</div> }
}

/// A progress bar with a label; indeterminate when the fraction is unknown.
#[component]
pub fn ProgressBar(progress: Progress) -> impl IntoView {
    let label = progress.step;
    view! {
        <div class="progress" role="status" aria-live="polite">
            <span class="progress-label">{label} "…"</span>
            {match progress.fraction {
                Some(f) => view! {
                    <progress max="1" value=f.to_string() aria-label=label></progress>
                }.into_any(),
                None => view! { <progress aria-label=label></progress> }.into_any(),
            }}
        </div>
    }
}

/// A passphrase input with a show/hide toggle.
#[component]
pub fn PassphraseField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    autocomplete: &'static str,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="with-button">
                <input
                    id=id
                    type=move || if shown.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    spellcheck="false"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
                <button
                    type="button"
                    class="secondary"
                    aria-pressed=move || shown.get().to_string()
                    aria-controls=id
                    on:click=move |_| shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { "Hide" } else { "Show" }}
                    <span class="visually-hidden">{format!(" {}", label.to_lowercase())}</span>
                </button>
            </div>
        </div>
    }
}
