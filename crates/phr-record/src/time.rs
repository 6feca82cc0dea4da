//! Checks for the FHIR date and time forms the record writes. Times are always passed in (this
//! crate reads no clock); these functions only check their shape so that what we write is valid
//! FHIR (a Provenance.recorded without a time zone is invalid, for example).

use crate::error::{RecordError, Result};

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

pub(crate) fn check_instant(field: &'static str, s: &str) -> Result<()> {
    if is_instant(s) {
        Ok(())
    } else {
        Err(RecordError::InvalidTime {
            field,
            expected: "a date and time with a time zone, like 2024-05-01T08:30:00Z",
            value: s.chars().take(40).collect(),
        })
    }
}

pub(crate) fn check_date_time(field: &'static str, s: &str) -> Result<()> {
    if is_date_time(s) {
        Ok(())
    } else {
        Err(RecordError::InvalidTime {
            field,
            expected: "a date (2024-05-01) or a date and time with a time zone",
            value: s.chars().take(40).collect(),
        })
    }
}

pub(crate) fn check_date(field: &'static str, s: &str) -> Result<()> {
    if is_date(s) {
        Ok(())
    } else {
        Err(RecordError::InvalidTime {
            field,
            expected: "a date like 2024-05-01",
            value: s.chars().take(40).collect(),
        })
    }
}

pub(crate) fn check_full_date(field: &'static str, s: &str) -> Result<()> {
    if is_full_date(s) {
        Ok(())
    } else {
        Err(RecordError::InvalidTime {
            field,
            expected: "a full date like 2024-05-01",
            value: s.chars().take(40).collect(),
        })
    }
}

/// Normalises a time of day (`8:05`, `08:05` or `08:05:00`) to FHIR `time` (`08:05:00`).
/// Minutes and seconds need two digits (`8:5` is ambiguous and refused).
pub fn normalize_time_of_day(s: &str) -> Option<String> {
    let mut parts = s.trim().split(':');
    let num = |t: Option<&str>, lens: &[usize], max: u32| -> Option<u32> {
        let t = t?;
        (lens.contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
            .filter(|v| *v <= max)
    };
    let h = num(parts.next(), &[1, 2], 23)?;
    let m = num(parts.next(), &[2], 59)?;
    let sec = match parts.next() {
        None => 0,
        t => num(t, &[2], 59)?,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(format!("{h:02}:{m:02}:{sec:02}"))
}

pub(crate) fn check_time_of_day(field: &'static str, s: &str) -> Result<String> {
    normalize_time_of_day(s).ok_or_else(|| RecordError::InvalidTime {
        field,
        expected: "a time of day like 08:00",
        value: s.chars().take(20).collect(),
    })
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

    #[test]
    fn times_of_day() {
        assert_eq!(normalize_time_of_day("8:05").as_deref(), Some("08:05:00"));
        assert_eq!(normalize_time_of_day("08:05").as_deref(), Some("08:05:00"));
        assert_eq!(
            normalize_time_of_day("21:30:15").as_deref(),
            Some("21:30:15")
        );
        assert_eq!(normalize_time_of_day("24:00"), None);
        assert_eq!(normalize_time_of_day("8:5"), None);
        assert_eq!(normalize_time_of_day("noon"), None);
    }
}
