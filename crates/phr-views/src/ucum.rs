//! A small UCUM table: the units health records actually use, and conversions between them.
//!
//! # Key design decision: convert only within one dimension
//!
//! A conversion is offered only when it is a pure scale (`mg/dL` → `g/L`, `[lb_av]` → `kg`) or an
//! affine map (`[degF]` → `Cel`) inside one dimension of this table. Anything else, such as
//! `mg/dL` ↔ `mmol/L` (which needs the molar mass of the substance), is refused: the caller keeps
//! such values apart and never mixes them. Units are matched by their UCUM code first, then by a
//! short list of free-text spellings seen in EHR data (`lbs`, `mg/dl`, `K/uL`, `bpm`); UCUM
//! annotations (`{beats}/min`) are ignored when the rest of the unit is known. Unknown units are
//! only ever "the same" as the identical string.

/// What a unit measures. Units convert only within one dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dimension {
    Mass,
    Length,
    Temperature,
    /// Mass per volume (`mg/dL`, `g/L`, `ng/mL`).
    MassConcentration,
    /// Amount of substance per volume (`mmol/L`, `umol/L`).
    SubstanceConcentration,
    /// Count per volume (`10*3/uL`, `10*9/L`).
    NumberConcentration,
    /// Enzyme activity per volume (`U/L`).
    CatalyticConcentration,
    /// International units per volume (`[IU]/L`): not convertible to `U/L`.
    ArbitraryConcentration,
    Volume,
    Pressure,
    Time,
    /// Per time (`/min`, `{beats}/min`).
    Frequency,
    /// Mass per area (`kg/m2`, BMI).
    AreaDensity,
    Energy,
}

/// One unit of the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitDef {
    /// The UCUM code.
    pub code: &'static str,
    pub dimension: Dimension,
    /// value_in_base = value × factor + offset.
    pub factor: f64,
    pub offset: f64,
    /// How to show it to a patient.
    pub label: &'static str,
}

const fn u(code: &'static str, dimension: Dimension, factor: f64, label: &'static str) -> UnitDef {
    UnitDef {
        code,
        dimension,
        factor,
        offset: 0.0,
        label,
    }
}

use Dimension::*;

/// The table. Base units: `g`, `m`, `K`, `g/L`, `mol/L`, `/L`, `U/L`, `[IU]/L`, `L`, `Pa`, `s`, `/s`,
/// `kg/m2`, `J`.
pub const UNITS: &[UnitDef] = &[
    u("g", Mass, 1.0, "g"),
    u("kg", Mass, 1000.0, "kg"),
    u("mg", Mass, 1e-3, "mg"),
    u("ug", Mass, 1e-6, "µg"),
    u("ng", Mass, 1e-9, "ng"),
    u("[lb_av]", Mass, 453.592_37, "lb"),
    u("[oz_av]", Mass, 28.349_523_125, "oz"),
    u("[stone_av]", Mass, 6_350.293_18, "st"),
    u("m", Length, 1.0, "m"),
    u("cm", Length, 0.01, "cm"),
    u("mm", Length, 0.001, "mm"),
    u("km", Length, 1000.0, "km"),
    u("[in_i]", Length, 0.0254, "in"),
    u("[ft_i]", Length, 0.3048, "ft"),
    UnitDef {
        code: "Cel",
        dimension: Temperature,
        factor: 1.0,
        offset: 273.15,
        label: "°C",
    },
    UnitDef {
        code: "[degF]",
        dimension: Temperature,
        factor: 5.0 / 9.0,
        offset: 459.67 * 5.0 / 9.0,
        label: "°F",
    },
    u("K", Temperature, 1.0, "K"),
    u("g/L", MassConcentration, 1.0, "g/L"),
    u("g/dL", MassConcentration, 10.0, "g/dL"),
    u("mg/dL", MassConcentration, 0.01, "mg/dL"),
    u("mg/L", MassConcentration, 1e-3, "mg/L"),
    u("mg/mL", MassConcentration, 1.0, "mg/mL"),
    u("ug/mL", MassConcentration, 1e-3, "µg/mL"),
    u("ug/dL", MassConcentration, 1e-5, "µg/dL"),
    u("ug/L", MassConcentration, 1e-6, "µg/L"),
    u("ng/mL", MassConcentration, 1e-6, "ng/mL"),
    u("ng/dL", MassConcentration, 1e-8, "ng/dL"),
    u("ng/L", MassConcentration, 1e-9, "ng/L"),
    u("pg/mL", MassConcentration, 1e-9, "pg/mL"),
    u("mol/L", SubstanceConcentration, 1.0, "mol/L"),
    u("mmol/L", SubstanceConcentration, 1e-3, "mmol/L"),
    u("umol/L", SubstanceConcentration, 1e-6, "µmol/L"),
    u("nmol/L", SubstanceConcentration, 1e-9, "nmol/L"),
    u("pmol/L", SubstanceConcentration, 1e-12, "pmol/L"),
    u("/L", NumberConcentration, 1.0, "/L"),
    u("/mL", NumberConcentration, 1e3, "/mL"),
    u("/uL", NumberConcentration, 1e6, "/µL"),
    u("/mm3", NumberConcentration, 1e6, "/mm³"),
    u("10*3/uL", NumberConcentration, 1e9, "×10³/µL"),
    u("10*3/mm3", NumberConcentration, 1e9, "×10³/mm³"),
    u("10*6/uL", NumberConcentration, 1e12, "×10⁶/µL"),
    u("10*9/L", NumberConcentration, 1e9, "×10⁹/L"),
    u("10*12/L", NumberConcentration, 1e12, "×10¹²/L"),
    u("U/L", CatalyticConcentration, 1.0, "U/L"),
    u("U/mL", CatalyticConcentration, 1e3, "U/mL"),
    u("kU/L", CatalyticConcentration, 1e3, "kU/L"),
    u("[IU]/L", ArbitraryConcentration, 1.0, "IU/L"),
    u("m[IU]/L", ArbitraryConcentration, 1e-3, "mIU/L"),
    u("[IU]/mL", ArbitraryConcentration, 1e3, "IU/mL"),
    u("m[IU]/mL", ArbitraryConcentration, 1.0, "mIU/mL"),
    u("u[IU]/mL", ArbitraryConcentration, 1e-3, "µIU/mL"),
    u("L", Volume, 1.0, "L"),
    u("dL", Volume, 0.1, "dL"),
    u("mL", Volume, 1e-3, "mL"),
    u("uL", Volume, 1e-6, "µL"),
    u("Pa", Pressure, 1.0, "Pa"),
    u("kPa", Pressure, 1000.0, "kPa"),
    u("mm[Hg]", Pressure, 133.322_387_415, "mmHg"),
    u("cm[H2O]", Pressure, 98.066_5, "cmH₂O"),
    u("s", Time, 1.0, "s"),
    u("min", Time, 60.0, "min"),
    u("h", Time, 3600.0, "h"),
    u("d", Time, 86_400.0, "days"),
    u("wk", Time, 604_800.0, "weeks"),
    u("/s", Frequency, 1.0, "/s"),
    u("/min", Frequency, 1.0 / 60.0, "/min"),
    u("/h", Frequency, 1.0 / 3600.0, "/h"),
    u("/d", Frequency, 1.0 / 86_400.0, "/day"),
    u("kg/m2", AreaDensity, 1.0, "kg/m²"),
    u("J", Energy, 1.0, "J"),
    u("kJ", Energy, 1000.0, "kJ"),
    u("kcal", Energy, 4184.0, "kcal"),
    u("[Cal]", Energy, 4184.0, "Cal"),
];

/// Free-text spellings (lower-case) of table units.
const ALIASES: &[(&str, &str)] = &[
    ("lb", "[lb_av]"),
    ("lbs", "[lb_av]"),
    ("pound", "[lb_av]"),
    ("pounds", "[lb_av]"),
    ("[lb_us]", "[lb_av]"),
    ("oz", "[oz_av]"),
    ("ounces", "[oz_av]"),
    ("stone", "[stone_av]"),
    ("kgs", "kg"),
    ("kilograms", "kg"),
    ("grams", "g"),
    ("in", "[in_i]"),
    ("inch", "[in_i]"),
    ("inches", "[in_i]"),
    ("ft", "[ft_i]"),
    ("feet", "[ft_i]"),
    ("°f", "[degF]"),
    ("degf", "[degF]"),
    ("deg f", "[degF]"),
    ("f", "[degF]"),
    ("°c", "Cel"),
    ("degc", "Cel"),
    ("deg c", "Cel"),
    ("c", "Cel"),
    ("cel", "Cel"),
    ("mmhg", "mm[Hg]"),
    ("mm hg", "mm[Hg]"),
    ("bpm", "/min"),
    ("beats/min", "/min"),
    ("breaths/min", "/min"),
    ("per minute", "/min"),
    ("beats per minute", "/min"),
    ("1/min", "/min"),
    ("µg", "ug"),
    ("μg", "ug"),
    ("mcg", "ug"),
    ("µmol/l", "umol/L"),
    ("μmol/l", "umol/L"),
    ("µg/l", "ug/L"),
    ("μg/l", "ug/L"),
    ("mcg/l", "ug/L"),
    ("µg/ml", "ug/mL"),
    ("mcg/ml", "ug/mL"),
    ("µg/dl", "ug/dL"),
    ("mcg/dl", "ug/dL"),
    ("k/ul", "10*3/uL"),
    ("k/µl", "10*3/uL"),
    ("10^3/ul", "10*3/uL"),
    ("x10^3/ul", "10*3/uL"),
    ("x10e3/ul", "10*3/uL"),
    ("10e3/ul", "10*3/uL"),
    ("thou/ul", "10*3/uL"),
    ("thou/mm3", "10*3/mm3"),
    ("m/ul", "10*6/uL"),
    ("10^6/ul", "10*6/uL"),
    ("x10^6/ul", "10*6/uL"),
    ("x10e6/ul", "10*6/uL"),
    ("mil/ul", "10*6/uL"),
    ("10^9/l", "10*9/L"),
    ("x10^9/l", "10*9/L"),
    ("10^12/l", "10*12/L"),
    ("x10^12/l", "10*12/L"),
    ("iu/l", "[IU]/L"),
    ("miu/l", "m[IU]/L"),
    ("iu/ml", "[IU]/mL"),
    ("miu/ml", "m[IU]/mL"),
    ("uiu/ml", "u[IU]/mL"),
    ("µiu/ml", "u[IU]/mL"),
    ("kg/m^2", "kg/m2"),
    ("kg/m²", "kg/m2"),
    ("cal", "[Cal]"),
];

fn by_code(code: &str) -> Option<&'static UnitDef> {
    UNITS.iter().find(|d| d.code == code)
}

/// Removes `{…}` annotations; `{beats}/min` → `/min`.
fn strip_annotations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The table entry for a unit written as a UCUM code or a common free-text spelling.
pub fn lookup(unit: &str) -> Option<&'static UnitDef> {
    let unit = unit.trim();
    if unit.is_empty() {
        return None;
    }
    if let Some(d) = by_code(unit) {
        return Some(d);
    }
    let stripped = strip_annotations(unit);
    let stripped = stripped.trim();
    // A bare annotation (`{score}`) is dimensionless and stays as written.
    if stripped.is_empty() || stripped == "1" {
        return None;
    }
    if stripped != unit {
        if let Some(d) = by_code(stripped) {
            return Some(d);
        }
    }
    let lower = stripped.to_lowercase();
    if let Some((_, code)) = ALIASES.iter().find(|(a, _)| *a == lower) {
        return by_code(code);
    }
    UNITS.iter().find(|d| d.code.to_lowercase() == lower)
}

/// Converts `value` from one unit to another, or None when the units are unknown or of
/// different dimensions (e.g. `mg/dL` → `mmol/L`, which needs a molar mass).
pub fn convert(value: f64, from: &str, to: &str) -> Option<f64> {
    if from.trim() == to.trim() {
        return Some(value);
    }
    let a = lookup(from)?;
    let b = lookup(to)?;
    if a.dimension != b.dimension {
        return None;
    }
    if a.code == b.code {
        return Some(value);
    }
    let base = value * a.factor + a.offset;
    Some((base - b.offset) / b.factor)
}

/// Whether values in `a` can be shown in `b` (same string, or same dimension of the table).
pub fn convertible(a: &str, b: &str) -> bool {
    convert(1.0, a, b).is_some()
}

/// The canonical form of a unit: the UCUM code when known, else the string as written.
pub fn canonical(unit: &str) -> String {
    lookup(unit).map_or_else(|| unit.trim().to_string(), |d| d.code.to_string())
}

/// A grouping key: values with the same key can be drawn on one axis after conversion.
pub fn dimension_key(unit: &str) -> String {
    match lookup(unit) {
        Some(d) => format!("{:?}", d.dimension),
        None => format!("={}", unit.trim()),
    }
}

/// How to show a unit to a patient (`[lb_av]` → `lb`, `Cel` → `°C`); unknown units as written,
/// without UCUM annotations braces.
pub fn label(unit: &str) -> String {
    if let Some(d) = lookup(unit) {
        if !unit.contains('{') || d.code == strip_annotations(unit).trim() {
            return d.label.to_string();
        }
    }
    let t = unit.trim();
    if t == "1" {
        return String::new();
    }
    t.replace(['{', '}'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9 * b.abs().max(1.0))
    }

    #[test]
    fn pure_scales_and_affine() {
        assert!(close(convert(1.0, "kg", "[lb_av]"), 2.204_622_621_848_776));
        assert!(close(convert(16.0, "[oz_av]", "[lb_av]"), 1.0));
        assert!(close(convert(180.0, "cm", "[in_i]"), 70.866_141_732_283_46));
        assert!(close(convert(1.8, "m", "cm"), 180.0));
        assert!(close(convert(98.6, "[degF]", "Cel"), 37.0));
        assert!(close(convert(-40.0, "Cel", "[degF]"), -40.0));
        assert!(close(convert(100.0, "mg/dL", "g/L"), 1.0));
        assert!(close(convert(100.0, "mg/dL", "mg/L"), 1000.0));
        assert!(close(convert(5.5, "mmol/L", "umol/L"), 5500.0));
        assert!(close(convert(7.2, "10*3/uL", "10*9/L"), 7.2));
        assert!(close(convert(120.0, "mm[Hg]", "kPa"), 15.998_686_489_8));
        assert!(close(convert(72.0, "{beats}/min", "/min"), 72.0));
    }

    #[test]
    fn refuses_cross_dimension() {
        assert_eq!(convert(100.0, "mg/dL", "mmol/L"), None);
        assert_eq!(convert(1.0, "U/L", "[IU]/L"), None);
        assert_eq!(convert(1.0, "kg", "cm"), None);
        assert_eq!(convert(1.0, "{score}", "%"), None);
        assert_eq!(convert(1.0, "furlong", "m"), None);
        // Identical unknown units are trivially the same.
        assert_eq!(convert(3.0, "{score}", "{score}"), Some(3.0));
        assert!(!convertible("mg/dL", "mmol/L"));
    }

    #[test]
    fn free_text_spellings_and_labels() {
        assert_eq!(lookup("lbs").map(|d| d.code), Some("[lb_av]"));
        assert_eq!(lookup("mg/dl").map(|d| d.code), Some("mg/dL"));
        assert_eq!(lookup("K/uL").map(|d| d.code), Some("10*3/uL"));
        assert_eq!(lookup("bpm").map(|d| d.code), Some("/min"));
        assert_eq!(lookup("{score}"), None);
        assert_eq!(label("[lb_av]"), "lb");
        assert_eq!(label("Cel"), "°C");
        assert_eq!(label("{beats}/min"), "/min");
        assert_eq!(label("mL/min/{1.73_m2}"), "mL/min/1.73_m2");
        assert_eq!(canonical("lbs"), "[lb_av]");
        assert_eq!(dimension_key("kg"), dimension_key("[lb_av]"));
        assert_ne!(dimension_key("mg/dL"), dimension_key("mmol/L"));
    }
}
