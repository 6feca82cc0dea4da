//! Time as plain numbers: every function takes "now" as unix milliseconds (`u64`), the value of
//! JavaScript's `Date.now()`. The crate never reads a clock.
//!
//! Two conversions are needed and are small enough to write here rather than pull in a date
//! library: FHIR `instant` text for `_lastUpdated=gt…`, and HTTP dates in `Retry-After`.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMillis = u64;

use phr_fhir::primitives::{civil_from_days, days_from_civil};

/// Formats unix milliseconds as a FHIR `instant` in UTC, truncated to whole seconds
/// (`2024-03-01T12:00:05Z`). Truncation only ever moves the instant earlier, which for
/// `_lastUpdated=gt…` means "slightly more", never "something missed".
pub fn fhir_instant(ms: UnixMillis) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parses an HTTP date in the preferred IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`) and
/// the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`). Returns unix milliseconds.
pub fn parse_http_date(text: &str) -> Option<UnixMillis> {
    let text = text.trim();
    let (_, rest) = text.split_once(", ")?;
    let parts: Vec<&str> = rest.split([' ', '-']).filter(|p| !p.is_empty()).collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" && *zone != "UTC" {
        return None;
    }
    let d: u32 = day.parse().ok()?;
    let m = month_number(month)?;
    let mut y: i64 = year.parse().ok()?;
    if year.len() == 2 {
        y += if y < 70 { 2000 } else { 1900 };
    }
    let mut hms = time.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let min: u64 = hms.next()?.parse().ok()?;
    let s: u64 = hms.next()?.parse().ok()?;
    if hms.next().is_some() || !(1..=31).contains(&d) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    if days < 0 {
        return None;
    }
    Some(((days as u64) * 86_400 + h * 3600 + min * 60 + s) * 1000)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
}

/// Reads a `Retry-After` value (delay in seconds, or an HTTP date) as a delay in milliseconds
/// from `now`. A date in the past means "retry now" (0).
pub fn retry_after_delay(value: &str, now: UnixMillis) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(|s| s.saturating_mul(1000));
    }
    parse_http_date(value).map(|at| at.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        assert_eq!(fhir_instant(0), "1970-01-01T00:00:00Z");
        // 2024-02-29T23:59:59.999Z (leap day)
        assert_eq!(fhir_instant(1_709_251_199_999), "2024-02-29T23:59:59Z");
        assert_eq!(fhir_instant(1_709_251_200_000), "2024-03-01T00:00:00Z");
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(parse_http_date("06 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after_delay("120", 0), Some(120_000));
        assert_eq!(
            retry_after_delay("Sun, 06 Nov 1994 08:49:47 GMT", 784_111_777_000),
            Some(10_000)
        );
        assert_eq!(
            retry_after_delay("Sun, 06 Nov 1994 08:49:27 GMT", 784_111_777_000),
            Some(0)
        );
        assert_eq!(retry_after_delay("soon", 0), None);
        assert_eq!(retry_after_delay("-5", 0), None);
    }
}
