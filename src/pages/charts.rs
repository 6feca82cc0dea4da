//! Charts that need no setup: every lab test over time with its reference range, blood pressure,
//! weight and BMI, heart rate, glucose. SVG, with a text summary and a data table for each.

use leptos::prelude::*;
use phr_views::charts::{self, Chart, ChartOptions};

use crate::state::AppCtx;

const W: f64 = 640.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

#[component]
pub fn ChartsPage() -> impl IntoView {
    let app = AppCtx::expect();
    let filter = RwSignal::new(String::new());
    let all = Memo::new(move |_| {
        let index = app.index()?;
        Some(charts::charts(&index, &ChartOptions::default()))
    });
    let shown = move || {
        let f = filter.get().to_lowercase();
        all.get().map(|charts| {
            charts
                .into_iter()
                .filter(|c| f.is_empty() || c.title.to_lowercase().contains(&f))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="page" aria-labelledby="charts-title">
            <h1 id="charts-title">"Charts"</h1>
            <label class="field narrow">
                <span>"Find a chart"</span>
                <input id="charts-filter" type="search" placeholder="e.g. weight, glucose"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
            </label>
            {move || shown().map(|charts| if charts.is_empty() {
                view! { <p class="empty">"No measurements to chart yet."</p> }.into_any()
            } else {
                view! {
                    <div class="charts">
                        {charts.into_iter().map(|c| view! { <ChartView chart=c /> }).collect_view()}
                    </div>
                }.into_any()
            })}
        </section>
    }
}

/// One chart: lines, reference band, axes, an accessible description and the numbers as a table.
#[component]
pub fn ChartView(chart: Chart) -> impl IntoView {
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |v: f64| LEFT + chart.x_axis.fraction(v) * plot_w;
    let y = |v: f64| TOP + (1.0 - chart.y_axis.fraction(v)) * plot_h;
    let id = format!(
        "chart-{}",
        crate::route::encode(&chart.id).replace('%', "_")
    );
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let points: usize = chart.lines.iter().map(|l| l.points.len()).sum();
    let latest = chart
        .lines
        .iter()
        .filter_map(|l| l.points.last().map(|p| format!("{} {}", l.name, p.text)))
        .collect::<Vec<_>>()
        .join(", ");
    let description = format!(
        "{} values from {} to {}. Latest: {} {}.",
        points,
        chart
            .table
            .first()
            .map(|r| r.at.to_string())
            .unwrap_or_default(),
        chart
            .table
            .last()
            .map(|r| r.at.to_string())
            .unwrap_or_default(),
        latest,
        chart.unit_label
    );

    let band = chart.reference_range.map(|(low, high)| {
        let top = high.map(y).unwrap_or(TOP).clamp(TOP, TOP + plot_h);
        let bottom = low.map(y).unwrap_or(TOP + plot_h).clamp(TOP, TOP + plot_h);
        view! {
            <rect class="ref-band" x=LEFT y=top width=plot_w height=(bottom - top).max(0.0)>
                <title>"Reference range"</title>
            </rect>
        }
    });
    let y_ticks = chart
        .y_axis
        .ticks
        .iter()
        .map(|t| {
            let ty = y(t.value);
            view! {
                <g class="tick">
                    <line x1=LEFT x2=LEFT + plot_w y1=ty y2=ty class="grid" />
                    <text x=LEFT - 6.0 y=ty + 4.0 text-anchor="end">{t.label.clone()}</text>
                </g>
            }
        })
        .collect_view();
    let x_ticks = chart.x_axis.ticks.iter().map(|t| {
        let tx = x(t.value);
        view! { <text class="tick" x=tx y=H - BOTTOM + 18.0 text-anchor="middle">{t.label.clone()}</text> }
    }).collect_view();
    let lines = chart
        .lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let path = line
                .points
                .iter()
                .map(|p| format!("{:.1},{:.1}", x(p.x), y(p.value)))
                .collect::<Vec<_>>()
                .join(" ");
            let class = format!("series s{n}");
            let dots = line
                .points
                .iter()
                .map(|p| {
                    let label = format!(
                        "{}: {} {}{}",
                        p.at,
                        p.text,
                        chart.unit_label,
                        if p.patient_reported {
                            " (you added)"
                        } else {
                            ""
                        }
                    );
                    view! {
                        <circle cx=x(p.x) cy=y(p.value) r="4" class:patient=p.patient_reported>
                            <title>{label}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <g class=class>
                    <polyline points=path fill="none" />
                    {dots}
                </g>
            }
        })
        .collect_view();

    view! {
        <figure class="chart card" id=id.clone()>
            <figcaption id=title_id.clone()>
                <strong>{chart.title.clone()}</strong>
                <span class="muted">{format!(" ({})", chart.unit_label)}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=format!("{title_id} {desc_id}") preserveAspectRatio="xMidYMid meet">
                <desc id=desc_id.clone()>{description}</desc>
                {band}
                {y_ticks}
                {x_ticks}
                <line class="axis" x1=LEFT x2=LEFT y1=TOP y2=TOP + plot_h />
                <line class="axis" x1=LEFT x2=LEFT + plot_w y1=TOP + plot_h y2=TOP + plot_h />
                {lines}
            </svg>
            {(chart.lines.len() > 1).then(|| view! {
                <p class="legend">
                    {chart.lines.iter().enumerate().map(|(n, l)| view! {
                        <span class=format!("key s{n}")>{l.name.clone()}</span>
                    }).collect_view()}
                </p>
            })}
            {chart.note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            <details>
                <summary>"Show the numbers"</summary>
                <table class="data-table">
                    <caption class="visually-hidden">{format!("{} values", chart.title)}</caption>
                    <thead>
                        <tr>{chart.table_headers.iter().map(|h| view! { <th scope="col">{h.clone()}</th> }).collect_view()}<th scope="col">"Source"</th></tr>
                    </thead>
                    <tbody>
                        {chart.table.iter().rev().map(|r| view! {
                            <tr>
                                <th scope="row">{r.at.to_string()}</th>
                                {r.cells.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}
                                <td>{if r.patient_reported { "You added".to_string() } else { r.sources.join(", ") }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
