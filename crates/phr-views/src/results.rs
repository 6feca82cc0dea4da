//! Observation helpers shared by the summary, the lists and the charts: test identity, vital-sign
//! kinds, reference ranges and the out-of-range flag.

use crate::codes;
use crate::index::{Index, Interp, ItemId, Qty};
use crate::text::fold;
use crate::ucum;

/// Identity of a test across results: `http://loinc.org|4548-4`, else the first code, else the
/// folded title (`title:glucose`).
pub fn test_key(index: &Index, id: ItemId) -> String {
    let it = index.item(id);
    if let Some(c) = it.code_in(codes::LOINC) {
        return format!("{}|{}", codes::LOINC, c);
    }
    if let Some(c) = it.codes().next() {
        return c.token();
    }
    format!("title:{}", fold(it.title()))
}

/// How a result compares with its reference range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RangeFlag {
    Normal,
    High,
    Low,
    CriticalHigh,
    CriticalLow,
    /// Flagged abnormal by the source without a direction.
    Abnormal,
    /// No range or interpretation to compare with.
    Unknown,
}

impl RangeFlag {
    /// Whether the result should be highlighted.
    pub fn is_out_of_range(self) -> bool {
        !matches!(self, RangeFlag::Normal | RangeFlag::Unknown)
    }

    /// A short label for a badge (empty for Unknown).
    pub fn label(self) -> &'static str {
        match self {
            RangeFlag::Normal => "In range",
            RangeFlag::High => "High",
            RangeFlag::Low => "Low",
            RangeFlag::CriticalHigh => "Critically high",
            RangeFlag::CriticalLow => "Critically low",
            RangeFlag::Abnormal => "Outside the usual range",
            RangeFlag::Unknown => "",
        }
    }
}

/// A reference range in the unit of the value it applies to.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceRange {
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The unit (UCUM code or as written) of `low`/`high`.
    pub unit: String,
    /// Display text, e.g. `4.0 – 5.6 %` or the source's own text.
    pub text: String,
}

fn qty_in(index: &Index, q: &Qty, unit: &str) -> Option<f64> {
    ucum::convert(q.value, index.text(q.unit), unit)
}

/// The reference range of an observation, converted to its value's unit when they differ
/// (only within one dimension).
pub fn reference_range(index: &Index, id: ItemId) -> Option<ReferenceRange> {
    let o = index.obs(id)?;
    let r = index.range(o)?;
    let unit = o
        .value
        .as_ref()
        .map(|v| index.text(v.unit).to_string())
        .or_else(|| {
            r.low
                .as_ref()
                .or(r.high.as_ref())
                .map(|q| index.text(q.unit).to_string())
        })
        .unwrap_or_default();
    let low = r.low.as_ref().and_then(|q| qty_in(index, q, &unit));
    let high = r.high.as_ref().and_then(|q| qty_in(index, q, &unit));
    // Digits as written when the range is already in the value's unit.
    let shown = |q: Option<&Qty>, v: f64| match q {
        Some(q) if ucum::canonical(index.text(q.unit)) == ucum::canonical(&unit) => {
            index.text(q.text).to_string()
        }
        _ => format_number(v, 3),
    };
    let own_text = index.text(r.text).trim().to_string();
    let label = o
        .value
        .as_ref()
        .map(|v| index.text(v.label).to_string())
        .unwrap_or_else(|| ucum::label(&unit));
    let text = if !own_text.is_empty() {
        own_text
    } else {
        match (low, high) {
            (Some(l), Some(h)) => format!(
                "{} – {} {}",
                shown(r.low.as_ref(), l),
                shown(r.high.as_ref(), h),
                label
            ),
            (Some(l), None) => format!("≥ {} {}", shown(r.low.as_ref(), l), label),
            (None, Some(h)) => format!("≤ {} {}", shown(r.high.as_ref(), h), label),
            (None, None) => return None,
        }
        .trim()
        .to_string()
    };
    Some(ReferenceRange {
        low,
        high,
        unit,
        text,
    })
}

/// The out-of-range flag: from the numeric range when there is one (and the value has no
/// comparator such as `<`), else from the source's interpretation code.
pub fn range_flag(index: &Index, id: ItemId) -> RangeFlag {
    let Some(o) = index.obs(id) else {
        return RangeFlag::Unknown;
    };
    let from_interp = match o.interp {
        Interp::None => RangeFlag::Unknown,
        Interp::Normal => RangeFlag::Normal,
        Interp::High => RangeFlag::High,
        Interp::Low => RangeFlag::Low,
        Interp::CriticalHigh => RangeFlag::CriticalHigh,
        Interp::CriticalLow => RangeFlag::CriticalLow,
        Interp::Abnormal => RangeFlag::Abnormal,
    };
    if matches!(
        from_interp,
        RangeFlag::CriticalHigh | RangeFlag::CriticalLow
    ) {
        return from_interp;
    }
    if let (Some(v), Some(r)) = (&o.value, reference_range(index, id)) {
        if index.text(v.comparator).is_empty() && (r.low.is_some() || r.high.is_some()) {
            if r.low.is_some_and(|l| v.value < l) {
                return RangeFlag::Low;
            }
            if r.high.is_some_and(|h| v.value > h) {
                return RangeFlag::High;
            }
            return RangeFlag::Normal;
        }
    }
    from_interp
}

/// Formats a number with at most `decimals` decimals, trimming trailing zeros.
pub fn format_number(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// The vital signs the summary and charts know by LOINC code.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum VitalKind {
    BloodPressure,
    HeartRate,
    Weight,
    Bmi,
    Height,
    Temperature,
    OxygenSaturation,
    RespiratoryRate,
}

impl VitalKind {
    pub const ALL: [VitalKind; 8] = [
        VitalKind::BloodPressure,
        VitalKind::HeartRate,
        VitalKind::Weight,
        VitalKind::Bmi,
        VitalKind::Height,
        VitalKind::Temperature,
        VitalKind::OxygenSaturation,
        VitalKind::RespiratoryRate,
    ];

    /// The English name.
    pub fn label(self) -> &'static str {
        match self {
            VitalKind::BloodPressure => "Blood pressure",
            VitalKind::HeartRate => "Heart rate",
            VitalKind::Weight => "Weight",
            VitalKind::Bmi => "BMI",
            VitalKind::Height => "Height",
            VitalKind::Temperature => "Temperature",
            VitalKind::OxygenSaturation => "Oxygen saturation",
            VitalKind::RespiratoryRate => "Respiratory rate",
        }
    }

    /// LOINC codes of single-value observations of this kind (BP: the panels).
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            VitalKind::BloodPressure => codes::BP_PANELS,
            VitalKind::HeartRate => codes::HEART_RATE,
            VitalKind::Weight => codes::WEIGHT,
            VitalKind::Bmi => codes::BMI,
            VitalKind::Height => codes::HEIGHT,
            VitalKind::Temperature => codes::TEMPERATURE,
            VitalKind::OxygenSaturation => codes::OXYGEN_SATURATION,
            VitalKind::RespiratoryRate => codes::RESPIRATORY_RATE,
        }
    }

    /// The kind of an observation, by its LOINC code.
    pub fn of(index: &Index, id: ItemId) -> Option<VitalKind> {
        let it = index.item(id);
        if it.resource_type() != "Observation" {
            return None;
        }
        let loinc: Vec<&str> = it
            .codes()
            .filter(|c| c.system == codes::LOINC)
            .map(|c| c.code)
            .collect();
        VitalKind::ALL
            .into_iter()
            .find(|k| loinc.iter().any(|c| k.codes().contains(c)))
    }
}

/// Systolic and diastolic values of a BP panel (components 8480-6 / 8462-4), with the unit.
pub(crate) fn bp_components(index: &Index, id: ItemId) -> Option<(Qty, Qty)> {
    let o = index.obs(id)?;
    let find = |code: &str| {
        o.components
            .iter()
            .find(|c| index.text(c.code.code) == code)
            .and_then(|c| c.value)
    };
    Some((find(codes::SYSTOLIC)?, find(codes::DIASTOLIC)?))
}
