//! The record by category: medications, allergies, problems, results, ... each item with its source
//! and date.

use leptos::prelude::*;
use phr_views::lists::{self, ListKind};

use crate::route::{Route, LISTS};
use crate::state::AppCtx;
use crate::views::row::Rows;

#[component]
pub fn RecordPage(kind: ListKind) -> impl IntoView {
    let app = AppCtx::expect();
    let include_hidden = RwSignal::new(false);
    let list = Memo::new(move |_| {
        let index = app.index()?;
        Some(lists::list(&index, kind, include_hidden.get()))
    });
    let label = crate::route::list_label(kind);
    view! {
        <section class="page" aria-labelledby="record-title">
            <h1 id="record-title">{label}</h1>
            <nav class="tabs" aria-label="Record categories">
                <ul>
                    {LISTS.iter().map(|(k, _, l)| {
                        let current = *k == kind;
                        view! {
                            <li><a href=Route::Record(*k).href() aria-current=current.then_some("page")>{*l}</a></li>
                        }
                    }).collect_view()}
                </ul>
            </nav>
            <label class="choice">
                <input type="checkbox" id="record-hidden" on:change=move |ev| include_hidden.set(event_target_checked(&ev)) />
                "Show hidden items"
            </label>
            {move || list.get().map(|l| {
                if l.sections.iter().all(|s| s.rows.is_empty()) {
                    view! { <p class="empty" id="record-empty">{format!("No {} in your record yet.", label.to_lowercase())}</p> }.into_any()
                } else {
                    l.sections.into_iter().filter(|s| !s.rows.is_empty()).map(|s| view! {
                        <section class="list-section">
                            {(!s.title.is_empty()).then(|| view! { <h2>{s.title.clone()}</h2> })}
                            <Rows rows=s.rows empty="" />
                        </section>
                    }).collect_view().into_any()
                }
            })}
        </section>
    }
}
