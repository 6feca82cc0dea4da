//! Goals: their targets as numbers, and a progress chart of the measurements a goal tracks.
//!
//! A goal (FHIR `Goal`) names what is measured (`target.measure`, LOINC when coded) and the
//! target (`detailQuantity` with an optional comparator, or `detailRange`). Progress is the chart
//! of that measure ([`crate::charts`]) from every source, limited to the time since the goal
//! started, with the target drawn as bounds in the chart's unit. Measurements taken before the
//! goal's start that the patient logged *for* the goal (the `resource-pertainsToGoal` extension,
//! found by the caller) move the start back so they are shown too.
//!
//! * Units are never mixed: the chart prefers the target's unit and converts only within one
//!   dimension ([`crate::ucum`]); a target whose unit cannot be converted to the chart's has no
//!   bounds on it, and [`GoalProgress::note`] says so.
//! * Blood pressure goals (systolic 8480-6 and diastolic 8462-4 targets) use the blood pressure
//!   chart, one target per line.
//! * Goals measured in words (`detailString`) have no chart; the app lists their measurements.

use phr_fhir::types::{systems, Quantity};
use phr_fhir::Resource;

use crate::charts::{self, Chart, ChartOptions};
use crate::codes;
use crate::index::Index;
use crate::results::format_number;
use crate::time::{Day, When};
use crate::ucum;

/// One target of a goal.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalTargetView {
    /// What is measured, as written (`Body weight`).
    pub measure: String,
    /// The LOINC code of the measure, when coded.
    pub loinc: Option<String>,
    /// Lowest value that meets the target, in `unit` (None: no lower bound).
    pub low: Option<f64>,
    /// Highest value that meets the target, in `unit` (None: no upper bound).
    pub high: Option<f64>,
    /// UCUM code (or the unit as written) of `low` and `high`.
    pub unit: Option<String>,
    /// The target in words: `at most 80 kg`, `60 – 80 mmHg`, `30 minutes a day`.
    pub text: String,
    /// `YYYY-MM-DD` or as written.
    pub due: Option<String>,
}

impl GoalTargetView {
    /// Whether the target is a number (so it can be drawn and checked).
    pub fn is_numeric(&self) -> bool {
        self.low.is_some() || self.high.is_some()
    }

    /// Whether `value` (in `unit`) meets the target; None for targets in words.
    pub fn is_met(&self, value: f64, unit: &str) -> Option<bool> {
        if !self.is_numeric() {
            return None;
        }
        let conv = |v: f64| match self.unit.as_deref() {
            Some(u) => ucum::convert(v, u, unit),
            None => Some(v),
        };
        let low = match self.low {
            Some(l) => Some(conv(l)?),
            None => None,
        };
        let high = match self.high {
            Some(h) => Some(conv(h)?),
            None => None,
        };
        // A tolerance for unit conversion noise.
        let eps = 1e-9 * value.abs().max(1.0);
        Some(low.is_none_or(|l| value >= l - eps) && high.is_none_or(|h| value <= h + eps))
    }
}

fn qty_text(q: &Quantity) -> String {
    let value = q.value.as_ref().map(|d| d.as_str()).unwrap_or("");
    let unit = q
        .unit
        .as_deref()
        .map(str::to_string)
        .or_else(|| q.code.as_deref().map(ucum::label))
        .unwrap_or_default();
    format!("{value} {unit}").trim().to_string()
}

fn qty_unit(q: &Quantity) -> Option<String> {
    q.code
        .clone()
        .filter(|_| q.system.as_deref().is_none_or(|s| s == systems::UCUM))
        .or_else(|| q.unit.clone())
}

/// The targets of a Goal, in the order written. Empty for other resources.
pub fn goal_targets(goal: &Resource) -> Vec<GoalTargetView> {
    if goal.resource_type() != "Goal" {
        return Vec::new();
    }
    let Ok(g) = goal.view::<phr_fhir::views::Goal>() else {
        return Vec::new();
    };
    g.target
        .iter()
        .map(|t| {
            let measure = t
                .measure
                .as_ref()
                .and_then(|m| m.display())
                .unwrap_or("")
                .to_string();
            let loinc = t
                .measure
                .as_ref()
                .and_then(|m| m.code_in(codes::LOINC))
                .map(str::to_string);
            let mut view = GoalTargetView {
                measure,
                loinc,
                low: None,
                high: None,
                unit: None,
                text: String::new(),
                due: t.due_date.clone(),
            };
            if let Some(q) = &t.detail_quantity {
                let v = q.value.as_ref().and_then(|d| d.to_f64());
                view.unit = qty_unit(q);
                let text = qty_text(q);
                match q.comparator.as_deref() {
                    Some("<=" | "<") => {
                        view.high = v;
                        view.text = format!("at most {text}");
                    }
                    Some(">=" | ">") => {
                        view.low = v;
                        view.text = format!("at least {text}");
                    }
                    _ => {
                        view.low = v;
                        view.high = v;
                        view.text = text;
                    }
                }
            } else if let Some(r) = &t.detail_range {
                let unit = r.low.as_ref().or(r.high.as_ref()).and_then(qty_unit);
                let value_in = |q: &Quantity| {
                    let v = q.value.as_ref()?.to_f64()?;
                    match (qty_unit(q), unit.as_deref()) {
                        (Some(from), Some(to)) => ucum::convert(v, &from, to),
                        _ => Some(v),
                    }
                };
                view.low = r.low.as_ref().and_then(value_in);
                view.high = r.high.as_ref().and_then(value_in);
                view.unit = unit;
                view.text = match (&r.low, &r.high) {
                    (Some(l), Some(h)) => format!(
                        "{} – {}",
                        l.value.as_ref().map(|d| d.as_str()).unwrap_or(""),
                        qty_text(h)
                    ),
                    (Some(l), None) => format!("at least {}", qty_text(l)),
                    (None, Some(h)) => format!("at most {}", qty_text(h)),
                    (None, None) => String::new(),
                };
            } else if let Some(s) = t.detail_string.as_deref() {
                view.text = s.to_string();
            } else if let Some(c) = t.detail_codeable_concept.as_ref().and_then(|c| c.display()) {
                view.text = c.to_string();
            }
            view
        })
        .collect()
}

/// The latest value of a line and how it compares with its target.
#[derive(Clone, Debug, PartialEq)]
pub struct LatestValue {
    /// The line's name (`Systolic`), empty for a single-line chart.
    pub line: String,
    pub at: When,
    /// The value with the chart's unit, as shown on the chart.
    pub text: String,
    /// Whether it meets the target (None when the target can't be compared).
    pub met: Option<bool>,
}

/// A goal's progress.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalProgress {
    pub targets: Vec<GoalTargetView>,
    /// The measure's chart since the goal started, or None when the goal is in words or nothing
    /// was measured yet.
    pub chart: Option<Chart>,
    /// One `(low, high)` per chart line, in the chart's unit (None when that line has no
    /// comparable target).
    pub target_bounds: Vec<Option<(Option<f64>, Option<f64>)>>,
    /// The latest value of each line.
    pub latest: Vec<LatestValue>,
    /// The first day shown.
    pub since: Option<Day>,
    /// Why a target is not drawn, when it is not.
    pub note: Option<String>,
}

/// What to show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GoalProgressOptions {
    /// Dates of the measurements the patient logged for this goal (moves the start back).
    pub linked_dates: Vec<When>,
    pub include_hidden: bool,
}

fn loinc_key(code: &str) -> String {
    format!("{}|{code}", codes::LOINC)
}

/// The progress of a goal: the chart of its measure since it started, with its target.
pub fn goal_progress(index: &Index, goal: &Resource, opts: &GoalProgressOptions) -> GoalProgress {
    let targets = goal_targets(goal);
    let g = goal.view::<phr_fhir::views::Goal>().unwrap_or_default();
    let start = g
        .start_date
        .as_deref()
        .or(g.status_date.as_deref())
        .and_then(When::parse);
    let since = opts
        .linked_dates
        .iter()
        .map(|w| w.day())
        .chain(start.map(|s| s.day()))
        .min();
    let due = targets
        .iter()
        .find_map(|t| t.due.as_deref())
        .and_then(When::parse);
    let mut out = GoalProgress {
        targets: targets.clone(),
        chart: None,
        target_bounds: Vec::new(),
        latest: Vec::new(),
        since,
        note: None,
    };
    let numeric: Vec<&GoalTargetView> = targets.iter().filter(|t| t.loinc.is_some()).collect();
    let Some(first) = numeric.first() else {
        return out;
    };
    let is_bp = numeric.iter().any(|t| {
        matches!(
            t.loinc.as_deref(),
            Some(codes::SYSTOLIC | codes::DIASTOLIC | "85354-9" | "55284-4")
        )
    });
    let chart_opts = ChartOptions {
        preferred_units: first.unit.iter().cloned().collect(),
        include_hidden: opts.include_hidden,
    };
    let all = charts::charts(index, &chart_opts);
    let wanted = |c: &&Chart| {
        let test = c.id.split('#').next().unwrap_or("");
        if is_bp {
            test == "bp"
        } else {
            first
                .loinc
                .as_deref()
                .is_some_and(|code| test == loinc_key(code))
        }
    };
    let mut candidates: Vec<&Chart> = all.iter().filter(wanted).collect();
    // Of several charts (units that can't be mixed), the one the target's unit converts to.
    candidates.sort_by_key(|c| {
        !first
            .unit
            .as_deref()
            .is_some_and(|u| ucum::convertible(u, &c.unit))
    });
    let Some(chart) = candidates.first() else {
        return out;
    };
    let mut chart = (*chart).clone();
    if let Some(since) = since {
        for line in &mut chart.lines {
            line.points.retain(|p| p.at.day() >= since);
        }
        chart.table.retain(|r| r.at.day() >= since);
    }
    chart.lines.retain(|l| !l.points.is_empty());
    if chart.lines.is_empty() {
        return out;
    }
    // The target of each line, in the chart's unit.
    let line_target = |name: &str| -> Option<&GoalTargetView> {
        if is_bp {
            let code = if name == "Diastolic" {
                codes::DIASTOLIC
            } else {
                codes::SYSTOLIC
            };
            numeric
                .iter()
                .copied()
                .find(|t| t.loinc.as_deref() == Some(code))
        } else {
            Some(*first)
        }
    };
    let mut unconvertible = false;
    out.target_bounds = chart
        .lines
        .iter()
        .map(|l| {
            let t = line_target(&l.name)?;
            if !t.is_numeric() {
                return None;
            }
            let conv = |v: Option<f64>| -> Result<Option<f64>, ()> {
                match (v, t.unit.as_deref()) {
                    (None, _) => Ok(None),
                    (Some(v), None) => Ok(Some(v)),
                    (Some(v), Some(u)) => ucum::convert(v, u, &chart.unit).map(Some).ok_or(()),
                }
            };
            match (conv(t.low), conv(t.high)) {
                (Ok(lo), Ok(hi)) => Some((lo, hi)),
                _ => {
                    unconvertible = true;
                    None
                }
            }
        })
        .collect();
    if unconvertible {
        out.note = Some(format!(
            "The target cannot be drawn on this chart: its unit cannot be converted to {}.",
            chart.unit_label
        ));
    }
    out.latest = chart
        .lines
        .iter()
        .zip(&out.target_bounds)
        .filter_map(|(l, bounds)| {
            let p = l.points.last()?;
            let met = bounds.map(|(lo, hi)| {
                let eps = 1e-9 * p.value.abs().max(1.0);
                lo.is_none_or(|lo| p.value >= lo - eps) && hi.is_none_or(|hi| p.value <= hi + eps)
            });
            Some(LatestValue {
                line: l.name.clone(),
                at: p.at,
                text: format!("{} {}", p.text, chart.unit_label)
                    .trim()
                    .to_string(),
                met,
            })
        })
        .collect();
    // Axes that show the target and, when it is near, the due date.
    let values: Vec<f64> = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.value))
        .chain(
            out.target_bounds
                .iter()
                .flatten()
                .flat_map(|(a, b)| a.iter().chain(b.iter()).copied()),
        )
        .collect();
    let mut xs: Vec<f64> = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.x))
        .collect();
    if let Some(since) = since {
        xs.push(since.utc_midnight().0 as f64);
    }
    if let (Some(due), Some(last)) = (due, xs.iter().copied().reduce(f64::max)) {
        let due_x = due.timestamp().0 as f64;
        if due_x > last && due_x - last <= 366.0 * 86_400.0 {
            xs.push(due_x);
        }
    }
    chart.x_axis = charts::time_axis(&xs);
    chart.y_axis = charts::value_axis(&values);
    chart.reference_range = None;
    out.chart = Some(chart);
    out
}

/// A target's bounds as words, in the chart's unit: `at most 176.4 lb`.
pub fn bounds_text((low, high): (Option<f64>, Option<f64>), unit_label: &str) -> String {
    let n = |v: f64| format_number(v, 1);
    let text = match (low, high) {
        (Some(l), Some(h)) if (l - h).abs() < 1e-12 => n(l),
        (Some(l), Some(h)) => format!("{} – {}", n(l), n(h)),
        (Some(l), None) => format!("at least {}", n(l)),
        (None, Some(h)) => format!("at most {}", n(h)),
        (None, None) => String::new(),
    };
    format!("{text} {unit_label}").trim().to_string()
}
