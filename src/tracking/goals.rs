//! Goals: add one (weight, blood pressure, steps, A1c, or in words) with a target and a due date,
//! log measurements for it, and see its progress chart with the target.

use leptos::prelude::*;
use phr_record::patient::{self, Amount, GoalInput, GoalStatus, GoalTarget, TargetValue, Unit};
use phr_views::charts::Chart;
use phr_views::goals::{bounds_text, GoalProgress};

use super::data::{Goal, Tracking};
use super::forms::{optional, required_number, Field, Select};
use super::measure::{record_measurement, MeasureFields, MeasureInputs};
use super::zone::today_text;
use super::{authoring_edit, authoring_new, focus_later, put_and_save};
use crate::components::{ConfirmDelete, ErrorBox};
use crate::pages::charts::{Plot, H, LEFT, TOP, W};
use crate::state::{AppCtx, NoticeKind};
use crate::views::row::RowView;

const GOAL_KINDS: &[(&str, &str)] = &[
    ("weight", "Weight"),
    ("bp", "Blood pressure"),
    ("steps", "Steps per day"),
    ("a1c", "Hemoglobin A1c"),
    ("text", "Something else (in words)"),
];

const COMPARATORS: &[(&str, &str)] = &[
    ("at-most", "At most"),
    ("at-least", "At least"),
    ("exactly", "Exactly"),
    ("between", "Between"),
];

/// The measurement kind (see `measure::KINDS`) that tracks a goal.
fn measure_kind(target: &GoalTarget) -> &'static str {
    match target {
        GoalTarget::Weight(_) => "weight",
        GoalTarget::BloodPressure { .. } => "bp",
        GoalTarget::Steps(_) => "steps",
        GoalTarget::HemoglobinA1c(_) => "a1c",
        GoalTarget::Text { .. } => "other",
    }
}

/// The progress chart: the measurements, the target as a line or band, the due date.
#[component]
fn GoalChart(
    goal_id: String,
    chart: Chart,
    progress: GoalProgress,
    due: Option<String>,
) -> impl IntoView {
    let plot = Plot { chart: &chart };
    let (plot_w, plot_h) = (Plot::WIDTH, Plot::HEIGHT);
    let (x, y) = (|v: f64| plot.x(v), |v: f64| plot.y(v));
    let id = format!("goal-chart-{goal_id}");
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let unit = chart.unit_label.clone();
    let target_words: Vec<String> = chart
        .lines
        .iter()
        .zip(&progress.target_bounds)
        .filter_map(|(l, b)| {
            let text = bounds_text((*b)?, &unit);
            Some(if l.name.is_empty() {
                text
            } else {
                format!("{} {text}", l.name.to_lowercase())
            })
        })
        .collect();
    let points: usize = chart.lines.iter().map(|l| l.points.len()).sum();
    let latest: Vec<String> = progress
        .latest
        .iter()
        .map(|l| {
            let met = match l.met {
                Some(true) => " (meets the target)",
                Some(false) => " (not at the target yet)",
                None => "",
            };
            if l.line.is_empty() {
                format!("{} on {}{met}", l.text, l.at)
            } else {
                format!("{} {} on {}{met}", l.line, l.text, l.at)
            }
        })
        .collect();
    let description = format!(
        "{points} value{} since {}. Latest: {}. Target: {}.",
        if points == 1 { "" } else { "s" },
        progress.since.map(|d| d.to_string()).unwrap_or_default(),
        latest.join(", "),
        if target_words.is_empty() {
            "not drawn".to_string()
        } else {
            target_words.join(", ")
        }
    );
    let targets = chart
        .lines
        .iter()
        .enumerate()
        .zip(&progress.target_bounds)
        .filter_map(|((n, line), b)| {
            let (lo, hi) = (*b)?;
            let class = format!("target s{n}");
            let label = format!(
                "Target{}: {}",
                if line.name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", line.name.to_lowercase())
                },
                bounds_text((lo, hi), &unit)
            );
            Some(match (lo, hi) {
                (Some(l), Some(h)) if (h - l).abs() > 1e-12 => {
                    let (top, bottom) = (y(h), y(l));
                    view! {
                        <g class=class>
                            <rect class="target-band" x=LEFT y=top width=plot_w height=(bottom - top).max(1.0)><title>{label}</title></rect>
                        </g>
                    }
                    .into_any()
                }
                (Some(v), _) | (None, Some(v)) => {
                    let ty = y(v);
                    view! {
                        <g class=class>
                            <line class="target-line" x1=LEFT x2=LEFT + plot_w y1=ty y2=ty><title>{label.clone()}</title></line>
                            <text class="target-label" x=LEFT + plot_w - 4.0 y=ty - 5.0 text-anchor="end">{format!("Target {}", crate::tracking::goals::short_bound(lo, hi))}</text>
                        </g>
                    }
                    .into_any()
                }
                (None, None) => ().into_any(),
            })
        })
        .collect_view();
    let due_marker = due
        .as_deref()
        .and_then(phr_views::When::parse)
        .map(|w| w.timestamp().0 as f64)
        .filter(|v| *v >= chart.x_axis.min && *v <= chart.x_axis.max)
        .map(|v| {
            let dx = x(v);
            view! {
                <g class="due">
                    <line class="due-line" x1=dx x2=dx y1=TOP y2=TOP + plot_h />
                    <text x=dx - 4.0 y=TOP + 12.0 text-anchor="end">"Due"</text>
                </g>
            }
        });
    view! {
        <figure class="chart goal-chart" id=id.clone()>
            <figcaption id=title_id.clone()>
                <strong>{format!("Progress: {}", chart.title)}</strong>
                <span class="muted">{format!(" ({unit})")}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=format!("{title_id} {desc_id}") preserveAspectRatio="xMidYMid meet">
                <desc id=desc_id.clone()>{description}</desc>
                {targets}
                {plot.axes()}
                {due_marker}
                {plot.series()}
            </svg>
            {(chart.lines.len() > 1).then(|| view! {
                <p class="legend">
                    {chart.lines.iter().enumerate().map(|(n, l)| view! { <span class=format!("key s{n}")>{l.name.clone()}</span> }).collect_view()}
                    <span class="key target-key">"Target"</span>
                </p>
            })}
            {progress.note.clone().map(|n| view! { <p class="muted">{n}</p> })}
            {plot.table(format!("{} values since the goal started", chart.title), false)}
        </figure>
    }
}

/// `≤ 190`, `≥ 8000`, `60–80`.
pub fn short_bound(lo: Option<f64>, hi: Option<f64>) -> String {
    let n = |v: f64| phr_views::results::format_number(v, 1);
    match (lo, hi) {
        (Some(l), Some(h)) if (l - h).abs() < 1e-12 => n(l),
        (Some(l), Some(h)) => format!("{}–{}", n(l), n(h)),
        (Some(l), None) => format!("≥ {}", n(l)),
        (None, Some(h)) => format!("≤ {}", n(h)),
        (None, None) => String::new(),
    }
}

fn set_status(app: AppCtx, goal: &Goal, status: GoalStatus, done: String) {
    let Some(session) = app.session() else { return };
    let auth = authoring_edit(&session, &goal.id);
    let input = GoalInput {
        status,
        ..goal.input.clone()
    };
    put_and_save(app, patient::goal(&auth, &input), done);
}

/// One goal: target, latest value, chart, a form to log a measurement, and actions.
#[component]
fn GoalCard(goal: Goal) -> impl IntoView {
    let app = AppCtx::expect();
    let open = goal.is_open();
    let fields = MeasureFields::new(measure_kind(&goal.input.target));
    if let GoalTarget::Weight(t) = &goal.input.target {
        let unit = match t {
            TargetValue::AtMost(a) | TargetValue::AtLeast(a) | TargetValue::Exactly(a) => a.unit,
            TargetValue::Between(a, _) => a.unit,
        };
        fields
            .unit
            .set(if unit == Unit::Pound { "lb" } else { "kg" }.into());
    }
    let fixed_what = match &goal.input.target {
        GoalTarget::Text { measure, .. } => Some(measure.clone()),
        _ => None,
    };
    let error = RwSignal::new(None::<String>);
    let confirm_delete = RwSignal::new(false);
    let prefix = format!("goal-{}-log", goal.id);
    let reference = goal.reference.clone();
    let value_id = format!("{prefix}-value");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if record_measurement(app, &fields, Some(reference.clone()), error) {
            focus_later(value_id.clone());
        }
    };
    let title_id = format!("goal-{}-title", goal.id);
    let targets: Vec<String> = goal
        .progress
        .targets
        .iter()
        .map(|t| {
            if t.measure.is_empty() {
                t.text.clone()
            } else {
                format!("{}: {}", t.measure, t.text)
            }
        })
        .collect();
    let status = match goal.input.status {
        GoalStatus::Active => None,
        GoalStatus::Proposed => Some("planned"),
        GoalStatus::OnHold => Some("on hold"),
        GoalStatus::Completed => Some("achieved"),
        GoalStatus::Cancelled => Some("stopped"),
    };
    let latest = goal.progress.latest.clone();
    let numeric = !matches!(goal.input.target, GoalTarget::Text { .. });
    let (g1, g2, g3) = (goal.clone(), goal.clone(), goal.clone());
    let name = goal.input.description.clone();
    let delete = move |_| {
        let Some(session) = app.session() else { return };
        let result = session.record_mut().delete_patient_item(&g3.key);
        match result {
            Ok(_) => super::save(
                app,
                format!(
                    "The goal \u{201c}{}\u{201d} was deleted. Its measurements are kept.",
                    g3.input.description
                ),
            ),
            Err(e) => app.say(NoticeKind::Error, format!("Not deleted: {e}")),
        }
    };
    view! {
        <li class="card goal" id=format!("goal-{}", goal.id) aria-labelledby=title_id.clone()>
            <div class="med-head">
                <h3 id=title_id.clone()>{goal.input.description.clone()}</h3>
                <span class="badges">
                    <span class="badge patient" title="Entered by you: not verified by a clinician">"You added"</span>
                    {status.map(|s| view! { <span class="status-tag">{s}</span> })}
                </span>
            </div>
            <p class="goal-target">
                {format!("Target: {}", targets.join("; "))}
                {goal.input.due_date.clone().map(|d| format!(" by {d}"))}
            </p>
            {(!latest.is_empty()).then(|| view! {
                <p class="goal-latest">
                    {latest.iter().map(|l| {
                        let (class, word) = match l.met {
                            Some(true) => ("met yes", " · meets the target"),
                            Some(false) => ("met no", " · not at the target yet"),
                            None => ("met", ""),
                        };
                        view! {
                            <span class=class>
                                {format!("Latest{}: {} on {}{word}", if l.line.is_empty() { String::new() } else { format!(" {}", l.line.to_lowercase()) }, l.text, l.at)}
                            </span>
                        }
                    }).collect_view()}
                </p>
            })}
            {match goal.progress.chart.clone() {
                Some(chart) => view! {
                    <GoalChart goal_id=goal.id.clone() chart=chart progress=goal.progress.clone() due=goal.input.due_date.clone() />
                }.into_any(),
                None if numeric => view! { <p class="empty">"No measurements since the goal started. Log one below."</p> }.into_any(),
                None => view! {
                    {if goal.measurements.is_empty() {
                        view! { <p class="empty">"Nothing logged yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="rows goal-log">
                                {goal.measurements.iter().map(|r| view! { <RowView row=r.clone() /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                }.into_any(),
            }}
            {open.then(|| view! {
                <form class="stack goal-log-form" on:submit=submit aria-label=format!("Log a measurement for {name}")>
                    <h4>"Log a measurement"</h4>
                    <MeasureInputs prefix=prefix.clone() fields=fields fixed_what=fixed_what.clone() />
                    {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
                    <div class="actions"><button type="submit" id=format!("{prefix}-save")>"Save measurement"</button></div>
                </form>
            })}
            <div class="actions">
                {if open {
                    view! {
                        <button type="button" class="secondary" id=format!("goal-{}-achieved", goal.id)
                            on:click=move |_| set_status(app, &g1, GoalStatus::Completed, format!("Well done: \u{201c}{}\u{201d} is marked achieved.", g1.input.description))>
                            "Mark achieved"<span class="visually-hidden">{format!(": {}", goal.input.description)}</span>
                        </button>
                        <button type="button" class="secondary"
                            on:click=move |_| set_status(app, &g2, GoalStatus::Cancelled, format!("\u{201c}{}\u{201d} is stopped.", g2.input.description))>
                            "Stop this goal"<span class="visually-hidden">{format!(": {}", goal.input.description)}</span>
                        </button>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="secondary"
                            on:click=move |_| set_status(app, &g1, GoalStatus::Active, format!("\u{201c}{}\u{201d} is active again.", g1.input.description))>
                            "Work on it again"<span class="visually-hidden">{format!(": {}", goal.input.description)}</span>
                        </button>
                    }.into_any()
                }}
                <button type="button" class="link-button" aria-expanded=move || confirm_delete.get().to_string()
                    on:click=move |_| confirm_delete.update(|c| *c = !*c)>
                    "Delete"<span class="visually-hidden">{format!(" the goal {}", goal.input.description)}</span>
                </button>
            </div>
            <ConfirmDelete open=confirm_delete on_delete=delete
                message="Delete this goal? The measurements you logged stay in your record." />
        </li>
    }
}

/// The patient's goals and the form to add one.
#[component]
pub fn Goals(data: Memo<Option<Tracking>>) -> impl IntoView {
    let adding = RwSignal::new(false);
    let open = Memo::new(move |_| {
        data.with(|t| {
            t.as_ref()
                .map(|t| {
                    t.goals
                        .iter()
                        .filter(|g| g.is_open())
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let past = Memo::new(move |_| {
        data.with(|t| {
            t.as_ref()
                .map(|t| {
                    t.goals
                        .iter()
                        .filter(|g| !g.is_open())
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    view! {
        <section class="card tracking-section" id="my-goals" aria-labelledby="my-goals-title">
            <h2 id="my-goals-title" tabindex="-1">"My goals"</h2>
            <Show when=move || open.with(Vec::is_empty)>
                <p class="empty">"No goals in progress."</p>
            </Show>
            <ul class="goal-list">
                <For each=move || open.get() key=|g| format!("{g:?}") children=|g| view! { <GoalCard goal=g /> } />
            </ul>
            <Show when=move || !past.with(Vec::is_empty)>
                <details class="past-goals">
                    <summary>{move || format!("Past goals ({})", past.with(Vec::len))}</summary>
                    <ul class="goal-list">
                        <For each=move || past.get() key=|g| format!("{g:?}") children=|g| view! { <GoalCard goal=g /> } />
                    </ul>
                </details>
            </Show>
            <Show when=move || adding.get() fallback=move || view! {
                <div class="actions"><button type="button" id="add-goal" on:click=move |_| {
                    adding.set(true);
                    focus_later("goal-kind".into());
                }>"Set a goal"</button></div>
            }>
                <GoalForm adding=adding />
            </Show>
        </section>
    }
}

/// A new goal.
#[component]
fn GoalForm(adding: RwSignal<bool>) -> impl IntoView {
    let app = AppCtx::expect();
    let kind = RwSignal::new("weight".to_string());
    let comparator = RwSignal::new("at-most".to_string());
    let value = RwSignal::new(String::new());
    let value2 = RwSignal::new(String::new());
    let unit = RwSignal::new("kg".to_string());
    let systolic = RwSignal::new(String::new());
    let diastolic = RwSignal::new(String::new());
    let measure = RwSignal::new(String::new());
    let target_text = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let start = RwSignal::new(today_text());
    let error = RwSignal::new(None::<String>);

    let build = move || -> Result<GoalInput, String> {
        let amount = |v: &str, what: &str, u: Unit| -> Result<Amount, String> {
            Ok(Amount::new(&required_number(v, what)?, u))
        };
        let tv = |u: Unit, what: &str| -> Result<TargetValue, String> {
            let v = value.get_untracked();
            Ok(match comparator.get_untracked().as_str() {
                "at-least" => TargetValue::AtLeast(amount(&v, what, u)?),
                "exactly" => TargetValue::Exactly(amount(&v, what, u)?),
                "between" => TargetValue::Between(
                    amount(&v, what, u)?,
                    amount(&value2.get_untracked(), "The upper end of the target", u)?,
                ),
                _ => TargetValue::AtMost(amount(&v, what, u)?),
            })
        };
        let k = kind.get_untracked();
        let target = match k.as_str() {
            "weight" => GoalTarget::Weight(tv(
                if unit.get_untracked() == "lb" {
                    Unit::Pound
                } else {
                    Unit::Kilogram
                },
                "The target weight",
            )?),
            "bp" => GoalTarget::BloodPressure {
                systolic: TargetValue::AtMost(amount(
                    &systolic.get_untracked(),
                    "The systolic target (upper number)",
                    Unit::MillimeterOfMercury,
                )?),
                diastolic: TargetValue::AtMost(amount(
                    &diastolic.get_untracked(),
                    "The diastolic target (lower number)",
                    Unit::MillimeterOfMercury,
                )?),
            },
            "steps" => GoalTarget::Steps(tv(Unit::StepsPerDay, "The number of steps")?),
            "a1c" => GoalTarget::HemoglobinA1c(tv(Unit::Percent, "The A1c target")?),
            _ => GoalTarget::Text {
                measure: optional(&measure.get_untracked())
                    .ok_or("Say what the goal is about, for example: Walking.")?,
                target: optional(&target_text.get_untracked())
                    .ok_or("Say what you aim for, for example: 30 minutes a day.")?,
            },
        };
        let due = optional(&due.get_untracked());
        if let Some(d) = &due {
            if !phr_record::time::is_full_date(d) {
                return Err("The due date must be a date, like 2024-12-31.".into());
            }
        }
        let start = optional(&start.get_untracked());
        let description =
            optional(&description.get_untracked()).unwrap_or_else(|| default_description(&target));
        Ok(GoalInput {
            description,
            target,
            due_date: due,
            start_date: start,
            status: GoalStatus::Active,
            note: None,
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(session) = app.session() else { return };
        let input = match build() {
            Ok(i) => i,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let auth = authoring_new(&session);
        let done = format!("Your goal \u{201c}{}\u{201d} was added.", input.description);
        if put_and_save(app, patient::goal(&auth, &input), done) {
            adding.set(false);
            focus_later("my-goals-title".into());
        }
    };
    let numeric_inputs = move || {
        match kind.get().as_str() {
        "bp" => view! {
            <div class="field-row">
                <Field id="goal-systolic".into() label="Systolic at most (upper number, mmHg)" value=systolic inputmode="numeric" required=true />
                <Field id="goal-diastolic".into() label="Diastolic at most (lower number, mmHg)" value=diastolic inputmode="numeric" required=true />
            </div>
        }
        .into_any(),
        "text" => view! {
            <Field id="goal-measure".into() label="What it is about" value=measure hint="For example: Walking" required=true />
            <Field id="goal-target".into() label="What I aim for" value=target_text hint="For example: 30 minutes a day" required=true />
        }
        .into_any(),
        k => {
            let label = match k {
                "weight" => "Target weight",
                "steps" => "Steps per day",
                _ => "A1c (%)",
            };
            view! {
                <div class="field-row">
                    <Select id="goal-comparator".into() label="Target" value=comparator options=COMPARATORS.to_vec() />
                    <Field id="goal-value".into() label=label value=value inputmode="decimal" required=true />
                    <Show when=move || comparator.get() == "between">
                        <Field id="goal-value2".into() label="and" value=value2 inputmode="decimal" required=true />
                    </Show>
                    {(k == "weight").then(|| view! {
                        <Select id="goal-unit".into() label="Unit" value=unit options=vec![("kg", "kg"), ("lb", "lb")] />
                    })}
                </div>
            }
            .into_any()
        }
    }
    };
    view! {
        <form class="stack goal-form" id="goal-form" on:submit=submit aria-labelledby="goal-form-title">
            <h3 id="goal-form-title">"Set a goal"</h3>
            <Select id="goal-kind".into() label="What the goal is about" value=kind options=GOAL_KINDS.to_vec() />
            {numeric_inputs}
            <Field id="goal-description".into() label="In my words (optional)" value=description hint="For example: Get back to my usual weight" />
            <div class="field-row">
                <Field id="goal-start".into() label="Starting" value=start kind="date" />
                <Field id="goal-due".into() label="By (optional)" value=due kind="date" />
            </div>
            {move || error.get().map(|e| view! { <ErrorBox text=e /> })}
            <div class="actions">
                <button type="submit" id="goal-save">"Add goal"</button>
                <button type="button" class="secondary" on:click=move |_| {
                    adding.set(false);
                    focus_later("add-goal".into());
                }>"Cancel"</button>
            </div>
        </form>
    }
}

fn target_words(t: &TargetValue) -> String {
    let a = |a: &Amount| format!("{} {}", a.value.trim(), a.unit.display());
    match t {
        TargetValue::AtMost(x) => format!("at most {}", a(x)),
        TargetValue::AtLeast(x) => format!("at least {}", a(x)),
        TargetValue::Exactly(x) => a(x),
        TargetValue::Between(l, h) => format!("between {} and {}", l.value.trim(), a(h)),
    }
}

/// `Weight at most 80 kg` when the patient gave no words of their own.
fn default_description(t: &GoalTarget) -> String {
    match t {
        GoalTarget::Weight(v) => format!("Weight {}", target_words(v)),
        GoalTarget::BloodPressure {
            systolic,
            diastolic,
        } => {
            let n = |v: &TargetValue| match v {
                TargetValue::AtMost(a)
                | TargetValue::AtLeast(a)
                | TargetValue::Exactly(a)
                | TargetValue::Between(_, a) => a.value.trim().to_string(),
            };
            format!(
                "Blood pressure at most {}/{} mmHg",
                n(systolic),
                n(diastolic)
            )
        }
        GoalTarget::Steps(v) => format!("Steps per day {}", target_words(v)),
        GoalTarget::HemoglobinA1c(v) => format!("A1c {}", target_words(v)),
        GoalTarget::Text { measure, target } => format!("{measure}: {target}"),
    }
}
