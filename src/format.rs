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

/// A count with thousands separators: `1,204`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
