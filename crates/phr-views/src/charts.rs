//! Chart series that need no setup: one chart per test (and unit dimension), blood pressure,
//! weight, BMI, heart rate, glucose; each with its data table and axes for an accessible SVG.
//!
//! # Key design decision: never mix units
//!
//! The values of one test are drawn on one axis only after converting them to one unit, and only
//! when [`crate::ucum`] says the conversion is a pure scale or affine map within one dimension
//! (kg/lb, °C/°F, mmol/L/µmol/L, mg/dL/g/L…). Values whose unit cannot be converted
//! (mg/dL vs mmol/L needs a molar mass; unknown units) get a separate chart, with a note on both
//! saying why. Every point keeps the value as recorded, so the data table can show "154.3 lb
//! (recorded as 70 kg)".

use std::collections::HashMap;

use crate::codes;
use crate::index::{Category, GroupId, Index, ItemId, Qty};
use crate::results::{bp_components, format_number, range_flag, test_key, RangeFlag, VitalKind};
use crate::time::{days_in_month, Day, Timestamp, When};
use crate::ucum;

/// What a chart shows, for ordering and icons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChartTopic {
    BloodPressure,
    Weight,
    Bmi,
    HeartRate,
    Glucose,
    OtherVital,
    Lab,
    /// Other numeric observations (steps, scores…).
    Other,
}

/// One value on a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    pub at: When,
    /// Horizontal position: seconds since the Unix epoch.
    pub x: f64,
    /// The value in the chart's unit.
    pub value: f64,
    /// The value in the chart's unit, formatted (digits as recorded when not converted).
    pub text: String,
    /// The value as recorded, with its unit (`70 kg`).
    pub recorded: String,
    /// Whether `value` was converted from another unit.
    pub converted: bool,
    /// The entry key of the copy shown (open the item from the chart).
    pub key: String,
    /// Source labels of the fact.
    pub sources: Vec<String>,
    pub patient_reported: bool,
    pub flag: RangeFlag,
}

/// A line of a chart (BP has two).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub name: String,
    /// Oldest first.
    pub points: Vec<ChartPoint>,
}

/// An axis tick.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub label: String,
}

/// Axis bounds and ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub ticks: Vec<Tick>,
}

impl Axis {
    /// Where `v` falls along the axis, 0.0 at `min` to 1.0 at `max` (multiply by the plot's
    /// width or height; flip for a y axis drawn downwards).
    pub fn fraction(&self, v: f64) -> f64 {
        let span = self.max - self.min;
        if span <= 0.0 || !span.is_finite() {
            0.5
        } else {
            (v - self.min) / span
        }
    }
}

/// The accessible alternative to a chart: one row per date, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    pub at: When,
    /// One cell per line (empty when that line has no value at this time).
    pub cells: Vec<String>,
    pub sources: Vec<String>,
    pub patient_reported: bool,
}

/// A chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// Stable id (test key + dimension) for routing.
    pub id: String,
    pub topic: ChartTopic,
    pub title: String,
    /// The unit of every value on the chart (UCUM code, or as written when unknown).
    pub unit: String,
    /// The unit as shown (`lb`, `°C`, `mmHg`).
    pub unit_label: String,
    pub lines: Vec<Line>,
    /// The reference range of the newest value, in the chart's unit.
    pub reference_range: Option<(Option<f64>, Option<f64>)>,
    pub x_axis: Axis,
    pub y_axis: Axis,
    /// Column headers for `table` (date first, then one per line).
    pub table_headers: Vec<String>,
    pub table: Vec<TableRow>,
    /// Why some values of the same test are on another chart.
    pub note: Option<String>,
}

/// Chart preferences.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartOptions {
    /// Units to use when convertible (e.g. `[lb_av]`, `[degF]`), in order of preference.
    pub preferred_units: Vec<String>,
    pub include_hidden: bool,
}

#[derive(Clone, Debug)]
struct RawPoint {
    group: GroupId,
    id: ItemId,
    at: When,
    values: Vec<Option<Qty>>,
}

fn decimals_of(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

/// All charts: BP, weight, BMI, heart rate, glucose, other vitals, then labs and other numeric
/// observations alphabetically.
pub fn charts(index: &Index, opts: &ChartOptions) -> Vec<Chart> {
    let mut by_test: HashMap<String, Vec<RawPoint>> = HashMap::new();
    let mut bp: Vec<RawPoint> = Vec::new();
    let mut systolic: Vec<(GroupId, ItemId)> = Vec::new();
    let mut diastolic: HashMap<(i64, u16), ItemId> = HashMap::new();
    for (g, rep) in index.shown_groups(opts.include_hidden, |it| {
        it.resource_type() == "Observation" && it.date().is_some()
    }) {
        let it = index.item(rep);
        let Some(at) = it.date() else { continue };
        if VitalKind::of(index, rep) == Some(VitalKind::BloodPressure) {
            if let Some((s, d)) = bp_components(index, rep) {
                bp.push(RawPoint {
                    group: g,
                    id: rep,
                    at,
                    values: vec![Some(s), Some(d)],
                });
            }
            continue;
        }
        let loinc = it.code_in(codes::LOINC);
        if loinc == Some(codes::DIASTOLIC) {
            diastolic.insert((at.timestamp().0, it.source_id().0), rep);
            continue;
        }
        if loinc == Some(codes::SYSTOLIC) {
            systolic.push((g, rep));
            continue;
        }
        if let Some(q) = index.obs(rep).and_then(|o| o.value) {
            by_test
                .entry(test_key(index, rep))
                .or_default()
                .push(RawPoint {
                    group: g,
                    id: rep,
                    at,
                    values: vec![Some(q)],
                });
        }
    }
    for (g, s) in systolic {
        let it = index.item(s);
        let Some(at) = it.date() else { continue };
        let sq = index.obs(s).and_then(|o| o.value);
        let dq = diastolic
            .get(&(at.timestamp().0, it.source_id().0))
            .and_then(|&d| index.obs(d).and_then(|o| o.value));
        if sq.is_some() {
            bp.push(RawPoint {
                group: g,
                id: s,
                at,
                values: vec![sq, dq],
            });
        }
    }

    let mut out = Vec::new();
    if !bp.is_empty() {
        out.extend(build_charts(
            index,
            opts,
            "bp",
            "Blood pressure",
            ChartTopic::BloodPressure,
            &["Systolic", "Diastolic"],
            bp,
        ));
    }
    for (key, points) in by_test {
        let newest = points
            .iter()
            .max_by_key(|p| (p.at.sort_key(), std::cmp::Reverse(p.id)))
            .map(|p| p.id)
            .unwrap_or(ItemId(0));
        let it = index.item(newest);
        let loinc = it.code_in(codes::LOINC);
        let topic = match VitalKind::of(index, newest) {
            Some(VitalKind::Weight) => ChartTopic::Weight,
            Some(VitalKind::Bmi) => ChartTopic::Bmi,
            Some(VitalKind::HeartRate) => ChartTopic::HeartRate,
            Some(_) => ChartTopic::OtherVital,
            None if loinc.is_some_and(|c| codes::GLUCOSE.contains(&c)) => ChartTopic::Glucose,
            None if points
                .iter()
                .any(|p| index.item(p.id).category() == Category::LabResult) =>
            {
                ChartTopic::Lab
            }
            None if it.category() == Category::VitalSign => ChartTopic::OtherVital,
            None => ChartTopic::Other,
        };
        // Title: the newest clinician-sourced copy's name when there is one.
        let titled = points
            .iter()
            .filter(|p| !index.item(p.id).patient_reported())
            .max_by_key(|p| (p.at.sort_key(), std::cmp::Reverse(p.id)))
            .map_or(newest, |p| p.id);
        let title = index.item(titled).title().to_string();
        out.extend(build_charts(
            index,
            opts,
            &key,
            &title,
            topic,
            &[""],
            points,
        ));
    }
    out.sort_by(|a, b| {
        (a.topic, a.title.to_lowercase(), &a.id).cmp(&(b.topic, b.title.to_lowercase(), &b.id))
    });
    out
}

/// The charts of one test (by [`crate::results::test_key`]); several when units can't be mixed.
pub fn charts_for_test(index: &Index, test: &str, opts: &ChartOptions) -> Vec<Chart> {
    charts(index, opts)
        .into_iter()
        .filter(|c| c.id.split('#').next() == Some(test))
        .collect()
}

fn choose_unit(index: &Index, opts: &ChartOptions, points: &[RawPoint]) -> String {
    let units: Vec<String> = points
        .iter()
        .filter_map(|p| p.values.iter().flatten().next())
        .map(|q| ucum::canonical(index.text(q.unit)))
        .collect();
    if let Some(first) = units.first() {
        if let Some(p) = opts
            .preferred_units
            .iter()
            .find(|p| ucum::convertible(first, p))
        {
            return ucum::canonical(p);
        }
    }
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        let e = counts.entry(u).or_insert((0, 0));
        e.0 += 1;
        e.1 = i; // points are sorted oldest first: the last index is the most recent
    }
    counts
        .into_iter()
        .max_by_key(|(u, (n, last))| (*n, *last, std::cmp::Reverse(u.to_string())))
        .map(|(u, _)| u.to_string())
        .unwrap_or_default()
}

fn build_charts(
    index: &Index,
    opts: &ChartOptions,
    id: &str,
    title: &str,
    topic: ChartTopic,
    line_names: &[&str],
    mut points: Vec<RawPoint>,
) -> Vec<Chart> {
    points.sort_by_key(|p| (p.at.sort_key(), p.id));
    // Partition by unit dimension of the first value.
    let mut parts: Vec<(String, Vec<RawPoint>)> = Vec::new();
    for p in points {
        let Some(q) = p.values.iter().flatten().next() else {
            continue;
        };
        let dim = ucum::dimension_key(index.text(q.unit));
        match parts.iter_mut().find(|(d, _)| *d == dim) {
            Some((_, v)) => v.push(p),
            None => parts.push((dim, vec![p])),
        }
    }
    let n_parts = parts.len();
    let mut charts = Vec::new();
    let units: Vec<String> = parts
        .iter()
        .map(|(_, pts)| ucum::label(&choose_unit(index, opts, pts)))
        .collect();
    for (pi, (dim, pts)) in parts.into_iter().enumerate() {
        let unit = choose_unit(index, opts, &pts);
        let unit_label = ucum::label(&unit);
        let mut lines: Vec<Line> = line_names
            .iter()
            .map(|n| Line {
                name: n.to_string(),
                points: Vec::new(),
            })
            .collect();
        let mut table = Vec::new();
        for p in &pts {
            let row = index.row_with_rep(p.group, p.id, opts.include_hidden);
            let sources: Vec<String> = row.sources.iter().map(|s| s.label.clone()).collect();
            let mut cells = Vec::new();
            for (li, q) in p.values.iter().enumerate() {
                let Some(q) = q else {
                    cells.push(String::new());
                    continue;
                };
                let from = index.text(q.unit);
                let Some(value) = ucum::convert(q.value, from, &unit) else {
                    cells.push(String::new());
                    continue;
                };
                let same = ucum::canonical(from) == unit;
                let recorded = format!(
                    "{}{} {}",
                    index.text(q.comparator),
                    index.text(q.text),
                    index.text(q.label)
                )
                .trim()
                .to_string();
                let text = if same {
                    format!("{}{}", index.text(q.comparator), index.text(q.text))
                } else {
                    let dec = decimals_of(index.text(q.text)).clamp(1, 3);
                    format!("{}{}", index.text(q.comparator), format_number(value, dec))
                };
                cells.push(if same {
                    format!("{text} {unit_label}").trim().to_string()
                } else {
                    format!("{text} {unit_label} (recorded as {recorded})")
                });
                if let Some(line) = lines.get_mut(li) {
                    line.points.push(ChartPoint {
                        at: p.at,
                        x: p.at.timestamp().0 as f64,
                        value,
                        text,
                        recorded,
                        converted: !same,
                        key: row.key.clone(),
                        sources: sources.clone(),
                        patient_reported: row.patient_reported,
                        flag: if line_names.len() == 1 {
                            range_flag(index, p.id)
                        } else {
                            RangeFlag::Unknown
                        },
                    });
                }
            }
            table.push(TableRow {
                at: p.at,
                cells,
                sources,
                patient_reported: row.patient_reported,
            });
        }
        table.reverse();
        lines.retain(|l| !l.points.is_empty());
        if lines.is_empty() {
            continue;
        }
        let reference_range = if line_names.len() == 1 {
            pts.last().and_then(|p| {
                let r = crate::results::reference_range(index, p.id)?;
                let conv = |v: Option<f64>| v.and_then(|v| ucum::convert(v, &r.unit, &unit));
                let (lo, hi) = (conv(r.low), conv(r.high));
                (lo.is_some() || hi.is_some()).then_some((lo, hi))
            })
        } else {
            None
        };
        let note =
            (n_parts > 1).then(|| {
                let others: Vec<&str> = units
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != pi)
                    .map(|(_, u)| u.as_str())
                    .collect();
                format!(
                "Some results of this test are recorded in {} and are shown on a separate chart: \
                 they cannot be converted to {} without information the record does not have.",
                others.join(", "),
                if unit_label.is_empty() { "this unit" } else { &unit_label }
            )
            });
        let values: Vec<f64> = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.value))
            .chain(
                reference_range
                    .iter()
                    .flat_map(|(a, b)| a.iter().chain(b.iter()).copied()),
            )
            .collect();
        let xs: Vec<f64> = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.x))
            .collect();
        let mut table_headers = vec!["Date".to_string()];
        if line_names.len() == 1 {
            table_headers.push(title.to_string());
        } else {
            table_headers.extend(line_names.iter().map(|s| s.to_string()));
        }
        charts.push(Chart {
            id: format!("{id}#{dim}"),
            topic,
            title: title.to_string(),
            unit,
            unit_label,
            lines,
            reference_range,
            x_axis: time_axis(&xs),
            y_axis: value_axis(&values),
            table_headers,
            table,
            note,
        });
    }
    charts
}

/// A value axis with "nice" ticks (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering `values`.
pub fn value_axis(values: &[f64]) -> Axis {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return Axis {
            min: 0.0,
            max: 1.0,
            ticks: vec![tick(0.0, 0), tick(1.0, 0)],
        };
    }
    let mut lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi - lo < f64::EPSILON * hi.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
    }
    let rough = (hi - lo) / 5.0;
    let mag = 10f64.powf(rough.log10().floor());
    let residual = rough / mag;
    let nice = if residual <= 1.0 {
        1.0
    } else if residual <= 2.0 {
        2.0
    } else if residual <= 2.5 {
        2.5
    } else if residual <= 5.0 {
        5.0
    } else {
        10.0
    };
    let step = nice * mag;
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize + usize::from(nice == 2.5)
    };
    let start = (lo / step).floor() * step;
    let end = (hi / step).ceil() * step;
    let mut ticks = Vec::new();
    let mut i = 0;
    loop {
        let v = start + step * i as f64;
        if v > end + step * 1e-9 || i > 100 {
            break;
        }
        ticks.push(tick(v, decimals));
        i += 1;
    }
    Axis {
        min: start,
        max: end,
        ticks,
    }
}

fn tick(v: f64, decimals: usize) -> Tick {
    Tick {
        value: v,
        label: format_number(v, decimals),
    }
}

fn add_months(d: Day, months: i32) -> Day {
    let (y, m, _) = d.ymd();
    let total = y * 12 + (m as i32 - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    Day::from_ymd(ny, nm, 1.min(days_in_month(ny, nm))).unwrap_or(d)
}

/// A time axis over timestamps (seconds) with day, month or year ticks (at most about 8).
pub fn time_axis(xs: &[f64]) -> Axis {
    let finite: Vec<f64> = xs.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return Axis {
            min: 0.0,
            max: 86_400.0,
            ticks: Vec::new(),
        };
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first = Timestamp(lo.floor() as i64).utc_day();
    let last = Timestamp(hi.ceil() as i64).utc_day().add_days(1);
    let span_days = (last.0 - first.0).max(1);
    let mut ticks = Vec::new();
    let label_day = |d: Day| d.to_string();
    if span_days <= 14 {
        let step = if span_days <= 7 { 1 } else { 2 };
        let mut d = first;
        while d <= last {
            ticks.push(Tick {
                value: d.utc_midnight().0 as f64,
                label: label_day(d),
            });
            d = d.add_days(step);
        }
        return Axis {
            min: first.utc_midnight().0 as f64,
            max: last.utc_midnight().0 as f64,
            ticks,
        };
    }
    let months = span_days as f64 / 30.44;
    let (step_months, yearly) = match months {
        m if m <= 8.0 => (1, false),
        m if m <= 16.0 => (2, false),
        m if m <= 24.0 => (3, false),
        m if m <= 48.0 => (6, false),
        m if m <= 8.0 * 12.0 => (12, true),
        m if m <= 16.0 * 12.0 => (24, true),
        m if m <= 40.0 * 12.0 => (60, true),
        _ => (120, true),
    };
    let start = if yearly {
        let y = first.year();
        let y = y - y.rem_euclid(step_months / 12);
        Day::from_ymd(y, 1, 1).unwrap_or(first)
    } else {
        add_months(first, 0)
    };
    let mut end = if yearly {
        Day::from_ymd(last.year() + 1, 1, 1).unwrap_or(last)
    } else {
        add_months(last, 1)
    };
    if yearly {
        // Align the end to the step.
        while (end.year() - start.year()) % (step_months / 12) != 0 {
            end = Day::from_ymd(end.year() + 1, 1, 1).unwrap_or(end);
        }
    }
    let mut d = start;
    let mut guard = 0;
    while d <= end && guard < 200 {
        let (y, m, _) = d.ymd();
        ticks.push(Tick {
            value: d.utc_midnight().0 as f64,
            label: if yearly {
                format!("{y:04}")
            } else {
                format!("{y:04}-{m:02}")
            },
        });
        d = add_months(d, step_months);
        guard += 1;
    }
    Axis {
        min: start.utc_midnight().0 as f64,
        max: end.utc_midnight().0 as f64,
        ticks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_value_ticks() {
        let a = value_axis(&[61.0, 97.0]);
        assert_eq!(a.min, 60.0);
        assert_eq!(a.max, 100.0);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["60", "70", "80", "90", "100"]);
        let b = value_axis(&[5.4, 6.1]);
        assert!(b.min <= 5.4 && b.max >= 6.1);
        assert!(b
            .ticks
            .iter()
            .all(|t| t.label.contains('.') || t.value.fract() == 0.0));
        let flat = value_axis(&[7.0]);
        assert!(flat.min < 7.0 && flat.max > 7.0);
    }

    #[test]
    fn time_ticks_by_span() {
        let day = |y, m, d| Day::from_ymd(y, m, d).unwrap().utc_midnight().0 as f64;
        let short = time_axis(&[day(2024, 3, 1), day(2024, 3, 4)]);
        assert_eq!(short.ticks[0].label, "2024-03-01");
        let months = time_axis(&[day(2024, 1, 15), day(2024, 6, 2)]);
        assert_eq!(months.ticks[0].label, "2024-01");
        assert!(months.ticks.len() <= 8);
        let years = time_axis(&[day(2015, 5, 1), day(2024, 6, 2)]);
        assert!(years.ticks.iter().all(|t| t.label.len() == 4));
        assert!(years.ticks.len() <= 8);
        assert!(years.min <= day(2015, 5, 1) && years.max >= day(2024, 6, 2));
    }
}
