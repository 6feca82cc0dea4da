//! Every dated item from every source, newest first; filters and free-text search. The list is
//! virtualised (fixed row height), so 20,000 items scroll smoothly.

use leptos::prelude::*;
use phr_views::timeline::{self, TimelineFilter};
use phr_views::{Category, CategorySet, Day};

use crate::state::AppCtx;
use crate::views::virtual_list::{Line, VirtualList};

/// Categories offered in the filter, with their labels.
const FILTER_CATEGORIES: &[Category] = &[
    Category::Medication,
    Category::Allergy,
    Category::Problem,
    Category::LabResult,
    Category::VitalSign,
    Category::Observation,
    Category::Immunization,
    Category::Procedure,
    Category::Visit,
    Category::Document,
    Category::Report,
    Category::Goal,
    Category::CarePlan,
    Category::CareTeam,
    Category::Device,
    Category::DoseLog,
    Category::Billing,
];

#[component]
pub fn TimelinePage() -> impl IntoView {
    let app = AppCtx::expect();
    let text = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let include_hidden = RwSignal::new(false);

    let filter = move || {
        let mut f = TimelineFilter::clinical();
        f.text = text.get();
        if let Some(c) = FILTER_CATEGORIES
            .iter()
            .find(|c| c.label() == category.get())
        {
            f.categories = CategorySet::of(&[*c]);
        }
        f.from = Day::parse(&from.get());
        f.to = Day::parse(&to.get());
        f.include_hidden = include_hidden.get();
        f
    };
    let groups = Memo::new(move |_| {
        let index = app.index()?;
        let mut f = filter();
        if let Ok(pos) = source.get().parse::<u16>() {
            f.sources = Some(vec![phr_views::SourceId(pos)]);
        }
        Some(crate::perf::timed("phr-timeline-filter", || {
            timeline::timeline(&index, &f)
        }))
    });
    let sources = move || {
        app.index()
            .map(|i| {
                i.sources()
                    .iter()
                    .enumerate()
                    .map(|(n, s)| (n.to_string(), s.label.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };

    let count = Signal::derive(move || groups.with(|g| g.as_ref().map_or(0, Vec::len)));
    let lines_for = move |start: usize, end: usize| -> Vec<Line> {
        let (Some(index), Some(groups)) = (app.index(), groups.get()) else {
            return Vec::new();
        };
        let range = start.min(groups.len())..end.min(groups.len());
        timeline::rows_for(&index, &groups[range], include_hidden.get_untracked())
            .into_iter()
            .map(Line::Row)
            .collect()
    };

    view! {
        <section class="page" aria-labelledby="timeline-title">
            <h1 id="timeline-title">"Timeline"</h1>
            <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                <label class="field grow">
                    <span>"Search"</span>
                    <input
                        id="timeline-search"
                        type="search"
                        placeholder="e.g. cholesterol, flu vaccine, 2345-7"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    />
                </label>
                <label class="field">
                    <span>"Type"</span>
                    <select id="timeline-category" on:change=move |ev| category.set(event_target_value(&ev))>
                        <option value="">"All types"</option>
                        {FILTER_CATEGORIES.iter().map(|c| view! { <option value=c.label()>{c.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Source"</span>
                    <select id="timeline-source" on:change=move |ev| source.set(event_target_value(&ev))>
                        <option value="">"All sources"</option>
                        {move || sources().into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"From"</span>
                    <input id="timeline-from" type="date" on:change=move |ev| from.set(event_target_value(&ev)) />
                </label>
                <label class="field">
                    <span>"To"</span>
                    <input id="timeline-to" type="date" on:change=move |ev| to.set(event_target_value(&ev)) />
                </label>
                <label class="choice">
                    <input type="checkbox" id="timeline-hidden" on:change=move |ev| include_hidden.set(event_target_checked(&ev)) />
                    "Show hidden items"
                </label>
            </form>
            <p class="count" role="status" aria-live="polite" id="timeline-count">
                {move || {
                    let n = count.get();
                    format!("{n} item{}", if n == 1 { "" } else { "s" })
                }}
            </p>
            <VirtualList count=count lines_for=lines_for label="Timeline" id="timeline-list" />
        </section>
    }
}
