//! Every dated item from every source, newest first; filters and free-text search. The list is
//! virtualised (fixed row height), so 20,000 items scroll smoothly.

use leptos::prelude::*;
use phr_views::timeline::{self, TimelineFilter};
use phr_views::{Category, CategorySet, Day};

use crate::state::AppCtx;
use crate::views::row::RowView;

/// Row height in CSS pixels (`.timeline-list .row` in the stylesheet).
pub const ROW_HEIGHT: f64 = 76.0;

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
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(600.0f64);
    let list_ref = NodeRef::<leptos::html::Div>::new();

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
    // A new search starts at the top.
    Effect::new(move |_| {
        groups.track();
        if let Some(el) = list_ref.get_untracked() {
            el.set_scroll_top(0);
        }
        scroll_top.set(0.0);
    });
    let measure = move || {
        if let Some(el) = list_ref.get_untracked() {
            viewport.set(f64::from(el.client_height().max(200)));
        }
    };
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

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

    let visible = Memo::new(move |_| {
        let index = app.index()?;
        let groups = groups.get()?;
        let w = timeline::window(
            groups.len(),
            ROW_HEIGHT,
            scroll_top.get(),
            viewport.get(),
            8,
        );
        let rows = timeline::rows_for(&index, &groups[w.range.clone()], include_hidden.get());
        Some((rows, w.range.start, w.offset_px, w.total_px, groups.len()))
    });
    let count = move || visible.with(|v| v.as_ref().map(|v| v.4).unwrap_or(0));
    request_animation_frame(measure);

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
                    let n = count();
                    format!("{n} item{}", if n == 1 { "" } else { "s" })
                }}
            </p>
            <div
                class="timeline-list"
                node_ref=list_ref
                on:scroll=move |ev| {
                    let el: web_sys::Element = event_target(&ev);
                    scroll_top.set(f64::from(el.scroll_top()));
                }
            >
                <div
                    class="timeline-spacer"
                    style:height=move || format!("{}px", visible.with(|v| v.as_ref().map(|v| v.3).unwrap_or(0.0)))
                >
                    <ul
                        class="rows"
                        aria-label="Timeline"
                        style:transform=move || format!("translateY({}px)", visible.with(|v| v.as_ref().map(|v| v.2).unwrap_or(0.0)))
                    >
                        {move || visible.get().map(|(rows, start, _, _, total)| {
                            rows.into_iter().enumerate().map(|(i, row)| view! {
                                <RowView row=row position=(start + i + 1, total) />
                            }).collect_view()
                        })}
                    </ul>
                </div>
            </div>
        </section>
    }
}
