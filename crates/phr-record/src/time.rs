//! Checks for the FHIR date and time forms the record writes. Times are always passed in (this
//! crate reads no clock); these functions only check their shape so that what we write is valid
//! FHIR (a Provenance.recorded without a time zone is invalid, for example).

use crate::error::{RecordError, Result};

pub use phr_fhir::primitives::{is_date, is_date_time, is_full_date, is_instant};

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
