//! Checks for caller-supplied text that ends up in plaintext: display names and timestamps.

use crate::error::VaultError;

/// Longest vault display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A display name: 1 to 64 characters, no control characters, no leading or trailing spaces.
pub(crate) fn check_name(name: &str) -> Result<(), VaultError> {
    let bad = |detail| {
        Err(VaultError::InvalidInput {
            what: "The vault name",
            detail,
        })
    };
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return bad("use 1 to 64 characters");
    }
    if name.chars().any(char::is_control) {
        return bad("it contains a control character");
    }
    if name.trim() != name {
        return bad("remove the spaces at the start or end");
    }
    Ok(())
}

/// An RFC 3339 timestamp with an uppercase `T` and `Z` (or a numeric offset), e.g.
/// `2026-11-21T20:49:40Z` or `2026-11-21T21:49:40.123+01:00`.
pub(crate) fn check_timestamp(ts: &str) -> Result<(), VaultError> {
    if is_rfc3339(ts.as_bytes()) {
        Ok(())
    } else {
        Err(VaultError::InvalidInput {
            what: "The timestamp",
            detail: "it must be RFC 3339, like 2026-11-21T20:49:40Z",
        })
    }
}

fn is_rfc3339(b: &[u8]) -> bool {
    fn num(b: &[u8], range: core::ops::RangeInclusive<u32>) -> bool {
        b.iter().all(u8::is_ascii_digit)
            && range.contains(&b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    }
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return false;
    }
    if b[13] != b':' || b[16] != b':' {
        return false;
    }
    if !(num(&b[0..4], 0..=9999)
        && num(&b[5..7], 1..=12)
        && num(&b[8..10], 1..=31)
        && num(&b[11..13], 0..=23)
        && num(&b[14..16], 0..=59)
        && num(&b[17..19], 0..=60))
    {
        return false;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return false;
        }
        rest = &rest[1 + digits..];
    }
    match rest {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => num(&[*h1, *h2], 0..=23) && num(&[*m1, *m2], 0..=59),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for ok in [
            "2026-11-21T20:49:40Z",
            "2026-11-21T20:49:40.5Z",
            "2026-11-21T20:49:40.123456789+01:00",
            "1999-12-31T23:59:60-08:30",
        ] {
            assert_eq!(check_timestamp(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "2026-11-21",
            "2026-11-21 20:49:40Z",
            "2026-11-21t20:49:40z",
            "2026-13-21T20:49:40Z",
            "2026-11-21T24:49:40Z",
            "2026-11-21T20:49:40",
            "2026-11-21T20:49:40.Z",
            "2026-11-21T20:49:40+0100",
            "2026-11-21T20:49:40Z ",
        ] {
            assert!(check_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        for ok in ["Home", "Record of J.", &"é".repeat(64)] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", " a", "a ", "a\nb", "a\u{7}", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
