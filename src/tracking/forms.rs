//! Small labelled form controls used by the tracking forms.

use leptos::prelude::*;

/// A labelled input bound to a signal.
#[component]
pub fn Field(
    id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <small id=hint_id.clone()>{h}</small> })}
            <input
                id=id
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete.unwrap_or("off")
                required=required
                aria-describedby=hint.map(|_| hint_id.clone())
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                on:change=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}

/// A labelled select bound to a signal: options are (value, label).
#[component]
pub fn Select(
    id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    options: Vec<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                {options
                    .into_iter()
                    .map(|(v, l)| view! { <option value=v selected=move || value.get() == v>{l}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

/// The text of a number field, checked: `Ok(None)` when empty.
pub fn number(text: &str, what: &str) -> Result<Option<String>, String> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(t)),
        _ => Err(format!("{what} must be a number, like 70 or 1.5.")),
    }
}

/// A required number field.
pub fn required_number(text: &str, what: &str) -> Result<String, String> {
    number(text, what)?.ok_or_else(|| format!("Enter {}.", what.to_lowercase()))
}

/// An optional text field: None when blank.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}
