//! A virtualised list of fixed-height lines: only the lines in view (plus a margin) are in the DOM,
//! so a list of 20,000 items scrolls smoothly. Positions are announced with aria-setsize/posinset.

use leptos::prelude::*;
use phr_views::Row;

use crate::views::row::RowView;

/// Line height in CSS pixels (`.virtual-list .row, .virtual-list .line-header` in the stylesheet).
pub const LINE_HEIGHT: f64 = 76.0;

/// One line of a virtual list.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// A section title (e.g. one lab test in the Results list).
    Header(String),
    Row(Row),
}

/// A scrolling box of `count` lines, of which only the visible ones are asked for:
/// `lines_for(start, end)` returns lines `start..end`. `label` names the list for assistive
/// technology. When `count` changes (a new search), the list scrolls back to the top.
#[component]
pub fn VirtualList(
    #[prop(into)] count: Signal<usize>,
    lines_for: impl Fn(usize, usize) -> Vec<Line> + Send + Sync + 'static,
    label: &'static str,
    #[prop(optional)] id: &'static str,
) -> impl IntoView {
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(600.0f64);
    let list_ref = NodeRef::<leptos::html::Div>::new();
    // Also runs on the next animation frame, when the list may already be gone (the patient moved
    // to another screen): then it does nothing.
    let measure = move || {
        if let Some(el) = list_ref.try_get_untracked().flatten() {
            let _ = viewport.try_set(f64::from(el.client_height().max(200)));
        }
    };
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    request_animation_frame(measure);
    Effect::new(move |_| {
        count.track();
        if let Some(el) = list_ref.get_untracked() {
            el.set_scroll_top(0);
        }
        scroll_top.set(0.0);
    });
    let window = Memo::new(move |_| {
        let total = count.get();
        let w =
            phr_views::timeline::window(total, LINE_HEIGHT, scroll_top.get(), viewport.get(), 8);
        (w.range.start, w.range.end, w.offset_px, w.total_px, total)
    });
    view! {
        <div
            class="virtual-list"
            id=(!id.is_empty()).then_some(id)
            node_ref=list_ref
            on:scroll=move |ev| {
                let el: web_sys::Element = event_target(&ev);
                scroll_top.set(f64::from(el.scroll_top()));
            }
        >
            <div class="virtual-spacer" style:height=move || format!("{}px", window.get().3)>
                <ul
                    class="rows"
                    aria-label=label
                    style:transform=move || format!("translateY({}px)", window.get().2)
                >
                    {move || {
                        let (start, end, _, _, total) = window.get();
                        lines_for(start, end)
                            .into_iter()
                            .enumerate()
                            .map(|(i, line)| match line {
                                Line::Header(title) => view! {
                                    <li class="line-header" aria-posinset=(start + i + 1).to_string() aria-setsize=total.to_string()>
                                        <h2>{title}</h2>
                                    </li>
                                }
                                .into_any(),
                                Line::Row(row) => view! {
                                    <RowView row=row position=(start + i + 1, total) />
                                }
                                .into_any(),
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
        </div>
    }
}
