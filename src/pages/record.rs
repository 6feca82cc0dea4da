//! The record by category: medications, allergies, problems, results, ... each item with its source
//! and date.

use leptos::prelude::*;
use phr_views::lists::{self, ListKind};

use crate::route::{Route, LISTS};
use crate::state::AppCtx;
use crate::views::row::Rows;
use crate::views::virtual_list::{Line, VirtualList};

/// Lists longer than this many lines are virtualised (shorter ones simply render).
const VIRTUALISE_ABOVE: usize = 120;

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
                let lines: usize = l.sections.iter().filter(|s| !s.rows.is_empty()).map(|s| s.rows.len() + 1).sum();
                if l.sections.iter().all(|s| s.rows.is_empty()) {
                    view! { <p class="empty" id="record-empty">{format!("No {} in your record yet.", label.to_lowercase())}</p> }.into_any()
                } else if lines > VIRTUALISE_ABOVE {
                    let flat: Vec<Line> = l
                        .sections
                        .into_iter()
                        .filter(|s| !s.rows.is_empty())
                        .flat_map(|s| {
                            let header = (!s.title.is_empty()).then(|| Line::Header(s.title.clone()));
                            header.into_iter().chain(s.rows.into_iter().map(Line::Row))
                        })
                        .collect();
                    let items = flat.iter().filter(|l| matches!(l, Line::Row(_))).count();
                    let total = flat.len();
                    let flat = std::sync::Arc::new(flat);
                    view! {
                        <p class="count" role="status">{format!("{items} items")}</p>
                        <VirtualList
                            count=Signal::stored(total)
                            lines_for=move |a, b| flat[a.min(flat.len())..b.min(flat.len())].to_vec()
                            label=label
                            id="record-list"
                        />
                    }.into_any()
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
