//! Charts that need no setup: every lab test over time with its reference range, blood pressure,
//! weight and BMI, heart rate, glucose. SVG, with a text summary and a data table for each.

use leptos::prelude::*;
use phr_views::charts::{self, Chart, ChartOptions};

use crate::state::AppCtx;

pub(crate) const W: f64 = 640.0;
pub(crate) const H: f64 = 260.0;
pub(crate) const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
pub(crate) const TOP: f64 = 16.0;
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

/// Where a chart's values land in the SVG: shared by the measurement charts and goal progress.
#[derive(Clone, Copy)]
pub(crate) struct Plot<'a> {
    pub chart: &'a Chart,
}

impl Plot<'_> {
    pub const WIDTH: f64 = W - LEFT - RIGHT;
    pub const HEIGHT: f64 = H - TOP - BOTTOM;

    /// The x position of a time value, kept inside the plot.
    pub fn x(&self, v: f64) -> f64 {
        LEFT + self.chart.x_axis.fraction(v).clamp(0.0, 1.0) * Self::WIDTH
    }

    /// The y position of a measured value, kept inside the plot.
    pub fn y(&self, v: f64) -> f64 {
        TOP + (1.0 - self.chart.y_axis.fraction(v)).clamp(0.0, 1.0) * Self::HEIGHT
    }

    /// Grid lines with value labels, time labels under the plot, and the two axes.
    pub fn axes(self) -> impl IntoView + use<> {
        let y_ticks = self
            .chart
            .y_axis
            .ticks
            .iter()
            .map(|t| {
                let ty = self.y(t.value);
                view! {
                    <g class="tick">
                        <line x1=LEFT x2=LEFT + Self::WIDTH y1=ty y2=ty class="grid" />
                        <text x=LEFT - 6.0 y=ty + 4.0 text-anchor="end">{t.label.clone()}</text>
                    </g>
                }
            })
            .collect_view();
        let last_tick = self.chart.x_axis.ticks.len().saturating_sub(1);
        let x_ticks = self
            .chart
            .x_axis
            .ticks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // The last label ends at the plot's edge instead of running off the chart.
                let anchor = if i == last_tick && i > 0 { "end" } else { "middle" };
                view! { <text class="tick" x=self.x(t.value) y=H - BOTTOM + 18.0 text-anchor=anchor>{t.label.clone()}</text> }
            })
            .collect_view();
        view! {
            {y_ticks}
            {x_ticks}
            <line class="axis" x1=LEFT x2=LEFT y1=TOP y2=TOP + Self::HEIGHT />
            <line class="axis" x1=LEFT x2=LEFT + Self::WIDTH y1=TOP + Self::HEIGHT y2=TOP + Self::HEIGHT />
        }
    }

    /// Each line as a polyline with a dot per value; a dot's tooltip gives date, value and whether
    /// the patient entered it.
    pub fn series(self) -> impl IntoView + use<> {
        let unit = &self.chart.unit_label;
        self.chart
            .lines
            .iter()
            .enumerate()
            .map(|(n, line)| {
                let path = line
                    .points
                    .iter()
                    .map(|p| format!("{:.1},{:.1}", self.x(p.x), self.y(p.value)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let dots = line
                    .points
                    .iter()
                    .map(|p| {
                        let label = format!(
                            "{}: {} {}{}",
                            p.at,
                            p.text,
                            unit,
                            if p.patient_reported { " (you added)" } else { "" }
                        );
                        view! {
                            <circle cx=self.x(p.x) cy=self.y(p.value) r="4" class:patient=p.patient_reported>
                                <title>{label}</title>
                            </circle>
                        }
                    })
                    .collect_view();
                view! {
                    <g class=format!("series s{n}")>
                        <polyline points=path fill="none" />
                        {dots}
                    </g>
                }
            })
            .collect_view()
    }

    /// The numbers behind the chart, in a collapsed table (newest first when `newest_first`).
    pub fn table(self, caption: String, newest_first: bool) -> impl IntoView + use<> {
        let mut rows: Vec<_> = self.chart.table.iter().collect();
        if newest_first {
            rows.reverse();
        }
        view! {
            <details>
                <summary>"Show the numbers"</summary>
                <table class="data-table">
                    <caption class="visually-hidden">{caption}</caption>
                    <thead>
                        <tr>{self.chart.table_headers.iter().map(|h| view! { <th scope="col">{h.clone()}</th> }).collect_view()}<th scope="col">"Source"</th></tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr>
                                <th scope="row">{r.at.to_string()}</th>
                                {r.cells.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}
                                <td>{if r.patient_reported { "You added".to_string() } else { r.sources.join(", ") }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        }
    }
}

/// One chart: lines, reference band, axes, an accessible description and the numbers as a table.
#[component]
pub fn ChartView(chart: Chart) -> impl IntoView {
    let plot = Plot { chart: &chart };
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
        let (top_edge, bottom_edge) = (TOP, TOP + Plot::HEIGHT);
        let top = high.map(|v| plot.y(v)).unwrap_or(top_edge);
        let bottom = low.map(|v| plot.y(v)).unwrap_or(bottom_edge);
        view! {
            <rect class="ref-band" x=LEFT y=top width=Plot::WIDTH height=(bottom - top).max(0.0)>
                <title>"Reference range"</title>
            </rect>
        }
    });

    view! {
        <figure class="chart card" id=id.clone()>
            <figcaption id=title_id.clone()>
                <strong>{chart.title.clone()}</strong>
                <span class="muted">{format!(" ({})", chart.unit_label)}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=format!("{title_id} {desc_id}") preserveAspectRatio="xMidYMid meet">
                <desc id=desc_id.clone()>{description}</desc>
                {band}
                {plot.axes()}
                {plot.series()}
            </svg>
            {(chart.lines.len() > 1).then(|| view! {
                <p class="legend">
                    {chart.lines.iter().enumerate().map(|(n, l)| view! {
                        <span class=format!("key s{n}")>{l.name.clone()}</span>
                    }).collect_view()}
                </p>
            })}
            {chart.note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            {plot.table(format!("{} values", chart.title), true)}
        </figure>
    }
}
