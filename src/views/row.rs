//! One fact of the record, as every list shows it: what, when, from where.

use leptos::prelude::*;
use phr_views::{Row, SourceBadge, SourceKind};

use crate::route::Route;

/// "Demo General Hospital" or "You added": every item says where it came from.
#[component]
pub fn SourceBadges(sources: Vec<SourceBadge>) -> impl IntoView {
    view! {
        <span class="badges">
            {sources
                .into_iter()
                .map(|b| {
                    let (class, text) = match b.kind {
                        SourceKind::Patient => ("badge patient", "You added".to_string()),
                        SourceKind::File => ("badge file", b.label.clone()),
                        SourceKind::Ehr => ("badge ehr", b.label.clone()),
                    };
                    let title = if b.patient_reported {
                        "Entered by you: not verified by a clinician"
                    } else {
                        "Copied from this source; the source keeps the official record"
                    };
                    view! {
                        <span class=class title=title>
                            {text}
                            {b.gone_at_source.then(|| view! { <span class="badge-note">" (no longer at source)"</span> })}
                        </span>
                    }
                })
                .collect_view()}
        </span>
    }
}

/// A row linking to the item's page.
#[component]
pub fn RowView(
    row: Row,
    #[prop(optional)] extra: Option<String>,
    /// Position in a virtualised list: (1-based position, list length).
    #[prop(optional)]
    position: Option<(usize, usize)>,
) -> impl IntoView {
    let href = Route::Item(row.key.clone()).href();
    let date = row.date.map(|d| d.to_string()).unwrap_or_default();
    let status = (!row.status.is_empty() && row.status != "active" && row.status != "final")
        .then(|| row.status.clone());
    view! {
        <li
            class="row"
            class:patient=row.patient_reported
            class:hidden-item=row.hidden
            aria-posinset=position.map(|p| p.0.to_string())
            aria-setsize=position.map(|p| p.1.to_string())
        >
            <div class="row-main">
                <a class="row-title" href=href>{row.title.clone()}</a>
                {(!row.detail.is_empty()).then(|| view! { <span class="row-detail">{row.detail.clone()}</span> })}
                {extra.map(|e| view! { <span class="row-detail">{e}</span> })}
                {row.note.map(|n| view! { <span class="row-note">{n}</span> })}
            </div>
            <div class="row-meta">
                {(!date.is_empty()).then(|| view! { <time>{date}</time> })}
                {status.map(|s| view! { <span class="status-tag">{s}</span> })}
                {row.hidden.then(|| view! { <span class="status-tag">"hidden"</span> })}
                <SourceBadges sources=row.sources.clone() />
            </div>
        </li>
    }
}

/// A list of rows, or a sentence when there are none. With `limit`, a long list shows its first
/// `limit` rows and a button that shows the others ("Show all 1,204 problems"); the rest are only
/// built when asked for, so a very large record does not slow the screen down.
#[component]
pub fn Rows(
    rows: Vec<Row>,
    #[prop(into)] empty: String,
    #[prop(optional)] limit: Option<usize>,
    /// What the rows are, in the plural, for the button ("problems").
    #[prop(optional, into)]
    noun: String,
    /// The list's id (the button names it in `aria-controls`).
    #[prop(optional, into)]
    list_id: String,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    let total = rows.len();
    let limit = limit.unwrap_or(usize::MAX).min(total);
    let mut first = rows;
    let rest = StoredValue::new(first.split_off(limit));
    let all = RwSignal::new(false);
    let list_id = (!list_id.is_empty()).then_some(list_id);
    let more = (limit < total).then(|| {
        let label = move || {
            if all.get() {
                format!("Show only the first {limit}")
            } else {
                format!("Show all {} {noun}", crate::format::thousands(total))
            }
        };
        view! {
            <button
                type="button"
                class="link-button show-all"
                aria-expanded=move || all.get().to_string()
                aria-controls=list_id.clone()
                on:click=move |_| all.update(|a| *a = !*a)
            >
                {label}
            </button>
        }
    });
    view! {
        <ul class="rows" id=list_id>
            {first.into_iter().map(|row| view! { <RowView row=row /> }).collect_view()}
            {move || all.get().then(|| rest.with_value(|rest| {
                rest.iter().cloned().map(|row| view! { <RowView row=row /> }).collect_view()
            }))}
        </ul>
        {more}
    }
    .into_any()
}
