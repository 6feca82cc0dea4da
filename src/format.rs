//! Display formatting of dates and numbers.

use wasm_bindgen::JsValue;

fn pad(n: f64) -> String {
    format!("{:02}", n as u32)
}

/// `2026-11-21 14:03` in the browser's local time, from an RFC 3339 instant. Dates without a
/// time (`2024-03-01`) are shown as they are.
pub fn date_time(rfc3339: &str) -> String {
    if rfc3339.len() <= 10 {
        return rfc3339.to_string();
    }
    let d = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if d.get_time().is_nan() {
        return rfc3339.to_string();
    }
    format!(
        "{}-{}-{} {}:{}",
        d.get_full_year(),
        pad(f64::from(d.get_month() + 1)),
        pad(f64::from(d.get_date())),
        pad(f64::from(d.get_hours())),
        pad(f64::from(d.get_minutes()))
    )
}

/// The date part (`2024-03-01`) of a FHIR date or dateTime, as written.
pub fn date(fhir: &str) -> String {
    fhir.get(..10).unwrap_or(fhir).to_string()
}
