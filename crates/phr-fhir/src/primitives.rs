//! Shape checks for the FHIR R4 date and time primitives (`date`, `dateTime`, `instant`). They
//! check the lexical form only; no clock is read and no time zone database is needed.

fn digits(s: &[u8], n: usize) -> Option<u32> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s[..n].iter().fold(0, |a, d| a * 10 + u32::from(d - b'0')))
}

/// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; returns the number of bytes used.
fn date_prefix(s: &[u8]) -> Option<usize> {
    digits(s, 4)?;
    if s.len() == 4 || s[4] != b'-' {
        return Some(4);
    }
    let m = digits(&s[5..], 2)?;
    if !(1..=12).contains(&m) {
        return None;
    }
    if s.len() == 7 || s[7] != b'-' {
        return Some(7);
    }
    let d = digits(&s[8..], 2)?;
    if !(1..=31).contains(&d) {
        return None;
    }
    Some(10)
}

/// `hh:mm:ss(.fff)?`; returns bytes used.
fn time_part(s: &[u8]) -> Option<usize> {
    let h = digits(s, 2)?;
    let m = digits(s.get(3..)?, 2)?;
    let sec = digits(s.get(6..)?, 2)?;
    if s[2] != b':' || s[5] != b':' || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut i = 8;
    if s.get(i) == Some(&b'.') {
        let n = s[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    Some(i)
}

/// `Z` or `+hh:mm` / `-hh:mm`; must be the whole rest.
fn zone(s: &[u8]) -> bool {
    match s {
        [b'Z'] => true,
        [b'+' | b'-', rest @ ..] if rest.len() == 5 => {
            matches!((digits(rest, 2), digits(&rest[3..], 2)), (Some(h), Some(m)) if rest[2] == b':' && h <= 14 && m <= 59)
        }
        _ => false,
    }
}

fn full_date_time(s: &[u8]) -> bool {
    date_prefix(s) == Some(10)
        && s.get(10) == Some(&b'T')
        && time_part(&s[11..]).is_some_and(|n| zone(&s[11 + n..]))
}

/// Whether `s` is a FHIR `instant`: a full date and time with seconds and a time zone.
pub fn is_instant(s: &str) -> bool {
    full_date_time(s.as_bytes())
}

/// Whether `s` is a FHIR `dateTime`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a full date and time
/// with a time zone.
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    date_prefix(b) == Some(b.len()) || full_date_time(b)
}

/// Whether `s` is a FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    date_prefix(s.as_bytes()) == Some(s.len())
}

/// Whether `s` is a full calendar date `YYYY-MM-DD`.
pub fn is_full_date(s: &str) -> bool {
    s.len() == 10 && is_date(s)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        for ok in [
            "2024-05-01T08:30:00Z",
            "2024-05-01T08:30:00.123+02:00",
            "2024-12-31T23:59:60-05:00",
        ] {
            assert!(is_instant(ok), "{ok}");
        }
        for bad in [
            "2024-05-01",
            "2024-05-01T08:30:00",
            "2024-05-01T08:30Z",
            "2024-13-01T08:30:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T08:30:00+2:00",
            "2024-05-01T08:30:00.Z",
            "",
        ] {
            assert!(!is_instant(bad), "{bad}");
        }
    }

    #[test]
    fn dates_and_date_times() {
        for ok in ["2024", "2024-05", "2024-05-01", "2024-05-01T08:30:00Z"] {
            assert!(is_date_time(ok), "{ok}");
        }
        assert!(!is_date_time("2024-05-01T08:30:00"));
        assert!(!is_date_time("2024-5-1"));
        assert!(is_date("2024-05"));
        assert!(!is_date("2024-05-01T08:30:00Z"));
        assert!(is_full_date("2024-05-01"));
        assert!(!is_full_date("2024-05"));
    }
}
